//! Replacement targets inside structured data: a field path that runs into a string holding JSON
//! or YAML (`data.config\.json.database.host`) writes inside that document and prints it back,
//! as Kustomize v5.8's `setValueInStructuredData` does.
//!
//! JSON comes back as Go's `encoding/json` prints it: keys sorted, `<`, `>` and `&` escaped, and
//! indented by two spaces when the original text had line breaks and double spaces. YAML comes
//! back as kyaml prints it (see [`super::v3yaml`]).

use serde_json::Value;

use super::nodepath::{Kind, Matcher, Visit, at, at_mut, lookup, parse_scalar};

/// Writes through structured data if some proper prefix of `path` is a string that parses as
/// YAML and the rest of the path matches inside it. Returns false when the path is not such a
/// path, or when anything fails: the caller then walks the path the ordinary way.
pub(super) fn set_in_structured_data(
    root: &mut Value,
    path: &[String],
    create: Option<Kind>,
    set: &mut Visit<'_>,
) -> bool {
    if path.len() < 2 {
        return false;
    }
    let mut found = None;
    for i in 1..path.len() {
        let Ok(Some(steps)) = lookup(root, &path[..i]) else { continue };
        let Some(node) = at(root, &steps) else { continue };
        if Kind::of(node) != Kind::Scalar {
            continue;
        }
        let text = match node {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => super::nodepath::scalar_text(other),
        };
        if let Ok(parsed) = parse_scalar(&text) {
            found = Some((steps, text, parsed, i));
            break;
        }
    }
    let Some((steps, original, Some(mut document), i)) = found else { return false };
    let mut matcher = Matcher::new(create, set);
    if matcher.walk(&mut document, &path[i..], false).is_err() || matcher.count == 0 {
        return false;
    }
    let serialized = match original.trim_start().chars().next() {
        Some('{' | '[') => go_json(&document, original.contains('\n') && original.contains("  ")),
        _ => super::v3yaml::print(&document, &original).trim().to_owned(),
    };
    match at_mut(root, &steps) {
        Some(node) => {
            *node = Value::String(serialized);
            true
        }
        None => false,
    }
}

/// `json.Marshal` (or `json.MarshalIndent(v, "", "  ")` when `pretty`) of a decoded YAML value.
pub(super) fn go_json(value: &Value, pretty: bool) -> String {
    crate::gojson::to_string(value, pretty, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_as_go_prints_it() {
        let v = json!({"b": [1, 2.5, {}], "a": {"x": "<&>", "e": []}, "n": null});
        assert_eq!(go_json(&v, false), r#"{"a":{"e":[],"x":"\u003c\u0026\u003e"},"b":[1,2.5,{}],"n":null}"#);
        assert_eq!(
            go_json(&json!({"database": {"port": 5432, "host": "h"}, "name": "app"}), true),
            "{\n  \"database\": {\n    \"host\": \"h\",\n    \"port\": 5432\n  },\n  \"name\": \"app\"\n}"
        );
        assert_eq!(crate::gojson::go_json_float(1e21), "1e+21");
        assert_eq!(crate::gojson::go_json_float(1.5e-7), "1.5e-7");
        assert_eq!(crate::gojson::go_json_float(0.25), "0.25");
    }

    #[test]
    fn writes_inside_json_strings() {
        let mut doc = json!({"data": {"config.json": "{\"db\": {\"host\": \"old\", \"port\": 1}}"}});
        let path: Vec<String> = ["data", "config.json", "db", "host"].map(String::from).to_vec();
        let mut set = |node: &mut Value, _| {
            *node = json!("new");
            Ok(())
        };
        assert!(set_in_structured_data(&mut doc, &path, None, &mut set));
        assert_eq!(doc["data"]["config.json"], json!(r#"{"db":{"host":"new","port":1}}"#));
        let plain: Vec<String> = ["data", "config.json"].map(String::from).to_vec();
        assert!(!set_in_structured_data(&mut doc, &plain, None, &mut set));
    }
}
