//! Values: reading values files, merging the user's values in Helm's order, and coalescing them
//! with chart defaults exactly as Helm's `chartutil.CoalesceValues` does.
//!
//! Values are kept as JSON maps while they are merged. Numbers read from files and
//! `--set-json` are `float64` (stored as JSON floats), as Go decodes them; integers typed by
//! `--set` stay integers (`int64`). [`to_value`] turns them into template values.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use gitops_core::yaml::{ReadOptions, Schema, parse_documents};
use serde_json::{Map, Value as Json};

use super::error::ChartError;
use super::load::Chart;
use super::strvals::{self, Mode};
use crate::helm::template::{Value, sprintf};

/// Reads a file named by `--set-file` (Helm reads it from the local disk or a URL).
pub type FileReader = Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

/// The user's values, as `helm template` takes them. Whatever order the flags came in, Helm
/// merges values files first (in order, later files winning), then `--set-json`, `--set`,
/// `--set-string` and `--set-file`.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ValueOptions {
    /// `-f`/`--values`: (name for messages, contents).
    pub files: Vec<(String, String)>,
    /// `--set-json`.
    pub set_json: Vec<String>,
    /// `--set`.
    pub set: Vec<String>,
    /// `--set-string`.
    pub set_string: Vec<String>,
    /// `--set-file`.
    pub set_file: Vec<String>,
    /// How `--set-file` reads files; without one, `--set-file` is an error.
    pub file_reader: Option<FileReader>,
}

impl fmt::Debug for ValueOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueOptions")
            .field("files", &self.files.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .field("set_json", &self.set_json)
            .field("set", &self.set)
            .field("set_string", &self.set_string)
            .field("set_file", &self.set_file)
            .finish_non_exhaustive()
    }
}

impl ValueOptions {
    /// Adds a values file (`-f`), by name and contents.
    #[must_use]
    pub fn file(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.files.push((name.into(), text.into()));
        self
    }

    /// Adds a `--set` expression.
    #[must_use]
    pub fn set(mut self, expr: impl Into<String>) -> Self {
        self.set.push(expr.into());
        self
    }

    /// Adds a `--set-string` expression.
    #[must_use]
    pub fn set_string(mut self, expr: impl Into<String>) -> Self {
        self.set_string.push(expr.into());
        self
    }

    /// Adds a `--set-json` expression.
    #[must_use]
    pub fn set_json(mut self, expr: impl Into<String>) -> Self {
        self.set_json.push(expr.into());
        self
    }

    /// Adds a `--set-file` expression.
    #[must_use]
    pub fn set_file(mut self, expr: impl Into<String>) -> Self {
        self.set_file.push(expr.into());
        self
    }

    /// Sets how `--set-file` reads files.
    #[must_use]
    pub fn file_reader(mut self, reader: FileReader) -> Self {
        self.file_reader = Some(reader);
        self
    }

    /// Merges everything into one map, as Helm's `values.Options.MergeValues`.
    ///
    /// # Errors
    ///
    /// [`ChartError::Values`] with Helm's message (`failed parsing --set data: ...`).
    pub fn merge(&self) -> Result<Map<String, Json>, ChartError> {
        let mut base = Map::new();
        for (name, text) in &self.files {
            let current = load_values(text, name).map_err(|e| match e {
                ChartError::Invalid { message, .. } => ChartError::Values(format!("failed to parse {name}: {message}")),
                other => other,
            })?;
            base = merge_maps(base, current);
        }
        for value in &self.set_json {
            let trimmed = value.trim();
            if trimmed.starts_with('{') {
                let mut json: Json = serde_json::from_str(trimmed)
                    .map_err(|_| ChartError::Values(format!("failed parsing --set-json data JSON: {value}")))?;
                floats(&mut json);
                let Json::Object(map) = json else {
                    return Err(ChartError::Values(format!("failed parsing --set-json data JSON: {value}")));
                };
                base = merge_maps(base, map);
            } else {
                strvals::parse_into(value, &mut base, &mut Mode::Json)
                    .map_err(|_| ChartError::Values(format!("failed parsing --set-json data {value}")))?;
            }
        }
        for value in &self.set {
            strvals::parse_into(value, &mut base, &mut Mode::Typed)
                .map_err(|e| ChartError::Values(format!("failed parsing --set data: {e}")))?;
        }
        for value in &self.set_string {
            strvals::parse_into(value, &mut base, &mut Mode::String)
                .map_err(|e| ChartError::Values(format!("failed parsing --set-string data: {e}")))?;
        }
        for value in &self.set_file {
            let Some(reader) = &self.file_reader else {
                return Err(ChartError::Values(format!("failed parsing --set-file data: no file reader for {value}")));
            };
            let mut read = |p: &str| reader(p);
            strvals::parse_into(value, &mut base, &mut Mode::File(&mut read))
                .map_err(|e| ChartError::Values(format!("failed parsing --set-file data: {e}")))?;
        }
        Ok(base)
    }
}

