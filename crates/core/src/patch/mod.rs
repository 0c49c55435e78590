//! Strategic merge patches: applying them ([`strategic_merge`]) and computing them
//! ([`create_strategic_patch`]), driven by the [schema](crate::schema) table.
//!
//! A strategic merge patch is a partial object merged into an original one: maps merge field by
//! field, `null` deletes a field, and lists merge according to the schema — items of a list with
//! the `merge` strategy and a merge key (`containers` by `name`) merge item by item, scalar lists
//! with the `merge` strategy (`finalizers`) merge as sets, and every other list is replaced.
//! Directives refine that: `$patch: replace | delete | merge` on a map or list, `$retainKeys`,
//! `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
//!
//! # Overview
//!
//! - [`strategic_merge`] applies a patch to an object. Two tools define the semantics, and
//!   [`MergeOptions::list_order`] picks one: [`ListOrder::ApiMachinery`] reproduces
//!   `k8s.io/apimachinery`'s `strategicpatch` (what `kubectl patch` and the API server do),
//!   [`ListOrder::Kustomize`] reproduces Kustomize's kyaml `merge2` (what `kubectl kustomize`
//!   does). They differ on the position of new list items and on much else: see
//!   [`ListOrder`].
//! - [`create_strategic_patch`] computes the patch from an original to a modified object, as
//!   apimachinery's `CreateTwoWayMergePatch` does; applying it with `ListOrder::ApiMachinery`
//!   gives the modified object back.
//! - [`PatchError`] says what failed and where (`spec.template.spec.containers[name=app]`).
//!   A patch that deletes the whole object (`$patch: delete` at its top) is reported as
//!   [`PatchError::DeleteObject`], which the caller handles by dropping the object.
//!
//! The schema is the [`Node`] of the object's kind: `Schema::builtin().root_or_deduced(&gvk)`.
//! Kinds the table does not know are deduced: their maps merge and their lists are replaced.
//!
//! # Example
//!
//! ```
//! use gitops_core::Gvk;
//! use gitops_core::patch::{strategic_merge, create_strategic_patch, ListOrder, MergeOptions};
//! use gitops_core::schema::Schema;
//! use serde_json::json;
//!
//! let schema = Schema::builtin().root_or_deduced(&Gvk::new("apps", "v1", "Deployment"));
//! let original = json!({"spec": {"template": {"spec": {"containers": [
//!     {"name": "app", "image": "app:1"},
//!     {"name": "proxy", "image": "envoy:1"},
//! ]}}}});
//! let patch = json!({"spec": {"template": {"spec": {"containers": [
//!     {"name": "proxy", "image": "envoy:2"},
//!     {"name": "debug", "image": "busybox"},
//! ]}}}});
//! let names = |merged: &serde_json::Value| -> Vec<String> {
//!     let containers = merged["spec"]["template"]["spec"]["containers"].as_array().cloned();
//!     containers.into_iter().flatten().filter_map(|c| c["name"].as_str().map(str::to_owned)).collect()
//! };
//!
//! // apimachinery keeps the original's order and places a new item after its patch neighbour...
//! let merged = strategic_merge(&original, &patch, schema, &MergeOptions::default())?;
//! assert_eq!(names(&merged), ["app", "proxy", "debug"]);
//! assert_eq!(merged["spec"]["template"]["spec"]["containers"][1]["image"], "envoy:2");
//!
//! // ...Kustomize puts the patch's items first.
//! let kustomize = MergeOptions::default().list_order(ListOrder::Kustomize);
//! let merged = strategic_merge(&original, &patch, schema, &kustomize)?;
//! assert_eq!(names(&merged), ["proxy", "debug", "app"]);
//!
//! // A two-way patch turns the original into the modified object.
//! let modified = json!({"spec": {"template": {"spec": {"containers": [
//!     {"name": "proxy", "image": "envoy:2"},
//! ]}}}});
//! let two_way = create_strategic_patch(&original, &modified, schema)?;
//! assert_eq!(strategic_merge(&original, &two_way, schema, &MergeOptions::default())?, modified);
//! # Ok::<(), gitops_core::patch::PatchError>(())
//! ```
//!
//! # Design
//!
//! Both modes clone the original once and merge the patch into the clone in place; patch
//! values are cloned only where they land in the result, and error paths are rendered only when
//! a merge fails. Schema lookups are binary searches on the embedded table.
//!
//! Neither tool reads `x-kubernetes-map-type` or `x-kubernetes-list-type` when merging: an
//! `atomic` map such as `nodeSelector` still merges key by key, and a list with no patch
//! strategy is replaced whatever its list type. So neither does this module; those markers
//! belong to server-side apply.

mod apimachinery;
mod diff;
mod directive;
mod error;
mod kustomize;
mod path;
mod scalar;

use serde_json::Value;

pub use error::{PatchError, ValueKind};

use crate::schema::Node;

/// How [`strategic_merge`] behaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MergeOptions {
    /// Which implementation to follow: where new list items go, and every other point where
    /// apimachinery and Kustomize differ.
    pub list_order: ListOrder,
}

impl MergeOptions {
    /// The default options: [`ListOrder::ApiMachinery`].
    pub fn new() -> MergeOptions {
        MergeOptions::default()
    }

