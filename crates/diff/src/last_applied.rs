//! Where the last-applied object comes from when the caller has no record of it.

use gitops_core::Object;
use serde_json::{Map, Value};

use crate::managed::{extract_owned_map, field_sets};
use crate::walk::LAST_APPLIED_ANNOTATION;

/// The object `kubectl apply` (client-side) last applied, from the live object's
/// `kubectl.kubernetes.io/last-applied-configuration` annotation. `None` when the annotation is
/// absent or is not a valid object.
///
/// ```
/// use gitops_core::Object;
/// use gitops_diff::last_applied_from_annotation;
/// use serde_json::json;
/// let live = Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
///     "name": "a", "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
///         "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"},\"data\":{\"k\":\"v\"}}"}}}))?;
/// let last = last_applied_from_annotation(&live).expect("annotated");
/// assert_eq!(last.pointer("/data/k"), Some(&json!("v")));
/// # Ok::<(), gitops_core::ObjectError>(())
/// ```
pub fn last_applied_from_annotation(live: &Object) -> Option<Object> {
    let text = crate::fields::annotation(live, LAST_APPLIED_ANNOTATION)?;
    Object::from_value(serde_json::from_str(text).ok()?).ok()
}

/// The fields `manager` last applied with server-side apply, read from the live object's
/// `managedFields` (entries of that manager with operation `Apply`), with their live values.
/// `None` when the manager applied nothing.
///
/// The values are the live ones, so drift on these fields cannot be seen this way; removals can.
pub fn last_applied_from_managed_fields(live: &Object, manager: &str) -> Option<Object> {
    let sets = field_sets(live.as_map(), |name, operation| name == manager && operation == "Apply");
    if sets.is_empty() {
        return None;
    }
    let mut out = Map::new();
    for set in sets {
        merge_into(&mut out, extract_owned_map(live.as_map(), set));
    }
    out.insert("apiVersion".to_owned(), Value::String(live.api_version().to_owned()));
    out.insert("kind".to_owned(), Value::String(live.kind().to_owned()));
    let metadata = out.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(metadata) = metadata {
        metadata.insert("name".to_owned(), Value::String(live.name().to_owned()));
        if let Some(namespace) = live.namespace() {
            metadata.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
        }
    }
    Object::from_map(out).ok()
}

/// Merges maps key by key (two `Apply` entries of one manager are rare: one per subresource).
fn merge_into(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => merge_into(existing, more),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn from_managed_fields_of_one_manager() {
        let live = Object::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "team": "x"},
                "managedFields": [
                    {"manager": "gitops", "operation": "Apply", "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:replicas": {}}}},
                    {"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}}}
                ]},
            "spec": {"replicas": 2, "paused": false}
        }))
        .expect("valid");
        let last = last_applied_from_managed_fields(&live, "gitops").expect("applied");
        assert_eq!(
            last.into_value(),
            json!({"metadata": {"labels": {"app": "web"}, "name": "web", "namespace": "shop"}, "spec": {"replicas": 2},
                   "apiVersion": "apps/v1", "kind": "Deployment"})
        );
        assert!(last_applied_from_managed_fields(&live, "kubectl").is_none(), "an Update is not an apply");
    }
}
