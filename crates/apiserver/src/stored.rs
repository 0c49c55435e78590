//! How an object is kept: its compact JSON, exactly as GET serves it, beside the few metadata
//! fields the server reads without parsing it.
//!
//! A `serde_json::Value` tree of a 3 KB Deployment costs several times its JSON in allocations,
//! and serving it means serializing it again. A [`Stored`] object is the serialized text (one
//! allocation, no spare capacity) and a [`Meta`] of what selectors, the garbage collector and
//! deletion need: labels, uid, owner references, finalizers, whether it is being deleted. GET
//! and LIST copy the text into the response, watch events splice it into their lines, and the
//! state directory writes it as is. Writes parse the live object ([`Stored::value`]), merge,
//! and store the result ([`Stored::new`]) in place of the old one.

use serde_json::Value;
use serde_json::value::RawValue;

/// One stored object.
#[derive(Debug)]
pub(crate) struct Stored {
    json: Box<RawValue>,
    meta: Meta,
}

/// The metadata the server reads from stored objects without parsing them.
#[derive(Debug, Default)]
pub(crate) struct Meta {
    /// `metadata.name`.
    pub(crate) name: Box<str>,
    /// `metadata.uid` (empty when absent).
    pub(crate) uid: Box<str>,
    /// `metadata.resourceVersion` as a number (0 when absent).
    pub(crate) revision: u64,
    /// `metadata.labels`, in the object's order.
    pub(crate) labels: Box<[(Box<str>, Box<str>)]>,
    /// `metadata.ownerReferences`: the owner's uid and whether it has `blockOwnerDeletion`.
    pub(crate) owners: Box<[(Box<str>, bool)]>,
    /// `metadata.finalizers`.
    pub(crate) finalizers: Box<[Box<str>]>,
    /// Whether `metadata.deletionTimestamp` is set.
    pub(crate) deleting: bool,
    /// Whether `spec.finalizers` is a non-empty list (a namespace waiting for its content).
    pub(crate) spec_finalizers: bool,
}

impl Stored {
    /// Serializes `object` and reads its metadata.
    pub(crate) fn new(object: &Value) -> Stored {
        // A `Value` always serializes; the fallback (`null`) is never taken.
        let json = serde_json::value::to_raw_value(object).unwrap_or_default();
        Stored { json, meta: Meta::of(object) }
    }

    /// The object, parsed.
    pub(crate) fn value(&self) -> Value {
        // The text was serialized from a `Value`, so it parses.
        serde_json::from_str(self.json.get()).unwrap_or(Value::Null)
    }

    /// The object as compact JSON.
    pub(crate) fn json(&self) -> &str {
        self.json.get()
    }

    /// The object as compact JSON, for serializing into a larger document.
    pub(crate) fn raw(&self) -> &RawValue {
        &self.json
    }

    /// The metadata read at store time.
    pub(crate) fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The value of label `key`.
    pub(crate) fn label(&self, key: &str) -> Option<&str> {
        self.meta.labels.iter().find(|(k, _)| &**k == key).map(|(_, v)| &**v)
    }

    /// Whether any owner reference names `uid`.
    pub(crate) fn owned_by(&self, uid: &str) -> bool {
        self.meta.owners.iter().any(|(owner, _)| &**owner == uid)
    }

    /// Whether `finalizer` is among the finalizers.
    pub(crate) fn has_finalizer(&self, finalizer: &str) -> bool {
        self.meta.finalizers.iter().any(|f| &**f == finalizer)
    }
}

fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

impl Meta {
    fn of(object: &Value) -> Meta {
        let metadata = object.get("metadata");
        let text = |field: &str| metadata.and_then(|m| m.get(field)).and_then(Value::as_str).unwrap_or("");
        let labels = metadata
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(key, value)| Some((Box::from(key.as_str()), Box::from(value.as_str()?))))
            .collect();
        let owners = array(metadata.and_then(|m| m.get("ownerReferences")))
            .iter()
            .filter_map(|owner| {
                let uid = owner.get("uid").and_then(Value::as_str)?;
                Some((Box::from(uid), owner.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true)))
            })
            .collect();
        let finalizers =
            array(metadata.and_then(|m| m.get("finalizers"))).iter().filter_map(Value::as_str).map(Box::from).collect();
        Meta {
            name: text("name").into(),
            uid: text("uid").into(),
            revision: text("resourceVersion").parse().unwrap_or(0),
            labels,
            owners,
            finalizers,
            deleting: !text("deletionTimestamp").is_empty(),
            spec_finalizers: !array(object.pointer("/spec/finalizers")).is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_the_json_and_reads_the_metadata() {
        let object = json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {
                "name": "a", "uid": "u1", "resourceVersion": "42", "labels": {"x": "1", "y": "2"},
                "ownerReferences": [{"uid": "o1", "blockOwnerDeletion": true}, {"uid": "o2"}],
                "finalizers": ["f"], "deletionTimestamp": "2026-01-01T00:00:00Z",
            },
            "spec": {"finalizers": ["kubernetes"]},
        });
        let stored = Stored::new(&object);
        assert_eq!(stored.value(), object);
        assert_eq!(stored.json(), object.to_string());
        let meta = stored.meta();
        assert_eq!((&*meta.name, &*meta.uid, meta.revision), ("a", "u1", 42));
        assert_eq!(stored.label("y"), Some("2"));
        assert_eq!(stored.label("z"), None);
        assert!(stored.owned_by("o2") && !stored.owned_by("o3"));
        assert_eq!(meta.owners.iter().filter(|(_, block)| *block).count(), 1);
        assert!(stored.has_finalizer("f") && meta.deleting && meta.spec_finalizers);
        let bare = Stored::new(&json!({"metadata": {"name": "b"}}));
        assert!(!bare.meta().deleting && !bare.meta().spec_finalizers && bare.meta().labels.is_empty());
    }
}
