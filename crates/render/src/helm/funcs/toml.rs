//! Helm's `toToml`, `mustToToml` and `fromToml`. Helm encodes with BurntSushi/toml, whose
//! layout this encoder follows: in each table, plain keys first and then sub-tables, each group
//! sorted, sub-tables indented two spaces per level, nil values left out. `fromToml` reads with
//! the `toml` crate; integers become Go `int64`s and dates strings. A parse error's text is the
//! `toml` crate's, not BurntSushi's.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{add, want_str};
use crate::helm::template::{Arity, FuncError, FuncMap, Value};

const INDENT: &str = "  ";

fn bare_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn quote_key(key: &str) -> String {
    if bare_key(key) { key.to_owned() } else { quote(key) }
}

/// A TOML basic string (BurntSushi's escaping).
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Map(_))
}

fn is_table_array(v: &Value) -> bool {
    matches!(v, Value::List(items) if !items.is_empty() && items.iter().all(is_table))
}

fn inline(v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            if f.is_nan() {
                "nan".to_owned()
            } else if f.is_infinite() {
                if *f > 0.0 { "inf".to_owned() } else { "-inf".to_owned() }
            } else {
                let text = gitops_core::yaml::format_float(*f);
                if text.contains(['.', 'e']) { text } else { format!("{text}.0") }
            }
        }
        Value::String(s) => quote(s),
        Value::List(items) => {
            let parts = items.iter().filter(|v| !v.is_nil()).map(inline).collect::<Result<Vec<_>, _>>()?;
            format!("[{}]", parts.join(", "))
        }
        Value::Map(m) => {
            let parts = m
                .entries()
                .into_iter()
                .filter(|(_, v)| !v.is_nil())
                .map(|(k, v)| Ok(format!("{} = {}", quote_key(&k), inline(&v)?)))
                .collect::<Result<Vec<_>, String>>()?;
            format!("{{{}}}", parts.join(", "))
        }
        Value::Missing | Value::Nil => return Err("toml: cannot encode a nil value".to_owned()),
        Value::Object(o) => quote(&o.display()),
    })
}

struct Encoder {
    out: String,
}

impl Encoder {
    fn newline_if_written(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn table(&mut self, path: &[String], entries: &BTreeMap<String, Value>) -> Result<(), String> {
        let depth = path.len();
        let (subs, direct): (Vec<_>, Vec<_>) =
            entries.iter().filter(|(_, v)| !v.is_nil()).partition(|(_, v)| is_table(v) || is_table_array(v));
        for (k, v) in direct {
            let _ = writeln!(self.out, "{}{} = {}", INDENT.repeat(depth), quote_key(k), inline(v)?);
        }
        for (k, v) in subs {
            let mut child = path.to_vec();
            child.push(quote_key(k));
            let indent = INDENT.repeat(depth);
            match v {
                Value::Map(m) => {
                    if depth == 0 {
                        self.newline_if_written();
                    }
                    let _ = writeln!(self.out, "{indent}[{}]", child.join("."));
                    self.table(&child, &m.read())?;
                }
                Value::List(items) => {
                    for item in items.iter() {
                        if let Value::Map(m) = item {
                            if depth == 0 {
                                self.newline_if_written();
                            }
                            let _ = writeln!(self.out, "{indent}[[{}]]", child.join("."));
                            self.table(&child, &m.read())?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The TOML document Helm's `toToml` writes for `v`.
///
/// # Errors
///
/// BurntSushi's message for a nil value.
pub(crate) fn to_toml(v: &Value) -> Result<String, String> {
    let Value::Map(m) = v else {
        // BurntSushi writes any other value inline.
        return inline(v);
    };
    let mut enc = Encoder { out: String::new() };
    enc.table(&[], &m.read())?;
    Ok(enc.out)
}

fn from_toml_value(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::from(s),
        toml::Value::Integer(i) => Value::Int(i),
        toml::Value::Float(f) => Value::Float(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::from(d.to_string()),
        toml::Value::Array(items) => Value::list(items.into_iter().map(from_toml_value).collect()),
        toml::Value::Table(t) => Value::map(t.into_iter().map(|(k, v)| (k, from_toml_value(v))).collect()),
    }
}

pub(super) fn register(map: &mut FuncMap) {
    add(map, "toToml", Arity::Exact(1), |_, a| Ok(Value::from(to_toml(&a[0]).unwrap_or_else(|e| e))));
    add(map, "mustToToml", Arity::Exact(1), |_, a| Ok(Value::from(to_toml(&a[0]).map_err(FuncError::Message)?)));
    add(map, "fromToml", Arity::Exact(1), |_, a| {
        Ok(match want_str(&a[0])?.parse::<toml::Table>() {
            Ok(t) => from_toml_value(toml::Value::Table(t)),
            Err(e) => Value::map(BTreeMap::from([("Error".to_owned(), Value::from(e.message().to_owned()))])),
        })
    });
}
