//! Planning: turning a [`DiffSet`] into an ordered [`Plan`] of steps.
//!
//! Pure: no I/O, no async.
//!
//! # Order
//!
//! Applies come first, in a fixed order of kinds: Namespaces, then CustomResourceDefinitions,
//! then Helm's install order of the remaining built-in kinds (ServiceAccounts, Secrets and
//! ConfigMaps before workloads, workloads before Ingresses and webhooks), then kinds the table
//! does not know (custom resources), each group ordered by [`ObjectRef`]. Prunes come last, in
//! exactly the reverse order, so custom resources go before their CRD and the Namespace goes
//! last. Prunes are planned only when [`PlanOptions::prune`] is set; otherwise owned objects that
//! are no longer desired are listed as [`Plan::orphans`].
//!
//! Waves, hooks, dependency edges and prune guards come with the dependency graph (see
//! `docs/status.md`).
//!
//! # Example
//!
//! ```
//! use gitops_core::{Action, parse_manifests, Inventory, ManifestSet, yaml::ReadOptions};
//! use gitops_plan::{plan, PlanOptions};
//!
//! let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n---\n\
//!             apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
//! let desired = ManifestSet::from_manifests(parse_manifests(text, "app.yaml", &ReadOptions::default())?)?;
//! let diff = gitops_diff::diff(&desired, &Default::default(), &Inventory::default());
//! let plan = plan(&diff, &PlanOptions::default());
//! let order: Vec<String> = plan.steps.iter().map(|s| s.object.to_string()).collect();
//! assert_eq!(order, ["Namespace/shop", "Deployment/shop/web"]);
//! assert!(plan.steps.iter().all(|s| s.action == Action::Create));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod order;
mod plan;

pub use order::kind_rank;
pub use plan::{Plan, PlanOptions, Step, plan};

#[doc(no_inline)]
pub use gitops_diff::DiffSet;
