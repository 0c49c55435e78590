//! The fixed order of kinds.

/// Helm's install order (`pkg/release/v1/util/kind_sorter.go`, Helm 4), as a match so a lookup
/// costs no scan: planning ranks every step.
fn install_order(kind: &str) -> Option<usize> {
    Some(match kind {
        "PriorityClass" => 0,
        "Namespace" => 1,
        "NetworkPolicy" => 2,
        "ResourceQuota" => 3,
        "LimitRange" => 4,
        "PodSecurityPolicy" => 5,
        "PodDisruptionBudget" => 6,
        "ServiceAccount" => 7,
        "Secret" => 8,
        "SecretList" => 9,
        "ConfigMap" => 10,
        "StorageClass" => 11,
        "PersistentVolume" => 12,
        "PersistentVolumeClaim" => 13,
        "CustomResourceDefinition" => 14,
        "ClusterRole" => 15,
        "ClusterRoleList" => 16,
        "ClusterRoleBinding" => 17,
        "ClusterRoleBindingList" => 18,
        "Role" => 19,
        "RoleList" => 20,
        "RoleBinding" => 21,
        "RoleBindingList" => 22,
        "Service" => 23,
        "DaemonSet" => 24,
        "Pod" => 25,
        "ReplicationController" => 26,
        "ReplicaSet" => 27,
        "Deployment" => 28,
        "HorizontalPodAutoscaler" => 29,
        "StatefulSet" => 30,
        "Job" => 31,
        "CronJob" => 32,
        "IngressClass" => 33,
        "Ingress" => 34,
        "APIService" => 35,
        "MutatingWebhookConfiguration" => 36,
        "ValidatingWebhookConfiguration" => 37,
        _ => return None,
    })
}

/// How many kinds [`install_order`] knows.
const KNOWN: usize = 38;

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
    install_order(kind).unwrap_or(KNOWN)
}
