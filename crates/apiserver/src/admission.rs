//! Admission: the checks a write passes after its merge and before the store.

use serde_json::Value;

use crate::crd;
use crate::error::{ApiError, Cause};
use crate::store::meta_str;
use crate::verbs::Target;

/// Validates `object`, about to be stored at `target`.
pub(crate) fn admit(target: &Target, object: &Value) -> Result<(), ApiError> {
    if crd::is_crd(target) && target.subresource.is_none() {
        crd::validate(object)?;
    }
    if target.resource.group == "apps" && target.resource.kind == "Deployment" {
        validate_strategy(object)?;
    }
    Ok(())
}

/// A Recreate Deployment may not keep rolling update parameters: the API server's rule, which
/// server-side appliers meet when they switch a defaulted Deployment to Recreate.
fn validate_strategy(object: &Value) -> Result<(), ApiError> {
    let strategy = object.pointer("/spec/strategy");
    let recreate = strategy.and_then(|s| s.get("type")).and_then(Value::as_str) == Some("Recreate");
    if recreate && strategy.and_then(|s| s.get("rollingUpdate")).is_some_and(|r| !r.is_null()) {
        return Err(ApiError::Invalid {
            kind: "Deployment".into(),
            group: "apps".into(),
            name: meta_str(object, "name").unwrap_or("").into(),
            causes: vec![Cause {
                reason: "FieldValueForbidden".into(),
                message: "Forbidden: may not be specified when strategy `type` is 'Recreate'".into(),
                field: "spec.strategy.rollingUpdate".into(),
            }],
        });
    }
    Ok(())
}
