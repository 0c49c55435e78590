//! `DiffSet`: the per-object comparison of desired, live and owned objects.

use std::collections::BTreeMap;

use gitops_core::{Action, Inventory, ManifestSet, Object, ObjectRef};
use serde::Serialize;

use crate::compare::{changed_paths, strip_server_fields};

/// The comparison of one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectDiff {
    /// The object.
    pub object: ObjectRef,
    /// What a sync would do to it.
    pub action: Action,
    /// For updates, the differing field paths, in a stable order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// The desired object (absent for deletes).
    #[serde(skip)]
    pub desired: Option<Object>,
    /// The live object (absent for creates).
    #[serde(skip)]
    pub live: Option<Object>,
    /// The `apiVersion` to address the object with: the desired one, or the inventory's for deletes.
    pub api_version: String,
}

/// The comparison of a whole desired set with the live state and the inventory.
///
/// Desired objects come first, in render order, then prune candidates in [`ObjectRef`] order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DiffSet {
    /// One entry per desired or owned object.
    pub diffs: Vec<ObjectDiff>,
}

impl DiffSet {
    /// Whether any object would be created, updated or deleted.
    pub fn has_changes(&self) -> bool {
        self.diffs.iter().any(|d| d.action.is_write())
    }

    /// How many objects have this action.
    pub fn count(&self, action: Action) -> usize {
        self.diffs.iter().filter(|d| d.action == action).count()
    }

    /// The diff of one object.
    pub fn get(&self, object: &ObjectRef) -> Option<&ObjectDiff> {
        self.diffs.iter().find(|d| &d.object == object)
    }
}

/// Compares `desired` with `live` (the target's copies of desired and owned objects) and with the
/// `inventory` of what was applied before.
pub fn diff(desired: &ManifestSet, live: &BTreeMap<ObjectRef, Object>, inventory: &Inventory) -> DiffSet {
    let mut diffs = Vec::with_capacity(desired.len() + inventory.len());
    for manifest in desired {
        let object = manifest.object_ref();
        let live_object = live.get(&object);
        let (action, fields) = match live_object {
            None => (Action::Create, Vec::new()),
            Some(current) => {
                let mut want = manifest.object.to_value();
                let mut have = current.to_value();
                strip_server_fields(&mut want);
                strip_server_fields(&mut have);
                let fields = changed_paths(&want, &have);
                if fields.is_empty() { (Action::Unchanged, fields) } else { (Action::Update, fields) }
            }
        };
        diffs.push(ObjectDiff {
            object,
            action,
            fields,
            desired: Some(manifest.object.clone()),
            live: live_object.cloned(),
            api_version: manifest.object.api_version().to_owned(),
        });
    }
    for (object, api_version) in &inventory.objects {
        if desired.contains(object) {
            continue;
        }
        diffs.push(ObjectDiff {
            object: object.clone(),
            action: Action::Delete,
            fields: Vec::new(),
            desired: None,
            live: live.get(object).cloned(),
            api_version: api_version.clone(),
        });
    }
    DiffSet { diffs }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_core::{Manifest, Origin};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn object(value: Value) -> Object {
        Object::from_value(value).expect("valid object")
    }

    fn set(objects: &[Object]) -> ManifestSet {
        ManifestSet::from_manifests(
            objects.iter().map(|o| Manifest { object: o.clone(), origin: Origin::generated("test") }),
        )
        .expect("unique")
    }

    #[test]
    fn create_update_unchanged_delete() {
        let a = object(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}, "data": {"k": "1"}}),
        );
        let b = object(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "n"}, "data": {"k": "1"}}),
        );
        let c = object(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}));
        let mut live_b = b.to_value();
        live_b["data"]["k"] = json!("2");
        let mut live_a = a.to_value();
        live_a["metadata"]["uid"] = json!("u");
        live_a["status"] = json!({"phase": "x"});
        let gone = ObjectRef::new("", "ConfigMap", Some("n"), "gone");
        let live: BTreeMap<_, _> = [object(live_a), object(live_b)].into_iter().map(|o| (o.object_ref(), o)).collect();
        let mut inventory = Inventory::default();
        inventory.insert(gone.clone(), "v1");
        inventory.insert(a.object_ref(), "v1");
        let result = diff(&set(&[a, b, c]), &live, &inventory);
        let summary: Vec<(String, Action, Vec<String>)> =
            result.diffs.iter().map(|d| (d.object.to_string(), d.action, d.fields.clone())).collect();
        assert_eq!(
            summary,
            [
                ("ConfigMap/n/a".to_owned(), Action::Unchanged, vec![]),
                ("ConfigMap/n/b".to_owned(), Action::Update, vec!["data.k".to_owned()]),
                ("ConfigMap/n/c".to_owned(), Action::Create, vec![]),
                ("ConfigMap/n/gone".to_owned(), Action::Delete, vec![]),
            ]
        );
        assert!(result.has_changes());
    }

    proptest! {
        /// diff(a, a) is empty: an object compared with itself is unchanged.
        #[test]
        fn self_diff_is_empty(replicas in 0u32..10, labels in prop::collection::btree_map("[a-z]{1,5}", "[a-z0-9]{0,5}", 0..4)) {
            let obj = object(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d", "namespace": "n", "labels": labels}, "spec": {"replicas": replicas}}));
            let live: BTreeMap<_, _> = [(obj.object_ref(), obj.clone())].into_iter().collect();
            let result = diff(&set(std::slice::from_ref(&obj)), &live, &Inventory::default());
            prop_assert!(!result.has_changes());
            prop_assert_eq!(changed_paths(&obj.to_value(), &obj.to_value()), Vec::<String>::new());
        }
    }
}
