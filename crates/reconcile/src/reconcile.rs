//! One reconcile of one application: fetch, render (only when the source changed under the
//! application's path), diff, plan, and apply as the sync policy says; then the status.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use gitops_apply::health::HealthChecks;
use gitops_apply::{Applier, ApplierOptions, ApplyError, Target, TargetError};
use gitops_core::{ChangeSet, Health, ManifestSet, Revision};
use gitops_diff::{DiffSet, Inputs, ThreeWayDiff};
use gitops_plan::{PlanError, PlanOptions};
use gitops_render::{RenderError, RenderOptions};

use crate::application::{Application, LoadRestrictorName};
use crate::events::{EventReason, EventSink, EventType, ReconcileEvent};
use crate::pin::pinned_commit;
use crate::source::{SourceError, Sources, shown_url};
use crate::status::{ApplicationStatus, Condition, ConditionType, Stage, StageDurations, SyncStatus};

/// Why a reconcile runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trigger {
    /// The interval elapsed (or the first run).
    Interval,
    /// A Git push was announced (webhook): fetch at once.
    Webhook,
    /// A managed object changed on the target: compare again without fetching.
    Drift,
    /// An application this one depends on became ready.
    Dependency,
    /// Asked for by a person or a program.
    Manual,
}

impl Trigger {
    /// The trigger as logs and metrics spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Interval => "interval",
            Trigger::Webhook => "webhook",
            Trigger::Drift => "drift",
            Trigger::Dependency => "dependency",
            Trigger::Manual => "manual",
        }
    }
}

/// Why a reconcile failed, with the stage it failed in.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// The source could not be fetched or its revision resolved.
    #[error("cannot fetch the source of {application}")]
    Fetch {
        /// The application.
        application: String,
        /// The cause.
        #[source]
        source: SourceError,
    },
    /// The revision does not render (a bad commit).
    #[error("cannot render {path} at {revision} for {application}")]
    Render {
        /// The application.
        application: String,
        /// The path in the repository.
        path: String,
        /// The revision.
        revision: String,
        /// The cause.
        #[source]
        source: RenderError,
    },
    /// The snapshot of the revision or the changed paths could not be read.
    #[error("cannot read {revision} of {application}")]
    Snapshot {
        /// The application.
        application: String,
        /// The revision.
        revision: String,
        /// The cause.
        #[source]
        source: gitops_source::SnapshotError,
    },
    /// The live state or the inventory could not be read.
    #[error("cannot read the live state of {application} from {target}")]
    Observe {
        /// The application.
        application: String,
        /// The target, described.
        target: String,
        /// The cause.
        #[source]
        source: TargetError,
    },
    /// The plan could not be made (a dependency cycle, a mass prune refused).
    #[error("cannot plan the sync of {application}")]
    Plan {
        /// The application.
        application: String,
        /// The cause.
        #[source]
        source: PlanError,
    },
    /// Applying failed part way (what was done is in the outcome's changes).
    #[error("cannot sync {application} to {target}")]
    Apply {
        /// The application.
        application: String,
        /// The target, described.
        target: String,
        /// The cause, with the failures.
        #[source]
        source: Box<ApplyError>,
    },
    /// A blocking task panicked or was cancelled.
    #[error("the {stage} task of {application} did not finish: {message}")]
    Task {
        /// The application.
        application: String,
        /// The stage.
        stage: Stage,
        /// What the runtime said.
        message: String,
    },
}

impl ReconcileError {
    /// The stage the reconcile failed in.
    pub fn stage(&self) -> Stage {
        match self {
            ReconcileError::Fetch { .. } => Stage::Fetch,
            ReconcileError::Render { .. } | ReconcileError::Snapshot { .. } => Stage::Render,
            ReconcileError::Observe { .. } | ReconcileError::Plan { .. } => Stage::Diff,
            ReconcileError::Apply { .. } => Stage::Apply,
            ReconcileError::Task { stage, .. } => *stage,
        }
    }

    /// The condition this failure sets.
    pub fn condition(&self) -> ConditionType {
        match self.stage() {
            Stage::Fetch => ConditionType::FetchFailed,
            Stage::Render => ConditionType::RenderFailed,
            Stage::Diff => ConditionType::ComparisonFailed,
            Stage::Apply => ConditionType::SyncFailed,
        }
    }

