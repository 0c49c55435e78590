//! Diffing: what a sync will change, object by object and field by field, and what drifted —
//! and nothing else.
//!
//! Pure: no I/O, no async. The caller brings the desired objects (a rendered [`ManifestSet`]),
//! the live objects it read from the target, what it applied last, and the [`Inventory`] of
//! what the application owns.
//!
//! # Overview
//!
//! - [`ThreeWayDiff`] holds the options (schema, [`IgnoreRule`]s, [`Normalizer`]s, field
//!   manager) and compares [`Inputs`] into a [`DiffSet`]: one [`ObjectDiff`] per desired or owned
//!   object, matched by [`ObjectRef`], with an [`Action`] — `Create`, `Update`, `Unchanged`,
//!   `Delete` (owned, no longer desired: a prune candidate) or `Excluded` (an annotation says so,
//!   see [`Exclusion`]). [`diff`] is the two-way shortcut for targets that store exactly what
//!   was applied.
//! - Each [`ObjectDiff`] lists its intended [`FieldChange`]s (what the sync changes, removals
//!   included) and its drift (what changed live since the last apply), with [`FieldPath`]s that
//!   name list items by key (`containers[name=web].image`).
//! - Renderings: a unified YAML diff ([`unified`]), a per-field [`summary`]
//!   (`spec.replicas: 2 -> 3`), JSON ([`to_json`]) and RFC 6902 patches ([`patches`],
//!   [`ObjectDiff::patch`]), styled by [`OutputOptions`]. Secret values are masked in all.
//! - Extension points: [`Normalizer`] (rewrite objects before comparing) and [`IgnoreRule`]
//!   (Argo CD `ignoreDifferences`, Flux drift ignore rules). See `docs/diff.md` for the
//!   design, the annotations honoured, and the measured performance.
//!
//! # Semantics
//!
//! Three objects meet per object: *desired* (rendered from Git now), *live* (from the target)
//! and *last applied* (what this engine applied last: the caller's record, else this field
//! manager's `managedFields` entries, else the `kubectl.kubernetes.io/last-applied-configuration`
//! annotation). A field is an intended change when desired sets it to something live does not
//! have, or when it was applied last time and desired no longer sets it (a removal). A field only
//! live has, which was not applied last time — a server default, a value another controller set
//! — is never a change. Drift is a field applied last time whose live value differs now.
//! Without a last-applied object, only what desired sets is compared.
//!
//! Before comparing, the diff ignores what the server owns (`status`, `managedFields`,
//! `resourceVersion`, `uid`, `generation`, `creationTimestamp`, …), compares quantities by value
//! (`500m` = `0.5`, `1Gi` = `1024Mi`), numbers by value (`1` = `1.0`), int-or-string fields by
//! value (`8080` = `"8080"`), takes empty maps, lists and (in built-in structs) strings as
//! absent, folds a Secret's `stringData` into `data`, and matches lists as the schema says
//! (server-side apply's `list-type`): keyed lists by key and sets by value, whatever the order,
//! atomic lists whole. Ignore rules then take fields out of the comparison, and user normalizers
//! rewrite what remains.
//!
//! Secret values are masked before anything leaves the diff: equal values share a placeholder
//! (`<masked-1>`), different values get different ones. Only [`ObjectDiff::desired`], the object
//! a sync applies, holds real values; `Debug` and `Serialize` skip it.
//!
//! # Example
//!
//! ```
//! use std::collections::BTreeMap;
//! use gitops_core::{parse_manifests, Action, Inventory, ManifestSet, Object, yaml::ReadOptions};
//! use gitops_diff::{summary, Inputs, OutputOptions, ThreeWayDiff};
//!
//! let desired = ManifestSet::from_manifests(parse_manifests(
//!     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n\
//!      spec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: web\n        \
//!      image: nginx:1.27\n        resources: {limits: {cpu: 500m}}\n",
//!     "web.yaml",
//!     &ReadOptions::default(),
//! )?)?;
//! let live_web = Object::from_value(serde_json::json!({
//!     "apiVersion": "apps/v1", "kind": "Deployment",
//!     "metadata": {"name": "web", "namespace": "shop", "uid": "1234", "generation": 4},
//!     "spec": {"replicas": 2, "progressDeadlineSeconds": 600, "template": {"spec": {
//!         "containers": [{"name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
//!                         "resources": {"limits": {"cpu": "0.5"}}}],
//!         "restartPolicy": "Always"}}},
//!     "status": {"replicas": 2}
//! }))?;
//! let live: BTreeMap<_, _> = [(live_web.object_ref(), live_web)].into_iter().collect();
//! let inventory = Inventory::default();
//! let set = ThreeWayDiff::default().diff(&Inputs::new(&desired, &live, &inventory));
//! assert_eq!(set.diffs[0].action, Action::Update);
//! // Server defaults, status and `0.5` for `500m` are no changes; the replica count is.
//! assert_eq!(summary(&set, &OutputOptions::default()), "~ Deployment/shop/web\n    spec.replicas: 2 -> 3\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Server-side dry-run diffs (`diff --server-side`) need an API server target and are not
//! here yet.

#![deny(missing_docs)]

mod diffset;
mod fields;
mod ignore;
mod index;
mod keys;
mod last_applied;
mod managed;
mod mask;
mod normalize;
mod output;
mod path;
mod scalar;
mod text;
mod three_way;
mod walk;

#[cfg(test)]
mod laws;

pub use diffset::{ChangeKind, DiffSet, Exclusion, FieldChange, LastAppliedSource, ObjectDiff};
pub use ignore::{IgnoreRule, IgnoreRuleError, PathExpr};
pub use last_applied::{last_applied_from_annotation, last_applied_from_managed_fields};
pub use normalize::{Normalizer, Side, strip_server_fields};
pub use output::{OutputOptions, patches, summary, to_json, unified};
pub use path::{FieldPath, Segment};
pub use three_way::{Inputs, ThreeWayDiff, diff};

#[doc(no_inline)]
pub use gitops_core::{Action, Inventory, ManifestSet, ObjectRef};
