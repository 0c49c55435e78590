//! Which kinds are cluster-scoped, for the built-in Kubernetes API groups.
//!
//! This small table lets offline stages (rendering for a target namespace, the directory target)
//! tell namespaced from cluster-scoped objects without a cluster. Kinds it does not know are
//! treated as namespaced, which is what most custom resources are.

/// Whether `group`/`kind` is a built-in cluster-scoped kind.
///
/// ```
/// use gitops_core::is_cluster_scoped;
/// assert!(is_cluster_scoped("", "Namespace"));
/// assert!(is_cluster_scoped("rbac.authorization.k8s.io", "ClusterRole"));
/// assert!(!is_cluster_scoped("apps", "Deployment"));
/// ```
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "Namespace" | "Node" | "PersistentVolume" | "ComponentStatus")
            | ("rbac.authorization.k8s.io", "ClusterRole" | "ClusterRoleBinding")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("apiregistration.k8s.io", "APIService")
            | (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration"
                    | "ValidatingWebhookConfiguration"
                    | "ValidatingAdmissionPolicy"
                    | "ValidatingAdmissionPolicyBinding"
                    | "MutatingAdmissionPolicy"
                    | "MutatingAdmissionPolicyBinding"
            )
            | (
                "storage.k8s.io",
                "StorageClass" | "CSIDriver" | "CSINode" | "VolumeAttachment" | "VolumeAttributesClass"
            )
            | ("scheduling.k8s.io", "PriorityClass")
            | ("node.k8s.io", "RuntimeClass")
            | ("networking.k8s.io", "IngressClass" | "IPAddress" | "ServiceCIDR")
            | ("policy", "PodSecurityPolicy")
            | ("certificates.k8s.io", "CertificateSigningRequest" | "ClusterTrustBundle")
            | ("flowcontrol.apiserver.k8s.io", "FlowSchema" | "PriorityLevelConfiguration")
            | ("resource.k8s.io", "DeviceClass" | "ResourceSlice")
    )
}
