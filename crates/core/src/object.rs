//! `Object`: a Kubernetes-style object over a `serde_json` map whose key order is preserved.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::gvk::Gvk;
use crate::object_ref::ObjectRef;

/// Why a JSON value is not an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// The value is not a JSON/YAML mapping.
    #[error("expected a mapping, found {found}")]
    NotAMapping {
        /// What was found instead (`a list`, `a string`, ...).
        found: &'static str,
    },
    /// A required field is missing or empty.
    #[error("missing required field `{field}`")]
    MissingField {
        /// The dotted path of the field (`metadata.name`).
        field: &'static str,
    },
    /// A field has the wrong type.
    #[error("field `{field}` must be {expected}, found {found}")]
    WrongType {
        /// The dotted path of the field.
        field: &'static str,
        /// The expected type.
        expected: &'static str,
        /// What was found instead.
        found: &'static str,
    },
}

/// A Kubernetes-style object: `apiVersion`, `kind`, `metadata` and any other fields.
///
/// The object is a `serde_json` map with insertion order preserved, so an object read from YAML
/// keeps its author's field order until an emitter decides otherwise. Constructing one with
/// [`Object::from_value`] checks that `apiVersion`, `kind` and `metadata.name` are non-empty
/// strings, so the accessors below never fail.
///
/// ```
/// use gitops_core::Object;
/// use serde_json::json;
///
/// let obj = Object::from_value(json!({
///     "apiVersion": "apps/v1",
///     "kind": "Deployment",
///     "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
///     "spec": {"replicas": 2}
/// }))?;
/// assert_eq!(obj.kind(), "Deployment");
/// assert_eq!(obj.labels().get("app").map(String::as_str), Some("web"));
/// assert_eq!(obj.object_ref().to_string(), "Deployment/shop/web");
/// assert_eq!(obj.pointer("/spec/replicas"), Some(&json!(2)));
/// # Ok::<(), gitops_core::ObjectError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub struct Object {
    map: Map<String, Value>,
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn require_str(map: &Map<String, Value>, key: &str, field: &'static str) -> Result<(), ObjectError> {
    match map.get(key) {
        None | Some(Value::Null) => Err(ObjectError::MissingField { field }),
        Some(Value::String(s)) if s.is_empty() => Err(ObjectError::MissingField { field }),
        Some(Value::String(_)) => Ok(()),
        Some(other) => Err(ObjectError::WrongType { field, expected: "a string", found: type_name(other) }),
    }
}

impl Object {
    /// Checks and wraps a JSON value.
    ///
    /// `apiVersion`, `kind` and `metadata.name` must be non-empty strings; `metadata.namespace`,
    /// `metadata.labels` and `metadata.annotations`, when present, must have their Kubernetes types.
    pub fn from_value(value: Value) -> Result<Object, ObjectError> {
        let Value::Object(map) = value else {
            return Err(ObjectError::NotAMapping { found: type_name(&value) });
        };
        Object::from_map(map)
    }

