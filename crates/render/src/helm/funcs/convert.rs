//! Helm's serialization functions (`toYaml`, `toJson`, `fromYaml`, ...), `required`, `fail`
//! and `lookup`.

use gitops_core::yaml::{EmitOptions, ReadOptions, Schema, parse_documents};

use super::{add, want_str};
use crate::helm::template::{Arity, FuncError, FuncMap, Value};

/// The JSON value `encoding/json` would produce for `v` (a `float64` without a fraction below
/// 1e21 is written as an integer, as Go writes it).
#[must_use]
pub fn to_json_value(v: &Value) -> serde_json::Value {
    match v {
        Value::Missing | Value::Nil | Value::Object(_) => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Float(f) =>
        {
            #[allow(clippy::cast_possible_truncation)]
            if f.fract() == 0.0 && f.abs() < 1e18 {
                serde_json::Value::from(*f as i64)
            } else {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
        }
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::List(items) => serde_json::Value::Array(items.iter().map(to_json_value).collect()),
        Value::Map(m) => {
            serde_json::Value::Object(m.read().iter().map(|(k, v)| (k.clone(), to_json_value(v))).collect())
        }
    }
}

/// Helm's `toYaml`: `sigs.k8s.io/yaml` (JSON, then go-yaml v2 with sorted keys), without the
/// final newline.
#[must_use]
pub fn to_yaml(v: &Value) -> String {
    let out = gitops_core::yaml::to_string(&to_json_value(v), &EmitOptions::default());
    out.strip_suffix('\n').unwrap_or(&out).to_owned()
}

/// Go's `encoding/json` text of `v`: sorted keys, `<`, `>` and `&` escaped when `escape_html`,
/// Go's float format; `pretty` is `json.MarshalIndent(v, "", "  ")`.
#[must_use]
pub fn to_go_json(v: &Value, escape_html: bool, pretty: bool) -> String {
    crate::gojson::to_string(&to_json_value(v), pretty, escape_html)
}

fn from_yaml(text: &str) -> Result<serde_json::Value, String> {
    let docs = parse_documents(text, &ReadOptions::default().schema(Schema::Kubectl)).map_err(|e| e.to_string())?;
    Ok(docs.into_iter().next().map_or(serde_json::Value::Null, |d| d.value))
}

fn error_map(message: String) -> Value {
    Value::map(std::iter::once(("Error".to_owned(), Value::from(message))).collect())
}

/// Wraps a message so Helm's `cleanupExecError` can find it (`required`, `fail`).
fn helm_err(message: &str) -> FuncError {
    FuncError::Message(format!("{}{message}{}", super::ERR_START, super::ERR_END))
}

pub(super) fn register(map: &mut FuncMap) {
    add(map, "toYaml", Arity::Exact(1), |_, a| Ok(Value::from(to_yaml(&a[0]))));
    add(map, "toJson", Arity::Exact(1), |_, a| Ok(Value::from(to_go_json(&a[0], true, false))));
    add(map, "toRawJson", Arity::Exact(1), |_, a| Ok(Value::from(to_go_json(&a[0], false, false))));
    add(map, "toPrettyJson", Arity::Exact(1), |_, a| Ok(Value::from(to_go_json(&a[0], true, true))));
    add(map, "fromYaml", Arity::Exact(1), |_, a| {
        Ok(match from_yaml(want_str(&a[0])?) {
            Ok(serde_json::Value::Object(m)) => Value::from_json(&serde_json::Value::Object(m)),
            Ok(serde_json::Value::Null) => Value::map(std::collections::BTreeMap::new()),
            Ok(other) => error_map(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            )),
            Err(e) => error_map(e),
        })
    });
    add(map, "fromYamlArray", Arity::Exact(1), |_, a| {
        Ok(match from_yaml(want_str(&a[0])?) {
            Ok(v @ serde_json::Value::Array(_)) => Value::from_json(&v),
            Ok(serde_json::Value::Null) => Value::list(Vec::new()),
            Ok(other) => Value::list(vec![Value::from(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&other)
            ))]),
            Err(e) => Value::list(vec![Value::from(e)]),
        })
    });
    add(map, "fromJson", Arity::Exact(1), |_, a| {
        Ok(match serde_json::from_str::<serde_json::Value>(want_str(&a[0])?) {
            Ok(v @ serde_json::Value::Object(_)) => Value::from_json(&v),
            Ok(other) => error_map(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            )),
            Err(e) => error_map(e.to_string()),
        })
    });
    add(map, "fromJsonArray", Arity::Exact(1), |_, a| {
        Ok(match serde_json::from_str::<serde_json::Value>(want_str(&a[0])?) {
            Ok(v @ serde_json::Value::Array(_)) => Value::from_json(&v),
            Ok(other) => Value::list(vec![Value::from(format!(
                "json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&other)
            ))]),
            Err(e) => Value::list(vec![Value::from(e.to_string())]),
        })
    });
    add(map, "required", Arity::Exact(2), |_, a| {
        let message = want_str(&a[0])?;
        match &a[1] {
            Value::Missing | Value::Nil => Err(helm_err(message)),
            Value::String(s) if s.is_empty() => Err(helm_err(message)),
            other => Ok(other.clone()),
        }
    });
    add(map, "fail", Arity::Exact(1), |_, a| Err(helm_err(want_str(&a[0])?)));
    // `helm template` has no cluster: lookup finds nothing (an empty map).
    add(map, "lookup", Arity::Exact(4), |_, a| {
        for v in &a {
            want_str(v)?;
        }
        Ok(Value::map(std::collections::BTreeMap::new()))
    });
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}
