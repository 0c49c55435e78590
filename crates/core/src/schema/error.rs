//! Why a CustomResourceDefinition could not be added to a [`Schema`](super::Schema).

/// Why [`Schema::add_crd`](super::Schema::add_crd) refused an object.
///
/// Paths are dotted JSON paths into the CRD object, with list indexes in brackets:
/// `spec.versions[0].schema.openAPIV3Schema.properties.spec.type`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The object is not an `apiextensions.k8s.io/v1` CustomResourceDefinition.
    #[error("{api_version} {kind} `{name}` is not an apiextensions.k8s.io/v1 CustomResourceDefinition")]
    NotACrd {
        /// The object's `apiVersion`.
        api_version: String,
        /// The object's `kind`.
        kind: String,
        /// The object's `metadata.name`.
        name: String,
    },
    /// A field the CRD needs is missing.
    #[error("CustomResourceDefinition `{crd}`: `{path}` is missing")]
    MissingField {
        /// The CRD's `metadata.name`.
        crd: String,
        /// The path of the missing field.
        path: String,
    },
    /// A field has a value the CRD format does not allow.
    #[error("CustomResourceDefinition `{crd}`: `{path}` must be {expected}")]
    InvalidField {
        /// The CRD's `metadata.name`.
        crd: String,
        /// The path of the bad field.
        path: String,
        /// What the field must be.
        expected: &'static str,
    },
}

impl SchemaError {
    /// The `metadata.name` of the object refused.
    pub fn crd(&self) -> &str {
        match self {
            SchemaError::NotACrd { name: crd, .. }
            | SchemaError::MissingField { crd, .. }
            | SchemaError::InvalidField { crd, .. } => crd,
        }
    }

    /// The path of the missing or bad field, if the error is about one.
    pub fn path(&self) -> Option<&str> {
        match self {
            SchemaError::NotACrd { .. } => None,
            SchemaError::MissingField { path, .. } | SchemaError::InvalidField { path, .. } => Some(path),
        }
    }
}
