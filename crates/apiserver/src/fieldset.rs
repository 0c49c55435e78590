//! Field sets: which fields of an object a manager owns, as `managedFields[].fieldsV1` stores them.
//!
//! A [`FieldSet`] is a trie whose edges are path elements in their FieldsV1 spelling (`f:name`,
//! `k:{"name":"app"}`, `v:"x"`, `i:0`) and whose nodes say whether the path itself is a member.
//! [`FieldSet::of_value`] computes the set an applied configuration claims, following the schema
//! (structured-merge-diff's `toFieldSet`); [`compare`] tells which paths a write added, modified
//! or removed (its `Compare`).

use std::collections::BTreeMap;

use gitops_core::schema::{ListType, MapType, Node, Shape};
use serde_json::{Map, Value};

/// A set of field paths, as a trie.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSet {
    member: bool,
    children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    pub(crate) fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    /// Whether the path of this node itself is a member.
    pub(crate) fn is_member(&self) -> bool {
        self.member
    }

    fn child_mut(&mut self, element: String) -> &mut FieldSet {
        self.children.entry(element).or_default()
    }

    pub(crate) fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.union_in_place(other);
        out
    }

    pub(crate) fn union_in_place(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (element, child) in &other.children {
            match self.children.get_mut(element) {
                Some(mine) => mine.union_in_place(child),
                None => {
                    self.children.insert(element.clone(), child.clone());
                }
            }
        }
    }

    /// Members of `self` that are not members of `other`.
    pub(crate) fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet { member: self.member && !other.member, children: BTreeMap::new() };
        for (element, child) in &self.children {
            let rest = match other.children.get(element) {
                Some(theirs) => child.difference(theirs),
                None => child.clone(),
            };
            if !rest.is_empty() {
                out.children.insert(element.clone(), rest);
            }
        }
        out
    }

    /// Members of both sets.
    pub(crate) fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet { member: self.member && other.member, children: BTreeMap::new() };
        for (element, child) in &self.children {
            if let Some(theirs) = other.children.get(element) {
                let both = child.intersection(theirs);
                if !both.is_empty() {
                    out.children.insert(element.clone(), both);
                }
            }
        }
        out
    }

    /// The set below `element`, if any.
    pub(crate) fn child(&self, element: &str) -> Option<&FieldSet> {
        self.children.get(element)
    }

    /// Every member path, in order.
    pub(crate) fn paths(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if self.member {
            out.push(prefix.clone());
        }
        for (element, child) in &self.children {
            prefix.push(element.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// Removes the paths the API server never tracks: `apiVersion`, `kind`, and the server-owned
    /// parts of `metadata`.
    pub(crate) fn strip_server_fields(&mut self) {
        self.children.remove("f:apiVersion");
        self.children.remove("f:kind");
        if let Some(metadata) = self.children.get_mut("f:metadata") {
            metadata.member = false;
            for field in [
                "name",
                "namespace",
                "creationTimestamp",
                "selfLink",
                "uid",
                "clusterName",
                "generation",
                "managedFields",
                "resourceVersion",
            ] {
                metadata.children.remove(&format!("f:{field}"));
            }
            if metadata.is_empty() {
                self.children.remove("f:metadata");
            }
        }
    }

    /// The FieldsV1 JSON form.
    pub(crate) fn to_fields_v1(&self) -> Value {
        let mut map = Map::new();
        if self.member && !self.children.is_empty() {
            map.insert(".".into(), Value::Object(Map::new()));
        }
        for (element, child) in &self.children {
            map.insert(element.clone(), child.to_fields_v1());
        }
        Value::Object(map)
    }

    /// Reads the FieldsV1 JSON form.
    pub(crate) fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        let Value::Object(map) = value else { return Err("fieldsV1 must be an object".into()) };
        let mut set = FieldSet::default();
        for (key, child) in map {
            if key == "." {
                set.member = true;
                continue;
            }
            if !["f:", "k:", "v:", "i:"].iter().any(|prefix| key.starts_with(prefix)) {
                return Err(format!("unknown path element {key:?}"));
            }
            let mut child = FieldSet::from_fields_v1(child)?;
            if child.children.is_empty() {
                child.member = true;
            }
            set.children.insert(key.clone(), child);
        }
        Ok(set)
    }

    /// The set of every field `value` sets, following `node` (structured-merge-diff's
    /// `toFieldSet`): scalars and atomic values are leaves, list items are members, and map
    /// keys are members when their value is null or empty or the key is not a declared field.
    pub(crate) fn of_value(value: &Value, node: Node<'_>) -> FieldSet {
        let mut set = FieldSet::default();
        set.fill(value, node);
        set
    }

    fn fill(&mut self, value: &Value, node: Node<'_>) {
        match position(value, node) {
            Position::Leaf => self.member = true,
            Position::Map => {
                let Value::Object(map) = value else { return };
                for (key, child_value) in map {
                    let (child_node, declared) = field_node(node, key);
                    let child = self.child_mut(format!("f:{key}"));
                    child.fill(child_value, child_node);
                    let empty = child_value.is_null() || child_value.as_object().is_some_and(Map::is_empty);
                    if empty || !declared {
                        child.member = true;
                    }
                }
            }
            Position::List(list_type) => {
                let Value::Array(items) = value else { return };
                let Some(item_node) = node.items() else { return };
                for (index, item) in items.iter().enumerate() {
                    let element = item_element(item, index, list_type, node);
                    let child = self.child_mut(element);
                    child.fill(item, item_node);
                    child.member = true;
                }
            }
        }
    }
}

/// How a position merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Position {
    /// Replaced as a whole: scalars, atomic lists and maps, and values of the wrong shape.
    Leaf,
    /// Merged key by key.
    Map,
    /// Merged item by item, as a set or by key.
    List(ListType),
}

