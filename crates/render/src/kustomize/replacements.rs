//! `replacements`: copy a field from a source object into fields of target objects.
//!
//! This is Kustomize v5.8's replacement filter (`api/filters/replacement`), step for step:
//!
//! 1. Entries with a `path` are read from their file (one replacement or a list) before any runs.
//! 2. Each replacement takes its value from `sourceValue`, or from the one object its `source`
//!    selects (current or earlier ids, exact match; `fieldPath` default `metadata.name`, read
//!    with kyaml's `Lookup`), optionally one `delimiter`-separated part of it.
//! 3. Each target selects objects by regular expressions over any of their ids, label and
//!    annotation selectors, minus `reject`; each of its `fieldPaths` is walked with kyaml's
//!    `PathMatcher` (see [`nodepath`]), creating missing fields when `options.create` is set.
//!    A path that runs into a string holding JSON or YAML writes inside it (see [`structured`]).
//! 4. A scalar target keeps its own type and takes the value's text (an int written into a
//!    string field becomes `"5432"`, into an int field `5432`); a created field has no type
//!    until Kustomize prints it, so it reads back as what its text says (`5432` an int, `true` a
//!    bool). A text that does not read as the field's type (`hello` into `replicas`) is an
//!    error, as Kustomize fails when it prints the object. Mappings and sequences are replaced
//!    whole.
//!
//! Kustomize prints annotation values as strings, so values written under
//! `metadata.annotations` are turned into strings here.

mod nodepath;
mod structured;
mod v3yaml;

use gitops_core::yaml::{ReadOptions, Schema, parse_documents};
use regex::Regex;
use serde_json::Value;

use self::nodepath::{Kind, Leaf, Matcher, WalkError, resolve_untagged};
pub(crate) use self::nodepath::{at, lookup, scalar_text, split_field_path, split_legacy_indices};
use super::build::Files;
use super::patches::matches_selector;
use super::resource::{ResId, ResMap, Resource};
use super::transform::string_map;
use super::types::{FieldOptions, ReplacementField, Selector, SourceSelector, TargetSelector};

const DEFAULT_FIELD_PATH: &str = "metadata.name";

/// Runs the replacements in order.
pub(crate) fn run(resources: &mut ResMap, replacements: &[ReplacementField], files: &Files<'_>) -> Result<(), String> {
    for replacement in &load(replacements, files)? {
        apply(resources, replacement)?;
    }
    Ok(())
}

/// Inline entries as they are, `path` entries read from their files.
fn load(entries: &[ReplacementField], files: &Files<'_>) -> Result<Vec<ReplacementField>, String> {
    let mut list = Vec::with_capacity(entries.len());
    for entry in entries {
        let Some(path) = entry.path.as_deref().filter(|p| !p.is_empty()) else {
            list.push(entry.clone());
            continue;
        };
        if entry.source.is_some() || entry.targets.as_ref().is_some_and(|t| !t.is_empty()) {
            return Err("cannot specify both path and inline replacement".into());
        }
        let (full, text) = files.read_text(path)?;
        let docs = parse_documents(&text, &ReadOptions::default().schema(Schema::Kubectl))
            .map_err(|e| format!("{full}:{}: invalid YAML: {e}", e.line))?;
        let parse = |value: Value| {
            serde_json::from_value::<ReplacementField>(value)
                .map(|r| ReplacementField { path: None, ..r })
                .map_err(|e| format!("{full}: invalid replacement: {e}"))
        };
        match docs.into_iter().next().map_or(Value::Null, |d| d.value) {
            Value::Array(items) => {
                for item in items {
                    list.push(parse(item)?);
                }
            }
            map @ Value::Object(_) => list.push(parse(map)?),
            other => {
                let kind = match other {
                    Value::Null => "invalid",
                    Value::Bool(_) => "bool",
                    Value::Number(_) => "float64",
                    _ => "string",
                };
                return Err(format!("unsupported replacement type encountered within replacement path: {kind}"));
            }
        }
    }
    Ok(list)
}

/// The type a scalar carries (its YAML tag); `Untagged` for nodes Kustomize makes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Str,
    Int,
    Float,
    Bool,
    Null,
    Untagged,
}

