//! The functions Helm gives templates: Sprig's (`sprig.TxtFuncMap()` without `env` and
//! `expandenv`) and Helm's own (`include`, `tpl`, `required`, `toYaml`, ...).
//!
//! Only part of Sprig exists so far; `docs/helm.md` lists what is there. Arguments are checked
//! as Go's reflection-based calls check them: a function with an `int` parameter refuses a
//! `float64` value with Go's "wrong type for value" error.
//!
//! ```
//! use gitops_render::helm::funcs::helm_funcs;
//! use gitops_render::helm::template::{Templates, Value};
//!
//! let mut set = Templates::new().with_funcs(helm_funcs());
//! set.parse("t", r#"{{ "app" | upper | quote }}: {{ list 1 2.5 | toJson }} {{ indent 2 "x" }}"#)?;
//! assert_eq!(set.execute("t", &Value::Missing)?, r#""APP": [1,2.5]   x"#);
//! # Ok::<(), gitops_render::helm::template::TemplateError>(())
//! ```

mod convert;
mod crypto;
mod data;
mod dates;
mod dicts;
mod golang_time;
mod more;
mod random;
mod strings;
mod toml;
mod versions;

use super::template::{Arity, Call, Func, FuncError, FuncMap, Param, Value};

pub use convert::{to_go_json, to_json_value, to_yaml};

/// The markers Helm puts around `required` and `fail` messages, so the engine can show the
/// message alone (`helm::cleanup_exec_error`).
pub(crate) const ERR_START: &str = "HELM_ERR_START";
/// See [`ERR_START`].
pub(crate) const ERR_END: &str = "HELM_ERR_END";

/// Go's `fmt.Sprintf("%v")` of one value, as Sprig's `strval`/`toString` print it.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Missing | Value::Nil => "<nil>".to_owned(),
        other => other.to_go_string(),
    }
}

/// An argument that must be a Go `string` (Go's reflective call rules).
pub(crate) fn want_str(v: &Value) -> Result<&str, FuncError> {
    match v {
        Value::String(s) => Ok(s),
        Value::Missing | Value::Nil => Err(FuncError::Arg("invalid value; expected string".to_owned())),
        other => Err(FuncError::Arg(format!("wrong type for value; expected string; got {}", other.type_name()))),
    }
}

/// An argument that must be a Go `int`.
pub(crate) fn want_int(v: &Value) -> Result<i64, FuncError> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Missing | Value::Nil => Err(FuncError::Arg("invalid value; expected int".to_owned())),
        other => Err(FuncError::Arg(format!("wrong type for value; expected int; got {}", other.type_name()))),
    }
}

/// Sprig's `toInt64` (spf13/cast): numbers truncate, strings parse (else 0), booleans are 0/1.
pub(crate) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        #[allow(clippy::cast_possible_truncation)]
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(s.trim()).unwrap_or(0),
        _ => 0,
    }
}

