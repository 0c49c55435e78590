//! Strategic merge as Kustomize applies it: kyaml's `merge2` walker with
//! `ListIncreaseDirection: Prepend` (`sigs.k8s.io/kustomize/kyaml/yaml/merge2`, `yaml/walk`).
//!
//! kyaml walks the original (`dest`) and the patch (`origin`) together. Where it differs from
//! apimachinery: new content is merged with itself (nulls dropped, directives applied), list
//! items in the patch come first, lists keyed by several `x-kubernetes-list-map-keys` match
//! items fuzzily by the keys' text, `$patch: merge` is accepted, and `$retainKeys`,
//! `$setElementOrder/…` and `$deleteFromPrimitiveList/…` are ordinary fields. kyaml also walks
//! the fields the patch does not mention, deduplicating their merged lists ([`normalize`]).
//!
//! kyaml works on shared YAML nodes, and some of its results come from that sharing, which this
//! module models explicitly: a list it merges with itself (new content, `$patch: replace`) has
//! the same items on both sides ([`merge_with_itself`]); Kustomize keeps only what was changed
//! in place, so a `$patch: replace` at the top of the patch, or on an item the original has, is
//! lost; and a `$patch` read once is gone when the same item is visited again.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::directive::{Directive, PATCH};
use super::error::{PatchError, ValueKind};
use super::field_node;
use super::path::Path;
use super::scalar::{plain_scalar, yaml_text};
use crate::schema::Node;

/// Merges `patch` into `original` (both objects).
pub(super) fn merge(
    original: &Map<String, Value>,
    patch: &Map<String, Value>,
    schema: Node<'_>,
) -> Result<Value, PatchError> {
    // kyaml returns the patch for a top-level `$patch: replace`, but Kustomize keeps only what
    // the merge changed in place (`Resource.ApplyFilter` ignores the returned node): a no-op.
    if Directive::of_map(patch, &Path::ROOT)? == Some(Directive::Replace) {
        return Ok(Value::Object(original.clone()));
    }
    walk_map(original.clone(), patch, schema, &Path::ROOT)?.ok_or(PatchError::DeleteObject)
}

/// How a list merges in kyaml: by keys, as a set of scalars, or (`None`) replaced.
enum Assoc<'s> {
    Keyed(Vec<&'s str>),
    Primitive,
}

