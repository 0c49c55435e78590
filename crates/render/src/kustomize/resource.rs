//! Resources as a Kustomize build tracks them: the object plus its build history.

use std::fmt;

use gitops_core::{Origin, is_cluster_scoped, split_api_version};
use serde_json::{Map, Value};

/// A resource's identity during a build, version included (Kustomize's `ResId`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ResId {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
    pub(crate) name: String,
    /// Empty when the object has no namespace.
    pub(crate) namespace: String,
}

impl ResId {
    /// The namespace with `""` read as `default`, as Kustomize compares them.
    pub(crate) fn effective_namespace(&self) -> &str {
        if self.namespace.is_empty() { "default" } else { &self.namespace }
    }

    pub(crate) fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped(&self.group, &self.kind)
    }

    pub(crate) fn ns_equals(&self, other: &ResId) -> bool {
        self.effective_namespace() == other.effective_namespace()
    }

    /// Whether a field spec's group/version/kind (empty = any) selects this id.
    pub(crate) fn selected_by(&self, group: &str, version: &str, kind: &str) -> bool {
        (group.is_empty() || group == self.group)
            && (version.is_empty() || version == self.version)
            && (kind.is_empty() || kind == self.kind)
    }

    /// A key equal for exactly the ids [`ResId::same_object`] calls equal, for hashing.
    pub(crate) fn object_key(&self) -> (String, String, String, String, String) {
        let namespace = if self.is_cluster_scoped() { String::new() } else { self.effective_namespace().to_owned() };
        (self.group.clone(), self.version.clone(), self.kind.clone(), self.name.clone(), namespace)
    }

    /// Two ids name the same object for Kustomize (namespaces compared effectively).
    pub(crate) fn same_object(&self, other: &ResId) -> bool {
        self.group == other.group
            && self.version == other.version
            && self.kind == other.kind
            && self.name == other.name
            && (self.is_cluster_scoped() || self.ns_equals(other))
    }
}

/// Kustomize's way of printing an id in messages: `ConfigMap.v1.[noGrp]/name.[noNs]`.
impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.group.is_empty() { "[noGrp]" } else { &self.group };
        let namespace = if self.namespace.is_empty() { "[noNs]" } else { &self.namespace };
        write!(f, "{}.{}.{}/{}.{}", self.kind, self.version, group, self.name, namespace)
    }
}

/// How a generated ConfigMap or Secret combines with one of the same name from a base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Behavior {
    Create,
    Merge,
    Replace,
}

/// One resource of a build.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub(crate) map: Map<String, Value>,
    pub(crate) origin: Origin,
    /// Earlier ids, oldest first; empty when the resource was never renamed.
    pub(crate) prev_ids: Vec<ResId>,
    /// Name prefixes and suffixes applied so far, innermost first.
    pub(crate) prefixes: Vec<String>,
    pub(crate) suffixes: Vec<String>,
    /// For generated resources: how to combine with a base's, and whether a hash suffix is due.
    pub(crate) behavior: Option<Behavior>,
    pub(crate) needs_hash: bool,
    /// For generated resources, the built-in generator (`ConfigMapGenerator`, `SecretGenerator`);
    /// `origin.file` is then the kustomization that configured it.
    pub(crate) generated_by: Option<&'static str>,
}

fn str_at<'a>(map: &'a Map<String, Value>, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or_default()
}

impl Resource {
    pub(crate) fn new(map: Map<String, Value>, origin: Origin) -> Resource {
        Resource {
            map,
            origin,
            prev_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            behavior: None,
            needs_hash: false,
            generated_by: None,
        }
    }

    pub(crate) fn kind(&self) -> &str {
        str_at(&self.map, "kind")
    }

    pub(crate) fn api_version(&self) -> &str {
        str_at(&self.map, "apiVersion")
    }

    fn metadata(&self) -> Option<&Map<String, Value>> {
        self.map.get("metadata").and_then(Value::as_object)
    }

