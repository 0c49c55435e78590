//! `values.schema.json` validation, as `helm template` does it before rendering.
//!
//! Helm v4 validates a chart's coalesced values against the chart's JSON Schema (any draft the
//! schema's `$schema` names; 2020-12 when it names none) and reports every violation as
//! `- at 'JSON POINTER': RULE`, under the chart's name. [`validate`] does the same with the
//! `jsonschema` crate and words each rule as Helm's validator does (`got string, want integer`,
//! `missing property 'x'`, `minimum: got 0, want 1`, ...). Violations are listed sorted by
//! path (Helm's order varies from run to run) and nested ones (`anyOf`, `oneOf`) are indented
//! under their parent, as Helm prints them.
//!
//! Not supported: `$ref` to remote (`http://`, `file://`) documents, which Helm fetches; the
//! render crate has no network code, so such a schema is reported as an error naming the
//! reference.

use std::fmt::Write as _;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, ValidationError};
use serde_json::Value as Json;

use crate::helm::funcs::to_json_value;
use crate::helm::template::Value;

/// The first line of Helm's report when values break one or more charts' schemas.
pub const HEADER: &str = "values don't meet the specifications of the schema(s) in the following chart(s):";

/// Why values were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    /// The chart's `values.schema.json` is not JSON or not a valid JSON Schema.
    #[error("{HEADER}\n{chart}:\nvalues.schema.json is not a valid JSON Schema: {message}")]
    InvalidSchema {
        /// The chart's name.
        chart: String,
        /// What is wrong with the schema.
        message: String,
    },
    /// The values break the schema.
    #[error("{HEADER}\n{}", report(chart, violations))]
    Violations {
        /// The chart's name.
        chart: String,
        /// Every violation, sorted by path.
        violations: Vec<Violation>,
    },
}

impl SchemaError {
    /// This chart's part of Helm's report (`NAME:\n- at ...\n`), for a caller that validates
    /// several charts (a parent and its subcharts) and prints one [`HEADER`] above them all.
    #[must_use]
    pub fn chart_report(&self) -> String {
        match self {
            SchemaError::InvalidSchema { chart, message } => {
                format!("{chart}:\nvalues.schema.json is not a valid JSON Schema: {message}\n")
            }
            SchemaError::Violations { chart, violations } => report(chart, violations),
        }
    }
}

/// One broken rule: where in the values, and what the rule wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON Pointer into the values (`''` for the root, `/image/tag`).
    pub path: String,
    /// The rule and what it wanted, in Helm's words.
    pub message: String,
    /// Violations inside an `anyOf`/`oneOf`, printed indented below this one.
    pub nested: Vec<Violation>,
}

fn report(chart: &str, violations: &[Violation]) -> String {
    let mut out = format!("{chart}:\n");
    write_violations(&mut out, violations, 0);
    out
}

fn write_violations(out: &mut String, violations: &[Violation], depth: usize) {
    for v in violations {
        let _ = writeln!(out, "{:indent$}- at '{}': {}", "", v.path, v.message, indent = depth * 2);
        write_violations(out, &v.nested, depth + 1);
    }
}

/// Validates `values` against the chart's `values.schema.json` bytes.
///
/// ```
/// use gitops_render::helm::{schema, template::Value};
/// let schema = br#"{"properties": {"replicaCount": {"type": "integer", "minimum": 1}}}"#;
/// let values = Value::from_json(&serde_json::json!({"replicaCount": 0}));
/// let err = schema::validate("web", schema, &values).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "values don't meet the specifications of the schema(s) in the following chart(s):\n\
///      web:\n- at '/replicaCount': minimum: got 0, want 1\n"
/// );
/// ```
///
/// # Errors
///
/// [`SchemaError::InvalidSchema`] when the schema is not JSON or not a valid schema,
/// [`SchemaError::Violations`] when the values break it.
pub fn validate(chart_name: &str, schema: &[u8], values: &Value) -> Result<(), SchemaError> {
    let invalid = |message: String| SchemaError::InvalidSchema { chart: chart_name.to_owned(), message };
    let schema: Json = serde_json::from_slice(schema).map_err(|e| invalid(e.to_string()))?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| invalid(describe_schema_error(&e)))?;
    let instance = to_json_value(values);
    let mut violations: Vec<Violation> = validator.iter_errors(&instance).map(|e| violation(&e)).collect();
    if violations.is_empty() {
        return Ok(());
    }
    sort(&mut violations);
    Err(SchemaError::Violations { chart: chart_name.to_owned(), violations })
}

fn describe_schema_error(error: &ValidationError<'_>) -> String {
    if let ValidationErrorKind::Referencing(e) = error.kind() {
        return e.to_string();
    }
    let v = violation(error);
    format!("at '{}': {}", v.path, v.message)
}

fn sort(violations: &mut [Violation]) {
    violations.sort_by(|a, b| a.path.cmp(&b.path));
    for v in violations {
        sort(&mut v.nested);
    }
}

fn violation(error: &ValidationError<'_>) -> Violation {
    let path = error.instance_path().as_str().to_owned();
    let (message, nested) = describe(error);
    Violation { path, message, nested }
}

