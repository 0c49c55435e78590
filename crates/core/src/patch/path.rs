//! Where in a document a merge is: a chain of steps on the stack, rendered only for errors.
//!
//! Merging walks thousands of fields per object; building a `String` path for each would cost
//! more than the merge. A [`Path`] is a borrowed link to its parent plus one step, so extending
//! it is free, and [`Path::render`] runs only when a merge fails.

use std::fmt::Write as _;

use serde_json::Value;

/// One step from a parent value to a child.
#[derive(Clone, Copy)]
enum Step<'a> {
    /// The document itself.
    Root,
    /// A field of a map.
    Field(&'a str),
    /// A list item by position.
    Index(usize),
    /// A keyed list item by its merge key and value: `[name=app]`.
    Key(&'a str, &'a Value),
}

/// A position in the document being merged, for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
}

impl<'a> Path<'a> {
    /// The document itself.
    pub(crate) const ROOT: Path<'static> = Path { parent: None, step: Step::Root };

    /// The field `name` of the map at this path.
    pub(crate) fn field(&'a self, name: &'a str) -> Path<'a> {
        Path { parent: Some(self), step: Step::Field(name) }
    }

    /// The list item at `index`.
    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path { parent: Some(self), step: Step::Index(index) }
    }

    /// The keyed list item whose merge key `key` is `value`.
    pub(crate) fn key(&'a self, key: &'a str, value: &'a Value) -> Path<'a> {
        Path { parent: Some(self), step: Step::Key(key, value) }
    }

    /// The path as text: `spec.template.spec.containers[name=app].ports[0]`; empty for the root.
    pub(crate) fn render(&self) -> String {
        let mut steps = Vec::new();
        let mut at = Some(self);
        while let Some(path) = at {
            steps.push(path.step);
            at = path.parent;
        }
        let mut out = String::new();
        for step in steps.iter().rev() {
            match step {
                Step::Root => {}
                Step::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Step::Index(index) => {
                    let _ = write!(out, "[{index}]");
                }
                Step::Key(key, value) => {
                    let _ = match value {
                        Value::String(text) => write!(out, "[{key}={text}]"),
                        other => write!(out, "[{key}={other}]"),
                    };
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_fields_keys_and_indexes() {
        let name = json!("app");
        let port = json!(80);
        let spec = Path::ROOT.field("spec");
        let containers = spec.field("containers");
        let app = containers.key("name", &name);
        let ports = app.field("ports");
        let http = ports.key("containerPort", &port);
        assert_eq!(http.render(), "spec.containers[name=app].ports[containerPort=80]");
        assert_eq!(ports.index(2).render(), "spec.containers[name=app].ports[2]");
        assert_eq!(Path::ROOT.render(), "");
    }
}
