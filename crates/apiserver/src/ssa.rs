//! Server-side apply and field ownership for every write (structured-merge-diff's `Updater`).
//!
//! [`apply`] merges an applied configuration into the live object following the schema
//! topology, detects conflicts with other managers (only where the value would change), moves
//! ownership on force and prunes fields the applier stopped applying that nobody else owns.
//! [`update`] records the fields a non-apply write changed under an `Update` entry and takes them
//! from every other manager without conflicts. Both return `None` for a no-op, so the caller
//! keeps the live object, resourceVersion included.

use std::collections::{BTreeMap, HashSet};

use gitops_core::schema::{ListType, Node};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, Cause};
use crate::fieldset::{FieldSet, Position, compare, field_node, item_element, keyed_items, path_string, position};

/// Who writes, with which schema, and when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Writer<'a> {
    /// The schema of the object's kind.
    pub(crate) node: Node<'a>,
    /// The field manager.
    pub(crate) manager: &'a str,
    /// The apiVersion the write used.
    pub(crate) api_version: &'a str,
    /// The time stamp for changed entries (RFC 3339).
    pub(crate) now: &'a str,
    /// The subresource written through (`status`, `scale`), if any: entries are per subresource.
    pub(crate) subresource: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Operation {
    Apply,
    Update,
}

/// One `managedFields` entry.
#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: Operation,
    api_version: String,
    time: Option<String>,
    subresource: Option<String>,
    set: FieldSet,
}

impl Entry {
    /// How conflict messages name this manager (apimachinery's `printManager`).
    fn label(&self) -> String {
        let mut label = format!("{:?}", self.manager);
        if let Some(subresource) = &self.subresource {
            label = format!("{label} with subresource {subresource:?}");
        }
        if self.operation == Operation::Update {
            label = format!("{label} using {}", self.api_version);
        }
        label
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("manager".into(), json!(self.manager));
        map.insert("operation".into(), json!(if self.operation == Operation::Apply { "Apply" } else { "Update" }));
        map.insert("apiVersion".into(), json!(self.api_version));
        if let Some(time) = &self.time {
            map.insert("time".into(), json!(time));
        }
        map.insert("fieldsType".into(), json!("FieldsV1"));
        map.insert("fieldsV1".into(), self.set.to_fields_v1());
        if let Some(subresource) = &self.subresource {
            map.insert("subresource".into(), json!(subresource));
        }
        Value::Object(map)
    }

    fn from_json(value: &Value) -> Option<Entry> {
        let operation = match value.get("operation")?.as_str()? {
            "Apply" => Operation::Apply,
            "Update" => Operation::Update,
            _ => return None,
        };
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        Some(Entry {
            manager: text("manager").unwrap_or_default(),
            operation,
            api_version: text("apiVersion").unwrap_or_default(),
            time: text("time"),
            subresource: text("subresource").filter(|s| !s.is_empty()),
            set: value.get("fieldsV1").map(FieldSet::from_fields_v1).and_then(Result::ok).unwrap_or_default(),
        })
    }
}

fn read_entries(object: &Value) -> Vec<Entry> {
    let entries = object.pointer("/metadata/managedFields").and_then(Value::as_array);
    entries.into_iter().flatten().filter_map(Entry::from_json).collect()
}

/// Writes `entries` (empty ones dropped) in the API server's order: Apply before Update, then by
/// time, manager and subresource.
fn write_entries(object: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|entry| !entry.set.is_empty());
    entries.sort_by(|a, b| {
        a.operation
            .cmp(&b.operation)
            .then_with(|| a.time.cmp(&b.time))
            .then_with(|| a.manager.cmp(&b.manager))
            .then_with(|| a.subresource.cmp(&b.subresource))
    });
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    if entries.is_empty() {
        metadata.remove("managedFields");
    } else {
        metadata.insert("managedFields".into(), entries.iter().map(Entry::to_json).collect());
    }
}

/// `object` without `metadata.managedFields`.
pub(crate) fn without_managed_fields(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(metadata) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    copy
}

