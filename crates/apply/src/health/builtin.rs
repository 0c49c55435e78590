//! The built-in health checks: one pure function per kind, from the fields its controller
//! publishes (the rules of kstatus and of Argo CD's Go checks).

use gitops_core::{Health, Object};
use serde_json::Value;

use super::HealthStatus;

/// A built-in check.
pub(super) type Check = fn(&Object) -> HealthStatus;

/// The built-in checks by group and kind.
pub(super) const CHECKS: &[(&str, &str, Check)] = &[
    ("apps", "Deployment", deployment),
    ("apps", "StatefulSet", stateful_set),
    ("apps", "DaemonSet", daemon_set),
    ("apps", "ReplicaSet", replica_set),
    ("batch", "Job", job),
    ("batch", "CronJob", cron_job),
    ("apiextensions.k8s.io", "CustomResourceDefinition", custom_resource_definition),
    ("", "Namespace", namespace),
    ("", "PersistentVolumeClaim", persistent_volume_claim),
    ("", "Service", service),
    ("", "Pod", pod),
];

fn int(object: &Object, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

fn text<'o>(object: &'o Object, pointer: &str) -> Option<&'o str> {
    object.pointer(pointer).and_then(Value::as_str)
}

/// A condition's `status` (`True`, `False`, `Unknown`), reason and message.
fn condition<'o>(object: &'o Object, kind: &str) -> Option<(&'o str, &'o str, &'o str)> {
    object.pointer("/status/conditions")?.as_array()?.iter().find_map(|c| {
        (c.get("type")?.as_str()? == kind).then(|| {
            let field = |f: &str| c.get(f).and_then(Value::as_str).unwrap_or("");
            (field("status"), field("reason"), field("message"))
        })
    })
}

/// Progressing while the controller has not seen the latest spec (`observedGeneration` behind
/// `generation`). Without an `observedGeneration` (or a `generation`) there is nothing to compare.
fn generation_lag(object: &Object) -> Option<HealthStatus> {
    let generation = int(object, "/metadata/generation")?;
    let observed = int(object, "/status/observedGeneration")?;
    (observed < generation).then(|| {
        HealthStatus::progressing(format!("the controller has observed generation {observed}, not {generation}"))
    })
}

/// Like [`generation_lag`], but a missing status counts as not observed: the workload
/// controllers always publish `observedGeneration`.
fn observed(object: &Object) -> Option<HealthStatus> {
    if object.pointer("/status/observedGeneration").is_none() {
        return Some(HealthStatus::progressing("waiting for the controller to observe the object"));
    }
    generation_lag(object)
}

fn waiting(done: i64, want: i64, what: &str) -> Option<HealthStatus> {
    (done < want).then(|| HealthStatus::progressing(format!("{done} of {want} {what}")))
}

/// Deployments: rolled out when the latest generation is observed and every replica is
/// updated and available, with no old replica left. A paused Deployment is suspended, one past
/// its progress deadline is degraded.
pub fn deployment(object: &Object) -> HealthStatus {
    if object.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return HealthStatus::new(Health::Suspended, "rollout paused");
    }
    if let Some(lag) = observed(object) {
        return lag;
    }
    if let Some((_, "ProgressDeadlineExceeded", message)) = condition(object, "Progressing") {
        return HealthStatus::degraded(format!("progress deadline exceeded: {message}"));
    }
    let want = int(object, "/spec/replicas").unwrap_or(1);
    let updated = int(object, "/status/updatedReplicas").unwrap_or(0);
    let total = int(object, "/status/replicas").unwrap_or(0);
    let available = int(object, "/status/availableReplicas").unwrap_or(0);
    waiting(updated, want, "replicas updated")
        .or_else(|| {
            (total > updated)
                .then(|| HealthStatus::progressing(format!("{} old replicas pending termination", total - updated)))
        })
        .or_else(|| waiting(available, updated, "updated replicas available"))
        .unwrap_or_else(HealthStatus::healthy)
}

/// StatefulSets: every replica ready and on the update revision (for a partitioned rolling
/// update, the replicas above the partition); `OnDelete` sets are healthy once observed.
pub fn stateful_set(object: &Object) -> HealthStatus {
    if let Some(lag) = observed(object) {
        return lag;
    }
    if text(object, "/spec/updateStrategy/type") == Some("OnDelete") {
        return HealthStatus::healthy();
    }
    let want = int(object, "/spec/replicas").unwrap_or(1);
    let ready = int(object, "/status/readyReplicas").unwrap_or(0);
    if let Some(w) = waiting(ready, want, "replicas ready") {
        return w;
    }
    if let Some(partition) = int(object, "/spec/updateStrategy/rollingUpdate/partition").filter(|p| *p > 0) {
        let updated = int(object, "/status/updatedReplicas").unwrap_or(0);
        return waiting(updated, want - partition, "replicas updated above the partition")
            .unwrap_or_else(HealthStatus::healthy);
    }
    match (text(object, "/status/currentRevision"), text(object, "/status/updateRevision")) {
        (Some(current), Some(update)) if current != update => {
            HealthStatus::progressing(format!("rolling out revision {update} (at {current})"))
        }
        _ => HealthStatus::healthy(),
    }
}