impl Tag {
    fn of(value: &Value) -> Tag {
        match value {
            Value::String(_) => Tag::Str,
            Value::Number(n) if n.is_f64() => Tag::Float,
            Value::Number(_) => Tag::Int,
            Value::Bool(_) => Tag::Bool,
            _ => Tag::Null,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tag::Str | Tag::Untagged => "!!str",
            Tag::Int => "!!int",
            Tag::Float => "!!float",
            Tag::Bool => "!!bool",
            Tag::Null => "!!null",
        }
    }
}

/// `text` as a scalar of type `tag`, as Kustomize's printer and reader make it: the text must
/// read as that type (an int-typed field cannot take `hello`). Outside `strict`, a misfit is
/// kept as a string (the node is thrown away anyway).
fn typed(tag: Tag, text: &str, strict: bool) -> Result<Value, String> {
    match tag {
        Tag::Str => return Ok(Value::String(text.to_owned())),
        Tag::Untagged => return Ok(resolve_untagged(text)),
        _ => {}
    }
    let resolved = resolve_untagged(text);
    let fits = match (tag, &resolved) {
        (Tag::Int, Value::Number(n)) => !n.is_f64(),
        (Tag::Float, Value::Number(_)) | (Tag::Bool, Value::Bool(_)) | (Tag::Null, Value::Null) => true,
        _ => false,
    };
    match (fits, strict) {
        (true, _) => Ok(resolved),
        (false, false) => Ok(Value::String(text.to_owned())),
        (false, true) => Err(format!("yaml: cannot decode {} `{text}` as a {}", Tag::of(&resolved).name(), tag.name())),
    }
}

/// What a replacement writes: a scalar's text and type, or a whole mapping or sequence.
#[derive(Debug, Clone, PartialEq)]
enum Payload {
    Scalar { text: String, tag: Tag },
    Node(Value),
}

impl Payload {
    fn from_value(value: &Value) -> Payload {
        match value {
            Value::Object(_) | Value::Array(_) => Payload::Node(value.clone()),
            scalar => Payload::Scalar { text: scalar_text(scalar), tag: Tag::of(scalar) },
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Payload::Scalar { .. } => Kind::Scalar,
            Payload::Node(value) => Kind::of(value),
        }
    }

    /// The node's text (kyaml's `Node.Value`): empty for mappings and sequences.
    fn text(&self) -> &str {
        match self {
            Payload::Scalar { text, .. } => text,
            Payload::Node(_) => "",
        }
    }

    fn with_text(&self, text: String) -> Payload {
        match self {
            Payload::Scalar { tag, .. } => Payload::Scalar { text, tag: *tag },
            Payload::Node(_) => Payload::Scalar { text, tag: Tag::Str },
        }
    }

    fn to_value(&self, strict: bool) -> Result<Value, String> {
        match self {
            Payload::Scalar { text, tag } => typed(*tag, text, strict),
            Payload::Node(value) => Ok(value.clone()),
        }
    }
}

/// One replacement: read the value, write it into every target.
fn apply(resources: &mut ResMap, replacement: &ReplacementField) -> Result<(), String> {
    let targets = match &replacement.targets {
        Some(targets) if replacement.source.is_some() || replacement.source_value.is_some() => targets,
        _ => return Err("replacements must specify a source and at least one target".into()),
    };
    let payload = source_payload(resources, replacement)?;
    for target in targets {
        apply_target(resources, &payload, target)?;
    }
    Ok(())
}

