//! Continuous reconciliation: the `Application` definition, read from `gitops.yaml`.
//!
//! An [`Application`] says where manifests come from (a Git repository, a revision, a path), how
//! they are rendered, where they go, and how they are kept in sync (automated or manual, prune,
//! self-heal, retry), with ignore rules, a health timeout and `dependsOn` other applications.
//! Field names follow Argo CD's `Application` and Flux's `Kustomization`; docs/reconcile.md maps
//! them.
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
mod load;
#[cfg(feature = "kube")]
pub mod shard;
mod spec;

pub use application::{
    Application, Automated, Backoff, Destination, Health, LoadRestrictorName, Render, Retry, Source, SyncPolicy,
    TargetKind,
};
pub use duration::parse_duration;
pub use load::{Applications, DefinitionError};
pub use spec::{ApplicationSpec, DestinationSpec, HealthSpec};
