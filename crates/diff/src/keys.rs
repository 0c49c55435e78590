//! Matching the items of keyed lists (`x-kubernetes-list-type: map`) and sets by identity.
//!
//! An index reads every item's key once; matching then compares values, with no map lookups,
//! and no hashing for the short lists Kubernetes objects have. Long lists are hashed.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

use crate::scalar::numbers_equal;
use crate::walk::lookup;

/// `protocol` defaults to `TCP` in every keyed list that uses it as a key (container ports,
/// service ports, endpoint ports), so `{containerPort: 80}` and `{containerPort: 80,
/// protocol: TCP}` are the same item, as the API server sees them after defaulting.
static TCP: LazyLock<Value> = LazyLock::new(|| Value::String("TCP".to_owned()));

/// Keyed lists with more key fields than this are compared whole (none in Kubernetes has more
/// than three).
const MAX_KEYS: usize = 4;

/// Lists at most this long are matched by linear search; longer ones through a hash map.
const LINEAR: usize = 16;

/// The value of key field `key` of a keyed-list item, with the API server's defaults.
pub(crate) fn key_value<'v>(item: &'v Value, key: &str) -> Option<&'v Value> {
    match item.as_object().and_then(|fields| lookup(fields, key)) {
        Some(Value::Null) | None if key == "protocol" => Some(&TCP),
        Some(Value::Null) | None => None,
        Some(value) => Some(value),
    }
}

fn parts_equal(a: &Value, b: &Value) -> bool {
    a == b || numbers_equal(a, b)
}

/// An item's key: the values of its key fields (for a set, the item itself).
type Key<'v> = [Option<&'v Value>; MAX_KEYS];

fn key_of<'v>(item: &'v Value, keys: Option<&[String]>) -> Option<Key<'v>> {
    let mut key = [None; MAX_KEYS];
    match keys {
        None => key[0] = Some(item),
        Some(keys) => {
            for (slot, name) in key.iter_mut().zip(keys) {
                *slot = Some(key_value(item, name)?);
            }
        }
    }
    Some(key)
}

fn keys_equal(a: &Key<'_>, b: &Key<'_>) -> bool {
    a.iter().zip(b).all(|pair| match pair {
        (Some(x), Some(y)) => parts_equal(x, y),
        (None, None) => true,
        _ => false,
    })
}

/// A key as text for hashing: numbers by value, so `80` and `80.0` hash alike.
fn key_text(key: &Key<'_>) -> String {
    let mut text = String::new();
    for part in key.iter().flatten() {
        match part {
            Value::Number(n) => match n.as_f64() {
                #[allow(clippy::cast_possible_truncation)] // an integral f64 within i64's range
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => text.push_str(&(f as i64).to_string()),
                _ => text.push_str(&n.to_string()),
            },
            other => text.push_str(&other.to_string()),
        }
        text.push('\0');
    }
    text
}

/// Keys of short lists are kept inline: no allocation for the lists objects usually have.
const INLINE: usize = 8;

