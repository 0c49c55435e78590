//! Implicit references: the objects an object names in its spec.

use gitops_core::{Object, ObjectRef, split_api_version};
use serde_json::Value;

use crate::model::Reason;

/// One object named by another, borrowed from the naming object (no allocation: planning
/// reads every reference of every object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference<'a> {
    /// The API group of the object named.
    pub(crate) group: &'a str,
    /// Its kind.
    pub(crate) kind: &'a str,
    /// Its namespace, for namespaced kinds.
    pub(crate) namespace: Option<&'a str>,
    /// Its name.
    pub(crate) name: &'a str,
    /// How it is named.
    pub(crate) reason: Reason,
    /// Whether a missing object is expected to be fine (`optional: true`, built-in defaults).
    pub(crate) optional: bool,
}

impl Reference<'_> {
    /// The key the planner indexes objects by.
    pub(crate) fn key(&self) -> Key<'_> {
        (self.group, self.kind, self.namespace, self.name)
    }

    /// The object named, owned, for messages.
    pub(crate) fn to_object_ref(&self) -> ObjectRef {
        ObjectRef::new(self.group, self.kind, self.namespace, self.name)
    }
}

/// Group, kind, namespace and name, borrowed: how the planner finds an object.
pub(crate) type Key<'a> = (&'a str, &'a str, Option<&'a str>, &'a str);

/// The borrowed key of an object reference.
pub(crate) fn key(r: &ObjectRef) -> Key<'_> {
    (&r.group, &r.kind, r.namespace.as_deref(), &r.name)
}

struct Out<'a> {
    namespace: Option<&'a str>,
    refs: Vec<Reference<'a>>,
}

impl<'a> Out<'a> {
    fn add(&mut self, group: &'a str, kind: &'a str, namespaced: bool, name: Option<&'a Value>, reason: Reason) {
        self.add_optional(group, kind, namespaced, name, reason, false);
    }

    fn add_optional(
        &mut self,
        group: &'a str,
        kind: &'a str,
        namespaced: bool,
        name: Option<&'a Value>,
        reason: Reason,
        optional: bool,
    ) {
        let namespace = if namespaced { self.namespace } else { None };
        if namespaced && namespace.is_none() {
            return;
        }
        self.push(group, kind, namespace, name, reason, optional);
    }

    fn push(
        &mut self,
        group: &'a str,
        kind: &'a str,
        namespace: Option<&'a str>,
        name: Option<&'a Value>,
        reason: Reason,
        optional: bool,
    ) {
        let Some(name) = name.and_then(Value::as_str).filter(|n| !n.is_empty()) else { return };
        if namespace.is_some_and(str::is_empty) {
            return;
        }
        let reference = Reference { group, kind, namespace, name, reason, optional };
        if !self.refs.iter().any(|r| r.key() == reference.key() && r.reason == reference.reason) {
            self.refs.push(reference);
        }
    }
}