    /// Sets [`MergeOptions::list_order`].
    #[must_use]
    pub fn list_order(mut self, list_order: ListOrder) -> MergeOptions {
        self.list_order = list_order;
        self
    }
}

/// Which tool's strategic merge to reproduce.
///
/// The name says what differs most visibly — where items that only the patch has land in a
/// merged list — but the choice covers every difference measured between `kubectl patch`
/// (apimachinery) and `kubectl kustomize` (kyaml), kubectl v1.37.1 with Kustomize v5.8.1.
///
#[doc = include_str!("differences.md")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListOrder {
    /// `k8s.io/apimachinery/pkg/util/strategicpatch`, as `kubectl patch` and the API server apply
    /// patches. Use it for anything that talks to Kubernetes.
    #[default]
    ApiMachinery,
    /// Kustomize's kyaml `merge2`, as `kubectl kustomize` applies `patches` and
    /// `patchesStrategicMerge`. Use it to render kustomizations.
    Kustomize,
}

/// Applies the strategic merge patch `patch` to `original` and returns the result.
///
/// `schema` is the node of the object's kind (see the [module documentation](self)); both
/// values must be JSON objects. Directives never reach the result in
/// [`ListOrder::ApiMachinery`] mode, except where apimachinery itself keeps them (inside a list
/// it replaces wholesale); [`ListOrder::Kustomize`] keeps the ones Kustomize does not know
/// (`$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`) as ordinary fields, as
/// `kubectl kustomize` prints them.
///
/// A patch whose top level says `$patch: delete` returns [`PatchError::DeleteObject`]: the
/// object is to be removed, which is the caller's business.
///
/// ```
/// use gitops_core::Gvk;
/// use gitops_core::patch::{strategic_merge, MergeOptions, PatchError};
/// use gitops_core::schema::Schema;
/// use serde_json::json;
///
/// let schema = Schema::builtin().root_or_deduced(&Gvk::new("", "v1", "ConfigMap"));
/// let original = json!({"metadata": {"name": "settings", "labels": {"tier": "web", "old": "x"}}});
/// let patch = json!({"metadata": {"labels": {"old": null, "team": "shop"}}});
/// let merged = strategic_merge(&original, &patch, schema, &MergeOptions::default())?;
/// assert_eq!(merged, json!({"metadata": {"name": "settings", "labels": {"tier": "web", "team": "shop"}}}));
///
/// let delete = json!({"$patch": "delete"});
/// let outcome = strategic_merge(&original, &delete, schema, &MergeOptions::default());
/// assert!(outcome.is_err_and(|err| err.is_delete_object()));
/// # Ok::<(), PatchError>(())
/// ```
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    schema: Node<'_>,
    options: &MergeOptions,
) -> Result<Value, PatchError> {
    let patch = object(patch, "the patch")?;
    let original = object(original, "the original")?;
    match options.list_order {
        ListOrder::ApiMachinery => apimachinery::merge(original, patch, schema),
        ListOrder::Kustomize => kustomize::merge(original, patch, schema),
    }
}

/// Computes a strategic merge patch that turns `original` into `modified`, as apimachinery's
/// `CreateTwoWayMergePatch` does: changed and added fields as they are in `modified`, `null` for
/// removed fields, `$patch: delete` items for removed items of keyed lists,
/// `$deleteFromPrimitiveList/<list>` for removed scalars of merged scalar lists,
/// `$setElementOrder/<list>` wherever a merged list changes, and `$retainKeys` in maps whose
/// position has the `retainKeys` strategy.
///
/// Applying the patch to `original` with [`ListOrder::ApiMachinery`] gives `modified` back
/// when the keyed lists of both have unique keys and their merged scalar lists unique items.
///
/// ```
/// use gitops_core::Gvk;
/// use gitops_core::patch::create_strategic_patch;
/// use gitops_core::schema::Schema;
/// use serde_json::json;
///
/// let schema = Schema::builtin().root_or_deduced(&Gvk::new("apps", "v1", "Deployment"));
/// let original = json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"replicas": 2}});
/// let modified = json!({"metadata": {"finalizers": ["b", "c"]}, "spec": {}});
/// let patch = create_strategic_patch(&original, &modified, schema)?;
/// assert_eq!(patch, json!({
///     "metadata": {
///         "finalizers": ["c"],
///         "$deleteFromPrimitiveList/finalizers": ["a"],
///         "$setElementOrder/finalizers": ["b", "c"],
///     },
///     "spec": {"replicas": null},
/// }));
/// # Ok::<(), gitops_core::patch::PatchError>(())
/// ```
pub fn create_strategic_patch(original: &Value, modified: &Value, schema: Node<'_>) -> Result<Value, PatchError> {
    diff::create(object(original, "the original")?, object(modified, "the modified document")?, schema)
}

/// The node of field `name` below `node`, deduced when the schema does not declare it (both
/// tools treat unknown fields as untyped: maps merge, lists are replaced).
fn field_node<'s>(node: Node<'s>, name: &str) -> Node<'s> {
    node.field(name).unwrap_or_else(Node::deduced)
}

/// `value` as an object, or [`PatchError::NotAnObject`] naming `what` document it is.
fn object<'v>(value: &'v Value, what: &'static str) -> Result<&'v serde_json::Map<String, Value>, PatchError> {
    value.as_object().ok_or(PatchError::NotAnObject { what, found: ValueKind::of(value) })
}
