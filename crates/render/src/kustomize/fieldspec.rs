//! Walking the fields a field spec names, as Kustomize's field-spec filter does.

use serde_json::{Map, Value};

use super::resource::ResId;
use super::types::FieldSpec;

/// What to create at the end of a path when the spec allows creation and the field is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Create {
    /// An empty mapping (labels, annotations).
    Map,
    /// An empty string (names, namespaces).
    Scalar,
}

/// Splits a field-spec path on `/`, keeping `[...]` groups whole and honouring `\/` escapes.
pub(crate) fn split_path(path: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                current.push('/');
                chars.next();
            }
            '[' => {
                depth += 1;
                current.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            '/' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// Whether the spec's group/version/kind selects a resource with this id.
pub(crate) fn selects(spec: &FieldSpec, id: &ResId) -> bool {
    id.selected_by(&spec.group, &spec.version, &spec.kind)
}

/// Calls `set` on every node at `spec.path` in `object`, creating the fields on the way when the
/// spec says `create` and `create` is given. Sequences met along the path are walked element by
/// element. A scalar where the path expects a mapping or sequence is an error.
pub(crate) fn apply(
    object: &mut Map<String, Value>,
    spec: &FieldSpec,
    create: Option<Create>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let segments = split_path(&spec.path);
    let create = if spec.create { create } else { None };
    walk_map(object, &segments, create, set)
}

fn walk(
    node: &mut Value,
    segments: &[String],
    create: Option<Create>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    if segments.is_empty() {
        return set(node);
    }
    match node {
        Value::Null => Ok(()),
        Value::Array(items) => items.iter_mut().try_for_each(|item| walk(item, segments, create, set)),
        Value::Object(map) => walk_map(map, segments, create, set),
        _ => Err("expected sequence or mapping node".to_owned()),
    }
}

fn walk_map(
    map: &mut Map<String, Value>,
    segments: &[String],
    create: Option<Create>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some((first, rest)) = segments.split_first() else { return Ok(()) };
    let (name, is_seq) = match first.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (first.as_str(), false),
    };
    if name.is_empty() {
        return Err("cannot set or create an empty field name".to_owned());
    }
    let empty = |kind| match kind {
        Create::Map => Value::Object(Map::new()),
        Create::Scalar => Value::String(String::new()),
    };
    let creating = match create {
        Some(kind) if !is_seq => Some(if rest.is_empty() { kind } else { Create::Map }),
        _ => None,
    };
    let field = match (map.get_mut(name), creating) {
        (Some(field), Some(kind)) if field.is_null() => {
            *field = empty(kind);
            field
        }
        (Some(field), _) => field,
        (None, Some(kind)) => map.entry(name.to_owned()).or_insert(empty(kind)),
        (None, None) => return Ok(()),
    };
    walk(field, rest, create, set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(path: &str, create: bool) -> FieldSpec {
        FieldSpec { path: path.to_owned(), create, ..FieldSpec::default() }
    }

    #[test]
    fn walks_sequences_and_creates_maps() {
        let mut obj = json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b", "env": [{"value": "x"}]}]}}}})
            .as_object()
            .expect("object")
            .clone();
        let mut seen = Vec::new();
        apply(&mut obj, &spec("spec/template/spec/containers/env/value", false), None, &mut |v| {
            seen.push(v.clone());
            Ok(())
        })
        .expect("walk");
        assert_eq!(seen, [json!("x")]);
        apply(&mut obj, &spec("spec/template/metadata/labels", true), Some(Create::Map), &mut |v| {
            v.as_object_mut().expect("created map").insert("app".into(), json!("web"));
            Ok(())
        })
        .expect("create");
        assert_eq!(obj["spec"]["template"]["metadata"]["labels"], json!({"app": "web"}));
        apply(&mut obj, &spec("spec/missing/labels", false), Some(Create::Map), &mut |_| Err("not called".into()))
            .expect("no create without the flag");
        assert!(obj["spec"].get("missing").is_none());
    }

    #[test]
    fn path_splitting() {
        assert_eq!(split_path("a/b[]/c"), ["a", "b[]", "c"]);
        assert_eq!(split_path("metadata/annotations/x.io\\/y"), ["metadata", "annotations", "x.io/y"]);
        assert_eq!(split_path("spec/containers[name=a/b]/image"), ["spec", "containers[name=a/b]", "image"]);
    }
}
