//! A deterministic YAML emitter in the style of `kubectl kustomize`.
//!
//! Kustomize prints every resource by marshalling it to JSON and then to YAML with go-yaml v2, so
//! its output style *is* go-yaml v2's emitter (itself a port of libyaml). This module reproduces
//! what that emitter does for JSON-shaped values: keys in go-yaml's natural order, 2-space
//! indentation with sequences not indented under their key, plain scalars where they read back
//! the same, double quotes for strings a YAML 1.1 reader would misread (`on`, `yes`, `0777`,
//! `12:30`, `1e3`), single quotes for strings that start with or contain an indicator, literal
//! blocks (`|`, `|-`, `|+`) for multi-line strings, and plain or quoted scalars folded past column 80.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::number::format_float;
use super::resolve::{Schema, parse_timestamp, resolve_plain};

/// Options for [`to_string`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmitOptions {
    /// Sort mapping keys as go-yaml v2 does (Kustomize's output order). When false, keys keep
    /// the value's own order.
    pub sort_keys: bool,
    /// The column past which long scalars are folded at a space (go-yaml: 80).
    pub width: usize,
}

impl Default for EmitOptions {
    fn default() -> Self {
        EmitOptions { sort_keys: true, width: 80 }
    }
}

impl EmitOptions {
    /// Whether to sort keys (default true).
    #[must_use]
    pub fn sort_keys(mut self, sort: bool) -> Self {
        self.sort_keys = sort;
        self
    }

    /// The folding width (default 80; `usize::MAX` never folds).
    #[must_use]
    pub fn width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }
}

/// Emits one value as a YAML document (no `---` marker), ending in a newline.
///
/// ```
/// use gitops_core::yaml::{to_string, EmitOptions};
/// let v = serde_json::json!({"kind": "ConfigMap", "apiVersion": "v1",
///     "data": {"enabled": "on", "mode": "0644", "script": "echo hi\n", "list": ["a", {"b": 1}]}});
/// assert_eq!(to_string(&v, &EmitOptions::default()), "\
/// apiVersion: v1
/// data:
///   enabled: \"on\"
///   list:
///   - a
///   - b: 1
///   mode: \"0644\"
///   script: |
///     echo hi
/// kind: ConfigMap
/// ");
/// ```
pub fn to_string(value: &Value, options: &EmitOptions) -> String {
    let mut e =
        Emitter { out: String::new(), column: 0, whitespace: true, indention: true, open_ended: false, options };
    e.node(value, -1, Context::Root);
    e.write_indent(0);
    if e.open_ended {
        e.write_indicator("...", true, false, false);
        e.write_indent(0);
    }
    e.out
}

/// Emits several values as one multi-document stream, separated by `---` lines, as
/// `kubectl kustomize` prints a build.
pub fn to_string_multi<'a>(values: impl IntoIterator<Item = &'a Value>, options: &EmitOptions) -> String {
    let mut out = String::new();
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_string(value, options));
    }
    out
}