    /// The error and its causes, `: `-separated (what status and events show).
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    fn event_reason(&self) -> EventReason {
        match self.stage() {
            Stage::Fetch => EventReason::FetchFailed,
            Stage::Render => EventReason::RenderFailed,
            Stage::Diff => EventReason::ComparisonFailed,
            Stage::Apply => EventReason::SyncFailed,
        }
    }
}

/// Options shared by every application's reconciles.
#[derive(Clone)]
#[non_exhaustive]
pub struct ReconcileOptions {
    /// The field manager of applies (default `gitops`).
    pub field_manager: String,
    /// How many objects are applied or read at once.
    pub concurrency: usize,
    /// Wait for objects to become healthy, wave by wave (for targets that run controllers).
    pub wait: bool,
    /// Take over fields another field manager changed (default true: Git wins, as in Flux and
    /// Argo CD's server-side apply). Off, such drift fails the sync with a conflict naming the
    /// manager and the field.
    pub force: bool,
    /// Where events go.
    pub events: Option<Arc<dyn EventSink>>,
    /// How Kustomize remote bases are fetched (none: they are refused).
    pub remote: Option<Arc<dyn gitops_render::kustomize::RemoteResolver>>,
}

impl std::fmt::Debug for ReconcileOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconcileOptions")
            .field("field_manager", &self.field_manager)
            .field("concurrency", &self.concurrency)
            .field("wait", &self.wait)
            .field("force", &self.force)
            .finish_non_exhaustive()
    }
}

impl Default for ReconcileOptions {
    fn default() -> Self {
        ReconcileOptions {
            field_manager: "gitops".to_owned(),
            concurrency: 16,
            wait: true,
            force: true,
            events: None,
            remote: None,
        }
    }
}

impl ReconcileOptions {
    /// Sets the field manager.
    #[must_use]
    pub fn field_manager(mut self, manager: impl Into<String>) -> Self {
        self.field_manager = manager.into();
        self
    }

    /// Sets how many objects are applied or read at once.
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets whether health is awaited between waves.
    #[must_use]
    pub fn wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }

    /// Sets whether fields another manager changed are taken over.
    #[must_use]
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Sends events to `sink`.
    #[must_use]
    pub fn events(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.events = Some(sink);
        self
    }

    /// Fetches Kustomize remote bases with `resolver`.
    #[must_use]
    pub fn remote(mut self, resolver: Arc<dyn gitops_render::kustomize::RemoteResolver>) -> Self {
        self.remote = Some(resolver);
        self
    }
}

/// What to do in one reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// Why it runs.
    pub trigger: Trigger,
    /// Applications this one depends on that are not Synced and Healthy: while any is listed,
    /// the reconcile compares but does not apply.
    pub waiting_for: Vec<String>,
}

impl Request {
    /// A reconcile for `trigger`, with every dependency ready.
    pub fn new(trigger: Trigger) -> Self {
        Request { trigger, waiting_for: Vec::new() }
    }

    /// Sets the dependencies that are not ready.
    #[must_use]
    pub fn waiting_for(mut self, names: Vec<String>) -> Self {
        self.waiting_for = names;
        self
    }
}

/// What one reconcile did and found.
#[derive(Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// The status after it (also kept by the reconciler: [`AppReconciler::status`]).
    pub status: ApplicationStatus,
    /// The failure, if it failed. A render failure keeps the last good state applied: the
    /// reconcile went on with it.
    pub error: Option<ReconcileError>,
    /// What was written (empty when nothing was applied).
    pub changes: ChangeSet,
    /// Whether the manifests were rendered (false: the source did not change under the path).
    pub rendered: bool,
    /// Whether a sync ran.
    pub applied: bool,
}

/// A rendered revision.
#[derive(Debug, Clone)]
struct Rendered {
    revision: Revision,
    set: ManifestSet,
}

