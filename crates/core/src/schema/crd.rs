//! Reading a CustomResourceDefinition into a kind table and an arena of nodes.
//!
//! A CRD's `openAPIV3Schema` is a structural schema without `$ref`s, so every position gets its
//! own node. The conversion keeps what merging needs and ignores validation keywords:
//!
//! - `type` object / array / string / integer / number / boolean; no `type` means a struct when
//!   there are `properties`, a list when there are `items`, deduced otherwise;
//! - `properties`, `items`, `additionalProperties` (a schema, or `true` for deduced values);
//! - `x-kubernetes-preserve-unknown-fields` (undeclared fields are deduced),
//!   `x-kubernetes-int-or-string`, `x-kubernetes-embedded-resource` (the object gets
//!   `apiVersion`, `kind` and `metadata` like a root), and the merge extensions
//!   `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`;
//! - `allOf` / `anyOf` / `oneOf` only contribute their `properties` and `items`, so a schema
//!   that uses them still converts; the schema's own declarations win.
//!
//! An object with neither properties nor additional properties is deduced, like the built-in
//! FieldsV1 or RawExtension.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::builtin;
use super::node::{
    Arena, Attrs, BUILTIN, Body, BodyShape, DEDUCED, Fields, ListType, MapType, Node, SCALARS, ScalarType,
};
use super::{KindTable, SchemaError, Scope, sort_versions};
use crate::Object;

/// Deepest nesting of schemas accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 128;

const LIST_TYPE: &str = "x-kubernetes-list-type";
const LIST_MAP_KEYS: &str = "x-kubernetes-list-map-keys";
const MAP_TYPE: &str = "x-kubernetes-map-type";

/// The branches whose properties are merged into a schema's own.
const COMBINATORS: [&str; 3] = ["allOf", "anyOf", "oneOf"];

/// Reads `crd` into its kind table and the arena its root nodes live in.
pub(super) fn convert(crd: &Object) -> Result<(KindTable, Arena), SchemaError> {
    let name = crd.name();
    if crd.api_version() != "apiextensions.k8s.io/v1" || crd.kind() != "CustomResourceDefinition" {
        return Err(SchemaError::NotACrd {
            api_version: crd.api_version().to_string(),
            kind: crd.kind().to_string(),
            name: name.to_string(),
        });
    }
    let mut walker = Walker { crd: name, arena: Arena::default(), path: String::new() };
    let spec = walker.mapping(crd.as_map().get("spec"), "spec")?;
    let group = walker.string(spec, "group", "spec.group")?;
    let names = walker.mapping(spec.get("names"), "spec.names")?;
    let kind = walker.string(names, "kind", "spec.names.kind")?;
    let scope = match walker.string(spec, "scope", "spec.scope")? {
        "Namespaced" => Scope::Namespaced,
        "Cluster" => Scope::Cluster,
        _ => return Err(walker.invalid("spec.scope", "Namespaced or Cluster")),
    };
    let Some(versions) = spec.get("versions") else { return Err(walker.missing("spec.versions")) };
    let Value::Array(versions) = versions else { return Err(walker.invalid("spec.versions", "a list")) };

    let mut roots: Vec<(String, u32)> = Vec::new();
    for (at, version) in versions.iter().enumerate() {
        let path = format!("spec.versions[{at}]");
        let version = walker.mapping(Some(version), &path)?;
        let name = walker.string(version, "name", &format!("{path}.name"))?;
        let served = match version.get("served") {
            Some(Value::Bool(served)) => *served,
            Some(_) => return Err(walker.invalid(&format!("{path}.served"), "a boolean")),
            None => return Err(walker.missing(&format!("{path}.served"))),
        };
        let schema = match version.get("schema") {
            Some(Value::Object(schema)) => schema.get("openAPIV3Schema"),
            Some(_) => return Err(walker.invalid(&format!("{path}.schema"), "a mapping")),
            None => None,
        };
        if !served || roots.iter().any(|(known, _)| known == name) {
            continue;
        }
        walker.path = format!("{path}.schema.openAPIV3Schema");
        let root = walker.root(schema)?;
        roots.push((name.to_string(), root));
    }
    sort_versions(&mut roots);
    let table = KindTable { group: group.to_string(), kind: kind.to_string(), scope, versions: roots };
    Ok((table, walker.arena))
}

/// Converts schemas into nodes, keeping the JSON path of the schema at hand for errors.
struct Walker<'a> {
    crd: &'a str,
    arena: Arena,
    /// The path of the schema being converted.
    path: String,
}

