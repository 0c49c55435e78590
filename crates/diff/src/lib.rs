//! Diffing: what a sync will change, object by object.
//!
//! Pure: no I/O, no async. The caller brings the desired objects (a rendered [`ManifestSet`]),
//! the live objects it read from the target, and the [`Inventory`] of what it applied before.
//!
//! # Overview
//!
//! - [`diff`] matches desired and live objects by [`ObjectRef`] and returns a [`DiffSet`]: one
//!   [`ObjectDiff`] per object, with an [`Action`] — `Create` (not live), `Update` (live and
//!   different, with the changed field paths), `Unchanged`, or `Delete` (in the inventory but no
//!   longer desired: a prune candidate).
//! - Fields the server owns — `status`, `metadata.managedFields`, `resourceVersion`, `uid`,
//!   `creationTimestamp`, `generation`, `selfLink`, `deletionTimestamp`, `deletionGracePeriodSeconds` —
//!   are left out of the comparison on both sides.
//!
//! This is a two-way comparison of whole objects. A three-way diff with schema-aware list
//! semantics, normalizers, ignore rules and Secret masking replaces it in a later version (see
//! `docs/status.md`).
//!
//! # Example
//!
//! ```
//! use std::collections::BTreeMap;
//! use gitops_core::{parse_manifests, Action, Inventory, ManifestSet, Object, yaml::ReadOptions};
//! use gitops_diff::diff;
//!
//! let desired = ManifestSet::from_manifests(parse_manifests(
//!     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\ndata: {k: v2}\n",
//!     "cm.yaml",
//!     &ReadOptions::default(),
//! )?)?;
//! let live_cm = Object::from_value(serde_json::json!({
//!     "apiVersion": "v1", "kind": "ConfigMap",
//!     "metadata": {"name": "a", "namespace": "x", "uid": "1234", "resourceVersion": "7"},
//!     "data": {"k": "v1"}
//! }))?;
//! let live: BTreeMap<_, _> = [(live_cm.object_ref(), live_cm)].into_iter().collect();
//! let set = diff(&desired, &live, &Inventory::default());
//! let d = &set.diffs[0];
//! assert_eq!((d.action, d.fields.clone()), (Action::Update, vec!["data.k".to_string()]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod compare;
mod diffset;

pub use compare::{changed_paths, strip_server_fields};
pub use diffset::{DiffSet, ObjectDiff, diff};

#[doc(no_inline)]
pub use gitops_core::{Action, Inventory, ManifestSet, ObjectRef};
