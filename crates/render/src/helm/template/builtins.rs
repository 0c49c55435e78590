//! Go's built-in template functions.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use super::fmt::{sprint, sprintf, sprintln};
use super::value::Value;
use super::{Arity, Func, FuncError};

/// The built-in function `name`, if there is one (`and`/`or` are handled by the executor).
pub(crate) fn lookup(name: &str) -> Option<Func> {
    static TABLE: OnceLock<HashMap<&'static str, Func>> = OnceLock::new();
    TABLE.get_or_init(table).get(name).cloned()
}

/// Whether a name is a built-in, for the parser (includes `and` and `or`).
pub(crate) fn is_builtin(name: &str) -> bool {
    matches!(name, "and" | "or") || lookup(name).is_some()
}

type R = Result<Value, FuncError>;

fn table() -> HashMap<&'static str, Func> {
    let mut t: HashMap<&'static str, Func> = HashMap::new();
    t.insert("not", Func::raw(Arity::Exact(1), |_, a| Ok(Value::Bool(!a[0].is_true()))));
    t.insert("len", Func::raw(Arity::Exact(1), |_, a| length(&a[0])));
    t.insert("index", Func::raw(Arity::AtLeast(1), |_, a| index(&a[0], &a[1..])));
    t.insert("slice", Func::raw(Arity::AtLeast(1), |_, a| slice(&a[0], &a[1..])));
    t.insert("print", Func::new(Arity::AtLeast(0), |_, a| Ok(Value::string(sprint(&a)))));
    t.insert("println", Func::new(Arity::AtLeast(0), |_, a| Ok(Value::string(sprintln(&a)))));
    t.insert(
        "printf",
        Func::new(Arity::AtLeast(1), |_, a| match &a[0] {
            Value::String(f) => Ok(Value::string(sprintf(f, &a[1..]))),
            other => Err(format!("wrong type for value; expected string; got {}", other.type_name()).into()),
        }),
    );
    t.insert("html", Func::new(Arity::AtLeast(0), |_, a| Ok(Value::string(html_escape(&eval_args(&a))))));
    t.insert("js", Func::new(Arity::AtLeast(0), |_, a| Ok(Value::string(js_escape(&eval_args(&a))))));
    t.insert("urlquery", Func::new(Arity::AtLeast(0), |_, a| Ok(Value::string(query_escape(&eval_args(&a))))));
    t.insert("eq", Func::raw(Arity::AtLeast(1), |_, a| eq(&a[0], &a[1..]).map(Value::Bool)));
    t.insert("ne", Func::raw(Arity::Exact(2), |_, a| eq(&a[0], &a[1..2]).map(|b| Value::Bool(!b))));
    t.insert("lt", Func::raw(Arity::Exact(2), |_, a| lt(&a[0], &a[1]).map(Value::Bool)));
    t.insert("le", Func::raw(Arity::Exact(2), |_, a| le(&a[0], &a[1]).map(Value::Bool)));
    t.insert("gt", Func::raw(Arity::Exact(2), |_, a| le(&a[0], &a[1]).map(|b| Value::Bool(!b))));
    t.insert("ge", Func::raw(Arity::Exact(2), |_, a| lt(&a[0], &a[1]).map(|b| Value::Bool(!b))));
    t.insert(
        "call",
        Func::raw(Arity::AtLeast(1), |_, a| {
            if a[0].is_nil() {
                Err("call of nil".into())
            } else {
                Err(format!("non-function of type {}", a[0].type_name()).into())
            }
        }),
    );
    t
}

fn length(v: &Value) -> R {
    match v {
        Value::String(s) => Ok(Value::Int(to_int(s.len()))),
        Value::List(l) => Ok(Value::Int(to_int(l.len()))),
        Value::Map(m) => Ok(Value::Int(to_int(m.len()))),
        Value::Object(o) if o.entries().is_some() => Ok(Value::Int(to_int(o.entries().map_or(0, |e| e.len())))),
        Value::Nil => Err("len of nil pointer".into()),
        Value::Missing => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        other => Err(format!("len of type {}", other.type_name()).into()),
    }
}