/// kyaml's `IsAssociative` + `PatchStrategyAndKeyList`: a list with the `merge` strategy merges
/// by its `x-kubernetes-list-map-keys` when declared, else by its patch merge key.
fn assoc(node: Node<'_>) -> Option<Assoc<'_>> {
    if !node.patch_strategy().merge {
        return None;
    }
    let keys = node.list_map_keys();
    if !keys.is_empty() {
        return Some(Assoc::Keyed(keys.iter().map(String::as_str).collect()));
    }
    Some(node.patch_merge_key().map_or(Assoc::Primitive, |key| Assoc::Keyed(vec![key])))
}

fn items_of(node: Node<'_>) -> Node<'_> {
    node.items().unwrap_or_else(Node::deduced)
}

/// kyaml's node kinds: mapping, sequence, scalar.
fn kind_class(value: &Value) -> u8 {
    match value {
        Value::Object(_) => 0,
        Value::Array(_) => 1,
        _ => 2,
    }
}

/// `Walker.Walk` for one field: `None` clears it.
fn walk(dest: Option<Value>, origin: &Value, node: Node<'_>, path: &Path<'_>) -> Result<Option<Value>, PatchError> {
    if origin.is_null() {
        return Ok(None);
    }
    let Some(dest) = dest.filter(|dest| !dest.is_null()) else {
        return self_merge(origin, node, path);
    };
    if kind_class(&dest) != kind_class(origin) {
        let (expected, found) = (ValueKind::of(&dest), ValueKind::of(origin));
        return Err(PatchError::TypeMismatch { path: path.render(), expected, found });
    }
    match (dest, origin) {
        (Value::Object(dest), Value::Object(origin)) => walk_map(dest, origin, node, path),
        (Value::Array(dest), Value::Array(origin)) => match assoc(node) {
            Some(assoc) => walk_list(dest, origin, &assoc, node, path),
            None => Ok(Some(Value::Array(origin.clone()))),
        },
        (_, origin) => Ok(Some(origin.clone())),
    }
}

/// `VisitMap` + `walkMap` with both sides present.
fn walk_map(
    mut dest: Map<String, Value>,
    origin: &Map<String, Value>,
    node: Node<'_>,
    path: &Path<'_>,
) -> Result<Option<Value>, PatchError> {
    match Directive::of_map(origin, path)? {
        Some(Directive::Delete) => return Ok(None),
        Some(Directive::Replace) => return Ok(Some(Value::Object(self_merge_map(origin, node, path)?))),
        Some(Directive::Merge) | None => {}
    }
    for (key, value) in origin {
        if key == PATCH {
            continue;
        }
        let current = dest.get_mut(key).map(std::mem::take);
        match walk(current, value, field_node(node, key), &path.field(key))? {
            Some(merged) => match dest.get_mut(key) {
                Some(slot) => *slot = merged,
                None => {
                    dest.insert(key.clone(), merged);
                }
            },
            None => {
                dest.shift_remove(key);
            }
        }
    }
    for (key, value) in &mut dest {
        if !origin.contains_key(key) {
            normalize(value, field_node(node, key));
        }
    }
    Ok(Some(Value::Object(dest)))
}

/// New content: kyaml merges a value the original lacks with itself, which drops its nulls and
/// applies its directives (except inside lists it replaces wholesale).
fn self_merge(origin: &Value, node: Node<'_>, path: &Path<'_>) -> Result<Option<Value>, PatchError> {
    match origin {
        Value::Null => Ok(None),
        Value::Object(map) => match Directive::of_map(map, path)? {
            Some(Directive::Delete) => Ok(None),
            _ => Ok(Some(Value::Object(self_merge_map(map, node, path)?))),
        },
        Value::Array(items) => match assoc(node) {
            Some(assoc) => match list_directive(items, path)? {
                (Some(Directive::Delete), _) => Ok(None),
                (_, items) => merge_with_itself(&items, &assoc, node, path).map(Some),
            },
            None => Ok(Some(origin.clone())),
        },
        scalar => Ok(Some(scalar.clone())),
    }
}

fn self_merge_map(map: &Map<String, Value>, node: Node<'_>, path: &Path<'_>) -> Result<Map<String, Value>, PatchError> {
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        if key == PATCH {
            continue;
        }
        if let Some(value) = self_merge(value, field_node(node, key), &path.field(key))? {
            out.insert(key.clone(), value);
        }
    }
    Ok(out)
}

/// `VisitList` + `walkAssociativeSequence`: the list-level directive, then the merge.
fn walk_list(
    dest: Vec<Value>,
    origin: &[Value],
    assoc: &Assoc<'_>,
    node: Node<'_>,
    path: &Path<'_>,
) -> Result<Option<Value>, PatchError> {
    let (directive, patch) = list_directive(origin, path)?;
    match directive {
        Some(Directive::Delete) => Ok(None),
        Some(Directive::Replace) => merge_with_itself(&patch, assoc, node, path).map(Some),
        Some(Directive::Merge) | None => {
            let merged = match assoc {
                Assoc::Primitive => merge_primitive(dest, &patch),
                Assoc::Keyed(keys) => merge_keyed(dest, &patch, keys, items_of(node), path, false)?,
            };
            Ok(Some(Value::Array(merged)))
        }
    }
}

/// A list merged with itself: kyaml's walk when the list is new content or replaces the
/// original's, with the same nodes on both sides. Each item is merged with itself where it is
/// found; items never matched (duplicates, fuzzy keys) stay as they are.
fn merge_with_itself(
    items: &[&Value],
    assoc: &Assoc<'_>,
    node: Node<'_>,
    path: &Path<'_>,
) -> Result<Value, PatchError> {
    let items: Vec<Value> = items.iter().map(|item| (*item).clone()).collect();
    Ok(Value::Array(match assoc {
        Assoc::Primitive => merge_primitive(items, &[]),
        Assoc::Keyed(keys) => merge_keyed(items, &[], keys, items_of(node), path, true)?,
    }))
}

/// `determineSequenceNodePatchStrategy`: the first map item holding `$patch` is the list's
/// directive when `$patch` is its only key; items carrying that same directive are elided
/// (with null and empty-map items, which kyaml's element setter drops).
fn list_directive<'p>(origin: &'p [Value], path: &Path<'_>) -> Result<(Option<Directive>, Vec<&'p Value>), PatchError> {
    let all = || origin.iter().collect();
    let Some(found) = origin.iter().find_map(|item| item.as_object().filter(|map| map.contains_key(PATCH))) else {
        return Ok((None, all()));
    };
    if found.len() > 1 {
        return Ok((None, all()));
    }
    let value = &found[PATCH];
    let directive = Directive::parse(value, path)?;
    let dropped = |item: &Value| match item {
        Value::Null => true,
        Value::Object(map) => map.is_empty() || map.get(PATCH) == Some(value),
        _ => false,
    };
    Ok((Some(directive), origin.iter().filter(|item| !dropped(item)).collect()))
}

