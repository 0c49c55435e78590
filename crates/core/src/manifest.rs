//! Manifests: objects together with where they were read from.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::object::{Object, ObjectError};
use crate::object_ref::ObjectRef;
use crate::yaml::{ReadOptions, YamlError, parse_documents};

/// Where a manifest came from: a file, the document's index in it, and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// The file, as a path relative to the tree it was read from.
    pub file: String,
    /// Index of the document in the file, from 0.
    pub document: usize,
    /// 1-based line where the document starts.
    pub line: usize,
}

impl Origin {
    /// An origin for objects that were generated rather than read (`file` names the generator).
    pub fn generated(file: impl Into<String>) -> Self {
        Origin { file: file.into(), document: 0, line: 0 }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 { f.write_str(&self.file) } else { write!(f, "{}:{}", self.file, self.line) }
    }
}

/// An object and its origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The object.
    pub object: Object,
    /// Where it was read from.
    pub origin: Origin,
}

impl Manifest {
    /// The object's identity.
    pub fn object_ref(&self) -> ObjectRef {
        self.object.object_ref()
    }
}

/// Why a manifest file or set could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The file is not valid YAML (or exceeded the reading budget).
    #[error("{file}:{}:{}: invalid YAML", source.line, source.column)]
    Yaml {
        /// The file.
        file: String,
        /// The parser's error, with line and column.
        #[source]
        source: YamlError,
    },
    /// The file is not UTF-8 text.
    #[error("{file}: not UTF-8 text")]
    NotUtf8 {
        /// The file.
        file: String,
    },
    /// A document is not a Kubernetes object.
    #[error("{origin}: document {}{} is not a valid Kubernetes object", origin.document, describe(what.as_deref()))]
    Invalid {
        /// Where the document is.
        origin: Box<Origin>,
        /// What the document says it is (`Service "web"`), when it says.
        what: Option<String>,
        /// The missing or wrong field.
        #[source]
        source: ObjectError,
    },
    /// Two manifests have the same identity.
    #[error("{object} is defined twice: at {first} and at {second}")]
    Duplicate {
        /// The identity they share.
        object: Box<ObjectRef>,
        /// The first definition.
        first: Box<Origin>,
        /// The second definition.
        second: Box<Origin>,
    },
}

fn describe(what: Option<&str>) -> String {
    what.map(|w| format!(" ({w})")).unwrap_or_default()
}

/// Parses a YAML or JSON stream of Kubernetes objects.
///
/// Empty documents are skipped; `kind: List` and other `*List` kinds with `items` are expanded into
/// their items; every document must have `apiVersion`, `kind` and `metadata.name`.
///
/// ```
/// use gitops_core::{parse_manifests, yaml::ReadOptions};
/// let text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n---\n";
/// let manifests = parse_manifests(text, "list.yaml", &ReadOptions::default())?;
/// assert_eq!(manifests[0].object_ref().to_string(), "ConfigMap/a");
///
/// let err = parse_manifests("kind: Service\nmetadata: {name: web}\n", "svc.yaml", &ReadOptions::default())
///     .unwrap_err();
/// assert_eq!(format!("{err}"), "svc.yaml:1: document 0 (Service \"web\") is not a valid Kubernetes object");
/// # Ok::<(), gitops_core::ManifestError>(())
/// ```
pub fn parse_manifests(text: &str, file: &str, options: &ReadOptions) -> Result<Vec<Manifest>, ManifestError> {
    let documents =
        parse_documents(text, options).map_err(|source| ManifestError::Yaml { file: file.to_owned(), source })?;
    let mut manifests = Vec::with_capacity(documents.len());
    for doc in documents {
        let origin = Origin { file: file.to_owned(), document: doc.index, line: doc.line };
        match doc.value {
            Value::Null => {}
            Value::Object(mut map) if is_list(&map) => {
                let Some(Value::Array(items)) = map.remove("items") else {
                    continue;
                };
                for item in items {
                    manifests.push(to_manifest(item, &origin)?);
                }
            }
            value => manifests.push(to_manifest(value, &origin)?),
        }
    }
    Ok(manifests)
}

