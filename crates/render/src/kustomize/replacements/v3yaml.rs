//! YAML printed as kyaml prints a document it parsed and changed: go-yaml v3 with a two-space
//! indent, sequences not indented under their key, no line folding.
//!
//! go-yaml v3 prints every node in its original style. The JSON values walked here have lost the
//! styles, so they are read back from the original text: [`locate`] finds where each node was
//! written, and the character its value starts with tells a double- or single-quoted scalar, a
//! literal block, or a flow collection from a plain scalar or block collection. Nodes the
//! original does not have get the style go-yaml gives a new node (plain where the text reads back
//! as a string, double-quoted where it would not).
//!
//! Comments come back as go-yaml prints them: a comment line before a node at that node's new
//! indentation, one indented deeper than the next node (the end of a block) at the indentation of
//! the block it closed, a comment after a value on its line after one space. Blank lines are
//! dropped, except one after the comments that open the document.

use std::fmt::Write as _;

use gitops_core::yaml::{PathSegment, format_float, locate};
use serde_json::{Map, Value};

use super::nodepath::resolve_untagged;

/// How a node was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
    Flow,
    /// A block collection, or a value on the following lines.
    Block,
}

/// Prints `value`, the changed form of the document `original`.
pub(super) fn print(value: &Value, original: &str) -> String {
    let mut printer = Printer {
        original,
        lines: original.lines().collect(),
        out: String::new(),
        path: Vec::new(),
        next_line: 0,
        content_indent: None,
        frames: Vec::new(),
    };
    match value {
        Value::Object(map) if !map.is_empty() && printer.style() != Some(Style::Flow) => {
            printer.block_map(map, 0, false);
        }
        Value::Array(items) if !items.is_empty() && printer.style() != Some(Style::Flow) => {
            printer.block_seq(items, 0, false);
        }
        other => {
            let text = printer.inline(other, false);
            printer.out.push_str(&text);
        }
    }
    printer.comments_before(printer.lines.len() + 1, 0, 0);
    printer.out
}

struct Printer<'a> {
    original: &'a str,
    lines: Vec<&'a str>,
    out: String,
    /// The path of the node being printed.
    path: Vec<PathSegment>,
    /// The first original line whose comments are not printed yet (0-based).
    next_line: usize,
    /// Set after a block scalar: original lines indented deeper than this are its content.
    content_indent: Option<usize>,
    /// The keys and dashes printed so far that may still enclose what follows: their original
    /// column and printed indentation.
    frames: Vec<(usize, usize)>,
}

