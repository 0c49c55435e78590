//! Sprig's defaults, lists, dictionaries, math and type functions.

use std::collections::BTreeMap;

use super::{add, is_empty, strval, to_float64, to_int64, want_int, want_str};
use crate::helm::template::{Arity, FuncError, FuncMap, Value};

/// The items of a list argument; Sprig's error (naming the Go kind) for anything else.
pub(super) fn list_of(v: &Value, func: &str) -> Result<Vec<Value>, FuncError> {
    match v {
        Value::List(items) => Ok(items.to_vec()),
        Value::Missing | Value::Nil => Ok(Vec::new()),
        other => {
            let kind = kind_of(other);
            Err(FuncError::Message(match func {
                "append" => format!("Cannot push on type {kind}"),
                "prepend" | "compact" => format!("Cannot {func} on type {kind}"),
                "chunk" => format!("Cannot chunk type {kind}"),
                "concat" => format!("Cannot concat type {kind} as list"),
                _ => format!("Cannot find {func} on type {kind}"),
            }))
        }
    }
}

fn int_op(map: &mut FuncMap, name: &str, f: fn(i64, i64) -> Option<i64>) {
    let fname = name.to_owned();
    add(map, name, Arity::Exact(2), move |_, a| {
        f(to_int64(&a[0]), to_int64(&a[1]))
            .map(Value::Int)
            .ok_or_else(|| FuncError::Message(format!("runtime error: integer divide by zero in {fname}")))
    });
}

/// Sprig's `kindOf`: Go's reflect kind name.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Missing | Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "slice",
        Value::Map(_) => "map",
        Value::Object(_) => "ptr",
    }
}

