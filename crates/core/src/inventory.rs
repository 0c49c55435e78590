//! `Inventory`: the objects an application applied, so that prune knows what it owns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::object_ref::ObjectRef;

/// One object in an inventory: its identity and the `apiVersion` it was applied with (needed to
/// address it for deletion after it left the desired state).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InventoryEntry {
    /// The object's identity.
    #[serde(flatten)]
    pub object: ObjectRef,
    /// The `apiVersion` it was last applied with.
    pub api_version: String,
}

/// The set of objects an application owns on a target, and the revisions it synced.
///
/// Entries are kept sorted by [`ObjectRef`], so a serialized inventory is deterministic.
///
/// ```
/// use gitops_core::{Inventory, ObjectRef};
/// let mut inv = Inventory::default();
/// inv.insert(ObjectRef::new("", "ConfigMap", Some("a"), "cfg"), "v1");
/// assert!(inv.contains(&ObjectRef::new("", "ConfigMap", Some("a"), "cfg")));
/// assert_eq!(inv.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The objects, with the `apiVersion` each was applied with.
    #[serde(with = "entries")]
    pub objects: BTreeMap<ObjectRef, String>,
    /// The revision last synced completely, as displayed (`main@sha1:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Earlier synced revisions, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<String>,
    /// The revision the application is pinned at (set by a rollback), if any: a sync to any
    /// other revision is refused until it is unpinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
}

impl Inventory {
    /// Adds or updates an entry.
    pub fn insert(&mut self, object: ObjectRef, api_version: impl Into<String>) {
        self.objects.insert(object, api_version.into());
    }

    /// Removes an entry.
    pub fn remove(&mut self, object: &ObjectRef) -> Option<String> {
        self.objects.remove(object)
    }

    /// Whether the object is owned.
    pub fn contains(&self, object: &ObjectRef) -> bool {
        self.objects.contains_key(object)
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether there are no objects.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The entries, in order.
    pub fn entries(&self) -> impl Iterator<Item = InventoryEntry> + '_ {
        self.objects
            .iter()
            .map(|(object, api_version)| InventoryEntry { object: object.clone(), api_version: api_version.clone() })
    }

    /// The synced revisions, newest first: the current one, then the history.
    ///
    /// ```
    /// use gitops_core::Inventory;
    /// let mut inv = Inventory::default();
    /// inv.record_revision("main@sha1:1111111111111111111111111111111111111111", 10);
    /// inv.record_revision("main@sha1:2222222222222222222222222222222222222222", 10);
    /// let revisions: Vec<&str> = inv.revisions().collect();
    /// assert_eq!(revisions.len(), 2);
    /// assert!(revisions[0].ends_with("2222"));
    /// ```
    pub fn revisions(&self) -> impl Iterator<Item = &str> + '_ {
        self.revision.iter().chain(&self.history).map(String::as_str)
    }

    /// Records `revision` as synced, moving the previous one into the history (kept to `keep`).
    pub fn record_revision(&mut self, revision: &str, keep: usize) {
        if let Some(previous) = self.revision.replace(revision.to_owned())
            && previous != revision
        {
            self.history.insert(0, previous);
            self.history.truncate(keep);
        }
    }
}

mod entries {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::InventoryEntry;
    use crate::object_ref::ObjectRef;

    pub(super) fn serialize<S: Serializer>(map: &BTreeMap<ObjectRef, String>, s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<InventoryEntry> = map
            .iter()
            .map(|(object, api_version)| InventoryEntry { object: object.clone(), api_version: api_version.clone() })
            .collect();
        list.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<ObjectRef, String>, D::Error> {
        let list = Vec::<InventoryEntry>::deserialize(d)?;
        Ok(list.into_iter().map(|e| (e.object, e.api_version)).collect())
    }
}
