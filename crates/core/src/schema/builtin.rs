//! The built-in table: Kubernetes 1.37's types, embedded from `data/kubernetes-1.37.json` and
//! parsed once, on first use.
//!
//! `data/generate_schema.py` writes the file from the kubernetes-validate JSON Schema and the
//! k8s-openapi scopes; its docstring describes the format and how to regenerate it. The file is
//! committed and checked by the tests, so a malformed file is a bug in this crate, and parsing
//! it `expect`s success.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::node::{
    Arena, Attrs, Body, BodyShape, DEDUCED, ListType, MapType, Node, PatchStrategy, SCALARS, ScalarType, index,
};
use super::{KindTable, Scope};

/// The embedded table.
pub(crate) const DATA: &str = include_str!("../../data/kubernetes-1.37.json");

/// The definition every root's `metadata` resolves to.
pub(crate) const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The parsed built-in table.
#[derive(Debug)]
pub(crate) struct Builtin {
    pub(crate) arena: Arena,
    /// Sorted by group, then kind.
    pub(crate) kinds: Vec<KindTable>,
    /// The node id of ObjectMeta.
    pub(crate) object_meta: u32,
}

static BUILTIN: OnceLock<Builtin> = OnceLock::new();

/// The built-in table, parsed on first use.
pub(crate) fn get() -> &'static Builtin {
    BUILTIN.get_or_init(|| parse(DATA).expect("the embedded schema table is valid (checked by the tests)"))
}

/// The built-in arena.
pub(crate) fn arena() -> &'static Arena {
    &get().arena
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code, reason = "documents the file's origin")]
    source: String,
    kinds: Vec<(String, String, String, String, u32)>,
    nodes: Vec<FileNode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileNode {
    name: Option<String>,
    #[serde(rename = "struct")]
    fields: Option<BTreeMap<String, u32>>,
    map: Option<u32>,
    list: Option<u32>,
    scalar: Option<String>,
    deduced: Option<bool>,
    #[serde(rename = "ref")]
    target: Option<u32>,
    list_type: Option<String>,
    list_map_keys: Option<Vec<String>>,
    merge_key: Option<String>,
    strategy: Option<String>,
    map_type: Option<String>,
}

/// Parses the table; the error names the node or kind at fault.
pub(crate) fn parse(text: &str) -> Result<Builtin, String> {
    let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let count = file.nodes.len();
    let check = |id: u32, at: usize| {
        if (id as usize) < count { Ok(id) } else { Err(format!("node {at}: child {id} out of range")) }
    };

    let mut arena = Arena::default();
    let mut object_meta = None;
    let mut refs = Vec::new();
    // A `ref` node may name a node further down, so refs are resolved in a second pass; until
    // then a pending node keeps node ids equal to file positions.
    for (at, node) in file.nodes.into_iter().enumerate() {
        let bad = |what: &str| format!("node {at}: bad {what}");
        let map_type = node.map_type.as_deref().map(|t| MapType::parse(t).ok_or_else(|| bad("mapType"))).transpose()?;
        let list_type =
            node.list_type.as_deref().map(|t| ListType::parse(t).ok_or_else(|| bad("listType"))).transpose()?;
        let strategy = match node.strategy.as_deref() {
            Some(text) => PatchStrategy::parse(text).ok_or_else(|| bad("strategy"))?,
            None => PatchStrategy::default(),
        };
        let list_attrs = Attrs {
            list_type,
            list_map_keys: node.list_map_keys.unwrap_or_default(),
            merge_key: node.merge_key,
            strategy,
            map_type: None,
        };
        if let Some(target) = node.target {
            refs.push((arena.push_pending(), check(target, at)?, Attrs { map_type, ..list_attrs }));
            continue;
        }
        let shape = match (node.fields, node.map, node.list, node.scalar.as_deref(), node.deduced) {
            (Some(fields), None, None, None, None) => BodyShape::Struct {
                fields: fields
                    .into_iter()
                    .map(|(name, id)| Ok((name.into_boxed_str(), check(id, at)?)))
                    .collect::<Result<_, String>>()?,
                preserve_unknown: false,
            },
            (None, Some(value), None, None, None) => BodyShape::Map(check(value, at)?),
            (None, None, Some(items), None, None) => BodyShape::List(check(items, at)?),
            (None, None, None, Some(scalar), None) => BodyShape::Scalar(match scalar {
                "string" => ScalarType::String,
                "integer" => ScalarType::Integer,
                "number" => ScalarType::Number,
                "boolean" => ScalarType::Boolean,
                "intOrString" => ScalarType::IntOrString,
                "quantity" => ScalarType::Quantity,
                _ => return Err(bad("scalar")),
            }),
            (None, None, None, None, Some(true)) => BodyShape::Deduced,
            _ => return Err(bad("body: need exactly one of struct, map, list, scalar, deduced, ref")),
        };
        if node.name.as_deref() == Some(OBJECT_META) {
            object_meta = Some(index(at));
        }
        let name = node.name.map(String::into_boxed_str);
        arena.push(Body { name, shape, map_type }, list_attrs);
    }
    for (id, target, attrs) in refs {
        arena.set_ref(id, target, attrs).map_err(|e| format!("node {id}: {e}"))?;
    }
    let fixed = SCALARS
        .iter()
        .all(|&(id, scalar)| (id as usize) < arena.len() && Node::new(&arena, id).scalar() == Some(scalar));
    if arena.len() == 0 || !Node::new(&arena, DEDUCED).is_deduced() || !fixed {
        return Err("the table must start with the deduced node and the plain scalars".to_string());
    }
    let object_meta = object_meta.ok_or_else(|| format!("no {OBJECT_META}"))?;

    let mut kinds: Vec<KindTable> = Vec::new();
    for (group, version, kind, scope, root) in file.kinds {
        let scope = match scope.as_str() {
            "Namespaced" => Scope::Namespaced,
            "Cluster" => Scope::Cluster,
            _ => return Err(format!("{group}/{version}/{kind}: bad scope {scope}")),
        };
        if root as usize >= count {
            return Err(format!("{group}/{version}/{kind}: root {root} out of range"));
        }
        match kinds.iter_mut().find(|table| table.group == group && table.kind == kind) {
            Some(table) => table.versions.push((version, root)),
            None => kinds.push(KindTable { group, kind, scope, versions: vec![(version, root)] }),
        }
    }
    for table in &mut kinds {
        super::sort_versions(&mut table.versions);
    }
    kinds.sort_by(|a, b| (&a.group, &a.kind).cmp(&(&b.group, &b.kind)));
    Ok(Builtin { arena, kinds, object_meta })
}
