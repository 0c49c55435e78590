//! The loop: every application reconciled at its interval (with jitter), at once on a webhook or
//! a drift event, after its dependencies are ready, with exponential backoff on failure.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use gitops_apply::{MemberChange, Target, TargetError};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::application::{Application, Backoff};
use crate::metrics::Metrics;
use crate::reconcile::{AppReconciler, Outcome, ReconcileOptions, Request, Trigger};
use crate::source::Sources;
use crate::status::{ApplicationStatus, ConditionType, StatusWriter};
use crate::webhook::Push;

/// The (apiVersion, kind) pairs a drift watch covers, and the task running it.
type DriftWatch = Option<(BTreeSet<(String, String)>, JoinHandle<()>)>;

/// Gives each application its target (a cluster, a folder, …), as its `destination` says.
#[async_trait]
pub trait Targets: Send + Sync {
    /// The target of `app`.
    async fn target(&self, app: &Application) -> Result<Arc<dyn Target>, TargetError>;
}

/// Options of the loop.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoopOptions {
    /// The share of the interval by which each wait is randomly lengthened or shortened (0.1:
    /// ±10%), so applications with the same interval do not all reconcile at once.
    pub jitter: f64,
    /// How soon an application waiting for its dependencies looks again (they also wake it when
    /// they become ready).
    pub dependency_requeue: Duration,
    /// How many applications reconcile at once.
    pub concurrency: usize,
    /// Watch managed objects for drift, where the target can.
    pub watch: bool,
    /// How long in-flight reconciles may run on after shutdown is asked before they are stopped.
    pub grace: Duration,
}

impl Default for LoopOptions {
    fn default() -> Self {
        LoopOptions {
            jitter: 0.1,
            dependency_requeue: Duration::from_secs(5),
            concurrency: 4,
            watch: true,
            grace: Duration::from_secs(30),
        }
    }
}

impl LoopOptions {
    /// Sets the jitter share (clamped to 0..=0.5).
    #[must_use]
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 0.5);
        self
    }

    /// Sets how soon a waiting dependent looks again.
    #[must_use]
    pub fn dependency_requeue(mut self, every: Duration) -> Self {
        self.dependency_requeue = every;
        self
    }

    /// Sets how many applications reconcile at once.
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets whether managed objects are watched for drift.
    #[must_use]
    pub fn watch(mut self, watch: bool) -> Self {
        self.watch = watch;
        self
    }

    /// Sets the shutdown grace period.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
}

/// One application's wake-up call.
#[derive(Debug, Default)]
struct Slot {
    notify: Notify,
    pending: Mutex<Option<Trigger>>,
}

impl Slot {
    fn trigger(&self, trigger: Trigger) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        // A trigger that fetches wins over one that does not.
        *pending = match *pending {
            Some(current) if trigger == Trigger::Drift => Some(current),
            _ => Some(trigger),
        };
        drop(pending);
        self.notify.notify_one();
    }

    fn take(&self) -> Option<Trigger> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

struct Shared {
    apps: Vec<Application>,
    slots: BTreeMap<String, Slot>,
    statuses: Mutex<BTreeMap<String, ApplicationStatus>>,
    writer: Option<Arc<dyn StatusWriter>>,
    metrics: Arc<Metrics>,
    sources: Sources,
}

impl Shared {
    fn waiting_for(&self, app: &Application) -> Vec<String> {
        let statuses = self.statuses.lock().unwrap_or_else(PoisonError::into_inner);
        app.depends_on.iter().filter(|d| !statuses.get(*d).is_some_and(ApplicationStatus::is_ready)).cloned().collect()
    }

    fn record(&self, outcome: &Outcome) {
        let status = &outcome.status;
        self.metrics.record(status, outcome.error.as_ref().map(crate::ReconcileError::stage));
        if let Some(writer) = &self.writer
            && let Err(error) = writer.write(status)
        {
            tracing::warn!(application = %status.name, %error, "cannot write the status");
        }
        let was_ready = {
            let mut statuses = self.statuses.lock().unwrap_or_else(PoisonError::into_inner);
            statuses.insert(status.name.clone(), status.clone()).is_some_and(|s| s.is_ready())
        };
        if status.is_ready() && !was_ready {
            for dependent in self.apps.iter().filter(|a| a.depends_on.contains(&status.name)) {
                if let Some(slot) = self.slots.get(&dependent.name) {
                    slot.trigger(Trigger::Dependency);
                }
            }
        }
    }

