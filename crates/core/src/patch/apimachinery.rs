//! Strategic merge as `k8s.io/apimachinery/pkg/util/strategicpatch` applies it
//! (`StrategicMergeMapPatch`: parallel lists merged, unmatched nulls ignored).
//!
//! The original is cloned once and the patch merged into the clone in place; patch values are
//! cloned only where they land in the result. Function names follow the Go ones (`mergeMap`,
//! `mergeSlice`, `mergePatchIntoOriginal`) so the two can be read side by side.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::directive::{
    self, DELETE_FROM_PRIMITIVE_LIST, Directive, PATCH, RETAIN_KEYS, SET_ELEMENT_ORDER, invalid, unknown,
};
use super::error::{PatchError, ValueKind};
use super::field_node;
use super::path::Path;
use super::scalar::{GoType, element_type, go_stable_sort_by_position, merge_sorted};
use crate::schema::Node;

/// Merges `patch` into `original` (both objects).
pub(super) fn merge(
    original: &Map<String, Value>,
    patch: &Map<String, Value>,
    schema: Node<'_>,
) -> Result<Value, PatchError> {
    match Directive::of_map(patch, &Path::ROOT)? {
        Some(Directive::Delete) => return Err(PatchError::DeleteObject),
        Some(Directive::Replace) => return Ok(Value::Object(without_directive(patch))),
        Some(Directive::Merge) => return Err(unknown("merge", &Path::ROOT)),
        None => {}
    }
    let mut out = original.clone();
    merge_map(&mut out, patch, schema, &Path::ROOT)?;
    Ok(Value::Object(out))
}

/// `mergeMap`: merges the patch map into `dest`.
fn merge_map(
    dest: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    node: Node<'_>,
    path: &Path<'_>,
) -> Result<(), PatchError> {
    match Directive::of_map(patch, path)? {
        // `$patch: replace`: the patch as it is, less the directive (nested nulls stay).
        Some(Directive::Replace) => {
            *dest = without_directive(patch);
            return Ok(());
        }
        // `$patch: delete` on a map that exists leaves an empty map, as apimachinery does.
        Some(Directive::Delete) => {
            dest.clear();
            return Ok(());
        }
        Some(Directive::Merge) => return Err(unknown("merge", path)),
        None => {}
    }
    if let Some(keys) = patch.get(RETAIN_KEYS) {
        retain_keys(dest, patch, keys, path)?;
    }
    // `$setElementOrder/<field>` first: it merges and orders its list, which the loop then skips.
    let mut ordered: Vec<&str> = Vec::new();
    for (key, value) in patch {
        if let Some(field) = directive::parallel_list_field(key, SET_ELEMENT_ORDER, path)? {
            set_element_order(dest, patch, key, field, value, node, path)?;
            ordered.push(field);
        }
    }
    for (key, value) in patch {
        if key == PATCH || key == RETAIN_KEYS || key.starts_with(SET_ELEMENT_ORDER) {
            continue;
        }
        if directive::parallel_list_field(key, DELETE_FROM_PRIMITIVE_LIST, path)?.is_some() {
            continue;
        }
        if ordered.contains(&key.as_str()) {
            continue;
        }
        if value.is_null() {
            dest.shift_remove(key);
            continue;
        }
        if dest.get(key).is_none_or(|current| GoType::of(current) != GoType::of(value)) {
            // New, or the types differ: the patch value, less its nulls and directives.
            insert_clean(dest, key, value);
            continue;
        }
        let field_path = path.field(key);
        let current = dest.get_mut(key).expect("checked above");
        match (current, value) {
            (Value::Object(current), Value::Object(value)) => {
                let field = field_node(node, key);
                if field.patch_strategy().replace {
                    current.clone_from(value);
                } else {
                    merge_map(current, value, field, &field_path)?;
                }
            }
            (Value::Array(current), Value::Array(value)) => {
                let field = field_node(node, key);
                if field.patch_strategy().merge {
                    merge_slice(current, value, field, &field_path)?;
                } else {
                    current.clone_from(value);
                }
            }
            (current, value) => current.clone_from(value),
        }
    }
    // `$deleteFromPrimitiveList/<field>` last. apimachinery handles it in Go's random map order
    // when the patch also has the list itself (without `$setElementOrder`, which merges the list
    // first); deleting after merging is the order it always takes with `$setElementOrder`.
    for (key, value) in patch {
        if let Some(field) = directive::parallel_list_field(key, DELETE_FROM_PRIMITIVE_LIST, path)? {
            delete_from_primitive_list(dest, key, field, value, path)?;
        }
    }
    Ok(())
}

