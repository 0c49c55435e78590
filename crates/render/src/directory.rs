//! Plain YAML/JSON directories.

use gitops_core::tree::{EntryKind, join, normalize};
use gitops_core::{FileTree, Manifest, ManifestSet, is_cluster_scoped, parse_manifest_bytes};

use crate::{RenderError, RenderOptions, Renderer};

/// Renders a directory of `.yaml`, `.yml` and `.json` files (or one such file).
///
/// Files are read in sorted order, depth first, as `filepath.Walk` does for `kubectl apply -R` and
/// Argo CD's directory source; entries whose name starts with `.` are skipped. Scalars follow the
/// go-yaml v2 rules those tools read with (`on` is `true`). Namespaced objects without a namespace
/// get [`RenderOptions::namespace`], when set.
#[derive(Debug, Clone, Copy, Default)]
pub struct DirectoryRenderer;

fn is_manifest_file(name: &str) -> bool {
    std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["yaml", "yml", "json"].iter().any(|x| e.eq_ignore_ascii_case(x)))
}

impl Renderer for DirectoryRenderer {
    fn render(&self, tree: &dyn FileTree, path: &str, options: &RenderOptions) -> Result<ManifestSet, RenderError> {
        let root = normalize(path).map_err(|source| RenderError::Read { path: path.to_owned(), source })?;
        let read_err = |path: &str| {
            let path = path.to_owned();
            move |source| RenderError::Read { path, source }
        };
        let mut files = Vec::new();
        match tree.stat(&root).map_err(read_err(&root))? {
            None => {
                return Err(RenderError::Read {
                    path: root.clone(),
                    source: gitops_core::tree::TreeError::NotFound { path: root },
                });
            }
            Some(stat) if stat.kind == EntryKind::Dir => collect(tree, &root, options.recursive, &mut files)?,
            Some(_) => files.push(root.clone()),
        }
        let read = options.plain_read_options();
        let mut set = ManifestSet::new();
        for file in files {
            let bytes = tree.read_limited(&file, options.max_file_size).map_err(read_err(&file))?;
            let mut manifests = parse_manifest_bytes(&bytes, &file, &read)?;
            fill_namespace(&mut manifests, options.namespace.as_deref());
            set.extend(manifests)?;
        }
        Ok(set)
    }
}

/// Gives `namespace` to the namespaced objects that have none.
pub(crate) fn fill_namespace(manifests: &mut [Manifest], namespace: Option<&str>) {
    let Some(ns) = namespace else { return };
    for m in manifests {
        let r = m.object_ref();
        if r.namespace.is_none() && !is_cluster_scoped(&r.group, &r.kind) {
            m.object.set_namespace(Some(ns));
        }
    }
}

fn collect(tree: &dyn FileTree, dir: &str, recursive: bool, out: &mut Vec<String>) -> Result<(), RenderError> {
    let entries = tree.list(dir).map_err(|source| RenderError::Read { path: dir.to_owned(), source })?;
    for entry in entries {
        if entry.name.starts_with('.') {
            continue;
        }
        let path = join(dir, &entry.name).map_err(|source| RenderError::Read { path: dir.to_owned(), source })?;
        match entry.kind {
            EntryKind::Dir if recursive => collect(tree, &path, recursive, out)?,
            EntryKind::File if is_manifest_file(&entry.name) => out.push(path),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_core::DiskTree;

    fn write(dir: &std::path::Path, path: &str, text: &str) {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("has parent")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    }

    #[test]
    fn walks_sorted_and_recursive_skipping_hidden_and_other_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cm = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
        write(dir.path(), "b.yaml", &cm("b"));
        write(dir.path(), "a/z.yml", &cm("az"));
        write(dir.path(), "a/c.json", r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ac"}}"#);
        write(dir.path(), ".hidden/x.yaml", &cm("hidden"));
        write(dir.path(), "README.md", "not yaml");
        write(dir.path(), "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n");
        let tree = DiskTree::new(dir.path()).expect("tree");
        let set = DirectoryRenderer.render(&tree, "", &RenderOptions::default().namespace("shop")).expect("render");
        let refs: Vec<String> = set.iter().map(|m| m.object_ref().to_string()).collect();
        assert_eq!(refs, ["ConfigMap/shop/ac", "ConfigMap/shop/az", "ConfigMap/shop/b", "Namespace/shop"]);
        let flat = DirectoryRenderer.render(&tree, ".", &RenderOptions::default().recursive(false)).expect("render");
        assert_eq!(flat.len(), 2);
    }

    #[test]
    fn errors_name_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "apps/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\na: [1,\n");
        let tree = DiskTree::new(dir.path()).expect("tree");
        let err = DirectoryRenderer.render(&tree, "apps", &RenderOptions::default()).expect_err("invalid");
        assert!(err.to_string().starts_with("apps/bad.yaml:"), "{err}");
        let err = DirectoryRenderer.render(&tree, "../etc", &RenderOptions::default()).expect_err("escape");
        assert_eq!(err.to_string(), "cannot read ../etc");
    }
}
