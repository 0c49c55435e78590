//! `replacements`: copy a field from a source object into fields of target objects.

use super::build::Files;
use super::resource::ResMap;
use super::types::ReplacementField;

/// Runs the replacements in order.
pub(crate) fn run(resources: &mut ResMap, replacements: &[ReplacementField], files: &Files<'_>) -> Result<(), String> {
    let _ = (resources, files);
    if replacements.is_empty() {
        return Ok(());
    }
    Err("`replacements` is not supported yet".into())
}
