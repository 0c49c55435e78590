//! Status simulation, as kwok does it: workloads become available, Jobs complete, claims bind.
//!
//! With [`ApiServerOptions::simulate_status`](crate::ApiServerOptions::simulate_status) on,
//! every write to a Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or PersistentVolumeClaim
//! schedules, after the configured delay, a status write as the field manager
//! [`MANAGER`] through the `status` subresource: it bumps the resourceVersion and reaches
//! watchers like any other write. Deployments and the other workloads report all replicas
//! ready and available at the current generation (with the `Available` and `Progressing`
//! conditions for Deployments), Jobs report `Complete` with their completions succeeded, claims
//! report `Bound` with the requested capacity. Namespaces are `Active` and CRDs `Established`
//! as soon as they are written, without simulation.
//!
//! A zero delay writes the status before the triggering request is answered (deterministic for
//! tests); otherwise a tokio task (or, outside a runtime, a thread) waits and then writes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::defaults::fnv1a;
use crate::server::ApiServer;
use crate::ssa;
use crate::store::{Key, meta_str};
use crate::verbs::{Env, State, Target};

/// The field manager of simulated status writes.
pub(crate) const MANAGER: &str = "gitops-status-simulator";

fn int(object: &Value, pointer: &str, default: i64) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(default)
}

/// A short stable hash of the pod template, as revision and ReplicaSet names carry one.
fn template_hash(object: &Value) -> String {
    let text = object.pointer("/spec/template").map(Value::to_string).unwrap_or_default();
    let hash = fnv1a(&text);
    format!("{hash:08x}")
        .chars()
        .map(|c| if c.is_ascii_digit() { c } else { char::from(b'b' + (c as u8 - b'a')) })
        .collect()
}

fn condition(kind: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": kind, "status": "True", "lastUpdateTime": now, "lastTransitionTime": now, "reason": reason, "message": message})
}

/// Keeps the transition times of conditions whose status did not change, so that a repeated
/// simulation settles.
fn keep_times(desired: &mut Value, live: &Value) {
    let previous = live.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    for condition in desired.get_mut("conditions").and_then(Value::as_array_mut).into_iter().flatten() {
        let same = previous
            .iter()
            .find(|p| p.get("type") == condition.get("type") && p.get("status") == condition.get("status"));
        if let (Some(same), Some(map)) = (same, condition.as_object_mut()) {
            for key in ["lastUpdateTime", "lastTransitionTime", "lastProbeTime"] {
                if let Some(time) = same.get(key) {
                    map.insert(key.into(), time.clone());
                }
            }
        }
    }
    for key in ["startTime", "completionTime"] {
        if let (Some(time), Some(map)) = (live.pointer(&format!("/status/{key}")), desired.as_object_mut()) {
            map.insert(key.into(), time.clone());
        }
    }
}

/// The status the simulated controllers give `object` of `kind`; `None` for kinds not simulated.
pub(crate) fn desired_status(group: &str, kind: &str, object: &Value, now: &str) -> Option<Value> {
    let generation = int(object, "/metadata/generation", 1);
    let name = meta_str(object, "name").unwrap_or("");
    let replicas = int(object, "/spec/replicas", 1);
    let mut status = match (group, kind) {
        ("apps", "Deployment") => {
            let rs = format!("{name}-{}", template_hash(object));
            json!({
                "observedGeneration": generation,
                "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                "conditions": [
                    condition("Available", "MinimumReplicasAvailable", "Deployment has minimum availability.", now),
                    condition("Progressing", "NewReplicaSetAvailable", &format!("ReplicaSet \"{rs}\" has successfully progressed."), now),
                ]
            })
        }
        ("apps", "ReplicaSet") => json!({
            "observedGeneration": generation,
            "replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas
        }),
        ("apps", "StatefulSet") => {
            let revision = format!("{name}-{}", template_hash(object));
            json!({
                "observedGeneration": generation,
                "replicas": replicas, "readyReplicas": replicas, "currentReplicas": replicas,
                "updatedReplicas": replicas, "availableReplicas": replicas,
                "currentRevision": revision, "updateRevision": revision, "collisionCount": 0
            })
        }
        ("apps", "DaemonSet") => json!({
            "observedGeneration": generation,
            "currentNumberScheduled": 1, "desiredNumberScheduled": 1, "numberAvailable": 1,
            "numberMisscheduled": 0, "numberReady": 1, "updatedNumberScheduled": 1
        }),
        ("batch", "Job") => {
            if object.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
                return None;
            }
            let completions = int(object, "/spec/completions", 1);
            let done = |kind: &str, reason: &str, message: &str| json!({"type": kind, "status": "True", "lastProbeTime": now, "lastTransitionTime": now, "reason": reason, "message": message});
            json!({
                "startTime": now, "completionTime": now, "succeeded": completions, "ready": 0, "terminating": 0,
                "uncountedTerminatedPods": {},
                "conditions": [
                    done("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"),
                    done("Complete", "CompletionsReached", "Reached expected number of succeeded pods"),
                ]
            })
        }
        ("", "PersistentVolumeClaim") => {
            let mut status = json!({"phase": "Bound"});
            if let Some(modes) = object.pointer("/spec/accessModes") {
                status["accessModes"] = modes.clone();
            }
            if let Some(storage) = object.pointer("/spec/resources/requests/storage") {
                status["capacity"] = json!({"storage": storage});
            }
            status
        }
        _ => return None,
    };
    if replicas == 0
        && let Some(map) = status.as_object_mut()
    {
        map.retain(|key, value| !(value == &json!(0) && key.ends_with("Replicas")));
    }
    Some(status)
}

