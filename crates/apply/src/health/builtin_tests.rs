//! One test per kind, on object shapes as controllers write them.

use gitops_core::{Health, Object};
use serde_json::{Value, json};

use super::*;

fn obj(api_version: &str, kind: &str, rest: Value) -> Object {
    let mut value =
        json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "n", "generation": 2}});
    if let (Some(target), Value::Object(extra)) = (value.as_object_mut(), rest) {
        for (k, v) in extra {
            if k == "metadata" {
                if let (Some(Value::Object(meta)), Value::Object(more)) = (target.get_mut("metadata"), v) {
                    meta.extend(more);
                }
            } else {
                target.insert(k, v);
            }
        }
    }
    Object::from_value(value).expect("valid object")
}

fn health(check: fn(&Object) -> HealthStatus, object: &Object) -> Health {
    check(object).health
}

#[test]
fn deployment_rollout() {
    let spec = json!({"replicas": 3});
    let fresh = obj("apps/v1", "Deployment", json!({"spec": spec}));
    assert_eq!(health(deployment, &fresh), Health::Progressing, "no status yet");
    let old_gen = obj(
        "apps/v1",
        "Deployment",
        json!({"spec": spec, "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}}),
    );
    assert!(deployment(&old_gen).message.contains("generation 1, not 2"));
    let rolling = obj(
        "apps/v1",
        "Deployment",
        json!({"spec": spec, "status": {"observedGeneration": 2, "replicas": 4, "updatedReplicas": 2, "availableReplicas": 3}}),
    );
    assert_eq!(deployment(&rolling).message, "2 of 3 replicas updated");
    let terminating = obj(
        "apps/v1",
        "Deployment",
        json!({"spec": spec, "status": {"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}}),
    );
    assert_eq!(deployment(&terminating).message, "1 old replicas pending termination");
    let unavailable = obj(
        "apps/v1",
        "Deployment",
        json!({"spec": spec, "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 1}}),
    );
    assert_eq!(deployment(&unavailable).message, "1 of 3 updated replicas available");
    let done = obj(
        "apps/v1",
        "Deployment",
        json!({"spec": spec, "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
        "conditions": [{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}}),
    );
    assert_eq!(health(deployment, &done), Health::Healthy);
    let stuck = obj(
        "apps/v1",
        "Deployment",
        json!({"spec": spec, "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
        "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"web-1\" has timed out progressing."}]}}),
    );
    assert_eq!(health(deployment, &stuck), Health::Degraded);
    let paused = obj("apps/v1", "Deployment", json!({"spec": {"replicas": 3, "paused": true}}));
    assert_eq!(health(deployment, &paused), Health::Suspended);
    let default_replicas = obj(
        "apps/v1",
        "Deployment",
        json!({"spec": {}, "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}}),
    );
    assert_eq!(health(deployment, &default_replicas), Health::Healthy, "spec.replicas defaults to 1");
}

#[test]
fn stateful_set_rollout() {
    let spec = json!({"replicas": 2, "updateStrategy": {"type": "RollingUpdate"}});
    let rolling = obj(
        "apps/v1",
        "StatefulSet",
        json!({"spec": spec, "status": {"observedGeneration": 2, "replicas": 2, "readyReplicas": 2, "currentRevision": "db-1", "updateRevision": "db-2"}}),
    );
    assert_eq!(stateful_set(&rolling).message, "rolling out revision db-2 (at db-1)");
    let not_ready = obj(
        "apps/v1",
        "StatefulSet",
        json!({"spec": spec, "status": {"observedGeneration": 2, "replicas": 2, "readyReplicas": 1}}),
    );
    assert_eq!(stateful_set(&not_ready).message, "1 of 2 replicas ready");
    let done = obj(
        "apps/v1",
        "StatefulSet",
        json!({"spec": spec, "status": {"observedGeneration": 2, "replicas": 2, "readyReplicas": 2, "currentRevision": "db-2", "updateRevision": "db-2"}}),
    );
    assert_eq!(health(stateful_set, &done), Health::Healthy);
    let partitioned = obj(
        "apps/v1",
        "StatefulSet",
        json!({"spec": {"replicas": 4, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}},
        "status": {"observedGeneration": 2, "replicas": 4, "readyReplicas": 4, "updatedReplicas": 2, "currentRevision": "db-1", "updateRevision": "db-2"}}),
    );
    assert_eq!(health(stateful_set, &partitioned), Health::Healthy, "replicas above the partition are updated");
    let on_delete = obj(
        "apps/v1",
        "StatefulSet",
        json!({"spec": {"replicas": 2, "updateStrategy": {"type": "OnDelete"}}, "status": {"observedGeneration": 2}}),
    );
    assert_eq!(health(stateful_set, &on_delete), Health::Healthy);
}

#[test]
fn daemon_set_rollout() {
    let rolling = obj(
        "apps/v1",
        "DaemonSet",
        json!({"status": {"observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 2, "numberAvailable": 3}}),
    );
    assert_eq!(daemon_set(&rolling).message, "2 of 3 nodes updated");
    let done = obj(
        "apps/v1",
        "DaemonSet",
        json!({"status": {"observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3}}),
    );
    assert_eq!(health(daemon_set, &done), Health::Healthy);
    let lagging = obj(
        "apps/v1",
        "DaemonSet",
        json!({"status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3}}),
    );
    assert_eq!(health(daemon_set, &lagging), Health::Progressing);
}

#[test]
fn replica_set_available() {
    let rs = obj(
        "apps/v1",
        "ReplicaSet",
        json!({"spec": {"replicas": 2}, "status": {"observedGeneration": 2, "availableReplicas": 1}}),
    );
    assert_eq!(replica_set(&rs).message, "1 of 2 replicas available");
}

#[test]
fn job_outcomes() {
    let running = obj("batch/v1", "Job", json!({"status": {"active": 1, "startTime": "2026-01-01T00:00:00Z"}}));
    assert_eq!(job(&running).message, "job running (1 active pods)");
    let complete = obj(
        "batch/v1",
        "Job",
        json!({"status": {"succeeded": 1, "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]}}),
    );
    assert_eq!(health(job, &complete), Health::Healthy);
    let failed = obj(
        "batch/v1",
        "Job",
        json!({"status": {"failed": 7, "conditions": [{"type": "FailureTarget", "status": "True"}, {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}}),
    );
    let status = job(&failed);
    assert_eq!(status.health, Health::Degraded);
    assert_eq!(status.message, "job failed (BackoffLimitExceeded): Job has reached the specified backoff limit");
    let suspended = obj("batch/v1", "Job", json!({"spec": {"suspend": true}}));
    assert_eq!(health(job, &suspended), Health::Suspended);
    let cron = obj("batch/v1", "CronJob", json!({"spec": {"suspend": true, "schedule": "* * * * *"}}));
    assert_eq!(health(cron_job, &cron), Health::Suspended);
}

#[test]
fn crd_established() {
    let new = obj(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        json!({"status": {"conditions": [{"type": "NamesAccepted", "status": "True"}, {"type": "Established", "status": "False"}]}}),
    );
    assert_eq!(health(custom_resource_definition, &new), Health::Progressing);
    let ok = obj(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        json!({"status": {"conditions": [{"type": "NamesAccepted", "status": "True"}, {"type": "Established", "status": "True"}]}}),
    );
    assert_eq!(health(custom_resource_definition, &ok), Health::Healthy);
    let clash = obj(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        json!({"status": {"conditions": [{"type": "NamesAccepted", "status": "False", "reason": "ListKindConflict", "message": "WidgetList is already in use"}]}}),
    );
    assert_eq!(health(custom_resource_definition, &clash), Health::Degraded);
}

#[test]
fn namespace_pvc_service_pod() {
    assert_eq!(health(namespace, &obj("v1", "Namespace", json!({"status": {"phase": "Active"}}))), Health::Healthy);
    assert_eq!(
        health(namespace, &obj("v1", "Namespace", json!({"status": {"phase": "Terminating"}}))),
        Health::Progressing
    );
    assert_eq!(
        health(persistent_volume_claim, &obj("v1", "PersistentVolumeClaim", json!({"status": {"phase": "Bound"}}))),
        Health::Healthy
    );
    assert_eq!(
        health(persistent_volume_claim, &obj("v1", "PersistentVolumeClaim", json!({"status": {"phase": "Pending"}}))),
        Health::Progressing
    );
    assert_eq!(
        health(persistent_volume_claim, &obj("v1", "PersistentVolumeClaim", json!({"status": {"phase": "Lost"}}))),
        Health::Degraded
    );
    let lb = |status: Value| obj("v1", "Service", json!({"spec": {"type": "LoadBalancer"}, "status": status}));
    assert_eq!(health(service, &lb(json!({"loadBalancer": {}}))), Health::Progressing);
    assert_eq!(health(service, &lb(json!({"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}))), Health::Healthy);
    assert_eq!(health(service, &obj("v1", "Service", json!({"spec": {"type": "ClusterIP"}}))), Health::Healthy);
    let running = |ready: &str| {
        obj("v1", "Pod", json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ready}]}}))
    };
    assert_eq!(health(pod, &running("True")), Health::Healthy);
    assert_eq!(health(pod, &running("False")), Health::Progressing);
    assert_eq!(
        health(pod, &obj("v1", "Pod", json!({"status": {"phase": "Failed", "message": "OOMKilled"}}))),
        Health::Degraded
    );
}

#[test]
fn generic_conditions_and_generation() {
    assert_eq!(
        health(generic, &obj("v1", "ConfigMap", json!({"data": {"a": "1"}}))),
        Health::Healthy,
        "nothing to wait for"
    );
    let cert = |status: &str, observed: i64| {
        obj(
            "cert-manager.io/v1",
            "Certificate",
            json!({"status": {"observedGeneration": observed, "conditions": [{"type": "Ready", "status": status, "reason": "Issuing", "message": "Issuing certificate"}]}}),
        )
    };
    assert_eq!(generic(&cert("False", 2)).message, "not ready (Issuing): Issuing certificate");
    assert_eq!(health(generic, &cert("True", 2)), Health::Healthy);
    assert_eq!(health(generic, &cert("True", 1)), Health::Progressing, "observedGeneration lags");
    let api = obj(
        "apiregistration.k8s.io/v1",
        "APIService",
        json!({"status": {"conditions": [{"type": "Available", "status": "False"}]}}),
    );
    assert_eq!(health(generic, &api), Health::Progressing);
    let stalled = obj(
        "example.com/v1",
        "Widget",
        json!({"status": {"conditions": [{"type": "Stalled", "status": "True", "reason": "BadSpec", "message": "size must be positive"}]}}),
    );
    assert_eq!(health(generic, &stalled), Health::Degraded);
}

#[test]
fn registry_dispatches_and_users_override() {
    use crate::health::HealthChecks;
    let deploy = obj("apps/v1", "Deployment", json!({"spec": {"replicas": 1}}));
    assert_eq!(HealthChecks::default().assess(&deploy).health, Health::Progressing);
    assert_eq!(
        HealthChecks::empty().assess(&deploy).health,
        Health::Healthy,
        "the generic check has nothing to wait for"
    );
    let custom = HealthChecks::default().with("apps", "Deployment", |_: &Object| HealthStatus::healthy());
    assert_eq!(custom.assess(&deploy).health, Health::Healthy);
    let strict = HealthChecks::default().with_fallback(|_: &Object| HealthStatus::progressing("never"));
    assert_eq!(strict.assess(&obj("v1", "ConfigMap", json!({}))).health, Health::Progressing);
    assert_eq!(strict.assess(&obj("v1", "Namespace", json!({"status": {"phase": "Active"}}))).health, Health::Healthy);
}
