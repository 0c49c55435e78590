//! Kustomize's dotted field paths over JSON values: kyaml's `SmarterPathSplitter`, its
//! `PathGetter` (`Lookup`, which reads) and its `PathMatcher` (which finds, and creates, the
//! fields a replacement writes).
//!
//! The two walkers differ on purpose, as in kyaml: `Lookup` takes numeric indices, `-` (the last
//! element) and `[key=value]` compared exactly, and refuses `*`; `PathMatcher` takes indices,
//! `*`, and `[key=value]` where the value is an *unanchored* regular expression matched against
//! the element's field as YAML prints it (so `[name=app]` also selects `myapp`).
//!
//! kyaml walks YAML nodes, which carry a kind (scalar, mapping, sequence) and, for scalars, a tag.
//! JSON values carry the same information except for one case: a node the walk *creates* has no
//! tag yet, and is typed by what is later written into it (see [`resolve_untagged`]). The walker
//! reports such leaves to its visitor as `created`.

use gitops_core::yaml::{EmitOptions, ReadOptions, Schema, parse_documents, to_string};
use regex::Regex;
use serde_json::{Map, Value};

/// A node kind, as kyaml names them in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Scalar,
    Map,
    Seq,
}

impl Kind {
    pub(crate) fn of(value: &Value) -> Kind {
        match value {
            Value::Object(_) => Kind::Map,
            Value::Array(_) => Kind::Seq,
            _ => Kind::Scalar,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Scalar => "ScalarNode",
            Kind::Map => "MappingNode",
            Kind::Seq => "SequenceNode",
        }
    }

    /// A new, empty node of this kind. A created scalar is `null` until the visitor writes it.
    fn empty(self) -> Value {
        match self {
            Kind::Scalar => Value::Null,
            Kind::Map => Value::Object(Map::new()),
            Kind::Seq => Value::Array(Vec::new()),
        }
    }
}

fn wrong_kind(expected: Kind, got: &str) -> String {
    format!("wrong node kind: expected {} but got {got}", expected.name())
}

/// kyaml's `SmarterPathSplitter(path, ".")`: splits on `.`, honours `\.` escapes, keeps
/// `[key=value]` groups whole (dots and all) and unwraps other bracketed groups (`[a.b]` → `a.b`).
pub(crate) fn split_field_path(path: &str) -> Vec<String> {
    let mut pieces: Vec<&str> = path.split('.').collect();
    if pieces.len() > 1 && pieces[0].is_empty() {
        pieces.remove(0);
    }
    let mut split: Vec<String> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match split.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('.');
                last.push_str(piece);
            }
            _ => split.push(piece.to_owned()),
        }
    }
    let mut result = Vec::with_capacity(split.len());
    let mut i = 0;
    while i < split.len() {
        let elem = &split[i];
        if elem.starts_with('[') && !elem.ends_with(']') {
            let mut bracketed = vec![elem.as_str()];
            while i + 1 < split.len() {
                i += 1;
                bracketed.push(&split[i]);
                if split[i].ends_with(']') {
                    break;
                }
            }
            let joined = bracketed.join(".");
            if joined.contains('=') {
                result.push(joined);
            } else {
                result.push(joined.trim_matches(|c| c == '[' || c == ']').to_owned());
            }
        } else {
            result.push(elem.clone());
        }
        i += 1;
    }
    result
}

/// kyaml's `convertSliceIndex`, used by legacy vars: `ports[0]` → `ports`, `0`.
pub(crate) fn split_legacy_indices(fields: Vec<String>) -> Vec<String> {
    let mut result = Vec::with_capacity(fields.len());
    for field in fields {
        let index = field.strip_suffix(']').and_then(|body| {
            let open = body.rfind('[')?;
            let digits = &body[open + 1..];
            (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| (open, digits.to_owned()))
        });
        match index {
            Some((open, digits)) => {
                if open > 0 {
                    result.push(field[..open].to_owned());
                }
                result.push(digits);
            }
            None => result.push(field),
        }
    }
    result
}