/// How Helm reads YAML: go-yaml v2 rules (YAML 1.1 booleans such as `yes`, `on`).
pub(crate) fn read_options() -> ReadOptions {
    ReadOptions::default().schema(Schema::Kubectl)
}

/// Reads a values file as Helm's `loader.LoadValues`: every document is a map, merged in
/// order; numbers become `float64`.
pub(crate) fn load_values(text: &str, path: &str) -> Result<Map<String, Json>, ChartError> {
    let docs = parse_documents(text, &read_options())
        .map_err(|e| ChartError::invalid(path, format!("cannot unmarshal yaml document: {}", go_yaml_error(&e))))?;
    let mut values = Map::new();
    for doc in docs {
        match doc.value {
            Json::Null => {}
            Json::Object(mut map) => {
                map.values_mut().for_each(floats);
                values = merge_maps(values, map);
            }
            other => {
                return Err(ChartError::invalid(
                    path,
                    format!(
                        "cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                        json_kind(&other)
                    ),
                ));
            }
        }
    }
    Ok(values)
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Array(_) => "array",
        Json::String(_) => "string",
        Json::Number(_) => "number",
        Json::Bool(_) => "bool",
        _ => "value",
    }
}

/// A YAML error worded as `sigs.k8s.io/yaml` words it (`error converting YAML to JSON: yaml:
/// line N: ...`); the message after the line is our reader's.
pub(crate) fn go_yaml_error(e: &gitops_core::yaml::YamlError) -> String {
    format!("error converting YAML to JSON: yaml: line {}: {e}", e.line)
}

/// Turns every number into a JSON float, as Go's `encoding/json` decodes into `interface{}`.
pub(crate) fn floats(v: &mut Json) {
    match v {
        Json::Number(n) if !n.is_f64() => {
            if let Some(f) = n.as_f64().and_then(serde_json::Number::from_f64) {
                *n = f;
            }
        }
        Json::Array(items) => items.iter_mut().for_each(floats),
        Json::Object(m) => m.values_mut().for_each(floats),
        _ => {}
    }
}

/// Helm's `loader.MergeMaps`: `b` over `a`, maps merged recursively.
pub(crate) fn merge_maps(mut a: Map<String, Json>, b: Map<String, Json>) -> Map<String, Json> {
    for (k, v) in b {
        if let Json::Object(bm) = v {
            if let Some(Json::Object(am)) = a.remove(&k) {
                a.insert(k, Json::Object(merge_maps(am, bm)));
                continue;
            }
            a.insert(k, Json::Object(bm));
            continue;
        }
        a.insert(k, v);
    }
    a
}

/// A template value of a JSON value (JSON floats are `float64`, integers `int`).
pub(crate) fn to_value(v: &Json) -> Value {
    match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) if !n.is_f64() => Value::Int(i),
            _ => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::list(items.iter().map(to_value).collect()),
        Json::Object(m) => map_value(m),
    }
}

/// A template map of a JSON map.
pub(crate) fn map_value(m: &Map<String, Json>) -> Value {
    Value::map(m.iter().map(|(k, v)| (k.clone(), to_value(v))).collect::<BTreeMap<_, _>>())
}

/// Helm's `CoalesceValues`: the user's values over the chart's defaults, recursively through
/// subcharts; a null deletes a default.
pub(crate) fn coalesce_values(chart: &Chart, vals: Map<String, Json>) -> Result<Map<String, Json>, ChartError> {
    coalesce(chart, vals, false)
}

/// Helm's `MergeValues`: as [`coalesce_values`], but nulls are kept.
pub(crate) fn merge_values(chart: &Chart, vals: Map<String, Json>) -> Result<Map<String, Json>, ChartError> {
    coalesce(chart, vals, true)
}

fn coalesce(chart: &Chart, mut dest: Map<String, Json>, merge: bool) -> Result<Map<String, Json>, ChartError> {
    coalesce_chart_values(chart, &mut dest, merge);
    coalesce_deps(chart, dest, merge)
}

fn coalesce_deps(chart: &Chart, mut dest: Map<String, Json>, merge: bool) -> Result<Map<String, Json>, ChartError> {
    for sub in &chart.dependencies {
        let name = sub.name();
        let mut dv = match dest.remove(name) {
            None => Map::new(),
            Some(Json::Object(m)) => m,
            Some(other) => {
                let shown = sprintf("%t", &[to_value(&other)]);
                return Err(ChartError::Values(format!("type mismatch on {name}: {shown}")));
            }
        };
        coalesce_globals(&mut dv, &dest);
        let dv = coalesce(sub, dv, merge)?;
        dest.insert(name.to_owned(), Json::Object(dv));
    }
    Ok(dest)
}

