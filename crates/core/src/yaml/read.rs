//! Reading YAML streams into JSON values, one document at a time, within a budget.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Value};

use super::resolve::{ResolveError, Schema, resolve_plain, resolve_plain_key};
use super::{Budget, YamlError, YamlErrorKind};

/// One document of a YAML stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document's value; `Null` for an empty document (only comments, or nothing).
    pub value: Value,
    /// Index of the document in the stream, counting empty ones, from 0.
    pub index: usize,
    /// 1-based line where the document's content starts.
    pub line: usize,
}

/// Options for [`parse_documents`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Which reader's scalar rules to follow.
    pub schema: Schema,
    /// Resource limits.
    pub budget: Budget,
    /// Keep plain scalars under a document's `metadata.annotations` as the text they were
    /// written as (Kustomize's reading of resource files: `1`, `0644`, `null` stay strings).
    pub annotations_as_text: bool,
}

impl ReadOptions {
    /// Follow `schema`'s scalar rules.
    #[must_use]
    pub fn schema(mut self, schema: Schema) -> Self {
        self.schema = schema;
        self
    }

    /// Keep plain annotation values as written text (see [`ReadOptions::annotations_as_text`]).
    #[must_use]
    pub fn annotations_as_text(mut self, yes: bool) -> Self {
        self.annotations_as_text = yes;
        self
    }

    /// Use `budget` as the resource limits.
    #[must_use]
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }
}

/// Parses a multi-document YAML (or JSON) stream.
///
/// Anchors, aliases and `<<` merge keys are expanded; every expanded node counts against the
/// budget, so an alias bomb fails fast. Duplicate keys are an error, as in go-yaml v3.
///
/// ```
/// use gitops_core::yaml::{parse_documents, ReadOptions};
/// let docs = parse_documents("a: 0644\n---\n# only a comment\n---\nb: [1, two]\n", &ReadOptions::default())?;
/// assert_eq!(docs.len(), 3);
/// assert_eq!(docs[0].value, serde_json::json!({"a": 420}));
/// assert!(docs[1].value.is_null());
/// assert_eq!((docs[2].index, docs[2].line), (2, 5));
/// # Ok::<(), gitops_core::yaml::YamlError>(())
/// ```
pub fn parse_documents(text: &str, options: &ReadOptions) -> Result<Vec<Document>, YamlError> {
    let budget = &options.budget;
    if text.len() > budget.max_bytes {
        return Err(YamlError::at(1, 1, YamlErrorKind::TooLarge { bytes: text.len(), limit: budget.max_bytes }));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // YAML's printable set (§5.1), which go-yaml enforces: other control characters are refused.
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
            || c >= '\u{10000}'
    };
    if let Some(offset) = text.find(|c: char| !allowed(c)) {
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        return Err(YamlError::at(line, column, YamlErrorKind::Syntax("control characters are not allowed".into())));
    }
    // saphyr-parser gives a block scalar that runs to the end of an input without a final line
    // break one anyway; go-yaml (and YAML 1.2 §8.1.1.2) do not. Remember where the input ends.
    let end_without_newline = (!text.is_empty() && !text.ends_with('\n')).then(|| text.chars().count());
    let mut reader = Reader {
        schema: options.schema,
        annotations_as_text: options.annotations_as_text,
        budget,
        nodes: 0,
        anchors: HashMap::new(),
        stack: Vec::new(),
        end_without_newline,
    };
    let mut documents = Vec::new();
    let mut parser = Parser::new_from_str(text);
    let mut current: Option<(usize, Option<Value>)> = None;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            YamlError::at(e.marker().line(), e.marker().col() + 1, YamlErrorKind::Syntax(e.info().to_owned()))
        })?;
        match event {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                if documents.len() >= budget.max_documents {
                    return Err(YamlError::at(
                        span.start.line(),
                        1,
                        YamlErrorKind::Budget { what: "documents", limit: budget.max_documents },
                    ));
                }
                reader.anchors.clear();
                current = Some((span.start.line(), None));
            }
            Event::DocumentEnd => {
                let (line, value) = current.take().unwrap_or((span.start.line(), None));
                documents.push(Document { value: value.unwrap_or(Value::Null), index: documents.len(), line });
            }
            other => {
                if let Some(done) = reader.event(other, span)? {
                    let (line, value) = current.get_or_insert((span.start.line(), None));
                    *line = done.1;
                    *value = Some(done.0);
                }
            }
        }
    }
    Ok(documents)
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        nodes_at_start: usize,
        line: usize,
    },
    Map {
        map: Map<String, Value>,
        key: Option<Key>,
        merges: Vec<Value>,
        anchor: usize,
        nodes_at_start: usize,
        line: usize,
    },
}