/// Go's `strconv.Atoi`.
fn atoi(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is_list_index(part: &str) -> bool {
    part.starts_with('[') && part.ends_with(']')
}

/// `[name=value]` → (`name`, `value`); `[=value]` matches primitive elements.
fn split_index_name_value(part: &str) -> Result<(&str, &str), String> {
    let inner = part.strip_prefix('[').unwrap_or(part);
    let inner = inner.strip_suffix(']').unwrap_or(inner);
    inner
        .split_once('=')
        .ok_or_else(|| "list path element must contain fieldName=fieldValue for element to match".to_owned())
}

/// A scalar's text as kyaml holds it (`Node.Value`); empty for mappings and sequences.
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => n.as_f64().map_or_else(|| n.to_string(), gitops_core::yaml::format_float),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::Object(_) | Value::Array(_) => String::new(),
    }
}

/// A node printed as YAML and trimmed, as kyaml compares list entries against `[key=regex]`.
fn printed(value: &Value) -> String {
    to_string(value, &EmitOptions::default().sort_keys(false)).trim().to_owned()
}

/// The value a scalar written without a tag reads back as once Kustomize prints it as YAML and
/// parses it again: `5432` an integer, `true` a boolean, an empty text `null`, a plain date an
/// RFC 3339 string; anything the printer would quote stays a string.
pub(crate) fn resolve_untagged(text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    if text.contains('\n') || text.trim() != text || text.contains(" #") {
        return Value::String(text.to_owned());
    }
    let parsed = parse_documents(text, &ReadOptions::default().schema(Schema::Kustomize));
    match parsed.ok().as_deref() {
        Some([doc]) => match &doc.value {
            Value::Null if matches!(text, "~" | "null" | "Null" | "NULL") => Value::Null,
            value @ (Value::Number(_) | Value::Bool(_)) => value.clone(),
            // A plain timestamp: go-yaml reads it as a time, printed back in RFC 3339.
            Value::String(s) if s != text && text.starts_with(|c: char| c.is_ascii_digit()) => Value::String(s.clone()),
            _ => Value::String(text.to_owned()),
        },
        _ => Value::String(text.to_owned()),
    }
}

/// The structured content of a scalar, as `yaml.Unmarshal` into a node reads it: `None` for an
/// empty text (go-yaml's zero node, of no kind), else the first document.
pub(crate) fn parse_scalar(text: &str) -> Result<Option<Value>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let docs = parse_documents(text, &ReadOptions::default().schema(Schema::Kustomize))
        .map_err(|e| format!("yaml: line {}: {e}", e.line))?;
    Ok(Some(docs.into_iter().next().map_or(Value::Null, |d| d.value)))
}

/// One step from a node to a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// The elements of a sequence; `null` reads as empty, anything else is an error.
fn elements(node: &Value) -> Result<&[Value], String> {
    match node {
        Value::Null => Ok(&[]),
        Value::Array(items) => Ok(items),
        other => Err(wrong_kind(Kind::Seq, Kind::of(other).name())),
    }
}

/// kyaml's `Lookup(path...)`: the steps to the node at `path`, `None` when a field is missing.
pub(crate) fn lookup(root: &Value, path: &[String]) -> Result<Option<Vec<Step>>, String> {
    let mut node = root;
    let mut steps = Vec::new();
    for part in path.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let next = if let Some(index) = atoi(part) {
            let index = usize::try_from(index).map_err(|_| format!("array index {index} cannot be negative"))?;
            elements(node)?.get(index).map(|v| (Step::Index(index), v))
        } else if part == "-" {
            let items = elements(node)?;
            items.last().map(|v| (Step::Index(items.len() - 1), v))
        } else if part == "*" {
            return Err("wildcard is not supported in PathGetter".into());
        } else if is_list_index(part) {
            let (key, value) = split_index_name_value(part)?;
            elements(node)?
                .iter()
                .enumerate()
                .find(|(_, item)| element_matches(item, key, value))
                .map(|(i, v)| (Step::Index(i), v))
        } else {
            match node {
                Value::Null => None,
                Value::Object(map) => map.get(part).map(|v| (Step::Key(part.to_owned()), v)),
                other => return Err(wrong_kind(Kind::Map, Kind::of(other).name())),
            }
        };
        let Some((step, child)) = next else { return Ok(None) };
        steps.push(step);
        node = child;
    }
    Ok(Some(steps))
}

/// kyaml's `ElementMatcher`: a primitive element with this text, or a mapping whose `key` holds it.
fn element_matches(item: &Value, key: &str, value: &str) -> bool {
    if key.is_empty() {
        return Kind::of(item) == Kind::Scalar && scalar_text(item) == value;
    }
    item.as_object().and_then(|m| m.get(key)).is_some_and(|field| scalar_text(field) == value)
}