/// Reconciles one application against one target, keeping what it needs between runs: the
/// last good render (to skip rendering an unchanged path, and to keep the last good state when a
/// commit does not render) and the status.
///
/// ```no_run
/// # async fn demo(app: gitops_reconcile::Application, target: std::sync::Arc<dyn gitops_apply::Target>) {
/// use gitops_reconcile::{AppReconciler, ReconcileOptions, Request, SourceOptions, Sources, Trigger};
/// let sources = Sources::new(SourceOptions::default().base("."));
/// let mut reconciler = AppReconciler::new(app, target, sources, ReconcileOptions::default());
/// let outcome = reconciler.reconcile(&Request::new(Trigger::Manual)).await;
/// println!("{} {} at {:?}", outcome.status.sync, outcome.status.health, outcome.status.synced_revision);
/// # }
/// ```
pub struct AppReconciler {
    app: Application,
    target: Arc<dyn Target>,
    sources: Sources,
    options: ReconcileOptions,
    last: Option<Rendered>,
    status: ApplicationStatus,
    kinds: BTreeSet<(String, String)>,
}

impl std::fmt::Debug for AppReconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppReconciler")
            .field("application", &self.app.name)
            .field("target", &self.target.describe())
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// What a pass found before it failed or finished.
#[derive(Default)]
struct Draft {
    sync: SyncStatus,
    health: Option<(Health, String)>,
    attempted: Option<String>,
    synced: Option<String>,
    pinned: Option<String>,
    objects: Option<usize>,
    durations: StageDurations,
    conditions: Vec<(ConditionType, String)>,
    changes: ChangeSet,
    rendered: bool,
    applied: bool,
    render_error: Option<ReconcileError>,
}

impl AppReconciler {
    /// A reconciler for `app` on `target`.
    pub fn new(app: Application, target: Arc<dyn Target>, sources: Sources, options: ReconcileOptions) -> Self {
        let status = ApplicationStatus { name: app.name.clone(), ..ApplicationStatus::default() };
        AppReconciler { app, target, sources, options, last: None, status, kinds: BTreeSet::new() }
    }

    /// The application.
    pub fn application(&self) -> &Application {
        &self.app
    }

    /// Replaces the definition (a changed `gitops.yaml` or custom resource); the last render is
    /// kept only when the source is the same.
    pub fn update(&mut self, app: Application) {
        if app.source != self.app.source || app.render != self.app.render || app.destination != self.app.destination {
            self.last = None;
        }
        self.app = app;
    }

    /// The target.
    pub fn target(&self) -> &Arc<dyn Target> {
        &self.target
    }

    /// The `(apiVersion, kind)`s of the objects the application owns or wants, as of the last
    /// reconcile: what a drift watch covers.
    pub fn kinds(&self) -> &BTreeSet<(String, String)> {
        &self.kinds
    }

    /// The status after the last reconcile.
    pub fn status(&self) -> &ApplicationStatus {
        &self.status
    }

    /// Runs one reconcile: never fails as a call; failures are in the outcome and the status.
    pub async fn reconcile(&mut self, request: &Request) -> Outcome {
        let mut draft = Draft::default();
        let result = self.pass(request, &mut draft).await;
        let error = match result {
            Ok(()) => draft.render_error.take(),
            Err(error) => Some(error),
        };
        self.finish(request, draft, error)
    }

