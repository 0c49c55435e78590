//! Values a template works on, with Go's printing and truth rules.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use gitops_core::yaml::format_float;

/// An object with fields and methods, such as Helm's `.Files` or `.Capabilities`.
///
/// Go templates reach struct fields and methods through reflection; here an object answers
/// by name. `field` is asked for `.Name` without arguments; `call` for `.Name arg...`.
pub trait TemplateObject: Send + Sync + std::fmt::Debug {
    /// The Go type name used in error messages, such as `*chart.Metadata`.
    fn type_name(&self) -> &str;
    /// The value of a field or argument-less method, or `None` when there is no such name.
    fn field(&self, name: &str) -> Option<Value>;
    /// Calls method `name`; `None` when there is no such method.
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let _ = (name, args);
        None
    }
    /// How `{{ . }}` prints the object.
    fn display(&self) -> String {
        format!("{{{}}}", self.type_name())
    }
}

/// A template value: what Go holds in an `interface{}` after decoding YAML or JSON, plus
/// [`Value::Missing`] for Go's invalid `reflect.Value` (printed `<no value>`).
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// An invalid value: a map key that does not exist, or a nil interface after evaluation.
    #[default]
    Missing,
    /// Go's untyped `nil` inside data (a YAML `null`).
    Nil,
    /// A boolean.
    Bool(bool),
    /// A Go `int` (template number literals, `len`, sprig integer results).
    Int(i64),
    /// A Go `float64` (every number read from YAML or JSON values).
    Float(f64),
    /// A string.
    String(Arc<str>),
    /// A `[]interface{}`.
    List(Arc<Vec<Value>>),
    /// A `map[string]interface{}`; Go prints and ranges over maps in key order.
    Map(Arc<BTreeMap<String, Value>>),
    /// An object with fields and methods.
    Object(Arc<dyn TemplateObject>),
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<Arc<str>>) -> Self {
        Value::String(s.into())
    }

    /// A list value.
    #[must_use]
    pub fn list(items: Vec<Value>) -> Self {
        Value::List(Arc::new(items))
    }

    /// A map value.
    #[must_use]
    pub fn map(entries: BTreeMap<String, Value>) -> Self {
        Value::Map(Arc::new(entries))
    }

    /// Converts JSON data as Go's `encoding/json` decodes it into `interface{}`: every number
    /// becomes a `float64`.
    #[must_use]
    pub fn from_json(json: &serde_json::Value) -> Self {
        match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::string(s.as_str()),
            serde_json::Value::Array(items) => Value::list(items.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(entries) => {
                Value::map(entries.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect())
            }
        }
    }

    /// Whether this is [`Value::Missing`] or [`Value::Nil`].
    #[must_use]
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Missing | Value::Nil)
    }

    /// Go's truth: false, 0, nil, and empty strings, lists and maps are false.
    #[must_use]
    pub fn is_true(&self) -> bool {
        match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(_) => true,
        }
    }

    /// The Go type name, as `fmt` prints it in `%!d(float64=3)`.
    #[must_use]
    pub fn type_name(&self) -> &str {
        match self {
            Value::Missing | Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::Object(o) => o.type_name(),
        }
    }

    /// The string inside, if this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Prints the value as `fmt.Sprint` does for a single operand (`%v`).
    #[must_use]
    pub fn to_go_string(&self) -> String {
        let mut out = String::new();
        self.write_go(&mut out);
        out
    }

    /// Appends the `%v` form to `out`.
    pub fn write_go(&self, out: &mut String) {
        match self {
            Value::Missing | Value::Nil => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&format_float(*f)),
            Value::String(s) => out.push_str(s),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    item.write_go(out);
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push_str("map[");
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_go(out);
                }
                out.push(']');
            }
            Value::Object(o) => out.push_str(&o.display()),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Missing | Value::Nil, Value::Missing | Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::string(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::string(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_go() {
        let v = Value::from_json(&serde_json::json!({"b": [1, "x", null], "a": 1_000_000, "c": {}}));
        assert_eq!(v.to_go_string(), "map[a:1e+06 b:[1 x <nil>] c:map[]]");
        assert!(!Value::from_json(&serde_json::json!({})).is_true());
        assert!(Value::Float(0.5).is_true());
    }
}
