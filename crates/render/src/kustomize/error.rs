//! Kustomize build errors. Every message names the kustomization (and line) it is about.

use gitops_core::ManifestError;
use gitops_core::tree::TreeError;

/// Why a Kustomize build failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KustomizeError {
    /// The kustomization file itself is invalid: an unknown field, a wrong type, a bad value.
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Kustomization {
        /// The kustomization file.
        file: String,
        /// The line of the offending field, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A file or directory the build needs does not exist or cannot be read.
    #[error("{path}: {message}{}", chain_text(chain))]
    Load {
        /// The path that could not be loaded.
        path: String,
        /// What went wrong.
        message: String,
        /// The kustomizations that led here, innermost first.
        chain: Vec<String>,
        /// The cause, when there is one.
        #[source]
        source: Option<Box<TreeError>>,
    },
    /// Kustomizations include each other.
    #[error("cycle detected: {}", chain.join(" -> "))]
    Cycle {
        /// The roots on the cycle, from the outermost.
        chain: Vec<String>,
    },
    /// A resource file is not valid YAML or not a Kubernetes object.
    #[error("{message}{}", chain_text(chain))]
    Resource {
        /// What is wrong, with the file.
        message: String,
        /// The kustomizations that led here.
        chain: Vec<String>,
        /// The cause.
        #[source]
        source: Box<ManifestError>,
    },
    /// A transformer, generator or patch failed.
    #[error("{file}: {message}")]
    Build {
        /// The kustomization whose step failed.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// A feature this implementation does not provide (plugins, KRM functions, Helm charts).
    #[error("{file}: `{field}` is not supported: {reason}")]
    Unsupported {
        /// The kustomization using it.
        file: String,
        /// The field.
        field: String,
        /// Why, and what to do instead.
        reason: String,
    },
}

fn chain_text(chain: &[String]) -> String {
    match chain.split_first() {
        None => String::new(),
        Some((first, [])) => format!(" (in {first})"),
        Some((first, rest)) => format!(" (in {first}, included from {})", rest.join(", included from ")),
    }
}