/// The node at `steps` below `root`.
pub(crate) fn at<'a>(root: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(root, |node, step| match (step, node) {
        (Step::Key(key), Value::Object(map)) => map.get(key),
        (Step::Index(i), Value::Array(items)) => items.get(*i),
        _ => None,
    })
}

/// The node at `steps` below `root`, for writing.
pub(crate) fn at_mut<'a>(root: &'a mut Value, steps: &[Step]) -> Option<&'a mut Value> {
    steps.iter().try_fold(root, |node, step| match (step, node) {
        (Step::Key(key), Value::Object(map)) => map.get_mut(key),
        (Step::Index(i), Value::Array(items)) => items.get_mut(*i),
        _ => None,
    })
}

/// Why a [`Matcher`] walk stopped.
#[derive(Debug)]
pub(crate) enum WalkError {
    /// The path does not fit the object (kyaml's lookup errors).
    Path(String),
    /// The visitor refused a node.
    Visit(String),
}

/// The kind a missing path part is created as: a sequence before an index or `[k=v]`, the
/// leaf's kind at the end, a mapping otherwise.
fn part_kind(next: Option<&String>, leaf: Kind) -> Kind {
    match next {
        None => leaf,
        Some(next) if is_list_index(next) || atoi(next).is_some_and(|i| i >= 0) => Kind::Seq,
        Some(_) => Kind::Map,
    }
}

/// What a [`Matcher`] tells its visitor about a matched node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Leaf {
    /// The walk created the node: it has no type yet.
    pub(crate) created: bool,
    /// The node lies in a copy that is thrown away (structured data met mid-path).
    pub(crate) detached: bool,
}

/// The visitor of a [`Matcher`].
pub(crate) type Visit<'v> = dyn FnMut(&mut Value, Leaf) -> Result<(), String> + 'v;

/// kyaml's `PathMatcher`: visits every node a path matches, creating missing fields when `create`
/// names the leaf's kind.
pub(crate) struct Matcher<'v> {
    pub(crate) create: Option<Kind>,
    pub(crate) visit: &'v mut Visit<'v>,
    /// How many nodes were visited.
    pub(crate) count: usize,
    /// Set while walking a copy that will be thrown away (structured data met mid-path).
    detached: bool,
}

impl<'v> Matcher<'v> {
    /// A matcher that creates missing fields (the leaf as `create`) when asked to.
    pub(crate) fn new(create: Option<Kind>, visit: &'v mut Visit<'v>) -> Self {
        Matcher { create, visit, count: 0, detached: false }
    }

    /// Visits every node `path` matches below `node`.
    pub(crate) fn walk(&mut self, node: &mut Value, path: &[String], created: bool) -> Result<(), WalkError> {
        let Some((first, rest)) = path.split_first() else {
            self.count += 1;
            let leaf = Leaf { created, detached: self.detached };
            return (self.visit)(node, leaf).map_err(WalkError::Visit);
        };
        if let Some(index) = atoi(first).and_then(|i| usize::try_from(i).ok()) {
            self.index(node, index, rest)
        } else if is_list_index(first) {
            self.list_entry(node, first, rest)
        } else if first == "*" {
            match node {
                Value::Null => Ok(()),
                Value::Array(items) => items.iter_mut().try_for_each(|item| self.walk(item, rest, false)),
                other => Err(WalkError::Path(wrong_kind(Kind::Seq, Kind::of(other).name()))),
            }
        } else {
            self.field(node, first, rest)
        }
    }

    /// Walks `path` below a copy that is thrown away afterwards: creations there do not show.
    fn walk_detached(&mut self, mut copy: Value, path: &[String]) -> Result<(), WalkError> {
        let was = std::mem::replace(&mut self.detached, true);
        let result = self.walk(&mut copy, path, false);
        self.detached = was;
        result
    }