    pub(crate) fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let entry = self.map.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        entry.as_object_mut().expect("metadata was just made a mapping")
    }

    pub(crate) fn name(&self) -> &str {
        self.metadata().map(|m| str_at(m, "name")).unwrap_or_default()
    }

    pub(crate) fn namespace(&self) -> &str {
        self.metadata().map(|m| str_at(m, "namespace")).unwrap_or_default()
    }

    pub(crate) fn set_name(&mut self, name: &str) {
        self.metadata_mut().insert("name".to_owned(), Value::String(name.to_owned()));
    }

    pub(crate) fn set_namespace(&mut self, namespace: &str) {
        self.metadata_mut().insert("namespace".to_owned(), Value::String(namespace.to_owned()));
    }

    pub(crate) fn cur_id(&self) -> ResId {
        let (group, version) = split_api_version(self.api_version());
        ResId {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: self.kind().to_owned(),
            name: self.name().to_owned(),
            namespace: self.namespace().to_owned(),
        }
    }

    /// The id the resource had when it was read or generated.
    pub(crate) fn org_id(&self) -> ResId {
        self.prev_ids.first().cloned().unwrap_or_else(|| self.cur_id())
    }

    /// Records the current id as a previous one, before a rename.
    pub(crate) fn store_previous_id(&mut self) {
        let mut id = self.cur_id();
        if id.namespace.is_empty() {
            "default".clone_into(&mut id.namespace);
        }
        self.prev_ids.push(id);
    }

    pub(crate) fn labels(&self) -> Map<String, Value> {
        self.metadata().and_then(|m| m.get("labels")).and_then(Value::as_object).cloned().unwrap_or_default()
    }

    pub(crate) fn annotations(&self) -> Map<String, Value> {
        self.metadata().and_then(|m| m.get("annotations")).and_then(Value::as_object).cloned().unwrap_or_default()
    }

    /// Prefixes and suffixes show the two resources were renamed in the same Kustomize context.
    pub(crate) fn affixes_match(&self, other: &Resource, allow_empty: bool) -> bool {
        let same_ending = |a: &[String], b: &[String]| {
            let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
            long.ends_with(short)
        };
        let prefixes = (allow_empty && (self.prefixes.is_empty() || other.prefixes.is_empty()))
            || same_ending(&self.prefixes, &other.prefixes);
        let suffixes = (allow_empty && (self.suffixes.is_empty() || other.suffixes.is_empty()))
            || same_ending(&self.suffixes, &other.suffixes);
        prefixes && suffixes
    }
}

/// An ordered list of resources with unique ids (Kustomize's `ResMap`).
#[derive(Debug, Clone, Default)]
pub(crate) struct ResMap {
    pub(crate) resources: Vec<Resource>,
}

impl ResMap {
    /// The index of the resource with this current id.
    pub(crate) fn find(&self, id: &ResId) -> Option<usize> {
        self.resources.iter().position(|r| r.cur_id().same_object(id))
    }

    /// Appends a resource; an id already present is an error, as in Kustomize.
    pub(crate) fn append(&mut self, resource: Resource) -> Result<(), String> {
        let id = resource.cur_id();
        if self.find(&id).is_some() {
            return Err(format!("may not add resource with an already registered id: {id}"));
        }
        self.resources.push(resource);
        Ok(())
    }

    /// Appends many resources; duplicates are found with one hash set, not a scan per resource.
    pub(crate) fn append_all(&mut self, other: ResMap) -> Result<(), String> {
        let mut seen: std::collections::HashSet<_> = self.resources.iter().map(|r| r.cur_id().object_key()).collect();
        for resource in other.resources {
            let id = resource.cur_id();
            if !seen.insert(id.object_key()) {
                return Err(format!("may not add resource with an already registered id: {id}"));
            }
            self.resources.push(resource);
        }
        Ok(())
    }

    /// The first id that two resources share, if any.
    pub(crate) fn first_duplicate(&self) -> Option<ResId> {
        let mut seen = std::collections::HashSet::new();
        self.resources.iter().map(Resource::cur_id).find(|id| !seen.insert(id.object_key()))
    }
}
