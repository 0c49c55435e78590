//! Dependencies, as Helm's `chartutil.ProcessDependencies`: aliases, `condition`, `tags`,
//! and `import-values` (both forms).

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value as Json};

use super::error::ChartError;
use super::load::Chart;
use super::metadata::Dependency;
use super::values::{coalesce_tables, coalesce_values, merge_values, path_value, table, to_value};
use super::version;

/// Enables, disables, aliases and imports as Helm does before rendering.
pub(crate) fn process_dependencies(chart: &mut Chart, values: &Map<String, Json>) -> Result<(), ChartError> {
    process_enabled(chart, values, "")?;
    process_import_values(chart)
}

fn process_enabled(c: &mut Chart, v: &Map<String, Json>, path: &str) -> Result<(), ChartError> {
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let existing = std::mem::take(&mut c.dependencies);
    let matches =
        |req: &Dependency, ch: &Chart| ch.name() == req.name && version::matches(&req.version, &ch.metadata.version);
    // Charts no entry of `dependencies` asks for stay as they are.
    let mut charts: Vec<Chart> =
        existing.iter().filter(|ch| !c.metadata.dependencies.iter().any(|r| matches(r, ch))).cloned().collect();
    for req in &mut c.metadata.dependencies {
        if let Some(found) = existing.iter().find(|ch| matches(req, ch)) {
            let mut copy = found.clone();
            if !req.alias.is_empty() {
                copy.metadata.name.clone_from(&req.alias);
            }
            charts.push(copy);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
        req.enabled = true;
    }
    c.dependencies = charts;
    let cvals = coalesce_values(c, v.clone())?;
    process_tags(&mut c.metadata.dependencies, &cvals);
    process_conditions(&mut c.metadata.dependencies, &cvals, path);
    let removed: HashSet<String> =
        c.metadata.dependencies.iter().filter(|r| !r.enabled).map(|r| r.name.clone()).collect();
    c.dependencies.retain(|d| !removed.contains(d.name()));
    c.metadata.dependencies.retain(|d| !removed.contains(&d.name));
    for sub in &mut c.dependencies {
        let subpath = format!("{path}{}.", sub.name());
        process_enabled(sub, &cvals, &subpath)?;
    }
    Ok(())
}

fn process_tags(reqs: &mut [Dependency], cvals: &Map<String, Json>) {
    let Some(tags) = table(cvals, "tags") else { return };
    for r in reqs {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            match tags.get(k) {
                Some(Json::Bool(true)) => has_true = true,
                Some(Json::Bool(false)) => has_false = true,
                Some(other) => {
                    tracing::warn!(tag = %k, chart = %r.name, value = %other, "tag is not a boolean");
                }
                None => {}
            }
        }
        r.enabled = has_true || !has_false;
    }
}

fn process_conditions(reqs: &mut [Dependency], cvals: &Map<String, Json>, path: &str) {
    for r in reqs {
        for c in r.condition.trim().split(',') {
            if c.is_empty() {
                continue;
            }
            match path_value(cvals, &format!("{path}{c}")) {
                Some(Json::Bool(b)) => {
                    r.enabled = *b;
                    break;
                }
                Some(other) => {
                    tracing::warn!(condition = %c, chart = %r.name, value = %other, "condition is not a boolean");
                }
                None => {}
            }
        }
    }
}

/// Helm's `processDependencyImportValues`, children first.
fn process_import_values(c: &mut Chart) -> Result<(), ChartError> {
    for d in &mut c.dependencies {
        process_import_values(d)?;
    }
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = merge_values(c, Map::new())?;
    let mut imported = Map::new();
    for r in &mut c.metadata.dependencies {
        let mut normalized = Vec::new();
        for riv in &r.import_values {
            match riv {
                Json::Object(iv) => {
                    let text = |k: &str| iv.get(k).map_or(Json::Null, Clone::clone);
                    let child = to_value(&text("child")).to_go_string();
                    let parent = to_value(&text("parent")).to_go_string();
                    normalized.push(pair(&child, &parent));
                    let Some(vv) = table(&cvals, &format!("{}.{child}", r.name)) else {
                        tracing::warn!(chart = %r.name, child = %child, "import-values: missing table");
                        continue;
                    };
                    coalesce_tables(&mut imported, path_to_map(&parent, vv.clone()), true);
                }
                Json::String(iv) => {
                    let child = format!("exports.{iv}");
                    normalized.push(pair(&child, "."));
                    let Some(vm) = table(&cvals, &format!("{}.{child}", r.name)) else {
                        tracing::warn!(chart = %r.name, child = %child, "import-values: missing table");
                        continue;
                    };
                    coalesce_tables(&mut imported, vm.clone(), true);
                }
                _ => {}
            }
        }
        r.import_values = normalized;
    }
    let mut merged = cvals;
    coalesce_tables(&mut merged, imported, true);
    c.values = merged;
    Ok(())
}

fn pair(child: &str, parent: &str) -> Json {
    let m: BTreeMap<&str, &str> = BTreeMap::from([("child", child), ("parent", parent)]);
    serde_json::to_value(m).unwrap_or(Json::Null)
}

/// `pathToMap`: `a.b` and a map become `{a: {b: map}}`; `.` is the map itself.
fn path_to_map(path: &str, data: Map<String, Json>) -> Map<String, Json> {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let mut m = Map::new();
        m.insert(part.to_owned(), Json::Object(cur));
        cur = m;
    }
    cur
}
