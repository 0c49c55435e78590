//! Rendering every template of a chart and its subcharts, as Helm's `engine.Render`: one
//! template set (Helm's root template `gotpl`) with Helm's functions and `missingkey=zero`,
//! templates parsed deepest path first, each file not starting with `_` executed with its
//! chart's top-level data, and `<no value>` removed from the output.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::TemplateOptions;
use super::error::ChartError;
use super::files::Files;
use super::load::Chart;
use super::values::map_value;
use crate::helm::funcs::{helm_funcs, include_func, tpl_func};
use crate::helm::template::{MissingKey, TemplateError, Templates, Value};
use crate::helm::{cleanup_exec_error, cleanup_parse_error};

/// One template to render: its full name, text, top-level data and `.Template.BasePath`.
struct Renderable {
    name: String,
    text: String,
    data: Arc<BTreeMap<String, Value>>,
    base_path: String,
}

/// Renders every template; returns the output of each file by its full name
/// (`chart/charts/sub/templates/x.yaml`), partials and `NOTES.txt` included.
pub(crate) fn render(
    chart: &Chart,
    values: &Map<String, Json>,
    options: &TemplateOptions,
) -> Result<BTreeMap<String, String>, ChartError> {
    let release = Value::map(BTreeMap::from([
        ("Name".to_owned(), Value::from(options.release_name.as_str())),
        ("Namespace".to_owned(), Value::from(options.namespace.as_str())),
        ("IsUpgrade".to_owned(), Value::Bool(options.is_upgrade)),
        ("IsInstall".to_owned(), Value::Bool(!options.is_upgrade)),
        ("Revision".to_owned(), Value::Int(1)),
        ("Service".to_owned(), Value::from("Helm")),
    ]));
    let shared = Shared { release, capabilities: options.capabilities.to_value() };
    let mut templates = Vec::new();
    collect(chart, None, &map_value(values), &shared, &mut templates);
    templates.sort_by(|a, b| by_path_len(&a.name, &b.name));

    let mut funcs = helm_funcs();
    funcs.insert("include".to_owned(), include_func("gotpl"));
    funcs.insert("tpl".to_owned(), tpl_func("gotpl"));
    let mut set = Templates::new().with_funcs(funcs).missing_key(MissingKey::Zero);
    for t in &templates {
        set.parse(&t.name, &t.text).map_err(|e| ChartError::Template(cleanup_parse_error(&e)))?;
    }
    let mut rendered = BTreeMap::new();
    for t in &templates {
        if t.name.rsplit('/').next().is_some_and(|base| base.starts_with('_')) {
            continue;
        }
        let mut data = (*t.data).clone();
        data.insert(
            "Template".to_owned(),
            Value::map(BTreeMap::from([
                ("Name".to_owned(), Value::from(t.name.as_str())),
                ("BasePath".to_owned(), Value::from(t.base_path.as_str())),
            ])),
        );
        let out = set.execute(&t.name, &Value::map(data)).map_err(|e| ChartError::Template(exec_error(&e)))?;
        rendered.insert(t.name.clone(), out.replace("<no value>", ""));
    }
    Ok(rendered)
}

struct Shared {
    release: Value,
    capabilities: Value,
}

/// Helm's `recAllTpls`: builds a chart's top-level data (its subcharts' first, for
/// `.Subcharts`) and collects its templates. Returns the data.
fn collect(
    chart: &Chart,
    parent_path: Option<&str>,
    parent_values: &Value,
    shared: &Shared,
    out: &mut Vec<Renderable>,
) -> Value {
    let is_root = parent_path.is_none();
    let full_path = match parent_path {
        None => chart.name().to_owned(),
        Some(p) => format!("{p}/charts/{}", chart.name()),
    };
    let values = if is_root {
        parent_values.clone()
    } else {
        match parent_values {
            Value::Map(m) => match m.get(chart.name()) {
                Some(v @ Value::Map(_)) => v.clone(),
                _ => Value::map(BTreeMap::new()),
            },
            _ => Value::map(BTreeMap::new()),
        }
    };
    let subcharts: BTreeMap<String, Value> = chart
        .dependencies
        .iter()
        .map(|sub| (sub.name().to_owned(), collect(sub, Some(&full_path), &values, shared, out)))
        .collect();
    let files = Files::new(chart.files.iter().map(|f| (f.name.clone(), Arc::from(f.data.as_slice()))).collect());
    let data = Arc::new(BTreeMap::from([
        ("Chart".to_owned(), chart.metadata.to_value(is_root)),
        ("Files".to_owned(), Value::Object(Arc::new(files))),
        ("Release".to_owned(), shared.release.clone()),
        ("Capabilities".to_owned(), shared.capabilities.clone()),
        ("Values".to_owned(), values),
        ("Subcharts".to_owned(), Value::map(subcharts)),
    ]));
    for t in &chart.templates {
        if chart.metadata.is_library() && !t.name.rsplit('/').next().is_some_and(|b| b.starts_with('_')) {
            continue;
        }
        out.push(Renderable {
            name: format!("{full_path}/{}", t.name),
            text: String::from_utf8_lossy(&t.data).into_owned(),
            data: Arc::clone(&data),
            base_path: format!("{full_path}/templates"),
        });
    }
    Value::map((*data).clone())
}

