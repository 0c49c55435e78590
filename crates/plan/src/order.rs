//! The fixed order of kinds.

/// Helm's install order (`pkg/release/v1/util/kind_sorter.go`, Helm 4).
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
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
    "CustomResourceDefinition",
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

/// The position of `kind` in Helm's install order; kinds the table does not know come after all
/// it knows (and among themselves, by name, as the plan then orders by [`ObjectRef`](gitops_core::ObjectRef)).
///
/// Within a wave, plans list steps in this order (prunes in its reverse); across waves, the
/// stages and references decide.
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