    async fn pass(&mut self, request: &Request, draft: &mut Draft) -> Result<(), ReconcileError> {
        let name = self.app.name.clone();
        let target = Arc::clone(&self.target);
        let observe_error = |source: TargetError| ReconcileError::Observe {
            application: name.clone(),
            target: target.describe(),
            source,
        };

        // The inventory says what is synced and whether a rollback pinned the application.
        let started = Instant::now();
        let inventory = self.target.load_inventory(&name).await.map_err(&observe_error)?.unwrap_or_default();
        draft.synced.clone_from(&inventory.revision);
        draft.pinned.clone_from(&inventory.pinned);

        // Fetch (a drift trigger compares the last render again, without fetching).
        let revision = match (&self.last, request.trigger) {
            (Some(last), Trigger::Drift) if inventory.pinned.is_none() => last.revision.clone(),
            _ => {
                let rev = inventory.pinned.as_deref().map_or(self.app.source.target_revision.as_str(), pinned_commit);
                let (sources, app, rev) = (self.sources.clone(), self.app.clone(), rev.to_owned());
                let fetched = blocking(&name, Stage::Fetch, move || sources.fetch(&app, &rev)).await?;
                let fetched = fetched.map_err(|source| ReconcileError::Fetch { application: name.clone(), source })?;
                draft.durations.record(Stage::Fetch, started.elapsed());
                draft.attempted = Some(fetched.revision.to_string());
                self.render(fetched, draft).await?;
                match &self.last {
                    Some(last) => last.revision.clone(),
                    // Nothing ever rendered: the render error is the outcome.
                    None => return Err(draft.render_error.take().unwrap_or_else(|| unreachable_render(&name))),
                }
            }
        };
        if let Some(pinned) = &inventory.pinned {
            draft.conditions.push((ConditionType::Pinned, format!("pinned at {pinned} by a rollback")));
        }
        if draft.attempted.is_none() {
            draft.attempted = Some(revision.to_string());
        }
        let Some(last) = self.last.as_ref() else { return Err(unreachable_render(&name)) };
        let set = last.set.clone();

        // Diff and plan.
        let started = Instant::now();
        let applier_options = ApplierOptions::default()
            .inventory(&name)
            .field_manager(&self.options.field_manager)
            .revision(Some(revision.to_string()))
            .concurrency(self.options.concurrency)
            .wait(self.options.wait)
            .force(self.options.force)
            .adopt(Some(false))
            .timeout(Some(self.app.health.timeout));
        let applier = Applier::new(self.target.as_ref(), applier_options);
        let observed = applier.observe(&set).await.map_err(&observe_error)?;
        self.kinds = observed
            .desired
            .iter()
            .map(|m| (m.object.api_version().to_owned(), m.object.kind().to_owned()))
            .chain(observed.inventory.objects.iter().map(|(r, api_version)| (api_version.clone(), r.kind.clone())))
            .collect();
        let diff = self.diff(&observed);
        let has_changes = diff.has_changes();
        draft.objects = Some(observed.desired.len());
        draft.sync = if has_changes { SyncStatus::OutOfSync } else { SyncStatus::Synced };
        draft.health = Some(self.health_of(&observed.desired, |r| observed.live.get(r).cloned()));
        let automated = self.app.sync_policy.automated;
        let prune = automated.is_some_and(|a| a.prune);
        let plan = gitops_plan::plan_with_desired(diff, &observed.desired, &PlanOptions::default().prune(prune))
            .map_err(|source| ReconcileError::Plan { application: name.clone(), source })?;
        draft.durations.record(Stage::Diff, started.elapsed());

        // Apply as the policy says.
        let moved = inventory.revision.as_deref() != Some(revision.to_string().as_str());
        let heal = automated.is_some_and(|a| a.self_heal) && has_changes;
        if !request.waiting_for.is_empty() {
            let waiting = request.waiting_for.join(", ");
            draft.conditions.push((ConditionType::DependencyNotReady, format!("waiting for {waiting}")));
            return Ok(());
        }
        if automated.is_none() || !(moved || heal) {
            if has_changes && !moved {
                draft.conditions.push((ConditionType::Drifted, "live objects differ from Git".to_owned()));
            }
            return Ok(());
        }
        let started = Instant::now();
        let result = applier.run(&plan, observed).await;
        draft.applied = true;
        draft.durations.record(Stage::Apply, started.elapsed());
        match result {
            Ok(report) => {
                draft.changes = report.changes;
                draft.synced.clone_from(&report.inventory.revision);
                draft.sync = SyncStatus::Synced;
                let target = Arc::clone(&self.target);
                draft.health = Some(self.health_now(&set, target.as_ref()).await);
                Ok(())
            }
            Err(error) => {
                draft.changes = error.changes.clone();
                draft.sync = SyncStatus::OutOfSync;
                Err(ReconcileError::Apply {
                    application: name,
                    target: self.target.describe(),
                    source: Box::new(error),
                })
            }
        }
    }

