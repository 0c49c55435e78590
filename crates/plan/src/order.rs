//! The fixed order of kinds.

/// Helm's install order (`releaseutil.InstallOrder`), after Namespaces and CRDs which always lead.
const INSTALL_ORDER: &[&str] = &[
    "Namespace",
    "CustomResourceDefinition",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The position of `kind` in the apply order; kinds the table does not know come after all it knows.
///
/// ```
/// use gitops_plan::kind_rank;
/// assert!(kind_rank("Namespace") < kind_rank("CustomResourceDefinition"));
/// assert!(kind_rank("ConfigMap") < kind_rank("Deployment"));
/// assert!(kind_rank("Deployment") < kind_rank("Certificate"));
/// ```
pub fn kind_rank(kind: &str) -> usize {
    INSTALL_ORDER.iter().position(|k| *k == kind).unwrap_or(INSTALL_ORDER.len())
}