/// Parses bytes as [`parse_manifests`] does, refusing text that is not UTF-8.
pub fn parse_manifest_bytes(bytes: &[u8], file: &str, options: &ReadOptions) -> Result<Vec<Manifest>, ManifestError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ManifestError::NotUtf8 { file: file.to_owned() })?;
    parse_manifests(text, file, options)
}

fn is_list(map: &serde_json::Map<String, Value>) -> bool {
    map.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"))
        && map.get("items").is_some_and(Value::is_array)
}

fn to_manifest(value: Value, origin: &Origin) -> Result<Manifest, ManifestError> {
    let kind = value.get("kind").and_then(Value::as_str);
    let name = value.pointer("/metadata/name").and_then(Value::as_str);
    let what = match (kind, name) {
        (Some(k), Some(n)) => Some(format!("{k} {n:?}")),
        (Some(k), None) => Some(k.to_owned()),
        (None, Some(n)) => Some(format!("{n:?}")),
        (None, None) => None,
    };
    Object::from_value(value)
        .map(|object| Manifest { object, origin: origin.clone() })
        .map_err(|source| ManifestError::Invalid { origin: Box::new(origin.clone()), what, source })
}

/// An ordered set of manifests with unique identities.
///
/// Order is the order of insertion (render order), and lookups by [`ObjectRef`] are constant time.
///
/// ```
/// use gitops_core::{parse_manifests, ManifestSet, yaml::ReadOptions};
/// let a = parse_manifests("{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}", "a.yaml", &ReadOptions::default())?;
/// let b = parse_manifests("{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}", "b.yaml", &ReadOptions::default())?;
/// let mut set = ManifestSet::new();
/// set.extend(a)?;
/// let err = set.extend(b).unwrap_err();
/// assert_eq!(err.to_string(), "ConfigMap/a is defined twice: at a.yaml:1 and at b.yaml:1");
/// # Ok::<(), gitops_core::ManifestError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManifestSet {
    items: Vec<Manifest>,
    index: HashMap<ObjectRef, usize>,
}

impl ManifestSet {
    /// An empty set.
    pub fn new() -> Self {
        ManifestSet::default()
    }

    /// Adds a manifest; a second manifest with the same identity is an error naming both origins.
    pub fn insert(&mut self, manifest: Manifest) -> Result<(), ManifestError> {
        let key = manifest.object_ref();
        if let Some(&existing) = self.index.get(&key) {
            return Err(ManifestError::Duplicate {
                object: Box::new(key),
                first: Box::new(self.items[existing].origin.clone()),
                second: Box::new(manifest.origin),
            });
        }
        self.index.insert(key, self.items.len());
        self.items.push(manifest);
        Ok(())
    }

    /// Adds several manifests, stopping at the first duplicate.
    pub fn extend(&mut self, manifests: impl IntoIterator<Item = Manifest>) -> Result<(), ManifestError> {
        manifests.into_iter().try_for_each(|m| self.insert(m))
    }

    /// Builds a set from manifests.
    pub fn from_manifests(manifests: impl IntoIterator<Item = Manifest>) -> Result<Self, ManifestError> {
        let mut set = ManifestSet::new();
        set.extend(manifests)?;
        Ok(set)
    }

    /// The manifest with this identity.
    pub fn get(&self, object: &ObjectRef) -> Option<&Manifest> {
        self.index.get(object).map(|&i| &self.items[i])
    }

    /// Whether a manifest with this identity is in the set.
    pub fn contains(&self, object: &ObjectRef) -> bool {
        self.index.contains_key(object)
    }

    /// The manifests in insertion order.
    pub fn iter(&self) -> std::slice::Iter<'_, Manifest> {
        self.items.iter()
    }

    /// How many manifests the set holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The manifests, in insertion order.
    pub fn into_vec(self) -> Vec<Manifest> {
        self.items
    }

    /// The manifests as a slice, in insertion order.
    pub fn as_slice(&self) -> &[Manifest] {
        &self.items
    }
}

impl<'a> IntoIterator for &'a ManifestSet {
    type Item = &'a Manifest;
    type IntoIter = std::slice::Iter<'a, Manifest>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl IntoIterator for ManifestSet {
    type Item = Manifest;
    type IntoIter = std::vec::IntoIter<Manifest>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}
