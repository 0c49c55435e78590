//! Server defaulting: the values the API server fills in when a manifest leaves them out.
//!
//! Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs and CronJobs get their controller
//! defaults (replicas, strategies, history limits, deadlines) and every pod template the pod
//! defaults (restart and DNS policy, scheduler, security context, grace period, and per
//! container the image pull policy, termination message path and policy, port protocols);
//! Services get a type, session affinity, port protocols and target ports, IP family fields and a
//! cluster IP allocated from `10.96.0.0/12` (stable: derived from the namespace and name, and
//! unique among stored Services); PersistentVolumeClaims get a volume mode.
//!
//! Non-apply writes are defaulted before their ownership is computed, so their `Update` entries
//! own what was defaulted, as upstream; applies are defaulted after the merge, so appliers never
//! own defaulted fields.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::store::meta_str;
use crate::verbs::{State, Target};

/// The first address of the Service range, `10.96.0.0`, and its size (a /12).
const SERVICE_RANGE: (u32, u32) = (0x0a60_0000, 1 << 20);

/// Inserts `key: value` into `map` when the key is absent.
fn or_insert(map: &mut Map<String, Value>, key: &str, value: Value) {
    if !map.contains_key(key) {
        map.insert(key.into(), value);
    }
}

fn object_at<'a>(value: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let map = value.as_object_mut()?;
    if !map.contains_key(key) {
        map.insert(key.into(), json!({}));
    }
    map.get_mut(key).and_then(Value::as_object_mut)
}

/// The pull policy for `image`: `Always` for `:latest` or no tag, else `IfNotPresent`.
pub(crate) fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

fn default_container(container: &mut Value) {
    let image = container.get("image").and_then(Value::as_str).unwrap_or("").to_owned();
    let Some(map) = container.as_object_mut() else { return };
    if !image.is_empty() {
        or_insert(map, "imagePullPolicy", json!(pull_policy(&image)));
    }
    or_insert(map, "terminationMessagePath", json!("/dev/termination-log"));
    or_insert(map, "terminationMessagePolicy", json!("File"));
    or_insert(map, "resources", json!({}));
    for port in map.get_mut("ports").and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(port) = port.as_object_mut() {
            or_insert(port, "protocol", json!("TCP"));
        }
    }
}

/// Pod spec defaults.
fn default_pod_spec(spec: &mut Map<String, Value>) {
    or_insert(spec, "restartPolicy", json!("Always"));
    or_insert(spec, "terminationGracePeriodSeconds", json!(30));
    or_insert(spec, "dnsPolicy", json!("ClusterFirst"));
    or_insert(spec, "securityContext", json!({}));
    or_insert(spec, "schedulerName", json!("default-scheduler"));
    for list in ["initContainers", "containers"] {
        for container in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            default_container(container);
        }
    }
}

/// Defaults the pod template at `spec.template` (or below `pointer`).
fn default_template(object: &mut Value, pointer: &str) {
    if let Some(spec) = object.pointer_mut(pointer).and_then(Value::as_object_mut) {
        default_pod_spec(spec);
    }
}

fn default_workload(kind: &str, object: &mut Value) {
    let Some(spec) = object_at(object, "spec") else { return };
    match kind {
        "Deployment" => {
            or_insert(spec, "replicas", json!(1));
            or_insert(spec, "revisionHistoryLimit", json!(10));
            or_insert(spec, "progressDeadlineSeconds", json!(600));
            let strategy = spec.entry("strategy").or_insert_with(|| json!({}));
            if let Some(strategy) = strategy.as_object_mut() {
                or_insert(strategy, "type", json!("RollingUpdate"));
                if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                    let rolling = strategy.entry("rollingUpdate").or_insert_with(|| json!({}));
                    if let Some(rolling) = rolling.as_object_mut() {
                        or_insert(rolling, "maxUnavailable", json!("25%"));
                        or_insert(rolling, "maxSurge", json!("25%"));
                    }
                }
            }
        }
        "ReplicaSet" => or_insert(spec, "replicas", json!(1)),
        "StatefulSet" => {
            or_insert(spec, "replicas", json!(1));
            or_insert(spec, "podManagementPolicy", json!("OrderedReady"));
            or_insert(spec, "revisionHistoryLimit", json!(10));
            or_insert(spec, "updateStrategy", json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}));
            or_insert(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
        }
        "DaemonSet" => {
            or_insert(spec, "revisionHistoryLimit", json!(10));
            or_insert(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
            );
        }
        "Job" => {
            or_insert(spec, "parallelism", json!(1));
            or_insert(spec, "completions", json!(1));
            or_insert(spec, "backoffLimit", json!(6));
            or_insert(spec, "completionMode", json!("NonIndexed"));
            or_insert(spec, "suspend", json!(false));
        }
        "CronJob" => {
            or_insert(spec, "concurrencyPolicy", json!("Allow"));
            or_insert(spec, "suspend", json!(false));
            or_insert(spec, "successfulJobsHistoryLimit", json!(3));
            or_insert(spec, "failedJobsHistoryLimit", json!(1));
        }
        _ => {}
    }
    match kind {
        "CronJob" => default_template(object, "/spec/jobTemplate/spec/template/spec"),
        _ => default_template(object, "/spec/template/spec"),
    }
}