fn items(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

fn optional(value: &Value) -> bool {
    value.get("optional").and_then(Value::as_bool).unwrap_or(false)
}

/// The pod spec of a workload: a Pod's own, a CronJob's job template's, or any kind's
/// `spec.template.spec` holding containers (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
/// ReplicationController, and custom workloads such as Argo Rollouts).
pub(crate) fn pod_spec(object: &Object) -> Option<&Value> {
    if not_a_workload(object.kind()) {
        return None;
    }
    let spec = match object.kind() {
        "Pod" => object.pointer("/spec"),
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => object.pointer("/spec/template/spec"),
    }?;
    spec.get("containers").is_some().then_some(spec)
}

/// Built-in kinds that have no pod template, skipped without looking (planning reads every
/// object).
fn not_a_workload(kind: &str) -> bool {
    matches!(
        kind,
        "ConfigMap"
            | "Secret"
            | "ServiceAccount"
            | "Service"
            | "Namespace"
            | "Role"
            | "RoleBinding"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "Ingress"
            | "IngressClass"
            | "HorizontalPodAutoscaler"
            | "PodDisruptionBudget"
            | "PersistentVolumeClaim"
            | "PersistentVolume"
            | "StorageClass"
            | "PriorityClass"
            | "NetworkPolicy"
            | "ResourceQuota"
            | "LimitRange"
            | "CustomResourceDefinition"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "APIService"
            | "Endpoints"
            | "EndpointSlice"
    )
}

/// The labels of a workload's pods, for PodDisruptionBudget selectors.
pub(crate) fn pod_labels(object: &Object) -> Option<&Value> {
    pod_spec(object)?;
    match object.kind() {
        "Pod" => object.pointer("/metadata/labels"),
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template/metadata/labels"),
        _ => object.pointer("/spec/template/metadata/labels"),
    }
}

/// Whether a `metav1.LabelSelector` (matchLabels, matchExpressions) selects `labels`. An empty
/// or absent selector selects nothing here: a PDB without a selector protects no workload.
pub(crate) fn selects(selector: &Value, labels: &Value) -> bool {
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    if match_labels.is_none_or(serde_json::Map::is_empty) && expressions.is_none_or(Vec::is_empty) {
        return false;
    }
    let labels_hold = match_labels.into_iter().flatten().all(|(k, v)| v.as_str().is_some_and(|v| label(k) == Some(v)));
    labels_hold
        && expressions.into_iter().flatten().all(|e| {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let values: Vec<&str> = items(e.get("values")).filter_map(Value::as_str).collect();
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => label(key).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => label(key).is_none_or(|v| !values.contains(&v)),
                Some("Exists") => label(key).is_some(),
                Some("DoesNotExist") => label(key).is_none(),
                _ => false,
            }
        })
}

fn pod_references<'a>(spec: &'a Value, out: &mut Out<'a>) {
    for volume in items(spec.get("volumes")) {
        if let Some(cm) = volume.get("configMap") {
            out.add_optional("", "ConfigMap", true, cm.get("name"), Reason::Mounts, optional(cm));
        }
        if let Some(secret) = volume.get("secret") {
            out.add_optional("", "Secret", true, secret.get("secretName"), Reason::Mounts, optional(secret));
        }
        if let Some(claim) = volume.get("persistentVolumeClaim") {
            out.add("", "PersistentVolumeClaim", true, claim.get("claimName"), Reason::Mounts);
        }
        for source in items(volume.pointer("/projected/sources")) {
            if let Some(cm) = source.get("configMap") {
                out.add_optional("", "ConfigMap", true, cm.get("name"), Reason::Mounts, optional(cm));
            }
            if let Some(secret) = source.get("secret") {
                out.add_optional("", "Secret", true, secret.get("name"), Reason::Mounts, optional(secret));
            }
        }
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for container in items(spec.get(list)) {
            for env in items(container.get("env")) {
                if let Some(r) = env.pointer("/valueFrom/configMapKeyRef") {
                    out.add_optional("", "ConfigMap", true, r.get("name"), Reason::ReadsEnv, optional(r));
                }
                if let Some(r) = env.pointer("/valueFrom/secretKeyRef") {
                    out.add_optional("", "Secret", true, r.get("name"), Reason::ReadsEnv, optional(r));
                }
            }
            for from in items(container.get("envFrom")) {
                if let Some(r) = from.get("configMapRef") {
                    out.add_optional("", "ConfigMap", true, r.get("name"), Reason::ReadsEnv, optional(r));
                }
                if let Some(r) = from.get("secretRef") {
                    out.add_optional("", "Secret", true, r.get("name"), Reason::ReadsEnv, optional(r));
                }
            }
        }
    }
    let account = spec.get("serviceAccountName").or_else(|| spec.get("serviceAccount"));
    // Every namespace has a `default` ServiceAccount.
    let default = account.and_then(Value::as_str) == Some("default");
    out.add_optional("", "ServiceAccount", true, account, Reason::RunsAs, default);
    for secret in items(spec.get("imagePullSecrets")) {
        out.add("", "Secret", true, secret.get("name"), Reason::PullsWith);
    }
    let priority = spec.get("priorityClassName");
    let builtin = priority.and_then(Value::as_str).is_some_and(|p| p.starts_with("system-"));
    out.add_optional("scheduling.k8s.io", "PriorityClass", false, priority, Reason::HasPriority, builtin);
    out.add("node.k8s.io", "RuntimeClass", false, spec.get("runtimeClassName"), Reason::UsesClass);
}