    /// Checks and wraps a JSON map; see [`Object::from_value`].
    pub fn from_map(map: Map<String, Value>) -> Result<Object, ObjectError> {
        require_str(&map, "apiVersion", "apiVersion")?;
        require_str(&map, "kind", "kind")?;
        let metadata = match map.get("metadata") {
            None | Some(Value::Null) => {
                return Err(ObjectError::MissingField { field: "metadata.name" });
            }
            Some(Value::Object(m)) => m,
            Some(other) => {
                return Err(ObjectError::WrongType {
                    field: "metadata",
                    expected: "a mapping",
                    found: type_name(other),
                });
            }
        };
        require_str(metadata, "name", "metadata.name")?;
        match metadata.get("namespace") {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(other) => {
                return Err(ObjectError::WrongType {
                    field: "metadata.namespace",
                    expected: "a string",
                    found: type_name(other),
                });
            }
        }
        for (key, field) in [("labels", "metadata.labels"), ("annotations", "metadata.annotations")] {
            match metadata.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Object(entries)) => {
                    if let Some(bad) = entries.values().find(|v| !v.is_string()) {
                        return Err(ObjectError::WrongType {
                            field,
                            expected: "a map of strings",
                            found: type_name(bad),
                        });
                    }
                }
                Some(other) => {
                    return Err(ObjectError::WrongType {
                        field,
                        expected: "a map of strings",
                        found: type_name(other),
                    });
                }
            }
        }
        Ok(Object { map })
    }

    fn str_field(&self, key: &str) -> &str {
        self.map.get(key).and_then(Value::as_str).unwrap_or_default()
    }

    fn metadata_map(&self) -> &Map<String, Value> {
        self.map
            .get("metadata")
            .and_then(Value::as_object)
            .expect("Object::from_map checked that metadata is a mapping")
    }

    fn metadata_map_mut(&mut self) -> &mut Map<String, Value> {
        self.map
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .expect("Object::from_map checked that metadata is a mapping")
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        self.str_field("apiVersion")
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.str_field("kind")
    }

    /// Group, version and kind.
    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(self.api_version(), self.kind())
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.metadata_map().get("name").and_then(Value::as_str).unwrap_or_default()
    }

    /// `metadata.namespace`, when set and non-empty.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata_map().get("namespace").and_then(Value::as_str).filter(|ns| !ns.is_empty())
    }

    /// Sets (or, with `None`, removes) `metadata.namespace`.
    pub fn set_namespace(&mut self, namespace: Option<&str>) {
        let metadata = self.metadata_map_mut();
        match namespace {
            Some(ns) => {
                metadata.insert("namespace".to_owned(), Value::String(ns.to_owned()));
            }
            None => {
                metadata.remove("namespace");
            }
        }
    }

    /// The identity of this object.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::from_api_version(self.api_version(), self.kind(), self.namespace(), self.name())
    }

    /// The `metadata` mapping.
    pub fn metadata(&self) -> &Map<String, Value> {
        self.metadata_map()
    }

    fn string_map(&self, key: &str) -> BTreeMap<String, String> {
        self.metadata_map()
            .get(key)
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
            .unwrap_or_default()
    }

    /// `metadata.labels`, sorted by key.
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.string_map("labels")
    }

    /// `metadata.annotations`, sorted by key.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        self.string_map("annotations")
    }

    /// One annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata_map().get("annotations")?.get(key)?.as_str()
    }

    /// One label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.metadata_map().get("labels")?.get(key)?.as_str()
    }

    fn set_string_entry(&mut self, map_key: &str, key: &str, value: &str) {
        let metadata = self.metadata_map_mut();
        let entry = metadata.entry(map_key.to_owned()).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Value::Object(m) = entry {
            m.insert(key.to_owned(), Value::String(value.to_owned()));
        }
    }

    /// Sets one label.
    pub fn set_label(&mut self, key: &str, value: &str) {
        self.set_string_entry("labels", key, value);
    }

    /// Sets one annotation.
    pub fn set_annotation(&mut self, key: &str, value: &str) {
        self.set_string_entry("annotations", key, value);
    }

    /// A field by JSON pointer (`/spec/replicas`), as in [`serde_json::Value::pointer`].
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return None;
        }
        let rest = pointer.strip_prefix('/')?;
        let (first, tail) = rest.split_once('/').map_or((rest, ""), |(a, b)| (a, b));
        let first = first.replace("~1", "/").replace("~0", "~");
        let value = self.map.get(&first)?;
        if tail.is_empty() { Some(value) } else { value.pointer(&format!("/{tail}")) }
    }

    /// The underlying map.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// The underlying map, mutable. Changing `apiVersion`, `kind` or `metadata.name` to something
    /// that is not a non-empty string breaks the accessors' guarantees; prefer the setters.
    pub fn as_map_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.map
    }

    /// The object as a JSON value (a clone).
    pub fn to_value(&self) -> Value {
        Value::Object(self.map.clone())
    }

    /// The object as a JSON value.
    pub fn into_value(self) -> Value {
        Value::Object(self.map)
    }

    /// The underlying map.
    pub fn into_map(self) -> Map<String, Value> {
        self.map
    }
}

impl TryFrom<Value> for Object {
    type Error = ObjectError;
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        Object::from_value(value)
    }
}

impl From<Object> for Value {
    fn from(object: Object) -> Value {
        object.into_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rejects_missing_and_wrong_fields() {
        let cases = [
            (json!([]), "expected a mapping, found a list"),
            (json!({"kind": "A", "metadata": {"name": "a"}}), "missing required field `apiVersion`"),
            (json!({"apiVersion": "v1", "metadata": {"name": "a"}}), "missing required field `kind`"),
            (json!({"apiVersion": "v1", "kind": "A"}), "missing required field `metadata.name`"),
            (
                json!({"apiVersion": "v1", "kind": "A", "metadata": {"name": ""}}),
                "missing required field `metadata.name`",
            ),
            (
                json!({"apiVersion": "v1", "kind": "A", "metadata": {"name": 5}}),
                "field `metadata.name` must be a string, found a number",
            ),
            (
                json!({"apiVersion": "v1", "kind": "A", "metadata": []}),
                "field `metadata` must be a mapping, found a list",
            ),
            (
                json!({"apiVersion": "v1", "kind": "A", "metadata": {"name": "a", "labels": {"x": 1}}}),
                "field `metadata.labels` must be a map of strings, found a number",
            ),
        ];
        for (value, message) in cases {
            let err = Object::from_value(value).expect_err("invalid object accepted");
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn accessors_and_setters() {
        let mut obj = Object::from_value(json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": ""}
        }))
        .expect("valid");
        assert_eq!(obj.namespace(), None);
        obj.set_namespace(Some("team"));
        obj.set_label("app", "x");
        obj.set_annotation("a/b", "y");
        assert_eq!(obj.object_ref().to_string(), "ConfigMap/team/c");
        assert_eq!(obj.label("app"), Some("x"));
        assert_eq!(obj.annotation("a/b"), Some("y"));
        assert_eq!(obj.pointer("/metadata/annotations/a~1b"), Some(&json!("y")));
        obj.set_namespace(None);
        assert_eq!(obj.object_ref().to_string(), "ConfigMap/c");
    }
}