/// How `value` at `node` merges.
pub(crate) fn position(value: &Value, node: Node<'_>) -> Position {
    match (value, node.shape()) {
        (Value::Object(_), Shape::Struct | Shape::Map) if node.map_type() == MapType::Atomic => Position::Leaf,
        (Value::Object(_), Shape::Struct | Shape::Map | Shape::Deduced) => Position::Map,
        (Value::Array(_), Shape::List) => match node.list_type() {
            ListType::Atomic => Position::Leaf,
            list_type => Position::List(list_type),
        },
        _ => Position::Leaf,
    }
}

/// The node of field `key` below `node`, and whether the field is declared (a struct field
/// rather than a map key or an unknown field).
pub(crate) fn field_node<'s>(node: Node<'s>, key: &str) -> (Node<'s>, bool) {
    if let Some(child) = node.declared_field(key) {
        return (child, true);
    }
    (node.field(key).unwrap_or(*DEDUCED), false)
}

/// The deduced node (the root of a kind no table knows), for fields no schema describes.
static DEDUCED: std::sync::LazyLock<Node<'static>> = std::sync::LazyLock::new(|| {
    gitops_core::schema::Schema::builtin().root_or_deduced(&gitops_core::Gvk::new(
        "gitops-apiserver.invalid",
        "v0",
        "Unknown",
    ))
});

/// The path element of a list item: `k:{…}` for keyed lists, `v:…` for sets, `i:N` otherwise.
pub(crate) fn item_element(item: &Value, index: usize, list_type: ListType, node: Node<'_>) -> String {
    match (list_type, item) {
        (ListType::Map, Value::Object(fields)) => {
            // `k:` and the key fields as a compact JSON object, in name order, written directly.
            let mut keys: Vec<&String> = node.list_map_keys().iter().collect();
            keys.sort();
            let mut out = b"k:{".to_vec();
            for name in keys {
                let value = match fields.get(name.as_str()) {
                    Some(value) => value,
                    None if name == "protocol" => &TCP,
                    None => continue,
                };
                if out.len() > 3 {
                    out.push(b',');
                }
                // Writing JSON strings and values into memory cannot fail.
                let _ = serde_json::to_writer(&mut out, name);
                out.push(b':');
                let _ = serde_json::to_writer(&mut out, value);
            }
            out.push(b'}');
            String::from_utf8(out).unwrap_or_default()
        }
        (ListType::Set, scalar) => format!("v:{scalar}"),
        _ => format!("i:{index}"),
    }
}

/// The default of a list-map key `protocol`.
static TCP: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| Value::String("TCP".into()));