impl Walker<'_> {
    fn missing(&self, path: &str) -> SchemaError {
        SchemaError::MissingField { crd: self.crd.to_string(), path: path.to_string() }
    }

    fn invalid(&self, path: &str, expected: &'static str) -> SchemaError {
        SchemaError::InvalidField { crd: self.crd.to_string(), path: path.to_string(), expected }
    }

    /// An error about `suffix` below the schema being converted.
    fn invalid_here(&self, suffix: &str, expected: &'static str) -> SchemaError {
        self.invalid(&format!("{}{suffix}", self.path), expected)
    }

    fn mapping<'v>(&self, value: Option<&'v Value>, path: &str) -> Result<&'v Map<String, Value>, SchemaError> {
        match value {
            Some(Value::Object(map)) => Ok(map),
            Some(_) => Err(self.invalid(path, "a mapping")),
            None => Err(self.missing(path)),
        }
    }

    fn string<'v>(&self, map: &'v Map<String, Value>, key: &str, path: &str) -> Result<&'v str, SchemaError> {
        match map.get(key) {
            Some(Value::String(text)) if !text.is_empty() => Ok(text),
            Some(_) => Err(self.invalid(path, "a non-empty string")),
            None => Err(self.missing(path)),
        }
    }

    /// Runs `f` with `segment` appended to the current path.
    fn nested<T>(
        &mut self,
        segment: &str,
        f: impl FnOnce(&mut Self) -> Result<T, SchemaError>,
    ) -> Result<T, SchemaError> {
        let len = self.path.len();
        self.path.push_str(segment);
        let result = f(self);
        self.path.truncate(len);
        result
    }

    /// The root node of a version: the schema's struct with `apiVersion`, `kind` and `metadata`.
    fn root(&mut self, schema: Option<&Value>) -> Result<u32, SchemaError> {
        let id = match schema {
            Some(schema) => self.position(schema, 0)?,
            None => BUILTIN | DEDUCED,
        };
        let shape = if id & BUILTIN == 0 { Some(&self.arena.body(id).shape) } else { None };
        let (mut fields, preserve_unknown) = match shape {
            Some(BodyShape::Struct { fields, preserve_unknown }) => (fields.to_vec(), *preserve_unknown),
            Some(BodyShape::Map(_)) => (Vec::new(), true),
            _ if Node::new(&self.arena, id).is_deduced() => (Vec::new(), true),
            _ => return Err(self.invalid_here(".type", "object")),
        };
        add_object_fields(&mut fields);
        let shape = BodyShape::Struct { fields: Fields::new(fields.into_boxed_slice()), preserve_unknown };
        if id & BUILTIN == 0 {
            self.arena.body_mut(id).shape = shape;
            Ok(id)
        } else {
            Ok(self.arena.push(Body { name: None, shape, map_type: None }, Attrs::default()))
        }
    }

    /// The node for a schema at any position.
    fn position(&mut self, schema: &Value, depth: usize) -> Result<u32, SchemaError> {
        let Value::Object(map) = schema else { return Err(self.invalid_here("", "a schema (a mapping)")) };
        if depth > MAX_DEPTH {
            return Err(self.invalid_here("", "nested at most 128 schemas deep"));
        }
        let attrs = self.attrs(map)?;
        let shape = self.shape(map, depth)?;
        if attrs == Attrs::default() {
            match shape {
                BodyShape::Deduced => return Ok(BUILTIN | DEDUCED),
                BodyShape::Scalar(scalar) => {
                    if let Some(&(id, _)) = SCALARS.iter().find(|(_, plain)| *plain == scalar) {
                        return Ok(BUILTIN | id);
                    }
                }
                _ => {}
            }
        }
        Ok(self.arena.push(Body { name: None, shape, map_type: None }, attrs))
    }

    fn shape(&mut self, map: &Map<String, Value>, depth: usize) -> Result<BodyShape, SchemaError> {
        if self.flag(map, "x-kubernetes-int-or-string")? {
            return Ok(BodyShape::Scalar(ScalarType::IntOrString));
        }
        let preserve_unknown = self.flag(map, "x-kubernetes-preserve-unknown-fields")?;
        let embedded = self.flag(map, "x-kubernetes-embedded-resource")?;
        let declared = match map.get("type") {
            None => None,
            Some(Value::String(declared)) => Some(declared.as_str()),
            Some(_) => return Err(self.invalid_here(".type", "a string")),
        };

        // The schema's own properties and items, then its branches'.
        let mut parts = vec![(String::new(), map)];
        for combinator in COMBINATORS {
            match map.get(combinator) {
                None => {}
                Some(Value::Array(branches)) => {
                    for (at, branch) in branches.iter().enumerate() {
                        let Value::Object(branch) = branch else {
                            return Err(self.invalid_here(&format!(".{combinator}[{at}]"), "a schema (a mapping)"));
                        };
                        parts.push((format!(".{combinator}[{at}]"), branch));
                    }
                }
                Some(_) => return Err(self.invalid_here(&format!(".{combinator}"), "a list of schemas")),
            }
        }
        let mut properties = Vec::new();
        for (prefix, part) in &parts {
            match part.get("properties") {
                None => {}
                Some(Value::Object(props)) => {
                    properties.extend(props.iter().map(|(name, schema)| (prefix.as_str(), name.as_str(), schema)));
                }
                Some(_) => return Err(self.invalid_here(&format!("{prefix}.properties"), "a mapping of schemas")),
            }
        }
        let items = parts.iter().find_map(|(prefix, part)| part.get("items").map(|items| (prefix.as_str(), items)));
        let additional = map.get("additionalProperties");

        let object = !properties.is_empty() || additional.is_some() || embedded;
        match declared {
            Some("object") => self.object(properties, additional, embedded, preserve_unknown, depth),
            None if object => self.object(properties, additional, embedded, preserve_unknown, depth),
            Some("array") => Ok(BodyShape::List(match items {
                Some((prefix, items)) => self.nested(&format!("{prefix}.items"), |w| w.position(items, depth + 1))?,
                None => BUILTIN | DEDUCED,
            })),
            None => match items {
                Some((prefix, items)) => {
                    Ok(BodyShape::List(self.nested(&format!("{prefix}.items"), |w| w.position(items, depth + 1))?))
                }
                None => Ok(BodyShape::Deduced),
            },
            Some("string") => Ok(BodyShape::Scalar(ScalarType::String)),
            Some("integer") => Ok(BodyShape::Scalar(ScalarType::Integer)),
            Some("number") => Ok(BodyShape::Scalar(ScalarType::Number)),
            Some("boolean") => Ok(BodyShape::Scalar(ScalarType::Boolean)),
            Some(_) => Err(self.invalid_here(".type", "one of object, array, string, integer, number, boolean")),
        }
    }

    fn object(
        &mut self,
        properties: Vec<(&str, &str, &Value)>,
        additional: Option<&Value>,
        embedded: bool,
        preserve_unknown: bool,
        depth: usize,
    ) -> Result<BodyShape, SchemaError> {
        let mut fields: Vec<(Box<str>, u32)> = Vec::with_capacity(properties.len());
        let mut segment = String::new();
        for (prefix, name, schema) in properties {
            segment.clear();
            let _ = write!(segment, "{prefix}.properties.{name}");
            let id = self.nested(&segment, |w| w.position(schema, depth + 1))?;
            fields.push((name.into(), id));
        }
        // Stable: where a branch repeats a property, the schema's own (listed first) wins.
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields.dedup_by(|later, earlier| later.0 == earlier.0);
        if embedded {
            add_object_fields(&mut fields);
        }
        if !fields.is_empty() {
            return Ok(BodyShape::Struct { fields: Fields::new(fields.into_boxed_slice()), preserve_unknown });
        }
        match additional {
            Some(schema @ Value::Object(_)) => {
                Ok(BodyShape::Map(self.nested(".additionalProperties", |w| w.position(schema, depth + 1))?))
            }
            Some(Value::Bool(true)) => Ok(BodyShape::Map(BUILTIN | DEDUCED)),
            Some(Value::Bool(false)) | None => Ok(BodyShape::Deduced),
            Some(_) => Err(self.invalid_here(".additionalProperties", "a schema or a boolean")),
        }
    }

    fn flag(&self, map: &Map<String, Value>, key: &str) -> Result<bool, SchemaError> {
        match map.get(key) {
            None => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(_) => Err(self.invalid_here(&format!(".{key}"), "a boolean")),
        }
    }

    fn attrs(&self, map: &Map<String, Value>) -> Result<Attrs, SchemaError> {
        let text = |key: &str, expected: &'static str| match map.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.as_str())),
            Some(_) => Err(self.invalid_here(&format!(".{key}"), expected)),
        };
        let list_type = text(LIST_TYPE, "atomic, set or map")?
            .map(|text| {
                ListType::parse(text).ok_or_else(|| self.invalid_here(&format!(".{LIST_TYPE}"), "atomic, set or map"))
            })
            .transpose()?;
        let map_type = text(MAP_TYPE, "granular or atomic")?
            .map(|text| {
                MapType::parse(text).ok_or_else(|| self.invalid_here(&format!(".{MAP_TYPE}"), "granular or atomic"))
            })
            .transpose()?;
        let keys_error = || self.invalid_here(&format!(".{LIST_MAP_KEYS}"), "a list of strings");
        let list_map_keys = match map.get(LIST_MAP_KEYS) {
            None => Vec::new(),
            Some(Value::Array(keys)) => {
                keys.iter().map(|key| key.as_str().map(str::to_string)).collect::<Option<_>>().ok_or_else(keys_error)?
            }
            Some(_) => return Err(keys_error()),
        };
        Ok(Attrs { list_type, list_map_keys, map_type, ..Attrs::default() })
    }
}

/// Declares `apiVersion` and `kind` as strings and `metadata` as ObjectMeta, replacing what the
/// schema says about them, as the API server does for roots and embedded resources.
fn add_object_fields(fields: &mut Vec<(Box<str>, u32)>) {
    let string = BUILTIN | SCALARS[0].0;
    let object_meta = BUILTIN | builtin::get().object_meta;
    fields.retain(|(name, _)| !matches!(&**name, "apiVersion" | "kind" | "metadata"));
    fields.extend([("apiVersion".into(), string), ("kind".into(), string), ("metadata".into(), object_meta)]);
    fields.sort_by(|a, b| a.0.cmp(&b.0));
}