/// A scalar list merged by text: the patch's values first, then the original's others; a
/// value in both keeps the original's form.
fn merge_primitive(dest: Vec<Value>, patch: &[&Value]) -> Vec<Value> {
    let mut from_dest: HashMap<String, Value> = HashMap::with_capacity(dest.len());
    let mut order: Vec<String> = Vec::with_capacity(dest.len() + patch.len());
    let mut from_patch: HashMap<String, &Value> = HashMap::with_capacity(patch.len());
    for item in patch.iter().copied().filter(|item| !item.is_null()) {
        let text = yaml_text(item).into_owned();
        if let std::collections::hash_map::Entry::Vacant(entry) = from_patch.entry(text) {
            order.push(entry.key().clone());
            entry.insert(item);
        }
    }
    for item in dest.into_iter().filter(|item| !item.is_null()) {
        let text = yaml_text(&item).into_owned();
        if !from_patch.contains_key(&text) && !from_dest.contains_key(&text) {
            order.push(text.clone());
        }
        from_dest.entry(text).or_insert(item);
    }
    order
        .into_iter()
        .filter_map(|text| from_dest.remove(&text).or_else(|| from_patch.get(&text).map(|item| (*item).clone())))
        .collect()
}

/// One original item during a keyed merge.
struct Slot {
    value: Option<Value>,
    deleted: bool,
}

impl Slot {
    /// Stores the merged value of the original item at `index`, or marks it deleted when the
    /// merge left nothing; returns the item to keep in the list.
    fn settle(&mut self, index: usize, merged: Option<Value>) -> Option<Item> {
        if let Some(value) = merged {
            self.value = Some(value);
            Some(Item::Dest(index))
        } else {
            self.deleted = true;
            None
        }
    }
}

/// An item of the merged list: an original item (merged in place) or a new one.
enum Item {
    Dest(usize),
    Own(Value),
}