/// The items of `list` by path element, in order.
pub(crate) fn keyed_items<'v>(list: &'v [Value], list_type: ListType, node: Node<'_>) -> Vec<(String, &'v Value)> {
    list.iter().enumerate().map(|(index, item)| (item_element(item, index, list_type, node), item)).collect()
}

fn find<'v>(items: &[(String, &'v Value)], element: &str) -> Option<&'v Value> {
    items.iter().find(|(e, _)| e == element).map(|(_, v)| *v)
}

/// What a write changed between two versions of an object.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    /// Paths present only in the new version.
    pub(crate) added: FieldSet,
    /// Leaf paths present in both with different values.
    pub(crate) modified: FieldSet,
    /// Paths present only in the old version.
    pub(crate) removed: FieldSet,
}

impl Comparison {
    /// Added or modified paths.
    pub(crate) fn changed(&self) -> FieldSet {
        self.added.union(&self.modified)
    }
}

/// Compares `old` with `new` (structured-merge-diff's `Compare`): leaves are added, removed or
/// modified; granular maps (not structs) and list items are added or removed as a whole too.
///
/// The walk keeps the path it is at as borrowed steps and writes into the three sets only where
/// it finds a difference; equal subtrees are skipped after one comparison.
pub(crate) fn compare(old: &Value, new: &Value, node: Node<'_>) -> Comparison {
    let mut comparison = Comparison::default();
    walk(Some(old), Some(new), node, &mut Vec::new(), &mut comparison);
    comparison
}

/// One step of a path being walked: a field (spelled `f:NAME` only when recorded) or a list
/// item's element.
enum Step<'v> {
    Field(&'v str),
    Item(String),
}

impl FieldSet {
    /// Adds the path `steps` as a member.
    fn insert(&mut self, steps: &[Step<'_>]) {
        let mut set = self;
        let mut field = String::new();
        for step in steps {
            let element = match step {
                Step::Field(name) => {
                    field.clear();
                    field.push_str("f:");
                    field.push_str(name);
                    field.as_str()
                }
                Step::Item(element) => element.as_str(),
            };
            // Allocates only for a child not there yet.
            if !set.children.contains_key(element) {
                set.children.insert(element.to_owned(), FieldSet::default());
            }
            let Some(child) = set.children.get_mut(element) else { return };
            set = child;
        }
        set.member = true;
    }
}

fn walk<'v>(
    old: Option<&'v Value>,
    new: Option<&'v Value>,
    node: Node<'_>,
    path: &mut Vec<Step<'v>>,
    out: &mut Comparison,
) {
    let present = new.or(old).unwrap_or(&Value::Null);
    let shape = position(present, node);
    let same_shape = match (old, new) {
        (Some(a), Some(b)) => {
            position(a, node) == position(b, node) && std::mem::discriminant(a) == std::mem::discriminant(b)
        }
        _ => true,
    };
    if shape == Position::Leaf || !same_shape {
        match (old, new) {
            (None, Some(_)) => out.added.insert(path),
            (Some(_), None) => out.removed.insert(path),
            (Some(a), Some(b)) if a != b => out.modified.insert(path),
            _ => {}
        }
        return;
    }
    match shape {
        Position::Map => {
            let (old_map, new_map) = (old.and_then(Value::as_object), new.and_then(Value::as_object));
            let old_keys = old_map.into_iter().flat_map(Map::keys);
            let new_keys =
                new_map.into_iter().flat_map(Map::keys).filter(|key| old_map.is_none_or(|m| !m.contains_key(*key)));
            for key in old_keys.chain(new_keys) {
                let (a, b) = (old_map.and_then(|m| m.get(key)), new_map.and_then(|m| m.get(key)));
                if let (Some(a), Some(b)) = (a, b)
                    && a == b
                {
                    continue;
                }
                let (child_node, declared) = field_node(node, key);
                path.push(Step::Field(key));
                let is_container = b.or(a).is_some_and(|v| v.is_object() || v.is_array());
                let free_form = matches!(child_node.shape(), Shape::Map | Shape::Deduced);
                if !declared || free_form || !is_container || is_empty_container(b.or(a)) {
                    match (a, b) {
                        (None, Some(_)) => out.added.insert(path),
                        (Some(_), None) => out.removed.insert(path),
                        _ => {}
                    }
                }
                walk(a, b, child_node, path, out);
                path.pop();
            }
        }
        Position::List(list_type) => {
            let Some(item_node) = node.items() else { return };
            let old_items = keyed_items(old.and_then(Value::as_array).map_or(&[], Vec::as_slice), list_type, node);
            let new_items = keyed_items(new.and_then(Value::as_array).map_or(&[], Vec::as_slice), list_type, node);
            let mut seen: Vec<&String> = Vec::new();
            for (element, _) in old_items.iter().chain(new_items.iter()) {
                if seen.contains(&element) {
                    continue;
                }
                seen.push(element);
                let (a, b) = (find(&old_items, element), find(&new_items, element));
                if let (Some(a), Some(b)) = (a, b)
                    && a == b
                {
                    continue;
                }
                path.push(Step::Item(element.clone()));
                match (a, b) {
                    (None, Some(_)) => out.added.insert(path),
                    (Some(_), None) => out.removed.insert(path),
                    _ => {}
                }
                walk(a, b, item_node, path, out);
                path.pop();
            }
        }
        Position::Leaf => {}
    }
}

