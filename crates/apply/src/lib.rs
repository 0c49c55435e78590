//! Applying: running a [`Plan`](gitops_plan::Plan) against a [`Target`] and keeping the
//! application's [`Inventory`](gitops_core::Inventory).
//!
//! # Overview
//!
//! - [`Target`] is the extension point: an async, object-safe trait (`get`, `apply`, `delete`,
//!   inventory load/save) that a Kubernetes cluster, a folder or anything else implements.
//! - [`DirTarget`] writes hydrated manifests, one file per object; [`MemoryTarget`] keeps them in
//!   memory for tests and dry runs.
//! - [`Applier`] observes the live state for a desired set ([`Applier::observe`]) and runs a plan
//!   ([`Applier::run`]), returning a [`ChangeSet`](gitops_core::ChangeSet) — and, when it fails part
//!   way, what it did so far together with the error ([`ApplyError`]).
//!
//! # Example
//!
//! ```
//! use gitops_apply::{Applier, ApplierOptions, MemoryTarget};
//! use gitops_core::{parse_manifests, ManifestSet, yaml::ReadOptions};
//! use gitops_plan::{plan, PlanOptions};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
//! let desired = ManifestSet::from_manifests(parse_manifests(
//!     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n", "a.yaml", &ReadOptions::default())?)?;
//! let target = MemoryTarget::new();
//! let applier = Applier::new(&target, ApplierOptions::default().inventory("demo"));
//! let observed = applier.observe(&desired).await?;
//! let diff = gitops_diff::diff(&observed.desired, &observed.live, &observed.inventory);
//! let report = applier.run(&plan(&diff, &PlanOptions::default())?, observed).await?;
//! assert_eq!(report.changes.summary(), "1 created, 0 updated, 0 deleted, 0 unchanged");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).expect("example runs");
//! ```

#![deny(missing_docs)]

mod applier;
pub mod applyset;
mod dir;
pub mod health;
#[cfg(feature = "kube")]
mod kube;
mod memory;
mod target;

pub use applier::{
    Applier, ApplierOptions, ApplyError, ApplyReport, Event, EventSink, Failure, LIST_AT, Observed, RetryPolicy,
};
pub use dir::DirTarget;
#[cfg(feature = "kube")]
pub use kube::{ConnectOptions, KubeTarget};
pub use memory::MemoryTarget;
pub use target::{
    ApplyOptions, DeleteOptions, KindInfo, MemberChange, MemberChanges, Propagation, Target, TargetError,
    TargetErrorKind,
};