struct Reader<'b> {
    schema: Schema,
    annotations_as_text: bool,
    budget: &'b Budget,
    nodes: usize,
    anchors: HashMap<usize, (Value, usize)>,
    stack: Vec<Frame>,
    /// The input's length in characters, when it does not end with a line break.
    end_without_newline: Option<usize>,
}

/// The pending key of a mapping: a name, or the plain `<<` merge key.
enum Key {
    Name(String),
    Merge,
}

impl Reader<'_> {
    fn count(&mut self, n: usize, span: Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.budget.max_nodes {
            return Err(YamlError::at(
                span.start.line(),
                span.start.col() + 1,
                YamlErrorKind::Budget { what: "nodes (after alias expansion)", limit: self.budget.max_nodes },
            ));
        }
        Ok(())
    }

    /// Whether the next value is an entry of a document's `metadata.annotations`.
    fn in_annotations(&self) -> bool {
        let key_is =
            |frame: &Frame, name: &str| matches!(frame, Frame::Map { key: Some(Key::Name(k)), .. } if k == name);
        matches!(self.stack.as_slice(), [root, metadata, Frame::Map { .. }] if key_is(root, "metadata") && key_is(metadata, "annotations"))
    }

    fn open(&mut self, frame: Frame, span: Span) -> Result<(), YamlError> {
        if self.stack.len() >= self.budget.max_depth {
            return Err(YamlError::at(
                span.start.line(),
                span.start.col() + 1,
                YamlErrorKind::Budget { what: "nesting depth", limit: self.budget.max_depth },
            ));
        }
        if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
            return Err(YamlError::at(span.start.line(), span.start.col() + 1, YamlErrorKind::ComplexKey));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Feeds one event; returns the document's root value (and its line) when it is complete.
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<Option<(Value, usize)>, YamlError> {
        let line = span.start.line();
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, span)?;
                if let Some(Frame::Map { key: key @ None, .. }) = self.stack.last_mut() {
                    let plain = style == ScalarStyle::Plain && tag.is_none();
                    if plain && text == "<<" {
                        *key = Some(Key::Merge);
                        return Ok(None);
                    }
                    let name = if plain { resolve_plain_key(&text, self.schema) } else { text.clone().into_owned() };
                    if anchor != 0 {
                        self.anchors.insert(anchor, (Value::String(name.clone()), 1));
                    }
                    *key = Some(Key::Name(name));
                    return Ok(None);
                }
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                let at_end = self.end_without_newline.is_some_and(|end| span.end.index() >= end);
                let text = match text.strip_suffix('\n') {
                    Some(stripped) if block && at_end => std::borrow::Cow::Owned(stripped.to_owned()),
                    _ => text,
                };
                // Kustomize reads annotations as text: a plain `1`, `0644` or `null` there stays
                // the string it was written as.
                let value = if self.annotations_as_text && style == ScalarStyle::Plain && self.in_annotations() {
                    Value::String(text.into_owned())
                } else {
                    self.scalar(&text, style, tag.as_deref(), span)?
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, (value.clone(), 1));
                }
                self.push(value, line, span)
            }
            Event::Alias(id) => {
                let Some((value, nodes)) = self.anchors.get(&id).cloned() else {
                    return Err(YamlError::at(line, span.start.col() + 1, YamlErrorKind::UnknownAnchor));
                };
                self.count(nodes, span)?;
                if let Some(Frame::Map { key: key @ None, .. }) = self.stack.last_mut() {
                    match value {
                        Value::String(s) => *key = Some(Key::Name(s)),
                        _ => {
                            return Err(YamlError::at(line, span.start.col() + 1, YamlErrorKind::ComplexKey));
                        }
                    }
                    return Ok(None);
                }
                self.push(value, line, span)
            }
            Event::SequenceStart(anchor, _) => {
                self.count(1, span)?;
                let frame = Frame::Seq { items: Vec::new(), anchor, nodes_at_start: self.nodes, line };
                self.open(frame, span)?;
                Ok(None)
            }
            Event::MappingStart(anchor, _) => {
                self.count(1, span)?;
                let frame = Frame::Map {
                    map: Map::new(),
                    key: None,
                    merges: Vec::new(),
                    anchor,
                    nodes_at_start: self.nodes,
                    line,
                };
                self.open(frame, span)?;
                Ok(None)
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(None);
                };
                let (value, anchor, nodes_at_start, start_line) = match frame {
                    Frame::Seq { items, anchor, nodes_at_start, line } => {
                        (Value::Array(items), anchor, nodes_at_start, line)
                    }
                    Frame::Map { mut map, merges, anchor, nodes_at_start, line, .. } => {
                        apply_merges(&mut map, merges);
                        (Value::Object(map), anchor, nodes_at_start, line)
                    }
                };
                if anchor != 0 {
                    let nodes = self.nodes - nodes_at_start + 1;
                    self.anchors.insert(anchor, (value.clone(), nodes));
                }
                self.push(value, start_line, span)
            }
            _ => Ok(None),
        }
    }

    fn scalar(&self, text: &str, style: ScalarStyle, tag: Option<&Tag>, span: Span) -> Result<Value, YamlError> {
        let core_tag = tag.filter(|t| t.handle == "tag:yaml.org,2002:" || t.handle == "!!").map(|t| t.suffix.as_str());
        let resolve = |text: &str| {
            resolve_plain(text, self.schema).map_err(|ResolveError::NonFinite| {
                YamlError::at(span.start.line(), span.start.col() + 1, YamlErrorKind::NonFinite(text.to_owned()))
            })
        };
        match core_tag {
            Some("str" | "binary") => Ok(Value::String(text.to_owned())),
            Some(_) => resolve(text),
            None if tag.is_none() && style == ScalarStyle::Plain => resolve(text),
            None => Ok(Value::String(text.to_owned())),
        }
    }

    fn push(&mut self, value: Value, line: usize, span: Span) -> Result<Option<(Value, usize)>, YamlError> {
        match self.stack.last_mut() {
            None => Ok(Some((value, line))),
            Some(Frame::Seq { items, .. }) => {
                items.push(value);
                Ok(None)
            }
            Some(Frame::Map { map, key, merges, .. }) => {
                let key = match key.take().expect("a value in a mapping always follows its key") {
                    Key::Name(name) => name,
                    Key::Merge => {
                        merges.push(value);
                        return Ok(None);
                    }
                };
                if map.contains_key(&key) {
                    return Err(YamlError::at(
                        span.start.line(),
                        span.start.col() + 1,
                        YamlErrorKind::DuplicateKey(key),
                    ));
                }
                map.insert(key, value);
                Ok(None)
            }
        }
    }
}