/// Sets `dest[key]` to `value` without nulls and directives, or removes the key when `value` is
/// itself a directive map (apimachinery's `discardNullValuesFromPatch` + `removeDirectives`).
fn insert_clean(dest: &mut Map<String, Value>, key: &str, value: &Value) {
    match clean(value, true) {
        Some(clean) => {
            if let Some(slot) = dest.get_mut(key) {
                *slot = clean;
            } else {
                dest.insert(key.to_string(), clean);
            }
        }
        None => {
            dest.shift_remove(key);
        }
    }
}

/// A copy of `value` for a place the original does not have: maps holding `$patch` are dropped
/// (`None` at the top), and with `drop_nulls`, so are null map values at any depth.
pub(super) fn clean(value: &Value, drop_nulls: bool) -> Option<Value> {
    match value {
        Value::Object(map) => {
            if map.get(PATCH).is_some_and(|d| !(drop_nulls && d.is_null())) {
                return None;
            }
            let mut out = Map::with_capacity(map.len());
            for (key, item) in map {
                if drop_nulls && item.is_null() {
                    continue;
                }
                if let Some(item) = clean(item, drop_nulls) {
                    out.insert(key.clone(), item);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => Some(Value::Array(items.iter().filter_map(|item| clean(item, drop_nulls)).collect())),
        scalar => Some(scalar.clone()),
    }
}

/// A copy of a map without its `$patch` key.
fn without_directive(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter().filter(|(key, _)| *key != PATCH).map(|(key, value)| (key.clone(), value.clone())).collect()
}

/// `applyRetainKeysDirective`: every field the patch sets must be listed; fields of `dest` that
/// are not listed are cleared.
fn retain_keys(
    dest: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    keys: &Value,
    path: &Path<'_>,
) -> Result<(), PatchError> {
    let Some(keys) = keys.as_array() else {
        return Err(invalid(path, RETAIN_KEYS, "it must be a list of field names"));
    };
    let listed = |field: &str| keys.iter().any(|key| key.as_str() == Some(field));
    for (field, value) in patch {
        if value.is_null() || directive::is_directive_key(field) {
            continue;
        }
        if !listed(field) {
            return Err(invalid(path, RETAIN_KEYS, format!("the patch sets `{field}`, which it does not list")));
        }
    }
    dest.retain(|field, _| listed(field));
    Ok(())
}

/// `$deleteFromPrimitiveList/<field>`: removes the listed scalars from the list `field`.
fn delete_from_primitive_list(
    dest: &mut Map<String, Value>,
    key: &str,
    field: &str,
    value: &Value,
    path: &Path<'_>,
) -> Result<(), PatchError> {
    if value.is_null() {
        dest.shift_remove(field);
        return Ok(());
    }
    let Some(current) = dest.get_mut(field) else { return Ok(()) };
    match (current, value) {
        (Value::Array(current), Value::Array(delete)) => {
            let field_path = path.field(field);
            if element_type(&[current, delete], &field_path)? == Some(GoType::Map) {
                return Err(invalid(path, key, "it applies to lists of scalars only"));
            }
            current.retain(|item| !delete.contains(item));
            Ok(())
        }
        (current, value) if GoType::of(current) != GoType::of(value) => Ok(()),
        _ => Err(invalid(path, key, "it must be a list")),
    }
}

/// `mergeSlice` for a list whose strategy is `merge`.
fn merge_slice(dest: &mut Vec<Value>, patch: &[Value], node: Node<'_>, path: &Path<'_>) -> Result<(), PatchError> {
    match element_type(&[dest, patch], path)? {
        None => Ok(()),
        Some(GoType::Map) => {
            let key = node.patch_merge_key().ok_or_else(|| PatchError::NoMergeKey { path: path.render() })?;
            merge_keyed(dest, patch, key, field_items(node), path)
        }
        Some(_) => {
            merge_scalars(dest, patch);
            Ok(())
        }
    }
}

/// The node of a list's items (deduced below unknown positions).
fn field_items(node: Node<'_>) -> Node<'_> {
    node.items().unwrap_or_else(Node::deduced)
}

/// A list of scalars merged as a set, ordered as apimachinery's `normalizeElementOrder` does.
fn merge_scalars(dest: &mut Vec<Value>, patch: &[Value]) {
    let server = first_positions(server_order(dest, patch).into_iter());
    let in_patch = first_positions(patch.iter());
    let mut patch_items: Vec<Value> = Vec::new();
    let mut server_only: Vec<Value> = Vec::new();
    let mut seen: HashSet<&Value> = HashSet::new();
    for item in dest.iter().chain(patch) {
        if !seen.insert(item) {
            continue;
        }
        if in_patch.contains_key(item) {
            patch_items.push(item.clone());
        } else {
            server_only.push(item.clone());
        }
    }
    go_stable_sort_by_position(&mut patch_items, |item| in_patch.get(item).copied());
    go_stable_sort_by_position(&mut server_only, |item| server.get(item).copied());
    let server: HashMap<Value, usize> = server.into_iter().map(|(item, at)| (item.clone(), at)).collect();
    *dest = merge_sorted(server_only, patch_items, |item| server.get(item).copied());
}

/// The original list as apimachinery orders server-only items by. Go's `append(original,
/// patch...)` writes into the original's spare capacity when it fits, and the in-place
/// `deduplicateScalars` that follows then overwrites the original's duplicates: the order list
/// is that overwritten copy. (`encoding/json` grows a decoded list's capacity by doubling.)
fn server_order<'v>(dest: &'v [Value], patch: &'v [Value]) -> Vec<&'v Value> {
    let mut both: Vec<&Value> = dest.iter().chain(patch).collect();
    let capacity = if dest.len() <= 256 { dest.len().next_power_of_two() } else { dest.len() };
    if dest.is_empty() || both.len() > capacity {
        both.truncate(dest.len());
        return both;
    }
    // deduplicateScalars: `for i < length { for j := i+1; j <= length; j++ { if s[i] == s[j]
    // { s[j] = s[length]; length--; j-- } } }`.
    let mut length = both.len() - 1;
    let mut i = 0;
    while i < length {
        let mut j = i + 1;
        while j <= length {
            if both[i] == both[j] {
                both[j] = both[length];
                length -= 1;
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    both.truncate(dest.len());
    both
}

/// The first position of each value in `items`.
fn first_positions<'v>(items: impl Iterator<Item = &'v Value>) -> HashMap<&'v Value, usize> {
    let mut positions = HashMap::new();
    for (at, item) in items.enumerate() {
        positions.entry(item).or_insert(at);
    }
    positions
}

/// A list of maps merged by `key`: deletions, `$patch: replace`, merges of matching items,
/// appends of new ones, then apimachinery's order.
fn merge_keyed(
    dest: &mut Vec<Value>,
    patch: &[Value],
    key: &str,
    items: Node<'_>,
    path: &Path<'_>,
) -> Result<(), PatchError> {
    // mergeSliceWithSpecialElements
    let mut replace = false;
    let mut regular: Vec<(usize, &Map<String, Value>)> = Vec::with_capacity(patch.len());
    for (at, item) in patch.iter().enumerate() {
        let Value::Object(item) = item else { unreachable!("element_type checked that every item is a map") };
        let Some(value) = item.get(PATCH) else {
            regular.push((at, item));
            continue;
        };
        match Directive::parse(value, &path.index(at))? {
            Directive::Delete => {
                let kv = item.get(key).ok_or_else(|| missing_key(&path.index(at), key))?;
                dest.retain(|current| current.get(key) != Some(kv));
            }
            Directive::Replace => replace = true,
            Directive::Merge => return Err(unknown("merge", &path.index(at))),
        }
    }
    if replace {
        *dest = regular.iter().map(|(_, item)| Value::Object((*item).clone())).collect();
        regular.clear();
    }
    let mut server: HashMap<Value, usize> = HashMap::with_capacity(dest.len());
    for (at, item) in dest.iter().enumerate() {
        let kv = item.get(key).ok_or_else(|| missing_key(&path.index(at), key))?;
        server.entry(kv.clone()).or_insert(at);
    }
    // mergeSliceWithoutSpecialElements: merge into the first item with the key, else append.
    let original_len = dest.len();
    let mut in_patch: HashMap<&Value, usize> = HashMap::with_capacity(regular.len());
    for (at, item) in &regular {
        let kv = item.get(key).ok_or_else(|| missing_key(&path.index(*at), key))?;
        in_patch.entry(kv).or_insert(*at);
        let found = server
            .get(kv)
            .copied()
            .or_else(|| dest[original_len..].iter().position(|c| c.get(key) == Some(kv)).map(|p| p + original_len));
        match found.and_then(|found| dest[found].as_object_mut()) {
            Some(current) => merge_map(current, item, items, &path.key(key, kv))?,
            None => dest.push(Value::Object((*item).clone())),
        }
    }
    // normalizeElementOrder
    let (mut patch_items, mut server_only): (Vec<Value>, Vec<Value>) =
        std::mem::take(dest).into_iter().partition(|item| item.get(key).is_some_and(|kv| in_patch.contains_key(kv)));
    let by_key =
        |positions: &HashMap<&Value, usize>, item: &Value| item.get(key).and_then(|kv| positions.get(kv).copied());
    go_stable_sort_by_position(&mut patch_items, |item| by_key(&in_patch, item));
    let server_position = |item: &Value| item.get(key).and_then(|kv| server.get(kv).copied());
    go_stable_sort_by_position(&mut server_only, server_position);
    *dest = merge_sorted(server_only, patch_items, server_position);
    Ok(())
}

fn missing_key(path: &Path<'_>, key: &str) -> PatchError {
    PatchError::MissingMergeKey { path: path.render(), key: key.to_string() }
}

/// `mergePatchIntoOriginal` for one `$setElementOrder/<field>`: merges the patch's list (if any)
/// into `dest[field]` and orders the result as the directive lists.
fn set_element_order(
    dest: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    directive_key: &str,
    field: &str,
    order: &Value,
    node: Node<'_>,
    path: &Path<'_>,
) -> Result<(), PatchError> {
    let Some(order) = order.as_array() else {
        return Err(invalid(path, directive_key, "it must be a list"));
    };
    let field_path = path.field(field);
    let patch_list = match patch.get(field) {
        None => None,
        Some(Value::Array(list)) => Some(list.as_slice()),
        Some(other) => return Err(mismatch(&field_path, ValueKind::List, other)),
    };
    let dest_list = match dest.get_mut(field) {
        None => None,
        Some(Value::Array(list)) => Some(list),
        Some(other) => {
            let expected = ValueKind::of(other);
            return Err(PatchError::TypeMismatch { path: field_path.render(), expected, found: ValueKind::List });
        }
    };
    let list_node = field_node(node, field);
    let key = list_node.patch_merge_key();
    if let Some(patch_list) = patch_list {
        check_patch_order(patch_list, order, key, path, directive_key)?;
    }
    let identity = |item: &Value| -> Option<Value> {
        match key {
            Some(key) => item.get(key).cloned(),
            None => Some(item.clone()),
        }
    };
    let original_ids: Vec<Option<Value>> =
        dest_list.as_deref().map(|list| list.iter().map(identity).collect()).unwrap_or_default();
    let merged = match (dest_list, patch_list) {
        (Some(list), None) => std::mem::take(list),
        (None, Some(patch_list)) => patch_list.iter().filter_map(|item| clean(item, false)).collect(),
        (Some(list), Some(patch_list)) => {
            if list_node.patch_strategy().merge {
                merge_slice(list, patch_list, list_node, &field_path)?;
                std::mem::take(list)
            } else {
                patch_list.to_vec()
            }
        }
        (None, None) => return Ok(()),
    };
    if let Some(key) = key {
        if let Some(at) = order.iter().position(|item| item.get(key).is_none()) {
            return Err(invalid(path, directive_key, format!("item {at} has no merge key `{key}`")));
        }
        if let Some(at) = merged.iter().position(|item| item.get(key).is_none()) {
            return Err(missing_key(&field_path.index(at), key));
        }
    }
    let order_ids: Vec<Option<Value>> = order.iter().map(identity).collect();
    let position = |ids: &[Option<Value>], item: &Value| {
        let id = identity(item);
        ids.iter().position(|known| *known == id)
    };
    let (mut listed, mut others): (Vec<Value>, Vec<Value>) =
        merged.into_iter().partition(|item| position(&order_ids, item).is_some());
    go_stable_sort_by_position(&mut listed, |item| position(&order_ids, item));
    go_stable_sort_by_position(&mut others, |item| position(&original_ids, item));
    let result = merge_sorted(others, listed, |item| position(&original_ids, item));
    match dest.get_mut(field) {
        Some(slot) => *slot = Value::Array(result),
        None => {
            dest.insert(field.to_string(), Value::Array(result));
        }
    }
    Ok(())
}

/// `validatePatchWithSetOrderList`: the patch's items (deletions aside) appear in the order the
/// directive lists them.
fn check_patch_order(
    patch_list: &[Value],
    order: &[Value],
    key: Option<&str>,
    path: &Path<'_>,
    directive_key: &str,
) -> Result<(), PatchError> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let kept: Vec<&Value> = match key {
        Some(_) => patch_list.iter().filter(|item| item.get(PATCH).and_then(Value::as_str) != Some("delete")).collect(),
        None => patch_list.iter().collect(),
    };
    let (mut at, mut listed) = (0, 0);
    while at < kept.len() && listed < order.len() {
        if kept[at].get(PATCH).is_some() {
            at += 1;
            continue;
        }
        let same = match key {
            Some(key) => kept[at].get(key).is_some() && kept[at].get(key) == order[listed].get(key),
            None => kept[at] == &order[listed],
        };
        if same {
            at += 1;
        }
        listed += 1;
    }
    if at < kept.len() {
        return Err(invalid(path, directive_key, "the patch's list items are not in the order it gives"));
    }
    Ok(())
}

fn mismatch(path: &Path<'_>, expected: ValueKind, found: &Value) -> PatchError {
    PatchError::TypeMismatch { path: path.render(), expected, found: ValueKind::of(found) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalar_merge_orders_like_apimachinery() {
        let mut finalizers = vec![json!("a"), json!("b"), json!("d")];
        merge_scalars(&mut finalizers, &[json!("c"), json!("a"), json!("e")]);
        assert_eq!(finalizers, [json!("c"), json!("a"), json!("e"), json!("b"), json!("d")]);
    }

    #[test]
    fn duplicates_in_the_original_overwrite_its_order_when_the_patch_fits_its_capacity() {
        // [b, a, a] has capacity 4: appending [q] writes in place, and deduplication turns the
        // original into [b, a, q], so q sorts after b and a.
        let (dest, patch) = ([json!("b"), json!("a"), json!("a")], [json!("q")]);
        assert_eq!(server_order(&dest, &patch), [&json!("b"), &json!("a"), &json!("q")]);
        let mut merged = dest.to_vec();
        merge_scalars(&mut merged, &patch);
        assert_eq!(merged, [json!("b"), json!("a"), json!("q")]);
        // [a, b, a, c] is full: the append copies, and the original order stands.
        let dest = [json!("a"), json!("b"), json!("a"), json!("c")];
        assert_eq!(server_order(&dest, &patch), dest.iter().collect::<Vec<_>>());
    }

    #[test]
    fn clean_drops_nulls_and_directive_maps() {
        let value = json!({"a": null, "b": {"$patch": "delete"}, "c": [null, {"$patch": "replace"}, {"x": null}]});
        assert_eq!(clean(&value, true), Some(json!({"c": [null, {}]})));
        assert_eq!(clean(&value, false), Some(json!({"a": null, "c": [null, {"x": null}]})));
    }
}