/// DaemonSets: every scheduled node runs an updated, available pod.
pub fn daemon_set(object: &Object) -> HealthStatus {
    if let Some(lag) = observed(object) {
        return lag;
    }
    let want = int(object, "/status/desiredNumberScheduled").unwrap_or(0);
    let updated = int(object, "/status/updatedNumberScheduled").unwrap_or(0);
    let available = int(object, "/status/numberAvailable").unwrap_or(0);
    waiting(updated, want, "nodes updated")
        .or_else(|| waiting(available, want, "nodes available"))
        .unwrap_or_else(HealthStatus::healthy)
}

/// ReplicaSets: every replica available.
pub fn replica_set(object: &Object) -> HealthStatus {
    if let Some(lag) = observed(object) {
        return lag;
    }
    let want = int(object, "/spec/replicas").unwrap_or(1);
    waiting(int(object, "/status/availableReplicas").unwrap_or(0), want, "replicas available")
        .unwrap_or_else(HealthStatus::healthy)
}

/// Jobs: `Complete` is healthy, `Failed` degraded, a suspended Job suspended, anything else
/// still running.
pub fn job(object: &Object) -> HealthStatus {
    if let Some(("True", reason, message)) = condition(object, "Failed") {
        return HealthStatus::degraded(format!("job failed ({reason}): {message}"));
    }
    if matches!(condition(object, "Complete"), Some(("True", ..))) {
        return HealthStatus::healthy();
    }
    if object.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return HealthStatus::new(Health::Suspended, "job suspended");
    }
    let active = int(object, "/status/active").unwrap_or(0);
    HealthStatus::progressing(format!("job running ({active} active pods)"))
}

/// CronJobs: suspended when `spec.suspend`, else healthy (their Jobs carry the outcome).
pub fn cron_job(object: &Object) -> HealthStatus {
    if object.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        HealthStatus::new(Health::Suspended, "cron job suspended")
    } else {
        HealthStatus::healthy()
    }
}

/// CustomResourceDefinitions: `Established`; names the server refused are degraded.
pub fn custom_resource_definition(object: &Object) -> HealthStatus {
    if let Some(("False", reason, message)) = condition(object, "NamesAccepted") {
        return HealthStatus::degraded(format!("names not accepted ({reason}): {message}"));
    }
    match condition(object, "Established") {
        Some(("True", ..)) => HealthStatus::healthy(),
        _ => HealthStatus::progressing("not established yet"),
    }
}

/// Namespaces: `Active`; a terminating namespace is still progressing (towards its end).
pub fn namespace(object: &Object) -> HealthStatus {
    match text(object, "/status/phase") {
        Some("Active") => HealthStatus::healthy(),
        Some(phase) => HealthStatus::progressing(format!("namespace is {phase}")),
        None => HealthStatus::progressing("namespace has no phase yet"),
    }
}

/// PersistentVolumeClaims: `Bound`; `Lost` is degraded.
pub fn persistent_volume_claim(object: &Object) -> HealthStatus {
    match text(object, "/status/phase") {
        Some("Bound") => HealthStatus::healthy(),
        Some("Lost") => HealthStatus::degraded("claim lost its volume"),
        Some(phase) => HealthStatus::progressing(format!("claim is {phase}")),
        None => HealthStatus::progressing("claim is not bound yet"),
    }
}

/// Services: a `LoadBalancer` is healthy once it has an ingress address; other types at once.
pub fn service(object: &Object) -> HealthStatus {
    if text(object, "/spec/type") != Some("LoadBalancer") {
        return HealthStatus::healthy();
    }
    let ingress = object.pointer("/status/loadBalancer/ingress").and_then(Value::as_array);
    if ingress.is_some_and(|i| !i.is_empty()) {
        HealthStatus::healthy()
    } else {
        HealthStatus::progressing("waiting for a load balancer address")
    }
}

/// Pods: `Succeeded` or running and `Ready` is healthy, `Failed` degraded.
pub fn pod(object: &Object) -> HealthStatus {
    match text(object, "/status/phase") {
        Some("Succeeded") => HealthStatus::healthy(),
        Some("Failed") => HealthStatus::degraded(text(object, "/status/message").unwrap_or("pod failed").to_owned()),
        Some("Running") if matches!(condition(object, "Ready"), Some(("True", ..))) => HealthStatus::healthy(),
        Some(phase) => HealthStatus::progressing(format!("pod is {phase}")),
        None => HealthStatus::progressing("pod has no phase yet"),
    }
}

/// Any other kind: progressing while `observedGeneration` lags, degraded when `Stalled`, then
/// the `Ready` (else `Available`) condition decides; an object with neither is healthy as soon
/// as it exists (ConfigMaps, RBAC, most custom resources without a controller).
pub fn generic(object: &Object) -> HealthStatus {
    if let Some(lag) = generation_lag(object) {
        return lag;
    }
    if let Some(("True", reason, message)) = condition(object, "Stalled") {
        return HealthStatus::degraded(format!("stalled ({reason}): {message}"));
    }
    let Some((status, reason, message)) = condition(object, "Ready").or_else(|| condition(object, "Available")) else {
        return HealthStatus::healthy();
    };
    match status {
        "True" => HealthStatus::healthy(),
        _ if reason.is_empty() && message.is_empty() => HealthStatus::progressing("not ready"),
        _ => HealthStatus::progressing(format!("not ready ({reason}): {message}")),
    }
}

#[cfg(test)]
#[path = "builtin_tests.rs"]
mod tests;