    fn record_target_error(&self, app: &Application, error: &TargetError) {
        let mut status = self.status(&app.name).unwrap_or_default();
        status.name.clone_from(&app.name);
        status.last_error = Some(format!("cannot reach the target of {}: {error}", app.name));
        status.failures = status.failures.saturating_add(1);
        status.conditions.retain(|c| c.type_ != ConditionType::ComparisonFailed);
        status.conditions.push(crate::Condition {
            type_: ConditionType::ComparisonFailed,
            message: error.to_string(),
            last_transition_time: gitops_core::time::now_rfc3339(),
        });
        tracing::warn!(application = %app.name, %error, "cannot reach the target");
        self.metrics.record(&status, Some(crate::Stage::Diff));
        if let Some(writer) = &self.writer {
            let _ = writer.write(&status);
        }
        self.statuses.lock().unwrap_or_else(PoisonError::into_inner).insert(app.name.clone(), status);
    }

    fn status(&self, name: &str) -> Option<ApplicationStatus> {
        self.statuses.lock().unwrap_or_else(PoisonError::into_inner).get(name).cloned()
    }
}

/// A handle on a running [`Reconciler`]: trigger reconciles, read statuses and metrics. Cheap
/// to clone; the webhook receiver and the metrics endpoint hold one.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").field("applications", &self.shared.slots.keys()).finish_non_exhaustive()
    }
}

impl Handle {
    /// Asks for a reconcile of `application` now; false when there is no such application.
    pub fn trigger(&self, application: &str, trigger: Trigger) -> bool {
        match self.shared.slots.get(application) {
            Some(slot) => {
                slot.trigger(trigger);
                true
            }
            None => false,
        }
    }

    /// Triggers a reconcile of every application whose source a Git push touched (same
    /// repository, and the pushed branch or tag is the one it follows); returns their names.
    pub fn push(&self, push: &Push) -> Vec<String> {
        let base = self.shared.sources.base();
        let names: Vec<String> =
            self.shared.apps.iter().filter(|app| push.concerns(app, base)).map(|app| app.name.clone()).collect();
        for name in &names {
            self.trigger(name, Trigger::Webhook);
        }
        names
    }

    /// The status of `application` after its last reconcile.
    pub fn status(&self, application: &str) -> Option<ApplicationStatus> {
        self.shared.status(application)
    }

    /// Every application's status, by name.
    pub fn statuses(&self) -> BTreeMap<String, ApplicationStatus> {
        self.shared.statuses.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.shared.metrics
    }
}

/// Reconciles a set of applications: once ([`Reconciler::run_once`]) or continuously
/// ([`Reconciler::run`]).
pub struct Reconciler {
    shared: Arc<Shared>,
    targets: Arc<dyn Targets>,
    options: ReconcileOptions,
    loop_options: LoopOptions,
}

impl std::fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler").field("loop_options", &self.loop_options).finish_non_exhaustive()
    }
}

impl Reconciler {
    /// A reconciler of `apps` (in dependency order: [`crate::Applications::order`]), with targets
    /// from `targets` and sources from `sources`.
    pub fn new(
        apps: Vec<Application>,
        targets: Arc<dyn Targets>,
        sources: Sources,
        options: ReconcileOptions,
        loop_options: LoopOptions,
    ) -> Self {
        let slots = apps.iter().map(|a| (a.name.clone(), Slot::default())).collect();
        let shared = Arc::new(Shared {
            apps,
            slots,
            statuses: Mutex::default(),
            writer: None,
            metrics: Arc::default(),
            sources,
        });
        Reconciler { shared, targets, options, loop_options }
    }