fn is_empty_container(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Object(map)) => map.is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        _ => false,
    }
}

/// Renders a path as structured-merge-diff prints it: `.spec.containers[name="app"].image`.
pub(crate) fn path_string(path: &[String]) -> String {
    let mut out = String::new();
    for element in path {
        if let Some(field) = element.strip_prefix("f:") {
            out.push('.');
            out.push_str(field);
        } else if let Some(key) = element.strip_prefix("k:") {
            let parts: Vec<String> = match serde_json::from_str::<Map<String, Value>>(key) {
                Ok(fields) => fields.iter().map(|(name, value)| format!("{name}={value}")).collect(),
                Err(_) => vec![key.to_owned()],
            };
            out.push('[');
            out.push_str(&parts.join(","));
            out.push(']');
        } else if let Some(value) = element.strip_prefix("v:") {
            out.push_str("[=");
            out.push_str(value);
            out.push(']');
        } else if let Some(index) = element.strip_prefix("i:") {
            out.push('[');
            out.push_str(index);
            out.push(']');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use gitops_core::Gvk;
    use gitops_core::schema::Schema;
    use serde_json::json;

    use super::*;

    fn deployment() -> Node<'static> {
        Schema::builtin().root_or_deduced(&Gvk::new("apps", "v1", "Deployment"))
    }

    #[test]
    fn keyed_lists_use_keys_with_defaults() {
        let value = json!({"spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {"containers": [
            {"name": "app", "image": "app:1", "ports": [{"containerPort": 80}]}
        ]}}}});
        let set = FieldSet::of_value(&value, deployment());
        let fields = set.to_fields_v1();
        let container = &fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
        assert_eq!(container["."], json!({}));
        assert_eq!(container["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"]["f:containerPort"], json!({}));
        assert_eq!(fields["f:spec"]["f:selector"], json!({}), "LabelSelector is atomic");
        assert_eq!(FieldSet::from_fields_v1(&fields), Ok(set));
    }

    #[test]
    fn compare_finds_leaf_changes() {
        let old = json!({"spec": {"replicas": 1, "paused": false}});
        let new = json!({"spec": {"replicas": 2, "minReadySeconds": 5}});
        let comparison = compare(&old, &new, deployment());
        let paths = |set: &FieldSet| set.paths().iter().map(|p| path_string(p)).collect::<Vec<_>>();
        assert_eq!(paths(&comparison.modified), [".spec.replicas"]);
        assert_eq!(paths(&comparison.added), [".spec.minReadySeconds"]);
        assert_eq!(paths(&comparison.removed), [".spec.paused"]);
    }

    #[test]
    fn paths_print_like_structured_merge_diff() {
        let path: Vec<String> =
            ["f:spec", "k:{\"containerPort\":80,\"protocol\":\"TCP\"}", "v:\"x\"", "i:3"].map(String::from).to_vec();
        assert_eq!(path_string(&path), ".spec[containerPort=80,protocol=\"TCP\"][=\"x\"][3]");
    }
}
