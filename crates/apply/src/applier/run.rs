//! Running a plan: preflight, inventory, waves, hooks, health waits, prune.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use futures::StreamExt;
use gitops_core::{Action, Change, ChangeSet, Health, Inventory, Object, ObjectRef, split_api_version};
use gitops_plan::{Plan, Step};
use tokio::time::Instant as Deadline;

use super::schedule::{self, HookPolicy, Wave};
use super::{Applier, ApplyError, ApplyReport, Event, Failure, Observed};
use crate::applyset;
use crate::health::HealthStatus;
use crate::target::{ApplyOptions, DeleteOptions, Propagation, TargetError, TargetErrorKind};

/// What one step did.
enum Outcome {
    /// Written (or, in a dry run, checked); the object as the target now holds it, if known.
    Done(Action, Option<Object>),
    /// Nothing to write.
    Unchanged,
    /// Left out, and why.
    Skipped(String),
}

/// What a run accumulates.
struct Progress {
    changes: ChangeSet,
    failures: Vec<(Option<ObjectRef>, TargetError)>,
    inventory: Inventory,
}

impl Progress {
    fn into_error(self) -> ApplyError {
        let failures: Vec<Failure> = self
            .failures
            .iter()
            .map(|(object, error)| Failure { object: object.clone(), message: error.to_string() })
            .collect();
        let mut all = self.failures.into_iter();
        let (object, source) = all.next().unwrap_or_else(|| {
            (None, TargetError::new(TargetErrorKind::Other, None, "the sync failed for no recorded reason"))
        });
        ApplyError { changes: self.changes, failures, object, source }
    }

    fn fail(&mut self, object: Option<&ObjectRef>, error: TargetError) {
        self.failures.push((object.cloned(), error));
    }
}