/// Whether writes to `group`/`kind` are simulated.
pub(crate) fn simulated(group: &str, kind: &str) -> bool {
    desired_status(group, kind, &json!({}), "").is_some()
}

impl State {
    /// Writes the simulated status of the object at `key`, if it needs one; true when it wrote.
    pub(crate) fn simulate(&mut self, env: Env<'_>, key: &Key) -> bool {
        let (Some(live), Some(target)) = (self.store.value(key), self.target_of(key)) else { return false };
        if meta_str(&live, "deletionTimestamp").is_some() {
            return false;
        }
        let now = rfc3339(env.now);
        let Some(mut status) = desired_status(&target.resource.group, &target.resource.kind, &live, &now) else {
            return false;
        };
        keep_times(&mut status, &live);
        if live.get("status") == Some(&status) {
            return false;
        }
        let mut object = ssa::without_managed_fields(&live);
        object["status"] = status;
        let target = Target { subresource: Some("status".into()), ..target };
        let api_version = target.resource.api_version();
        let writer = target.writer(MANAGER, &api_version, &now);
        match ssa::update(Some(&live), &object, &writer) {
            Some(object) => {
                self.commit_update(&target, &live, object, false);
                true
            }
            None => false,
        }
    }
}

impl ApiServer {
    /// After a write to `target` (answered or about to be): schedules its simulated status.
    pub(crate) fn schedule_simulation(&self, target: &Target) {
        let Some(delay) = self.simulation_delay() else { return };
        let (Some(name), None) = (target.name.as_deref(), target.subresource.as_deref()) else { return };
        if !simulated(&target.resource.group, &target.resource.kind) {
            return;
        }
        let key = target.key(name);
        if delay.is_zero() {
            self.run_simulation(&key);
            return;
        }
        let server = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    tokio::time::sleep(delay).await;
                    server.run_simulation(&key);
                });
            }
            Err(_) => {
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    server.run_simulation(&key);
                });
            }
        }
    }

    fn simulation_delay(&self) -> Option<Duration> {
        self.options().simulate_status
    }

    /// Writes the simulated status of the object at `key` now, through the usual commit (so it
    /// is persisted and watchers see it).
    pub(crate) fn run_simulation(&self, key: &Key) {
        let mut state = self.lock();
        let uids = self.uids();
        let env = Env { now: self.options().clock.now(), uids };
        let wrote = state.simulate(env, key);
        // A failed commit (the state directory is gone) undoes the write; the next write retries.
        let _ = self.commit(&mut state, wrote);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_become_available_at_their_generation() {
        let object = json!({"metadata": {"name": "web", "generation": 3}, "spec": {"replicas": 2, "template": {}}});
        let status = desired_status("apps", "Deployment", &object, "2026-01-01T00:00:00Z").expect("simulated");
        assert_eq!(status["observedGeneration"], 3);
        assert_eq!(status["availableReplicas"], 2);
        assert_eq!(status["conditions"][0]["type"], "Available");
        assert!(desired_status("", "ConfigMap", &object, "").is_none());
        let zero = json!({"metadata": {"name": "web"}, "spec": {"replicas": 0}});
        let status = desired_status("apps", "Deployment", &zero, "").expect("simulated");
        assert!(status.get("readyReplicas").is_none());
        assert_eq!(status["replicas"], 0);
    }
}
