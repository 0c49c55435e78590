//! `DiffSet`, `ObjectDiff`, `FieldChange`: what the diff found, object by object and field by field.

use std::fmt;

use gitops_core::{Action, Object, ObjectRef};
use serde::Serialize;
use serde_json::Value;

use crate::path::FieldPath;

/// How a field changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChangeKind {
    /// Absent before, present after.
    Added,
    /// Present on both sides with different values.
    Changed,
    /// Present before, absent after.
    Removed,
}

impl ChangeKind {
    /// The opposite change: `Added` and `Removed` swap.
    #[must_use]
    pub fn inverse(self) -> ChangeKind {
        match self {
            ChangeKind::Added => ChangeKind::Removed,
            ChangeKind::Changed => ChangeKind::Changed,
            ChangeKind::Removed => ChangeKind::Added,
        }
    }
}

/// One field that differs, with its value on each side (`None`: absent).
///
/// In [`ObjectDiff::changes`], `before` is the live value and `after` the value a sync leaves.
/// In [`ObjectDiff::drift`], `before` is the value last applied and `after` the live value.
/// Values of Secrets are already masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FieldChange {
    /// Where the field is.
    pub path: FieldPath,
    /// Added, changed or removed.
    pub kind: ChangeKind,
    /// The value before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

impl FieldChange {
    /// A change of the field at `path`.
    pub fn new(path: FieldPath, kind: ChangeKind, before: Option<Value>, after: Option<Value>) -> FieldChange {
        FieldChange { path, kind, before, after }
    }
}

/// Why an object is left out of the sync ([`Action::Excluded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Exclusion {
    /// `kustomize.toolkit.fluxcd.io/ssa: Ignore` on the desired or the live object: Flux leaves
    /// the object alone.
    SsaIgnore,
    /// `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent` on an object that exists: Flux only
    /// creates it.
    SsaIfNotPresent,
    /// `argocd.argoproj.io/compare-options: IgnoreExtraneous` on a live object that is no longer
    /// desired: Argo CD does not count it as out of sync.
    IgnoreExtraneous,
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Exclusion::SsaIgnore => "kustomize.toolkit.fluxcd.io/ssa: Ignore",
            Exclusion::SsaIfNotPresent => "kustomize.toolkit.fluxcd.io/ssa: IfNotPresent",
            Exclusion::IgnoreExtraneous => "argocd.argoproj.io/compare-options: IgnoreExtraneous",
        })
    }
}

/// Where the last-applied object of a diff came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LastAppliedSource {
    /// The caller's record (the inventory's, or the target's copy of what was applied).
    Record,
    /// The live object's `managedFields` entries of the configured field manager.
    ManagedFields,
    /// The live object's `kubectl.kubernetes.io/last-applied-configuration` annotation (an object
    /// once applied client-side).
    Annotation,
}

/// The comparison of one object.
///
/// `Debug` and `Serialize` never show the desired object itself, whose Secret values are not
/// masked; the masked views are [`ObjectDiff::before`] and [`ObjectDiff::after`].
#[derive(Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ObjectDiff {
    /// The object.
    pub object: ObjectRef,
    /// What a sync would do to it.
    pub action: Action,
    /// The `apiVersion` to address the object with: the desired one, or the inventory's for deletes.
    pub api_version: String,
    /// Why the object is excluded, for [`Action::Excluded`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded: Option<Exclusion>,
    /// Where the last-applied object came from; `None` when there was none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_applied: Option<LastAppliedSource>,
    /// For updates, the changed field paths as text, in the order of [`ObjectDiff::changes`].
    #[serde(skip)]
    pub fields: Vec<String>,
    /// The intended changes: fields desired (or last applied) sets whose live value differs, and
    /// fields set last time that desired no longer sets (removals).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Drift: fields last applied whose live value has since changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<FieldChange>,
    /// The desired object, for what a sync does with it: apply it (creates, updates) or adopt it
    /// into the inventory (unchanged objects the inventory does not record yet). Absent for
    /// deletes, excluded objects, and unchanged objects already owned, unless they carry
    /// ordering annotations (hooks, sync waves, `gitops.dev/depends-on`, kapp change groups and
    /// rules), which a planner reads. Not masked: never
    /// display it.
    #[serde(skip)]
    pub desired: Option<Object>,
    /// The live object, normalized and masked: set for updates and deletes, absent otherwise.
    #[serde(skip)]
    pub before: Option<Value>,
    /// The object after a sync, normalized and masked: desired for creates, live with the
    /// changes applied for updates; absent for deletes and unchanged objects.
    #[serde(skip)]
    pub after: Option<Value>,
}

impl ObjectDiff {
    /// A diff with no changes, for `object` addressed with `api_version`.
    pub fn new(object: ObjectRef, action: Action, api_version: impl Into<String>) -> ObjectDiff {
        ObjectDiff {
            object,
            action,
            api_version: api_version.into(),
            excluded: None,
            last_applied: None,
            fields: Vec::new(),
            changes: Vec::new(),
            drift: Vec::new(),
            desired: None,
            before: None,
            after: None,
        }
    }

    /// The same diff with `desired` as the object to apply.
    #[must_use]
    pub fn with_desired(mut self, desired: Option<Object>) -> ObjectDiff {
        self.desired = desired;
        self
    }

    /// The same diff with these intended changes; [`ObjectDiff::fields`] follows them.
    #[must_use]
    pub fn with_changes(mut self, changes: Vec<FieldChange>) -> ObjectDiff {
        self.fields = changes.iter().map(|c| c.path.to_string()).collect();
        self.changes = changes;
        self
    }

    /// The fields set last time that desired no longer sets, which a sync removes.
    pub fn removals(&self) -> impl Iterator<Item = &FieldChange> {
        self.changes.iter().filter(|c| c.kind == ChangeKind::Removed)
    }

    /// The RFC 6902 JSON Patch that turns [`ObjectDiff::before`] (the normalized live object)
    /// into [`ObjectDiff::after`], for updates. Secret values in it are masked, like everything
    /// else a diff shows.
    pub fn patch(&self) -> Option<json_patch::Patch> {
        match (self.action, &self.before, &self.after) {
            (Action::Update, Some(before), Some(after)) => Some(json_patch::diff(before, after)),
            _ => None,
        }
    }
}

impl fmt::Debug for ObjectDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectDiff")
            .field("object", &self.object)
            .field("action", &self.action)
            .field("api_version", &self.api_version)
            .field("excluded", &self.excluded)
            .field("last_applied", &self.last_applied)
            .field("changes", &self.changes)
            .field("drift", &self.drift)
            .field("before", &self.before)
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

/// The comparison of a whole desired set with the live state and the inventory.
///
/// Desired objects come first, in render order, then prune candidates in [`ObjectRef`] order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DiffSet {
    /// One entry per desired or owned object.
    pub diffs: Vec<ObjectDiff>,
}

impl DiffSet {
    /// Whether any object would be created, updated or deleted.
    pub fn has_changes(&self) -> bool {
        self.diffs.iter().any(|d| d.action.is_write())
    }

    /// Whether any object drifted from what was last applied.
    pub fn has_drift(&self) -> bool {
        self.diffs.iter().any(|d| !d.drift.is_empty())
    }

    /// How many objects have this action.
    pub fn count(&self, action: Action) -> usize {
        self.diffs.iter().filter(|d| d.action == action).count()
    }

    /// The diff of one object.
    pub fn get(&self, object: &ObjectRef) -> Option<&ObjectDiff> {
        self.diffs.iter().find(|d| &d.object == object)
    }
}
