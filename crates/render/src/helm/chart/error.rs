//! Why a chart could not be loaded or rendered.

use gitops_core::tree::TreeError;

/// Why a chart could not be loaded or rendered. Messages name the file (and line where there is
/// one); template errors are Helm's messages (`parse error at (FILE:LINE): ...`,
/// `execution error at (FILE:LINE:COL): ...`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChartError {
    /// A file or folder of the chart could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The path, relative to the tree root.
        path: String,
        /// The cause.
        #[source]
        source: TreeError,
    },
    /// The path holds no `Chart.yaml`.
    #[error("{path}: Chart.yaml file is missing")]
    NotAChart {
        /// The chart folder.
        path: String,
    },
    /// A chart file is invalid (`Chart.yaml`, `values.yaml`, `.helmignore`, an archive, ...).
    #[error("{path}: {message}")]
    Invalid {
        /// The file (or chart folder).
        path: String,
        /// What is wrong, with the line where there is one.
        message: String,
    },
    /// A file or the whole chart is larger than the limits allow.
    #[error("{path}: larger than the limit of {limit} bytes")]
    TooLarge {
        /// The file or archive.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// A values file or `--set` expression could not be read or parsed.
    #[error("{0}")]
    Values(String),
    /// The chart is not of a type that can be rendered on its own (a library chart).
    #[error("{0} charts are not installable")]
    NotInstallable(String),
    /// Processing the dependencies failed.
    #[error("chart dependencies processing failed: {0}")]
    Dependencies(#[source] Box<ChartError>),
    /// The chart requires another Kubernetes version than `.Capabilities` reports.
    #[error("chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {version}")]
    KubeVersion {
        /// The chart's `kubeVersion` constraint.
        constraint: String,
        /// The version rendered for.
        version: String,
    },
    /// The values do not meet a chart's `values.schema.json`.
    #[error("{header}\n{0}", header = crate::helm::schema::HEADER)]
    Schema(String),
    /// A template did not parse or failed; the message is Helm's.
    #[error("{0}")]
    Template(String),
    /// A rendered document is not YAML.
    #[error("YAML parse error on {path}: {message}")]
    Manifest {
        /// The template that produced it.
        path: String,
        /// The YAML error.
        message: String,
    },
}

impl ChartError {
    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        ChartError::Invalid { path: path.into(), message: message.into() }
    }
}
