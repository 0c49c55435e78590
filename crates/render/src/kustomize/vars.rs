//! Legacy `vars`: `$(NAME)` references in the configured fields, resolved at the end of a build.

use super::config::TransformerConfig;
use super::resource::ResMap;
use super::types::Var;

/// Resolves every var in the configured fields.
pub(crate) fn resolve(resources: &mut ResMap, vars: &[Var], config: &TransformerConfig) -> Result<(), String> {
    let _ = (resources, config);
    if vars.is_empty() {
        return Ok(());
    }
    Err("`vars` is not supported yet".into())
}