    fn field(&mut self, node: &mut Value, name: &str, rest: &[String]) -> Result<(), WalkError> {
        let map = match node {
            // kyaml "creates" the field inside the null node, where it never shows.
            Value::Null => {
                return match self.create {
                    Some(_) => self.walk_detached(Value::Object(Map::new()), &[&[name.to_owned()], rest].concat()),
                    None => Ok(()),
                };
            }
            Value::Object(map) => map,
            other => return Err(WalkError::Path(wrong_kind(Kind::Map, Kind::of(other).name()))),
        };
        let created = !map.contains_key(name);
        if created {
            let Some(leaf) = self.create else { return Ok(()) };
            map.insert(name.to_owned(), part_kind(rest.first(), leaf).empty());
        }
        let field = map.get_mut(name).expect("the field exists or was just created");
        if Kind::of(field) == Kind::Scalar && !rest.is_empty() {
            // kyaml reads the scalar as YAML and walks on inside a copy: writes there are lost.
            let text = if field.is_null() { String::new() } else { scalar_text(field) };
            return match parse_scalar(&text).map_err(WalkError::Path)? {
                Some(copy) => self.walk_detached(copy, rest),
                None => Err(WalkError::Path(wrong_kind(expected_for(rest), ""))),
            };
        }
        self.walk(field, rest, created)
    }

    fn index(&mut self, node: &mut Value, index: usize, rest: &[String]) -> Result<(), WalkError> {
        let items = match node {
            Value::Null if index == 0 && self.create.is_some() => {
                return self.walk_detached(Value::Array(Vec::new()), &[&["0".to_owned()], rest].concat());
            }
            Value::Null => return Err(WalkError::Path(format!("index {index} specified but only 0 elements found"))),
            Value::Array(items) => items,
            other => return Err(WalkError::Path(wrong_kind(Kind::Seq, Kind::of(other).name()))),
        };
        let mut created = false;
        if let Some(leaf) = self.create
            && items.len() == index
        {
            items.push(part_kind(rest.first(), leaf).empty());
            created = true;
        }
        let len = items.len();
        let Some(item) = items.get_mut(index) else {
            return Err(WalkError::Path(format!("index {index} specified but only {len} elements found")));
        };
        self.walk(item, rest, created)
    }

    fn list_entry(&mut self, node: &mut Value, part: &str, rest: &[String]) -> Result<(), WalkError> {
        let (key, pattern) = split_index_name_value(part).map_err(WalkError::Path)?;
        let regex = Regex::new(pattern).map_err(|e| WalkError::Path(e.to_string()))?;
        let items = match node {
            Value::Null => {
                return match self.create {
                    Some(_) => self.walk_detached(Value::Array(Vec::new()), &[&[part.to_owned()], rest].concat()),
                    None => Ok(()),
                };
            }
            Value::Array(items) => items,
            other => return Err(WalkError::Path(wrong_kind(Kind::Seq, Kind::of(other).name()))),
        };
        let before = self.count;
        for item in items.iter_mut() {
            self.list_item(item, key, &regex, rest, false)?;
        }
        if self.count > before || self.create.is_none() {
            return Ok(());
        }
        // Nothing matched: append an entry that does (a scalar, or a mapping holding the key).
        let entry = if key.is_empty() {
            resolve_untagged(pattern)
        } else {
            Value::Object([(key.to_owned(), resolve_untagged(pattern))].into_iter().collect())
        };
        items.push(entry);
        let appended = items.last_mut().expect("an entry was just appended");
        self.list_item(appended, key, &regex, rest, true)
    }

    /// One entry of a `[key=regex]` step: a primitive entry is itself the match (the rest of the
    /// path is not walked); a mapping is walked on when its `key` field matches.
    fn list_item(
        &mut self,
        item: &mut Value,
        key: &str,
        regex: &Regex,
        rest: &[String],
        created: bool,
    ) -> Result<(), WalkError> {
        if key.is_empty() {
            if regex.is_match(&printed(item)) {
                self.count += 1;
                let leaf = Leaf { created, detached: self.detached };
                (self.visit)(item, leaf).map_err(WalkError::Visit)?;
            }
            return Ok(());
        }
        if item.as_object().and_then(|m| m.get(key)).is_some_and(|field| regex.is_match(&printed(field))) {
            self.walk(item, rest, false)?;
        }
        Ok(())
    }
}

