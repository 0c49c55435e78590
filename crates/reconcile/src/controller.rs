//! `Application` resources reconciled by a kube-runtime [`Controller`], sharded over replicas.
//!
//! [`run`] joins the shard group ([`Membership`]), watches `Application`s (only those: no
//! managed object is watched or cached, so memory grows with the number of applications, not
//! with the cluster), and for each one this replica owns ([`ShardView::owns`] of
//! `namespace/name`): renders the source at its revision, diffs against the cluster, and
//! applies the plan when `syncPolicy.automated` is set (reporting OutOfSync otherwise); then
//! writes the status subresource and a Kubernetes Event on the Application. A change in the
//! shard view re-queues every application, so a dead replica's share is picked up as soon as
//! its Lease expires. A reconcile is bounded by `lease_duration - renew_interval`, the margin
//! [`crate::shard`] relies on.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use gitops_apply::{KubeTarget, Target};
use gitops_core::Health;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use tokio::sync::watch;

use crate::crd::{ApplicationResource, ResourceCondition, ResourceStatus};
use crate::shard::{Membership, ShardOptions, ShardView, error_chain};
use crate::{
    AppReconciler, Application, DefinitionError, ReconcileOptions, Request, SourceOptions, Sources, SyncStatus, Trigger,
};

/// Each application's reconciler, kept between reconciles (it holds the last good render, so an
/// unchanged path is not rendered again), with the definition it was made for.
type Reconcilers = std::sync::Mutex<HashMap<String, (Application, Arc<tokio::sync::Mutex<AppReconciler>>)>>;

/// How the controller runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ControllerOptions {
    /// The shard group and this replica's place in it.
    pub shard: ShardOptions,
    /// Watch this namespace only (all namespaces when `None`).
    pub watch_namespace: Option<String>,
    /// Relative `repoURL`s are resolved against this folder; remote ones are mirrored into the
    /// gitops-source cache.
    pub repo_root: PathBuf,
    /// Append one JSON line per reconcile start and end to this file (for audits and tests).
    pub journal: Option<PathBuf>,
    /// How many applications are reconciled at once.
    pub concurrency: u16,
    /// The field manager of the applies.
    pub field_manager: String,
}

impl ControllerOptions {
    /// Options for a replica of `shard`.
    pub fn new(shard: ShardOptions) -> Self {
        ControllerOptions {
            shard,
            watch_namespace: None,
            repo_root: PathBuf::from("."),
            journal: None,
            concurrency: 16,
            field_manager: "gitops".to_owned(),
        }
    }
}

/// Why a reconcile failed; written to the Application's status as `lastError`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControllerError {
    /// The spec does not check.
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    /// The source could not be read or rendered.
    #[error("{0}")]
    Source(String),
    /// Reading or writing the cluster failed.
    #[error("{0}")]
    Apply(String),
    /// The application moved to another replica during the reconcile, which stopped.
    #[error("{0} moved to another replica during the reconcile")]
    Lost(String),
    /// The reconcile ran past its time limit.
    #[error("the reconcile took longer than {0:?}")]
    Timeout(Duration),
    /// Writing the status failed.
    #[error("cannot write the status of {name}")]
    Status {
        /// `namespace/name`.
        name: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
}

struct Context {
    client: kube::Client,
    /// One target for every application, so its discovery cache is shared: a fresh target per
    /// reconcile would run discovery (a request per API group) for each application.
    target: KubeTarget,
    sources: Sources,
    reconcilers: Reconcilers,
    options: ControllerOptions,
    view: watch::Receiver<ShardView>,
    recorder: Recorder,
    journal: Option<std::sync::Mutex<std::fs::File>>,
}

/// What one sync did.
struct Synced {
    revision: String,
    in_sync: bool,
    changes: String,
    health: Health,
}

