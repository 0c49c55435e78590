//! Label selectors (the full syntax) and the `metadata.name` / `metadata.namespace` field selectors.

use serde_json::Value;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    /// `key=value`, `key==value`, `key in (a,b)`.
    In(String, Vec<String>),
    /// `key!=value`, `key notin (a,b)`.
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

/// A parsed label selector: every requirement must hold.
///
/// ```
/// use gitops_apiserver::LabelSelector;
/// use serde_json::json;
/// let selector = LabelSelector::parse("app in (web, api), tier!=db, !legacy")?;
/// assert!(selector.matches(&json!({"app": "web", "tier": "front"})));
/// assert!(!selector.matches(&json!({"app": "web", "legacy": "yes"})));
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses a selector such as `app=web,tier in (front,back),!legacy`. The error says what is wrong.
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let (requirement, after) = parse_requirement(rest)?;
            requirements.push(requirement);
            rest = after.trim_start();
            if let Some(after_comma) = rest.strip_prefix(',') {
                rest = after_comma.trim_start();
                if rest.is_empty() {
                    return Err(format!("unable to parse requirement: found '', expected: identifier in {text:?}"));
                }
            } else if !rest.is_empty() {
                return Err(format!("found '{rest}', expected: ',' or 'end of string'"));
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// Whether `labels` (a JSON object of strings, or null) satisfies every requirement.
    pub fn matches(&self, labels: &Value) -> bool {
        let get = |key: &str| labels.get(key).and_then(Value::as_str);
        self.requirements.iter().all(|requirement| match requirement {
            Requirement::In(key, values) => get(key).is_some_and(|v| values.iter().any(|x| x == v)),
            Requirement::NotIn(key, values) => get(key).is_none_or(|v| values.iter().all(|x| x != v)),
            Requirement::Exists(key) => get(key).is_some(),
            Requirement::DoesNotExist(key) => get(key).is_none(),
        })
    }
}

fn parse_requirement(text: &str) -> Result<(Requirement, &str), String> {
    if let Some(rest) = text.strip_prefix('!') {
        let (key, after) = identifier(rest.trim_start());
        validate_key(key)?;
        return Ok((Requirement::DoesNotExist(key.to_owned()), after));
    }
    let (key, after) = identifier(text);
    validate_key(key)?;
    let after = after.trim_start();
    for (operator, negate) in [("==", false), ("!=", true), ("=", false)] {
        if let Some(rest) = after.strip_prefix(operator) {
            let (value, rest) = identifier(rest.trim_start());
            validate_value(value)?;
            let values = vec![value.to_owned()];
            let requirement =
                if negate { Requirement::NotIn(key.into(), values) } else { Requirement::In(key.into(), values) };
            return Ok((requirement, rest));
        }
    }
    for (operator, negate) in [("notin", true), ("in", false)] {
        if let Some(rest) = after.strip_prefix(operator).filter(|rest| rest.trim_start().starts_with('(')) {
            let rest = rest.trim_start().trim_start_matches('(');
            let Some(close) = rest.find(')') else { return Err(format!("found '{rest}', expected: ')'")) };
            let values: Vec<String> =
                rest[..close].split(',').map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect();
            if values.is_empty() {
                return Err("for 'in', 'notin' operators, values set can't be empty".into());
            }
            for value in &values {
                validate_value(value)?;
            }
            let requirement =
                if negate { Requirement::NotIn(key.into(), values) } else { Requirement::In(key.into(), values) };
            return Ok((requirement, &rest[close + 1..]));
        }
    }
    if after.is_empty() || after.starts_with(',') {
        return Ok((Requirement::Exists(key.to_owned()), after));
    }
    Err(format!("found '{after}', expected: in, notin, =, ==, !=, gt, lt"))
}

fn identifier(text: &str) -> (&str, &str) {
    let end = text.find(|c: char| c.is_whitespace() || matches!(c, ',' | '=' | '!' | '(' | ')')).unwrap_or(text.len());
    text.split_at(end)
}

fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
    let name_ok = !name.is_empty() && name.len() <= 63 && is_label_value(name);
    let prefix_ok =
        prefix.is_empty() || (prefix.len() <= 253 && prefix.split('.').all(|p| !p.is_empty() && is_label_value(p)));
    if name_ok && prefix_ok && key.matches('/').count() <= 1 {
        Ok(())
    } else {
        Err(format!(
            "unable to parse requirement: invalid label key {key:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

fn validate_value(value: &str) -> Result<(), String> {
    if value.is_empty() || (value.len() <= 63 && is_label_value(value)) {
        Ok(())
    } else {
        Err(format!(
            "unable to parse requirement: invalid label value: {value:?}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

fn is_label_value(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

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
        self.requirements.iter().all(|(field, value, equal)| {
            let pointer = if field == "metadata.name" { "/metadata/name" } else { "/metadata/namespace" };
            let actual = object.pointer(pointer).and_then(Value::as_str).unwrap_or("");
            (actual == value) == *equal
        })
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
