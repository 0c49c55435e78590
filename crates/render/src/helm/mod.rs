//! Helm charts, rendered as `helm template` (Helm v4.3.1) renders them.
//!
//! - [`template`]: Go's `text/template` engine;
//! - [`funcs`]: Helm's function set (Sprig's and Helm's own);
//! - [`chart`]: charts (loading, values, dependencies, rendering, output as `helm template`
//!   prints it);
//! - [`HelmRenderer`]: the [`Renderer`](crate::Renderer) for chart folders.
//!
//! `docs/helm.md` says what is done and what is not.

pub mod chart;
pub mod funcs;
mod renderer;
pub mod schema;
pub mod semver;
pub mod template;

pub use renderer::HelmRenderer;

use template::TemplateError;

/// An error as Helm's engine reports it: a parse error becomes
/// `parse error at (FILE:LINE): LAST PART` (Helm keeps only the text after Go's last `": "`);
/// other errors are Go's message unchanged.
///
/// ```
/// use gitops_render::helm::{cleanup_parse_error, template::Templates};
/// let err = Templates::new().parse("c/templates/x.yaml", "{{ if }}").unwrap_err();
/// assert_eq!(cleanup_parse_error(&err), "parse error at (c/templates/x.yaml:1): missing value for if");
/// ```
#[must_use]
pub fn cleanup_parse_error(error: &TemplateError) -> String {
    let message = error.to_string();
    match error {
        TemplateError::Parse { .. } => {
            let tokens: Vec<&str> = message.split(": ").collect();
            if tokens.len() < 2 {
                return format!("parse error in ({message})");
            }
            format!("parse error at ({}): {}", tokens[1], tokens[tokens.len() - 1])
        }
        _ => message,
    }
}

/// An execution error as Helm's engine reports it (`cleanupExecError`): when the message
/// carries a `required`/`fail` message, `execution error at (FILE:LINE:COL): MESSAGE`;
/// otherwise Go's message unchanged.
#[must_use]
pub fn cleanup_exec_error(error: &TemplateError) -> String {
    let message = error.to_string();
    if !matches!(error, TemplateError::Exec { .. }) {
        return message;
    }
    let tokens: Vec<&str> = message.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({message})");
    }
    let marked = tokens[2].lines().find_map(|line| {
        let start = line.find(funcs::ERR_START)? + funcs::ERR_START.len();
        let end = line.rfind(funcs::ERR_END)?;
        (end >= start).then(|| &line[start..end])
    });
    match marked {
        Some(m) => format!("execution error at ({}): {m}", tokens[1]),
        None => message,
    }
}
