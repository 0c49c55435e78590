//! Rendering errors.

use gitops_core::ManifestError;
use gitops_core::tree::TreeError;

/// Why a path could not be rendered. Messages name the file (and line, where there is one).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A file or directory could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The path, relative to the tree root.
        path: String,
        /// The cause.
        #[source]
        source: TreeError,
    },
    /// A file is not a valid manifest stream, or two manifests collide.
    #[error(transparent)]
    Manifest(Box<ManifestError>),
    /// A Kustomize build failed.
    #[error(transparent)]
    Kustomize(Box<crate::kustomize::KustomizeError>),
    /// A Helm chart could not be loaded or rendered.
    #[error(transparent)]
    Helm(Box<crate::helm::chart::ChartError>),
    /// The path holds no manifests at all.
    #[error("{path}: no Kubernetes manifests found")]
    Empty {
        /// The path rendered.
        path: String,
    },
}

impl From<crate::kustomize::KustomizeError> for RenderError {
    fn from(error: crate::kustomize::KustomizeError) -> Self {
        RenderError::Kustomize(Box::new(error))
    }
}

impl From<ManifestError> for RenderError {
    fn from(error: ManifestError) -> Self {
        RenderError::Manifest(Box::new(error))
    }
}
