//! Legacy `vars`: `$(NAME)` references in the configured fields, resolved at the end of a build.
//!
//! As in Kustomize v5.8 (`ResAccumulator.ResolveVars` and `filters/refvar`):
//!
//! - Each var names one object (`objref`: group/version — or `apiVersion` — kind and name,
//!   compared exactly, and the namespace when given) by its current or any earlier id, and a field
//!   of it (`fieldref.fieldPath`, default `metadata.name`, `ports[0]` index syntax accepted). An
//!   objref that names no object, or a field that is missing, is an error.
//! - Every string in the fields the configuration's `varReference` lists is scanned: `$(NAME)`
//!   of a known var becomes its value, `$$` becomes `$`, anything else stays as written. A field
//!   that is exactly `$(NAME)` takes the value with its type (`$(PORT)` → `5432`, a number);
//!   inside a longer string the value is printed as Go prints it. Sequences there must hold only
//!   strings. A var whose value is a mapping or sequence is never substituted.
//!
//! Kustomize binds each var to its object when the kustomization declaring it is accumulated;
//! here the binding is made at the end, against every id an object has had, which finds the same
//! object unless a later layer adds another object with an id the var also names.

use std::collections::HashMap;

use gitops_core::yaml::format_float;
use serde_json::{Number, Value};

use super::config::TransformerConfig;
use super::fieldspec;
use super::replacements::{at, ids, lookup, split_field_path, split_legacy_indices};
use super::resource::{ResId, ResMap};
use super::types::Var;

/// A var's value, typed as Kustomize's `GetFieldValue` types it.
#[derive(Debug, Clone, PartialEq)]
enum VarValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A mapping or sequence: Kustomize leaves `$(NAME)` in place.
    Unusable,
}

impl VarValue {
    /// As `fmt.Sprintf("%v")` prints it inside a longer string.
    fn display(&self) -> Option<String> {
        match self {
            VarValue::Str(s) => Some(s.clone()),
            VarValue::Int(i) => Some(i.to_string()),
            VarValue::Float(f) => Some(format_float(*f)),
            VarValue::Bool(b) => Some(b.to_string()),
            VarValue::Unusable => None,
        }
    }

    /// As a whole field: typed, or the text when the field is an annotation (Kustomize prints
    /// annotation values as strings).
    fn whole(&self, as_string: bool) -> Option<Value> {
        let value = match self {
            VarValue::Str(s) => Value::String(s.clone()),
            VarValue::Int(i) if as_string => Value::String(i.to_string()),
            VarValue::Int(i) => Value::Number((*i).into()),
            VarValue::Float(f) if as_string => Value::String(format!("{f}")),
            VarValue::Float(f) => Number::from_f64(*f).map_or_else(|| Value::String(format!("{f}")), Value::Number),
            VarValue::Bool(b) if as_string => Value::String(b.to_string()),
            VarValue::Bool(b) => Value::Bool(*b),
            VarValue::Unusable => return None,
        };
        Some(value)
    }
}

/// Resolves every var in the configured fields.
pub(crate) fn resolve(resources: &mut ResMap, vars: &[Var], config: &TransformerConfig) -> Result<(), String> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut sorted: Vec<&Var> = vars.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut values = HashMap::with_capacity(sorted.len());
    for var in sorted {
        values.insert(var.name.as_str(), value_of(resources, var)?);
    }
    for resource in &mut resources.resources {
        let id = resource.cur_id();
        for spec in config.var_reference.iter().filter(|spec| fieldspec::selects(spec, &id)) {
            let annotations = spec.path == "metadata/annotations";
            fieldspec::apply(&mut resource.map, spec, None, &mut |node| substitute(node, &values, annotations))
                .map_err(|e| format!("resolving vars in {id}: {e}"))?;
        }
    }
    Ok(())
}