impl Applier<'_> {
    /// Runs the plan against the state [`Applier::observe`] returned.
    pub async fn run(&self, plan: &Plan, observed: Observed) -> Result<ApplyReport, ApplyError> {
        let deadline = self.options.timeout.map(|t| Deadline::now() + t);
        let before = observed.inventory.clone();
        let mut progress =
            Progress { changes: ChangeSet::default(), failures: Vec::new(), inventory: observed.inventory };

        // Nothing is written unless every kind can be applied.
        if let Err((object, error)) = self.preflight(plan).await {
            progress.fail(Some(&object), error);
            return Err(progress.into_error());
        }

        let dry_run = self.options.dry_run;
        for step in plan.steps.iter().filter(|s| s.desired.is_some()) {
            progress.inventory.insert(step.object.clone(), step.api_version.clone());
        }
        if !dry_run
            && progress.inventory != before
            && plan.has_writes()
            && let Err(error) = self.save(&progress.inventory).await
        {
            progress.fail(None, error);
            return Err(progress.into_error());
        }

        let waves = schedule::waves(plan);
        for (index, wave) in waves.iter().enumerate().filter(|(_, w)| !w.on_failure) {
            self.run_wave(index, wave, &observed.live, &mut progress, deadline).await;
            if self.options.fail_fast && !progress.failures.is_empty() {
                break;
            }
        }
        if !progress.failures.is_empty() {
            let failed_so_far = progress.failures.len();
            for (index, wave) in waves.iter().enumerate().filter(|(_, w)| w.on_failure) {
                self.run_wave(index, wave, &observed.live, &mut progress, deadline).await;
            }
            // A failing SyncFail hook is reported, but the sync's own failure comes first.
            progress.failures.truncate(progress.failures.len().max(failed_so_far));
        }

        let complete = progress.failures.is_empty();
        if complete && let Some(revision) = &self.options.revision {
            progress.inventory.record_revision(revision, self.options.history);
        }
        if !dry_run
            && (progress.inventory != before || progress.changes.has_writes())
            && let Err(error) = self.save(&progress.inventory).await
        {
            progress.fail(None, error);
        }
        if progress.failures.is_empty() {
            Ok(ApplyReport { changes: progress.changes, inventory: progress.inventory })
        } else {
            Err(progress.into_error())
        }
    }

    async fn save(&self, inventory: &Inventory) -> Result<(), TargetError> {
        let name = &self.options.inventory;
        self.options.retry.run(|| self.target.save_inventory(name, inventory), |e, n| self.retrying(None, e, n)).await
    }

    fn retrying(&self, object: Option<&ObjectRef>, error: &TargetError, attempt: u32) {
        tracing::debug!(object = ?object, %error, attempt, "retrying");
        self.emit(Event::Retrying { object: object.cloned(), attempt: attempt + 1, error: error.to_string() });
    }

    /// Every kind the plan applies is served by the target, or defined by a CRD in the plan.
    async fn preflight(&self, plan: &Plan) -> Result<(), (ObjectRef, TargetError)> {
        let defined: BTreeSet<(String, String)> = plan
            .steps
            .iter()
            .filter_map(|s| s.desired.as_ref())
            .filter(|o| o.kind() == "CustomResourceDefinition")
            .filter_map(|crd| {
                let group = crd.pointer("/spec/group")?.as_str()?;
                let kind = crd.pointer("/spec/names/kind")?.as_str()?;
                Some((group.to_owned(), kind.to_owned()))
            })
            .collect();
        let mut seen = BTreeSet::new();
        for step in plan.steps.iter().filter(|s| s.desired.is_some() && s.action != Action::Excluded) {
            if !seen.insert((step.api_version.as_str(), step.object.kind.as_str())) {
                continue;
            }
            let group = split_api_version(&step.api_version).0;
            if defined.contains(&(group.to_owned(), step.object.kind.clone())) {
                continue;
            }
            let found =
                self.options.retry.run(|| self.target.discover(&step.api_version, &step.object.kind), |_, _| {});
            match found.await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    let message = format!(
                        "{} cannot serve kind {} in {} (no CRD for it in the cluster or the sync)",
                        self.target.describe(),
                        step.object.kind,
                        step.api_version
                    );
                    return Err((
                        step.object.clone(),
                        TargetError::new(TargetErrorKind::NotFound, Some(&step.object), message),
                    ));
                }
                Err(error) => return Err((step.object.clone(), error)),
            }
        }
        Ok(())
    }

    async fn run_wave(
        &self,
        index: usize,
        wave: &Wave<'_>,
        live: &BTreeMap<ObjectRef, Object>,
        progress: &mut Progress,
        deadline: Option<Deadline>,
    ) {
        let started = Instant::now();
        self.emit(Event::WaveStarted { wave: index, steps: wave.steps.len() });
        let wave_deadline = match (deadline, self.options.wave_timeout.map(|t| Deadline::now() + t)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut results: Vec<(usize, Result<Outcome, TargetError>)> =
            // Indices, not `&Step`s, into the closure: a closure over a borrowed item makes the
            // future fail rustc's `Send` proof (rust-lang/rust#110338), and callers spawn it.
            futures::stream::iter(0..wave.steps.len())
                .map(|i| {
                    let step = &wave.steps[i];
                    async move {
                        let run = self.run_step(step, live.get(&step.object), wave_deadline);
                        (i, within(wave_deadline, &step.object, run).await)
                    }
                })
                .buffer_unordered(self.options.concurrency)
                .collect()
                .await;
        results.sort_by_key(|(i, _)| *i);

        let mut awaiting = Vec::new();
        for (i, result) in results {
            let step = &wave.steps[i];
            let change = |action| Change { object: step.object.clone(), action, fields: step.fields.clone() };
            match result {
                Ok(Outcome::Done(action, now)) => {
                    self.emit(Event::Applied { object: step.object.clone(), action });
                    if action == Action::Delete && !self.options.dry_run {
                        progress.inventory.remove(&step.object);
                    } else if schedule::hook(step).is_none() {
                        awaiting.push((step.object.clone(), now));
                    }
                    progress.changes.push(change(action));
                }
                Ok(Outcome::Unchanged) => {
                    self.emit(Event::Unchanged { object: step.object.clone() });
                    if step.action != Action::Delete {
                        awaiting.push((step.object.clone(), live.get(&step.object).cloned()));
                    }
                    progress.changes.push(change(step.action));
                }
                Ok(Outcome::Skipped(reason)) => {
                    self.emit(Event::Skipped { object: step.object.clone(), reason });
                    progress.changes.push(change(Action::Excluded));
                }
                Err(error) => {
                    tracing::warn!(object = %step.object, %error, "step failed");
                    self.emit(Event::Failed { object: step.object.clone(), error: error.to_string() });
                    progress.fail(Some(&step.object), error);
                }
            }
        }
        if self.options.wait && !self.options.dry_run {
            for (object, settled) in self.await_settled(awaiting, wave_deadline).await {
                let error = match settled {
                    Ok(status) if matches!(status.health, Health::Degraded | Health::Missing) => {
                        unhealthy(&object, &status)
                    }
                    Ok(_) => continue,
                    Err(error) => error,
                };
                self.emit(Event::Failed { object: object.clone(), error: error.to_string() });
                progress.fail(Some(&object), error);
            }
        }
        self.emit(Event::WaveFinished { wave: index, elapsed: started.elapsed() });
    }

    async fn run_step(
        &self,
        step: &Step,
        live: Option<&Object>,
        deadline: Option<Deadline>,
    ) -> Result<Outcome, TargetError> {
        if let (Some(policy), Some(desired)) = (schedule::hook(step), &step.desired) {
            return self.run_hook(step, desired, live, policy, deadline).await;
        }
        match (step.action, &step.desired) {
            (Action::Create | Action::Update, Some(desired)) => {
                self.check_owner(&step.object, live)?;
                let applied = self.apply(desired).await?;
                Ok(Outcome::Done(step.action, Some(applied)))
            }
            (Action::Delete, _) => {
                if let Err(error) = self.check_owner(&step.object, live) {
                    return Ok(Outcome::Skipped(error.message));
                }
                let options =
                    DeleteOptions::default().dry_run(self.options.dry_run).propagation(self.options.prune_propagation);
                self.delete(&step.object, &step.api_version, &options).await?;
                Ok(Outcome::Done(Action::Delete, None))
            }
            (Action::Excluded, _) => Ok(Outcome::Skipped("excluded".to_owned())),
            _ => Ok(Outcome::Unchanged),
        }
    }

    /// Refuses to touch an object that another ApplySet owns, unless adopting (or forced).
    fn check_owner(&self, object: &ObjectRef, live: Option<&Object>) -> Result<(), TargetError> {
        let ours = self.target.member_labels(&self.options.inventory);
        let (Some(live), Some(ours)) = (live, ours.get(applyset::PART_OF_LABEL)) else { return Ok(()) };
        match applyset::owner(live) {
            Some(theirs) if theirs != ours && !self.options.adopt.unwrap_or(self.options.force) => {
                Err(TargetError::new(
                    TargetErrorKind::Ownership,
                    Some(object),
                    format!("metadata.labels.{}: owned by another ApplySet ({theirs})", applyset::PART_OF_LABEL),
                ))
            }
            _ => Ok(()),
        }
    }

    async fn apply(&self, desired: &Object) -> Result<Object, TargetError> {
        let options = ApplyOptions::default()
            .field_manager(self.options.field_manager.clone())
            .force(self.options.force)
            .dry_run(self.options.dry_run);
        let object = desired.object_ref();
        self.options.retry.run(|| self.target.apply(desired, &options), |e, n| self.retrying(Some(&object), e, n)).await
    }

    async fn delete(&self, object: &ObjectRef, api_version: &str, options: &DeleteOptions) -> Result<(), TargetError> {
        self.options
            .retry
            .run(|| self.target.delete(object, api_version, options), |e, n| self.retrying(Some(object), e, n))
            .await
    }

    /// A hook: delete the previous copy (if asked), apply, wait for it to finish, then delete
    /// it as its policy says. A failed hook fails the step.
    async fn run_hook(
        &self,
        step: &Step,
        desired: &Object,
        live: Option<&Object>,
        policy: HookPolicy,
        deadline: Option<Deadline>,
    ) -> Result<Outcome, TargetError> {
        let object = &step.object;
        let delete = DeleteOptions::default().dry_run(self.options.dry_run).propagation(Propagation::Background);
        if policy.before_creation && live.is_some() {
            self.delete(object, &step.api_version, &delete).await?;
            if !self.options.dry_run {
                self.await_gone(object, deadline).await?;
            }
        }
        let action = if live.is_some() && !policy.before_creation { Action::Update } else { Action::Create };
        let applied = self.apply(desired).await?;
        if self.options.dry_run {
            return Ok(Outcome::Done(action, Some(applied)));
        }
        let settled = self.await_settled(vec![(object.clone(), Some(applied))], deadline).await;
        let status = match settled.into_iter().next() {
            Some((_, Ok(status))) => status,
            Some((_, Err(error))) => return Err(error),
            None => HealthStatus::new(Health::Unknown, "not assessed"),
        };
        self.emit(Event::HookFinished { object: object.clone(), status: status.clone() });
        let failed = matches!(status.health, Health::Degraded | Health::Missing);
        if (failed && policy.on_failure) || (!failed && policy.on_success) {
            self.delete(object, &step.api_version, &delete).await?;
        }
        if failed {
            return Err(TargetError::new(TargetErrorKind::Invalid, Some(object), format!("hook failed: {status}")));
        }
        Ok(Outcome::Done(action, None))
    }

    async fn await_gone(&self, object: &ObjectRef, deadline: Option<Deadline>) -> Result<(), TargetError> {
        loop {
            if self.target.get(object).await?.is_none() {
                return Ok(());
            }
            if deadline.is_some_and(|d| Deadline::now() >= d) {
                let message = "timed out waiting for the previous copy to be deleted";
                return Err(TargetError::new(TargetErrorKind::Transient, Some(object), message));
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }

    /// Waits until every object is settled (healthy, suspended, degraded or missing), polling
    /// with a growing interval; returns each object's final status, or the error that ended
    /// the wait (the deadline, a failed read). `known` holds each object's latest copy when the
    /// caller has one: objects already settled in it cost no request.
    async fn await_settled(
        &self,
        known: Vec<(ObjectRef, Option<Object>)>,
        deadline: Option<Deadline>,
    ) -> Vec<(ObjectRef, Result<HealthStatus, TargetError>)> {
        let checks = &self.options.health;
        let mut pending: Vec<(ObjectRef, Option<HealthStatus>)> = Vec::new();
        let mut done = Vec::new();
        for (object, copy) in known {
            match copy.map(|c| self.target.assess(&c, checks)) {
                Some(status) if status.is_settled() => done.push((object, Ok(status))),
                status => {
                    if let Some(status) = &status {
                        self.emit(Event::HealthChanged { object: object.clone(), status: status.clone() });
                    }
                    pending.push((object, status));
                }
            }
        }
        let mut delay = self.options.poll_interval / 4;
        while !pending.is_empty() {
            if deadline.is_some_and(|d| Deadline::now() + delay >= d) {
                for (object, status) in pending {
                    let last = status.map_or_else(|| "unknown".to_owned(), |s| s.to_string());
                    let message = format!("timed out waiting to become healthy (last: {last})");
                    let error = TargetError::new(TargetErrorKind::Transient, Some(&object), message);
                    done.push((object, Err(error)));
                }
                break;
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.options.poll_interval);
            let polled: Vec<_> = futures::stream::iter(pending)
                .map(|(object, last)| async move {
                    let now = self.target.health(&object, checks).await;
                    (object, last, now)
                })
                .buffer_unordered(self.options.concurrency)
                .collect()
                .await;
            pending = Vec::new();
            for (object, last, now) in polled {
                match now {
                    // A failed read is retried at the next poll, until the deadline.
                    Err(error) if error.is_transient() => pending.push((object, last)),
                    Err(error) => done.push((object, Err(error))),
                    Ok(status) => {
                        if last.as_ref() != Some(&status) {
                            self.emit(Event::HealthChanged { object: object.clone(), status: status.clone() });
                        }
                        if status.is_settled() || status.health == Health::Missing {
                            done.push((object, Ok(status)));
                        } else {
                            pending.push((object, Some(status)));
                        }
                    }
                }
            }
        }
        done
    }
}

fn unhealthy(object: &ObjectRef, status: &HealthStatus) -> TargetError {
    TargetError::new(TargetErrorKind::Invalid, Some(object), format!("unhealthy: {status}"))
}

/// Runs `work`, failing with a timeout error when `deadline` passes first.
async fn within<T>(
    deadline: Option<Deadline>,
    object: &ObjectRef,
    work: impl Future<Output = Result<T, TargetError>>,
) -> Result<T, TargetError> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, work)
            .await
            .unwrap_or_else(|_| Err(TargetError::new(TargetErrorKind::Transient, Some(object), "timed out"))),
        None => work.await,
    }
}
