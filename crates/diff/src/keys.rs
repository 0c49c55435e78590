//! Matching the items of keyed lists (`x-kubernetes-list-type: map`) and sets by identity.
//!
//! An index reads every item's key once and takes a fingerprint of it; matching then compares
//! fingerprints, and values only when fingerprints agree, with no map lookups. Short lists (the
//! lists Kubernetes objects have) are searched linearly, long ones by bisection.

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

/// Lists at most this long are matched by linear search; longer ones by bisection of their
/// sorted fingerprints.
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
    crate::text::values_equal(a, b) || numbers_equal(a, b)
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

/// A fingerprint of a key, equal for equal keys (numbers by value, so `80` and `80.0` agree):
/// comparing fingerprints first spares reading and comparing the key strings of items that do
/// not match, which is most of the comparisons in a list matched by linear search. It is cheap
/// rather than strong (a string's length and its first and last eight bytes): items whose
/// fingerprints agree are compared in full.
fn fingerprint(key: &Key<'_>) -> u64 {
    let mut print: u64 = 0;
    for part in key.iter().flatten() {
        let part = match part {
            Value::String(text) => text_fingerprint(text.as_bytes()),
            Value::Number(n) => {
                // `numbers_equal` compares through f64 whenever one side is a float, so the f64
                // value is what must agree; `0.0` and `-0.0` are equal.
                let value = n.as_f64().unwrap_or_default();
                if value == 0.0 { 0 } else { value.to_bits() }
            }
            Value::Bool(b) => u64::from(*b) + 2,
            // Nulls, lists and maps are rare as keys: they share a fingerprint and are told
            // apart by comparing them whole.
            _ => 4,
        };
        print = (print.rotate_left(23) ^ part).wrapping_mul(MIX);
    }
    print
}

/// An odd constant with well-spread bits (from splitmix64), to mix fingerprints.
const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

/// A string's length and its first and last (up to) eight bytes.
fn text_fingerprint(text: &[u8]) -> u64 {
    let (head, tail) = if let (Some(head), Some(tail)) = (text.first_chunk::<8>(), text.last_chunk::<8>()) {
        (u64::from_le_bytes(*head), u64::from_le_bytes(*tail))
    } else {
        (text.iter().fold(0u64, |word, &b| (word << 8) | u64::from(b)), 0)
    };
    (text.len() as u64) ^ head.wrapping_mul(MIX) ^ tail.rotate_left(31)
}

/// The position among `entries` of the one with `probe`'s key.
fn position_in(entries: &[Entry<'_>], probe: &Entry<'_>) -> Option<usize> {
    entries.iter().position(|e| e.fingerprint == probe.fingerprint && keys_equal(&e.key, &probe.key))
}

/// One item's key and its fingerprint.
#[derive(Clone, Copy)]
struct Entry<'v> {
    fingerprint: u64,
    key: Key<'v>,
}

/// An index of a list's items by key (keyed lists) or by value (sets).
pub(crate) struct ItemIndex<'v> {
    items: &'v [Value],
    keys: Option<&'v [String]>,
    entries: Vec<Entry<'v>>,
    /// For long lists, `(fingerprint, position)` sorted, searched by bisection.
    sorted: Option<Vec<(u64, usize)>>,
}

impl<'v> ItemIndex<'v> {
    /// Indexes a keyed list. `None` when an item lacks a key field or two items share a key:
    /// such a list cannot be merged by key, and is compared whole.
    pub(crate) fn keyed(items: &'v [Value], keys: &'v [String]) -> Option<ItemIndex<'v>> {
        if keys.len() > MAX_KEYS {
            return None;
        }
        ItemIndex::build(items, Some(keys))
    }

    /// Indexes a set of scalars. `None` when a value repeats.
    pub(crate) fn set(items: &'v [Value]) -> Option<ItemIndex<'v>> {
        ItemIndex::build(items, None)
    }

    fn build(items: &'v [Value], keys: Option<&'v [String]>) -> Option<ItemIndex<'v>> {
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            let key = key_of(item, keys)?;
            entries.push(Entry { fingerprint: fingerprint(&key), key });
        }
        let mut index = ItemIndex { items, keys, entries, sorted: None };
        if items.len() <= LINEAR {
            for (i, entry) in index.entries.iter().enumerate() {
                if position_in(&index.entries[..i], entry).is_some() {
                    return None;
                }
            }
            return Some(index);
        }
        let mut sorted: Vec<(u64, usize)> = index.entries.iter().map(|e| e.fingerprint).zip(0..).collect();
        sorted.sort_unstable();
        for (i, &(fingerprint, at)) in sorted.iter().enumerate() {
            let same = sorted[i + 1..].iter().take_while(|(f, _)| *f == fingerprint);
            if same.into_iter().any(|&(_, other)| keys_equal(&index.entries[at].key, &index.entries[other].key)) {
                return None;
            }
        }
        index.sorted = Some(sorted);
        Some(index)
    }

    fn position(&self, probe: &Entry<'_>) -> Option<usize> {
        let Some(sorted) = &self.sorted else {
            return position_in(&self.entries, probe);
        };
        let first = sorted.partition_point(|(f, _)| *f < probe.fingerprint);
        sorted[first..]
            .iter()
            .take_while(|(f, _)| *f == probe.fingerprint)
            .map(|&(_, at)| at)
            .find(|&at| keys_equal(&self.entries[at].key, &probe.key))
    }

    /// The position of the item with the same key (or value) as `probe`.
    pub(crate) fn find(&self, probe: &Value) -> Option<usize> {
        let key = key_of(probe, self.keys)?;
        self.position(&Entry { fingerprint: fingerprint(&key), key })
    }

    /// The item with the same key (or value) as `probe`.
    #[cfg(test)]
    pub(crate) fn get(&self, probe: &Value) -> Option<&'v Value> {
        self.find(probe).map(|i| &self.items[i])
    }

    /// The items indexed.
    pub(crate) fn items(&self) -> &'v [Value] {
        self.items
    }

    /// The item with the same key as item `at` of `other` (see [`ItemIndex::find_as`]).
    pub(crate) fn get_as(&self, other: &ItemIndex<'_>, at: usize) -> Option<&'v Value> {
        self.find_as(other, at).map(|i| &self.items[i])
    }

    /// The position of the item with the same key as item `at` of `other`, an index of the
    /// same kind (keyed by the same fields, or both sets): the key is not read again.
    pub(crate) fn find_as(&self, other: &ItemIndex<'_>, at: usize) -> Option<usize> {
        other.entries.get(at).and_then(|probe| self.position(probe))
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
    fn equal_fingerprints_are_compared_in_full() {
        // Same length, same first and last eight bytes: one fingerprint, different keys.
        let keys = vec!["name".to_owned()];
        for count in [3, 40] {
            let items: Vec<Value> =
                (0..count).map(|i| json!({"name": format!("prefix-a-{:02}-b-suffix", i % 100)})).collect();
            let index = ItemIndex::keyed(&items, &keys).expect("unique keys");
            for (i, item) in items.iter().enumerate() {
                assert_eq!(index.find(item), Some(i));
            }
            assert_eq!(index.find(&json!({"name": "prefix-a-77-b-suffix"})), None);
            let mut duplicated = items.clone();
            duplicated.push(items[1].clone());
            assert!(ItemIndex::keyed(&duplicated, &keys).is_none());
        }
        assert_eq!(ItemIndex::set(&[json!(0.0), json!(1)]).expect("distinct").find(&json!(-0.0)), Some(0));
        assert_eq!(ItemIndex::set(&[json!(0), json!(1)]).expect("distinct").find(&json!(1.0)), Some(1));
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
