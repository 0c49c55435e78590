//! Finding where a field is written, so errors can name its line.

use saphyr_parser::{Event, Parser};

/// One step of a path into a document: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

impl From<&str> for PathSegment {
    fn from(key: &str) -> Self {
        PathSegment::Key(key.to_owned())
    }
}

impl From<usize> for PathSegment {
    fn from(index: usize) -> Self {
        PathSegment::Index(index)
    }
}

/// The path of a `serde_path_to_error` error, as segments [`locate`] can find (enum variants and
/// unknown segments are dropped).
///
/// ```
/// use gitops_core::yaml::{path_of, PathSegment};
/// #[derive(Debug, serde::Deserialize)]
/// struct Item { port: u16 }
/// #[derive(Debug, serde::Deserialize)]
/// struct Doc { items: Vec<Item> }
/// let value = serde_json::json!({"items": [{"port": 80}, {"port": "http"}]});
/// let error = serde_path_to_error::deserialize::<_, Doc>(value).unwrap_err();
/// assert_eq!(path_of(error.path()), [PathSegment::from("items"), 1.into(), "port".into()]);
/// ```
pub fn path_of(path: &serde_path_to_error::Path) -> Vec<PathSegment> {
    path.iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => Some(PathSegment::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => Some(PathSegment::Index(*index)),
            _ => None,
        })
        .collect()
}

enum Frame {
    Seq { next: usize },
    Map { key: Option<String> },
}

/// The 1-based line and column where the node at `path` starts in document `document` of `text`
/// (for a mapping entry, where its key is written). `None` when the path is not there or the text
/// does not parse up to it.
///
/// Keys are compared as written, so this is meant for the plain keys of configuration files.
///
/// ```
/// use gitops_core::yaml::{locate, PathSegment};
/// let text = "a: 1\n---\nkind: X\nspec:\n  items:\n  - name: one\n  - name: two\n    port: 80\n";
/// let path = [PathSegment::from("spec"), "items".into(), 1.into(), "port".into()];
/// assert_eq!(locate(text, 1, &path), Some((8, 5)));
/// assert_eq!(locate(text, 1, &["spec".into(), "items".into(), 1.into()]), Some((7, 5)));
/// assert_eq!(locate(text, 1, &["missing".into()]), None);
/// ```
pub fn locate(text: &str, document: usize, path: &[PathSegment]) -> Option<(usize, usize)> {
    let mut parser = Parser::new_from_str(text);
    let mut doc_index: Option<usize> = None;
    let mut frames: Vec<Frame> = Vec::new();
    // The number of leading path segments the innermost open frames match.
    let mut matched = 0usize;
    while let Some(Ok((event, span))) = parser.next_event() {
        let here = (span.start.line(), span.start.col() + 1);
        match event {
            Event::DocumentStart(_) => {
                doc_index = Some(doc_index.map_or(0, |i| i + 1));
                frames.clear();
                matched = 0;
            }
            Event::DocumentEnd | Event::StreamEnd if doc_index == Some(document) => return None,
            _ if doc_index != Some(document) => {}
            Event::Scalar(value, ..) if matches!(frames.last(), Some(Frame::Map { key: None })) => {
                let depth = frames.len();
                let hit =
                    matched + 1 == depth && matches!(path.get(depth - 1), Some(PathSegment::Key(k)) if *k == value);
                if let Some(Frame::Map { key }) = frames.last_mut() {
                    *key = Some(value.into_owned());
                }
                if hit {
                    matched = depth;
                    if depth == path.len() {
                        return Some(here);
                    }
                }
            }
            Event::Scalar(..) | Event::Alias(_) | Event::SequenceStart(..) | Event::MappingStart(..) => {
                let depth = frames.len();
                if let Some(Frame::Seq { next }) = frames.last_mut() {
                    let index = *next;
                    *next += 1;
                    if matched + 1 == depth && path.get(depth - 1) == Some(&PathSegment::Index(index)) {
                        matched = depth;
                        if depth == path.len() {
                            return Some(here);
                        }
                    }
                }
                if path.is_empty() && depth == 0 {
                    return Some(here);
                }
                match event {
                    Event::SequenceStart(..) => frames.push(Frame::Seq { next: 0 }),
                    Event::MappingStart(..) => frames.push(Frame::Map { key: None }),
                    _ => value_done(&mut frames, &mut matched),
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                frames.pop();
                value_done(&mut frames, &mut matched);
            }
            _ => {}
        }
    }
    None
}

/// A value finished: the enclosing mapping waits for its next key, and the match shrinks to the
/// frames that still enclose the position.
fn value_done(frames: &mut [Frame], matched: &mut usize) {
    if let Some(Frame::Map { key }) = frames.last_mut() {
        *key = None;
    }
    *matched = (*matched).min(frames.len().saturating_sub(1));
}