/// Kustomize's `getReplacement`.
fn source_payload(resources: &mut ResMap, replacement: &ReplacementField) -> Result<Payload, String> {
    let source = match (&replacement.source, &replacement.source_value) {
        (Some(_), Some(_)) => return Err("value and resource selectors are mutually exclusive".into()),
        (None, Some(value)) => return Ok(Payload::Scalar { text: value.clone(), tag: Tag::Untagged }),
        (Some(source), None) => source,
        (None, None) => return Err("replacements must specify a source and at least one target".into()),
    };
    let index = select_source(resources, source)?;
    let field_path = source.field_path.as_deref().filter(|p| !p.is_empty()).unwrap_or(DEFAULT_FIELD_PATH);
    let found = with_root(&mut resources.resources[index], |root| {
        let steps = lookup(root, &split_field_path(field_path))
            .map_err(|e| format!("error looking up replacement source: {e}"))?;
        Ok::<_, String>(steps.and_then(|steps| at(root, &steps)).map(Payload::from_value))
    })?;
    let payload = match found {
        Some(Payload::Scalar { tag: Tag::Null, .. }) | None => None,
        Some(Payload::Node(Value::Object(map))) if map.is_empty() => None,
        Some(Payload::Node(Value::Array(items))) if items.is_empty() => None,
        Some(payload) => Some(payload),
    };
    let Some(payload) = payload else {
        return Err(format!("fieldPath `{field_path}` is missing for replacement source {}", source_id(source)));
    };
    let Some(options) = source.options.as_ref().filter(|o| o.delimiter.as_deref().is_some_and(|d| !d.is_empty()))
    else {
        return Ok(payload);
    };
    if payload.kind() != Kind::Scalar {
        return Err("delimiter option can only be used with scalar nodes".into());
    }
    let parts: Vec<&str> = payload.text().split(options.delimiter.as_deref().unwrap_or_default()).collect();
    match usize::try_from(options.index).ok().and_then(|i| parts.get(i)) {
        Some(part) => Ok(payload.with_text((*part).to_owned())),
        None => Err(format!("options.index {} is out of bounds for value {}", options.index, payload.text())),
    }
}

/// Runs `f` on the resource as one JSON value.
fn with_root<R>(resource: &mut Resource, f: impl FnOnce(&mut Value) -> R) -> R {
    let mut root = Value::Object(std::mem::take(&mut resource.map));
    let result = f(&mut root);
    if let Value::Object(map) = root {
        resource.map = map;
    }
    result
}

/// A resource's current id and its earlier ones (with the current group and version, as
/// Kustomize rebuilds them from its annotations).
pub(crate) fn ids(resource: &Resource) -> Vec<ResId> {
    let current = resource.cur_id();
    let earlier = resource.prev_ids.iter().map(|prev| ResId {
        group: current.group.clone(),
        version: current.version.clone(),
        kind: prev.kind.clone(),
        name: prev.name.clone(),
        namespace: prev.namespace.clone(),
    });
    let mut all: Vec<ResId> = earlier.collect();
    all.insert(0, current);
    all
}

fn text(field: Option<&String>) -> &str {
    field.map_or("", String::as_str)
}

/// The source's id as Kustomize prints it: `ConfigMap.[noVer].[noGrp]/name.[noNs]`.
fn source_id(source: &SourceSelector) -> String {
    let or = |field: Option<&String>, missing: &'static str| {
        let value = text(field);
        if value.is_empty() { missing.to_owned() } else { value.to_owned() }
    };
    format!(
        "{}.{}.{}/{}.{}",
        or(source.kind.as_ref(), "[noKind]"),
        or(source.version.as_ref(), "[noVer]"),
        or(source.group.as_ref(), "[noGrp]"),
        or(source.name.as_ref(), "[noName]"),
        or(source.namespace.as_ref(), "[noNs]"),
    )
}

/// The source selector as Kustomize prints it: id, field path and options.
fn source_display(source: &SourceSelector) -> String {
    let mut parts = vec![source_id(source)];
    if let Some(path) = source.field_path.as_ref().filter(|p| !p.is_empty()) {
        parts.push(path.clone());
    }
    if let Some(options) = &source.options {
        let delimiter = text(options.delimiter.as_ref());
        if !delimiter.is_empty() || options.create {
            parts.push(format!("{delimiter}({}), create={}", options.index, options.create));
        }
    }
    parts.join(":")
}

/// Kustomize's `selectSourceNode`: exactly one resource with an id the selector picks.
fn select_source(resources: &ResMap, source: &SourceSelector) -> Result<usize, String> {
    // Namespaces compare with an empty one read as `default`.
    let namespace = text(source.namespace.as_ref());
    let wanted_namespace = if namespace == "default" { "" } else { namespace };
    let selects = |id: &ResId| {
        let want = |field: Option<&String>, have: &str| text(field).is_empty() || text(field) == have;
        want(source.name.as_ref(), &id.name)
            && (namespace.is_empty() || wanted_namespace == if id.namespace == "default" { "" } else { &id.namespace })
            && want(source.group.as_ref(), &id.group)
            && want(source.version.as_ref(), &id.version)
            && want(source.kind.as_ref(), &id.kind)
    };
    let mut found = None;
    for (index, resource) in resources.resources.iter().enumerate() {
        if ids(resource).iter().any(selects) {
            if found.is_some() {
                return Err(format!("multiple matches for selector {}", source_display(source)));
            }
            found = Some(index);
        }
    }
    found.ok_or_else(|| format!("nothing selected by {}", source_display(source)))
}

