//! Status simulation: workloads become available, Jobs complete, claims bind, as a separate
//! field manager, immediately or after a delay.

use std::time::Duration;

use bytes::Bytes;
use gitops_apiserver::{ApiServer, ApiServerOptions};
use http::Request;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use crate::common::{apply, get, server};

const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments/web";

fn simulating(delay: Duration) -> ApiServer {
    ApiServer::new(ApiServerOptions::default().deterministic().simulate_status(Some(delay)))
}

fn deployment(replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}
    }})
}

fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == kind)
}

#[test]
fn deployments_become_available_through_their_own_manager() {
    let server = simulating(Duration::ZERO);
    let created = apply(&server, DEPLOY, "fieldManager=gitops", &deployment(2));
    assert_eq!(created.code, 201);
    let live = get(&server, DEPLOY).body;
    assert_eq!(live["status"]["observedGeneration"], 1);
    assert_eq!(live["status"]["availableReplicas"], 2);
    assert_eq!(condition(&live, "Available").map(|c| &c["status"]), Some(&json!("True")));
    assert_eq!(condition(&live, "Progressing").map(|c| &c["reason"]), Some(&json!("NewReplicaSetAvailable")));
    let rv = |object: &Value| object["metadata"]["resourceVersion"].as_str().and_then(|rv| rv.parse::<u64>().ok());
    assert_eq!(rv(&live), rv(&created.body).map(|rv| rv + 1), "the simulated status is a write of its own");
    let entry = live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["manager"] == "gitops-status-simulator")
        .cloned()
        .expect("the simulator's entry");
    assert_eq!((entry["operation"].clone(), entry["subresource"].clone()), (json!("Update"), json!("status")));

    // A no-op apply triggers nothing; a spec change is observed at its new generation.
    let again = apply(&server, DEPLOY, "fieldManager=gitops", &deployment(2));
    assert_eq!(again.body["metadata"]["resourceVersion"], live["metadata"]["resourceVersion"]);
    assert_eq!(get(&server, DEPLOY).body["metadata"]["resourceVersion"], live["metadata"]["resourceVersion"]);
    apply(&server, DEPLOY, "fieldManager=gitops", &deployment(3));
    let live = get(&server, DEPLOY).body;
    assert_eq!(
        (live["metadata"]["generation"].clone(), live["status"]["observedGeneration"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(live["status"]["readyReplicas"], 3);
}

#[test]
fn jobs_complete_and_claims_bind() {
    let server = simulating(Duration::ZERO);
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"}, "spec": {"completions": 2,
        "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
    apply(&server, "/apis/batch/v1/namespaces/default/jobs/once", "fieldManager=gitops", &job);
    let live = get(&server, "/apis/batch/v1/namespaces/default/jobs/once").body;
    assert_eq!(live["status"]["succeeded"], 2);
    assert_eq!(condition(&live, "Complete").map(|c| &c["status"]), Some(&json!("True")));

    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
    apply(&server, "/api/v1/namespaces/default/persistentvolumeclaims/data", "fieldManager=gitops", &claim);
    let live = get(&server, "/api/v1/namespaces/default/persistentvolumeclaims/data").body;
    assert_eq!(
        live["status"],
        json!({"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}})
    );

    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"replicas": 3,
        "selector": {"matchLabels": {"app": "db"}}, "serviceName": "db",
        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "postgres:16"}]}}}});
    apply(&server, "/apis/apps/v1/namespaces/default/statefulsets/db", "fieldManager=gitops", &sts);
    let live = get(&server, "/apis/apps/v1/namespaces/default/statefulsets/db").body;
    assert_eq!(live["status"]["readyReplicas"], 3);
    assert_eq!(live["status"]["currentRevision"], live["status"]["updateRevision"]);
}

#[test]
fn the_delay_is_honoured_by_a_background_task() {
    let server = simulating(Duration::from_millis(200));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let request = Request::patch(format!("{DEPLOY}?fieldManager=gitops"))
            .header("content-type", "application/apply-patch+yaml")
            .body(Full::new(Bytes::from(deployment(1).to_string())))
            .expect("request");
        let response = server.call(request).await;
        let body: Value =
            serde_json::from_slice(&response.into_body().collect().await.expect("body").to_bytes()).expect("json");
        assert!(body.get("status").is_none());
        assert!(get_async(&server).await.get("status").is_none(), "not before the delay");
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if get_async(&server).await["status"]["availableReplicas"] == 1 {
                return;
            }
        }
        panic!("the status never came");
    });
}

async fn get_async(server: &ApiServer) -> Value {
    let request = Request::get(DEPLOY).body(Full::new(Bytes::new())).expect("request");
    let response = server.call(request).await;
    serde_json::from_slice(&response.into_body().collect().await.expect("body").to_bytes()).expect("json")
}

#[test]
fn simulation_is_off_unless_asked_for() {
    let server = server();
    apply(&server, DEPLOY, "fieldManager=gitops", &deployment(1));
    assert!(get(&server, DEPLOY).body.get("status").is_none());
}