/// Built-in cluster roles every cluster has.
fn builtin_cluster_role(name: &str) -> bool {
    matches!(name, "cluster-admin" | "admin" | "edit" | "view") || name.starts_with("system:")
}

fn binding_references<'a>(object: &'a Object, out: &mut Out<'a>) {
    const RBAC: &str = "rbac.authorization.k8s.io";
    if let Some(role) = object.pointer("/roleRef") {
        let name = role.get("name");
        match role.get("kind").and_then(Value::as_str) {
            Some("Role") => out.add(RBAC, "Role", true, name, Reason::Binds),
            Some("ClusterRole") => {
                let builtin = name.and_then(Value::as_str).is_some_and(builtin_cluster_role);
                out.add_optional(RBAC, "ClusterRole", false, name, Reason::Binds, builtin);
            }
            _ => {}
        }
    }
    for subject in items(object.pointer("/subjects")) {
        if subject.get("kind").and_then(Value::as_str) == Some("ServiceAccount") {
            let namespace = subject.get("namespace").and_then(Value::as_str).or(out.namespace);
            let default = subject.get("name").and_then(Value::as_str) == Some("default");
            if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
                out.push("", "ServiceAccount", Some(ns), subject.get("name"), Reason::GrantsTo, default);
            }
        }
    }
}

fn ingress_references<'a>(object: &'a Object, out: &mut Out<'a>) {
    out.add("networking.k8s.io", "IngressClass", false, object.pointer("/spec/ingressClassName"), Reason::UsesClass);
    let backend = |b: &'a Value| b.pointer("/service/name").or_else(|| b.get("serviceName"));
    let mut services: Vec<&Value> = object.pointer("/spec/defaultBackend").and_then(backend).into_iter().collect();
    services.extend(object.pointer("/spec/backend").and_then(backend));
    for rule in items(object.pointer("/spec/rules")) {
        for path in items(rule.pointer("/http/paths")) {
            services.extend(path.get("backend").and_then(backend));
        }
    }
    for service in services {
        out.add("", "Service", true, Some(service), Reason::RoutesTo);
    }
}

fn webhook_references<'a>(object: &'a Object, out: &mut Out<'a>) {
    for webhook in items(object.pointer("/webhooks")) {
        if let Some(service) = webhook.pointer("/clientConfig/service") {
            let ns = service.get("namespace").and_then(Value::as_str);
            if ns.is_some() {
                out.push("", "Service", ns, service.get("name"), Reason::Calls, false);
            }
        }
    }
}

