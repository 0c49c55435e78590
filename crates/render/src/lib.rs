//! Rendering: turning a path of a [`FileTree`] into a [`ManifestSet`] of Kubernetes objects.
//!
//! Everything is read through [`FileTree`], so the same renderer works on a folder on disk
//! ([`gitops_core::DiskTree`]) and on a Git revision read straight from the object database
//! (`gitops_source::Snapshot`), with no checkout.
//!
//! # Overview
//!
//! - [`Renderer`] is the extension point: one method, `render(tree, path, options)`.
//! - [`KustomizeRenderer`] builds a kustomization as `kubectl kustomize` does ([`kustomize`]).
//! - [`HelmRenderer`] renders a Helm chart as `helm template` does ([`helm`]).
//! - [`DirectoryRenderer`] renders a plain directory of YAML and JSON files, recursively and in
//!   sorted order, as `kubectl apply -f DIR -R` and Argo CD's directory source read them.
//! - [`render`] picks the renderer for a path: Kustomize when it holds a kustomization file,
//!   plain YAML otherwise.
//! - [`RenderOptions`] carries the target namespace (set on namespaced objects that have none,
//!   as Argo CD's destination namespace does) and the reading limits.
//!
//! # Example
//!
//! ```
//! use gitops_core::DiskTree;
//! use gitops_render::{render, RenderOptions};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n")?;
//! let tree = DiskTree::new(dir.path())?;
//! let set = render(&tree, "", &RenderOptions::default().namespace("shop"))?;
//! assert_eq!(set.iter().next().unwrap().object_ref().to_string(), "ConfigMap/shop/settings");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod directory;
mod error;
mod gojson;
pub mod helm;
pub mod kustomize;
mod options;

pub use directory::DirectoryRenderer;
pub use error::RenderError;
pub use helm::HelmRenderer;
pub use kustomize::KustomizeRenderer;
pub use options::RenderOptions;

use gitops_core::{FileTree, ManifestSet};

/// Turns a path of a file tree into Kubernetes objects.
///
/// Implementations read only through `tree`, never the disk or network directly, and return
/// objects in a deterministic order.
pub trait Renderer: Send + Sync {
    /// Renders `path` (a directory or file, relative to the tree root).
    fn render(&self, tree: &dyn FileTree, path: &str, options: &RenderOptions) -> Result<ManifestSet, RenderError>;
}

/// Renders `path` with the renderer its contents call for.
///
/// A folder with a kustomization file is rendered with [`KustomizeRenderer`], a folder with a
/// `Chart.yaml` with [`HelmRenderer`]; anything else as plain YAML/JSON ([`DirectoryRenderer`]).
pub fn render(tree: &dyn FileTree, path: &str, options: &RenderOptions) -> Result<ManifestSet, RenderError> {
    if kustomize::is_kustomization(tree, path) {
        KustomizeRenderer.render(tree, path, options)
    } else if helm::chart::is_chart(tree, path) {
        HelmRenderer.render(tree, path, options)
    } else {
        DirectoryRenderer.render(tree, path, options)
    }
}
