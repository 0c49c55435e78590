//! Values a template works on, with Go's printing and truth rules.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

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
    /// How `fmt` prints the object (`%v`, and as an argument of `print` or `quote`).
    fn display(&self) -> String {
        format!("{{{}}}", self.type_name())
    }
    /// How an action prints the object itself (`{{ .X }}`): Go's executor calls a `String`
    /// method of an addressable value even when it has a pointer receiver, which `fmt` does
    /// not. The default is [`TemplateObject::display`].
    fn print(&self) -> String {
        self.display()
    }
    /// The entries of an object that is a Go map (Helm's `.Files`), in key order: `range`,
    /// `len` and truth see them. `None` (the default) for struct-like objects.
    fn entries(&self) -> Option<Vec<(String, Value)>> {
        None
    }
    /// The object as `Any`, for functions that take this kind of object as an argument
    /// (`(semver "1.2").LessThan (semver "1.3")`); `None` when no function needs it.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
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
    /// A `map[string]interface{}`; Go prints and ranges over maps in key order. Like a Go map,
    /// it is a reference: clones share one map, so Sprig's `set` is seen through every copy.
    Map(Map),
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
        Value::Map(Map::new(entries))
    }

    /// A copy that shares no map with `self` (Sprig's `deepCopy`; Helm copies values this way
    /// before coalescing). Stops at [`MAX_DEPTH`] levels, so a map that contains itself (Go
    /// allows it through `set`) cannot recurse without bound: deeper levels stay shared.
    #[must_use]
    pub fn deep_copy(&self) -> Value {
        self.deep_copy_at(0)
    }

    fn deep_copy_at(&self, depth: usize) -> Value {
        if depth >= MAX_DEPTH {
            return self.clone();
        }
        match self {
            Value::List(items) => Value::list(items.iter().map(|v| v.deep_copy_at(depth + 1)).collect()),
            Value::Map(m) => Value::map(m.read().iter().map(|(k, v)| (k.clone(), v.deep_copy_at(depth + 1))).collect()),
            other => other.clone(),
        }
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
            Value::Object(o) => o.entries().is_none_or(|e| !e.is_empty()),
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
        self.write_go_at(out, 0);
    }

    fn write_go_at(&self, out: &mut String, depth: usize) {
        if depth >= MAX_DEPTH {
            out.push_str("...");
            return;
        }
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
                    item.write_go_at(out, depth + 1);
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push_str("map[");
                for (i, (k, v)) in entries.read().iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_go_at(out, depth + 1);
                }
                out.push(']');
            }
            Value::Object(o) => out.push_str(&o.display()),
        }
    }
}

/// How deep printing, copying and comparing go into nested data. Go's data from YAML is a tree;
/// only a map that `set` made to contain itself goes deeper, and Go would overflow its stack on
/// it where we stop.
pub const MAX_DEPTH: usize = 10_000;

/// A Go `map[string]interface{}`: shared and mutable, as Go maps are references.
///
/// Reads take a short lock; [`Map::read`] gives the entries for a longer look. Never hold a
/// read guard while calling code that may write the same map.
///
/// ```
/// use gitops_render::helm::template::{Map, Value};
/// let m = Map::default();
/// let alias = Value::Map(m.clone());
/// m.insert("x".to_owned(), Value::Int(1));
/// assert_eq!(alias.to_go_string(), "map[x:1]");
/// ```
#[derive(Clone, Default)]
pub struct Map(Arc<RwLock<BTreeMap<String, Value>>>);

impl Map {
    /// A new map holding `entries`.
    #[must_use]
    pub fn new(entries: BTreeMap<String, Value>) -> Self {
        Map(Arc::new(RwLock::new(entries)))
    }

    /// The entries, locked for reading.
    pub fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Value>> {
        // A poisoned lock only means a panic elsewhere; the map itself is still whole.
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entries, locked for writing.
    pub fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Value>> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value at `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }

    /// Whether `key` is present.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.read().contains_key(key)
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the map has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// The keys, sorted.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// A snapshot of the entries in key order (values are shared, as Go's are).
    #[must_use]
    pub fn entries(&self) -> Vec<(String, Value)> {
        self.read().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Sets `key`, returning the previous value.
    pub fn insert(&self, key: String, value: Value) -> Option<Value> {
        self.write().insert(key, value)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.write().remove(key)
    }

    /// Whether both are the same Go map.
    #[must_use]
    pub fn ptr_eq(&self, other: &Map) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Map {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.try_read() {
            Ok(entries) => f.debug_map().entries(entries.iter()).finish(),
            Err(_) => f.write_str("{<locked>}"),
        }
    }
}

impl PartialEq for Map {
    /// Go's `reflect.DeepEqual` of two maps (as Sprig's `has` and `uniq` compare).
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other) || *self.read() == *other.read()
    }
}

impl From<BTreeMap<String, Value>> for Map {
    fn from(entries: BTreeMap<String, Value>) -> Self {
        Map::new(entries)
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