/// Copies the parent's `global` into a subchart's values; the parent's entries win.
fn coalesce_globals(dest: &mut Map<String, Json>, src: &Map<String, Json>) {
    let mut dg = match dest.get("global") {
        None => Map::new(),
        Some(Json::Object(m)) => m.clone(),
        Some(_) => return,
    };
    let sg = match src.get("global") {
        None => Map::new(),
        Some(Json::Object(m)) => m.clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        match val {
            Json::Object(vv) => {
                let mut vv = vv;
                match dg.get(&key) {
                    None => {
                        dg.insert(key, Json::Object(vv));
                    }
                    Some(Json::Object(destv)) => {
                        coalesce_tables(&mut vv, destv.clone(), true);
                        dg.insert(key, Json::Object(vv));
                    }
                    Some(_) => {}
                }
            }
            other => {
                if !matches!(dg.get(&key), Some(Json::Object(_))) {
                    dg.insert(key, other);
                }
            }
        }
    }
    dest.insert("global".to_owned(), Json::Object(dg));
}

/// Helm's `coalesceValues`: a chart's defaults under the given values.
fn coalesce_chart_values(chart: &Chart, v: &mut Map<String, Json>, merge: bool) {
    for (key, val) in chart.values.clone() {
        if let Some(value) = v.get_mut(&key) {
            if value.is_null() && !merge {
                v.remove(&key);
            } else if let Json::Object(dest) = value
                && let Json::Object(mut src) = val
            {
                let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                if !merge {
                    clean_nil(&mut src);
                }
                coalesce_tables(dest, src, merge);
            }
            continue;
        }
        let mut val = val;
        if !merge {
            if val.is_null() {
                continue;
            }
            if let Json::Object(sub) = &mut val {
                clean_nil(sub);
            }
        }
        v.insert(key, val);
    }
}

/// Helm's `coalesceTablesFullKey`: `src` under `dst`; a null in `dst` deletes the key unless
/// merging.
pub(crate) fn coalesce_tables(dst: &mut Map<String, Json>, mut src: Map<String, Json>, merge: bool) {
    let src_non_nil: HashSet<String> = src.iter().filter(|(_, v)| !v.is_null()).map(|(k, _)| k.clone()).collect();
    for (k, v) in dst.iter() {
        if v.is_null() {
            src.insert(k.clone(), Json::Null);
        }
    }
    for (key, val) in src {
        match dst.get_mut(&key) {
            Some(dv) if !merge && dv.is_null() && src_non_nil.contains(&key) => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, val);
            }
            Some(Json::Object(dm)) => {
                if let Json::Object(vm) = val {
                    coalesce_tables(dm, vm, merge);
                }
            }
            Some(_) => {}
        }
    }
}

fn clean_nil(m: &mut Map<String, Json>) {
    m.retain(|_, v| !v.is_null());
    for v in m.values_mut() {
        if let Json::Object(sub) = v {
            clean_nil(sub);
        }
    }
}

/// `Values.Table(path)`: the map at a dotted path, if every step is a map.
pub(crate) fn table<'a>(values: &'a Map<String, Json>, path: &str) -> Option<&'a Map<String, Json>> {
    let mut cur = values;
    for part in path.split('.') {
        match cur.get(part) {
            Some(Json::Object(m)) => cur = m,
            _ => return None,
        }
    }
    Some(cur)
}

/// `Values.PathValue(path)`: the non-map value at a dotted path.
pub(crate) fn path_value<'a>(values: &'a Map<String, Json>, path: &str) -> Option<&'a Json> {
    let (parent, key) = match path.rsplit_once('.') {
        Some((p, k)) => (table(values, p)?, k),
        None => (values, path),
    };
    parent.get(key).filter(|v| !v.is_object())
}

/// Validates the values against every `values.schema.json` of the chart and its subcharts (a
/// subchart's schema sees its own part of the values), as Helm's `ValidateAgainstSchema`: every
/// chart's violations are collected into one report.
pub(crate) fn validate_schemas(chart: &Chart, values: &Map<String, Json>) -> Result<(), ChartError> {
    let mut report = String::new();
    collect_violations(chart, values, &mut report);
    if report.is_empty() { Ok(()) } else { Err(ChartError::Schema(report)) }
}

fn collect_violations(chart: &Chart, values: &Map<String, Json>, report: &mut String) {
    if let Some(schema) = &chart.schema
        && let Err(e) = crate::helm::schema::validate(chart.name(), schema, &map_value(values))
    {
        report.push_str(&e.chart_report());
    }
    for sub in &chart.dependencies {
        match values.get(sub.name()) {
            None | Some(Json::Null) => {}
            Some(Json::Object(m)) => collect_violations(sub, m, report),
            Some(other) => {
                let type_name = to_value(other).type_name().to_owned();
                let _ = writeln!(
                    report,
                    "{}:\ninvalid type for values: expected object (map), got {type_name}",
                    sub.name()
                );
            }
        }
    }
}