/// Applies `config` as `writer.manager` to `live` (absent on create). `Ok(None)` when nothing
/// changes; the 409 when other managers own fields the apply would change and `force` is off.
pub(crate) fn apply(
    live: Option<&Value>,
    config: &Value,
    writer: &Writer<'_>,
    force: bool,
) -> Result<Option<Value>, ApiError> {
    let mut entries = live.map(read_entries).unwrap_or_default();
    // The live object keeps its managedFields through the merge (the configuration has none),
    // so both sides of the comparison carry the same ones and no copy without them is needed;
    // `write_entries` replaces them at the end.
    let empty = json!({});
    let live_body = live.unwrap_or(&empty);
    let mut merged = merge(Some(live_body), config, writer.node);
    let mut applied = FieldSet::of_value(config, writer.node);
    applied.strip_server_fields();

    let comparison = compare(live_body, &merged, writer.node);
    let changed = comparison.changed();
    let me = entries.iter().position(|e| {
        e.operation == Operation::Apply && e.manager == writer.manager && e.subresource.as_deref() == writer.subresource
    });
    let mut conflicts: Vec<(usize, FieldSet)> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if Some(index) != me {
            let owned = entry.set.intersection(&changed);
            if !owned.is_empty() {
                conflicts.push((index, owned));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(&entries, &conflicts));
    }
    for (index, owned) in &conflicts {
        entries[*index].set = entries[*index].set.difference(owned);
    }
    let mut others = FieldSet::default();
    for (index, entry) in entries.iter_mut().enumerate() {
        if Some(index) != me {
            entry.set = entry.set.difference(&comparison.removed);
            others.union_in_place(&entry.set);
        }
    }

    let last = me.map(|index| entries[index].set.clone()).unwrap_or_default();
    prune(&mut merged, &last.difference(&applied), Some(&others), writer.node);
    let object_changed = merged != *live_body;
    match me {
        Some(index) => {
            let entry = &mut entries[index];
            entry.set = applied;
            writer.api_version.clone_into(&mut entry.api_version);
            if object_changed || entry.time.is_none() {
                entry.time = Some(writer.now.to_owned());
            }
        }
        None => entries.push(Entry {
            manager: writer.manager.to_owned(),
            operation: Operation::Apply,
            api_version: writer.api_version.to_owned(),
            time: Some(writer.now.to_owned()),
            subresource: writer.subresource.map(str::to_owned),
            set: applied,
        }),
    }
    write_entries(&mut merged, entries);
    Ok(if live == Some(&merged) { None } else { Some(merged) })
}

/// Records a non-apply write of `new` over `live` as an `Update` by `writer.manager`: the fields
/// it added or changed become its own and are taken from everyone else. `None` when nothing
/// changes. Incoming `managedFields` are ignored.
pub(crate) fn update(live: Option<&Value>, new: &Value, writer: &Writer<'_>) -> Option<Value> {
    let mut entries = live.map(read_entries).unwrap_or_default();
    let live_body = live.map_or_else(|| json!({}), without_managed_fields);
    let mut result = without_managed_fields(new);
    let comparison = compare(&live_body, &result, writer.node);
    let mut changed = comparison.changed();
    changed.strip_server_fields();
    let mut removed = comparison.removed;
    removed.strip_server_fields();
    let me = entries.iter().position(|e| {
        e.operation == Operation::Update
            && e.manager == writer.manager
            && e.api_version == writer.api_version
            && e.subresource.as_deref() == writer.subresource
    });
    for (index, entry) in entries.iter_mut().enumerate() {
        if Some(index) != me {
            entry.set = entry.set.difference(&changed).difference(&removed);
        }
    }
    let object_changed = result != live_body;
    let index = me.unwrap_or_else(|| {
        entries.push(Entry {
            manager: writer.manager.to_owned(),
            operation: Operation::Update,
            api_version: writer.api_version.to_owned(),
            time: None,
            subresource: writer.subresource.map(str::to_owned),
            set: FieldSet::default(),
        });
        entries.len() - 1
    });
    let entry = &mut entries[index];
    entry.set = entry.set.union(&changed).difference(&removed);
    if object_changed {
        entry.time = Some(writer.now.to_owned());
    }
    write_entries(&mut result, entries);
    if live == Some(&result) { None } else { Some(result) }
}

fn conflict_error(entries: &[Entry], conflicts: &[(usize, FieldSet)]) -> ApiError {
    let mut by_manager: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (index, owned) in conflicts {
        let entry = &entries[*index];
        let paths = owned.paths().iter().map(|path| path_string(path)).collect::<Vec<_>>();
        by_manager.entry((entry.manager.clone(), entry.label())).or_default().extend(paths);
    }
    let count: usize = by_manager.values().map(Vec::len).sum();
    let mut causes = Vec::new();
    let mut lines = Vec::new();
    for ((_, label), paths) in &by_manager {
        lines.push(format!("conflicts with {label}:"));
        for path in paths {
            lines.push(format!("- {path}"));
            causes.push(Cause {
                reason: "FieldManagerConflict".into(),
                message: format!("conflict with {label}"),
                field: path.clone(),
            });
        }
    }
    let detail = if count == 1 { format!("{}: {}", causes[0].message, causes[0].field) } else { lines.join("\n") };
    let plural = if count == 1 { "" } else { "s" };
    ApiError::ApplyConflict { message: format!("Apply failed with {count} conflict{plural}: {detail}"), causes }
}