impl Printer<'_> {
    /// The style the node at the current path had in the original.
    fn style(&self) -> Option<Style> {
        let rest = self.written_at()?;
        let value = match self.path.last() {
            Some(PathSegment::Key(_)) => after_key(rest)?,
            _ => rest,
        };
        Some(style_of(value))
    }

    /// The original text from where the current node (for a mapping entry, its key) starts.
    fn written_at(&self) -> Option<&str> {
        let (line, column) = locate(self.original, 0, &self.path)?;
        let start = self.original.split_inclusive('\n').take(line - 1).map(str::len).sum::<usize>();
        let rest = self.original.get(start..)?;
        let offset = rest.char_indices().nth(column - 1).map(|(i, _)| i)?;
        rest.get(offset..)
    }

    fn key_style(&self) -> Option<Style> {
        self.written_at().map(style_of)
    }

    /// Prints the comments written before the current node (a key, or a sequence entry whose dash
    /// is printed at `indent`), then records the node as a possible enclosing block.
    fn start_node(&mut self, indent: usize) {
        let Some((line, column)) = locate(self.original, 0, &self.path) else { return };
        let mut column = column - 1;
        if matches!(self.path.last(), Some(PathSegment::Index(_)))
            && let Some(dash) = self.lines.get(line - 1).and_then(|l| l.get(..column)).and_then(|l| l.rfind('-'))
        {
            column = dash;
        }
        self.comments_before(line, column, indent);
        while self.frames.last().is_some_and(|&(c, _)| c >= column) {
            self.frames.pop();
        }
        self.frames.push((column, indent));
    }

    /// Prints the comment lines of the original above `line` (1-based) not printed yet; the next
    /// node starts at original `column` and is printed at `indent`.
    fn comments_before(&mut self, line: usize, column: usize, indent: usize) {
        let end = line.saturating_sub(1).min(self.lines.len());
        while self.next_line < end {
            let text = self.lines[self.next_line];
            self.next_line += 1;
            let trimmed = text.trim();
            let depth = text.len() - text.trim_start().len();
            if let Some(content) = self.content_indent {
                if trimmed.is_empty() || depth > content {
                    continue;
                }
                self.content_indent = None;
            }
            if trimmed.is_empty() {
                if self.frames.is_empty() && !self.out.is_empty() && !self.out.ends_with("\n\n") {
                    self.out.push('\n');
                }
                continue;
            }
            if !trimmed.starts_with('#') {
                continue;
            }
            let printed = if depth > column {
                self.frames.iter().rev().find(|&&(c, _)| c <= depth).map_or(0, |&(_, p)| p)
            } else {
                indent
            };
            self.out.push_str(&" ".repeat(printed));
            self.out.push_str(trimmed);
            self.out.push('\n');
        }
        self.next_line = self.next_line.max(end + 1);
    }

    /// The comment after the current node's value on its line, if any.
    fn line_comment(&self) -> Option<String> {
        let rest = self.written_at()?;
        let value = match self.path.last() {
            Some(PathSegment::Key(_)) => after_key(rest)?,
            _ => rest,
        };
        trailing_comment(value.lines().next().unwrap_or_default()).map(str::to_owned)
    }

    fn end_line(&mut self) {
        if let Some(comment) = self.line_comment() {
            self.out.push(' ');
            self.out.push_str(&comment);
        }
        self.out.push('\n');
    }

    fn block_map(&mut self, map: &Map<String, Value>, indent: usize, inline_first: bool) {
        for (i, (key, value)) in map.iter().enumerate() {
            self.path.push(PathSegment::Key(key.clone()));
            if i > 0 || !inline_first {
                self.start_node(indent);
                self.out.push_str(&" ".repeat(indent));
            } else {
                self.start_node(indent);
            }
            let key_text = string_text(key, self.key_style(), false, false);
            self.out.push_str(&key_text);
            self.out.push(':');
            self.value_in_block(value, indent, true);
            self.path.pop();
        }
    }

    fn block_seq(&mut self, items: &[Value], indent: usize, inline_first: bool) {
        for (i, item) in items.iter().enumerate() {
            self.path.push(PathSegment::Index(i));
            self.start_node(indent);
            if i > 0 || !inline_first {
                self.out.push_str(&" ".repeat(indent));
            }
            self.out.push('-');
            self.value_in_block(item, indent, false);
            self.path.pop();
        }
    }

    /// A value after `key:` (`in_map`) or `-`, the key or dash at `indent`.
    fn value_in_block(&mut self, value: &Value, indent: usize, in_map: bool) {
        let style = self.style();
        match value {
            Value::Object(map) if !map.is_empty() && style != Some(Style::Flow) => {
                if in_map {
                    self.end_line();
                    self.block_map(map, indent + 2, false);
                } else {
                    self.out.push(' ');
                    self.block_map(map, indent + 2, true);
                }
            }
            Value::Array(items) if !items.is_empty() && style != Some(Style::Flow) => {
                if in_map {
                    self.end_line();
                    self.block_seq(items, indent, false);
                } else {
                    self.out.push(' ');
                    self.block_seq(items, indent + 2, true);
                }
            }
            Value::String(s)
                if (style == Some(Style::Literal)
                    || (s.contains('\n') && !matches!(style, Some(Style::Double | Style::Single))))
                    && !s.split('\n').any(|line| line.ends_with(' ')) =>
            {
                self.out.push_str(&literal_block(s, indent + 2));
                if style == Some(Style::Literal) {
                    self.content_indent = self.frames.last().map(|&(column, _)| column);
                }
            }
            Value::Null => self.end_line(),
            other => {
                let text = self.inline(other, false);
                self.out.push(' ');
                self.out.push_str(&text);
                self.end_line();
            }
        }
    }

    /// A scalar, or a collection in flow style.
    fn inline(&mut self, value: &Value, flow: bool) -> String {
        match value {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.as_f64().filter(|_| n.is_f64()).map_or_else(|| n.to_string(), format_float),
            Value::String(s) => string_text(s, self.style(), true, flow),
            Value::Array(items) => {
                let mut parts = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    self.path.push(PathSegment::Index(i));
                    parts.push(self.inline(item, true));
                    self.path.pop();
                }
                format!("[{}]", parts.join(", "))
            }
            Value::Object(map) => {
                let mut parts = Vec::with_capacity(map.len());
                for (key, item) in map {
                    self.path.push(PathSegment::Key(key.clone()));
                    let key_text = string_text(key, self.key_style(), false, true);
                    parts.push(format!("{key_text}: {}", self.inline(item, true)));
                    self.path.pop();
                }
                format!("{{{}}}", parts.join(", "))
            }
        }
    }
}

