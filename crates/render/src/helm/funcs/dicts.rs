//! Sprig's dictionary functions that mutate or copy maps: `set`, `unset`, `merge`,
//! `mergeOverwrite` (mergo's rules), `pick`, `omit`, `dig`, `values`, `deepEqual`.
//!
//! A [`Value::Map`] is a reference, as a Go map is: `$_ := set .Values "x" 1` changes the map
//! that `.Values` names everywhere.

use std::collections::BTreeMap;

use super::{add, is_empty, strval};
use crate::helm::template::{Arity, FuncError, FuncMap, Map, Value};

/// The map behind a `map[string]interface{}` parameter; `None` for a nil map.
fn map_arg(v: &Value) -> Option<&Map> {
    match v {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

fn nil_map_assignment() -> FuncError {
    FuncError::Message("assignment to entry in nil map".to_owned())
}

/// mergo's `Merge(&dst, src)` (`overwrite` = `WithOverride`) for `map[string]interface{}`:
/// missing or empty entries of `dst` are filled from `src`; with `overwrite`, `src` wins except
/// where both hold maps, which merge recursively (changing `dst`'s nested maps in place).
pub(crate) fn merge_into(dst: &Map, src: &Map, overwrite: bool, depth: usize) {
    if depth >= crate::helm::template::MAX_DEPTH || dst.ptr_eq(src) {
        return;
    }
    for (key, sv) in src.entries() {
        if sv.is_nil() {
            if overwrite {
                dst.insert(key, Value::Nil);
            }
            continue;
        }
        let dv = dst.get(&key);
        if let (Value::Map(s), Some(Value::Map(d))) = (&sv, &dv) {
            merge_into(d, s, overwrite, depth + 1);
        }
        let dst_full = dv.as_ref().is_some_and(|d| !is_empty(d));
        if dst_full {
            match (&sv, &dv) {
                (Value::List(_), _) => {
                    if overwrite {
                        dst.insert(key, sv);
                    }
                    continue;
                }
                (Value::Map(_), Some(Value::Map(_))) => continue,
                _ => {}
            }
        }
        if overwrite || !dst_full {
            dst.insert(key, sv);
        }
    }
}

fn merge_func(map: &mut FuncMap, name: &str, overwrite: bool, must: bool) {
    add(map, name, Arity::AtLeast(1), move |_, a| {
        let Some(dst) = map_arg(&a[0]) else {
            // mergo refuses a nil destination; Sprig's `merge` swallows errors as "".
            return if must {
                Err(FuncError::Message("src and dst must be of same type".to_owned()))
            } else {
                Ok(Value::string(""))
            };
        };
        for src in &a[1..] {
            if let Some(src) = map_arg(src) {
                merge_into(dst, src, overwrite, 0);
            }
        }
        Ok(a[0].clone())
    });
}

/// Sprig's `dig`: follows `keys` through nested maps, or gives the default.
fn dig(keys: &[Value], default: &Value, dict: &Value) -> Result<Value, FuncError> {
    let mut current = dict.clone();
    for (i, key) in keys.iter().enumerate() {
        let Value::String(key) = key else {
            return Err(FuncError::Message(format!(
                "interface conversion: interface {{}} is {}, not string",
                key.type_name()
            )));
        };
        let Value::Map(m) = &current else {
            return Err(FuncError::Message(format!(
                "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                if current.is_nil() { "nil" } else { current.type_name() }
            )));
        };
        match m.get(key) {
            None => return Ok(default.clone()),
            Some(step) if i + 1 == keys.len() => return Ok(step),
            Some(step) => current = step,
        }
    }
    Ok(current)
}

pub(super) fn register(map: &mut FuncMap) {
    add(map, "set", Arity::Exact(3), |_, a| {
        let m = map_arg(&a[0]).ok_or_else(nil_map_assignment)?;
        m.insert(strval(&a[1]), a[2].clone());
        Ok(a[0].clone())
    });
    add(map, "unset", Arity::Exact(2), |_, a| {
        if let Some(m) = map_arg(&a[0]) {
            m.remove(&strval(&a[1]));
        }
        Ok(a[0].clone())
    });
    merge_func(map, "merge", false, false);
    merge_func(map, "mustMerge", false, true);
    merge_func(map, "mergeOverwrite", true, false);
    merge_func(map, "mustMergeOverwrite", true, true);
    add(map, "pick", Arity::AtLeast(1), |_, a| {
        let mut out = BTreeMap::new();
        if let Some(m) = map_arg(&a[0]) {
            let entries = m.read();
            for key in &a[1..] {
                let key = strval(key);
                if let Some(v) = entries.get(&key) {
                    out.insert(key, v.clone());
                }
            }
        }
        Ok(Value::map(out))
    });
    add(map, "omit", Arity::AtLeast(1), |_, a| {
        let drop: Vec<String> = a[1..].iter().map(strval).collect();
        let out = map_arg(&a[0]).map(|m| m.entries().into_iter().filter(|(k, _)| !drop.contains(k)).collect());
        Ok(Value::map(out.unwrap_or_default()))
    });
    add(map, "dig", Arity::AtLeast(0), |_, a| {
        if a.len() < 3 {
            return Err(FuncError::Message("dig needs at least three arguments".to_owned()));
        }
        let dict = &a[a.len() - 1];
        if !matches!(dict, Value::Map(_)) {
            return Err(FuncError::Message(format!(
                "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                if dict.is_nil() { "nil" } else { dict.type_name() }
            )));
        }
        dig(&a[..a.len() - 2], &a[a.len() - 2], dict)
    });
    add(map, "values", Arity::Exact(1), |_, a| {
        // Go gives a map's values in random order; key order is one of those orders.
        Ok(Value::list(map_arg(&a[0]).map(|m| m.read().values().cloned().collect()).unwrap_or_default()))
    });
    add(map, "deepEqual", Arity::Exact(2), |_, a| Ok(Value::Bool(a[0] == a[1])));
    add(map, "mustDeepCopy", Arity::Exact(1), |_, a| {
        if a[0].is_nil() {
            return Err(FuncError::Message("copy: cannot copy nil".to_owned()));
        }
        Ok(a[0].deep_copy())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(json: &serde_json::Value) -> Map {
        match Value::from_json(json) {
            Value::Map(m) => m,
            _ => Map::default(),
        }
    }

    #[test]
    fn merge_fills_and_overwrite_replaces_as_mergo_does() {
        let dst = m(&serde_json::json!({"a": 1, "e": "", "n": {"x": 1}, "l": [1]}));
        merge_into(&dst, &m(&serde_json::json!({"a": 2, "e": "s", "b": 3, "n": {"x": 2, "y": 2}, "l": [2]})), false, 0);
        assert_eq!(Value::Map(dst).to_go_string(), "map[a:1 b:3 e:s l:[1] n:map[x:1 y:2]]");
        let dst = m(&serde_json::json!({"a": 1, "n": {"x": 1}, "l": [1], "z": 1}));
        merge_into(&dst, &m(&serde_json::json!({"a": 2, "n": {"y": 2}, "l": [2], "z": null})), true, 0);
        assert_eq!(Value::Map(dst).to_go_string(), "map[a:2 l:[2] n:map[x:1 y:2] z:<nil>]");
    }

    #[test]
    fn merge_changes_nested_maps_in_place() {
        let inner = m(&serde_json::json!({"x": 1}));
        let dst = Map::default();
        dst.insert("n".to_owned(), Value::Map(inner.clone()));
        merge_into(&dst, &m(&serde_json::json!({"n": {"y": 2}})), false, 0);
        assert_eq!(Value::Map(inner).to_go_string(), "map[x:1 y:2]");
        // A map merged into itself is left alone.
        merge_into(&dst, &dst.clone(), true, 0);
    }
}
