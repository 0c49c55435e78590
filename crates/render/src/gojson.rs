//! JSON as Go's `encoding/json` prints it: keys sorted, HTML characters escaped, Go's float
//! format. Shared by Kustomize (structured replacements) and Helm (`toJson`).

use std::fmt::Write as _;

use serde_json::Value;

/// `json.Marshal` (or `json.MarshalIndent(v, "", "  ")` when `pretty`) of a JSON value, with
/// keys sorted; `escape_html` escapes `<`, `>` and `&` as `encoding/json` does by default
/// (Sprig's `toRawJson` turns it off).
pub(crate) fn to_string(value: &Value, pretty: bool, escape_html: bool) -> String {
    let mut out = String::new();
    write_json(&mut out, value, pretty, escape_html, 0);
    out
}

fn write_json(out: &mut String, value: &Value, pretty: bool, html: bool, depth: usize) {
    let newline = |out: &mut String, depth: usize| {
        if pretty {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        }
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) => out.push_str(&go_json_float(f)),
            None => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_json_string(out, s, html),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_json(out, item, pretty, html, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_json_string(out, key, html);
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                write_json(out, item, pretty, html, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

/// A string as Go's `encoding/json` escapes it (`html`: also `<`, `>` and `&`).
fn write_json_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20
                || matches!(c, '\u{2028}' | '\u{2029}')
                || html && matches!(c, '<' | '>' | '&') =>
            {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as Go's `encoding/json` prints it: positional, or exponent form outside [1e-6, 1e21).
pub(crate) fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let sci = format!("{f:e}");
        return match sci.split_once('e') {
            Some((mantissa, exponent)) if exponent.starts_with('-') => format!("{mantissa}e{exponent}"),
            Some((mantissa, exponent)) => format!("{mantissa}e+{exponent}"),
            None => sci,
        };
    }
    format!("{f}")
}
