//! Loading a chart from a folder of a [`FileTree`] or from a `.tgz` archive, as Helm's
//! `loader.LoadDir`/`LoadArchive` and `LoadFiles` do.

use std::collections::BTreeMap;
use std::io::Read;

use gitops_core::FileTree;
use gitops_core::tree::{EntryKind, join};
use serde_json::Value as Json;

use super::error::ChartError;
use super::ignore::Rules;
use super::metadata::Metadata;
use super::values;

/// Size limits while loading a chart (Helm's `MaxDecompressedFileSize` and
/// `MaxDecompressedChartSize`), plus a bound on subchart nesting.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct LoadLimits {
    /// The largest single file (5 MiB by default, as Helm).
    pub max_file_size: u64,
    /// The largest chart, all files together, archives decompressed (100 MiB by default).
    pub max_chart_size: u64,
    /// How deeply subcharts may nest (32 by default).
    pub max_depth: usize,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits { max_file_size: 5 << 20, max_chart_size: 100 << 20, max_depth: 32 }
    }
}

impl LoadLimits {
    /// Sets the largest single file.
    #[must_use]
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// Sets the largest chart.
    #[must_use]
    pub fn max_chart_size(mut self, bytes: u64) -> Self {
        self.max_chart_size = bytes;
        self
    }
}

/// A file of a chart, named relative to the chart root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFile {
    /// The `/`-separated path relative to the chart root (`templates/x.yaml`).
    pub name: String,
    /// The contents (a UTF-8 byte order mark removed).
    pub data: Vec<u8>,
}

/// A loaded chart.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Chart {
    /// `Chart.yaml` (and `requirements.yaml` for apiVersion v1).
    pub metadata: Metadata,
    /// `values.yaml` (numbers as `float64`, as Helm reads them).
    pub values: serde_json::Map<String, Json>,
    /// `values.schema.json`, if any.
    pub schema: Option<Vec<u8>>,
    /// Files under `templates/`.
    pub templates: Vec<ChartFile>,
    /// Every other file (what `.Files` sees), `crds/` included.
    pub files: Vec<ChartFile>,
    /// Subcharts, from `charts/`.
    pub dependencies: Vec<Chart>,
    /// Where the chart was read from (its folder or archive, relative to the tree root; a
    /// subchart's is inside its parent's).
    pub origin: String,
}

impl Chart {
    /// The chart's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.metadata.name
    }
}

/// Whether `path` of `tree` is a chart folder (holds a `Chart.yaml`).
#[must_use]
pub fn is_chart(tree: &dyn FileTree, path: &str) -> bool {
    join(path, "Chart.yaml").is_ok_and(|p| matches!(tree.stat(&p), Ok(Some(s)) if s.kind == EntryKind::File))
}

/// Loads the chart folder `path` of `tree` (`helm template NAME PATH`). A `.tgz` file is loaded
/// as an archive.
///
/// # Errors
///
/// [`ChartError`] naming the file: unreadable, too large, an invalid `Chart.yaml`,
/// `values.yaml` or `.helmignore`, a missing `Chart.yaml`, a broken subchart.
pub fn load_chart(tree: &dyn FileTree, path: &str, limits: &LoadLimits) -> Result<Chart, ChartError> {
    let read_err = |p: &str| {
        let p = p.to_owned();
        move |source| ChartError::Read { path: p, source }
    };
    let stat = tree.stat(path).map_err(read_err(path))?;
    if matches!(stat, Some(s) if s.kind == EntryKind::File) {
        if stat.is_some_and(|s| s.size > limits.max_chart_size) {
            return Err(ChartError::TooLarge { path: path.to_owned(), limit: limits.max_chart_size });
        }
        let data = tree.read(path).map_err(read_err(path))?;
        return load_archive(&data, path, limits);
    }
    let mut rules = match join(path, ".helmignore").ok().filter(|p| tree.exists(p)) {
        Some(p) => {
            let data = tree.read_limited(&p, limits.max_file_size).map_err(read_err(&p))?;
            Rules::parse(&String::from_utf8_lossy(&data)).map_err(|m| ChartError::invalid(&p, m))?
        }
        None => Rules::default(),
    };
    rules.add_defaults();
    let mut files = Vec::new();
    let mut total = 0;
    walk(tree, path, "", &rules, limits, &mut files, &mut total)?;
    load_files(files, path, limits, 0)
}