/// Skips a mapping entry's key (plain or quoted), the `:` and blanks: the value's text.
fn after_key(rest: &str) -> Option<&str> {
    let bytes = rest.as_bytes();
    let mut i = 0;
    let quoted = match bytes.first()? {
        b'"' => {
            i = 1;
            while *bytes.get(i)? != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            true
        }
        b'\'' => {
            i = 1;
            loop {
                if *bytes.get(i)? == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            true
        }
        _ => false,
    };
    loop {
        let c = *bytes.get(i)?;
        if c == b':' && (quoted || matches!(bytes.get(i + 1), None | Some(b' ' | b'\t' | b'\n' | b'\r'))) {
            break;
        }
        i += 1;
    }
    i += 1;
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    rest.get(i..)
}

/// The comment after a value that starts `line`: after the closing quote or bracket, or after
/// ` #` in a plain scalar.
fn trailing_comment(line: &str) -> Option<&str> {
    let after = match line.chars().next() {
        Some(quote @ ('"' | '\'')) => {
            let mut escaped = false;
            let close = line.char_indices().skip(1).find(|&(_, c)| {
                let hit = c == quote && !escaped;
                escaped = quote == '"' && c == '\\' && !escaped;
                hit
            })?;
            &line[close.0 + 1..]
        }
        Some('[' | '{') => {
            let mut depth = 0i32;
            let close = line.char_indices().find(|&(_, c)| {
                depth += match c {
                    '[' | '{' => 1,
                    ']' | '}' => -1,
                    _ => 0,
                };
                depth == 0
            })?;
            &line[close.0 + 1..]
        }
        Some('|' | '>') => "",
        Some('#') | None => line,
        Some(_) => line.find(" #").or_else(|| line.find("\t#")).map_or("", |i| &line[i..]),
    };
    let comment = after.trim();
    comment.starts_with('#').then_some(comment)
}

/// The style of the node whose text starts `text` (after any anchor or tag).
fn style_of(mut text: &str) -> Style {
    while text.starts_with(['&', '!']) {
        let end = text.find([' ', '\t', '\n']).unwrap_or(text.len());
        text = text[end..].trim_start_matches([' ', '\t']);
    }
    match text.chars().next() {
        None | Some('\n' | '\r' | '#') => Style::Block,
        Some('"') => Style::Double,
        Some('\'') => Style::Single,
        Some('|' | '>') => Style::Literal,
        Some('[' | '{') => Style::Flow,
        Some(_) => Style::Plain,
    }
}

/// A string in `style`, or as go-yaml picks for a new node: plain where allowed and (for values)
/// reading back as a string, else single-quoted, else double-quoted.
fn string_text(s: &str, style: Option<Style>, value: bool, flow: bool) -> String {
    let single_allowed = s.chars().all(printable) && !s.contains('\n') && !s.is_empty();
    match style {
        Some(Style::Double) => return double_quoted(s),
        Some(Style::Single) if single_allowed => return format!("'{}'", s.replace('\'', "''")),
        _ => {}
    }
    if value && resolve_untagged(s) != Value::String(s.to_owned()) {
        double_quoted(s)
    } else if plain_allowed(s, flow) {
        s.to_owned()
    } else if single_allowed {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        double_quoted(s)
    }
}

/// A literal block scalar after `key:` or `-`, its lines at `indent`.
fn literal_block(s: &str, indent: usize) -> String {
    let body = s.trim_end_matches('\n');
    let chomp = match s.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let indicator = if s.starts_with([' ', '\n']) { "2" } else { "" };
    let mut out = format!(" |{indicator}{chomp}\n");
    for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
        if !line.is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// libyaml's printable characters (line breaks included).
fn printable(c: char) -> bool {
    matches!(c, '\n' | '\u{85}') || (c >= ' ' && c != '\u{7f}' && !('\u{80}'..'\u{a0}').contains(&c) && c != '\u{feff}')
}

/// libyaml's `yaml_emitter_analyze_scalar`: whether a plain scalar may hold `s`.
fn plain_allowed(s: &str, flow: bool) -> bool {
    if s.is_empty() || s.starts_with("---") || s.starts_with("...") || s.trim() != s || s.contains('\n') {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut preceded_by_space = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_space = chars.get(i + 1).is_none_or(|n| matches!(n, ' ' | '\t'));
        let (block_indicator, flow_indicator) = if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                    (true, true)
                }
                '?' | ':' => (followed_by_space, true),
                '-' => (followed_by_space, followed_by_space),
                _ => (false, false),
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => (false, true),
                ':' => (followed_by_space, true),
                '#' => (preceded_by_space, preceded_by_space),
                _ => (false, false),
            }
        };
        if block_indicator || (flow && flow_indicator) || !printable(c) {
            return false;
        }
        preceded_by_space = c == ' ';
    }
    true
}

/// libyaml's double-quoted scalar.
fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if !printable(c) => {
                let _ = write!(out, "\\x{:02X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_the_original_styles() {
        let original = "global:\n  interval: 15s\n  env: PLACEHOLDER\njobs:\n  - name: \"prom\"\n    targets: ['a:1', \"b:2\"]\n    on: yes\n";
        let changed = json!({"global": {"interval": "15s", "env": "prod"},
            "jobs": [{"name": "prom", "targets": ["a:1", "b:2"], "on": "yes", "new": "5"}]});
        assert_eq!(
            print(&changed, original),
            "global:\n  interval: 15s\n  env: prod\njobs:\n- name: \"prom\"\n  targets: ['a:1', \"b:2\"]\n  on: yes\n  new: \"5\"\n"
        );
    }

    #[test]
    fn new_nodes_take_go_yaml_defaults() {
        let changed = json!({"text": "line one\nline two\n", "empty": {}, "list": [], "colon": "a: b", "n": null});
        assert_eq!(print(&changed, ""), "text: |\n  line one\n  line two\nempty: {}\nlist: []\ncolon: 'a: b'\nn:\n");
    }
}