    /// Writes every status with `writer` (a [`crate::StatusDir`] for file-defined applications).
    /// Call before [`Reconciler::handle`].
    #[must_use]
    pub fn status_writer(mut self, writer: Arc<dyn StatusWriter>) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.writer = Some(writer);
        }
        self
    }

    /// A handle to trigger reconciles and read statuses and metrics.
    pub fn handle(&self) -> Handle {
        Handle { shared: Arc::clone(&self.shared) }
    }

    /// Reconciles every application once, in dependency order; an application whose
    /// dependencies are not Synced and Healthy after their turn is compared, not synced.
    pub async fn run_once(&self) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        for app in &self.shared.apps {
            let target = match self.targets.target(app).await {
                Ok(target) => target,
                Err(error) => {
                    self.shared.record_target_error(app, &error);
                    continue;
                }
            };
            let mut reconciler =
                AppReconciler::new(app.clone(), target, self.shared.sources.clone(), self.options.clone());
            let request = Request::new(Trigger::Manual).waiting_for(self.shared.waiting_for(app));
            let outcome = reconciler.reconcile(&request).await;
            self.shared.record(&outcome);
            outcomes.push(outcome);
        }
        outcomes
    }

    /// Reconciles continuously until `shutdown` completes; then lets in-flight reconciles finish
    /// for [`LoopOptions::grace`] and stops the rest (an interrupted sync converges on the next
    /// run: the inventory covers everything it may have written).
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let permits = Arc::new(Semaphore::new(self.loop_options.concurrency));
        let mut tasks = Vec::new();
        for app in &self.shared.apps {
            let task = AppTask {
                app: app.clone(),
                shared: Arc::clone(&self.shared),
                targets: Arc::clone(&self.targets),
                options: self.options.clone(),
                loop_options: self.loop_options.clone(),
                permits: Arc::clone(&permits),
                stop: stop_rx.clone(),
            };
            tasks.push(tokio::spawn(task.run()));
        }
        shutdown.await;
        tracing::info!("stopping: no new reconciles; waiting for those in flight");
        let _ = stop_tx.send(true);
        let all = futures::future::join_all(tasks.iter_mut());
        if tokio::time::timeout(self.loop_options.grace, all).await.is_err() {
            tracing::warn!(grace = ?self.loop_options.grace, "reconciles still running after the grace period: stopping them");
            for task in &tasks {
                task.abort();
            }
        }
    }
}

/// One application's loop.
struct AppTask {
    app: Application,
    shared: Arc<Shared>,
    targets: Arc<dyn Targets>,
    options: ReconcileOptions,
    loop_options: LoopOptions,
    permits: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
}

impl AppTask {
    async fn run(mut self) {
        let shared = Arc::clone(&self.shared);
        let Some(slot) = shared.slots.get(&self.app.name) else { return };
        let mut failures = 0_u32;
        let target = loop {
            match self.targets.target(&self.app).await {
                Ok(target) => break target,
                Err(error) => {
                    self.shared.record_target_error(&self.app, &error);
                    failures = failures.saturating_add(1);
                    if self.wait(Backoff::default().wait(failures - 1).min(self.app.interval), slot).await.is_none() {
                        return;
                    }
                }
            }
        };
        let mut reconciler =
            AppReconciler::new(self.app.clone(), target, self.shared.sources.clone(), self.options.clone());
        let mut watched: DriftWatch = None;
        let mut trigger = Trigger::Interval;
        loop {
            let waiting = self.shared.waiting_for(&self.app);
            let outcome = {
                let Ok(_permit) = self.permits.acquire().await else { break };
                reconciler.reconcile(&Request::new(trigger).waiting_for(waiting.clone())).await
            };
            self.shared.record(&outcome);
            if self.loop_options.watch {
                self.rewatch(&reconciler, &mut watched).await;
            }
            let delay = self.next_delay(&outcome.status, !waiting.is_empty());
            match self.wait(delay, slot).await {
                Some(next) => trigger = next,
                None => break,
            }
        }
        if let Some((_, task)) = watched {
            task.abort();
        }
    }