fn default_service(object: &mut Value, cluster_ip: impl FnOnce() -> String) {
    let Some(spec) = object_at(object, "spec") else { return };
    or_insert(spec, "type", json!("ClusterIP"));
    let kind = spec.get("type").and_then(Value::as_str).unwrap_or("ClusterIP").to_owned();
    if kind == "ExternalName" {
        return;
    }
    or_insert(spec, "sessionAffinity", json!("None"));
    for port in spec.get_mut("ports").and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(port) = port.as_object_mut() {
            or_insert(port, "protocol", json!("TCP"));
            if let Some(number) = port.get("port").cloned() {
                or_insert(port, "targetPort", number);
            }
        }
    }
    if !spec.contains_key("clusterIP") {
        let ip = spec
            .get("clusterIPs")
            .and_then(Value::as_array)
            .and_then(|ips| ips.first())
            .and_then(Value::as_str)
            .map_or_else(cluster_ip, str::to_owned);
        spec.insert("clusterIP".into(), json!(ip));
    }
    if let Some(ip) = spec.get("clusterIP").cloned() {
        or_insert(spec, "clusterIPs", json!([ip]));
    }
    if spec.get("clusterIP").and_then(Value::as_str) != Some("None") {
        or_insert(spec, "ipFamilies", json!(["IPv4"]));
        or_insert(spec, "ipFamilyPolicy", json!("SingleStack"));
    }
    or_insert(spec, "internalTrafficPolicy", json!("Cluster"));
    if kind == "NodePort" || kind == "LoadBalancer" {
        or_insert(spec, "externalTrafficPolicy", json!("Cluster"));
    }
}

/// The 32-bit FNV-1a hash of `text`: stable across runs and platforms.
pub(crate) fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash: u32, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193))
}

fn format_ip(ip: u32) -> String {
    let [a, b, c, d] = ip.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

impl State {
    /// Fills in the server's defaults on `object`, about to be written at `target` (not on
    /// subresource writes); `live` is the stored object on updates. Nothing when defaulting is
    /// off.
    pub(crate) fn default_object(&self, target: &Target, live: Option<&Value>, object: &mut Value) {
        if !self.defaulting || target.subresource.is_some() {
            return;
        }
        match (target.resource.group.as_str(), target.resource.kind.as_str()) {
            ("apps", kind @ ("Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"))
            | ("batch", kind @ ("Job" | "CronJob")) => default_workload(kind, object),
            ("", "Pod") => {
                if let Some(spec) = object_at(object, "spec") {
                    default_pod_spec(spec);
                }
            }
            ("", "Service") => {
                // The cluster IP is immutable: an update that leaves it out keeps the live one.
                let live_ip = live.and_then(|live| live.pointer("/spec/clusterIP")).cloned();
                if let (Some(ip), Some(spec)) = (live_ip, object_at(object, "spec")) {
                    or_insert(spec, "clusterIP", ip);
                }
                let name =
                    format!("{}/{}", target.namespace.as_deref().unwrap_or(""), meta_str(object, "name").unwrap_or(""));
                default_service(object, || self.allocate_cluster_ip(&name));
            }
            ("", "PersistentVolumeClaim") => {
                if let Some(spec) = object_at(object, "spec") {
                    or_insert(spec, "volumeMode", json!("Filesystem"));
                }
            }
            _ => {}
        }
    }

    /// A free Service IP, derived from `name` so that it is stable across runs.
    fn allocate_cluster_ip(&self, name: &str) -> String {
        let services: Vec<Value> = self.store.list("", "services", None, None).map(|(_, s)| s.value()).collect();
        let taken: HashSet<&str> =
            services.iter().filter_map(|service| service.pointer("/spec/clusterIP").and_then(Value::as_str)).collect();
        let (base, size) = SERVICE_RANGE;
        let hash = fnv1a(name);
        // Offsets 0 (the network) and 1 (the `kubernetes` Service) are never handed out.
        let usable = size - 3;
        (0..usable)
            .map(|probe| base + 2 + (hash.wrapping_add(probe) % usable))
            .map(format_ip)
            .find(|ip| !taken.contains(ip.as_str()))
            .unwrap_or_else(|| format_ip(base + 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(pull_policy("nginx"), "Always");
        assert_eq!(pull_policy("nginx:latest"), "Always");
        assert_eq!(pull_policy("nginx:1.25"), "IfNotPresent");
        assert_eq!(pull_policy("registry:5000/team/app"), "Always");
        assert_eq!(pull_policy("registry:5000/team/app:v2"), "IfNotPresent");
        assert_eq!(pull_policy("nginx@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn deployments_get_controller_and_pod_defaults() {
        let mut object = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1", "ports": [{"containerPort": 80}]}]}}}});
        default_workload("Deployment", &mut object);
        assert_eq!(object["spec"]["replicas"], 1);
        assert_eq!(
            object["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        let container = &object["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["imagePullPolicy"], "IfNotPresent");
        assert_eq!(container["ports"][0]["protocol"], "TCP");
        assert_eq!(object["spec"]["template"]["spec"]["dnsPolicy"], "ClusterFirst");
        // Recreate gets no rolling update parameters.
        let mut recreate = json!({"spec": {"strategy": {"type": "Recreate"}}});
        default_workload("Deployment", &mut recreate);
        assert_eq!(recreate["spec"]["strategy"], json!({"type": "Recreate"}));
    }
}