/// The objects `object` names, in the order found, duplicates removed.
///
/// Namespaces and CRDs are not among them: the planner adds those edges itself.
pub(crate) fn references(object: &Object) -> Vec<Reference<'_>> {
    let mut out = Out { namespace: object.namespace(), refs: Vec::new() };
    let (group, _) = split_api_version(object.api_version());
    match (group, object.kind()) {
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => binding_references(object, &mut out),
        ("networking.k8s.io" | "extensions", "Ingress") => ingress_references(object, &mut out),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration") => {
            webhook_references(object, &mut out);
        }
        ("apiregistration.k8s.io", "APIService") => {
            if let Some(service) = object.pointer("/spec/service") {
                let ns = service.get("namespace").and_then(Value::as_str);
                if ns.is_some() {
                    out.push("", "Service", ns, service.get("name"), Reason::Calls, false);
                }
            }
        }
        ("autoscaling", "HorizontalPodAutoscaler") => {
            if let Some(target) = object.pointer("/spec/scaleTargetRef") {
                let kind = target.get("kind").and_then(Value::as_str).unwrap_or_default();
                let (group, _) = split_api_version(target.get("apiVersion").and_then(Value::as_str).unwrap_or(""));
                if !kind.is_empty() {
                    out.add(group, kind, true, target.get("name"), Reason::Scales);
                }
            }
        }
        ("", "PersistentVolumeClaim") => {
            out.add(
                "storage.k8s.io",
                "StorageClass",
                false,
                object.pointer("/spec/storageClassName"),
                Reason::UsesClass,
            );
        }
        _ => {}
    }
    if let Some(spec) = pod_spec(object) {
        pod_references(spec, &mut out);
    }
    for template in items(object.pointer("/spec/volumeClaimTemplates")) {
        let class = template.pointer("/spec/storageClassName");
        out.add("storage.k8s.io", "StorageClass", false, class, Reason::UsesClass);
    }
    out.refs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(object: &Value) -> Vec<String> {
        let object = Object::from_value(object.clone()).expect("valid");
        references(&object).iter().map(|r| format!("{} {}", r.reason, r.to_object_ref())).collect()
    }

    #[test]
    fn deployment_pod_template() {
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app", "namespace": "n"},
            "spec": {"template": {"spec": {
                "serviceAccountName": "app", "priorityClassName": "high", "imagePullSecrets": [{"name": "reg"}],
                "volumes": [{"name": "c", "configMap": {"name": "cfg"}}, {"name": "d", "persistentVolumeClaim": {"claimName": "data"}},
                            {"name": "p", "projected": {"sources": [{"secret": {"name": "tls"}}]}}],
                "containers": [{"name": "a", "envFrom": [{"secretRef": {"name": "env"}}],
                                "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "x"}}}]}]
            }}}
        });
        assert_eq!(
            names(&deployment),
            [
                "mounts ConfigMap/n/cfg",
                "mounts PersistentVolumeClaim/n/data",
                "mounts Secret/n/tls",
                "reads environment from ConfigMap/n/cfg",
                "reads environment from Secret/n/env",
                "runs as ServiceAccount/n/app",
                "pulls images with Secret/n/reg",
                "takes its priority from PriorityClass/high",
            ]
        );
    }

    #[test]
    fn cronjob_binding_ingress_webhook_hpa() {
        let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c", "namespace": "n"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [], "serviceAccountName": "runner"}}}}}});
        assert_eq!(names(&cron), ["runs as ServiceAccount/n/runner"]);
        let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"},
            "roleRef": {"kind": "ClusterRole", "name": "reader"}, "subjects": [{"kind": "ServiceAccount", "name": "app", "namespace": "n"}, {"kind": "User", "name": "bob"}]});
        assert_eq!(names(&binding), ["binds ClusterRole/reader", "grants to ServiceAccount/n/app"]);
        let ingress = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i", "namespace": "n"},
            "spec": {"ingressClassName": "nginx", "rules": [{"http": {"paths": [{"backend": {"service": {"name": "web"}}}]}}]}});
        assert_eq!(names(&ingress), ["uses IngressClass/nginx", "routes to Service/n/web"]);
        let hook = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "v"},
            "webhooks": [{"name": "w", "clientConfig": {"service": {"name": "wh", "namespace": "cert-manager"}}}]});
        assert_eq!(names(&hook), ["calls Service/cert-manager/wh"]);
        let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h", "namespace": "n"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "app"}}});
        assert_eq!(names(&hpa), ["scales Deployment/n/app"]);
    }

    #[test]
    fn selectors() {
        let labels = json!({"app": "web", "tier": "front"});
        assert!(selects(&json!({"matchLabels": {"app": "web"}}), &labels));
        assert!(!selects(&json!({"matchLabels": {"app": "db"}}), &labels));
        assert!(selects(
            &json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}),
            &labels
        ));
        assert!(!selects(&json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}), &labels));
        assert!(!selects(&json!({}), &labels), "an empty selector protects nothing");
    }
}