fn walk(
    tree: &dyn FileTree,
    root: &str,
    rel: &str,
    rules: &Rules,
    limits: &LoadLimits,
    files: &mut Vec<ChartFile>,
    total: &mut u64,
) -> Result<(), ChartError> {
    let dir = if rel.is_empty() { root.to_owned() } else { join(root, rel).map_err(|source| read(root, source))? };
    for entry in tree.list(&dir).map_err(|source| read(&dir, source))? {
        let name = if rel.is_empty() { entry.name.clone() } else { format!("{rel}/{}", entry.name) };
        match entry.kind {
            EntryKind::Dir if !rules.ignore(&name, true) => walk(tree, root, &name, rules, limits, files, total)?,
            EntryKind::File => {
                if rules.ignore(&name, false) {
                    continue;
                }
                let full = join(root, &name).map_err(|source| read(root, source))?;
                let data = tree.read_limited(&full, limits.max_file_size).map_err(|source| match source {
                    gitops_core::tree::TreeError::TooLarge { .. } => {
                        ChartError::TooLarge { path: full.clone(), limit: limits.max_file_size }
                    }
                    source => read(&full, source),
                })?;
                *total += data.len() as u64;
                if *total > limits.max_chart_size {
                    return Err(ChartError::TooLarge { path: root.to_owned(), limit: limits.max_chart_size });
                }
                files.push(ChartFile { name, data: strip_bom(data) });
            }
            _ => {}
        }
    }
    Ok(())
}

fn read(path: &str, source: gitops_core::tree::TreeError) -> ChartError {
    ChartError::Read { path: path.to_owned(), source }
}

fn strip_bom(mut data: Vec<u8>) -> Vec<u8> {
    if data.starts_with(&[0xEF, 0xBB, 0xBF]) {
        data.drain(..3);
    }
    data
}

/// Loads a chart from a gzipped tar archive (a packaged chart, `helm package`'s output), as
/// Helm's `LoadArchive`: the first path component is the chart folder; absolute paths, `..`
/// and oversized files are refused. `origin` names the archive in messages.
///
/// # Errors
///
/// [`ChartError::Invalid`] for a broken or unsafe archive, [`ChartError::TooLarge`], and the
/// errors of [`load_chart`].
pub fn load_archive(data: &[u8], origin: &str, limits: &LoadLimits) -> Result<Chart, ChartError> {
    load_archive_at(data, origin, limits, 0)
}