    /// Renders the fetched revision, unless the last render holds: the same commit, or nothing
    /// changed under the application's path since. A render failure keeps the last good render
    /// and is recorded in the draft.
    async fn render(&mut self, fetched: crate::source::Fetched, draft: &mut Draft) -> Result<(), ReconcileError> {
        let name = self.app.name.clone();
        let started = Instant::now();
        let revision = fetched.revision.clone();
        if let Some(last) = &mut self.last {
            if last.revision.commit == revision.commit {
                last.revision = revision;
                return Ok(());
            }
            let (repository, from, to, path) =
                (fetched.repository.clone(), last.revision.clone(), revision.clone(), self.app.source.path.clone());
            let changed = blocking(&name, Stage::Render, move || repository.changed_paths(&from, &to, &path)).await?;
            match changed {
                Ok(paths) if paths.is_empty() => {
                    tracing::debug!(application = %name, %revision, "nothing changed under the path; render skipped");
                    last.revision = revision;
                    return Ok(());
                }
                Ok(_) => {}
                // The old commit may be gone (a force push): render anew.
                Err(error) => tracing::debug!(application = %name, error = %error, "cannot compare revisions"),
            }
        }
        let mut options = RenderOptions::default().namespace(&self.app.destination.namespace).load_restrictor(
            match self.app.render.load_restrictor {
                LoadRestrictorName::None => gitops_render::kustomize::LoadRestrictor::None,
                _ => gitops_render::kustomize::LoadRestrictor::RootOnly,
            },
        );
        if let Some(remote) = &self.options.remote {
            options = options.remote(Arc::clone(remote));
        }
        let (path, shown) = (self.app.source.path.clone(), revision.to_string());
        let rendered = blocking(&name, Stage::Render, move || {
            let snapshot = fetched.repository.snapshot(&fetched.revision).map_err(RenderFailure::Snapshot)?;
            gitops_render::render(&snapshot, &path, &options).map_err(RenderFailure::Render)
        })
        .await?;
        draft.durations.record(Stage::Render, started.elapsed());
        match rendered {
            Ok(set) => {
                draft.rendered = true;
                self.last = Some(Rendered { revision, set });
            }
            Err(RenderFailure::Snapshot(source)) => {
                return Err(ReconcileError::Snapshot { application: name, revision: shown, source });
            }
            Err(RenderFailure::Render(source)) => {
                draft.render_error = Some(ReconcileError::Render {
                    application: name,
                    path: self.app.source.path.clone(),
                    revision: shown,
                    source,
                });
            }
        }
        Ok(())
    }

    fn diff(&self, observed: &gitops_apply::Observed) -> DiffSet {
        let mut inputs = Inputs::new(&observed.desired, &observed.live, &observed.inventory);
        if observed.live_is_last_applied {
            inputs = inputs.last_applied(&observed.live);
        }
        let mut diff = ThreeWayDiff::default().field_manager(&self.options.field_manager);
        for rule in &self.app.ignore_differences {
            diff = diff.ignore(rule.clone());
        }
        diff.diff(&inputs)
    }

    /// The worst health of the desired objects, from live copies.
    fn health_of(
        &self,
        desired: &ManifestSet,
        live: impl Fn(&gitops_core::ObjectRef) -> Option<gitops_core::Object>,
    ) -> (Health, String) {
        let checks = HealthChecks::default();
        let mut worst = (Health::Healthy, String::new());
        for manifest in desired {
            let r = manifest.object_ref();
            let (health, message) = match live(&r) {
                Some(object) => {
                    let status = self.target.assess(&object, &checks);
                    (status.health, status.message)
                }
                None => (Health::Missing, "not found".to_owned()),
            };
            if health > worst.0 {
                worst = (health, format!("{r}: {message}"));
            }
        }
        worst
    }

    /// The worst health of the desired objects, read from the target now (after a sync).
    async fn health_now(&self, desired: &ManifestSet, target: &dyn Target) -> (Health, String) {
        let checks = HealthChecks::default();
        let checks = &checks;
        let refs: Vec<gitops_core::ObjectRef> = desired.iter().map(gitops_core::Manifest::object_ref).collect();
        let found: Vec<(gitops_core::ObjectRef, Health, String)> = futures::stream::iter(refs)
            .map(|r| async move {
                match target.health(&r, checks).await {
                    Ok(status) => (r, status.health, status.message),
                    Err(error) => (r, Health::Unknown, error.to_string()),
                }
            })
            .buffered(self.options.concurrency)
            .collect()
            .await;
        let mut worst = (Health::Healthy, String::new());
        for (r, health, message) in found {
            if health > worst.0 {
                worst = (health, format!("{r}: {message}"));
            }
        }
        worst
    }