/// Helm's `sortTemplates`: more path components first; equal depths in reverse byte order.
fn by_path_len(a: &str, b: &str) -> std::cmp::Ordering {
    let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
    cb.cmp(&ca).then_with(|| b.cmp(a))
}

/// An execution error as Helm v4 reports it (`reformatExecErrorMsg`): a `required`/`fail`
/// message as `execution error at (FILE:LINE:COL): MESSAGE`; otherwise each template location
/// of the error chain on its own lines:
///
/// ```text
/// c/templates/x.yaml:3:4
///   executing "c/templates/x.yaml" at <include "h" .>:
///     error calling include:
/// c/templates/_h.tpl:1:5
///   executing "h" at <.Values.a.b>:
///     nil pointer evaluating interface {}.b
/// ```
fn exec_error(error: &TemplateError) -> String {
    let cleaned = cleanup_exec_error(error);
    let message = error.to_string();
    if cleaned != message || !matches!(error, TemplateError::Exec { .. }) {
        return cleaned;
    }
    reformat_chain(&message).unwrap_or(message)
}

/// One location of an error chain.
#[derive(PartialEq, Eq)]
struct Traceable {
    location: String,
    function: String,
    message: String,
}

/// Splits Go's one-line message into the chain of wrapped template errors; `None` when a link
/// of the chain is not a template error (Helm then keeps Go's message).
fn reformat_chain(message: &str) -> Option<String> {
    let mut locations: Vec<Traceable> = Vec::new();
    let mut current = Some(message.to_owned());
    while let Some(text) = current.take() {
        let remainder = text.strip_prefix("template: ")?;
        let (trace, next) = if remainder.starts_with("no template ") {
            (Traceable { location: String::new(), function: String::new(), message: text.clone() }, None)
        } else if let Some(parsed) = parse_executing(remainder) {
            parsed
        } else {
            let sep = remainder.rfind(": ")?;
            let mut msg = &remainder[sep + 2..];
            if let Some(cut) = msg.find(" template:") {
                msg = &msg[..cut];
            }
            let t =
                Traceable { location: remainder[..sep].to_owned(), function: String::new(), message: msg.to_owned() };
            (t, None)
        };
        if locations.last() != Some(&trace) {
            locations.push(trace);
        }
        current = next;
    }
    let mut out = String::new();
    for t in &locations {
        if !t.location.is_empty() {
            out.push_str(&t.location);
            out.push_str("\n  ");
        }
        if !t.function.is_empty() {
            out.push_str(&t.function);
            out.push_str("\n    ");
        }
        if !t.message.is_empty() {
            out.push_str(&t.message);
            out.push('\n');
        }
    }
    Some(out.trim().to_owned())
}

/// Parses `NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE`; the next link of the chain is
/// the error a called function returned (`error calling F: ERR`).
fn parse_executing(remainder: &str) -> Option<(Traceable, Option<String>)> {
    let (location, after) = remainder.split_once(": executing ")?;
    let after = after.strip_prefix('"')?;
    let end = after.find('"')?;
    let function = &after[..end];
    let after = after[end + 1..].strip_prefix(" at <")?;
    let (node, full_message) = after.split_once(">: ")?;
    let mut message = full_message;
    if let Some(cut) = message.find(" template:") {
        message = &message[..cut];
    }
    let next = full_message.strip_prefix("error calling ").and_then(|rest| {
        let (_, inner) = rest.split_once(": ")?;
        Some(inner.to_owned())
    });
    let trace = Traceable {
        location: location.to_owned(),
        function: format!("executing \"{function}\" at <{node}>:"),
        message: message.to_owned(),
    };
    Some((trace, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_sort_as_helm() {
        let mut names = vec!["c/templates/b.yaml", "c/charts/s/templates/a.yaml", "c/templates/a.yaml", "c/x.yaml"];
        names.sort_by(|a, b| by_path_len(a, b));
        assert_eq!(names, ["c/charts/s/templates/a.yaml", "c/templates/b.yaml", "c/templates/a.yaml", "c/x.yaml"]);
    }

    #[test]
    fn exec_errors_are_reformatted_as_helm_v4() {
        let go = "template: c/templates/x.yaml:3:4: executing \"c/templates/x.yaml\" at <include \"h\" .>: error calling include: template: c/templates/_h.tpl:1:5: executing \"h\" at <.Values.a.b>: nil pointer evaluating interface {}.b";
        assert_eq!(
            reformat_chain(go).as_deref(),
            Some(
                "c/templates/x.yaml:3:4\n  executing \"c/templates/x.yaml\" at <include \"h\" .>:\n    error calling include:\nc/templates/_h.tpl:1:5\n  executing \"h\" at <.Values.a.b>:\n    nil pointer evaluating interface {}.b"
            )
        );
        let flat = "template: x:1:2: executing \"x\" at <index .a 5>: error calling index: index out of range: 5";
        assert_eq!(reformat_chain(flat), None);
    }
}