/// The objref's group and version, from `apiVersion` when it is set.
fn group_version(var: &Var) -> (String, String) {
    let objref = &var.objref;
    let mut group = objref.group.clone().unwrap_or_default();
    let mut version = objref.version.clone().unwrap_or_default();
    if let Some(api_version) = objref.api_version.as_deref().filter(|a| !a.is_empty()) {
        match api_version.split('/').collect::<Vec<_>>().as_slice() {
            [g, v] => ((*g).clone_into(&mut group), (*v).clone_into(&mut version)),
            [v] => ((), (*v).clone_into(&mut version)),
            _ => ((), ()),
        };
    }
    (group, version)
}

fn field_path(var: &Var) -> &str {
    var.fieldref.as_ref().and_then(|f| f.field_path.as_deref()).filter(|p| !p.is_empty()).unwrap_or("metadata.name")
}

/// The var as Kustomize prints it in messages: `{NAME Kind.Version.Group {field.path}}`.
fn display(var: &Var) -> String {
    let (group, version) = group_version(var);
    let or = |value: &str, missing: &'static str| if value.is_empty() { missing.to_owned() } else { value.to_owned() };
    format!(
        "{{{} {}.{}.{} {{{}}}}}",
        var.name,
        or(var.objref.kind.as_deref().unwrap_or_default(), "[noKind]"),
        or(&version, "[noVer]"),
        or(&group, "[noGrp]"),
        field_path(var)
    )
}

/// Finds the var's object and reads its field.
fn value_of(resources: &ResMap, var: &Var) -> Result<VarValue, String> {
    let (group, version) = group_version(var);
    let kind = var.objref.kind.as_deref().unwrap_or_default();
    let namespace = var.objref.namespace.as_deref().unwrap_or_default();
    let effective = |ns: &str| if ns.is_empty() { "default".to_owned() } else { ns.to_owned() };
    let names = |id: &ResId, current: bool| {
        id.group == group
            && id.version == version
            && id.kind == kind
            && id.name == var.objref.name
            && (namespace.is_empty()
                || (!(current && id.is_cluster_scoped()) && effective(&id.namespace) == effective(namespace)))
    };
    let matched: Vec<_> =
        resources.resources.iter().filter(|r| ids(r).iter().enumerate().any(|(i, id)| names(id, i == 0))).collect();
    let resource = match matched.as_slice() {
        [one] => *one,
        [] => return Err(format!("var '{}' cannot be mapped to a field in the set of known resources", display(var))),
        more => {
            return Err(format!(
                "found {} resId matches for var {} (unable to disambiguate)",
                more.len(),
                display(var)
            ));
        }
    };
    let not_found = || format!("field specified in var '{}' not found in corresponding resource", display(var));
    let root = Value::Object(resource.map.clone());
    let path = split_legacy_indices(split_field_path(field_path(var)));
    let steps = lookup(&root, &path).map_err(|_| not_found())?.ok_or_else(not_found)?;
    Ok(match at(&root, &steps).ok_or_else(not_found)? {
        Value::String(s) => VarValue::Str(s.clone()),
        Value::Number(n) if n.is_f64() => VarValue::Float(n.as_f64().ok_or_else(not_found)?),
        Value::Number(n) => VarValue::Int(n.as_i64().ok_or_else(not_found)?),
        Value::Bool(b) => VarValue::Bool(*b),
        Value::Null => VarValue::Str("null".to_owned()),
        Value::Object(_) | Value::Array(_) => VarValue::Unusable,
    })
}

