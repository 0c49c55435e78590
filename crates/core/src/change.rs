//! What a sync does to each object (`Action`), and what it did (`Change`, `ChangeSet`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::object_ref::ObjectRef;

/// What happens, or happened, to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Action {
    /// Desired and absent: created.
    Create,
    /// Desired and different: updated.
    Update,
    /// Desired and already equal: left alone.
    Unchanged,
    /// Owned (in the inventory) but no longer desired: deleted by prune.
    Delete,
    /// Left out on purpose (an ignore rule, a `Prune=false` opt-out, a skipped hook).
    Excluded,
}

impl Action {
    /// The one-character symbol used in plans: `+`, `~`, `=`, `-`, `!`.
    pub fn symbol(self) -> char {
        match self {
            Action::Create => '+',
            Action::Update => '~',
            Action::Unchanged => '=',
            Action::Delete => '-',
            Action::Excluded => '!',
        }
    }

    /// Whether the action writes to the target.
    pub fn is_write(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Delete => "delete",
            Action::Excluded => "excluded",
        })
    }
}

/// One thing a sync did (or, in a dry run, would do) to one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The object.
    pub object: ObjectRef,
    /// What was done.
    pub action: Action,
    /// For updates, the changed field paths (`spec.replicas`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// Everything a sync did, in the order it did it.
///
/// ```
/// use gitops_core::{Action, Change, ChangeSet, ObjectRef};
/// let mut set = ChangeSet::default();
/// set.push(Change { object: ObjectRef::new("", "ConfigMap", Some("a"), "c"), action: Action::Create, fields: vec![] });
/// assert_eq!(set.count(Action::Create), 1);
/// assert_eq!(set.summary(), "1 created, 0 updated, 0 deleted, 0 unchanged");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// The changes, in order.
    pub changes: Vec<Change>,
}

impl ChangeSet {
    /// Appends a change.
    pub fn push(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// How many changes have this action.
    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    /// Whether anything was written.
    pub fn has_writes(&self) -> bool {
        self.changes.iter().any(|c| c.action.is_write())
    }

    /// `N created, N updated, N deleted, N unchanged`.
    pub fn summary(&self) -> String {
        format!(
            "{} created, {} updated, {} deleted, {} unchanged",
            self.count(Action::Create),
            self.count(Action::Update),
            self.count(Action::Delete),
            self.count(Action::Unchanged)
        )
    }
}
