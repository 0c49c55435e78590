//! Continuous reconciliation: keep a target equal to Git.
//!
//! # Overview
//!
//! - [`Application`] says where manifests come from (a Git repository, a revision or semver
//!   range, a path), how they are rendered, where they go, and how they are kept in sync
//!   (automated or manual, prune, self-heal, retry), with ignore rules, a health timeout and
//!   `dependsOn` other applications. [`Applications`] reads them from `gitops.yaml`. Field names
//!   follow Argo CD's `Application` and Flux's `Kustomization`; docs/reconcile.md maps them.
//! - [`AppReconciler`] reconciles one application against one [`Target`](gitops_apply::Target):
//!   [`AppReconciler::reconcile`] fetches the source ([`Sources`]: local repositories in place,
//!   remote ones through gitops-source's cache), renders only when the source changed under the
//!   application's path, diffs, plans and applies as the policy says, and returns an [`Outcome`]
//!   with the [`ApplicationStatus`]: sync status, health (the worst of the objects), revisions,
//!   [`Condition`]s, the last error and the duration of each [`Stage`]. A commit that does not
//!   render keeps the last good state applied and reports the error.
//! - The pin a rollback sets ([`check_pin`], [`update_pin`]) is honoured: a pinned application
//!   stays at its revision until unpinned.
//! - [`StatusDir`] writes one JSON file per application, atomically; [`ApplicationStatus::status_patch`]
//!   is the body for a custom resource's status subresource.
//! - [`EventSink`] receives [`ReconcileEvent`]s ([`LogEvents`] logs them).
//!
//! # Example
//!
//! ```
//! use gitops_reconcile::Applications;
//! let text = "
//! applications:
//!   - name: db
//!     source: {repoURL: ., path: apps/db}
//!   - name: shop
//!     source: {repoURL: ., targetRevision: main, path: apps/shop}
//!     syncPolicy: {automated: {prune: true, selfHeal: true}}
//!     dependsOn: [db]
//! ";
//! let apps = Applications::parse(text, "gitops.yaml")?;
//! let order: Vec<&str> = apps.order()?.iter().map(|a| a.name.as_str()).collect();
//! assert_eq!(order, ["db", "shop"]);
//! assert!(apps.get("shop").unwrap().sync_policy.automated.as_ref().unwrap().self_heal);
//! # Ok::<(), gitops_reconcile::DefinitionError>(())
//! ```

mod application;
#[cfg(feature = "kube")]
pub mod controller;
#[cfg(feature = "kube")]
pub mod crd;
mod duration;
mod events;
mod load;
mod metrics;
mod pin;
mod reconcile;
mod runner;
mod server;
#[cfg(feature = "kube")]
pub mod shard;
mod source;
mod spec;
mod status;
mod webhook;

pub use application::{
    Application, Automated, Backoff, Destination, Health, LoadRestrictorName, Render, Retry, Source, SyncPolicy,
    TargetKind,
};
pub use duration::parse_duration;
pub use events::{EventReason, EventSink, EventType, LogEvents, ReconcileEvent};
pub use load::{Applications, DefinitionError};
pub use metrics::Metrics;
pub use pin::{PinAction, PinError, check_pin, pinned_commit, update_pin};
pub use reconcile::{AppReconciler, Outcome, ReconcileError, ReconcileOptions, Request, Trigger};
pub use runner::{Handle, LoopOptions, Reconciler, Targets};
pub use server::{Server, ServerOptions};
pub use source::{Fetched, SourceError, SourceOptions, Sources};
pub use spec::{ApplicationSpec, DestinationSpec, HealthSpec};
pub use status::{
    ApplicationStatus, Condition, ConditionType, Stage, StageDurations, StatusDir, StatusWriter, SyncStatus,
};
pub use webhook::{Delivery, Provider, Push, WebhookError, WebhookSecret, github_signature, parse_webhook};