/// `strconv.ParseInt(s, 0, 0)`: decimal, `0x`, `0o`/`0`, `0b`, with a sign and underscores.
fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let v = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if lower.len() > 1 && lower.starts_with('0') {
        i64::from_str_radix(&lower[1..], 8).ok()?
    } else {
        lower.parse().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Sprig's `toFloat64`.
pub(crate) fn to_float64(v: &Value) -> f64 {
    match v {
        #[allow(clippy::cast_precision_loss)]
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Sprig's `empty`: nil, false, 0, and empty strings, lists and maps.
pub(crate) fn is_empty(v: &Value) -> bool {
    !v.is_true()
}

/// Adds a function.
fn add(
    map: &mut FuncMap,
    name: &str,
    arity: Arity,
    f: impl Fn(&mut Call<'_, '_>, Vec<Value>) -> Result<Value, FuncError> + Send + Sync + 'static,
) {
    map.insert(name.to_owned(), Func::new(arity, f));
}

/// Declares the Go parameter types of the named functions.
fn typed(map: &mut FuncMap, names: &[&str], params: &[Param]) {
    for name in names {
        if let Some(f) = map.remove(*name) {
            map.insert((*name).to_owned(), f.params(params));
        }
    }
}

/// Every function Helm defines that exists here, except `include` and `tpl`, which the chart
/// renderer adds because they need its template set and limits.
#[must_use]
pub fn helm_funcs() -> FuncMap {
    use Param::{Any, Bool, Int, Str};
    let mut map = FuncMap::new();
    strings::register(&mut map);
    data::register(&mut map);
    dicts::register(&mut map);
    more::register(&mut map);
    versions::register(&mut map);
    dates::register(&mut map);
    random::register(&mut map);
    crypto::register(&mut map);
    toml::register(&mut map);
    convert::register(&mut map);
    typed(&mut map, &["upper", "lower", "title", "trim", "nospace", "b64enc", "b64dec", "sha256sum", "atoi"], &[Str]);
    typed(&mut map, &["fromYaml", "fromYamlArray", "fromJson", "fromJsonArray", "fromToml", "fail"], &[Str]);
    typed(
        &mut map,
        &[
            "trimAll",
            "trimPrefix",
            "trimSuffix",
            "contains",
            "hasPrefix",
            "hasSuffix",
            "regexMatch",
            "regexFind",
            "split",
            "splitList",
        ],
        &[Str, Str],
    );
    typed(&mut map, &["replace", "regexReplaceAll", "regexReplaceAllLiteral"], &[Str, Str, Str]);
    typed(&mut map, &["repeat", "indent", "nindent", "trunc"], &[Int, Str]);
    typed(&mut map, &["substr"], &[Int, Int, Str]);
    typed(&mut map, &["abbrev"], &[Int, Str]);
    typed(&mut map, &["plural"], &[Str, Str, Int]);
    typed(&mut map, &["join", "pluck", "kindIs", "required"], &[Str, Any]);
    typed(&mut map, &["ternary"], &[Any, Any, Bool]);
    typed(&mut map, &["until"], &[Int]);
    typed(&mut map, &["get", "hasKey"], &[Any, Str]);
    typed(&mut map, &["set"], &[Param::Map, Str, Any]);
    typed(&mut map, &["unset"], &[Param::Map, Str]);
    typed(&mut map, &["pick", "omit"], &[Param::Map, Str]);
    typed(&mut map, &["merge", "mergeOverwrite", "mustMerge", "mustMergeOverwrite", "values"], &[Param::Map]);
    typed(&mut map, &["lookup"], &[Str, Str, Str, Str]);
    typed(
        &mut map,
        &[
            "camelcase",
            "snakecase",
            "kebabcase",
            "swapcase",
            "untitle",
            "initials",
            "base",
            "dir",
            "clean",
            "ext",
            "isAbs",
            "osBase",
            "osDir",
            "osClean",
            "osExt",
            "osIsAbs",
            "sha1sum",
            "sha512sum",
            "adler32sum",
            "regexQuoteMeta",
        ],
        &[Str],
    );
    typed(&mut map, &["wrap"], &[Int, Str]);
    typed(&mut map, &["wrapWith"], &[Int, Str, Str]);
    typed(&mut map, &["trimall", "semverCompare"], &[Str, Str]);
    typed(&mut map, &["semver", "shuffle"], &[Str]);
    typed(&mut map, &["randAlphaNum", "randAlpha", "randNumeric", "randAscii", "randBytes"], &[Int]);
    typed(&mut map, &["date", "toDate", "mustToDate", "dateModify", "mustDateModify", "date_modify"], &[Str, Any]);
    typed(&mut map, &["dateInZone", "date_in_zone"], &[Str, Any, Str]);
    typed(&mut map, &["htmlDateInZone"], &[Any, Str]);
    typed(&mut map, &["splitn"], &[Str, Int, Str]);
    typed(&mut map, &["untilStep"], &[Int, Int, Int]);
    typed(&mut map, &["seq"], &[Int]);
    typed(&mut map, &["chunk"], &[Int, Any]);
    typed(&mut map, &["round"], &[Any, Int, Any]);
    typed(&mut map, &["typeIs", "typeIsLike"], &[Str, Any]);
    typed(&mut map, &["regexFindAll", "regexSplit"], &[Str, Str, Int]);
    more::add_must_twins(&mut map);
    map
}

/// Helm's `include`: executes the named template with the given data and returns its text.
/// `root` is the name of Helm's root template (`gotpl`), which Go's error for an undefined
/// template names. Errors of the included template are wrapped as Go wraps a function's error.
#[must_use]
pub fn include_func(root: &'static str) -> Func {
    Func::new(Arity::Exact(2), move |call, args| {
        let name = want_str(&args[0])?.to_owned();
        if !call.templates().has_template(&name) {
            return Err(FuncError::Message(format!(
                "template: no template {} associated with template {}",
                super::template::sprintf("%q", &[Value::from(name.as_str())]),
                super::template::sprintf("%q", &[Value::from(root)])
            )));
        }
        match call.execute_template(&name, args[1].clone()) {
            Ok(out) => Ok(Value::from(out)),
            Err(FuncError::Template(e)) => Err(FuncError::Message(e.to_string())),
            Err(other) => Err(other),
        }
    })
    .params(&[Param::Str, Param::Any])
}

/// Helm's `tpl`: parses a string as a template (named `name`, Helm's root template name) in a
/// copy of the current set, executes it, and removes `<no value>` as Helm does.
#[must_use]
pub fn tpl_func(name: &'static str) -> Func {
    Func::new(Arity::Exact(2), move |call, args| {
        let text = want_str(&args[0])?.to_owned();
        let quoted = super::template::sprintf("%q", &[Value::from(text.as_str())]);
        match call.execute_text(name, &text, args[1].clone()) {
            Ok(out) => Ok(Value::from(out.replace("<no value>", ""))),
            Err(FuncError::Template(e @ super::template::TemplateError::Parse { .. })) => {
                Err(FuncError::Message(format!("cannot parse template {quoted}: {e}")))
            }
            Err(FuncError::Template(e)) => {
                Err(FuncError::Message(format!("error during tpl function execution for {quoted}: {e}")))
            }
            Err(other) => Err(other),
        }
    })
    .params(&[Param::Str, Param::Any])
}
