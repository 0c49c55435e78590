//! Kubernetes label selectors, in their full string syntax (`app=web,tier in (a,b),!legacy`).
//!
//! One parser for every place that selects by labels or annotations: the API server's
//! `labelSelector`, Kustomize's patch and replacement targets, and the diff's ignore rules.

use std::collections::BTreeMap;

use serde_json::Value;

/// A selector that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid selector {selector:?}: {message}")]
pub struct SelectorError {
    /// The selector text.
    pub selector: String,
    /// What is wrong with it.
    pub message: String,
}

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
/// use gitops_core::selector::LabelSelector;
/// use serde_json::json;
/// let selector = LabelSelector::parse("app in (web, api), tier!=db, !legacy")?;
/// assert!(selector.matches(&json!({"app": "web", "tier": "front"})));
/// assert!(!selector.matches(&json!({"app": "web", "legacy": "yes"})));
/// # Ok::<(), gitops_core::selector::SelectorError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses a selector such as `app=web,tier in (front,back),!legacy`. The error says what is wrong.
    pub fn parse(text: &str) -> Result<LabelSelector, SelectorError> {
        Self::parse_inner(text).map_err(|message| SelectorError { selector: text.to_owned(), message })
    }

    fn parse_inner(text: &str) -> Result<LabelSelector, String> {
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

    /// Whether the selector has no requirements (it selects everything).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether `labels` (a JSON object of strings, or null) satisfies every requirement.
    pub fn matches(&self, labels: &Value) -> bool {
        self.matches_with(|key| labels.get(key).and_then(Value::as_str))
    }

    /// Whether a map of labels satisfies every requirement.
    pub fn matches_map(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_with(|key| labels.get(key).map(String::as_str))
    }

    /// Whether the labels that `get` looks up by key satisfy every requirement; for label
    /// stores that are neither JSON nor a `BTreeMap`.
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
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
