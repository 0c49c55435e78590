//! `patches`, `patchesStrategicMerge` and `patchesJson6902`: loading, targeting and applying.

use gitops_core::Gvk;
use gitops_core::schema::Schema;
use gitops_core::yaml::{ReadOptions, Schema as YamlSchema, parse_documents};
use regex::Regex;
use serde_json::Value;

use super::build::Files;
use super::resource::{ResMap, Resource};
use super::transform::string_map;
use super::types::{self, Selector};

/// A loaded patch.
#[derive(Debug, Clone)]
pub(crate) struct Patch {
    body: Body,
    target: Option<Selector>,
    allow_name_change: bool,
    allow_kind_change: bool,
    /// Where it came from, for messages.
    source: String,
}

#[derive(Debug, Clone)]
enum Body {
    /// One or more strategic-merge patch documents.
    Strategic(Vec<Value>),
    /// An RFC 6902 JSON patch, kept as JSON ops so each can be adjusted before it is applied.
    Json(Vec<Value>),
}

fn parse_yaml(text: &str, source: &str) -> Result<Vec<Value>, String> {
    let docs = parse_documents(text, &ReadOptions::default().schema(YamlSchema::Kustomize))
        .map_err(|e| format!("{source}:{}: invalid YAML: {e}", e.line))?;
    Ok(docs.into_iter().map(|d| d.value).filter(|v| !v.is_null()).collect())
}

/// Kustomize reads strategic-merge patches as resources: each needs a `kind`, a `metadata.name`
/// (unless its kind is a `*List`), and no null list items.
fn is_resource_like(doc: &Value) -> bool {
    fn has_null_item(value: &Value) -> bool {
        match value {
            Value::Array(items) => items.iter().any(|i| i.is_null() || has_null_item(i)),
            Value::Object(map) => map.values().any(has_null_item),
            _ => false,
        }
    }
    let text = |p: &str| doc.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty());
    doc.is_object()
        && text("/kind").is_some_and(|kind| kind.ends_with("List") || text("/metadata/name").is_some())
        && !has_null_item(doc)
}

