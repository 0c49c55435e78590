//! Reading `metadata.managedFields`: which fields each field manager owns.
//!
//! Each entry's `fieldsV1` is a tree whose keys are `f:<field>` (a field of a map), `k:<json>`
//! (the item of a keyed list whose key fields have these values), `v:<json>` (the item of a set
//! with this value), `i:<n>` (a position in an atomic list) and `.` (the node itself). A key
//! whose subtree is empty, or holds only `.`, is a leaf: the whole value there is owned.

use serde_json::{Map, Value};

use crate::scalar::numbers_equal;

/// The `fieldsV1` trees of the live object's `managedFields` entries that `select` accepts
/// (given the manager name and operation).
pub(crate) fn field_sets(live: &Map<String, Value>, select: impl Fn(&str, &str) -> bool) -> Vec<&Map<String, Value>> {
    let entries = live.get("metadata").and_then(|m| m.get("managedFields")).and_then(Value::as_array);
    entries
        .into_iter()
        .flatten()
        .filter(|entry| {
            let manager = entry.get("manager").and_then(Value::as_str).unwrap_or_default();
            let operation = entry.get("operation").and_then(Value::as_str).unwrap_or_default();
            select(manager, operation)
        })
        .filter_map(|entry| entry.get("fieldsV1").and_then(Value::as_object))
        .collect()
}

fn is_leaf(child: &Value) -> bool {
    child.as_object().is_none_or(is_leaf_map)
}

fn is_leaf_map(child: &Map<String, Value>) -> bool {
    child.keys().all(|k| k == ".")
}

/// One step of a field set, decoded.
enum Member {
    Field(String),
    Key(Map<String, Value>),
    Item(Value),
    Index(usize),
}

fn decode(key: &str) -> Option<Member> {
    let (prefix, rest) = key.split_at_checked(2)?;
    match prefix {
        "f:" => Some(Member::Field(rest.to_owned())),
        "k:" => serde_json::from_str(rest).ok().map(Member::Key),
        "v:" => serde_json::from_str(rest).ok().map(Member::Item),
        "i:" => rest.parse().ok().map(Member::Index),
        _ => None,
    }
}

fn matches_key(item: &Value, key: &Map<String, Value>) -> bool {
    key.iter().all(|(name, want)| item.get(name).is_some_and(|have| have == want || numbers_equal(have, want)))
}

fn position(items: &[Value], member: &Member) -> Option<usize> {
    match member {
        Member::Key(key) => items.iter().position(|item| matches_key(item, key)),
        Member::Item(value) => items.iter().position(|item| item == value || numbers_equal(item, value)),
        Member::Index(at) => (*at < items.len()).then_some(*at),
        Member::Field(_) => None,
    }
}

/// Removes from `value` every field the set owns (leaves; list items owned whole). The key
/// fields of a keyed item stay, so the item can still be matched by key.
pub(crate) fn remove_owned(value: &mut Value, set: &Map<String, Value>) {
    remove_owned_except(value, set, None);
}

fn remove_owned_except(value: &mut Value, set: &Map<String, Value>, keep: Option<&Map<String, Value>>) {
    match value {
        Value::Object(map) => {
            for (key, child) in set {
                let Some(Member::Field(name)) = decode(key) else {
                    continue;
                };
                if keep.is_some_and(|k| k.contains_key(&name)) {
                    continue;
                }
                if is_leaf(child) {
                    map.shift_remove(&name);
                } else if let (Some(inner), Some(child)) = (map.get_mut(&name), child.as_object()) {
                    remove_owned_except(inner, child, None);
                }
            }
        }
        Value::Array(items) => {
            let mut remove = Vec::new();
            for (key, child) in set {
                let Some(member) = decode(key) else {
                    continue;
                };
                let Some(at) = position(items, &member) else {
                    continue;
                };
                if is_leaf(child) {
                    remove.push(at);
                } else if let Some(child) = child.as_object() {
                    let keep = if let Member::Key(fields) = &member { Some(fields) } else { None };
                    remove_owned_except(&mut items[at], child, keep);
                }
            }
            remove.sort_unstable();
            remove.dedup();
            for at in remove.into_iter().rev() {
                items.remove(at);
            }
        }
        _ => {}
    }
}

