//! Comparing two JSON values field by field.

use serde_json::{Map, Value};

/// Metadata fields the API server sets and owns; never a difference.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Removes the fields the server owns (`status` and server-set metadata) from an object value.
pub fn strip_server_fields(value: &mut Value) {
    if let Value::Object(map) = value {
        map.remove("status");
        if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
            for key in SERVER_METADATA {
                metadata.remove(*key);
            }
        }
    }
}

/// The paths where two values differ, in a stable order: `spec.replicas`,
/// `metadata.labels.app`, `spec.template.spec.containers[0].image`. A list whose length changed
/// is one path; a key present on one side only is its own path.
///
/// ```
/// use serde_json::json;
/// use gitops_diff::changed_paths;
/// let a = json!({"spec": {"replicas": 1, "ports": [{"port": 80}]}, "x": 1});
/// let b = json!({"spec": {"replicas": 2, "ports": [{"port": 81}]}, "y": 1});
/// assert_eq!(changed_paths(&a, &b), ["spec.replicas", "spec.ports[0].port", "x", "y"]);
/// ```
pub fn changed_paths(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(a, b, &mut String::new(), &mut out);
    out
}

fn push_key(path: &str, key: &str) -> String {
    let simple = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (path.is_empty(), simple) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{key:?}]"),
    }
}

fn walk(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => walk_maps(x, y, path, out),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                let mut child = format!("{path}[{i}]");
                walk(p, q, &mut child, out);
            }
        }
        _ if values_equal(a, b) => {}
        _ => out.push(if path.is_empty() { ".".to_owned() } else { path.clone() }),
    }
}

fn walk_maps(x: &Map<String, Value>, y: &Map<String, Value>, path: &str, out: &mut Vec<String>) {
    for (key, left) in x {
        let mut child = push_key(path, key);
        match y.get(key) {
            Some(right) => walk(left, right, &mut child, out),
            None => out.push(child),
        }
    }
    for key in y.keys().filter(|k| !x.contains_key(*k)) {
        out.push(push_key(path, key));
    }
}

/// Equality where `1` and `1.0` are the same number.
#[allow(clippy::float_cmp)] // exact equality is the point: `1` and `1.0` are the same value, `0.1` and `0.1000001` are not
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64().zip(y.as_f64()).is_some_and(|(p, q)| p == q),
        _ => a == b,
    }
}