/// Kustomize's refvar filter on one field: a string, the string values of a mapping, or a
/// sequence of strings.
fn substitute(node: &mut Value, values: &HashMap<&str, VarValue>, annotations: bool) -> Result<(), String> {
    match node {
        Value::String(s) => {
            let expanded = expand(s, values, false);
            *node = expanded;
        }
        Value::Object(map) => {
            for value in map.values_mut() {
                if let Value::String(s) = value {
                    let expanded = expand(s, values, annotations);
                    *value = expanded;
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                let Value::String(s) = item else { return Err("invalid value type expect a string".into()) };
                let expanded = expand(s, values, false);
                *item = expanded;
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// What a `$` starts (kyaml's `tryReadVariableName`), and how many bytes after the `$` it takes.
enum Dollar<'a> {
    /// `$$`: a `$`.
    Escaped,
    /// `$(NAME)`.
    Reference(&'a str),
    /// Anything else, kept as written.
    Literal(&'a str),
}

/// Reads what follows the `$` that `text` starts with (there is at least one more character).
fn read_dollar(text: &str) -> (Dollar<'_>, usize) {
    let rest = &text[1..];
    if rest.starts_with('$') {
        return (Dollar::Escaped, 1);
    }
    if rest.starts_with('(') {
        return match rest.find(')') {
            Some(close) => (Dollar::Reference(&rest[1..close]), close + 1),
            None => (Dollar::Literal(&text[..2]), 1),
        };
    }
    let width = rest.chars().next().map_or(1, char::len_utf8);
    (Dollar::Literal(&text[..=width]), width)
}

/// Kustomize's `DoReplacements`: `$(NAME)` → the var's value, `$$` → `$`, the rest as written.
/// A string that is exactly one `$(NAME)` becomes the typed value.
fn expand(input: &str, values: &HashMap<&str, VarValue>, as_string: bool) -> Value {
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let (mut checkpoint, mut cursor) = (0, 0);
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.push_str(&input[checkpoint..cursor]);
            let (dollar, advance) = read_dollar(&input[cursor..]);
            match dollar {
                Dollar::Escaped => out.push('$'),
                Dollar::Literal(text) => out.push_str(text),
                Dollar::Reference(name) => {
                    let value = values.get(name);
                    if input.len() == name.len() + 3 {
                        return value
                            .and_then(|v| v.whole(as_string))
                            .unwrap_or_else(|| Value::String(input.to_owned()));
                    }
                    if let Some(text) = value.and_then(VarValue::display) {
                        out.push_str(&text);
                    } else {
                        out.push_str(&input[cursor..=cursor + advance]);
                    }
                }
            }
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.push_str(&input[checkpoint..]);
    Value::String(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values() -> HashMap<&'static str, VarValue> {
        [
            ("DB", VarValue::Str("db".into())),
            ("PORT", VarValue::Int(5432)),
            ("W", VarValue::Float(1.5)),
            ("MAP", VarValue::Unusable),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn expands_like_kustomize() {
        let v = values();
        for (input, expected) in [
            ("--db=$(DB):$(PORT)", json!("--db=db:5432")),
            ("$(PORT)", json!(5432)),
            ("$(W)", json!(1.5)),
            ("$(UNDEFINED)", json!("$(UNDEFINED)")),
            ("$$(DB)", json!("$(DB)")),
            ("a$b$$c$(d", json!("a$b$c$(d")),
            ("x$(MAP)y", json!("x$(MAP)y")),
            ("$(MAP)", json!("$(MAP)")),
            ("end$", json!("end$")),
            ("é$é$(DB)", json!("é$édb")),
        ] {
            assert_eq!(expand(input, &v, false), expected, "{input}");
        }
        assert_eq!(expand("$(PORT)", &v, true), json!("5432"));
    }

    #[test]
    fn sequences_must_hold_strings() {
        let v = values();
        let mut args = json!(["$(DB)", 1]);
        assert!(substitute(&mut args, &v, false).is_err());
        let mut labels = json!({"a": "$(PORT)", "b": 2});
        substitute(&mut labels, &v, false).expect("map");
        assert_eq!(labels, json!({"a": 5432, "b": 2}));
    }

    #[test]
    fn vars_print_as_kustomize() {
        let var: Var = serde_json::from_value(
            json!({"name": "GHOST", "objref": {"kind": "Service", "name": "ghost", "apiVersion": "v1"}}),
        )
        .expect("var");
        assert_eq!(display(&var), "{GHOST Service.v1.[noGrp] {metadata.name}}");
    }
}