/// The part of `value` the set owns: what its manager applied, as far as the live object still
/// shows it. List items keep their key fields, so they can be matched by key.
pub(crate) fn extract_owned(value: &Value, set: &Map<String, Value>) -> Value {
    match value {
        Value::Object(map) => Value::Object(extract_owned_map(map, set)),
        Value::Array(items) => {
            let mut out = Vec::new();
            for (key, child) in set {
                let Some(member) = decode(key) else {
                    continue;
                };
                let Some(at) = position(items, &member) else {
                    continue;
                };
                let item = &items[at];
                let mut owned = match child.as_object() {
                    Some(child) if !is_leaf_map(child) => extract_owned(item, child),
                    _ => item.clone(),
                };
                // Key fields the manager set are kept, so the item can be matched by key. A key
                // field the server defaulted (a port's `protocol`) is the server's, not applied.
                if let (Member::Key(key), Value::Object(fields), Some(child)) = (&member, &mut owned, child.as_object())
                {
                    for (name, value) in key {
                        if child.contains_key(&format!("f:{name}")) {
                            fields.entry(name.clone()).or_insert_with(|| value.clone());
                        }
                    }
                }
                out.push((at, owned));
            }
            out.sort_by_key(|(at, _)| *at);
            Value::Array(out.into_iter().map(|(_, v)| v).collect())
        }
        other => other.clone(),
    }
}

/// [`extract_owned`] of a map.
pub(crate) fn extract_owned_map(map: &Map<String, Value>, set: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, child) in set {
        let Some(Member::Field(name)) = decode(key) else {
            continue;
        };
        let Some(inner) = map.get(&name) else {
            continue;
        };
        let owned = match child.as_object() {
            Some(child) if !is_leaf_map(child) => extract_owned(inner, child),
            _ => inner.clone(),
        };
        out.insert(name, owned);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set() -> Map<String, Value> {
        json!({
            "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}
            }}}},
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}}
        })
        .as_object()
        .cloned()
        .expect("object")
    }

    fn live() -> Value {
        json!({
            "metadata": {"name": "a", "labels": {"app": "x", "team": "y"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx", "imagePullPolicy": "Always"},
                {"name": "sidecar", "image": "envoy"}
            ]}}}
        })
    }

    #[test]
    fn remove_and_extract_agree() {
        let mut value = live();
        remove_owned(&mut value, &set());
        assert_eq!(value["spec"].get("replicas"), None);
        assert_eq!(value["metadata"]["labels"], json!({"team": "y"}));
        assert_eq!(
            value["spec"]["template"]["spec"]["containers"][0],
            json!({"name": "web", "imagePullPolicy": "Always"})
        );
        let owned = extract_owned(&live(), &set());
        assert_eq!(
            owned,
            json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
                   "metadata": {"labels": {"app": "x"}}})
        );
    }

    #[test]
    fn whole_items_are_removed() {
        let set = json!({"f:finalizers": {"v:\"a\"": {}}, "f:ports": {"k:{\"port\":80}": {}}});
        let mut value = json!({"finalizers": ["a", "b"], "ports": [{"port": 80}, {"port": 81}]});
        remove_owned(&mut value, set.as_object().expect("object"));
        assert_eq!(value, json!({"finalizers": ["b"], "ports": [{"port": 81}]}));
    }

    #[test]
    fn key_fields_the_server_defaulted_are_not_owned() {
        // A Service port applied without `protocol`: the server keys the item with the default.
        let set =
            json!({"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}, "f:targetPort": {}}}});
        let live = json!({"ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}]});
        let owned = extract_owned(&live, set.as_object().expect("object"));
        assert_eq!(owned, json!({"ports": [{"port": 80, "targetPort": 80}]}));
    }
}
