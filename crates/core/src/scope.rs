//! Which kinds are cluster-scoped.

use crate::schema::{Schema, Scope};

/// Whether `group`/`kind` is a built-in cluster-scoped kind (Kubernetes 1.37, from the schema
/// table). Kinds the table does not know, custom resources included, count as namespaced, which
/// is what most custom resources are; use [`Schema::scope`] with the CRDs added to know for sure.
///
/// ```
/// use gitops_core::is_cluster_scoped;
/// assert!(is_cluster_scoped("", "Namespace"));
/// assert!(is_cluster_scoped("rbac.authorization.k8s.io", "ClusterRole"));
/// assert!(!is_cluster_scoped("apps", "Deployment"));
/// assert!(!is_cluster_scoped("example.com", "Widget"));
/// ```
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    Schema::builtin().scope(group, kind) == Some(Scope::Cluster)
}
