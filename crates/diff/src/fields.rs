//! The few fields the diff reads from every object before comparing it (identity, annotations),
//! read by scanning.
//!
//! [`Object`]'s accessors look fields up in the map's hash table: hashing the key and reading
//! the table costs more than scanning the handful of keys an object's top level and metadata
//! have, and touches memory the comparison itself never reads. Diffing 10,000 objects does this
//! a dozen times per object.

use gitops_core::{Object, ObjectRef};
use serde_json::{Map, Value};

use crate::walk::lookup;

/// A string field of a map.
fn string<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m str> {
    lookup(map, key).and_then(Value::as_str)
}

/// `apiVersion`, or `""`.
pub(crate) fn api_version(object: &Object) -> &str {
    string(object.as_map(), "apiVersion").unwrap_or_default()
}

/// `kind`, or `""`.
pub(crate) fn kind(object: &Object) -> &str {
    string(object.as_map(), "kind").unwrap_or_default()
}

/// The `metadata` mapping (an [`Object`] always has one).
pub(crate) fn metadata(object: &Object) -> Option<&Map<String, Value>> {
    lookup(object.as_map(), "metadata").and_then(Value::as_object)
}

/// The `metadata.annotations` mapping.
pub(crate) fn annotations(object: &Object) -> Option<&Map<String, Value>> {
    metadata(object).and_then(|m| lookup(m, "annotations")).and_then(Value::as_object)
}

/// One annotation's value.
pub(crate) fn annotation<'o>(object: &'o Object, key: &str) -> Option<&'o str> {
    annotations(object).and_then(|a| string(a, key))
}

/// The object's identity, as [`Object::object_ref`] gives it.
pub(crate) fn object_ref(object: &Object) -> ObjectRef {
    let metadata = metadata(object);
    let field = |key| metadata.and_then(|m| string(m, key));
    let namespace = field("namespace").filter(|ns| !ns.is_empty());
    ObjectRef::from_api_version(api_version(object), kind(object), namespace, field("name").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_answers_as_the_object_accessors() {
        let objects = [
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "n",
                "annotations": {"x": "1", "y": "2"}}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "namespace": ""}}),
            json!({"kind": "Thing", "apiVersion": "example.com/v1", "metadata": {"name": "b"}}),
        ];
        for value in objects {
            let object = Object::from_value(value).expect("valid");
            assert_eq!(object_ref(&object), object.object_ref());
            assert_eq!(api_version(&object), object.api_version());
            assert_eq!(kind(&object), object.kind());
            for key in ["x", "y", "z"] {
                assert_eq!(annotation(&object, key), object.annotation(key), "{key}");
            }
        }
    }
}
