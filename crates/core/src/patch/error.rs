//! `PatchError`: why a strategic merge failed, and where.

use std::fmt;

use serde_json::Value;

/// Why [`strategic_merge`](super::strategic_merge) or
/// [`create_strategic_patch`](super::create_strategic_patch) failed.
///
/// Every variant that concerns a position carries its `path` in the document, such as
/// `spec.template.spec.containers[name=app].ports[0]` (empty for the document itself).
/// [`PatchError::DeleteObject`] is not a failure but an outcome the caller must act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatchError {
    /// The patch says `$patch: delete` at its top level: the whole object is to be deleted.
    /// Kustomize drops the object from its output; an API client would send a DELETE.
    #[error("the patch deletes the whole object (`$patch: delete` at its top level)")]
    DeleteObject,
    /// The patch, or the original or modified document, is not a JSON object.
    #[error("{what} is {found}, not an object")]
    NotAnObject {
        /// Which document: `the patch`, `the original` or `the modified document`.
        what: &'static str,
        /// What it is instead.
        found: ValueKind,
    },
    /// An item of a list merged by key has no merge key (or, in a list with several keys, no
    /// value for the first one).
    #[error("{}: a list item has no merge key `{key}`", at(.path))]
    MissingMergeKey {
        /// The item: its list and index.
        path: String,
        /// The merge key the schema declares for the list.
        key: String,
    },
    /// A `$patch` directive with a value this position does not accept: anything but
    /// `replace`, `delete` or `merge`, and `merge` where apimachinery refuses it (maps, list items).
    #[error("{}: unknown or unsupported `$patch: {value}`", at(.path))]
    UnknownDirective {
        /// The map or list holding the directive.
        path: String,
        /// The directive's value, as JSON text when it is not a string.
        value: String,
    },
    /// A `$retainKeys`, `$setElementOrder/…` or `$deleteFromPrimitiveList/…` directive is
    /// malformed or contradicts the patch.
    #[error("{}: invalid `{directive}`: {reason}", at(.path))]
    InvalidDirective {
        /// The map holding the directive.
        path: String,
        /// The directive's key, such as `$setElementOrder/containers`.
        directive: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The patch gives a value of another kind than the original holds: a map for a list, a
    /// scalar for a map. Kustomize refuses every such change; apimachinery replaces the value, so
    /// in that mode only the list-item checks raise it.
    #[error("{}: the patch has {found} where the original has {expected}", at(.path))]
    TypeMismatch {
        /// The field whose values differ in kind.
        path: String,
        /// What the original holds there.
        expected: ValueKind,
        /// What the patch holds there.
        found: ValueKind,
    },
    /// A list merged by strategy holds items of different kinds, or lists of lists.
    #[error("{}: list items are {first} and {second}; a merged list holds items of one kind", at(.path))]
    MixedList {
        /// The list.
        path: String,
        /// The kind of its first item.
        first: ValueKind,
        /// The kind of an item that differs.
        second: ValueKind,
    },
    /// The schema gives a list of maps the `merge` strategy but no merge key.
    #[error("{}: the list merges by strategy but the schema declares no merge key", at(.path))]
    NoMergeKey {
        /// The list.
        path: String,
    },
}

impl PatchError {
    /// Whether the patch asks for the whole object to be deleted (see [`PatchError::DeleteObject`]).
    pub fn is_delete_object(&self) -> bool {
        matches!(self, PatchError::DeleteObject)
    }

    /// The path of the position where the merge failed, when the error has one.
    pub fn path(&self) -> Option<&str> {
        match self {
            PatchError::DeleteObject | PatchError::NotAnObject { .. } => None,
            PatchError::MissingMergeKey { path, .. }
            | PatchError::UnknownDirective { path, .. }
            | PatchError::InvalidDirective { path, .. }
            | PatchError::TypeMismatch { path, .. }
            | PatchError::MixedList { path, .. }
            | PatchError::NoMergeKey { path } => Some(path),
        }
    }
}

/// The kind of a JSON value, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// A list.
    List,
    /// A map (JSON object).
    Map,
}

impl ValueKind {
    /// The kind of `value`.
    pub fn of(value: &Value) -> ValueKind {
        match value {
            Value::Null => ValueKind::Null,
            Value::Bool(_) => ValueKind::Bool,
            Value::Number(_) => ValueKind::Number,
            Value::String(_) => ValueKind::String,
            Value::Array(_) => ValueKind::List,
            Value::Object(_) => ValueKind::Map,
        }
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueKind::Null => "null",
            ValueKind::Bool => "a boolean",
            ValueKind::Number => "a number",
            ValueKind::String => "a string",
            ValueKind::List => "a list",
            ValueKind::Map => "a map",
        })
    }
}

/// A path for messages: the document itself reads as `the document root`.
fn at(path: &str) -> &str {
    if path.is_empty() { "the document root" } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_path() {
        let err = PatchError::MissingMergeKey { path: "spec.containers[1]".into(), key: "name".into() };
        assert_eq!(err.to_string(), "spec.containers[1]: a list item has no merge key `name`");
        assert_eq!(err.path(), Some("spec.containers[1]"));
        let root = PatchError::UnknownDirective { path: String::new(), value: "explode".into() };
        assert_eq!(root.to_string(), "the document root: unknown or unsupported `$patch: explode`");
        assert!(PatchError::DeleteObject.is_delete_object());
    }
}
