//! Request plumbing: query strings, bodies, name validation, JSON merge and JSON patches.

use std::collections::BTreeMap;

use gitops_core::yaml::{self, ReadOptions};
use serde_json::{Map, Value};

use crate::error::{ApiError, Cause};
use crate::selector::{FieldSelector, LabelSelector};

/// The decoded query string. Empty pairs (`?&a=b`, a trailing `?`) are ignored.
#[derive(Debug, Default)]
pub(crate) struct Query {
    pairs: BTreeMap<String, String>,
}

impl Query {
    pub(crate) fn parse(query: Option<&str>) -> Query {
        let mut pairs = BTreeMap::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            pairs.insert(percent_decode(key), percent_decode(value));
        }
        Query { pairs }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Whether `dryRun=All` was asked for; other values are a 400.
    pub(crate) fn dry_run(&self) -> Result<bool, ApiError> {
        match self.get("dryRun") {
            None => Ok(false),
            Some("All") => Ok(true),
            Some(other) => {
                Err(ApiError::BadRequest(format!("Invalid dry run value: {other:?}, supported values are: All")))
            }
        }
    }

    /// A boolean parameter, read as Go's `strconv.ParseBool` reads it (`true`, `1`, `t`, …).
    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | "t" | "T" | "TRUE" | "True"))
    }

    /// The `labelSelector` and `fieldSelector`, parsed; a bad one is a 400.
    pub(crate) fn selectors(&self) -> Result<(Option<LabelSelector>, Option<FieldSelector>), ApiError> {
        let labels = self
            .get("labelSelector")
            .map(LabelSelector::parse)
            .transpose()
            .map_err(|e| ApiError::BadRequest(e.message))?;
        let fields = self.get("fieldSelector").map(FieldSelector::parse).transpose().map_err(ApiError::BadRequest)?;
        Ok((labels, fields))
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Decodes a JSON body into an object.
pub(crate) fn json_object(body: &[u8]) -> Result<Value, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|error| ApiError::BadRequest(format!("error decoding JSON: {error}")))?;
    if value.is_object() { Ok(value) } else { Err(ApiError::BadRequest("the body must be a JSON object".into())) }
}

/// Decodes a YAML (or JSON) body of one document into an object, with kubectl's scalar rules.
pub(crate) fn yaml_object(body: &[u8]) -> Result<Value, ApiError> {
    // kubectl and kube-rs send JSON, which is YAML; a JSON object without duplicate keys reads
    // the same either way, so it skips the YAML parser. Anything else takes the YAML path.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && let Ok(value @ Value::Object(_)) = serde_json::from_slice::<Value>(body)
        && !has_duplicate_keys(body)
    {
        return Ok(value);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::BadRequest("error decoding YAML: the body is not UTF-8".into()))?;
    let options = ReadOptions::default().schema(yaml::Schema::Kubectl);
    let documents = yaml::parse_documents(text, &options)
        .map_err(|error| ApiError::BadRequest(format!("error decoding YAML: {error}")))?;
    match documents.as_slice() {
        [document] if document.value.is_object() => Ok(document.value.clone()),
        [_] | [] => Err(ApiError::BadRequest("error decoding YAML: the body must be one object".into())),
        _ => Err(ApiError::BadRequest("error decoding YAML: the body must be one document".into())),
    }
}

/// Whether a JSON document repeats a key within one object (YAML rejects that, JSON parsers keep
/// the last); checked by a second, borrowing pass.
fn has_duplicate_keys(body: &[u8]) -> bool {
    use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
    struct Check;
    impl<'de> Visitor<'de> for Check {
        type Value = ();
        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("JSON")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if !seen.insert(key) {
                    return Err(serde::de::Error::custom("duplicate key"));
                }
                map.next_value_seed(Nested)?;
            }
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(Nested)?.is_some() {}
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
    }
    struct Nested;
    impl<'de> serde::de::DeserializeSeed<'de> for Nested {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_any(Check)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde::de::DeserializeSeed::deserialize(Nested, &mut deserializer).is_err()
}

/// How a kind's names are validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameRule {
    /// RFC 1123 subdomain: most kinds.
    Subdomain,
    /// RFC 1123 label: namespaces.
    Label,
    /// RFC 1035 label: services.
    Dns1035,
    /// A path segment: RBAC kinds (`system:controller:x` is fine).
    PathSegment,
}

impl NameRule {
    pub(crate) fn for_kind(group: &str, kind: &str) -> NameRule {
        match (group, kind) {
            ("", "Namespace") => NameRule::Label,
            ("", "Service") => NameRule::Dns1035,
            ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
            _ => NameRule::Subdomain,
        }
    }
}

/// Validates a name; the messages are the API server's.
pub(crate) fn validate_name(name: &str, rule: NameRule) -> Vec<String> {
    let label_ok = |part: &str| {
        let bytes = part.as_bytes();
        !bytes.is_empty()
            && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
    };
    let mut errors = Vec::new();
    match rule {
        NameRule::Subdomain => {
            if name.len() > 253 {
                errors.push("must be no more than 253 characters".into());
            }
            if !name.split('.').all(label_ok) {
                errors.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".into());
            }
        }
        NameRule::Label => {
            if name.len() > 63 {
                errors.push("must be no more than 63 characters".into());
            }
            if !label_ok(name) {
                errors.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".into());
            }
        }
        NameRule::Dns1035 => {
            if name.len() > 63 {
                errors.push("must be no more than 63 characters".into());
            }
            if !label_ok(name) || !name.as_bytes().first().is_some_and(u8::is_ascii_lowercase) {
                errors.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".into());
            }
        }
        NameRule::PathSegment => {
            if name == "." || name == ".." {
                errors.push(format!("may not be '{name}'"));
            }
            for bad in ["/", "%"] {
                if name.contains(bad) {
                    errors.push(format!("may not contain '{bad}'"));
                }
            }
        }
    }
    errors
}

