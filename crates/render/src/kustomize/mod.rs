//! Kustomize, in Rust: `kustomization.yaml` rendered as `kubectl kustomize` renders it.
//!
//! The build follows Kustomize v5.8 step by step: resources are accumulated depth first
//! (files, then nested kustomizations, each built on its own), then configurations, generators,
//! components (which transform what their parent accumulated so far) and the transformers in
//! Kustomize's fixed order; at the top, hash suffixes are added, name references are fixed and the
//! output is sorted. Output emitted with [`gitops_core::yaml::to_string_multi`] is byte-identical
//! to `kubectl kustomize` on the conformance fixtures (see `docs/kustomize.md`).
//!
//! Plugins, KRM functions and `helmCharts` are refused with an error naming the field.

mod build;
mod config;
mod error;
mod fieldspec;
mod generate;
mod load;
mod nameref;
mod patches;
mod plugins;
mod remote;
mod replacements;
mod resource;
mod smp_bridge;
mod sort;
mod transform;
mod transformers;
mod types;
mod vars;

pub use error::KustomizeError;
pub use load::{KUSTOMIZATION_FILES, LoadRestrictor};
pub use remote::{RemoteRepo, RemoteResolver, parse_remote};
pub use types::Kustomization;

use gitops_core::tree::{FileTree, normalize};
use gitops_core::{Manifest, ManifestSet, Object};

use crate::{RenderError, RenderOptions, Renderer};

/// Renders a folder holding a `kustomization.yaml` (or `.yml`, or `Kustomization`).
#[derive(Debug, Clone, Copy, Default)]
pub struct KustomizeRenderer;

/// Whether `path` is a folder with a kustomization file.
pub fn is_kustomization(tree: &dyn FileTree, path: &str) -> bool {
    normalize(path).ok().is_some_and(|dir| matches!(load::find_kustomization(tree, &dir), Ok(Some(_))))
}

impl Renderer for KustomizeRenderer {
    fn render(&self, tree: &dyn FileTree, path: &str, options: &RenderOptions) -> Result<ManifestSet, RenderError> {
        let dir = normalize(path).map_err(|source| RenderError::Read { path: path.to_owned(), source })?;
        let mut builder = build::Builder { tree, options, stack: Vec::new(), remotes: Vec::new() };
        let resources = builder.build(&dir)?;
        let mut set = ManifestSet::new();
        for resource in resources {
            let object = Object::from_map(resource.map).map_err(|source| KustomizeError::Build {
                file: resource.origin.file.clone(),
                message: format!("the build produced an invalid object: {source}"),
            })?;
            set.insert(Manifest { object, origin: resource.origin })?;
        }
        Ok(set)
    }
}