/// Runs the controller until `stop` resolves: joins the shard group, reconciles the owned
/// applications, and releases the Lease on the way out.
pub async fn run(
    client: kube::Client,
    options: ControllerOptions,
    stop: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), std::io::Error> {
    let membership = Membership::new(client.clone(), options.shard.clone());
    let view = membership.subscribe();
    let (stop_tx, stop_rx) = watch::channel(false);
    let until_stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stopped| *stopped).await;
    };
    let lease = tokio::spawn(membership.run(until_stopped(stop_rx.clone())));
    let journal = match &options.journal {
        Some(path) => Some(std::sync::Mutex::new(std::fs::OpenOptions::new().create(true).append(true).open(path)?)),
        None => None,
    };
    let reporter =
        Reporter { controller: "gitops-controller".to_owned(), instance: Some(options.shard.identity.clone()) };
    let apps: Api<ApplicationResource> = match &options.watch_namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let view_changes = futures::stream::unfold(view.clone(), |mut rx| async move {
        rx.changed().await.ok()?;
        Some(((), rx))
    });
    let concurrency = options.concurrency;
    let target = KubeTarget::new(client.clone(), "cluster");
    let cache = gitops_source::Cache::default_root();
    let sources = Sources::new(SourceOptions::default().base(&options.repo_root).cache(cache));
    let context = Arc::new(Context {
        recorder: Recorder::new(client.clone(), reporter),
        client,
        target,
        sources,
        reconcilers: Reconcilers::default(),
        options,
        view,
        journal,
    });
    let stopped = async move {
        stop.await;
        let _ = stop_tx.send(true);
    };
    Controller::new(apps, watcher::Config::default())
        .with_config(Config::default().concurrency(concurrency))
        .reconcile_all_on(view_changes)
        .graceful_shutdown_on(stopped)
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %error, "controller");
            }
        })
        .await;
    let _ = lease.await;
    Ok(())
}

/// Resolves when a reconcile must stop: its application moved to another replica (or this one
/// lost its Lease), or it ran past its time limit.
#[derive(Clone)]
struct Guard {
    view: watch::Receiver<ShardView>,
    key: String,
    deadline: tokio::time::Instant,
}

impl Guard {
    async fn lost(&self) -> ControllerError {
        let mut view = self.view.clone();
        let key = self.key.clone();
        let limit = self.deadline.saturating_duration_since(tokio::time::Instant::now());
        tokio::select! {
            () = tokio::time::sleep_until(self.deadline) => ControllerError::Timeout(limit),
            _ = view.wait_for(|v| !v.owns(&key)) => ControllerError::Lost(key),
        }
    }
}

fn error_policy(_: Arc<ApplicationResource>, _: &ControllerError, _: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(5))
}

fn now_millis() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

impl Context {
    fn journal(&self, application: &str, event: &str) {
        if let Some(file) = &self.journal {
            use std::io::Write;
            let line = serde_json::json!({
                "replica": self.options.shard.identity, "application": application, "event": event, "ms": now_millis(),
            });
            if let Ok(mut file) = file.lock() {
                let _ = writeln!(file, "{line}");
            }
        }
    }
}

