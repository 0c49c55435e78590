//! The resources the server serves: names, scope, verbs and subresources of every built-in kind.

use gitops_core::schema::{Schema, Scope};

use crate::subresource::ScalePaths;

/// The verbs every built-in resource here supports.
pub const VERBS: [&str; 8] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// One served resource at one group version.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resource {
    /// The API group; empty for the core group.
    pub group: String,
    /// The version served.
    pub version: String,
    /// The kind, such as `Deployment`.
    pub kind: String,
    /// The plural resource name used in paths, such as `deployments`.
    pub plural: String,
    /// The singular name, such as `deployment`.
    pub singular: String,
    /// Short names, such as `deploy`.
    pub short_names: Vec<String>,
    /// Categories, such as `all`.
    pub categories: Vec<String>,
    /// Whether objects live in a namespace.
    pub scope: Scope,
    /// The verbs allowed.
    pub verbs: Vec<String>,
    /// Subresources, such as `status` and `scale`.
    pub subresources: Vec<String>,
}

impl Resource {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The plural qualified by the group, as messages name it: `deployments.apps`, `configmaps`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() { self.plural.clone() } else { format!("{}.{}", self.plural, self.group) }
    }

    /// Whether objects live in a namespace.
    pub fn is_namespaced(&self) -> bool {
        self.scope == Scope::Namespaced
    }

    /// Whether the resource has the subresource `name`.
    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.iter().any(|sub| sub == name)
    }
}

/// (group, version, kind, plural, short names, categories, subresources, namespaced when the
/// schema table does not know the kind)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    bool,
);

const ALL: &[&str] = &["all"];
const EXT: &[&str] = &["api-extensions"];
const NONE: &[&str] = &[];
const STATUS: &[&str] = &["status"];
const SCALE: &[&str] = &["scale", "status"];

const BUILTIN: &[Row] = &[
    ("", "v1", "ConfigMap", "configmaps", &["cm"], NONE, NONE, true),
    ("", "v1", "Endpoints", "endpoints", &["ep"], NONE, NONE, true),
    ("", "v1", "Event", "events", &["ev"], NONE, NONE, true),
    ("", "v1", "Namespace", "namespaces", &["ns"], NONE, STATUS, false),
    ("", "v1", "PersistentVolume", "persistentvolumes", &["pv"], NONE, STATUS, false),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", &["pvc"], NONE, STATUS, true),
    ("", "v1", "Pod", "pods", &["po"], ALL, STATUS, true),
    ("", "v1", "Secret", "secrets", NONE, NONE, NONE, true),
    ("", "v1", "Service", "services", &["svc"], ALL, STATUS, true),
    ("", "v1", "ServiceAccount", "serviceaccounts", &["sa"], NONE, NONE, true),
    (
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        NONE,
        EXT,
        NONE,
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        NONE,
        EXT,
        NONE,
        false,
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        &["crd", "crds"],
        EXT,
        STATUS,
        false,
    ),
    ("apps", "v1", "DaemonSet", "daemonsets", &["ds"], ALL, STATUS, true),
    ("apps", "v1", "Deployment", "deployments", &["deploy"], ALL, SCALE, true),
    ("apps", "v1", "ReplicaSet", "replicasets", &["rs"], ALL, SCALE, true),
    ("apps", "v1", "StatefulSet", "statefulsets", &["sts"], ALL, SCALE, true),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", &["hpa"], ALL, STATUS, true),
    ("batch", "v1", "CronJob", "cronjobs", &["cj"], ALL, STATUS, true),
    ("batch", "v1", "Job", "jobs", NONE, ALL, STATUS, true),
    ("coordination.k8s.io", "v1", "Lease", "leases", NONE, NONE, NONE, true),
    ("events.k8s.io", "v1", "Event", "events", &["ev"], NONE, NONE, true),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", &["ing"], NONE, STATUS, true),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", NONE, NONE, NONE, false),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", &["netpol"], NONE, NONE, true),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", &["pdb"], NONE, STATUS, true),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", NONE, NONE, NONE, false),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", NONE, NONE, NONE, false),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", NONE, NONE, NONE, true),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", NONE, NONE, NONE, true),
    ("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", &["pc"], NONE, NONE, false),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses", &["sc"], NONE, NONE, false),
];

