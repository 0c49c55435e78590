//! Two-way patches: apimachinery's `CreateTwoWayMergePatch` (`diffMaps` with
//! `SetElementOrder: true`).

use serde_json::{Map, Value};

use super::directive::{DELETE_FROM_PRIMITIVE_LIST, PATCH, RETAIN_KEYS, SET_ELEMENT_ORDER, invalid};
use super::error::PatchError;
use super::field_node;
use super::path::Path;
use super::scalar::{GoType, element_type, go_stable_sort_by_position, go_text};
use crate::schema::Node;

/// The patch that turns `original` into `modified` (both objects).
pub(super) fn create(
    original: &Map<String, Value>,
    modified: &Map<String, Value>,
    schema: Node<'_>,
) -> Result<Value, PatchError> {
    Ok(Value::Object(diff_maps(original, modified, schema, false, &Path::ROOT)?))
}

/// `diffMaps`: additions and changes, nulls for removed fields, and `$retainKeys` when the
/// position's strategy is `retainKeys`.
fn diff_maps(
    original: &Map<String, Value>,
    modified: &Map<String, Value>,
    node: Node<'_>,
    retain_keys: bool,
    path: &Path<'_>,
) -> Result<Map<String, Value>, PatchError> {
    let mut patch = Map::new();
    let mut retained: Vec<&str> = Vec::new();
    for (key, new) in modified {
        if retain_keys && !new.is_null() {
            retained.push(key);
        }
        let Some(old) = original.get(key) else {
            patch.insert(key.clone(), new.clone());
            continue;
        };
        if key == PATCH {
            let (Some(old), Some(new_text)) = (old.as_str(), new.as_str()) else {
                return Err(invalid(path, PATCH, "it must be a string"));
            };
            if old != new_text {
                patch.insert(key.clone(), new.clone());
            }
            continue;
        }
        if GoType::of(old) != GoType::of(new) {
            patch.insert(key.clone(), new.clone());
            continue;
        }
        let field_path = path.field(key);
        match (old, new) {
            (Value::Object(old), Value::Object(new_map)) => {
                let field = field_node(node, key);
                let strategy = field.patch_strategy();
                if strategy.replace {
                    patch.insert(key.clone(), new.clone());
                } else {
                    let diff = diff_maps(old, new_map, field, strategy.retain_keys, &field_path)?;
                    if !diff.is_empty() {
                        patch.insert(key.clone(), Value::Object(diff));
                    }
                }
            }
            (Value::Array(old), Value::Array(new_list)) => {
                let field = field_node(node, key);
                let strategy = field.patch_strategy();
                if strategy.merge {
                    let lists = diff_lists(old, new_list, field, strategy.retain_keys, &field_path)?;
                    if !lists.changes.is_empty() {
                        patch.insert(key.clone(), Value::Array(lists.changes));
                    }
                    if !lists.deletions.is_empty() {
                        patch.insert(format!("{DELETE_FROM_PRIMITIVE_LIST}/{key}"), Value::Array(lists.deletions));
                    }
                    if !lists.order.is_empty() {
                        patch.insert(format!("{SET_ELEMENT_ORDER}/{key}"), Value::Array(lists.order));
                    }
                } else if old != new_list {
                    patch.insert(key.clone(), new.clone());
                }
            }
            _ => {
                if old != new {
                    patch.insert(key.clone(), new.clone());
                }
            }
        }
    }
    for key in original.keys() {
        if !modified.contains_key(key) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    let cleared = || original.iter().any(|(key, value)| !value.is_null() && !modified.contains_key(key));
    if !retained.is_empty() && (!patch.is_empty() || cleared()) {
        retained.sort_unstable();
        patch.insert(RETAIN_KEYS.to_string(), retained.into_iter().map(Value::from).collect());
    }
    Ok(patch)
}

/// The three parallel lists of a merged list's diff.
struct ListDiff {
    /// Changed and added items (for maps, also `$patch: delete` items).
    changes: Vec<Value>,
    /// Scalars to delete (`$deleteFromPrimitiveList/<field>`).
    deletions: Vec<Value>,
    /// The final order (`$setElementOrder/<field>`).
    order: Vec<Value>,
}

/// `diffLists` for a list whose strategy is `merge`.
fn diff_lists(
    original: &[Value],
    modified: &[Value],
    node: Node<'_>,
    retain_keys: bool,
    path: &Path<'_>,
) -> Result<ListDiff, PatchError> {
    if original.is_empty() {
        return Ok(ListDiff { changes: modified.to_vec(), deletions: Vec::new(), order: Vec::new() });
    }
    if element_type(&[original, modified], path)? == Some(GoType::Map) {
        let key = node.patch_merge_key().ok_or_else(|| PatchError::NoMergeKey { path: path.render() })?;
        let items = node.items().unwrap_or_else(Node::deduced);
        let (mut changes, deletions) = diff_keyed(original, modified, key, items, retain_keys, path)?;
        let position = |item: &Value| modified.iter().position(|m| m.get(key) == item.get(key));
        go_stable_sort_by_position(&mut changes, position);
        let same_order =
            original.len() == modified.len() && original.iter().zip(modified).all(|(o, m)| o.get(key) == m.get(key));
        changes.extend(deletions);
        let order = if changes.is_empty() && same_order {
            Vec::new()
        } else {
            modified
                .iter()
                .map(|item| {
                    let mut only_key = Map::new();
                    only_key.insert(key.to_string(), item.get(key).cloned().unwrap_or(Value::Null));
                    Value::Object(only_key)
                })
                .collect()
        };
        return Ok(ListDiff { changes, deletions: Vec::new(), order });
    }
    let (mut changes, deletions) = diff_scalars(original, modified);
    go_stable_sort_by_position(&mut changes, |item| modified.iter().position(|m| m == item));
    let order = if deletions.is_empty() && original == modified { Vec::new() } else { modified.to_vec() };
    Ok(ListDiff { changes, deletions, order })
}

/// `diffListsOfMaps`: both lists sorted by the merge key's text and walked together.
fn diff_keyed(
    original: &[Value],
    modified: &[Value],
    key: &str,
    items: Node<'_>,
    retain_keys: bool,
    path: &Path<'_>,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let sorted = |list: &'_ [Value]| -> Result<Vec<(String, usize)>, PatchError> {
        let mut keyed = Vec::with_capacity(list.len());
        for (at, item) in list.iter().enumerate() {
            let value = item
                .get(key)
                .ok_or_else(|| PatchError::MissingMergeKey { path: path.index(at).render(), key: key.to_string() })?;
            keyed.push((go_text(value).into_owned(), at));
        }
        keyed.sort();
        Ok(keyed)
    };
    let (old_sorted, new_sorted) = (sorted(original)?, sorted(modified)?);
    let mut changes = Vec::new();
    let mut deletions = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old_sorted.len() || j < new_sorted.len() {
        let step = match (old_sorted.get(i), new_sorted.get(j)) {
            (Some((old_key, _)), Some((new_key, _))) => old_key.cmp(new_key),
            (None, _) => std::cmp::Ordering::Greater,
            (_, None) => std::cmp::Ordering::Less,
        };
        match step {
            std::cmp::Ordering::Equal => {
                let (old, new) = (&original[old_sorted[i].1], &modified[new_sorted[j].1]);
                let kv = new.get(key).cloned().unwrap_or(Value::Null);
                let (Value::Object(old_map), Value::Object(new_map)) = (old, new) else {
                    unreachable!("element_type checked that every item is a map")
                };
                let diff = diff_maps(old_map, new_map, items, retain_keys, &path.key(key, &kv))?;
                if !diff.is_empty() {
                    let mut item = Map::with_capacity(diff.len() + 1);
                    item.insert(key.to_string(), kv);
                    item.extend(diff);
                    changes.push(Value::Object(item));
                }
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Greater => {
                changes.push(modified[new_sorted[j].1].clone());
                j += 1;
            }
            std::cmp::Ordering::Less => {
                let mut delete = Map::new();
                delete.insert(key.to_string(), original[old_sorted[i].1].get(key).cloned().unwrap_or(Value::Null));
                delete.insert(PATCH.to_string(), Value::from("delete"));
                deletions.push(Value::Object(delete));
                i += 1;
            }
        }
    }
    Ok((changes, deletions))
}

/// `diffListsOfScalars`: additions and (deduplicated) deletions, compared by Go's `%v` text.
fn diff_scalars(original: &[Value], modified: &[Value]) -> (Vec<Value>, Vec<Value>) {
    let sorted = |list: &'_ [Value]| {
        let mut texts: Vec<(String, usize)> =
            list.iter().enumerate().map(|(at, item)| (go_text(item).into_owned(), at)).collect();
        texts.sort();
        texts
    };
    let (old_sorted, new_sorted) = (sorted(original), sorted(modified));
    let (mut additions, mut deletions): (Vec<Value>, Vec<Value>) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old_sorted.len() || j < new_sorted.len() {
        match (old_sorted.get(i), new_sorted.get(j)) {
            (Some((old, _)), Some((new, _))) if old == new => {
                i += 1;
                j += 1;
            }
            (Some((old, _)), Some((new, at))) if old > new => {
                additions.push(modified[*at].clone());
                j += 1;
            }
            (None, Some((_, at))) => {
                additions.push(modified[*at].clone());
                j += 1;
            }
            (Some((_, at)), _) => {
                let item = &original[*at];
                if !deletions.contains(item) {
                    deletions.push(item.clone());
                }
                i += 1;
            }
            (None, None) => break,
        }
    }
    (additions, deletions)
}