/// The kind the next path part expects of a node (for kyaml's messages).
fn expected_for(rest: &[String]) -> Kind {
    match rest.first() {
        Some(p) if is_list_index(p) || p == "*" || atoi(p).is_some_and(|i| i >= 0) => Kind::Seq,
        _ => Kind::Map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parts(path: &str) -> Vec<String> {
        split_field_path(path)
    }

    #[test]
    fn splits_like_kyaml() {
        assert_eq!(
            parts("spec.template.spec.containers.0.image"),
            ["spec", "template", "spec", "containers", "0", "image"]
        );
        assert_eq!(
            parts("spec.containers.[name=com.foo.app].image"),
            ["spec", "containers", "[name=com.foo.app]", "image"]
        );
        assert_eq!(parts("metadata.annotations.[a.b.c]"), ["metadata", "annotations", "a.b.c"]);
        assert_eq!(parts(r"data.config\.json.database.host"), ["data", "config.json", "database", "host"]);
        assert_eq!(parts(".a.b"), ["a", "b"]);
        assert_eq!(parts("a.*.b"), ["a", "*", "b"]);
        assert_eq!(parts("metadata.name"), ["metadata", "name"]);
        assert_eq!(split_legacy_indices(parts("spec.ports[0].port")), ["spec", "ports", "0", "port"]);
        assert_eq!(split_legacy_indices(parts("a[1][2]")), ["a[1]", "2"]);
        assert_eq!(split_legacy_indices(parts("[3].x")), ["3", "x"]);
    }

    #[test]
    fn lookup_reads_exactly() {
        let doc = json!({"spec": {"containers": [{"name": "myapp"}, {"name": "app", "image": "x"}]}});
        let steps = lookup(&doc, &parts("spec.containers.[name=app].image")).expect("valid").expect("found");
        assert_eq!(at(&doc, &steps), Some(&json!("x")));
        let last = lookup(&doc, &parts("spec.containers.-.name")).expect("valid").expect("found");
        assert_eq!(at(&doc, &last), Some(&json!("app")));
        assert_eq!(lookup(&doc, &parts("spec.missing.x")).expect("valid"), None);
        assert!(lookup(&doc, &parts("spec.containers.*.name")).is_err());
        assert!(lookup(&doc, &parts("spec.containers.name")).is_err());
    }

    fn matched(doc: &mut Value, path: &str, create: Option<Kind>) -> Result<Vec<(Value, bool)>, WalkError> {
        let mut seen = Vec::new();
        let mut visit = |node: &mut Value, leaf: Leaf| {
            seen.push((node.clone(), leaf.created));
            *node = json!("SET");
            Ok(())
        };
        let mut matcher = Matcher::new(create, &mut visit);
        matcher.walk(doc, &parts(path), false)?;
        Ok(seen)
    }

    #[test]
    fn matcher_uses_unanchored_regexes_and_wildcards() {
        let mut doc = json!({"list": [{"name": "myapp", "v": 1}, {"name": "other", "v": 2}, {"name": "app", "v": 3}]});
        let seen = matched(&mut doc, "list.[name=app].v", None).expect("walk");
        assert_eq!(seen.len(), 2);
        assert_eq!(doc["list"][1]["v"], json!(2));
        let seen = matched(&mut doc, "list.*.name", None).expect("walk");
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn matcher_creates() {
        let mut doc = json!({"spec": {"env": [{"name": "A", "value": "a"}]}});
        let seen = matched(&mut doc, "spec.env.[name=B].value", Some(Kind::Scalar)).expect("walk");
        assert_eq!(seen, [(Value::Null, true)]);
        assert_eq!(doc["spec"]["env"][1], json!({"name": "B", "value": "SET"}));
        let seen = matched(&mut doc, "metadata.annotations.x", Some(Kind::Scalar)).expect("walk");
        assert_eq!(seen.len(), 1);
        assert_eq!(doc["metadata"], json!({"annotations": {"x": "SET"}}));
        assert!(matches!(matched(&mut doc, "spec.env.5.value", Some(Kind::Scalar)), Err(WalkError::Path(_))));
        assert!(matched(&mut doc, "spec.nothing.here", None).expect("walk").is_empty());
    }

    #[test]
    fn untagged_scalars_resolve() {
        assert_eq!(resolve_untagged("5432"), json!(5432));
        assert_eq!(resolve_untagged("true"), json!(true));
        assert_eq!(resolve_untagged(""), Value::Null);
        assert_eq!(resolve_untagged("2001-12-14"), json!("2001-12-14T00:00:00Z"));
        assert_eq!(resolve_untagged("a: b"), json!("a: b"));
        assert_eq!(resolve_untagged("1 # one"), json!("1 # one"));
        assert_eq!(resolve_untagged("[1]"), json!("[1]"));
        assert_eq!(resolve_untagged("db.prod.svc"), json!("db.prod.svc"));
    }
}