fn nested_of(context: &[Vec<ValidationError<'static>>]) -> Vec<Violation> {
    context.iter().flatten().map(violation).collect()
}

/// Helm's (santhosh-tekuri/jsonschema's) words for a broken rule.
fn describe(error: &ValidationError<'_>) -> (String, Vec<Violation>) {
    let instance = error.instance();
    let message = match error.kind() {
        ValidationErrorKind::Type { kind } => {
            let want: Vec<&str> = match kind {
                TypeKind::Single(t) => vec![t.as_str()],
                TypeKind::Multiple(set) => set.iter().map(JsonType::as_str).collect(),
            };
            format!("got {}, want {}", json_type(instance), want.join(" or "))
        }
        ValidationErrorKind::Required { property } => format!("missing property {}", quoted(property)),
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let names: Vec<String> = unexpected.iter().map(|n| format!("'{n}'")).collect();
            let noun = if matches!(error.kind(), ValidationErrorKind::AdditionalProperties { .. }) {
                "additional"
            } else {
                "unevaluated"
            };
            format!("{noun} properties {} not allowed", names.join(", "))
        }
        ValidationErrorKind::UnevaluatedItems { unexpected } => {
            format!("unevaluated items {} not allowed", unexpected.join(", "))
        }
        ValidationErrorKind::AdditionalItems { limit } => {
            format!("additional items not allowed after index {}", limit.saturating_sub(1))
        }
        ValidationErrorKind::Enum { options } => match options.as_ref() {
            Json::Array(items) => {
                let items: Vec<String> = items.iter().map(quoted).collect();
                format!("value must be one of {}", items.join(", "))
            }
            other => format!("value must be one of {}", quoted(other)),
        },
        ValidationErrorKind::Constant { expected_value } => format!("value must be {}", quoted(expected_value)),
        ValidationErrorKind::Minimum { limit } => format!("minimum: got {instance}, want {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("maximum: got {instance}, want {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("exclusiveMinimum: got {instance}, want {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("exclusiveMaximum: got {instance}, want {limit}"),
        ValidationErrorKind::MultipleOf { multiple_of, .. } => {
            format!("multipleOf: got {instance}, want {multiple_of}")
        }
        ValidationErrorKind::MinLength { limit } => format!("minLength: got {}, want {limit}", char_len(instance)),
        ValidationErrorKind::MaxLength { limit } => format!("maxLength: got {}, want {limit}", char_len(instance)),
        ValidationErrorKind::MinItems { limit } => format!("minItems: got {}, want {limit}", item_count(instance)),
        ValidationErrorKind::MaxItems { limit } => format!("maxItems: got {}, want {limit}", item_count(instance)),
        ValidationErrorKind::MinProperties { limit } => {
            format!("minProperties: got {}, want {limit}", item_count(instance))
        }
        ValidationErrorKind::MaxProperties { limit } => {
            format!("maxProperties: got {}, want {limit}", item_count(instance))
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("{} does not match pattern '{pattern}'", quoted(instance))
        }
        ValidationErrorKind::Format { format } => format!("{} is not valid {format}", quoted(instance)),
        ValidationErrorKind::UniqueItems => match equal_items(instance) {
            Some((i, j)) => format!("items at {i} and {j} are equal"),
            None => "items are not unique".to_owned(),
        },
        ValidationErrorKind::Not { .. } => "'not' failed".to_owned(),
        ValidationErrorKind::FalseSchema => "false schema".to_owned(),
        ValidationErrorKind::Contains => "no items match contains schema".to_owned(),
        ValidationErrorKind::PropertyNames { error: inner } => {
            let (inner_message, _) = describe(inner);
            format!("invalid propertyName {}: {inner_message}", quoted(inner.instance()))
        }
        ValidationErrorKind::AnyOf { context } => return ("'anyOf' failed".to_owned(), nested_of(context)),
        ValidationErrorKind::OneOfNotValid { context } => {
            return ("'oneOf' failed, none matched".to_owned(), nested_of(context));
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => "'oneOf' failed, more than one subschema matched".to_owned(),
        ValidationErrorKind::ContentEncoding { content_encoding } => {
            format!("value is not {content_encoding} encoded")
        }
        ValidationErrorKind::ContentMediaType { content_media_type } => {
            format!("value is not of media type {content_media_type}")
        }
        // The library's own wording for the rarer kinds (regex engine limits, custom keywords,
        // reference resolution).
        _ => error.to_string(),
    };
    (message, Vec::new())
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// A value as Helm's validator quotes it: strings in single quotes, the rest as JSON.
fn quoted(v: &Json) -> String {
    match v {
        Json::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

fn char_len(v: &Json) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

fn item_count(v: &Json) -> usize {
    match v {
        Json::Array(items) => items.len(),
        Json::Object(entries) => entries.len(),
        _ => 0,
    }
}

fn equal_items(v: &Json) -> Option<(usize, usize)> {
    let items = v.as_array()?;
    (0..items.len()).find_map(|j| (0..j).find(|&i| items[i] == items[j]).map(|i| (i, j)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(schema: &str, values: &serde_json::Value) -> Result<(), SchemaError> {
        validate("sc", schema.as_bytes(), &Value::from_json(values))
    }

    /// The report helm v4.3.1 printed for the same chart (its lines sorted by path, since
    /// Helm's order varies between runs).
    #[test]
    fn words_each_rule_as_helm_does() {
        let schema = r#"{
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "required": ["image", "missing"],
          "additionalProperties": false,
          "properties": {
            "replicaCount": {"type": "integer", "minimum": 1},
            "image": {"type": "object", "required": ["repository"],
                      "properties": {"tag": {"type": "string"}, "repository": {"type": "string"}}},
            "ports": {"type": "array", "items": {"type": "integer", "maximum": 50}},
            "name": {"type": "string", "minLength": 3, "pattern": "^[a-z]+-"},
            "mode": {"enum": ["a", "b"]}
          }
        }"#;
        let values = serde_json::json!({
            "replicaCount": "two", "image": {"tag": 1}, "ports": [80, "x"], "extra": 1, "name": "ab", "mode": "c"
        });
        let err = check(schema, &values).expect_err("the values break the schema");
        assert_eq!(
            err.to_string(),
            "values don't meet the specifications of the schema(s) in the following chart(s):\n\
             sc:\n\
             - at '': missing property 'missing'\n\
             - at '': additional properties 'extra' not allowed\n\
             - at '/image': missing property 'repository'\n\
             - at '/image/tag': got number, want string\n\
             - at '/mode': value must be one of 'a', 'b'\n\
             - at '/name': minLength: got 2, want 3\n\
             - at '/name': 'ab' does not match pattern '^[a-z]+-'\n\
             - at '/ports/0': maximum: got 80, want 50\n\
             - at '/ports/1': got string, want integer\n\
             - at '/replicaCount': got string, want integer\n"
        );
        assert!(err.chart_report().starts_with("sc:\n- at '': missing property"));
    }

    #[test]
    fn nests_any_of_and_words_the_rest() {
        let schema = r#"{"properties": {
            "replicaCount": {"type": ["integer", "null"]},
            "ports": {"uniqueItems": true, "minItems": 5},
            "image": {"maxProperties": 0, "not": {"type": "object"}}},
          "anyOf": [{"required": ["zz"]}, {"required": ["yy"]}]}"#;
        let values = serde_json::json!({"replicaCount": "x", "ports": [1, 1], "image": {"a": 1}});
        let err = check(schema, &values).expect_err("the values break the schema");
        assert_eq!(
            err.chart_report(),
            "sc:\n\
             - at '': 'anyOf' failed\n  \
               - at '': missing property 'zz'\n  \
               - at '': missing property 'yy'\n\
             - at '/image': maxProperties: got 1, want 0\n\
             - at '/image': 'not' failed\n\
             - at '/ports': minItems: got 2, want 5\n\
             - at '/ports': items at 0 and 1 are equal\n\
             - at '/replicaCount': got string, want null or integer\n"
        );
    }

    #[test]
    fn numbers_from_values_are_integers_when_whole() {
        // Helm's values are float64; JSON Schema's `integer` accepts 3.0.
        let values = Value::map([("n".to_owned(), Value::Float(3.0))].into_iter().collect());
        validate("sc", br#"{"properties": {"n": {"type": "integer"}}}"#, &values).expect("the values fit the schema");
        check(r#"{"properties": {"n": {"type": "integer"}}}"#, &serde_json::json!({"n": 3.5}))
            .expect_err("the values break the schema");
    }

    #[test]
    fn formats_are_checked_as_the_draft_says() {
        let draft7 =
            r#"{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"e": {"format": "email"}}}"#;
        let err = check(draft7, &serde_json::json!({"e": "ab"})).expect_err("the values break the schema");
        assert!(err.to_string().contains("- at '/e': 'ab' is not valid email"), "{err}");
        // 2020-12 (the default) treats `format` as an annotation, as Helm does.
        check(r#"{"properties": {"e": {"format": "email"}}}"#, &serde_json::json!({"e": "ab"}))
            .expect("the values fit the schema");
    }

    #[test]
    fn a_broken_schema_is_named() {
        let err = check(r#"{"type": 5}"#, &serde_json::json!({})).expect_err("the values break the schema");
        assert!(matches!(&err, SchemaError::InvalidSchema { chart, .. } if chart == "sc"), "{err}");
        assert!(err.to_string().contains("values.schema.json is not a valid JSON Schema"), "{err}");
        let err = check(r#"{"type": "#, &serde_json::json!({})).expect_err("the values break the schema");
        assert!(err.to_string().contains("EOF"), "{err}");
        let err = check(r#"{"$ref": "http://example.invalid/x.json"}"#, &serde_json::json!({}))
            .expect_err("the values break the schema");
        assert!(err.to_string().contains("http://example.invalid/x.json"), "{err}");
    }

    #[test]
    fn valid_values_pass() {
        check(r#"{"type": "object", "required": ["a"]}"#, &serde_json::json!({"a": [1]}))
            .expect("the values fit the schema");
    }
}
