//! Admission: the checks a write passes after its merge and before the store.

use serde_json::Value;

use crate::crd;
use crate::error::ApiError;
use crate::verbs::Target;

/// Validates `object`, about to be stored at `target`.
pub(crate) fn admit(target: &Target, object: &Value) -> Result<(), ApiError> {
    if crd::is_crd(target) && target.subresource.is_none() {
        crd::validate(object)?;
    }
    Ok(())
}
