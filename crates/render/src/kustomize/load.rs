//! Finding and reading kustomization files, and reading files within the load restrictions.

use gitops_core::tree::{EntryKind, FileTree, TreeError, join};
use gitops_core::yaml::{ReadOptions, Schema, locate, parse_documents, path_of};

use super::error::KustomizeError;
use super::types::Kustomization;

/// The names Kustomize accepts for a kustomization file, in its order of preference.
pub const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Which files a kustomization may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LoadRestrictor {
    /// Files must be in or below the kustomization's folder (Kustomize's default). Bases and
    /// components may be anywhere in the tree.
    #[default]
    RootOnly,
    /// Any file in the tree (`--load-restrictor LoadRestrictionsNone`). Reads still never leave
    /// the tree.
    None,
}

/// A loaded kustomization: where it is, its text, and its parsed fields.
#[derive(Debug, Clone)]
pub(crate) struct KustFile {
    /// The folder, relative to the tree root (`""` for the root).
    pub(crate) dir: String,
    /// The file, relative to the tree root.
    pub(crate) file: String,
    pub(crate) kustomization: Kustomization,
}

/// Which kustomization file is in `dir`, if any; two of them is an error.
pub(crate) fn find_kustomization(tree: &dyn FileTree, dir: &str) -> Result<Option<String>, KustomizeError> {
    let entries = match tree.list(dir) {
        Ok(entries) => entries,
        Err(TreeError::NotFound { .. } | TreeError::NotADirectory { .. }) => return Ok(None),
        Err(source) => {
            return Err(KustomizeError::Load {
                path: dir.to_owned(),
                message: "cannot list".into(),
                chain: Vec::new(),
                source: Some(Box::new(source)),
            });
        }
    };
    let found: Vec<&str> = KUSTOMIZATION_FILES
        .iter()
        .copied()
        .filter(|name| entries.iter().any(|e| e.name == *name && e.kind == EntryKind::File))
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(join(dir, one).unwrap_or_else(|_| (*one).to_owned()))),
        _ => Err(KustomizeError::Kustomization {
            file: display_dir(dir),
            line: None,
            message: format!("found multiple kustomization files: {}", found.join(", ")),
        }),
    }
}

pub(crate) fn display_dir(dir: &str) -> String {
    if dir.is_empty() { ".".to_owned() } else { dir.to_owned() }
}

/// Reads and strictly parses the kustomization file in `dir`.
pub(crate) fn load_kustomization(tree: &dyn FileTree, dir: &str, max: u64) -> Result<KustFile, KustomizeError> {
    let Some(file) = find_kustomization(tree, dir)? else {
        return Err(KustomizeError::Load {
            path: display_dir(dir),
            message: "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory"
                .into(),
            chain: Vec::new(),
            source: None,
        });
    };
    let bytes = tree.read_limited(&file, max).map_err(|source| KustomizeError::Load {
        path: file.clone(),
        message: "cannot read".into(),
        chain: Vec::new(),
        source: Some(Box::new(source)),
    })?;
    let bad =
        |line: Option<usize>, message: String| KustomizeError::Kustomization { file: file.clone(), line, message };
    let text = String::from_utf8(bytes).map_err(|_| bad(None, "not UTF-8 text".into()))?;
    // Kustomize decodes kustomization files with sigs.k8s.io/yaml (go-yaml v2 rules).
    let mut docs = parse_documents(&text, &ReadOptions::default().schema(Schema::Kubectl))
        .map_err(|e| bad(Some(e.line), format!("invalid YAML: {e}")))?;
    let value = match docs.len() {
        0 => serde_json::Value::Object(serde_json::Map::new()),
        1 => std::mem::take(&mut docs[0].value),
        n => return Err(bad(None, format!("expected one document, found {n}"))),
    };
    let value = if value.is_null() { serde_json::Value::Object(serde_json::Map::new()) } else { value };
    let mut kustomization: Kustomization = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = path_of(e.path());
        let inner = e.inner().to_string();
        let unknown = inner.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next()).map(str::to_owned);
        // The path ends at the offending field (for an unknown field, at the field itself).
        let line = locate(&text, 0, &path).map(|(line, _)| line);
        let segments: Vec<String> = e.path().iter().map(ToString::to_string).collect();
        let parent = match &unknown {
            Some(field) if segments.last() == Some(field) => &segments[..segments.len() - 1],
            _ => &segments[..],
        };
        let location = parent.join(".").replace(".[", "[");
        let message = match unknown {
            Some(field) if location.is_empty() => format!("unknown field `{field}` in Kustomization"),
            Some(field) => format!("unknown field `{field}` in `{location}`"),
            None if location.is_empty() => inner,
            None => format!("`{location}`: {inner}"),
        };
        bad(line, message)
    })?;
    let empty = Kustomization {
        api_version: kustomization.api_version.clone(),
        kind: kustomization.kind.clone(),
        ..Kustomization::default()
    };
    if kustomization == empty {
        return Err(bad(None, "kustomization.yaml is empty".into()));
    }
    check_kind(&kustomization).map_err(|m| bad(locate(&text, 0, &["kind".into()]).map(|(l, _)| l), m))?;
    kustomization.normalize();
    Ok(KustFile { dir: dir.to_owned(), file, kustomization })
}

fn check_kind(k: &Kustomization) -> Result<(), String> {
    let kind = k.kind.as_deref().unwrap_or("");
    if !kind.is_empty() && kind != "Kustomization" && kind != "Component" {
        return Err("kind should be Kustomization or Component".into());
    }
    let required =
        if kind == "Component" { "kustomize.config.k8s.io/v1alpha1" } else { "kustomize.config.k8s.io/v1beta1" };
    match k.api_version.as_deref() {
        Some(v) if !v.is_empty() && v != required => {
            Err(format!("apiVersion for {} should be {required}", if kind.is_empty() { "Kustomization" } else { kind }))
        }
        _ => Ok(()),
    }
}

/// Whether `path` (a tree path) is `dir` or below it.
pub(crate) fn is_within(path: &str, dir: &str) -> bool {
    dir.is_empty() || path == dir || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}