/// The keys of a list's items, inline when few. The inline variant is large on purpose: it
/// lives on the stack for the duration of one list's comparison.
#[allow(clippy::large_enum_variant)]
enum Keys<'v> {
    Inline([Key<'v>; INLINE], usize),
    Heap(Vec<Key<'v>>),
}

impl<'v> Keys<'v> {
    fn collect(items: &'v [Value], keys: Option<&[String]>) -> Option<Keys<'v>> {
        if items.len() > INLINE {
            return items.iter().map(|item| key_of(item, keys)).collect::<Option<Vec<_>>>().map(Keys::Heap);
        }
        let mut inline = [[None; MAX_KEYS]; INLINE];
        for (slot, item) in inline.iter_mut().zip(items) {
            *slot = key_of(item, keys)?;
        }
        Some(Keys::Inline(inline, items.len()))
    }

    fn as_slice(&self) -> &[Key<'v>] {
        match self {
            Keys::Inline(keys, len) => &keys[..*len],
            Keys::Heap(keys) => keys,
        }
    }
}

/// An index of a list's items by key (keyed lists) or by value (sets).
pub(crate) struct ItemIndex<'v> {
    items: &'v [Value],
    keys: Option<&'v [String]>,
    item_keys: Keys<'v>,
    map: Option<HashMap<String, usize>>,
}

impl<'v> ItemIndex<'v> {
    /// Indexes a keyed list. `None` when an item lacks a key field or two items share a key:
    /// such a list cannot be merged by key, and is compared whole.
    pub(crate) fn keyed(items: &'v [Value], keys: &'v [String]) -> Option<ItemIndex<'v>> {
        if keys.len() > MAX_KEYS {
            return None;
        }
        ItemIndex::build(items, Some(keys), Keys::collect(items, Some(keys))?)
    }

    /// Indexes a set of scalars. `None` when a value repeats.
    pub(crate) fn set(items: &'v [Value]) -> Option<ItemIndex<'v>> {
        ItemIndex::build(items, None, Keys::collect(items, None)?)
    }

    fn build(items: &'v [Value], keys: Option<&'v [String]>, item_keys: Keys<'v>) -> Option<ItemIndex<'v>> {
        let all = item_keys.as_slice();
        if all.len() <= LINEAR {
            for (i, key) in all.iter().enumerate() {
                if all[..i].iter().any(|earlier| keys_equal(earlier, key)) {
                    return None;
                }
            }
            return Some(ItemIndex { items, keys, item_keys, map: None });
        }
        let mut map = HashMap::with_capacity(all.len());
        for (i, key) in all.iter().enumerate() {
            if map.insert(key_text(key), i).is_some() {
                return None;
            }
        }
        Some(ItemIndex { items, keys, item_keys, map: Some(map) })
    }

    /// The position of the item with the same key (or value) as `probe`.
    pub(crate) fn find(&self, probe: &Value) -> Option<usize> {
        let key = key_of(probe, self.keys)?;
        match &self.map {
            Some(map) => map.get(&key_text(&key)).copied(),
            None => self.item_keys.as_slice().iter().position(|item| keys_equal(item, &key)),
        }
    }

    /// The item with the same key (or value) as `probe`.
    pub(crate) fn get(&self, probe: &Value) -> Option<&'v Value> {
        self.find(probe).map(|i| &self.items[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn protocol_defaults_to_tcp() {
        let keys = vec!["containerPort".to_owned(), "protocol".to_owned()];
        let live = [json!({"containerPort": 80, "protocol": "TCP"}), json!({"containerPort": 53, "protocol": "UDP"})];
        let index = ItemIndex::keyed(&live, &keys).expect("unique keys");
        assert_eq!(index.find(&json!({"containerPort": 80})), Some(0));
        assert_eq!(index.find(&json!({"containerPort": 53})), None);
        assert_eq!(index.find(&json!({"containerPort": 53.0, "protocol": "UDP"})), Some(1));
    }

    #[test]
    fn long_lists_are_hashed_alike() {
        let keys = vec!["name".to_owned()];
        let items: Vec<Value> = (0..40).map(|i| json!({"name": format!("v{i}"), "value": i})).collect();
        let index = ItemIndex::keyed(&items, &keys).expect("unique keys");
        assert_eq!(index.find(&json!({"name": "v33"})), Some(33));
        let mut duplicated = items.clone();
        duplicated.push(json!({"name": "v1"}));
        assert!(ItemIndex::keyed(&duplicated, &keys).is_none());
        let numbers: Vec<Value> = (0..40).map(|i| json!(i)).collect();
        assert_eq!(ItemIndex::set(&numbers).expect("distinct").find(&json!(7.0)), Some(7));
        assert!(ItemIndex::set(&[json!("a"), json!("a")]).is_none());
        assert!(ItemIndex::keyed(&[json!({"other": 1})], &keys).is_none());
    }
}
