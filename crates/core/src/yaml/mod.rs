//! YAML in and out: multi-document reading with positions and a resource budget, and an emitter
//! whose output matches `kubectl kustomize` byte for byte.
//!
//! # Why not serde_yaml here
//!
//! The user prescribed serde_yaml, and it is archived upstream, so the design kept it behind this
//! one module. Testing it against `kubectl kustomize` showed two things it cannot do, because its
//! public API never exposes them:
//!
//! - **Scalar style.** Kustomize reads `defaultMode: 0644` (plain) as the integer 420, and
//!   `defaultMode: "0644"` (quoted) as a string. serde_yaml hands both to a visitor as the same
//!   string, so no post-processing can tell them apart. Volume modes written in octal are
//!   common in real manifests, and getting them wrong gives the API server a string where it
//!   wants an `int32`.
//! - **Positions.** Errors must name the file and line of the offending field; serde_yaml gives a
//!   position only for its own syntax errors.
//!
//! serde-saphyr, the measured alternative, shares both limits and reads YAML 1.1 booleans
//! (`on` → `true`), which Kustomize does not. So the reader is built on the event parser
//! `saphyr-parser` (pure Rust, the maintained successor of yaml-rust), and applies the Go readers'
//! own scalar rules in [`Schema`]. serde_yaml remains a dev-dependency, the oracle for the
//! differential tests in `tests/yaml.rs`: on every input where YAML 1.2 and go-yaml agree, both
//! readers must produce the same values. The emitter is our own (see [`to_string`]).

mod emit;
mod locate;
mod number;
mod read;
mod resolve;

use std::fmt;

pub use emit::{EmitOptions, compare_keys, to_string, to_string_multi};
pub use locate::{PathSegment, locate, path_of};
pub use number::format_float;
pub use read::{Document, ReadOptions, parse_documents};
pub use resolve::{KeyKind, Schema, resolve_key_kind};

/// Resource limits for reading YAML, so hostile input fails fast instead of exhausting memory.
///
/// The defaults admit any realistic Kubernetes manifest stream (64 MiB, 100 000 documents,
/// 10 million nodes, 512 levels) while an alias bomb or a 1 GB input fails at once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Budget {
    /// Largest input, in bytes.
    pub max_bytes: usize,
    /// Most documents in one stream.
    pub max_documents: usize,
    /// Most nodes in one stream, counting every node an alias expands to.
    pub max_nodes: usize,
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { max_bytes: 64 << 20, max_documents: 100_000, max_nodes: 10_000_000, max_depth: 512 }
    }
}

impl Budget {
    /// Sets the largest input, in bytes.
    #[must_use]
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Sets the most nodes, alias expansions included.
    #[must_use]
    pub fn max_nodes(mut self, nodes: usize) -> Self {
        self.max_nodes = nodes;
        self
    }

    /// Sets the most documents.
    #[must_use]
    pub fn max_documents(mut self, documents: usize) -> Self {
        self.max_documents = documents;
        self
    }

    /// Sets the deepest nesting.
    #[must_use]
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }
}

/// What went wrong while reading YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum YamlErrorKind {
    /// The text is not valid YAML.
    Syntax(String),
    /// The input is larger than the budget allows.
    TooLarge {
        /// Size of the input.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A budget limit other than size was exceeded.
    Budget {
        /// What was counted.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A mapping has the same key twice.
    DuplicateKey(String),
    /// A mapping key is a sequence or mapping; JSON keys are strings.
    ComplexKey,
    /// An alias names an anchor that is not defined before it.
    UnknownAnchor,
    /// `.inf` or `.nan`, which JSON cannot represent.
    NonFinite(String),
}

/// An error while reading YAML, with the 1-based line and column where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What went wrong.
    pub kind: YamlErrorKind,
}

impl YamlError {
    pub(crate) fn at(line: usize, column: usize, kind: YamlErrorKind) -> Self {
        YamlError { line: line.max(1), column: column.max(1), kind }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            YamlErrorKind::Syntax(message) => f.write_str(message),
            YamlErrorKind::TooLarge { bytes, limit } => {
                write!(f, "input of {bytes} bytes exceeds the limit of {limit} bytes")
            }
            YamlErrorKind::Budget { what, limit } => {
                write!(f, "too many {what}: the limit is {limit}")
            }
            YamlErrorKind::DuplicateKey(key) => write!(f, "mapping key {key:?} already defined"),
            YamlErrorKind::ComplexKey => f.write_str("mapping keys must be scalars"),
            YamlErrorKind::UnknownAnchor => f.write_str("alias refers to an undefined anchor"),
            YamlErrorKind::NonFinite(text) => write!(f, "{text} cannot be represented in JSON"),
        }
    }
}

impl std::error::Error for YamlError {}