async fn reconcile(app: Arc<ApplicationResource>, ctx: Arc<Context>) -> Result<Action, ControllerError> {
    let namespace = app.namespace().unwrap_or_else(|| "default".to_owned());
    let key = format!("{namespace}/{}", app.name_any());
    if !ctx.view.borrow().owns(&key) {
        return Ok(Action::await_change());
    }
    let limit = ctx.options.shard.lease_duration.saturating_sub(ctx.options.shard.renew_interval);
    let guard = Guard { view: ctx.view.clone(), key: key.clone(), deadline: tokio::time::Instant::now() + limit };
    ctx.journal(&key, "start");
    let result = sync(&app, &namespace, &ctx, &guard).await;
    ctx.journal(&key, "end");
    if let Err(ControllerError::Lost(_)) = result {
        // Another replica owns it now (or soon): leave its status to that one.
        return Ok(Action::await_change());
    }
    let interval = Application::from_spec(&app.name_any(), &app.spec, &format!("Application {key}"))
        .map_or(Duration::from_secs(300), |a| a.interval);
    let mut status =
        ResourceStatus { reconciled_by: Some(ctx.options.shard.identity.clone()), ..ResourceStatus::default() };
    status.observed_generation = app.metadata.generation;
    let (event_type, reason, note) = match &result {
        Ok(synced) => {
            status.sync = Some(if synced.in_sync { "Synced" } else { "OutOfSync" }.to_owned());
            status.health = Some(synced.health.to_string());
            let revision = synced.revision.clone();
            if synced.in_sync {
                status.last_synced_revision = Some(revision.clone());
            } else {
                status.last_synced_revision = app.status.as_ref().and_then(|s| s.last_synced_revision.clone());
            }
            let message = format!("{revision}: {}", synced.changes);
            status.conditions = vec![ResourceCondition::new(
                "Ready",
                synced.in_sync,
                if synced.in_sync { "Synced" } else { "OutOfSync" },
                &message,
            )];
            (EventType::Normal, if synced.in_sync { "Synced" } else { "OutOfSync" }, message)
        }
        Err(error) => {
            let message = error_chain(error);
            status.sync = app.status.as_ref().and_then(|s| s.sync.clone());
            status.last_synced_revision = app.status.as_ref().and_then(|s| s.last_synced_revision.clone());
            status.last_error = Some(message.clone());
            status.conditions = vec![ResourceCondition::new("Ready", false, "ReconcileFailed", &message)];
            (EventType::Warning, "ReconcileFailed", message)
        }
    };
    let api: Api<ApplicationResource> = Api::namespaced(ctx.client.clone(), &namespace);
    api.patch_status(&app.name_any(), &PatchParams::default(), &Patch::Merge(serde_json::json!({"status": status})))
        .await
        .map_err(|source| ControllerError::Status { name: key.clone(), source })?;
    let event = Event {
        type_: event_type,
        reason: reason.to_owned(),
        note: Some(note),
        action: "Reconcile".to_owned(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, &app.object_ref(&())).await {
        tracing::warn!(application = %key, error = %error, "event not published");
    }
    match result {
        Ok(_) => Ok(Action::requeue(interval)),
        Err(error) => Err(error),
    }
}

impl Context {
    /// The reconciler of `key`, made anew when its definition changed.
    fn reconciler(&self, key: &str, definition: &Application) -> Arc<tokio::sync::Mutex<AppReconciler>> {
        let mut reconcilers = self.reconcilers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((known, reconciler)) = reconcilers.get(key)
            && known == definition
        {
            return Arc::clone(reconciler);
        }
        let target: Arc<dyn Target> =
            Arc::new(self.target.clone().inventory_namespace(&definition.destination.namespace));
        let options = ReconcileOptions::default().field_manager(&self.options.field_manager).wait(false);
        let reconciler = Arc::new(tokio::sync::Mutex::new(AppReconciler::new(
            definition.clone(),
            target,
            self.sources.clone(),
            options,
        )));
        reconcilers.insert(key.to_owned(), (definition.clone(), Arc::clone(&reconciler)));
        reconciler
    }
}

/// One pass of gitops-reconcile's reconciler over the application: fetch, render when the path
/// changed, diff, and apply as the policy says. Stops (dropping the pass, which writes nothing
/// more) when the application moves to another replica or the pass runs past its limit.
async fn sync(
    app: &ApplicationResource,
    namespace: &str,
    ctx: &Context,
    guard: &Guard,
) -> Result<Synced, ControllerError> {
    let key = format!("{namespace}/{}", app.name_any());
    let definition = Application::from_spec(&app.name_any(), &app.spec, &format!("Application {key}"))?;
    let reconciler = ctx.reconciler(&key, &definition);
    let mut reconciler = tokio::select! {
        locked = reconciler.lock() => locked,
        error = guard.lost() => return Err(error),
    };
    let request = Request::new(Trigger::Interval);
    let outcome = tokio::select! {
        outcome = reconciler.reconcile(&request) => outcome,
        error = guard.lost() => return Err(error),
    };
    if let Some(error) = &outcome.error {
        return Err(ControllerError::Source(error_chain(error)));
    }
    let status = outcome.status;
    let in_sync = status.sync == SyncStatus::Synced;
    let changes = if outcome.applied {
        outcome.changes.summary()
    } else if in_sync {
        "in sync".to_owned()
    } else {
        "changes pending".to_owned()
    };
    let revision = status.synced_revision.or(status.last_attempted_revision).unwrap_or_default();
    Ok(Synced { revision, in_sync, changes, health: status.health })
}