    /// Waits for `delay` or a trigger; `None` when the loop must stop.
    async fn wait(&mut self, delay: Duration, slot: &Slot) -> Option<Trigger> {
        if *self.stop.borrow() {
            return None;
        }
        let deadline = Instant::now() + delay;
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => Some(slot.take().unwrap_or(Trigger::Interval)),
            () = slot.notify.notified() => Some(slot.take().unwrap_or(Trigger::Manual)),
            _ = self.stop.changed() => None,
        }
    }

    /// The wait before the next reconcile: the backoff after a failure (until the retry limit,
    /// then the interval), a short requeue while waiting for dependencies, else the interval
    /// with jitter.
    fn next_delay(&self, status: &ApplicationStatus, waiting: bool) -> Duration {
        let interval = self.app.interval;
        if status.failures > 0 {
            let (backoff, limit) = match &self.app.sync_policy.retry {
                Some(retry) => (retry.backoff.clone(), Some(retry.limit)),
                None => (Backoff::default(), None),
            };
            if limit.is_none_or(|limit| status.failures <= limit) {
                return backoff.wait(status.failures - 1).min(interval);
            }
            return jittered(interval, self.loop_options.jitter);
        }
        if waiting {
            return self.loop_options.dependency_requeue.min(interval);
        }
        jittered(interval, self.loop_options.jitter)
    }

    /// (Re)starts the drift watch when the kinds the application owns changed.
    async fn rewatch(&self, reconciler: &AppReconciler, watched: &mut DriftWatch) {
        let kinds = reconciler.kinds();
        if kinds.is_empty() || watched.as_ref().is_some_and(|(current, _)| current == kinds) {
            return;
        }
        if let Some((_, task)) = watched.take() {
            task.abort();
        }
        let list: Vec<(String, String)> = kinds.iter().cloned().collect();
        let stream = match reconciler.target().watch(&self.app.name, &list).await {
            Ok(Some(stream)) => stream,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(application = %self.app.name, %error, "cannot watch the managed objects; drift is found at the interval");
                return;
            }
        };
        let shared = Arc::clone(&self.shared);
        let name = self.app.name.clone();
        let task = tokio::spawn(async move {
            let mut stream = stream;
            while let Some(change) = stream.next().await {
                match change {
                    Ok(change) => {
                        let object = match &change {
                            MemberChange::Changed(r) | MemberChange::Deleted(r) => r.to_string(),
                            _ => "(resynced)".to_owned(),
                        };
                        tracing::debug!(application = %name, %object, "managed object changed");
                        if let Some(slot) = shared.slots.get(&name) {
                            slot.trigger(Trigger::Drift);
                        }
                    }
                    Err(error) => tracing::debug!(application = %name, %error, "watch error"),
                }
            }
        });
        *watched = Some((kinds.clone(), task));
    }
}

/// `interval` lengthened or shortened by up to `share` of it, at random.
fn jittered(interval: Duration, share: f64) -> Duration {
    if share <= 0.0 {
        return interval;
    }
    let random = std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now());
    #[allow(clippy::cast_precision_loss)]
    let unit = (random % 10_000) as f64 / 10_000.0; // 0..1
    interval.mul_f64(1.0 + share * (2.0 * unit - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_bounds() {
        let interval = Duration::from_secs(100);
        for _ in 0..100 {
            let wait = jittered(interval, 0.1);
            assert!(wait >= Duration::from_secs(90) && wait <= Duration::from_secs(110), "{wait:?}");
        }
        assert_eq!(jittered(interval, 0.0), interval);
    }

    #[test]
    fn a_fetching_trigger_wins_over_drift() {
        let slot = Slot::default();
        slot.trigger(Trigger::Webhook);
        slot.trigger(Trigger::Drift);
        assert_eq!(slot.take(), Some(Trigger::Webhook));
        slot.trigger(Trigger::Drift);
        slot.trigger(Trigger::Interval);
        assert_eq!(slot.take(), Some(Trigger::Interval));
        assert_eq!(slot.take(), None);
    }
}