pub(super) fn register(map: &mut FuncMap) {
    add(map, "default", Arity::AtLeast(1), |_, a| {
        Ok(match a.get(1) {
            Some(given) if !is_empty(given) => given.clone(),
            _ => a[0].clone(),
        })
    });
    add(map, "empty", Arity::Exact(1), |_, a| Ok(Value::Bool(is_empty(&a[0]))));
    add(map, "coalesce", Arity::AtLeast(0), |_, a| Ok(a.iter().find(|v| !is_empty(v)).cloned().unwrap_or(Value::Nil)));
    add(map, "ternary", Arity::Exact(3), |_, a| match &a[2] {
        Value::Bool(b) => Ok(if *b { a[0].clone() } else { a[1].clone() }),
        other => Err(FuncError::Arg(format!("wrong type for value; expected bool; got {}", other.type_name()))),
    });
    add(map, "list", Arity::AtLeast(0), |_, a| Ok(Value::list(a)));
    add(map, "dict", Arity::AtLeast(0), |_, a| {
        let mut m = BTreeMap::new();
        for pair in a.chunks(2) {
            let value = pair.get(1).cloned().unwrap_or(Value::string(""));
            m.insert(strval(&pair[0]), if value.is_nil() { Value::Nil } else { value });
        }
        Ok(Value::map(m))
    });
    add(map, "get", Arity::Exact(2), |_, a| {
        let key = want_str(&a[1])?;
        Ok(match &a[0] {
            Value::Map(m) => m.get(key).unwrap_or(Value::string("")),
            _ => Value::string(""),
        })
    });
    add(map, "hasKey", Arity::Exact(2), |_, a| {
        let key = want_str(&a[1])?;
        Ok(Value::Bool(matches!(&a[0], Value::Map(m) if m.contains_key(key))))
    });
    add(map, "keys", Arity::AtLeast(0), |_, a| {
        // Go ranges over maps in random order; Sprig's `keys` keeps that order. We sort, which is
        // one of the orders Go may produce (charts sort with `sortAlpha`).
        let mut keys = Vec::new();
        for m in &a {
            if let Value::Map(m) = m {
                keys.extend(m.read().keys().map(|k| Value::string(k.as_str())));
            }
        }
        Ok(Value::list(keys))
    });
    add(map, "pluck", Arity::AtLeast(1), |_, a| {
        let key = want_str(&a[0])?.to_owned();
        Ok(Value::list(a[1..].iter().filter_map(|m| if let Value::Map(m) = m { m.get(&key) } else { None }).collect()))
    });
    add(map, "sortAlpha", Arity::Exact(1), |_, a| {
        let mut items: Vec<String> = match &a[0] {
            Value::List(l) => l.iter().map(strval).collect(),
            other => vec![strval(other)],
        };
        items.sort();
        Ok(Value::list(items.into_iter().map(Value::from).collect()))
    });
    add(map, "first", Arity::Exact(1), |_, a| Ok(list_of(&a[0], "first")?.first().cloned().unwrap_or(Value::Nil)));
    add(map, "last", Arity::Exact(1), |_, a| Ok(list_of(&a[0], "last")?.last().cloned().unwrap_or(Value::Nil)));
    add(map, "rest", Arity::Exact(1), |_, a| Ok(Value::list(list_of(&a[0], "rest")?.into_iter().skip(1).collect())));
    add(map, "initial", Arity::Exact(1), |_, a| {
        let mut l = list_of(&a[0], "initial")?;
        l.pop();
        Ok(Value::list(l))
    });
    add(map, "reverse", Arity::Exact(1), |_, a| {
        let mut l = list_of(&a[0], "reverse")?;
        l.reverse();
        Ok(Value::list(l))
    });
    add(map, "append", Arity::Exact(2), |_, a| {
        let mut l = list_of(&a[0], "append")?;
        l.push(a[1].clone());
        Ok(Value::list(l))
    });
    map.insert("push".to_owned(), map["append"].clone());
    add(map, "prepend", Arity::Exact(2), |_, a| {
        let mut l = list_of(&a[0], "prepend")?;
        l.insert(0, a[1].clone());
        Ok(Value::list(l))
    });
    add(map, "concat", Arity::AtLeast(0), |_, a| {
        let mut out = Vec::new();
        for l in &a {
            out.extend(list_of(l, "concat")?);
        }
        Ok(Value::list(out))
    });
    add(map, "uniq", Arity::Exact(1), |_, a| {
        let mut out: Vec<Value> = Vec::new();
        for v in list_of(&a[0], "uniq")? {
            if !out.contains(&v) {
                out.push(v);
            }
        }
        Ok(Value::list(out))
    });
    add(map, "compact", Arity::Exact(1), |_, a| {
        Ok(Value::list(list_of(&a[0], "compact")?.into_iter().filter(|v| !is_empty(v)).collect()))
    });
    add(map, "has", Arity::Exact(2), |_, a| Ok(Value::Bool(list_of(&a[1], "has")?.contains(&a[0]))));
    add(map, "without", Arity::AtLeast(1), |_, a| {
        Ok(Value::list(list_of(&a[0], "without")?.into_iter().filter(|v| !a[1..].contains(v)).collect()))
    });
    // Sprig's `slice` (it replaces Go's built-in): integer-ish indexes, panics become errors.
    add(map, "slice", Arity::AtLeast(1), |_, a| {
        let items = match &a[0] {
            Value::List(items) => items,
            Value::Missing | Value::Nil => {
                return Err(FuncError::Message(
                    "runtime error: invalid memory address or nil pointer dereference".to_owned(),
                ));
            }
            other => {
                return Err(FuncError::Message(format!(
                    "list should be type of slice or array but {}",
                    kind_of(other)
                )));
            }
        };
        if items.is_empty() {
            return Ok(Value::Nil);
        }
        let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let start = a.get(1).map_or(0, to_int64);
        let end = a.get(2).map_or(len, to_int64);
        match (usize::try_from(start), usize::try_from(end)) {
            (Ok(s), Ok(e)) if s <= e && e <= items.len() => Ok(Value::list(items[s..e].to_vec())),
            _ => Err(FuncError::Message("reflect.Value.Slice: slice index out of bounds".to_owned())),
        }
    });
    add(map, "until", Arity::Exact(1), |_, a| {
        let n = want_int(&a[0])?;
        let step = if n < 0 { -1 } else { 1 };
        Ok(Value::list(
            std::iter::successors(Some(0_i64), |i| Some(i + step))
                .take_while(|i| *i != n)
                .take(1 << 20)
                .map(Value::Int)
                .collect(),
        ))
    });
    add(map, "add", Arity::AtLeast(0), |_, a| Ok(Value::Int(a.iter().map(to_int64).fold(0_i64, i64::wrapping_add))));
    add(map, "add1", Arity::Exact(1), |_, a| Ok(Value::Int(to_int64(&a[0]).wrapping_add(1))));
    add(map, "mul", Arity::AtLeast(1), |_, a| Ok(Value::Int(a.iter().map(to_int64).fold(1_i64, i64::wrapping_mul))));
    int_op(map, "sub", |x, y| Some(x.wrapping_sub(y)));
    int_op(map, "div", i64::checked_div);
    int_op(map, "mod", i64::checked_rem);
    add(map, "max", Arity::AtLeast(1), |_, a| Ok(Value::Int(a.iter().map(to_int64).max().unwrap_or(0))));
    add(map, "min", Arity::AtLeast(1), |_, a| Ok(Value::Int(a.iter().map(to_int64).min().unwrap_or(0))));
    add(map, "int", Arity::Exact(1), |_, a| Ok(Value::Int(to_int64(&a[0]))));
    add(map, "int64", Arity::Exact(1), |_, a| Ok(Value::Int(to_int64(&a[0]))));
    add(map, "float64", Arity::Exact(1), |_, a| Ok(Value::Float(to_float64(&a[0]))));
    add(map, "atoi", Arity::Exact(1), |_, a| Ok(Value::Int(want_str(&a[0])?.parse().unwrap_or(0))));
    add(map, "floor", Arity::Exact(1), |_, a| Ok(Value::Float(to_float64(&a[0]).floor())));
    add(map, "ceil", Arity::Exact(1), |_, a| Ok(Value::Float(to_float64(&a[0]).ceil())));
    add(map, "kindOf", Arity::Exact(1), |_, a| Ok(Value::from(kind_of(&a[0]))));
    add(map, "kindIs", Arity::Exact(2), |_, a| Ok(Value::Bool(want_str(&a[0])? == kind_of(&a[1]))));
    add(map, "typeOf", Arity::Exact(1), |_, a| Ok(Value::from(a[0].type_name())));
    add(map, "deepCopy", Arity::Exact(1), |_, a| Ok(a[0].deep_copy()));
}
