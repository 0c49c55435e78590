//! `FieldPath`: where in an object a change is, in a form people read.
//!
//! Paths name list items the way the schema identifies them, not by position, so a path stays
//! right when a list is reordered: `spec.template.spec.containers[name=web].image`,
//! `spec.ports[port=80,protocol=TCP].targetPort`, `metadata.finalizers[=example.com/cleanup]`.
//! Positions are used only in atomic lists (`spec.args[1]`), where position is identity.
//! Keys that are not plain words are quoted: `metadata.labels["app.kubernetes.io/name"]`.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Segment {
    /// A field of an object, or a key of a map.
    Field(String),
    /// A position in an atomic list.
    Index(usize),
    /// An item of a keyed list (`x-kubernetes-list-type: map`), by its key fields and values
    /// (values as compact JSON text: `"web"`, `80`).
    Key(Vec<(String, String)>),
    /// An item of a set (`x-kubernetes-list-type: set`), by its value (compact JSON text).
    Item(String),
}

/// Where a field is in an object: a list of [`Segment`]s from the root.
///
/// ```
/// use gitops_diff::{FieldPath, Segment};
/// let path = FieldPath::from_segments(vec![
///     Segment::Field("metadata".into()),
///     Segment::Field("labels".into()),
///     Segment::Field("app.kubernetes.io/name".into()),
/// ]);
/// assert_eq!(path.to_string(), r#"metadata.labels["app.kubernetes.io/name"]"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    /// A path from its segments.
    pub fn from_segments(segments: Vec<Segment>) -> FieldPath {
        FieldPath { segments }
    }

    /// The segments, from the root.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Whether this is the object itself.
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The field names of the leading [`Segment::Field`]s: `["spec", "replicas"]`.
    pub fn leading_fields(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().map_while(|s| match s {
            Segment::Field(name) => Some(name.as_str()),
            _ => None,
        })
    }
}

/// Whether a key can be written without quotes: `replicas`, `app-name`, `x_1`.
fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A key value for display: strings that read unambiguously are written bare, the rest as JSON.
fn write_key_value(f: &mut fmt::Formatter<'_>, json: &str) -> fmt::Result {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::String(s))
            if !s.is_empty()
                && !s.contains([',', ']', '=', '"', ' '])
                && serde_json::from_str::<Value>(&s).is_err() =>
        {
            f.write_str(&s)
        }
        _ => f.write_str(json),
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str(".");
        }
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Field(name) if is_plain_key(name) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                Segment::Field(name) => write!(f, "[{}]", Value::String(name.clone()))?,
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(fields) => {
                    f.write_str("[")?;
                    for (n, (name, value)) in fields.iter().enumerate() {
                        if n > 0 {
                            f.write_str(",")?;
                        }
                        write!(f, "{name}=")?;
                        write_key_value(f, value)?;
                    }
                    f.write_str("]")?;
                }
                Segment::Item(value) => {
                    f.write_str("[=")?;
                    write_key_value(f, value)?;
                    f.write_str("]")?;
                }
            }
        }
        Ok(())
    }
}

impl Serialize for FieldPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A path segment borrowed from the values being compared, turned into a [`Segment`] only when
/// a change is recorded.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step<'v> {
    Field(&'v str),
    Index(usize),
    /// A keyed item: the key field names and the item that carries their values.
    Key(&'v [String], &'v Value),
    Item(&'v Value),
}

impl Step<'_> {
    pub(crate) fn to_segment(self) -> Segment {
        match self {
            Step::Field(name) => Segment::Field(name.to_owned()),
            Step::Index(index) => Segment::Index(index),
            Step::Key(keys, item) => Segment::Key(
                keys.iter()
                    .map(|key| {
                        let value =
                            crate::keys::key_value(item, key).map_or_else(|| "null".to_owned(), Value::to_string);
                        (key.clone(), value)
                    })
                    .collect(),
            ),
            Step::Item(value) => Segment::Item(value.to_string()),
        }
    }
}

/// Owned path from borrowed steps.
pub(crate) fn to_path(steps: &[Step<'_>]) -> FieldPath {
    FieldPath::from_segments(steps.iter().map(|s| s.to_segment()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> Segment {
        Segment::Field(name.to_owned())
    }

    #[test]
    fn display_forms() {
        let path = FieldPath::from_segments(vec![
            field("spec"),
            field("template"),
            field("spec"),
            field("containers"),
            Segment::Key(vec![("name".into(), "\"web\"".into())]),
            field("ports"),
            Segment::Key(vec![("containerPort".into(), "80".into()), ("protocol".into(), "\"TCP\"".into())]),
        ]);
        assert_eq!(path.to_string(), "spec.template.spec.containers[name=web].ports[containerPort=80,protocol=TCP]");
        let set =
            FieldPath::from_segments(vec![field("metadata"), field("finalizers"), Segment::Item("\"a/b\"".into())]);
        assert_eq!(set.to_string(), "metadata.finalizers[=a/b]");
        let quoted = FieldPath::from_segments(vec![field("data"), field("a.b"), Segment::Index(2)]);
        assert_eq!(quoted.to_string(), r#"data["a.b"][2]"#);
        let numeric_name = FieldPath::from_segments(vec![Segment::Key(vec![("name".into(), "\"80\"".into())])]);
        assert_eq!(numeric_name.to_string(), r#"[name="80"]"#);
        assert_eq!(FieldPath::default().to_string(), ".");
    }
}