/// Merges `config` into `live`: the configuration's values win; maps merge key by key, keyed
/// lists and sets item by item, atomic values are replaced. Shared items follow the
/// configuration's order and live-only items keep their place next to their neighbours.
pub(crate) fn merge(live: Option<&Value>, config: &Value, node: Node<'_>) -> Value {
    let Some(live) = live else { return config.clone() };
    match (position(config, node), live, config) {
        (Position::Map, Value::Object(live_map), Value::Object(config_map)) => {
            // Live keys keep their place (merged where configured, copied otherwise); keys only
            // the configuration has follow in its order. Each live value is copied once.
            let mut out = Map::with_capacity(live_map.len() + config_map.len());
            for (key, value) in live_map {
                let merged = match config_map.get(key) {
                    Some(configured) => merge(Some(value), configured, field_node(node, key).0),
                    None => value.clone(),
                };
                out.insert(key.clone(), merged);
            }
            for (key, value) in config_map {
                if !live_map.contains_key(key) {
                    out.insert(key.clone(), merge(None, value, field_node(node, key).0));
                }
            }
            Value::Object(out)
        }
        (Position::List(list_type), Value::Array(live_items), Value::Array(config_items)) => {
            Value::Array(merge_lists(live_items, config_items, list_type, node))
        }
        _ => config.clone(),
    }
}

fn merge_lists(live: &[Value], config: &[Value], list_type: ListType, node: Node<'_>) -> Vec<Value> {
    let Some(item_node) = node.items() else { return config.to_vec() };
    let left = keyed_items(live, list_type, node);
    let right = keyed_items(config, list_type, node);
    let in_left: HashSet<&str> = left.iter().map(|(e, _)| e.as_str()).collect();
    let in_right: HashSet<&str> = right.iter().map(|(e, _)| e.as_str()).collect();
    let live_item = |element: &str| left.iter().find(|(e, _)| e == element).map(|(_, v)| *v);
    let mut emitted: HashSet<&str> = HashSet::new();
    let mut out = Vec::with_capacity(left.len().max(right.len()));
    let (mut l, mut r) = (0, 0);
    while l < left.len() || r < right.len() {
        if l < left.len() && emitted.contains(left[l].0.as_str()) {
            l += 1;
            continue;
        }
        if r < right.len() && emitted.contains(right[r].0.as_str()) {
            r += 1;
            continue;
        }
        let take_left = match (left.get(l), right.get(r)) {
            (Some((le, _)), Some((re, _))) => le != re && !in_right.contains(le.as_str()),
            (Some(_), None) => true,
            _ => false,
        };
        if take_left {
            out.push(left[l].1.clone());
            emitted.insert(left[l].0.as_str());
            l += 1;
        } else {
            let (element, item) = &right[r];
            let merged = if in_left.contains(element.as_str()) {
                merge(live_item(element), item, item_node)
            } else {
                (*item).clone()
            };
            out.push(merged);
            emitted.insert(element.as_str());
            r += 1;
        }
    }
    out
}

/// Removes from `value` the members of `remove`, except where `keep` owns the path or anything
/// below it. Containers emptied by the removal disappear too.
fn prune(value: &mut Value, remove: &FieldSet, keep: Option<&FieldSet>, node: Node<'_>) {
    if remove.is_empty() {
        return;
    }
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let element = format!("f:{key}");
                let Some(child) = remove.child(&element) else { continue };
                let kept = keep.and_then(|k| k.child(&element));
                let drop = prune_child(map.get_mut(&key), child, kept, field_node(node, &key).0);
                if drop {
                    map.remove(&key);
                }
            }
        }
        Value::Array(items) => {
            let list_type = node.list_type();
            let Some(item_node) = node.items() else { return };
            let elements: Vec<String> =
                items.iter().enumerate().map(|(i, item)| item_element(item, i, list_type, node)).collect();
            let mut index = 0;
            items.retain_mut(|item| {
                let element = &elements[index];
                index += 1;
                let Some(child) = remove.child(element) else { return true };
                !prune_child(Some(item), child, keep.and_then(|k| k.child(element)), item_node)
            });
        }
        _ => {}
    }
}

/// Prunes one child; true when the child itself should go.
fn prune_child(value: Option<&mut Value>, remove: &FieldSet, keep: Option<&FieldSet>, node: Node<'_>) -> bool {
    let Some(value) = value else { return false };
    if remove_whole(remove, keep) {
        return true;
    }
    let was_full = container_len(value).is_some_and(|n| n > 0);
    prune(value, remove, keep, node);
    was_full && container_len(value) == Some(0)
}

fn remove_whole(remove: &FieldSet, keep: Option<&FieldSet>) -> bool {
    remove.is_member() && keep.is_none_or(FieldSet::is_empty)
}

fn container_len(value: &Value) -> Option<usize> {
    match value {
        Value::Object(map) => Some(map.len()),
        Value::Array(items) => Some(items.len()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use gitops_core::Gvk;
    use gitops_core::schema::Schema;

    use super::*;

    fn writer(manager: &str) -> Writer<'_> {
        let node = Schema::builtin().root_or_deduced(&Gvk::new("apps", "v1", "Deployment"));
        Writer { node, manager, api_version: "apps/v1", now: "2026-01-01T00:00:00Z", subresource: None }
    }

    #[test]
    fn containers_merge_by_name_in_config_order() {
        let w = writer("m");
        let live = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}}}});
        let config = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "2"}, {"name": "b", "image": "2"}]}}}});
        let merged = merge(Some(&live), &config, w.node);
        let names: Vec<&str> = merged["spec"]["template"]["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["a", "c", "b"]);
    }
}
