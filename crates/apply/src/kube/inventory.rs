//! Inventories as ApplySet parent Secrets.
//!
//! The parent is a Secret named after the application in the inventory namespace, labelled with
//! the set's id and annotated with the tooling, group-kinds and additional namespaces exactly as
//! `kubectl apply --applyset` writes them, so kubectl sees the same set. Its `data.inventory`
//! holds the [`Inventory`] as JSON: the members with their `apiVersion`s, the synced revision
//! and the earlier ones.

use base64::Engine;
use gitops_core::{Inventory, Object, ObjectRef};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::json;

use super::{KubeTarget, error, to_object};
use crate::applyset;
use crate::target::{TargetError, TargetErrorKind};

/// The key in the parent Secret's `data` that holds the inventory.
const DATA_KEY: &str = "inventory";
/// The field manager of the parent's writes.
const MANAGER: &str = "gitops-inventory";

impl KubeTarget {
    fn secrets(&self) -> Api<DynamicObject> {
        let resource = kube::core::discovery::ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: "Secret".into(),
            plural: "secrets".into(),
        };
        Api::namespaced_with(self.client.clone(), &self.inventory_namespace, &resource)
    }

    fn parent_ref(&self, name: &str) -> ObjectRef {
        ObjectRef::new("", "Secret", Some(&self.inventory_namespace), name)
    }

    /// The parent Secret, checked to be ours.
    pub(super) async fn parent(&self, name: &str) -> Result<Option<Object>, TargetError> {
        let r = self.parent_ref(name);
        let found =
            self.secrets().get_opt(name).await.map_err(|e| error::map(e, Some(&r), "cannot read the inventory"))?;
        let Some(found) = found else { return Ok(None) };
        let parent = to_object(found, &r)?;
        let refuse = |why: String| Err(TargetError::new(TargetErrorKind::Conflict, Some(&r), why));
        let id = self.applyset_id(name);
        match (parent.label(applyset::ID_LABEL), parent.annotation(applyset::TOOLING_ANNOTATION)) {
            (Some(found_id), _) if found_id != id => {
                refuse(format!("labels.{}: {found_id} is not the id of this inventory ({id})", applyset::ID_LABEL))
            }
            (_, Some(tooling)) if !tooling.starts_with("gitops/") => {
                refuse(format!("is the ApplySet of {tooling}; refusing to manage another tool's set"))
            }
            (None, _) => refuse("exists but is not an ApplySet parent; refusing to overwrite it".to_owned()),
            _ => Ok(Some(parent)),
        }
    }

    pub(super) async fn load_parent(&self, name: &str) -> Result<Option<Inventory>, TargetError> {
        let Some(parent) = self.parent(name).await? else { return Ok(None) };
        let r = self.parent_ref(name);
        let invalid =
            |why: &str| TargetError::new(TargetErrorKind::Invalid, Some(&r), format!("data.{DATA_KEY}: {why}"));
        let Some(encoded) = parent.pointer(&format!("/data/{DATA_KEY}")).and_then(|v| v.as_str()) else {
            return Ok(Some(Inventory::default()));
        };
        let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| invalid("not base64"))?;
        serde_json::from_slice(&bytes).map(Some).map_err(|e| invalid(&format!("not an inventory: {e}")))
    }

    pub(super) async fn save_parent(&self, name: &str, inventory: &Inventory) -> Result<(), TargetError> {
        // Refuse to take over a Secret that is not our set's parent.
        self.parent(name).await?;
        let r = self.parent_ref(name);
        let bytes = serde_json::to_vec(inventory).map_err(|e| {
            TargetError::new(TargetErrorKind::Invalid, Some(&r), "cannot encode the inventory").with_source(e)
        })?;
        let parent = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name,
                "namespace": self.inventory_namespace,
                "labels": {applyset::ID_LABEL: self.applyset_id(name)},
                "annotations": {
                    applyset::TOOLING_ANNOTATION: applyset::TOOLING,
                    applyset::GROUP_KINDS_ANNOTATION: applyset::group_kinds(inventory),
                    applyset::NAMESPACES_ANNOTATION: applyset::additional_namespaces(inventory, &self.inventory_namespace),
                },
            },
            "type": "Opaque",
            "data": {DATA_KEY: base64::engine::general_purpose::STANDARD.encode(bytes)},
        });
        let parent: DynamicObject = serde_json::from_value(parent).map_err(|e| {
            TargetError::new(TargetErrorKind::Invalid, Some(&r), "cannot encode the inventory").with_source(e)
        })?;
        let params = PatchParams::apply(MANAGER).force();
        self.secrets()
            .patch(name, &params, &Patch::Apply(&parent))
            .await
            .map_err(|e| error::map(e, Some(&r), "cannot save the inventory"))?;
        Ok(())
    }
}