fn load_archive_at(data: &[u8], origin: &str, limits: &LoadLimits, depth: usize) -> Result<Chart, ChartError> {
    let bad = |m: String| ChartError::invalid(origin, m);
    let gz = flate2::read::GzDecoder::new(data);
    let mut archive = tar::Archive::new(gz);
    let mut files = Vec::new();
    let mut remaining = limits.max_chart_size;
    let entries = archive.entries().map_err(|e| bad(format!("not a gzipped tar archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("not a gzipped tar archive: {e}")))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let delimiter = if raw.contains('\\') { '\\' } else { '/' };
        let parts: Vec<&str> = raw.split(delimiter).collect();
        let rest = parts[1..].join("/");
        if rest.starts_with('/') {
            return Err(bad("chart illegally contains absolute paths".to_owned()));
        }
        let name = clean(&rest);
        if name == "." {
            return Err(bad(format!("chart illegally contains content outside the base directory: {raw:?}")));
        }
        if name.starts_with("..") {
            return Err(bad("chart illegally references parent directory".to_owned()));
        }
        if parts[0] == "Chart.yaml" {
            return Err(bad("chart yaml not in base directory".to_owned()));
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > remaining {
            return Err(ChartError::TooLarge { path: origin.to_owned(), limit: limits.max_chart_size });
        }
        if size > limits.max_file_size {
            return Err(ChartError::TooLarge { path: format!("{origin}:{raw}"), limit: limits.max_file_size });
        }
        let mut buf = Vec::new();
        (&mut entry).take(remaining).read_to_end(&mut buf).map_err(|e| bad(format!("cannot read {raw}: {e}")))?;
        remaining -= buf.len() as u64;
        if (buf.len() as u64) < size {
            return Err(ChartError::TooLarge { path: origin.to_owned(), limit: limits.max_chart_size });
        }
        files.push(ChartFile { name, data: strip_bom(buf) });
    }
    if files.is_empty() {
        return Err(bad("no files in chart archive".to_owned()));
    }
    load_files(files, origin, limits, depth)
}

/// Go's `path.Clean`.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|p| *p != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            p => out.push(p),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// Helm's `LoadFiles`: sorts the files of one chart into metadata, values, schema, templates,
/// other files and subcharts.
fn load_files(files: Vec<ChartFile>, origin: &str, limits: &LoadLimits, depth: usize) -> Result<Chart, ChartError> {
    if depth > limits.max_depth {
        return Err(ChartError::invalid(origin, format!("subcharts nest deeper than {}", limits.max_depth)));
    }
    let at = |name: &str| format!("{}/{name}", origin.trim_end_matches('/')).trim_start_matches('/').to_owned();
    let yaml_of = |f: &ChartFile| -> Result<Json, ChartError> {
        let text = String::from_utf8_lossy(&f.data);
        let docs = gitops_core::yaml::parse_documents(&text, &values::read_options())
            .map_err(|e| ChartError::invalid(at(&f.name), format!("cannot load {}: {e}", f.name)))?;
        Ok(docs.into_iter().next().map_or(Json::Null, |d| d.value))
    };
    let mut metadata = None;
    if let Some(f) = files.iter().find(|f| f.name == "Chart.yaml") {
        let mut md = Metadata::from_json(&yaml_of(f)?)
            .map_err(|m| ChartError::invalid(at("Chart.yaml"), format!("cannot load Chart.yaml: {m}")))?;
        if md.api_version.is_empty() {
            "v1".clone_into(&mut md.api_version);
        }
        metadata = Some(md);
    }
    let mut chart_values = serde_json::Map::new();
    let mut schema = None;
    let mut templates = Vec::new();
    let mut other = Vec::new();
    let mut subcharts: BTreeMap<String, Vec<ChartFile>> = BTreeMap::new();
    for f in files {
        match f.name.as_str() {
            "Chart.yaml" | "Chart.lock" | "requirements.lock" => {
                if f.name == "requirements.lock" && metadata.as_ref().is_some_and(|m| m.api_version == "v1") {
                    other.push(f);
                }
            }
            "values.yaml" => {
                chart_values = values::load_values(&String::from_utf8_lossy(&f.data), &at("values.yaml")).map_err(
                    |e| match e {
                        ChartError::Invalid { path, message } => {
                            ChartError::Invalid { path, message: format!("cannot load values.yaml: {message}") }
                        }
                        other => other,
                    },
                )?;
            }
            "values.schema.json" => schema = Some(f.data),
            "requirements.yaml" => {
                let md = metadata.get_or_insert_with(Metadata::default);
                if let Json::Object(map) = yaml_of(&f)? {
                    md.merge_json(&map).map_err(|m| {
                        ChartError::invalid(at("requirements.yaml"), format!("cannot load requirements.yaml: {m}"))
                    })?;
                }
                if md.api_version == "v1" {
                    other.push(f);
                }
            }
            name if name.starts_with("templates/") => templates.push(f),
            name if name.starts_with("charts/") => {
                if std::path::Path::new(name).extension().is_some_and(|e| e == "prov") {
                    other.push(f);
                    continue;
                }
                let rest = &name["charts/".len()..];
                let sub = rest.split('/').next().unwrap_or(rest).to_owned();
                subcharts.entry(sub).or_default().push(ChartFile { name: rest.to_owned(), data: f.data });
            }
            _ => other.push(f),
        }
    }
    let Some(mut metadata) = metadata else {
        return Err(ChartError::NotAChart { path: origin.to_owned() });
    };
    metadata.validate().map_err(|m| ChartError::invalid(at("Chart.yaml"), m))?;
    let mut chart = Chart {
        metadata,
        values: chart_values,
        schema,
        templates,
        files: other,
        dependencies: Vec::new(),
        origin: origin.to_owned(),
    };
    for (n, files) in subcharts {
        if n.starts_with('_') || n.starts_with('.') {
            continue;
        }
        let sub_origin = at(&format!("charts/{n}"));
        let unpack = |e: ChartError| {
            ChartError::invalid(&sub_origin, format!("error unpacking subchart {n} in {}: {e}", chart.metadata.name))
        };
        let sub = if std::path::Path::new(&n).extension().is_some_and(|e| e == "tgz") {
            let Some(file) = files.into_iter().next().filter(|f| f.name == n) else {
                return Err(ChartError::invalid(
                    &sub_origin,
                    format!("error unpacking subchart tar in {}: expected {n}", chart.metadata.name),
                ));
            };
            load_archive_at(&file.data, &sub_origin, limits, depth + 1).map_err(unpack)?
        } else {
            let inner = files
                .into_iter()
                .filter_map(|f| {
                    f.name.split_once('/').map(|(_, rest)| ChartFile { name: rest.to_owned(), data: f.data.clone() })
                })
                .collect();
            load_files(inner, &sub_origin, limits, depth + 1).map_err(unpack)?
        };
        chart.dependencies.push(sub);
    }
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_is_gos_path_clean() {
        assert_eq!(clean("a/./b/../c"), "a/c");
        assert_eq!(clean(""), ".");
        assert_eq!(clean("../x"), "../x");
        assert_eq!(clean("/a/../.."), "/");
    }
}