fn to_int(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn index_arg(index: &Value, cap: usize) -> Result<usize, FuncError> {
    let x = match index {
        Value::Int(i) => *i,
        Value::Missing | Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => return Err(format!("cannot index slice/array with type {}", other.type_name()).into()),
    };
    match usize::try_from(x) {
        Ok(u) if u <= cap => Ok(u),
        _ => Err(format!("index out of range: {x}").into()),
    }
}

fn index(item: &Value, indexes: &[Value]) -> R {
    if matches!(item, Value::Missing | Value::Nil) {
        return Err("index of untyped nil".into());
    }
    let mut item = item.clone();
    for index in indexes {
        item = match &item {
            Value::Missing | Value::Nil => return Err("index of nil pointer".into()),
            Value::List(l) => {
                let x = index_arg(index, l.len())?;
                l.get(x).cloned().ok_or_else(|| FuncError::from(format!("index out of range: {x}")))?
            }
            Value::String(s) => {
                let x = index_arg(index, s.len())?;
                Value::Int(i64::from(
                    *s.as_bytes().get(x).ok_or_else(|| FuncError::from(format!("index out of range: {x}")))?,
                ))
            }
            Value::Map(m) => match index {
                Value::String(k) => m.get(k).unwrap_or(Value::Nil),
                Value::Missing | Value::Nil => m.get("").unwrap_or(Value::Nil),
                other => return Err(format!("value has type {}; should be string", other.type_name()).into()),
            },
            other => return Err(format!("can't index item of type {}", other.type_name()).into()),
        };
    }
    Ok(item)
}

fn slice(item: &Value, indexes: &[Value]) -> R {
    if matches!(item, Value::Missing | Value::Nil) {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()).into());
    }
    let len = match item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name()).into()),
    };
    let mut idx = [0, len, len];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = index_arg(index, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]).into());
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]).into());
    }
    match item {
        Value::String(s) => {
            s.get(idx[0]..idx[1]).map(Value::string).ok_or_else(|| "slice of a string splits a character".into())
        }
        Value::List(l) => Ok(Value::list(l[idx[0]..idx[1]].to_vec())),
        _ => Err("can't slice".into()),
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Missing | Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Other,
    }
}

const BAD_COMPARISON: &str = "incompatible types for comparison";
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

fn eq(a: &Value, others: &[Value]) -> Result<bool, FuncError> {
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = kind(a);
    for b in others {
        let k2 = kind(b);
        let truth = if k1 == k2 {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                _ if k1 == Kind::Invalid => true,
                (Value::List(_) | Value::Map(_), _) => {
                    return Err(format!("non-comparable type {}: {}", a.to_go_string(), a.type_name()).into());
                }
                _ => a == b,
            }
        } else if k1 == Kind::Invalid || k2 == Kind::Invalid {
            false
        } else {
            return Err(incompatible(a, b));
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn incompatible(a: &Value, b: &Value) -> FuncError {
    format!("{BAD_COMPARISON}: {} and {}", a.type_name(), b.type_name()).into()
}

fn basic(v: &Value) -> Result<Kind, FuncError> {
    match kind(v) {
        Kind::Invalid | Kind::Other => Err(BAD_COMPARISON_TYPE.into()),
        k => Ok(k),
    }
}

fn lt(a: &Value, b: &Value) -> Result<bool, FuncError> {
    let (k1, k2) = (basic(a)?, basic(b)?);
    if k1 != k2 {
        return Err(incompatible(a, b));
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err(BAD_COMPARISON_TYPE.into()),
    }
}

fn le(a: &Value, b: &Value) -> Result<bool, FuncError> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

/// The text of `html`/`js`/`urlquery`'s arguments: a single string as is, else `fmt.Sprint`.
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    sprint(args)
}

/// Go's `template.HTMLEscapeString`.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub(crate) fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c if c.is_ascii() || !c.is_control() => out.push(c),
            c => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b' ' => out.push('+'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}
