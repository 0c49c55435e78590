//! The compact per-field summary: `spec.replicas: 2 -> 3`.

use std::fmt::Write;

use gitops_core::Action;
use serde_json::Value;

use super::{OutputOptions, Paint};
use crate::diffset::{DiffSet, FieldChange};

/// A value as the summary shows it: strings bare when they read unambiguously, everything else
/// as compact JSON, `(none)` when absent.
fn show(value: Option<&Value>) -> String {
    match value {
        None => "(none)".to_owned(),
        Some(Value::String(s))
            if !s.is_empty()
                && s.trim() == s
                && !s.contains(" -> ")
                && !s.starts_with(['"', '(', '{', '['])
                && !s.chars().any(char::is_control)
                && serde_json::from_str::<Value>(s).is_err() =>
        {
            s.clone()
        }
        Some(value) => value.to_string(),
    }
}

fn line(out: &mut String, paint: &Paint, change: &FieldChange) {
    let text = format!("{}: {} -> {}", change.path, show(change.before.as_ref()), show(change.after.as_ref()));
    let _ = writeln!(out, "    {}", paint.paint("33", &text));
}

/// The summary of a diff: one line per object a sync writes, excludes or that drifted, then
/// one line per intended change and per drifted field.
///
/// ```text
/// ~ Deployment/shop/web
///     spec.replicas: 5 -> 3
///     metadata.labels.tier: (none) -> web
///   drift:
///     spec.replicas: 3 -> 5
/// - ConfigMap/shop/old (owned, no longer desired)
/// ! Secret/shop/db (excluded: kustomize.toolkit.fluxcd.io/ssa: Ignore)
/// ```
pub fn summary(diff: &DiffSet, options: &OutputOptions) -> String {
    let paint = Paint::new(options.color);
    let mut out = String::new();
    for d in &diff.diffs {
        let shown = d.action != Action::Unchanged || !d.drift.is_empty() || options.show_unchanged;
        if !shown {
            continue;
        }
        let note = match (d.action, d.excluded) {
            (Action::Delete, _) => " (owned, no longer desired)".to_owned(),
            (Action::Excluded, Some(reason)) => format!(" (excluded: {reason})"),
            _ => String::new(),
        };
        let header = format!("{} {}{note}", d.action.symbol(), d.object);
        let code = match d.action {
            Action::Create => "32",
            Action::Delete => "31",
            Action::Update => "33",
            _ => "1",
        };
        let _ = writeln!(out, "{}", paint.paint(code, &header));
        for change in &d.changes {
            line(&mut out, &paint, change);
        }
        if !d.drift.is_empty() {
            let _ = writeln!(out, "  {}", paint.paint("35", "drift:"));
            for change in &d.drift {
                line(&mut out, &paint, change);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_unambiguously() {
        assert_eq!(show(Some(&json!("nginx:1.25"))), "nginx:1.25");
        assert_eq!(show(Some(&json!("3"))), "\"3\"");
        assert_eq!(show(Some(&json!("true"))), "\"true\"");
        assert_eq!(show(Some(&json!(""))), "\"\"");
        assert_eq!(show(Some(&json!(" x"))), "\" x\"");
        assert_eq!(show(Some(&json!("a\nb"))), "\"a\\nb\"");
        assert_eq!(show(Some(&json!(3))), "3");
        assert_eq!(show(Some(&json!({"a": [1]}))), "{\"a\":[1]}");
        assert_eq!(show(None), "(none)");
        assert_eq!(show(Some(&json!("(none)"))), "\"(none)\"");
    }
}
