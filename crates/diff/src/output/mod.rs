//! Renderings of a [`DiffSet`]: a unified YAML diff, a per-field summary, JSON, JSON Patches.
//!
//! Every rendering is deterministic (same diff, same bytes) and shows only masked values. The
//! library never decides about colour: [`OutputOptions::color`] is the caller's decision (the
//! binary turns it on for a terminal unless `NO_COLOR` is set).

mod summary;
mod unified;

use gitops_core::Action;
use serde_json::{Value, json};

use crate::diffset::DiffSet;

pub use summary::summary;
pub use unified::unified;

/// Options of the text renderings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OutputOptions {
    /// Colour with ANSI escapes: removed lines red, added lines green, hunk headers cyan.
    pub color: bool,
    /// Lines of context around each change in the unified diff (default 3).
    pub context: usize,
    /// List unchanged objects without drift in the summary too (default off).
    pub show_unchanged: bool,
}

impl Default for OutputOptions {
    fn default() -> OutputOptions {
        OutputOptions { color: false, context: 3, show_unchanged: false }
    }
}

impl OutputOptions {
    /// Sets whether to colour the output.
    #[must_use]
    pub fn color(mut self, color: bool) -> OutputOptions {
        self.color = color;
        self
    }

    /// Sets the lines of context in the unified diff.
    #[must_use]
    pub fn context(mut self, lines: usize) -> OutputOptions {
        self.context = lines;
        self
    }

    /// Sets whether the summary lists unchanged objects.
    #[must_use]
    pub fn show_unchanged(mut self, show: bool) -> OutputOptions {
        self.show_unchanged = show;
        self
    }
}

/// ANSI styles, or nothing.
pub(crate) struct Paint {
    on: bool,
}

impl Paint {
    pub(crate) fn new(on: bool) -> Paint {
        Paint { on }
    }

    pub(crate) fn paint(&self, code: &str, text: &str) -> String {
        if self.on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }
}

/// The diff as JSON for tools: every object with its action, intended changes, drift and, for
/// updates, the JSON Patch; then the counts.
///
/// ```
/// use gitops_diff::{to_json, DiffSet};
/// assert_eq!(to_json(&DiffSet::default())["summary"]["update"], 0);
/// ```
pub fn to_json(diff: &DiffSet) -> Value {
    let diffs: Vec<Value> = diff
        .diffs
        .iter()
        .map(|d| {
            let mut value = serde_json::to_value(d).unwrap_or(Value::Null);
            if let (Some(patch), Value::Object(map)) = (d.patch(), &mut value) {
                map.insert("patch".to_owned(), serde_json::to_value(patch).unwrap_or(Value::Null));
            }
            value
        })
        .collect();
    json!({
        "diffs": diffs,
        "summary": {
            "create": diff.count(Action::Create),
            "update": diff.count(Action::Update),
            "delete": diff.count(Action::Delete),
            "unchanged": diff.count(Action::Unchanged),
            "excluded": diff.count(Action::Excluded),
            "drifted": diff.diffs.iter().filter(|d| !d.drift.is_empty()).count(),
        }
    })
}

/// One RFC 6902 JSON Patch per object a sync writes, turning the live object into the object
/// after the sync: `[{"object", "api_version", "action", "patch"}]`. A create's patch adds the
/// whole object at the root; a delete has none. Secret values are masked.
pub fn patches(diff: &DiffSet) -> Value {
    let items: Vec<Value> = diff
        .diffs
        .iter()
        .filter(|d| d.action.is_write())
        .map(|d| {
            let patch = match (d.action, d.patch(), &d.after) {
                (Action::Update, Some(patch), _) => serde_json::to_value(patch).unwrap_or(Value::Null),
                (Action::Create, _, Some(after)) => json!([{"op": "add", "path": "", "value": after}]),
                _ => Value::Null,
            };
            let mut item = json!({"object": d.object, "api_version": d.api_version, "action": d.action});
            if let (false, Value::Object(map)) = (patch.is_null(), &mut item) {
                map.insert("patch".to_owned(), patch);
            }
            item
        })
        .collect();
    Value::Array(items)
}
