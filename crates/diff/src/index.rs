//! The per-diff index that matches desired objects with their live copies, last-applied
//! records and inventory entries by [`ObjectRef`].

use std::collections::HashMap;

use foldhash::fast::RandomState;

use gitops_core::{Object, ObjectRef};

use crate::three_way::Inputs;

/// What the caller's maps hold for one object: its live copy, its last-applied record, and the
/// `apiVersion` the inventory records.
#[derive(Default, Clone, Copy)]
pub(crate) struct Found<'a> {
    pub(crate) live: Option<&'a Object>,
    pub(crate) last: Option<&'a Object>,
    pub(crate) inventory: Option<&'a String>,
}

/// An [`ObjectRef`] as a key of the per-diff index: its group, kind, namespace and name as
/// bytes, held inline when short (almost always). A reference's four strings are separate heap
/// allocations; reading them for every hash and comparison was most of what matching 10,000
/// objects cost, while inline keys are read once and then compared where they lie in the table.
#[derive(PartialEq, Eq, Hash)]
enum Key {
    Inline(u8, [u8; INLINE_KEY]),
    Heap(Box<[u8]>),
}

/// The longest key held inline.
const INLINE_KEY: usize = 62;

impl Key {
    /// The key of a reference: the strings each followed by `0xff`, the namespace (when there
    /// is one) preceded by `0xfe`. Neither byte occurs in UTF-8, so different references have
    /// different keys (and `None` differs from `Some("")`, as in `ObjectRef`'s equality).
    fn new(object: &ObjectRef) -> Key {
        let namespace = object.namespace.as_deref();
        let len = object.group.len() + object.kind.len() + object.name.len() + namespace.map_or(3, |ns| ns.len() + 4);
        let mut bytes = [0u8; INLINE_KEY];
        let mut heap = Vec::new();
        let buffer: &mut [u8] = if len <= INLINE_KEY {
            &mut bytes[..len]
        } else {
            heap.resize(len, 0);
            &mut heap
        };
        let mut at = 0;
        let mut put = |part: &[u8]| {
            buffer[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        };
        put(object.group.as_bytes());
        put(&[0xff]);
        put(object.kind.as_bytes());
        put(&[0xff]);
        if let Some(namespace) = namespace {
            put(&[0xfe]);
            put(namespace.as_bytes());
        }
        put(&[0xff]);
        put(object.name.as_bytes());
        match u8::try_from(len) {
            Ok(short) if len <= INLINE_KEY => Key::Inline(short, bytes),
            _ => Key::Heap(heap.into_boxed_slice()),
        }
    }
}

/// One index over the caller's live, last-applied and inventory maps, so that each desired
/// object is found once rather than once per map. It lives for one diff and its keys come
/// from the caller's own maps, so a fast hash without DoS resistance is fine.
pub(crate) struct Index<'a> {
    found: HashMap<Key, Found<'a>, RandomState>,
}

impl<'a> Index<'a> {
    pub(crate) fn new(inputs: &Inputs<'a>) -> Index<'a> {
        let mut found: HashMap<Key, Found<'a>, RandomState> =
            HashMap::with_capacity_and_hasher(inputs.live.len().max(inputs.desired.len()), RandomState::default());
        for (object, live) in inputs.live {
            found.entry(Key::new(object)).or_default().live = Some(live);
        }
        match inputs.last_applied {
            // The two-way diff passes live as last applied: no second pass.
            Some(last) if std::ptr::eq(last, inputs.live) => found.values_mut().for_each(|f| f.last = f.live),
            Some(last) => {
                for (object, record) in last {
                    found.entry(Key::new(object)).or_default().last = Some(record);
                }
            }
            None => {}
        }
        for (object, api_version) in &inputs.inventory.objects {
            found.entry(Key::new(object)).or_default().inventory = Some(api_version);
        }
        Index { found }
    }

    /// What the maps hold for an object.
    pub(crate) fn get(&self, object: &ObjectRef) -> Found<'a> {
        self.found.get(&Key::new(object)).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_equal_exactly_when_references_are() {
        let long = "n".repeat(80);
        let refs = [
            ObjectRef::new("apps", "Deployment", Some("shop"), "web"),
            ObjectRef::new("apps", "Deployment", Some("shop"), "web2"),
            ObjectRef::new("apps", "Deployment", Some("sho"), "pweb"),
            ObjectRef::new("", "Deployment", Some("shop"), "web"),
            ObjectRef::new("apps", "StatefulSet", Some("shop"), "web"),
            ObjectRef::new("apps", "Deployment", None, "web"),
            ObjectRef { namespace: Some(String::new()), ..ObjectRef::new("apps", "Deployment", None, "web") },
            ObjectRef::new("apps", "Deployment", Some("shop"), long.as_str()),
            ObjectRef::new("apps", "Deployment", Some("shop"), &long[1..]),
        ];
        for a in &refs {
            for b in &refs {
                assert_eq!(Key::new(a) == Key::new(b), a == b, "{a:?} {b:?}");
            }
        }
        assert!(matches!(Key::new(&refs[7]), Key::Heap(_)));
        assert!(matches!(Key::new(&refs[0]), Key::Inline(..)));
    }
}
