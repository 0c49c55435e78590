//! The `Application` type: what to deploy, where, and how to keep it in sync.

use std::time::Duration;

use gitops_diff::IgnoreRule;
use serde::{Deserialize, Serialize};

/// One application: a path in a Git repository at a revision, rendered and kept in sync with a
/// target.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Application {
    /// The name: unique in the file, it names the inventory on the target (as `gitops sync --name`).
    pub name: String,
    /// Where the manifests come from.
    pub source: Source,
    /// How they are rendered.
    pub render: Render,
    /// Where they are applied.
    pub destination: Destination,
    /// How the application is kept in sync.
    pub sync_policy: SyncPolicy,
    /// Differences to ignore (Argo CD's `ignoreDifferences` entries).
    pub ignore_differences: Vec<IgnoreRule>,
    /// Health waits.
    pub health: Health,
    /// Applications that must be Synced and Healthy before this one is synced.
    pub depends_on: Vec<String>,
    /// How often the application is reconciled (Flux's `interval`; default 5m).
    pub interval: Duration,
}

/// Where the manifests come from (Argo CD's `source`, Flux's `GitRepository` + `path`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Source {
    /// The repository: a local path (relative to the file's folder), or a URL that
    /// gitops-source fetches into its cache (`file://`, `git://`, `http(s)://`, `ssh://`,
    /// `git@host:path`).
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// A branch, tag, commit or any rev-parse form, or a semver range over tags (`>=1.0.0 <2.0.0`,
    /// `1.x`, `semver:~1.2`); default `HEAD`, the default branch.
    #[serde(default = "head")]
    pub target_revision: String,
    /// The folder to render, relative to the repository root (default `.`).
    #[serde(default = "dot")]
    pub path: String,
}

fn head() -> String {
    "HEAD".to_owned()
}

fn dot() -> String {
    ".".to_owned()
}

/// How manifests are rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Render {
    /// Kustomize's load restrictor, spelled as kubectl spells it (`LoadRestrictionsRootOnly`,
    /// the default, or `LoadRestrictionsNone`).
    #[serde(default)]
    pub load_restrictor: LoadRestrictorName,
    /// Helm values files, relative to the chart. Read but not used: Helm charts are not rendered yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_files: Vec<String>,
    /// Helm values. Read but not used: Helm charts are not rendered yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "kube", schemars(schema_with = "crate::spec::object_schema"))]
    pub values: Option<serde_json::Value>,
}

/// Kustomize's load restrictor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum LoadRestrictorName {
    /// Files must be in or below the kustomization's folder.
    #[default]
    #[serde(rename = "LoadRestrictionsRootOnly")]
    RootOnly,
    /// Any file in the tree.
    #[serde(rename = "LoadRestrictionsNone")]
    None,
}

/// Which kind of target an application goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetKind {
    /// The embedded API server, its state under `./.gitops/cluster`.
    Embedded,
    /// A folder of hydrated manifests.
    Dir(String),
    /// A cluster from kubeconfig, with this context (the current one when `None`).
    Kube {
        /// The kubeconfig context.
        context: Option<String>,
    },
}

/// Where the objects are applied (Argo CD's `destination`, Flux's `kubeConfig` +
/// `targetNamespace`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Destination {
    /// The target.
    pub target: TargetKind,
    /// The namespace for namespaced objects that have none, and of the inventory (default `default`).
    pub namespace: String,
}

/// How the application is kept in sync (Argo CD's `syncPolicy`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SyncPolicy {
    /// Sync on every change when present; when absent, changes are only reported (OutOfSync).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated: Option<Automated>,
    /// How failed syncs are retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
}

/// Automated sync (Argo CD's `syncPolicy.automated`; Flux's `prune`, and Flux always heals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Automated {
    /// Delete owned objects that left Git.
    #[serde(default)]
    pub prune: bool,
    /// Undo live changes to fields we own even when Git did not change.
    #[serde(default)]
    pub self_heal: bool,
}

/// Retries of a failed sync (Argo CD's `syncPolicy.retry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Retry {
    /// How many retries (default 5).
    #[serde(default = "five")]
    pub limit: u32,
    /// The waits between them.
    #[serde(default)]
    pub backoff: Backoff,
}

fn five() -> u32 {
    5
}

/// Exponential backoff: `duration`, then times `factor`, capped at `maxDuration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Backoff {
    /// The first wait (default `5s`).
    #[serde(default = "five_seconds")]
    pub duration: String,
    /// The growth factor (default 2).
    #[serde(default = "two")]
    pub factor: u32,
    /// The longest wait (default `3m`).
    #[serde(default = "three_minutes")]
    pub max_duration: String,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { duration: five_seconds(), factor: two(), max_duration: three_minutes() }
    }
}

impl Backoff {
    /// The wait before retry `attempt` (0-based): `duration * factor^attempt`, capped.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gitops_reconcile::Backoff;
    /// let backoff = Backoff::default();
    /// assert_eq!(backoff.wait(0), Duration::from_secs(5));
    /// assert_eq!(backoff.wait(2), Duration::from_secs(20));
    /// assert_eq!(backoff.wait(30), Duration::from_secs(180));
    /// ```
    pub fn wait(&self, attempt: u32) -> Duration {
        // Both parse: the loader validated them.
        let first = crate::parse_duration(&self.duration).unwrap_or(Duration::from_secs(5));
        let cap = crate::parse_duration(&self.max_duration).unwrap_or(Duration::from_secs(180));
        let factor = self.factor.max(1).saturating_pow(attempt.min(64));
        first.saturating_mul(factor).min(cap)
    }
}

fn five_seconds() -> String {
    "5s".to_owned()
}

fn two() -> u32 {
    2
}

fn three_minutes() -> String {
    "3m".to_owned()
}

/// Health waits (Flux's `wait` + `timeout`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// How long a sync may wait for its objects to become healthy (default 5m).
    pub timeout: Duration,
}

impl Default for Health {
    fn default() -> Self {
        Health { timeout: Duration::from_secs(300) }
    }
}