/// go-yaml v2's key order: digit runs compare as numbers, non-letters before letters.
pub fn compare_keys(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl { Ordering::Less } else { Ordering::Greater };
        }
        let (mut an, mut bn): (u128, u128) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(u128::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(u128::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Root,
    MappingValue,
    SequenceItem,
    SimpleKey,
    ComplexKey,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_allowed: bool,
    block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: Option<char>) -> bool {
    matches!(c, None | Some(' ' | '\t')) || c.is_some_and(is_break)
}

/// libyaml's notion of printable (go-yaml v2 checks UTF-8 bytes; this is the same set).
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}') && c != '\u{feff}'
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis { multiline: false, block_plain_allowed: true, single_allowed: true, block_allowed: false };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) = (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = is_blank(chars.get(i + 1).copied());
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                    block_indicators = true;
                }
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i + 1 == chars.len();
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i + 1 == chars.len();
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank(Some(c)) || c == '\0';
    }
    let mut a =
        Analysis { multiline: line_breaks, block_plain_allowed: true, single_allowed: true, block_allowed: true };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`: YAML 1.1 sexagesimal numbers.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while i < b.len() && i - start < 2 && b[i].is_ascii_digit() {
            i += 1;
        }
        let group = &b[start..i];
        let ok = match group {
            [d] => d.is_ascii_digit(),
            [a, _] => (b'0'..=b'5').contains(a),
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// Whether go-yaml v2 would read the plain scalar `s` back as a string (its `stringv` check).
fn reads_back_as_string(s: &str) -> bool {
    // `<<` reads back as a merge key in theory, but the go-yaml v2 that Kustomize prints with
    // leaves it plain (observed in tests/fixtures/yaml/emitter).
    if is_base60_float(s) || parse_timestamp(s).is_some() {
        return false;
    }
    matches!(resolve_plain(s, Schema::Kubectl), Ok(Value::String(_)))
}

struct Emitter<'o> {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    options: &'o EmitOptions,
}

impl Emitter<'_> {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, indicator: &str, need_whitespace: bool, is_whitespace: bool, is_indention: bool) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in indicator.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    /// Emits a node whose parent block sits at `parent` (-1 at the root).
    fn node(&mut self, value: &Value, parent: isize, context: Context) {
        match value {
            Value::Object(map) => self.mapping(map, parent),
            Value::Array(items) => self.sequence(items, parent, context),
            Value::String(s) => self.string(s, parent, context),
            Value::Null => self.plain("null", parent),
            Value::Bool(b) => self.plain(if *b { "true" } else { "false" }, parent),
            Value::Number(n) => self.plain(&number_text(n), parent),
        }
    }

    fn block_indent(parent: isize, indentless: bool) -> isize {
        if parent < 0 {
            0
        } else if indentless {
            parent
        } else {
            parent + 2
        }
    }

    fn mapping(&mut self, map: &Map<String, Value>, parent: isize) {
        if map.is_empty() {
            self.write_indicator("{", true, true, false);
            self.write_indicator("}", false, false, false);
            return;
        }
        let indent = Self::block_indent(parent, false);
        let width = usize::try_from(indent).expect("block indents are never negative");
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        if self.options.sort_keys {
            entries.sort_by(|a, b| compare_keys(a.0, b.0));
        }
        for (key, value) in entries {
            self.write_indent(width);
            let simple = key.len() <= 128 && !key.chars().any(is_break);
            if simple {
                self.string(key, indent, Context::SimpleKey);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.string(key, indent, Context::ComplexKey);
                self.write_indent(width);
                self.write_indicator(":", true, false, true);
            }
            self.node(value, indent, Context::MappingValue);
        }
    }

    fn sequence(&mut self, items: &[Value], parent: isize, context: Context) {
        if items.is_empty() {
            self.write_indicator("[", true, true, false);
            self.write_indicator("]", false, false, false);
            return;
        }
        let indentless = context == Context::MappingValue && !self.indention;
        let indent = Self::block_indent(parent, indentless);
        let width = usize::try_from(indent).expect("block indents are never negative");
        for item in items {
            self.write_indent(width);
            self.write_indicator("-", true, false, true);
            self.node(item, indent, Context::SequenceItem);
        }
    }

    fn plain(&mut self, text: &str, parent: isize) {
        self.write_scalar(text, Style::Plain, parent, true);
    }

    fn string(&mut self, s: &str, parent: isize, context: Context) {
        let simple_key = context == Context::SimpleKey;
        let analysis = analyze(s);
        let mut style = if s.contains('\n') {
            Style::Literal
        } else if reads_back_as_string(s) {
            Style::Plain
        } else {
            Style::Double
        };
        if simple_key && analysis.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!analysis.block_plain_allowed || (s.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !analysis.single_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!analysis.block_allowed || simple_key) {
            style = Style::Double;
        }
        self.write_scalar(s, style, parent, !simple_key);
    }

    fn write_scalar(&mut self, s: &str, style: Style, parent: isize, allow_breaks: bool) {
        let indent = usize::try_from(if parent < 0 { 2 } else { parent + 2 }).expect("scalar indents are positive");
        match style {
            Style::Plain => self.write_plain(s, indent, allow_breaks),
            Style::Single => self.write_single(s, indent, allow_breaks),
            Style::Double => self.write_double(s, indent, allow_breaks),
            Style::Literal => self.write_literal(s, indent),
        }
    }

    fn write_plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks && !spaces && self.column > self.options.width && chars.get(i + 1) != Some(&' ') {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                self.indention = false;
                spaces = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = s.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.options.width
                    && i > 0
                    && i + 1 < chars.len()
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let escape = match c {
                    '\0' => Some('0'),
                    '\u{7}' => Some('a'),
                    '\u{8}' => Some('b'),
                    '\t' => Some('t'),
                    '\n' => Some('n'),
                    '\u{b}' => Some('v'),
                    '\u{c}' => Some('f'),
                    '\r' => Some('r'),
                    '\u{1b}' => Some('e'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '\u{85}' => Some('N'),
                    '\u{a0}' => Some('_'),
                    '\u{2028}' => Some('L'),
                    '\u{2029}' => Some('P'),
                    _ => None,
                };
                if let Some(e) = escape {
                    self.put(e);
                } else {
                    let v = u32::from(c);
                    let text = if v <= 0xFF {
                        format!("x{v:02X}")
                    } else if v <= 0xFFFF {
                        format!("u{v:04X}")
                    } else {
                        format!("U{v:08X}")
                    };
                    text.chars().for_each(|ch| self.put(ch));
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > self.options.width && i > 0 && i + 1 < chars.len() {
                    self.write_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, s: &str, indent: usize) {
        self.write_indicator("|", true, false, false);
        let chars: Vec<char> = s.chars().collect();
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.write_indicator("2", false, false, false);
        }
        self.open_ended = false;
        let chomp = match chars.as_slice() {
            [] => Some('-'),
            [.., last] if !is_break(*last) => Some('-'),
            [_] => Some('+'),
            [.., before, _] if is_break(*before) => Some('+'),
            _ => None,
        };
        if let Some(hint) = chomp {
            self.write_indicator(&hint.to_string(), false, false, false);
            if hint == '+' {
                self.open_ended = true;
            }
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// A number as go-yaml v2 prints it after Kustomize's JSON round trip.
fn number_text(n: &Number) -> String {
    if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_775e18 {
            return (f as i64).to_string();
        } else if f.fract() == 0.0 && (0.0..1.844_674_407_370_955_2e19).contains(&f) {
            return (f as u64).to_string();
        }
        return format_float(f);
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_key_order() {
        let mut keys = vec!["b", "a10", "a2", "_x", "B", "a", "1", "a-b", "a.b", "10", "2", "ab"];
        keys.sort_by(|a, b| compare_keys(a, b));
        // As kubectl v1.37.1 orders them (tests/fixtures/yaml/emitter/expected.yaml).
        assert_eq!(keys, ["_x", "1", "2", "10", "B", "a", "a-b", "a.b", "a2", "a10", "ab", "b"]);
    }

    #[test]
    fn base60() {
        assert!(is_base60_float("12:30"));
        assert!(is_base60_float("1:20:30.5"));
        assert!(!is_base60_float("12:70"));
        assert!(!is_base60_float("a:1"));
        assert!(!is_base60_float("12"));
    }
}