/// `setAssociativeSequenceElements` + `appendListNode` with `Prepend`. With `aliased`, `dest`
/// holds the patch's own items (kyaml walking a list against itself) and `patch` is empty: an
/// item found is merged with itself in place.
fn merge_keyed(
    dest: Vec<Value>,
    patch: &[&Value],
    keys: &[&str],
    items_node: Node<'_>,
    path: &Path<'_>,
    aliased: bool,
) -> Result<Vec<Value>, PatchError> {
    // kyaml has no error for a missing key (it deletes every item with the key); we refuse.
    for (at, item) in patch.iter().copied().chain(dest.iter()).enumerate() {
        let at = if at < patch.len() { at } else { at - patch.len() };
        let Value::Object(map) = item else {
            let found = ValueKind::of(item);
            return Err(PatchError::TypeMismatch { path: path.index(at).render(), expected: ValueKind::Map, found });
        };
        if map.get(keys[0]).is_none_or(Value::is_null) {
            return Err(PatchError::MissingMergeKey { path: path.index(at).render(), key: keys[0].to_string() });
        }
    }
    let texts = |item: &Value| -> Vec<String> {
        keys.iter().map(|key| item.get(*key).map(yaml_text).unwrap_or_default().into_owned()).collect()
    };
    let mut values: Vec<Vec<String>> = Vec::with_capacity(patch.len() + dest.len());
    let mut seen: HashSet<Vec<String>> = HashSet::new();
    for item in patch.iter().copied().chain(dest.iter()) {
        let text = texts(item);
        if seen.insert(text.clone()) {
            values.push(text);
        }
    }
    if keys.len() > 1 {
        merge_values(&mut values);
    }
    let mut slots: Vec<Slot> = dest.into_iter().map(|value| Slot { value: Some(value), deleted: false }).collect();
    let mut items: Vec<Item> = Vec::new();
    let mut last_keys: Vec<&str> = keys.to_vec();
    // kyaml removes an item's `$patch` when it reads it; an item visited again (two key tuples
    // unified to the same one) is seen without it.
    let mut elided = vec![false; patch.len()];
    for at in 0..values.len() {
        let (valid_keys, valid_values) = valid_keys(&values, &values[at], keys);
        let (match_keys, match_values) = valid_keys_of_one(&valid_keys, &valid_values);
        last_keys.clone_from(&valid_keys);
        let in_dest = slots.iter().position(|slot| {
            !slot.deleted && slot.value.as_ref().is_some_and(|item| has_fields(item, &match_keys, &match_values))
        });
        let in_patch = patch.iter().position(|item| has_fields(item, &match_keys, &match_values));
        let item_path = match in_patch {
            Some(found) => path.key(keys[0], &patch[found][keys[0]]),
            None => path.index(in_dest.unwrap_or_default()),
        };
        let origin: Option<Cow<'_, Value>> = in_patch.map(|from| {
            if elided[from] { Cow::Owned(without_directive(patch[from])) } else { Cow::Borrowed(patch[from]) }
        });
        let directive = match &origin {
            Some(origin) => item_directive(origin, &item_path)?,
            None => None,
        };
        if let (Some(from), Some(_)) = (in_patch, directive) {
            elided[from] = true;
        }
        let merged: Option<Item> = match (in_dest, origin) {
            // An item replaced with `$patch: replace`: kyaml merges the replacement into the new
            // list, but the original item, untouched, takes its place again when the original's
            // items are laid over it (`appendListNode`): the replacement is lost.
            (Some(_), Some(origin)) if directive == Some(Directive::Replace) => {
                self_merge(&origin, items_node, &item_path)?.map(Item::Own)
            }
            (Some(found), Some(origin)) => {
                let current = slots[found].value.take();
                let merged = match (current, origin.as_ref()) {
                    (Some(Value::Object(current)), Value::Object(origin)) => {
                        walk_map(current, origin, items_node, &item_path)?
                    }
                    (current, origin) => walk(current, origin, items_node, &item_path)?,
                };
                slots[found].settle(found, merged)
            }
            (Some(found), None) if aliased => {
                let merged = match slots[found].value.take() {
                    Some(current) => self_merge(&current, items_node, &item_path)?,
                    None => None,
                };
                slots[found].settle(found, merged)
            }
            (Some(found), None) => {
                if let Some(value) = slots[found].value.as_mut() {
                    normalize(value, items_node);
                }
                Some(Item::Dest(found))
            }
            (None, Some(origin)) => self_merge(&origin, items_node, &item_path)?.map(Item::Own),
            (None, None) => None,
        };
        let merged = merged.filter(|item| !resolve(item, &slots).as_object().is_some_and(Map::is_empty));
        let Some(mut merged) = merged else {
            for slot in &mut slots {
                if !slot.deleted
                    && slot.value.as_ref().is_some_and(|item| setter_matches(item, &valid_keys, &valid_values))
                {
                    slot.deleted = true;
                }
            }
            if let Some(found) = in_dest {
                slots[found].deleted = true;
            }
            continue;
        };
        // Make sure the item carries its keys' values.
        let target = match &mut merged {
            Item::Dest(found) => slots[*found].value.as_mut(),
            Item::Own(value) => Some(value),
        };
        if let Some(Value::Object(map)) = target {
            for (key, value) in valid_keys.iter().zip(&valid_values) {
                if !value.is_empty() && !map.contains_key(*key) {
                    map.insert((*key).to_string(), plain_scalar(value));
                }
            }
        }
        set_element(&mut items, merged, &valid_keys, &valid_values, &slots);
    }
    if !values.is_empty() {
        // appendListNode(itemsToBeAdded, dest): every remaining original item replaces its match,
        // or (with several keys) moves to the end.
        for found in 0..slots.len() {
            let Some(item) = slots[found].value.as_ref().filter(|_| !slots[found].deleted) else { continue };
            let mut item_values = Vec::with_capacity(last_keys.len());
            let mut appended = false;
            for key in &last_keys {
                match item.get(*key) {
                    Some(value) => item_values.push(yaml_text(value).into_owned()),
                    None => appended = true,
                }
            }
            if appended {
                items.push(Item::Dest(found));
            }
            let match_keys = &last_keys[..item_values.len()];
            if last_keys.len() > 1 {
                items.retain(|other| !setter_matches(resolve(other, &slots), match_keys, &item_values));
            }
            set_element(&mut items, Item::Dest(found), match_keys, &item_values, &slots);
        }
    }
    Ok(finish(items, slots))
}

