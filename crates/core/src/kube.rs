//! Conversions between [`Object`] and kube's `DynamicObject` (feature `kube`).

use kube_core::DynamicObject;

use crate::object::{Object, ObjectError};

/// Why a conversion to or from `DynamicObject` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConversionError {
    /// The value does not have the shape of the target type.
    #[error("cannot convert object: {0}")]
    Shape(#[from] serde_json::Error),
    /// The converted value is not a valid object.
    #[error("cannot convert object")]
    Invalid(#[from] ObjectError),
}

impl TryFrom<&Object> for DynamicObject {
    type Error = ConversionError;

    /// Converts through JSON: `metadata` becomes a typed `ObjectMeta`, every other field stays in
    /// `data`.
    fn try_from(object: &Object) -> Result<Self, Self::Error> {
        Ok(serde_json::from_value(object.to_value())?)
    }
}

impl TryFrom<DynamicObject> for Object {
    type Error = ConversionError;

    fn try_from(object: DynamicObject) -> Result<Self, Self::Error> {
        Ok(Object::from_value(serde_json::to_value(object)?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_fields() {
        let obj = Object::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {"replicas": 3}
        }))
        .expect("valid");
        let dynamic = DynamicObject::try_from(&obj).expect("to dynamic");
        assert_eq!(dynamic.metadata.name.as_deref(), Some("web"));
        assert_eq!(dynamic.data["spec"]["replicas"], json!(3));
        let back = Object::try_from(dynamic).expect("from dynamic");
        assert_eq!(back.object_ref(), obj.object_ref());
        assert_eq!(back.pointer("/spec/replicas"), Some(&json!(3)));
        assert_eq!(back.labels(), obj.labels());
    }
}
