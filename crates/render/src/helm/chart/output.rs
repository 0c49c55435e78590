//! From rendered files to what `helm template` prints: documents split as Helm splits them
//! (`releaseutil.SplitManifests`), hooks told apart by `helm.sh/hook`, documents ordered by
//! Helm's install order of kinds (a stable sort over files in path order), CRDs first with
//! `--include-crds`, hooks last.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::TemplateOptions;
use super::error::ChartError;
use super::load::Chart;
use super::values::{go_yaml_error, read_options};

/// Helm's `InstallOrder` of kinds; other kinds come after these, by name.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The hook events Helm knows (`test-success` is an old name of `test`).
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// One rendered document that is not a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderedManifest {
    /// The template it came from (`chart/templates/x.yaml`).
    pub path: String,
    /// Its `kind` (empty when it has none).
    pub kind: String,
    /// The document's text, as rendered.
    pub content: String,
}

/// A rendered document annotated `helm.sh/hook`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hook {
    /// The template it came from.
    pub path: String,
    /// Its `kind`.
    pub kind: String,
    /// Its `metadata.name`.
    pub name: String,
    /// The hook events, lower case (`test-success` read as `test`).
    pub events: Vec<String>,
    /// `helm.sh/hook-weight` (0 when absent or not an integer).
    pub weight: i64,
    /// `helm.sh/hook-delete-policy` entries, lower case.
    pub delete_policies: Vec<String>,
    /// The document's text, as rendered.
    pub content: String,
}

/// The result of a render: what `helm template` prints, in its parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rendered {
    /// `crds/` files (path, contents), with `--include-crds` only.
    pub crds: Vec<(String, String)>,
    /// Documents in install order.
    pub manifests: Vec<RenderedManifest>,
    /// Hooks in install order of kinds (test hooks left out with `--skip-tests`).
    pub hooks: Vec<Hook>,
    /// The root chart's rendered `NOTES.txt` (never printed by `helm template`).
    pub notes: String,
}

impl Rendered {
    /// Exactly what `helm template` prints: `---\n# Source: PATH\n` before each document, CRDs,
    /// then documents (the block trimmed, as Helm trims the release manifest), then hooks.
    #[must_use]
    pub fn to_helm_output(&self) -> String {
        let mut manifest = String::new();
        for (path, content) in &self.crds {
            push_doc(&mut manifest, path, content);
        }
        for m in &self.manifests {
            push_doc(&mut manifest, &m.path, &m.content);
        }
        let mut out = manifest.trim().to_owned();
        out.push('\n');
        for h in &self.hooks {
            push_doc(&mut out, &h.path, &h.content);
        }
        out
    }
}

fn push_doc(out: &mut String, path: &str, content: &str) {
    out.push_str("---\n# Source: ");
    out.push_str(path);
    out.push('\n');
    out.push_str(content);
    out.push('\n');
}

/// Helm's `SortManifests` plus the CRD, notes and test-hook handling of `helm template`.
pub(crate) fn sort_manifests(
    chart: &Chart,
    mut files: BTreeMap<String, String>,
    options: &TemplateOptions,
) -> Result<Rendered, ChartError> {
    let mut rendered = Rendered::default();
    let root_notes = format!("{}/templates/NOTES.txt", chart.name());
    if let Some(notes) = files.remove(&root_notes) {
        rendered.notes = notes;
    }
    files.retain(|name, _| !name.ends_with("NOTES.txt"));
    for (path, content) in &files {
        if path.rsplit('/').next().is_some_and(|b| b.starts_with('_')) || content.trim().is_empty() {
            continue;
        }
        for doc in split_manifests(content) {
            let head = head(&doc).map_err(|message| ChartError::Manifest { path: path.clone(), message })?;
            let Some(hook_types) = head.annotations.get("helm.sh/hook") else {
                rendered.manifests.push(RenderedManifest { path: path.clone(), kind: head.kind, content: doc });
                continue;
            };
            let events: Vec<String> = hook_types.split(',').map(|e| e.trim().to_lowercase()).collect();
            if events.iter().any(|e| !HOOK_EVENTS.contains(&e.as_str())) {
                // Helm leaves out documents with an unknown hook.
                continue;
            }
            let events: Vec<String> =
                events.into_iter().map(|e| if e == "test-success" { "test".to_owned() } else { e }).collect();
            if options.skip_tests && events.iter().any(|e| e == "test") {
                continue;
            }
            let list = |key: &str| -> Vec<String> {
                head.annotations
                    .get(key)
                    .map_or_else(Vec::new, |v| v.split(',').map(|p| p.trim().to_lowercase()).collect())
            };
            rendered.hooks.push(Hook {
                path: path.clone(),
                kind: head.kind.clone(),
                name: head.name.clone(),
                weight: head.annotations.get("helm.sh/hook-weight").and_then(|w| w.parse().ok()).unwrap_or(0),
                delete_policies: list("helm.sh/hook-delete-policy"),
                events,
                content: doc,
            });
        }
    }
    rendered.manifests.sort_by(|a, b| kind_order(&a.kind, &b.kind));
    rendered.hooks.sort_by(|a, b| kind_order(&a.kind, &b.kind));
    if options.include_crds {
        collect_crds(chart, None, &mut rendered.crds);
    }
    Ok(rendered)
}