/// Checks that `value` is a list of valid JSON patch operations, and returns them.
fn json_patch_from(mut value: Value, source: &str) -> Result<Vec<Value>, String> {
    // evanphx/json-patch v4 splits a path on `/` and drops the first part, so a path without
    // its leading slash loses its first segment (`data/new` acts as `/new`).
    for op in value.as_array_mut().into_iter().flatten() {
        for field in ["path", "from"] {
            if let Some(Value::String(path)) = op.get_mut(field)
                && !path.is_empty()
                && !path.starts_with('/')
            {
                *path = path.find('/').map_or_else(String::new, |i| path[i..].to_owned());
            }
        }
    }
    let _: json_patch::Patch =
        serde_json::from_value(value.clone()).map_err(|e| format!("{source}: invalid JSON patch: {e}"))?;
    match value {
        Value::Array(ops) => Ok(ops),
        _ => Err(format!("{source}: a JSON patch must be a list of operations")),
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Rewrites one op as the JSON patch library Kustomize uses (evanphx/json-patch v4) reads it:
/// negative array indices count from the end (`add` at `-1` appends), and `replace` of a missing
/// key in an existing map sets it.
fn adjust_op(doc: &Value, mut op: Value) -> Value {
    let kind = op.get("op").and_then(Value::as_str).unwrap_or_default().to_owned();
    for field in ["path", "from"] {
        let Some(path) = op.get(field).and_then(Value::as_str).map(str::to_owned) else { continue };
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let mut node = Some(doc);
        let mut rewritten = Vec::with_capacity(segments.len());
        for (i, segment) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            let mut segment = (*segment).to_owned();
            if let (Some(Value::Array(items)), Ok(index)) = (node, segment.parse::<i64>())
                && index < 0
            {
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let base = if last && field == "path" && kind == "add" { len + 1 } else { len };
                if base + index >= 0 {
                    segment = (base + index).to_string();
                }
            }
            node = match node {
                Some(Value::Object(map)) => map.get(&unescape(&segment)),
                Some(Value::Array(items)) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            rewritten.push(segment);
        }
        let joined = rewritten.iter().fold(String::new(), |mut joined, s| {
            joined.push('/');
            joined.push_str(s);
            joined
        });
        op[field] = Value::String(joined);
    }
    if kind == "replace"
        && let Some(path) = op.get("path").and_then(Value::as_str)
        && let Some((parent, key)) = path.rsplit_once('/')
        && let Some(Value::Object(map)) = doc.pointer(parent)
        && !map.contains_key(&unescape(key))
    {
        op["op"] = Value::String("add".into());
    }
    op
}

/// Applies JSON patch ops one by one with Kustomize's leniencies (see [`adjust_op`]). During a
/// build Kustomize's objects always carry internal annotations, so `metadata.annotations` exists
/// for the patch even when the object has none; an empty one is dropped afterwards.
fn apply_json_ops(doc: &mut Value, ops: &[Value]) -> Result<(), String> {
    let had_annotations = doc.pointer("/metadata/annotations").is_some();
    if !had_annotations && let Some(Value::Object(metadata)) = doc.get_mut("metadata") {
        metadata.insert("annotations".into(), Value::Object(serde_json::Map::new()));
    }
    let mut result = Ok(());
    for op in ops {
        let adjusted = adjust_op(doc, op.clone());
        let patch: json_patch::Patch = match serde_json::from_value(Value::Array(vec![adjusted])) {
            Ok(p) => p,
            Err(e) => {
                result = Err(e.to_string());
                break;
            }
        };
        if let Err(e) = json_patch::patch(doc, &patch) {
            result = Err(e.to_string());
            break;
        }
    }
    if !had_annotations
        && let Some(Value::Object(metadata)) = doc.get_mut("metadata")
        && metadata.get("annotations").is_some_and(|a| a.as_object().is_some_and(serde_json::Map::is_empty))
    {
        metadata.remove("annotations");
    }
    result
}

impl Patch {
    /// A `patches` entry: inline or from a file, strategic merge or JSON 6902 (told apart by shape).
    pub(crate) fn from_entry(entry: &types::Patch, files: &Files<'_>) -> Result<Patch, String> {
        let (text, source) = match (&entry.path, &entry.patch) {
            (Some(_), Some(_)) => return Err("patch and path can't be set at the same time".into()),
            (Some(path), None) => {
                let (full, text) = files.read_text(path)?;
                (text, full)
            }
            (None, Some(inline)) => (inline.clone(), "inline patch".to_owned()),
            (None, None) => return Err("must specify one of patch and path in a patches entry".into()),
        };
        let options = entry.options.clone().unwrap_or_default();
        let docs = parse_yaml(&text, &source)?;
        let body = match docs.as_slice() {
            [Value::Array(_)] => Body::Json(json_patch_from(docs.into_iter().next().expect("one document"), &source)?),
            // An empty patch parses as zero strategic-merge documents: a no-op, as in Kustomize.
            [] => Body::Strategic(Vec::new()),
            _ if docs.iter().all(is_resource_like) => Body::Strategic(docs),
            _ => return Err(format!("unable to parse SM or JSON patch from {source}")),
        };
        Ok(Patch {
            body,
            target: entry.target.clone(),
            allow_name_change: options.allow_name_change,
            allow_kind_change: options.allow_kind_change,
            source,
        })
    }

    /// A legacy `patchesStrategicMerge` entry: a file path if one exists, else an inline patch.
    pub(crate) fn from_strategic_merge_entry(entry: &str, files: &Files<'_>) -> Result<Patch, String> {
        let (text, source) = match files.read_text(entry) {
            Ok((full, text)) => (text, full),
            Err(_) if entry.contains('\n') || entry.contains(':') => (entry.to_owned(), "inline patch".to_owned()),
            Err(e) => return Err(e),
        };
        let docs = parse_yaml(&text, &source)?;
        if docs.is_empty() || !docs.iter().all(is_resource_like) {
            return Err(format!("{source}: a strategic merge patch must be one or more mappings"));
        }
        Ok(Patch {
            body: Body::Strategic(docs),
            target: None,
            allow_name_change: false,
            allow_kind_change: false,
            source,
        })
    }

    /// A legacy `patchesJson6902` entry: a target with a name, and a JSON or YAML op list.
    pub(crate) fn from_legacy_json6902(entry: &types::Patch, files: &Files<'_>) -> Result<Patch, String> {
        let Some(target) = entry.target.clone().filter(|t| t.name.as_deref().is_some_and(|n| !n.is_empty())) else {
            return Err("must specify the target name".into());
        };
        let (text, source) = match (&entry.path, &entry.patch) {
            (Some(_), Some(_)) => return Err("must specify a file path or jsonOp, not both".into()),
            (Some(path), None) => {
                let (full, text) = files.read_text(path)?;
                (text, full)
            }
            (None, Some(inline)) => (inline.clone(), "inline patch".to_owned()),
            (None, None) => return Err("empty file path and empty jsonOp".into()),
        };
        let docs = parse_yaml(&text, &source)?;
        let Some(ops) = docs.into_iter().next() else {
            return Err(format!("patch file '{source}' empty seems to be empty"));
        };
        let patch = json_patch_from(ops, &source)?;
        if patch.is_empty() {
            return Err(format!("patch appears to be empty; file={source}"));
        }
        Ok(Patch {
            body: Body::Json(patch),
            target: Some(target),
            allow_name_change: true,
            allow_kind_change: true,
            source,
        })
    }
}

fn anchored(pattern: Option<&str>) -> Result<Option<Regex>, String> {
    match pattern.filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(p) => Regex::new(&format!("^(?:{p})$")).map(Some).map_err(|e| format!("invalid selector {p:?}: {e}")),
    }
}

/// Whether labels (or annotations) satisfy a Kubernetes selector string.
pub(crate) fn matches_selector(
    selector: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> Result<bool, String> {
    let selector = gitops_core::selector::LabelSelector::parse(selector).map_err(|e| e.to_string())?;
    Ok(selector.matches_map(labels))
}

/// The resources a selector picks (Kustomize's `ResMap.Select`): namespace and name match the
/// original or current id, group/version/kind the current one, then label and annotation selectors.
pub(crate) fn select(resources: &ResMap, selector: &Selector) -> Result<Vec<usize>, String> {
    let [group, version, kind, name, namespace] =
        [&selector.group, &selector.version, &selector.kind, &selector.name, &selector.namespace]
            .map(|p| anchored(p.as_deref()));
    let (group, version, kind, name, namespace) = (group?, version?, kind?, name?, namespace?);
    let mut picked = Vec::new();
    for (index, resource) in resources.resources.iter().enumerate() {
        let (cur, org) = (resource.cur_id(), resource.org_id());
        let hit =
            |re: &Option<Regex>, values: [&str; 2]| re.as_ref().is_none_or(|re| values.iter().any(|v| re.is_match(v)));
        if !hit(&namespace, [org.effective_namespace(), cur.effective_namespace()])
            || !hit(&name, [&org.name, &cur.name])
            || !hit(&group, [&cur.group, &cur.group])
            || !hit(&version, [&cur.version, &cur.version])
            || !hit(&kind, [&cur.kind, &cur.kind])
        {
            continue;
        }
        if let Some(s) = selector.label_selector.as_deref().filter(|s| !s.is_empty())
            && !matches_selector(s, &string_map(&resource.labels()))?
        {
            continue;
        }
        if let Some(s) = selector.annotation_selector.as_deref().filter(|s| !s.is_empty())
            && !matches_selector(s, &string_map(&resource.annotations()))?
        {
            continue;
        }
        picked.push(index);
    }
    Ok(picked)
}

/// Applies a patch to the resources it targets.
pub(crate) fn apply(resources: &mut ResMap, patch: &Patch) -> Result<(), String> {
    match &patch.body {
        Body::Json(ops) => {
            let Some(target) = &patch.target else {
                return Err(format!("must specify a target for JSON patch {}", patch.source));
            };
            for index in select(resources, target)? {
                let resource = &mut resources.resources[index];
                resource.store_previous_id();
                let mut value = Value::Object(std::mem::take(&mut resource.map));
                let result = apply_json_ops(&mut value, ops);
                if let Value::Object(map) = value {
                    resource.map = map;
                }
                result.map_err(|e| format!("{}: applying JSON patch to {}: {e}", patch.source, resource.cur_id()))?;
            }
            Ok(())
        }
        Body::Strategic(docs) => {
            if let Some(target) = &patch.target {
                if docs.len() > 1 {
                    return Err(format!(
                        "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field: {}",
                        patch.source
                    ));
                }
                let selected = select(resources, target)?;
                let mut deleted = Vec::new();
                for index in selected {
                    let mut doc = docs[0].clone();
                    // The patch takes the target's apiVersion (its kind stays its own).
                    if let Value::Object(map) = &mut doc {
                        let api_version = resources.resources[index].api_version().to_owned();
                        map.insert("apiVersion".into(), Value::String(api_version));
                    }
                    if !apply_strategic(&mut resources.resources[index], &doc, patch)? {
                        deleted.push(index);
                    }
                }
                for index in deleted.into_iter().rev() {
                    resources.resources.remove(index);
                }
                return Ok(());
            }
            {
                for doc in docs {
                    let id = patch_id(doc);
                    let matches: Vec<usize> = resources
                        .resources
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| {
                            std::iter::once(r.cur_id()).chain(r.prev_ids.iter().cloned()).any(|i| i.same_object(&id))
                        })
                        .map(|(i, _)| i)
                        .collect();
                    let index = match matches.as_slice() {
                        [one] => *one,
                        [] => {
                            return Err(format!("no matches for Id {id}; failed to find unique target for patch {id}"));
                        }
                        _ => {
                            return Err(format!(
                                "multiple matches for Id {id}; failed to find unique target for patch {id}"
                            ));
                        }
                    };
                    if !apply_strategic(&mut resources.resources[index], doc, patch)? {
                        resources.resources.remove(index);
                    }
                }
                Ok(())
            }
        }
    }
}

fn patch_id(doc: &Value) -> super::resource::ResId {
    let text = |p: &str| doc.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
    let api_version = text("/apiVersion");
    let (group, version) = gitops_core::split_api_version(&api_version);
    super::resource::ResId {
        group: group.to_owned(),
        version: version.to_owned(),
        kind: text("/kind"),
        name: text("/metadata/name"),
        namespace: text("/metadata/namespace"),
    }
}

/// Merges one strategic patch into a resource. Returns false when the patch deletes the object.
fn apply_strategic(resource: &mut Resource, doc: &Value, patch: &Patch) -> Result<bool, String> {
    let (name, namespace, kind) =
        (resource.name().to_owned(), resource.namespace().to_owned(), resource.kind().to_owned());
    if patch.allow_name_change || patch.allow_kind_change {
        resource.store_previous_id();
    }
    let gvk = Gvk::from_api_version(resource.api_version(), &kind);
    let schema = Schema::builtin();
    let node = schema.root_or_deduced(&gvk);
    let original = Value::Object(std::mem::take(&mut resource.map));
    let merged = match super::smp_bridge::merge(&original, doc, node) {
        Ok(Some(merged)) => merged,
        Ok(None) => return Ok(false),
        Err(e) => {
            if let Value::Object(map) = original {
                resource.map = map;
            }
            return Err(format!("{}: {e}", patch.source));
        }
    };
    let Value::Object(map) = merged else {
        return Err(format!("{}: the patch did not leave an object", patch.source));
    };
    resource.map = map;
    if !patch.allow_kind_change {
        resource.map.insert("kind".into(), Value::String(kind));
    }
    if !patch.allow_name_change {
        resource.set_name(&name);
    }
    if namespace.is_empty() {
        resource.metadata_mut().remove("namespace");
    } else {
        resource.set_namespace(&namespace);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::matches_selector;

    #[test]
    fn label_selectors() {
        let labels =
            [("app".to_owned(), "web".to_owned()), ("tier".to_owned(), "front".to_owned())].into_iter().collect();
        for (selector, expected) in [
            ("app=web", true),
            ("app==web,tier=front", true),
            ("app!=web", false),
            ("app in (web, api)", true),
            ("tier notin (front)", false),
            ("app", true),
            ("!missing", true),
            ("missing", false),
        ] {
            assert_eq!(matches_selector(selector, &labels).expect("valid"), expected, "{selector}");
        }
    }
}