/// The set of served resources, ordered by group (core first) then plural.
///
/// ```
/// use gitops_apiserver::Registry;
/// let registry = Registry::builtin();
/// let deployments = registry.get("apps", "v1", "deployments").expect("built in");
/// assert_eq!(deployments.short_names, ["deploy"]);
/// assert!(deployments.is_namespaced());
/// assert_eq!(registry.by_kind("", "Namespace").map(|r| r.plural.as_str()), Some("namespaces"));
/// ```
#[derive(Debug, Clone)]
pub struct Registry {
    resources: Vec<Resource>,
    /// The kinds registered by CustomResourceDefinitions.
    custom: Vec<CustomKind>,
}

/// A kind a CustomResourceDefinition registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CustomKind {
    /// The CRD's name, `<plural>.<group>`.
    pub(crate) crd: String,
    pub(crate) group: String,
    pub(crate) kind: String,
    pub(crate) plural: String,
    /// Where the scale subresource reads and writes, when the CRD enables it.
    pub(crate) scale: Option<ScalePaths>,
}

impl Registry {
    /// The built-in resources.
    pub fn builtin() -> Registry {
        let schema = Schema::builtin();
        let resources = BUILTIN
            .iter()
            .map(|&(group, version, kind, plural, short, categories, subresources, namespaced)| {
                let fallback = if namespaced { Scope::Namespaced } else { Scope::Cluster };
                Resource {
                    group: group.into(),
                    version: version.into(),
                    kind: kind.into(),
                    plural: plural.into(),
                    singular: kind.to_lowercase(),
                    short_names: short.iter().map(|s| (*s).to_string()).collect(),
                    categories: categories.iter().map(|s| (*s).to_string()).collect(),
                    scope: schema.scope(group, kind).unwrap_or(fallback),
                    verbs: VERBS.iter().map(|s| (*s).to_string()).collect(),
                    subresources: subresources.iter().map(|s| (*s).to_string()).collect(),
                }
            })
            .collect();
        Registry { resources, custom: Vec::new() }
    }

    /// The CRD-registered kind `group`/`kind`, if any.
    pub(crate) fn custom_kind(&self, group: &str, kind: &str) -> Option<&CustomKind> {
        self.custom.iter().find(|custom| custom.group == group && custom.kind == kind)
    }

    /// What the CRD `crd` registered, if anything.
    pub(crate) fn custom_of(&self, crd: &str) -> Option<&CustomKind> {
        self.custom.iter().find(|custom| custom.crd == crd)
    }

    /// Registers (or re-registers) a CRD's kind, served at `resources` (most preferred version
    /// first).
    pub(crate) fn register_custom(&mut self, custom: CustomKind, resources: Vec<Resource>) {
        self.unregister_custom(&custom.crd);
        self.resources.extend(resources);
        self.custom.push(custom);
    }

    /// Unregisters what the CRD `crd` registered; returns it.
    pub(crate) fn unregister_custom(&mut self, crd: &str) -> Option<CustomKind> {
        let at = self.custom.iter().position(|custom| custom.crd == crd)?;
        let custom = self.custom.remove(at);
        self.resources.retain(|r| !(r.group == custom.group && r.kind == custom.kind));
        Some(custom)
    }

    /// Every resource, ordered by group (core first) then plural.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// The resource `plural` served at `group`/`version`.
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// The resource serving `group`/`kind`, at any version.
    pub fn by_kind(&self, group: &str, kind: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.group == group && r.kind == kind)
    }

    /// The served groups in discovery order (core `""` first), each with its versions.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for resource in &self.resources {
            match groups.iter_mut().find(|(group, _)| *group == resource.group) {
                Some((_, versions)) if !versions.contains(&resource.version) => versions.push(resource.version.clone()),
                Some(_) => {}
                None => groups.push((resource.group.clone(), vec![resource.version.clone()])),
            }
        }
        groups
    }

    /// The resources served at `group`/`version`.
    pub fn in_group_version<'a>(&'a self, group: &'a str, version: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.iter().filter(move |r| r.group == group && r.version == version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_come_from_the_schema() {
        let registry = Registry::builtin();
        for (group, plural, namespaced) in
            [("", "namespaces", false), ("", "configmaps", true), ("rbac.authorization.k8s.io", "clusterroles", false)]
        {
            let resource =
                registry.resources().iter().find(|r| r.group == group && r.plural == plural).expect("registered");
            assert_eq!(resource.is_namespaced(), namespaced, "{plural}");
        }
        assert_eq!(registry.groups()[0].0, "");
        assert!(registry.groups().iter().any(|(group, versions)| group == "autoscaling" && versions == &["v2"]));
    }
}
