//! Normalization: rewriting objects before they are compared.
//!
//! Most of what makes two spellings of an object equal is decided while comparing, by the schema
//! (quantities, numbers, empty values, list order), and costs nothing for objects that need no
//! rewrite. What needs a rewrite is done here, on copies: Secret `stringData` folded into `data`,
//! and the user's own [`Normalizer`]s.

use base64::Engine;
use gitops_core::ObjectRef;
use serde_json::{Map, Value};

use crate::walk::{LAST_APPLIED_ANNOTATION, SERVER_METADATA};

/// Which of the three objects a [`Normalizer`] is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Side {
    /// The object rendered from Git.
    Desired,
    /// The object read from the target.
    Live,
    /// The object applied last time.
    LastApplied,
}

/// A rewrite applied to the desired, live and last-applied objects before they are compared,
/// such as dropping a field a mutating webhook sets, or canonicalizing a value an operator
/// reformats.
///
/// Normalizers run on copies, in the order they were added to the
/// [`ThreeWayDiff`](crate::ThreeWayDiff), after the built-in ones. Any function or closure with
/// the right signature is a normalizer:
///
/// ```
/// use gitops_diff::{Side, ThreeWayDiff};
/// use gitops_core::ObjectRef;
/// use serde_json::Value;
///
/// // Istio's sidecar injector adds this annotation to every pod template it sees.
/// let drop_status = |object: &ObjectRef, _side: Side, value: &mut Value| {
///     if object.kind == "Deployment" {
///         if let Some(annotations) = value.pointer_mut("/spec/template/metadata/annotations").and_then(Value::as_object_mut) {
///             annotations.remove("sidecar.istio.io/status");
///         }
///     }
/// };
/// let options = ThreeWayDiff::default().normalizer(drop_status);
/// # let _ = options;
/// ```
pub trait Normalizer: Send + Sync {
    /// Whether the normalizer may change objects like `object`. Objects no normalizer applies to
    /// are compared without being copied, so saying `false` where possible keeps the diff fast.
    fn applies_to(&self, object: &ObjectRef) -> bool {
        let _ = object;
        true
    }

    /// Rewrites one side of one object in place.
    fn normalize(&self, object: &ObjectRef, side: Side, value: &mut Value);
}

impl<F> Normalizer for F
where
    F: Fn(&ObjectRef, Side, &mut Value) + Send + Sync,
{
    fn normalize(&self, object: &ObjectRef, side: Side, value: &mut Value) {
        self(object, side, value);
    }
}

/// Whether `object` is a core Secret, whose `data` is secret and whose `stringData` is folded.
pub(crate) fn is_secret(object: &ObjectRef) -> bool {
    object.group.is_empty() && object.kind == "Secret"
}

/// Folds a Secret's `stringData` into `data`, base64-encoded, as the API server does on write
/// (a key in both takes the `stringData` value), so a desired `stringData` compares with the
/// live `data`.
pub(crate) fn fold_string_data(value: &mut Value) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    let Some(Value::Object(string_data)) = map.remove("stringData") else {
        return;
    };
    let data = map.entry("data").or_insert_with(|| Value::Object(Map::new()));
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    if let Value::Object(data) = data {
        for (key, text) in string_data {
            let encoded = match &text {
                Value::String(s) => base64::engine::general_purpose::STANDARD.encode(s),
                Value::Null => continue,
                other => base64::engine::general_purpose::STANDARD.encode(other.to_string()),
            };
            data.insert(key, Value::String(encoded));
        }
    }
}

/// Removes the fields the server owns from an object value: `status`, server-set metadata
/// (`managedFields`, `resourceVersion`, `uid`, `creationTimestamp`, `generation`, `selfLink`,
/// `deletionTimestamp`, `deletionGracePeriodSeconds`) and the client-side-apply annotation
/// `kubectl.kubernetes.io/last-applied-configuration`. Empty `annotations` left behind go too.
///
/// ```
/// use gitops_diff::strip_server_fields;
/// use serde_json::json;
/// let mut live = json!({"metadata": {"name": "a", "uid": "1", "annotations": {
///     "kubectl.kubernetes.io/last-applied-configuration": "{}"}}, "status": {}});
/// strip_server_fields(&mut live);
/// assert_eq!(live, json!({"metadata": {"name": "a"}}));
/// ```
pub fn strip_server_fields(value: &mut Value) {
    if let Value::Object(map) = value {
        map.remove("status");
        if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
            for key in SERVER_METADATA {
                metadata.remove(*key);
            }
            if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
                annotations.remove(LAST_APPLIED_ANNOTATION);
                if annotations.is_empty() {
                    metadata.remove("annotations");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_data_folds_into_data() {
        let mut secret =
            json!({"kind": "Secret", "data": {"a": "eA==", "b": "eQ=="}, "stringData": {"b": "z", "c": "w"}});
        fold_string_data(&mut secret);
        assert_eq!(secret, json!({"kind": "Secret", "data": {"a": "eA==", "b": "eg==", "c": "dw=="}}));
        let mut only = json!({"stringData": {"k": "v"}});
        fold_string_data(&mut only);
        assert_eq!(only, json!({"data": {"k": "dg=="}}));
    }
}