/// A copy of a list item without its `$patch`.
fn without_directive(item: &Value) -> Value {
    match item {
        Value::Object(map) => {
            Value::Object(map.iter().filter(|(key, _)| *key != PATCH).map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        other => other.clone(),
    }
}

/// The `$patch` directive of a list item, if it is a map.
fn item_directive(item: &Value, path: &Path<'_>) -> Result<Option<Directive>, PatchError> {
    item.as_object().map_or(Ok(None), |map| Directive::of_map(map, path))
}

/// kyaml's `mergeValues`: key tuples that agree wherever both have a value become one.
fn merge_values(values: &mut [Vec<String>]) {
    for i in 0..values.len() {
        // Go's `for i, values1 := range valuesList` reads `values1` once per outer iteration.
        let first = values[i].clone();
        for j in 0..values.len() {
            if let Some(joined) = join(&first, &values[j]) {
                values[i].clone_from(&joined);
                values[j] = joined;
            }
        }
    }
}

fn join(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut out = Vec::with_capacity(a.len());
    for (a, b) in a.iter().zip(b) {
        if a == b {
            common = true;
            out.push(a.clone());
        } else if !a.is_empty() && !b.is_empty() {
            return None;
        } else {
            out.push(if a.is_empty() { b.clone() } else { a.clone() });
        }
    }
    common.then_some(out)
}

/// kyaml's `validateKeys`: the keys some tuple has a value for (all when none has), with this
/// tuple's values for them.
fn valid_keys<'k>(all: &[Vec<String>], values: &[String], keys: &[&'k str]) -> (Vec<&'k str>, Vec<String>) {
    let valid: Vec<bool> = (0..keys.len()).map(|at| all.iter().any(|tuple| !tuple[at].is_empty())).collect();
    if !valid.contains(&true) {
        return (keys.to_vec(), values.to_vec());
    }
    let pick = |at: usize| valid[at];
    let keys = keys.iter().enumerate().filter(|(at, _)| pick(*at)).map(|(_, key)| *key).collect();
    let values = values.iter().enumerate().filter(|(at, _)| pick(*at)).map(|(_, value)| value.clone()).collect();
    (keys, values)
}

/// `validateKeys` on one tuple (what `elementValueList` matches items by).
fn valid_keys_of_one<'k>(keys: &[&'k str], values: &[String]) -> (Vec<&'k str>, Vec<String>) {
    valid_keys(std::slice::from_ref(&values.to_vec()), values, keys)
}

/// `MatchElementList`: the item has every key, with exactly that text.
fn has_fields(item: &Value, keys: &[&str], values: &[String]) -> bool {
    item.is_object()
        && keys.iter().zip(values).all(|(key, value)| item.get(*key).is_some_and(|v| yaml_text(v) == *value))
}

/// `ElementSetter`'s matching: the item has every key, and its text where the value is not empty.
fn setter_matches(item: &Value, keys: &[&str], values: &[String]) -> bool {
    item.is_object()
        && keys
            .iter()
            .zip(values)
            .all(|(key, value)| item.get(*key).is_some_and(|v| value.is_empty() || yaml_text(v) == *value))
}

fn resolve<'v>(item: &'v Item, slots: &'v [Slot]) -> &'v Value {
    match item {
        Item::Own(value) => value,
        Item::Dest(found) => slots[*found].value.as_ref().unwrap_or(&Value::Null),
    }
}

