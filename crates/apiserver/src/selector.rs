//! Label selectors (the full syntax) and the `metadata.name` / `metadata.namespace` field selectors.

use serde_json::Value;

pub use gitops_core::selector::LabelSelector;

/// A field selector over `metadata.name` and `metadata.namespace`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    /// (field, value, equal)
    requirements: Vec<(String, String, bool)>,
}

impl FieldSelector {
    /// Parses `metadata.name=x,metadata.namespace!=y`; other fields are refused as the API server
    /// refuses them for most kinds.
    pub fn parse(text: &str) -> Result<FieldSelector, String> {
        let mut requirements = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, true)
            } else {
                return Err(format!("invalid selector: '{text}'; can't understand '{part}'"));
            };
            let field = field.trim();
            if field != "metadata.name" && field != "metadata.namespace" {
                return Err(format!("field label not supported: {field}"));
            }
            requirements.push((field.to_owned(), value.trim().to_owned(), equal));
        }
        Ok(FieldSelector { requirements })
    }

    /// Whether `object` satisfies every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let field = |pointer: &str| object.pointer(pointer).and_then(Value::as_str).unwrap_or("");
        self.matches_names(field("/metadata/name"), field("/metadata/namespace"))
    }

    /// Whether an object named `name` in `namespace` (empty for cluster-scoped objects)
    /// satisfies every requirement.
    pub fn matches_names(&self, name: &str, namespace: &str) -> bool {
        self.requirements.iter().all(|(field, value, equal)| {
            let actual = if field == "metadata.name" { name } else { namespace };
            (actual == value) == *equal
        })
    }

    /// The name every matching object must have, if a requirement pins it (`metadata.name=x`).
    pub fn name(&self) -> Option<&str> {
        self.requirements
            .iter()
            .find(|(field, _, equal)| *equal && field == "metadata.name")
            .map(|(_, v, _)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn full_label_syntax() {
        let labels = json!({"app": "web", "tier": "front", "example.com/owner": "me"});
        for (selector, expected) in [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app in (api, web)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("missing!=x", true),
            ("example.com/owner=me,app=web", true),
            ("app=web,tier=back", false),
        ] {
            assert_eq!(LabelSelector::parse(selector).map(|s| s.matches(&labels)), Ok(expected), "{selector}");
        }
        for bad in ["app=", "app=we b", "=x", "app in ()", "app,", "-bad=x"] {
            if bad == "app=" {
                assert!(LabelSelector::parse(bad).is_ok(), "empty values are allowed");
                continue;
            }
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_selectors() {
        let object = json!({"metadata": {"name": "a", "namespace": "ns"}});
        assert_eq!(FieldSelector::parse("metadata.name=a").map(|s| s.matches(&object)), Ok(true));
        assert_eq!(FieldSelector::parse("metadata.namespace!=ns").map(|s| s.matches(&object)), Ok(false));
        assert!(FieldSelector::parse("spec.x=1").is_err());
    }
}