    /// Turns the draft into the status, emits events and logs.
    fn finish(&mut self, request: &Request, mut draft: Draft, error: Option<ReconcileError>) -> Outcome {
        let now = gitops_core::time::now_rfc3339();
        let previous = std::mem::take(&mut self.status);
        if let Some(error) = &error {
            draft.conditions.push((error.condition(), error.chain()));
        }
        let conditions = draft
            .conditions
            .iter()
            .map(|(type_, message)| Condition {
                type_: *type_,
                message: message.clone(),
                last_transition_time: previous
                    .condition(*type_)
                    .map_or_else(|| now.clone(), |c| c.last_transition_time.clone()),
            })
            .collect();
        let (health, health_message) = draft.health.unwrap_or((previous.health, previous.health_message.clone()));
        let wrote = draft.changes.changes.iter().any(|c| c.action.is_write());
        let status = ApplicationStatus {
            name: self.app.name.clone(),
            sync: draft.sync,
            health,
            health_message,
            synced_revision: draft.synced.or(previous.synced_revision),
            last_attempted_revision: draft.attempted.or(previous.last_attempted_revision),
            pinned: draft.pinned,
            objects: draft.objects.unwrap_or(previous.objects),
            conditions,
            last_error: error.as_ref().map(ReconcileError::chain),
            reconciled_at: now.clone(),
            last_synced_at: if wrote { Some(now) } else { previous.last_synced_at },
            durations: draft.durations,
            failures: if error.is_some() { previous.failures.saturating_add(1) } else { 0 },
        };
        self.events(request, &status, &draft.changes, error.as_ref(), previous.sync);
        tracing::info!(
            application = %status.name,
            trigger = request.trigger.as_str(),
            revision = status.last_attempted_revision.as_deref().unwrap_or(""),
            sync = %status.sync,
            health = %status.health,
            rendered = draft.rendered,
            applied = draft.applied,
            changes = %draft.changes.summary(),
            error = status.last_error.as_deref().unwrap_or(""),
            "reconciled"
        );
        self.status = status.clone();
        Outcome { status, error, changes: draft.changes, rendered: draft.rendered, applied: draft.applied }
    }

    fn events(
        &self,
        request: &Request,
        status: &ApplicationStatus,
        changes: &ChangeSet,
        error: Option<&ReconcileError>,
        before: SyncStatus,
    ) {
        let Some(sink) = &self.options.events else { return };
        let name = &self.app.name;
        let emit = |type_, reason, message: String| sink.emit(&ReconcileEvent::new(name, type_, reason, message));
        if let Some(error) = error {
            emit(EventType::Warning, error.event_reason(), error.chain());
        }
        if changes.changes.iter().any(|c| c.action.is_write()) {
            let revision = status.last_attempted_revision.as_deref().unwrap_or("a local folder");
            let reason = if request.trigger == Trigger::Drift { EventReason::DriftHealed } else { EventReason::Synced };
            emit(
                EventType::Normal,
                reason,
                format!("synced {revision} from {}: {}", shown_url(&self.app.source.repo_url), changes.summary()),
            );
        }
        if status.sync == SyncStatus::OutOfSync && before != SyncStatus::OutOfSync && error.is_none() {
            emit(EventType::Normal, EventReason::OutOfSync, "live objects differ from Git".to_owned());
        }
        if let Some(waiting) = status.condition(ConditionType::DependencyNotReady) {
            emit(EventType::Normal, EventReason::DependencyNotReady, waiting.message.clone());
        }
    }
}

enum RenderFailure {
    Snapshot(gitops_source::SnapshotError),
    Render(RenderError),
}

fn unreachable_render(name: &str) -> ReconcileError {
    ReconcileError::Task {
        application: name.to_owned(),
        stage: Stage::Render,
        message: "no render is available".to_owned(),
    }
}

/// Runs blocking Git or render work off the async threads.
async fn blocking<T: Send + 'static>(
    name: &str,
    stage: Stage,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ReconcileError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| ReconcileError::Task {
        application: name.to_owned(),
        stage,
        message: e.to_string(),
    })
}
