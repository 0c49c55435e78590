//! The one place the Kustomize renderer calls strategic merge.

use gitops_core::patch::{ListOrder, MergeOptions, PatchError, strategic_merge};
use gitops_core::schema::Node;
use serde_json::Value;

/// Merges `patch` into `original` as Kustomize does; `None` when the patch deletes the object.
pub(crate) fn merge(original: &Value, patch: &Value, schema: Node<'_>) -> Result<Option<Value>, String> {
    match strategic_merge(original, patch, schema, &MergeOptions::default().list_order(ListOrder::Kustomize)) {
        Ok(merged) => Ok(Some(merged)),
        Err(PatchError::DeleteObject) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}
