//! [`ApplicationSpec`]: one application's definition as it is written, shared by `gitops.yaml`
//! (where each entry adds a `name`) and the `spec` of an `Application` custom resource (where
//! the name is `metadata.name`). [`Application::from_spec`](crate::Application::from_spec)
//! checks it into an [`Application`](crate::Application).
//!
//! With the `kube` feature the same type derives kube's `CustomResource`: the
//! `gitops.dev/v1alpha1` `Application` CRD is generated from it (see [`crate::crd`]), so the
//! file and the resource cannot drift apart.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::application::{Render, Source, SyncPolicy};

/// One application as written: everything but its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(kube::CustomResource, schemars::JsonSchema))]
#[cfg_attr(
    feature = "kube",
    kube(
        group = "gitops.dev",
        version = "v1alpha1",
        kind = "Application",
        root = "ApplicationResource",
        namespaced,
        status = "crate::crd::ResourceStatus",
        shortname = "gapp",
        category = "gitops",
        printcolumn = r#"{"name":"Sync","type":"string","jsonPath":".status.sync"}"#,
        printcolumn = r#"{"name":"Health","type":"string","jsonPath":".status.health"}"#,
        printcolumn = r#"{"name":"Revision","type":"string","jsonPath":".status.lastSyncedRevision"}"#,
        printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
    )
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct ApplicationSpec {
    /// Where the manifests come from.
    pub source: Source,
    /// How they are rendered.
    #[serde(default)]
    pub render: Render,
    /// Where they are applied.
    #[serde(default)]
    pub destination: DestinationSpec,
    /// How the application is kept in sync.
    #[serde(default)]
    pub sync_policy: SyncPolicy,
    /// Differences to ignore: Argo CD's `ignoreDifferences` entries (`group`, `kind`, `name`,
    /// `namespace`, `jsonPointers`, `jqPathExpressions`, `managedFieldsManagers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "kube", schemars(schema_with = "crate::spec::objects_schema"))]
    pub ignore_differences: Vec<Value>,
    /// Health waits.
    #[serde(default)]
    pub health: HealthSpec,
    /// Applications that must be Synced and Healthy before this one is synced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// How often the application is reconciled, as a Go duration (default `5m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
}

/// Where the objects go, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct DestinationSpec {
    /// `embedded` (default), `dir:PATH` or `kube`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The kubeconfig context, only with `kube`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The namespace for namespaced objects that have none (default `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Health waits, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct HealthSpec {
    /// How long a sync may wait for its objects to become healthy, as a Go duration (default `5m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// The schema of a list of free-form objects (kept whole by the API server).
#[cfg(feature = "kube")]
pub(crate) fn objects_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
    })
}

/// The schema of one free-form object (kept whole by the API server).
#[cfg(feature = "kube")]
pub(crate) fn object_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
}
