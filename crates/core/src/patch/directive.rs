//! The patch directives: `$patch`, `$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`.

use serde_json::{Map, Value};

use super::error::PatchError;
use super::path::Path;

/// The key of the map-level and list-level directive.
pub(crate) const PATCH: &str = "$patch";
/// The key listing the fields a map keeps (fields absent from the list are cleared).
pub(crate) const RETAIN_KEYS: &str = "$retainKeys";
/// The prefix of the parallel list giving a merged list's final order.
pub(crate) const SET_ELEMENT_ORDER: &str = "$setElementOrder";
/// The prefix of the parallel list of scalars to delete from a merged scalar list.
pub(crate) const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// A `$patch` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Directive {
    /// Replace the map or list with the patch's content.
    Replace,
    /// Delete the map, list or list item.
    Delete,
    /// Merge (the default, stated explicitly).
    Merge,
}

impl Directive {
    /// Parses a `$patch` value; anything but the three known strings is an error at `path`.
    pub(crate) fn parse(value: &Value, path: &Path<'_>) -> Result<Directive, PatchError> {
        match value.as_str() {
            Some("replace") => Ok(Directive::Replace),
            Some("delete") => Ok(Directive::Delete),
            Some("merge") => Ok(Directive::Merge),
            Some(other) => Err(unknown(other, path)),
            None => Err(unknown(&value.to_string(), path)),
        }
    }

    /// The directive of a map, if it has one.
    pub(crate) fn of_map(map: &Map<String, Value>, path: &Path<'_>) -> Result<Option<Directive>, PatchError> {
        map.get(PATCH).map(|value| Directive::parse(value, path)).transpose()
    }
}

/// An [`PatchError::UnknownDirective`] for `value` at `path`.
pub(crate) fn unknown(value: &str, path: &Path<'_>) -> PatchError {
    PatchError::UnknownDirective { path: path.render(), value: value.to_string() }
}

/// An [`PatchError::InvalidDirective`].
pub(crate) fn invalid(path: &Path<'_>, directive: &str, reason: impl Into<String>) -> PatchError {
    PatchError::InvalidDirective { path: path.render(), directive: directive.to_string(), reason: reason.into() }
}

/// The list field a parallel-list key names: `$setElementOrder/containers` → `containers`.
/// `Ok(None)` when `key` does not start with `prefix`; an error when it starts with it but has
/// no `/` right after (apimachinery refuses `$setElementOrderX/…` the same way).
pub(crate) fn parallel_list_field<'k>(
    key: &'k str,
    prefix: &str,
    path: &Path<'_>,
) -> Result<Option<&'k str>, PatchError> {
    match key.strip_prefix(prefix) {
        None => Ok(None),
        Some(rest) => match rest.strip_prefix('/') {
            Some(field) => Ok(Some(field)),
            None => Err(invalid(path, key, format!("expected `{prefix}/<field>`"))),
        },
    }
}

/// Whether `key` is one of the directive keys a merged map never keeps.
pub(crate) fn is_directive_key(key: &str) -> bool {
    key == PATCH
        || key == RETAIN_KEYS
        || key.starts_with(SET_ELEMENT_ORDER)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_directives_and_parallel_keys() {
        assert_eq!(Directive::parse(&json!("delete"), &Path::ROOT), Ok(Directive::Delete));
        assert!(Directive::parse(&json!(3), &Path::ROOT).is_err());
        let field = parallel_list_field("$setElementOrder/containers", SET_ELEMENT_ORDER, &Path::ROOT);
        assert_eq!(field, Ok(Some("containers")));
        assert_eq!(parallel_list_field("spec", SET_ELEMENT_ORDER, &Path::ROOT), Ok(None));
        assert!(parallel_list_field("$setElementOrderX", SET_ELEMENT_ORDER, &Path::ROOT).is_err());
        assert!(is_directive_key("$deleteFromPrimitiveList/finalizers"));
        assert!(!is_directive_key("finalizers"));
    }
}
