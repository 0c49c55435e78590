//! The object store: objects by (group, resource, namespace, name), one global resourceVersion.
//!
//! Objects are kept as [`Stored`] (compact JSON plus the metadata the server indexes on), not as
//! `Value` trees: see the `stored` module.
//!
//! Every `put` and `remove` is also recorded as a [`Change`]; the server takes the changes of a
//! request as one [`Batch`] when the request ends, to persist it, to feed watchers, or to undo it.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::stored::Stored;

/// Where an object is stored. Cluster-scoped objects have an empty namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub(crate) group: String,
    pub(crate) resource: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
}

impl Key {
    pub(crate) fn new(group: &str, resource: &str, namespace: &str, name: &str) -> Key {
        Key { group: group.into(), resource: resource.into(), namespace: namespace.into(), name: name.into() }
    }
}

/// One write to the store: `old` is what the key held before, `new` what it holds after
/// (`None` for a removal).
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) key: Key,
    pub(crate) old: Option<Arc<Stored>>,
    pub(crate) new: Option<Arc<Stored>>,
}

/// The changes of one request, and the resourceVersions before and after it.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) from: u64,
    pub(crate) to: u64,
    pub(crate) changes: Vec<Change>,
}

/// Objects in key order, the last resourceVersion handed out, and the changes not yet taken.
#[derive(Debug, Default)]
pub(crate) struct Store {
    objects: BTreeMap<Key, Arc<Stored>>,
    revision: u64,
    committed: u64,
    pending: Vec<Change>,
}

impl Store {
    /// A store holding `objects` at `revision`, with nothing pending.
    pub(crate) fn restored(objects: BTreeMap<Key, Arc<Stored>>, revision: u64) -> Store {
        Store { objects, revision, committed: revision, pending: Vec::new() }
    }

    pub(crate) fn get(&self, key: &Key) -> Option<&Arc<Stored>> {
        self.objects.get(key)
    }

    /// The object at `key`, parsed.
    pub(crate) fn value(&self, key: &Key) -> Option<Value> {
        self.objects.get(key).map(|stored| stored.value())
    }

    /// The changes since the last call, as one batch.
    pub(crate) fn take_changes(&mut self) -> Batch {
        let batch = Batch { from: self.committed, to: self.revision, changes: std::mem::take(&mut self.pending) };
        self.committed = self.revision;
        batch
    }

    /// Undoes a batch taken by [`Store::take_changes`] (the last one): a write that could not be
    /// made durable must not be served.
    pub(crate) fn undo(&mut self, batch: &Batch) {
        for change in batch.changes.iter().rev() {
            match &change.old {
                Some(old) => self.objects.insert(change.key.clone(), Arc::clone(old)),
                None => self.objects.remove(&change.key),
            };
        }
        self.revision = batch.from;
        self.committed = batch.from;
    }

    /// Objects of one resource, in one namespace or all, in (namespace, name) order, starting
    /// after `after` (a `namespace/name` continue position) when given.
    pub(crate) fn list<'a>(
        &'a self,
        group: &'a str,
        resource: &'a str,
        namespace: Option<&'a str>,
        after: Option<(&str, &str)>,
    ) -> impl Iterator<Item = (&'a Key, &'a Arc<Stored>)> + 'a {
        let start = match after {
            Some((ns, name)) => Bound::Excluded(Key::new(group, resource, ns, name)),
            None => Bound::Included(Key::new(group, resource, namespace.unwrap_or(""), "")),
        };
        self.objects
            .range((start, Bound::Unbounded))
            .take_while(move |(key, _)| key.group == group && key.resource == resource)
            .filter(move |(key, _)| namespace.is_none_or(|ns| key.namespace == ns))
    }

    /// Every object with its key, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Key, &Arc<Stored>)> {
        self.objects.iter()
    }

    /// Every key in `namespace`, of every resource.
    pub(crate) fn keys_in_namespace(&self, namespace: &str) -> Vec<Key> {
        self.objects.keys().filter(|key| key.namespace == namespace).cloned().collect()
    }

    /// The current resourceVersion.
    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    /// Hands out the next resourceVersion.
    pub(crate) fn next_revision(&mut self) -> u64 {
        self.revision += 1;
        self.revision
    }

    /// Stores `value` at `key` and returns it as stored.
    pub(crate) fn put(&mut self, key: Key, value: &Value) -> Arc<Stored> {
        let new = Arc::new(Stored::new(value));
        let old = self.objects.insert(key.clone(), Arc::clone(&new));
        self.pending.push(Change { key, old, new: Some(Arc::clone(&new)) });
        new
    }

    pub(crate) fn remove(&mut self, key: &Key) -> Option<Arc<Stored>> {
        let old = self.objects.remove(key)?;
        self.pending.push(Change { key: key.clone(), old: Some(Arc::clone(&old)), new: None });
        Some(old)
    }

    pub(crate) fn len(&self) -> usize {
        self.objects.len()
    }
}

/// The parts of an object that `generation` follows: everything but `metadata` and `status`.
pub(crate) fn spec_changed(old: &Value, new: &Value) -> bool {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else { return old != new };
    let relevant = |key: &String| !matches!(key.as_str(), "metadata" | "status" | "apiVersion" | "kind");
    let old_keys: Vec<(&String, &Value)> = old.iter().filter(|(k, _)| relevant(k)).collect();
    let new_keys: Vec<(&String, &Value)> = new.iter().filter(|(k, _)| relevant(k)).collect();
    old_keys.len() != new_keys.len() || old_keys.iter().any(|(k, v)| new.get(*k) != Some(*v))
}

/// Sets a `metadata` field.
pub(crate) fn set_meta(object: &mut Value, field: &str, value: Value) {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.insert(field.into(), value);
    }
}

/// Reads a string `metadata` field.
pub(crate) fn meta_str<'v>(object: &'v Value, field: &str) -> Option<&'v str> {
    object.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_by_namespace_and_position() {
        let mut store = Store::default();
        for (ns, name) in [("a", "x"), ("a", "y"), ("b", "x")] {
            store.put(Key::new("", "configmaps", ns, name), &json!({"metadata": {"name": name, "namespace": ns}}));
        }
        store.put(Key::new("", "secrets", "a", "s"), &json!({}));
        assert_eq!(store.list("", "configmaps", None, None).count(), 3);
        assert_eq!(store.list("", "configmaps", Some("a"), None).count(), 2);
        assert_eq!(store.list("", "configmaps", None, Some(("a", "y"))).count(), 1);
        assert_eq!(store.list("", "configmaps", Some("b"), None).count(), 1);
        assert_eq!(store.keys_in_namespace("a").len(), 3);
    }

    #[test]
    fn generation_follows_spec_only() {
        let old = json!({"metadata": {"labels": {}}, "spec": {"a": 1}, "status": {"x": 1}});
        assert!(!spec_changed(&old, &json!({"metadata": {}, "spec": {"a": 1}, "status": {"x": 2}})));
        assert!(spec_changed(&old, &json!({"spec": {"a": 2}})));
        assert!(spec_changed(&old, &json!({"spec": {"a": 1}, "data": {}})));
    }
}