/// The 422 for an invalid `metadata.name`.
pub(crate) fn invalid_name(group: &str, kind: &str, name: &str, errors: &[String]) -> ApiError {
    let causes = errors
        .iter()
        .map(|message| Cause {
            reason: "FieldValueInvalid".into(),
            message: format!("Invalid value: {name:?}: {message}"),
            field: "metadata.name".into(),
        })
        .collect();
    ApiError::Invalid { kind: kind.into(), group: group.into(), name: name.into(), causes }
}

/// RFC 7386 JSON merge patch.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else { return };
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// RFC 6902 JSON patch (`add`, `remove`, `replace`, `move`, `copy`, `test`), at most 10 000 ops.
pub(crate) fn json_patch(target: &mut Value, patch: &Value) -> Result<(), String> {
    let Value::Array(ops) = patch else { return Err("a JSON patch must be a list of operations".into()) };
    if ops.len() > 10_000 {
        return Err(format!("The allowed maximum operations in a JSON patch is 10000, got {}", ops.len()));
    }
    for op in ops {
        let field =
            |name: &str| op.get(name).and_then(Value::as_str).ok_or_else(|| format!("operation is missing {name:?}"));
        let path = field("path")?;
        let value = || op.get("value").cloned().ok_or_else(|| "operation is missing \"value\"".to_owned());
        match field("op")? {
            "add" => add(target, path, value()?)?,
            "remove" => drop(remove(target, path)?),
            "replace" => {
                let slot = target
                    .pointer_mut(path)
                    .ok_or_else(|| format!("replace operation does not apply: doc is missing key: {path}"))?;
                *slot = value()?;
            }
            "move" => {
                let moved = remove(target, field("from")?)?;
                add(target, path, moved)?;
            }
            "copy" => {
                let from = field("from")?;
                let copied = target
                    .pointer(from)
                    .cloned()
                    .ok_or_else(|| format!("copy operation does not apply: doc is missing from path: {from}"))?;
                add(target, path, copied)?;
            }
            "test" => {
                if target.pointer(path) != Some(&value()?) {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

fn split_pointer(path: &str) -> Result<(&str, String), String> {
    let (parent, last) = path.rsplit_once('/').ok_or_else(|| format!("invalid JSON pointer {path:?}"))?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn add(target: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    match target.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>().map_err(|_| format!("invalid index {last:?}"))?
            };
            if index > items.len() {
                return Err(format!("add operation does not apply: index {index} out of bounds"));
            }
            items.insert(index, value);
            Ok(())
        }
        _ => Err(format!("add operation does not apply: doc is missing path: {path:?}")),
    }
}

fn remove(target: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    let missing = || format!("remove operation does not apply: doc is missing path: {path:?}");
    match target.pointer_mut(parent) {
        Some(Value::Object(map)) => map.shift_remove(&last).ok_or_else(missing),
        Some(Value::Array(items)) => {
            let index = last.parse::<usize>().map_err(|_| missing())?;
            if index < items.len() { Ok(items.remove(index)) } else { Err(missing()) }
        }
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn queries_decode() {
        let query = Query::parse(Some("&labelSelector=app%3Dweb%2Ctier+in+(a)&dryRun=All&"));
        assert_eq!(query.get("labelSelector"), Some("app=web,tier in (a)"));
        assert_eq!(query.dry_run().ok(), Some(true));
    }

    #[test]
    fn json_bodies_skip_the_yaml_parser_but_not_its_rules() {
        assert_eq!(yaml_object(br#" {"a": {"b": [1, "x"]}}"#).ok(), Some(json!({"a": {"b": [1, "x"]}})));
        assert!(yaml_object(br#"{"a": 1, "a": 2}"#).is_err(), "a duplicate key is refused as YAML refuses it");
        assert!(yaml_object(br#"{"a": {"b": 1, "b": 1}}"#).is_err(), "also when nested");
        assert_eq!(yaml_object(b"a: 1").ok(), Some(json!({"a": 1})));
    }

    #[test]
    fn names_validate() {
        assert!(validate_name("web-1.example", NameRule::Subdomain).is_empty());
        assert_eq!(validate_name("Web", NameRule::Subdomain).len(), 1);
        assert_eq!(validate_name("a.b", NameRule::Label).len(), 1);
        assert_eq!(validate_name("1abc", NameRule::Dns1035).len(), 1);
        assert!(validate_name("system:controller:x", NameRule::PathSegment).is_empty());
    }

    #[test]
    fn patches() {
        let mut doc = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge_patch(&mut doc, &json!({"a": {"b": null, "d": 3}}));
        assert_eq!(doc, json!({"a": {"c": 2, "d": 3}, "l": [1, 2]}));
        let ops = json!([{"op": "add", "path": "/l/-", "value": 3}, {"op": "remove", "path": "/a/c"}, {"op": "test", "path": "/a/d", "value": 3}]);
        assert_eq!(json_patch(&mut doc, &ops), Ok(()));
        assert_eq!(doc, json!({"a": {"d": 3}, "l": [1, 2, 3]}));
        assert!(json_patch(&mut doc, &json!([{"op": "remove", "path": "/zz"}])).is_err());
    }
}