/// Helm's `lessByKind`, as an ordering (used with a stable sort).
fn kind_order(a: &str, b: &str) -> std::cmp::Ordering {
    let rank = |k: &str| INSTALL_ORDER.iter().position(|x| *x == k);
    match (rank(a), rank(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// `Chart.CRDObjects`: `crds/*.{yaml,yml,json}` of the chart, then of its subcharts.
fn collect_crds(chart: &Chart, parent: Option<&str>, out: &mut Vec<(String, String)>) {
    let full = match parent {
        None => chart.name().to_owned(),
        Some(p) => format!("{p}/charts/{}", chart.name()),
    };
    for f in &chart.files {
        let ext = f.name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        if f.name.starts_with("crds/") && matches!(ext.as_deref(), Some("yaml" | "yml" | "json")) {
            out.push((format!("{full}/{}", f.name), String::from_utf8_lossy(&f.data).into_owned()));
        }
    }
    for sub in &chart.dependencies {
        collect_crds(sub, Some(&full), out);
    }
}

/// Helm's `SplitManifests`: split at lines starting with `---` (and any spaces or tabs after
/// it), drop blank documents, trim leading whitespace.
pub(crate) fn split_manifests(text: &str) -> Vec<String> {
    let text = text.trim_start();
    let mut docs = Vec::new();
    let mut start = 0;
    let mut line_start = 0;
    let bytes = text.as_bytes();
    while line_start <= text.len() {
        if text[line_start..].starts_with("---") {
            docs.push(&text[start..line_start]);
            let mut end = line_start + 3;
            while end < bytes.len() && (bytes[end] == b' ' || bytes[end] == b'\t') {
                end += 1;
            }
            start = end;
        }
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => break,
        }
    }
    docs.push(&text[start..]);
    docs.into_iter().filter(|d| !d.trim().is_empty()).map(|d| d.trim_start().to_owned()).collect()
}

/// What Helm reads of a document (`SimpleHead`).
struct Head {
    kind: String,
    name: String,
    annotations: BTreeMap<String, String>,
}

fn head(doc: &str) -> Result<Head, String> {
    let docs = gitops_core::yaml::parse_documents(doc, &read_options()).map_err(|e| go_yaml_error(&e))?;
    let value = docs.into_iter().next().map_or(Json::Null, |d| d.value);
    let scalar = |v: Option<&Json>| match v {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let meta = value.get("metadata");
    let annotations = match meta.and_then(|m| m.get("annotations")) {
        Some(Json::Object(a)) => a.iter().map(|(k, v)| (k.clone(), scalar(Some(v)))).collect(),
        _ => BTreeMap::new(),
    };
    Ok(Head { kind: scalar(value.get("kind")), name: scalar(meta.and_then(|m| m.get("name"))), annotations })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_helm() {
        let docs = split_manifests("\n\na: 1\n---\n\n# c\n---   \n---\nb: 2\n---x\n");
        assert_eq!(docs, ["a: 1\n", "# c\n", "b: 2\n", "x\n"]);
        assert!(split_manifests("  \n").is_empty());
    }

    #[test]
    fn kinds_sort_as_helm() {
        let mut kinds = vec!["Zed", "Deployment", "", "Service", "Alpha", "Namespace"];
        kinds.sort_by(|a, b| kind_order(a, b));
        assert_eq!(kinds, ["Namespace", "Service", "Deployment", "", "Alpha", "Zed"]);
    }
}