/// `<<: *base` and `<<: [*a, *b]`: keys already present win, then earlier sources over later ones.
fn apply_merges(map: &mut Map<String, Value>, merges: Vec<Value>) {
    for merge in merges {
        let sources = match merge {
            Value::Array(items) => items,
            other => vec![other],
        };
        for source in sources {
            if let Value::Object(entries) = source {
                for (k, v) in entries {
                    if !map.contains_key(&k) {
                        map.insert(k, v);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Value {
        parse_documents(text, &ReadOptions::default()).expect("valid").remove(0).value
    }

    /// A block scalar that ends the input without a line break has no final line break to clip
    /// or keep (YAML 1.2 §8.1.1.2), as go-yaml reads it.
    #[test]
    fn block_scalar_at_end_of_input_without_newline() {
        assert_eq!(value("a: |\n  x\n  y"), serde_json::json!({"a": "x\ny"}));
        assert_eq!(value("a: |+\n  x"), serde_json::json!({"a": "x"}));
        assert_eq!(value("a: >\n  x\n  y"), serde_json::json!({"a": "x y"}));
        assert_eq!(value("a: |\n  x\n"), serde_json::json!({"a": "x\n"}));
        assert_eq!(value("a: |\n  x\nb: 1"), serde_json::json!({"a": "x\n", "b": 1}));
    }
}
