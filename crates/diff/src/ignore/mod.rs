//! Ignore rules: fields the diff leaves alone, as Argo CD's `ignoreDifferences` and Flux's drift
//! ignore rules name them.
//!
//! An ignored field is taken out of the desired and the last-applied object before comparing,
//! so it is treated exactly like a field someone else set: whatever its live value, it is
//! neither a change nor drift, and a sync leaves it as it is.

mod expr;

use gitops_core::selector::LabelSelector;
use std::fmt;

use gitops_core::{Object, ObjectRef};
use regex::Regex;
use serde_json::Value;

pub use expr::PathExpr;
pub(crate) use expr::{Loc, pointer_location, remove_locations};

/// Why an ignore rule cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IgnoreRuleError {
    /// A JSON pointer does not start with `/`.
    #[error("invalid JSON pointer {pointer:?}: it must start with `/`")]
    InvalidPointer {
        /// The pointer as written.
        pointer: String,
    },
    /// A path expression does not parse.
    #[error("invalid path expression {expression:?} at byte {position}: {reason}")]
    InvalidExpression {
        /// The expression as written.
        expression: String,
        /// Where parsing stopped, in bytes from the start.
        position: usize,
        /// What was expected there.
        reason: &'static str,
    },
    /// A name pattern (a Flux target's regular expression) does not compile.
    #[error("invalid pattern {pattern:?}: {reason}")]
    InvalidPattern {
        /// The pattern as written.
        pattern: String,
        /// The regular-expression engine's message.
        reason: String,
    },
    /// A rule document has a wrong field or type.
    #[error("invalid {format} ignore rule: {reason}")]
    InvalidRule {
        /// `Argo CD ignoreDifferences` or `Flux drift ignore`.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// A pattern a group, kind, name or namespace is matched against.
#[derive(Debug, Clone)]
enum Pattern {
    /// `*` globs (Argo CD); a pattern without `*` is an exact name.
    Glob(String),
    /// An anchored regular expression (Flux's target selectors).
    Regex(Regex),
}

impl Pattern {
    fn matches(&self, text: &str) -> bool {
        match self {
            Pattern::Glob(glob) => glob_match(glob, text),
            Pattern::Regex(regex) => regex.is_match(text),
        }
    }

    fn regex(pattern: &str) -> Result<Pattern, IgnoreRuleError> {
        Regex::new(&format!("^(?:{pattern})$"))
            .map(Pattern::Regex)
            .map_err(|e| IgnoreRuleError::InvalidPattern { pattern: pattern.to_owned(), reason: e.to_string() })
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        match (self, other) {
            (Pattern::Glob(a), Pattern::Glob(b)) => a == b,
            (Pattern::Regex(a), Pattern::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

/// Whether `text` matches `glob`, where `*` matches any run of characters.
fn glob_match(glob: &str, text: &str) -> bool {
    let Some((first, rest)) = glob.split_once('*') else {
        return glob == text;
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = rest.split('*').collect();
    let last = parts.pop().unwrap_or_default();
    for part in parts {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// Parses a Kubernetes selector string with the shared parser.
fn parse_selector(text: &str, format: &'static str) -> Result<LabelSelector, IgnoreRuleError> {
    LabelSelector::parse(text).map_err(|e| IgnoreRuleError::InvalidRule { format, reason: e.to_string() })
}

/// Fields to leave out of the comparison, for the objects a rule selects.
///
/// A rule selects objects by group, kind, name and namespace (each optional; `*` globs for
/// rules built here or from Argo CD, anchored regular expressions for Flux targets) and, for
/// Flux, label and annotation selectors. It names fields with JSON pointers, [`PathExpr`]s (a
/// jq / JSONPath subset), or the field managers whose fields to leave alone (read from the live
/// object's `managedFields`).
///
/// ```
/// use gitops_diff::IgnoreRule;
/// use gitops_core::ObjectRef;
/// use serde_json::json;
///
/// // Leave replicas to the HorizontalPodAutoscaler.
/// let rule = IgnoreRule::new().group("apps").kind("Deployment").json_pointer("/spec/replicas")?;
/// assert!(rule.selects(&ObjectRef::new("apps", "Deployment", Some("shop"), "web"), None));
/// assert!(!rule.selects(&ObjectRef::new("apps", "StatefulSet", Some("shop"), "db"), None));
///
/// let argo = IgnoreRule::from_argocd(&json!({
///     "group": "admissionregistration.k8s.io", "kind": "MutatingWebhookConfiguration",
///     "jqPathExpressions": [".webhooks[]?.clientConfig.caBundle"]
/// }))?;
/// let flux = IgnoreRule::from_flux(&json!({
///     "paths": ["/spec/replicas"], "target": {"kind": "Deployment", "name": "web-.*"}
/// }))?;
/// assert!(flux.selects(&ObjectRef::new("apps", "Deployment", Some("shop"), "web-1"), None));
/// # let _ = argo;
/// # Ok::<(), gitops_diff::IgnoreRuleError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IgnoreRule {
    group: Option<Pattern>,
    kind: Option<Pattern>,
    name: Option<Pattern>,
    namespace: Option<Pattern>,
    labels: LabelSelector,
    annotations: LabelSelector,
    pointers: Vec<String>,
    expressions: Vec<PathExpr>,
    managers: Vec<String>,
}

impl IgnoreRule {
    /// A rule that selects every object and ignores nothing yet.
    pub fn new() -> IgnoreRule {
        IgnoreRule::default()
    }

    /// Selects objects of this API group (`""` for the core group; `*` globs).
    #[must_use]
    pub fn group(mut self, group: &str) -> IgnoreRule {
        self.group = Some(Pattern::Glob(group.to_owned()));
        self
    }

    /// Selects objects of this kind (`*` globs).
    #[must_use]
    pub fn kind(mut self, kind: &str) -> IgnoreRule {
        self.kind = Some(Pattern::Glob(kind.to_owned()));
        self
    }

    /// Selects objects with this name (`*` globs).
    #[must_use]
    pub fn name(mut self, name: &str) -> IgnoreRule {
        self.name = Some(Pattern::Glob(name.to_owned()));
        self
    }

    /// Selects objects in this namespace (`*` globs).
    #[must_use]
    pub fn namespace(mut self, namespace: &str) -> IgnoreRule {
        self.namespace = Some(Pattern::Glob(namespace.to_owned()));
        self
    }

    /// Ignores the field at an RFC 6901 JSON pointer (`/spec/replicas`, `/metadata/labels/a~1b`).
    pub fn json_pointer(mut self, pointer: &str) -> Result<IgnoreRule, IgnoreRuleError> {
        if !pointer.starts_with('/') {
            return Err(IgnoreRuleError::InvalidPointer { pointer: pointer.to_owned() });
        }
        self.pointers.push(pointer.to_owned());
        Ok(self)
    }

    /// Ignores the fields a [`PathExpr`] names (`.spec.containers[] | select(.name == "x")`).
    pub fn expression(mut self, expression: &str) -> Result<IgnoreRule, IgnoreRuleError> {
        self.expressions.push(expression.parse()?);
        Ok(self)
    }

    /// Ignores the fields this field manager owns in the live object's `managedFields`.
    #[must_use]
    pub fn manager(mut self, manager: &str) -> IgnoreRule {
        self.managers.push(manager.to_owned());
        self
    }

    /// A rule from one entry of Argo CD's `ignoreDifferences` (an Application's, or a
    /// `resource.customizations.ignoreDifferences` one): `group`, `kind`, `name`, `namespace`,
    /// `jsonPointers`, `jqPathExpressions`, `managedFieldsManagers`.
    pub fn from_argocd(value: &Value) -> Result<IgnoreRule, IgnoreRuleError> {
        const FORMAT: &str = "Argo CD ignoreDifferences";
        let map = value.as_object().ok_or_else(|| invalid(FORMAT, "expected a mapping".to_owned()))?;
        let mut rule = IgnoreRule::new();
        for (key, field) in map {
            match key.as_str() {
                "group" => rule = rule.group(string(FORMAT, key, field)?),
                "kind" => rule = rule.kind(string(FORMAT, key, field)?),
                "name" => rule = rule.name(string(FORMAT, key, field)?),
                "namespace" => rule = rule.namespace(string(FORMAT, key, field)?),
                "jsonPointers" => {
                    for pointer in strings(FORMAT, key, field)? {
                        rule = rule.json_pointer(pointer)?;
                    }
                }
                "jqPathExpressions" => {
                    for expression in strings(FORMAT, key, field)? {
                        rule = rule.expression(expression)?;
                    }
                }
                "managedFieldsManagers" => {
                    for manager in strings(FORMAT, key, field)? {
                        rule = rule.manager(manager);
                    }
                }
                other => return Err(invalid(FORMAT, format!("unknown field {other:?}"))),
            }
        }
        Ok(rule)
    }

    /// A rule from one entry of Flux's drift ignore rules (a HelmRelease's
    /// `spec.driftDetection.ignore`): `paths` (JSON pointers) and an optional `target` with
    /// `group`, `version`, `kind`, `name`, `namespace` (regular expressions), `labelSelector`
    /// and `annotationSelector`.
    pub fn from_flux(value: &Value) -> Result<IgnoreRule, IgnoreRuleError> {
        const FORMAT: &str = "Flux drift ignore";
        let map = value.as_object().ok_or_else(|| invalid(FORMAT, "expected a mapping".to_owned()))?;
        let mut rule = IgnoreRule::new();
        for (key, field) in map {
            match key.as_str() {
                "paths" => {
                    for pointer in strings(FORMAT, key, field)? {
                        rule = rule.json_pointer(pointer)?;
                    }
                }
                "target" => {
                    let target = field.as_object().ok_or_else(|| invalid(FORMAT, "target must be a mapping".into()))?;
                    for (key, field) in target {
                        let text = string(FORMAT, key, field)?;
                        match key.as_str() {
                            "group" => rule.group = Some(Pattern::regex(text)?),
                            "kind" => rule.kind = Some(Pattern::regex(text)?),
                            "name" => rule.name = Some(Pattern::regex(text)?),
                            "namespace" => rule.namespace = Some(Pattern::regex(text)?),
                            "version" => {}
                            "labelSelector" => rule.labels = parse_selector(text, FORMAT)?,
                            "annotationSelector" => rule.annotations = parse_selector(text, FORMAT)?,
                            other => return Err(invalid(FORMAT, format!("unknown target field {other:?}"))),
                        }
                    }
                }
                other => return Err(invalid(FORMAT, format!("unknown field {other:?}"))),
            }
        }
        if rule.pointers.is_empty() {
            return Err(invalid(FORMAT, "paths is required".to_owned()));
        }
        Ok(rule)
    }

    /// Whether the rule applies to `object`; `metadata` (the desired or live object) is needed
    /// only by rules with label or annotation selectors, which select nothing without it.
    pub fn selects(&self, object: &ObjectRef, metadata: Option<&Object>) -> bool {
        let matches = |pattern: &Option<Pattern>, text: &str| pattern.as_ref().is_none_or(|p| p.matches(text));
        if !(matches(&self.group, &object.group)
            && matches(&self.kind, &object.kind)
            && matches(&self.name, &object.name)
            && matches(&self.namespace, object.namespace.as_deref().unwrap_or_default()))
        {
            return false;
        }
        if self.labels.is_empty() && self.annotations.is_empty() {
            return true;
        }
        let Some(object) = metadata else {
            return false;
        };
        let map = |key: &str| object.metadata().get(key).cloned().unwrap_or(Value::Null);
        self.labels.matches(&map("labels")) && self.annotations.matches(&map("annotations"))
    }

    /// The field managers whose fields the rule ignores.
    pub fn managers(&self) -> &[String] {
        &self.managers
    }

    /// Removes the fields the rule's pointers and expressions name from `value`.
    pub(crate) fn remove_from(&self, value: &mut Value) {
        let mut locations: Vec<Vec<Loc>> =
            self.pointers.iter().filter_map(|pointer| pointer_location(value, pointer)).collect();
        for expression in &self.expressions {
            locations.extend(expression.locate(value));
        }
        remove_locations(value, locations);
    }
}

fn invalid(format: &'static str, reason: String) -> IgnoreRuleError {
    IgnoreRuleError::InvalidRule { format, reason }
}

fn string<'v>(format: &'static str, key: &str, value: &'v Value) -> Result<&'v str, IgnoreRuleError> {
    value.as_str().ok_or_else(|| invalid(format, format!("{key} must be a string")))
}

fn strings<'v>(format: &'static str, key: &str, value: &'v Value) -> Result<Vec<&'v str>, IgnoreRuleError> {
    let items = value.as_array().ok_or_else(|| invalid(format, format!("{key} must be a list of strings")))?;
    items.iter().map(|item| string(format, key, item)).collect()
}

impl fmt::Display for IgnoreRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<String> = self
            .pointers
            .iter()
            .cloned()
            .chain(self.expressions.iter().map(ToString::to_string))
            .chain(self.managers.iter().map(|m| format!("fields of manager {m}")))
            .collect();
        write!(f, "ignore {}", fields.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("web-*", "web-1"));
        assert!(glob_match("*.crossplane.io", "aws.crossplane.io"));
        assert!(glob_match("a*b*c", "aXbYc"));
        assert!(!glob_match("a*b*c", "aXbY"));
        assert!(!glob_match("web", "web-1"));
        assert!(glob_match("ab*b", "abb"));
        assert!(!glob_match("ab*ab", "ab"));
    }

    #[test]
    fn selectors_and_rule_documents() {
        let rule = IgnoreRule::from_flux(&json!({
            "paths": ["/spec/replicas"],
            "target": {"kind": "Deployment|StatefulSet", "labelSelector": "app in (web, api),tier!=db,!legacy"}
        }))
        .expect("valid");
        let object = |labels: Value| {
            Object::from_value(
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "labels": labels}}),
            )
            .expect("valid")
        };
        let r = ObjectRef::new("apps", "Deployment", None, "x");
        assert!(rule.selects(&r, Some(&object(json!({"app": "web"})))));
        assert!(!rule.selects(&r, Some(&object(json!({"app": "web", "legacy": "yes"})))));
        assert!(!rule.selects(&r, Some(&object(json!({"app": "db"})))));
        assert!(!rule.selects(&r, None), "label selectors need the object");
        assert!(!rule.selects(&ObjectRef::new("apps", "DaemonSet", None, "x"), Some(&object(json!({"app": "web"})))));

        let errors = [
            IgnoreRule::from_argocd(&json!({"kind": "Deployment", "jsonPointer": ["/a"]})).expect_err("typo"),
            IgnoreRule::from_argocd(&json!({"jsonPointers": ["spec"]})).expect_err("no slash"),
            IgnoreRule::from_argocd(&json!({"jqPathExpressions": [".a["]})).expect_err("bad jq"),
            IgnoreRule::from_flux(&json!({"target": {"kind": "x"}})).expect_err("no paths"),
            IgnoreRule::from_flux(&json!({"paths": ["/a"], "target": {"name": "("}})).expect_err("bad regex"),
        ];
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(messages[0].contains("unknown field \"jsonPointer\""), "{}", messages[0]);
        assert!(messages[1].contains("must start with `/`"), "{}", messages[1]);
        assert!(messages[2].contains("at byte"), "{}", messages[2]);
        assert!(messages[3].contains("paths is required"), "{}", messages[3]);
        assert!(messages[4].contains("invalid pattern"), "{}", messages[4]);
    }
}