/// `ElementSetter` with an element: replaces every match, or appends.
fn set_element(items: &mut Vec<Item>, item: Item, keys: &[&str], values: &[String], slots: &[Slot]) {
    let matches: Vec<usize> =
        (0..items.len()).filter(|&at| setter_matches(resolve(&items[at], slots), keys, values)).collect();
    if matches.is_empty() {
        items.push(item);
        return;
    }
    for &at in &matches[1..] {
        items[at] = match &item {
            Item::Dest(found) => Item::Dest(*found),
            Item::Own(value) => Item::Own(value.clone()),
        };
    }
    items[matches[0]] = item;
}

/// The merged list: original items are moved out, cloned only when listed twice.
fn finish(items: Vec<Item>, mut slots: Vec<Slot>) -> Vec<Value> {
    let mut uses = vec![0usize; slots.len()];
    for item in &items {
        if let Item::Dest(found) = item {
            uses[*found] += 1;
        }
    }
    items
        .into_iter()
        .filter_map(|item| match item {
            Item::Own(value) => Some(value),
            Item::Dest(found) => {
                uses[found] -= 1;
                if uses[found] == 0 { slots[found].value.take() } else { slots[found].value.clone() }
            }
        })
        .collect()
}

/// kyaml walks the fields the patch does not mention too: their merged lists come out
/// deduplicated (scalars by text, keyed items by key, the last duplicate winning).
fn normalize(value: &mut Value, node: Node<'_>) {
    if node.is_deduced() {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                normalize(value, field_node(node, key));
            }
        }
        Value::Array(items) => match assoc(node) {
            None => {}
            Some(Assoc::Primitive) => {
                let mut seen = HashSet::new();
                if items.iter().any(|item| item.is_null() || !seen.insert(yaml_text(item))) {
                    *items = merge_primitive(std::mem::take(items), &[]);
                }
            }
            Some(Assoc::Keyed(keys)) => {
                let items_node = items_of(node);
                if items.iter().any(|item| item.get(keys[0]).is_none_or(Value::is_null)) {
                    return; // Malformed: left as it is.
                }
                if keyed_duplicates(items, &keys) {
                    if let Ok(merged) = merge_keyed(std::mem::take(items), &[], &keys, items_node, &Path::ROOT, false) {
                        *items = merged;
                    }
                } else {
                    for item in items.iter_mut() {
                        normalize(item, items_node);
                    }
                }
            }
        },
        _ => {}
    }
}

/// Whether two items of a keyed list share (or, with several keys, fuzzily share) their keys.
fn keyed_duplicates(items: &[Value], keys: &[&str]) -> bool {
    let mut values: Vec<Vec<String>> = items
        .iter()
        .map(|item| keys.iter().map(|key| item.get(*key).map(yaml_text).unwrap_or_default().into_owned()).collect())
        .collect();
    if keys.len() > 1 {
        merge_values(&mut values);
    }
    let mut seen = HashSet::new();
    !values.iter().all(|tuple| seen.insert(tuple.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuples(values: &[[&str; 2]]) -> Vec<Vec<String>> {
        values.iter().map(|tuple| tuple.iter().map(|v| (*v).to_string()).collect()).collect()
    }

    #[test]
    fn merge_values_reads_each_outer_tuple_once() {
        // Go's `for i, values1 := range` keeps the first tuple as read: [53, ""] joins both
        // [53, UDP] and then [53, TCP], and ends as the last one joined.
        let mut values = tuples(&[["53", ""], ["53", "UDP"], ["53", "TCP"], ["443", "UDP"]]);
        merge_values(&mut values);
        assert_eq!(values, tuples(&[["53", "TCP"], ["53", "UDP"], ["53", "TCP"], ["443", "UDP"]]));
    }

    #[test]
    fn valid_keys_keep_the_keys_some_tuple_has() {
        let all = tuples(&[["80", ""], ["53", ""]]);
        let (keys, values) = valid_keys(&all, &all[0], &["containerPort", "protocol"]);
        assert_eq!((keys, values), (vec!["containerPort"], vec!["80".to_string()]));
        let none = tuples(&[["", ""]]);
        let (keys, _) = valid_keys(&none, &none[0], &["containerPort", "protocol"]);
        assert_eq!(keys, ["containerPort", "protocol"]);
    }
}
