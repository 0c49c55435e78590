//! Planning: turning a [`DiffSet`] into a [`Plan`] of steps in waves, ordered the way Argo CD,
//! Flux, Helm and kapp would order them, each step saying what it waits for and why.
//!
//! Pure: no I/O, no async.
//!
//! # Overview
//!
//! [`plan`] takes the diff (what to create, update, leave or delete) and [`PlanOptions`], and
//! returns a [`Plan`]: [`Step`]s sorted by [`Step::wave`]. [`Plan::waves`] yields the waves, slices
//! of steps that may run at once; every [`Step::depends_on`] entry is in an earlier wave, with
//! its [`Reason`]. Objects left out on purpose are in [`Plan::skipped`], owned objects kept
//! because pruning is off in [`Plan::orphans`], and references to objects outside the plan in
//! [`Plan::warnings`]. A dependency cycle, or a prune of (too) many objects, is a [`PlanError`].
//!
//! A plan serializes (Secret values masked) and reads back: [`Plan::pin_live`] records the live
//! version of every object, and [`Plan::verify`] refuses a saved plan once the target or the
//! source moved (see [`LiveVersion`], [`StalePlan`]). [`output`] prints plans as text, Graphviz
//! and Mermaid.
//!
#![doc = include_str!("../../../docs/plan-rules.md")]
//!
//! # Example
//!
//! ```
//! use gitops_core::{Action, parse_manifests, Inventory, ManifestSet, yaml::ReadOptions};
//! use gitops_plan::{plan, PlanOptions, Reason};
//!
//! let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n\
//!             spec: {template: {spec: {containers: [], volumes: [{name: c, configMap: {name: cfg}}]}}}\n---\n\
//!             apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\n---\n\
//!             apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
//! let desired = ManifestSet::from_manifests(parse_manifests(text, "app.yaml", &ReadOptions::default())?)?;
//! let diff = gitops_diff::diff(&desired, &Default::default(), &Inventory::default());
//! let plan = plan(&diff, &PlanOptions::default())?;
//! let waves: Vec<Vec<String>> =
//!     plan.waves().map(|w| w.iter().map(|s| s.object.to_string()).collect()).collect();
//! assert_eq!(waves, [["Namespace/shop"], ["ConfigMap/shop/cfg"], ["Deployment/shop/web"]]);
//! let web = plan.steps.last().expect("three steps");
//! assert!(web.depends_on.iter().any(|d| d.reason == Reason::Mounts && d.object.name == "cfg"));
//! assert!(plan.steps.iter().all(|s| s.action == Action::Create));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod annotations;
mod artifact;
mod build;
mod error;
mod graph;
mod hash;
mod model;
mod order;
pub mod output;
mod refs;

pub use artifact::LiveVersion;
pub use build::{PlanOptions, plan, plan_with_desired};
pub use error::{CycleEdge, Moved, PlanError, StalePlan};
pub use model::{
    DeletePolicy, Dependency, Hook, HookEvent, HookOrigin, Phase, Plan, Reason, SkipReason, Skipped, Stage, Step,
    Warning,
};
pub use order::kind_rank;

#[doc(no_inline)]
pub use gitops_diff::DiffSet;