/// A selector's id fields as anchored regular expressions (Kustomize's `SelectorRegex`).
struct IdRegex {
    fields: [Option<Regex>; 5],
}

impl IdRegex {
    fn new(selector: &Selector) -> Result<IdRegex, String> {
        let compile = |field: Option<&String>| match text(field) {
            "" => Ok(None),
            pattern => Regex::new(&format!("^(?:{pattern})$")).map(Some).map_err(|e| e.to_string()),
        };
        Ok(IdRegex {
            fields: [
                compile(selector.group.as_ref())?,
                compile(selector.version.as_ref())?,
                compile(selector.kind.as_ref())?,
                compile(selector.name.as_ref())?,
                compile(selector.namespace.as_ref())?,
            ],
        })
    }

    fn is_empty(&self) -> bool {
        self.fields.iter().all(Option::is_none)
    }

    /// Namespaces are compared as written: `default` does not select an object without one.
    fn matches(&self, id: &ResId) -> bool {
        let values = [&id.group, &id.version, &id.kind, &id.name, &id.namespace];
        self.fields.iter().zip(values).all(|(re, value)| re.as_ref().is_none_or(|re| re.is_match(value)))
    }
}

/// Whether the resource's labels and annotations satisfy the selector's (empty ones do).
fn matches_metadata(resource: &Resource, selector: &Selector) -> Result<bool, String> {
    for (wanted, have) in
        [(&selector.annotation_selector, resource.annotations()), (&selector.label_selector, resource.labels())]
    {
        if let Some(wanted) = wanted.as_deref().filter(|s| !s.is_empty())
            && !matches_selector(wanted, &string_map(&have))?
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Kustomize's `applyReplacement` for one target selector.
fn apply_target(resources: &mut ResMap, payload: &Payload, target: &TargetSelector) -> Result<(), String> {
    let select = target.select.as_ref().ok_or("target must specify resources to select")?;
    let field_paths = match &target.field_paths {
        Some(paths) if !paths.is_empty() => paths.clone(),
        _ => vec![DEFAULT_FIELD_PATH.to_owned()],
    };
    let regex_err = |e: String| format!("error creating target selector: {e}");
    let selector = IdRegex::new(select).map_err(regex_err)?;
    let rejects: Vec<IdRegex> =
        target.reject.iter().flatten().map(IdRegex::new).collect::<Result<_, _>>().map_err(regex_err)?;
    let options = target.options.clone().unwrap_or_default();
    for resource in &mut resources.resources {
        if !matches_metadata(resource, select)? {
            continue;
        }
        let mut rejected = false;
        for reject in target.reject.iter().flatten() {
            let by_metadata = [&reject.annotation_selector, &reject.label_selector]
                .iter()
                .any(|s| s.as_deref().is_some_and(|s| !s.is_empty()));
            if by_metadata && matches_metadata(resource, reject)? {
                rejected = true;
                break;
            }
        }
        let ids = ids(resource);
        if rejected || rejects.iter().any(|r| !r.is_empty() && ids.iter().any(|id| r.matches(id))) {
            continue;
        }
        if ids.iter().any(|id| selector.matches(id)) {
            for field_path in &field_paths {
                copy_to_field(resource, payload, field_path, &options)?;
            }
            stringify_annotations(resource);
        }
    }
    Ok(())
}

/// Kustomize's `copyValueToTarget` for one field path.
fn copy_to_field(
    resource: &mut Resource,
    payload: &Payload,
    field_path: &str,
    options: &FieldOptions,
) -> Result<(), String> {
    let create = options.create.then(|| payload.kind());
    let path = split_field_path(field_path);
    let delimiter = options.delimiter.as_deref().filter(|d| !d.is_empty()).map(|d| (d, options.index));
    let not_found = if create.is_some() {
        format!("unable to find or create field {field_path:?} in replacement target")
    } else {
        format!("unable to find field {field_path:?} in replacement target")
    };
    with_root(resource, |root| {
        let mut set_structured = |leaf: &mut Value, info: Leaf| set_value(leaf, info, payload, None);
        if structured::set_in_structured_data(root, &path, create, &mut set_structured) {
            return Ok(());
        }
        let mut set = |leaf: &mut Value, info: Leaf| set_value(leaf, info, payload, delimiter);
        let mut matcher = Matcher::new(create, &mut set);
        match matcher.walk(root, &path, false) {
            Err(WalkError::Path(e)) => Err(format!("{not_found}: {e}")),
            Err(WalkError::Visit(e)) => Err(e),
            Ok(()) if matcher.count == 0 => Err(not_found),
            Ok(()) => Ok(()),
        }
    })
}

/// Kustomize's `setFieldValue`: a scalar keeps its type and takes the text (one part of it with a
/// delimiter); anything else is replaced by the value.
fn set_value(leaf: &mut Value, info: Leaf, payload: &Payload, delimiter: Option<(&str, i64)>) -> Result<(), String> {
    let scalar = Kind::of(leaf) == Kind::Scalar;
    let joined;
    let payload = match delimiter {
        None => payload,
        Some(_) if !scalar => return Err("delimiter option can only be used with scalar nodes".into()),
        Some((delimiter, index)) => {
            let current = if info.created { String::new() } else { scalar_text(leaf) };
            let mut parts: Vec<&str> = current.split(delimiter).collect();
            match usize::try_from(index) {
                Err(_) => parts.insert(0, payload.text()),
                Ok(i) if i >= parts.len() => parts.push(payload.text()),
                Ok(i) => parts[i] = payload.text(),
            }
            joined = payload.with_text(parts.join(delimiter));
            &joined
        }
    };
    let strict = !info.detached;
    *leaf = if scalar {
        let tag = if info.created { Tag::Untagged } else { Tag::of(leaf) };
        typed(tag, payload.text(), strict)?
    } else {
        payload.to_value(strict)?
    };
    Ok(())
}

/// Kustomize prints annotation values as strings.
fn stringify_annotations(resource: &mut Resource) {
    let annotations = resource.map.get_mut("metadata").and_then(|m| m.get_mut("annotations"));
    if let Some(Value::Object(annotations)) = annotations {
        for value in annotations.values_mut() {
            if matches!(value, Value::Number(_) | Value::Bool(_)) {
                *value = Value::String(scalar_text(value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn leaf(created: bool) -> Leaf {
        Leaf { created, detached: false }
    }

    #[test]
    fn scalars_keep_their_type() {
        let port = Payload::from_value(&json!(5432));
        let mut string = json!("x");
        set_value(&mut string, leaf(false), &port, None).expect("set");
        assert_eq!(string, json!("5432"));
        let mut int = json!(1);
        set_value(&mut int, leaf(false), &port, None).expect("set");
        assert_eq!(int, json!(5432));
        let mut created = Value::Null;
        set_value(&mut created, leaf(true), &Payload::from_value(&json!("5432")), None).expect("set");
        assert_eq!(created, json!(5432));
        let mut int = json!(1);
        assert!(set_value(&mut int, leaf(false), &Payload::from_value(&json!("hello")), None).is_err());
        let mut map = json!({"a": 1});
        set_value(&mut map, leaf(false), &Payload::from_value(&json!("v")), None).expect("set");
        assert_eq!(map, json!("v"));
        let mut string = json!("x");
        set_value(&mut string, leaf(false), &Payload::from_value(&json!({"a": "b"})), None).expect("set");
        assert_eq!(string, json!(""));
    }

    #[test]
    fn delimiters_replace_insert_and_append() {
        let value = Payload::from_value(&json!("db"));
        for (index, expected) in [(0, "db:1.25"), (1, "nginx:db"), (5, "nginx:1.25:db"), (-1, "db:nginx:1.25")] {
            let mut image = json!("nginx:1.25");
            set_value(&mut image, leaf(false), &value, Some((":", index))).expect("set");
            assert_eq!(image, json!(expected), "index {index}");
        }
        let mut map = json!({});
        assert!(set_value(&mut map, leaf(false), &value, Some((":", 0))).is_err());
    }

    #[test]
    fn source_selectors_print_as_kustomize() {
        let source = SourceSelector {
            kind: Some("ConfigMap".into()),
            name: Some("missing".into()),
            field_path: Some("data.host".into()),
            ..SourceSelector::default()
        };
        assert_eq!(source_display(&source), "ConfigMap.[noVer].[noGrp]/missing.[noNs]:data.host");
    }
}
