//! `ApiServer::open`: state that survives restarts, and recovery from a torn or corrupt log.

use std::path::Path;

use gitops_apiserver::{ApiServer, ApiServerOptions, StateError};
use serde_json::{Value, json};

use crate::common::{apply, get, send};

const CM: &str = "/api/v1/namespaces/default/configmaps";

fn open(dir: &Path) -> ApiServer {
    ApiServer::open(dir, ApiServerOptions::default().deterministic()).expect("the state directory opens")
}

fn configmap(name: &str, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": value}})
}

#[test]
fn objects_survive_a_restart() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (created, revision) = {
        let server = open(dir.path());
        assert_eq!(server.object_count(), 4, "the system namespaces");
        let created = apply(&server, &format!("{CM}/one"), "fieldManager=me", &configmap("one", "1"));
        assert_eq!(created.code, 201, "{}", created.body);
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}});
        assert_eq!(send(&server, "POST", "/api/v1/namespaces", "application/json", &ns.to_string()).code, 201);
        let doomed = configmap("doomed", "x").to_string();
        assert_eq!(send(&server, "POST", CM, "application/json", &doomed).code, 201);
        assert_eq!(send(&server, "DELETE", &format!("{CM}/doomed"), "", "").code, 200);
        let dry = apply(&server, &format!("{CM}/dry"), "fieldManager=me&dryRun=All", &configmap("dry", "1"));
        assert_eq!(dry.code, 201);
        let list = get(&server, CM);
        (created.body, list.body["metadata"]["resourceVersion"].as_str().map(str::to_owned))
    };
    let server = open(dir.path());
    let recovery = server.recovery().expect("a persistent server reports its recovery");
    assert_eq!(recovery.discarded_bytes, 0);
    assert_eq!(Some(recovery.revision.to_string()), revision);
    assert_eq!(get(&server, &format!("{CM}/one")).body, created, "byte for byte, managedFields included");
    assert_eq!(get(&server, "/api/v1/namespaces/team").code, 200);
    assert_eq!(get(&server, &format!("{CM}/doomed")).code, 404);
    assert_eq!(get(&server, &format!("{CM}/dry")).code, 404, "a dry run is never stored");
    // The resourceVersion carries on from where it stopped.
    let updated = apply(&server, &format!("{CM}/one"), "fieldManager=me", &configmap("one", "2"));
    let rv = |body: &Value| body["metadata"]["resourceVersion"].as_str().and_then(|s| s.parse::<u64>().ok());
    assert!(rv(&updated.body) > revision.as_deref().and_then(|s| s.parse().ok()), "{}", updated.body);
}

/// Writes two objects, stops, then lets `damage` loose on the log.
fn two_writes_then(damage: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    {
        let server = open(dir.path());
        assert_eq!(apply(&server, &format!("{CM}/first"), "fieldManager=me", &configmap("first", "1")).code, 201);
        assert_eq!(apply(&server, &format!("{CM}/second"), "fieldManager=me", &configmap("second", "2")).code, 201);
    }
    damage(&dir.path().join("log"));
    dir
}

fn assert_last_good_state(dir: &Path) {
    let server = open(dir);
    let recovery = server.recovery().cloned().expect("a recovery report");
    assert!(recovery.discarded_bytes > 0, "{recovery:?}");
    assert_eq!(get(&server, &format!("{CM}/first")).body["data"]["a"], "1");
    assert_eq!(get(&server, &format!("{CM}/second")).code, 404, "the damaged write is not served");
    // Writing after recovery appends after the cut, and all of it survives the next restart.
    assert_eq!(apply(&server, &format!("{CM}/third"), "fieldManager=me", &configmap("third", "3")).code, 201);
    drop(server);
    let server = open(dir);
    assert_eq!(server.recovery().map(|r| r.discarded_bytes), Some(0));
    assert_eq!(get(&server, &format!("{CM}/first")).code, 200);
    assert_eq!(get(&server, &format!("{CM}/third")).body["data"]["a"], "3");
}

#[test]
fn a_torn_last_write_is_cut_off() {
    let dir = two_writes_then(|log| {
        let bytes = std::fs::read(log).expect("the log");
        std::fs::write(log, &bytes[..bytes.len() - 7]).expect("a shorter log");
    });
    assert_last_good_state(dir.path());
}

#[test]
fn a_corrupt_last_write_is_cut_off() {
    let dir = two_writes_then(|log| {
        let mut bytes = std::fs::read(log).expect("the log");
        let at = bytes.len() - 20;
        bytes[at] ^= 0x20;
        std::fs::write(log, &bytes).expect("a damaged log");
    });
    assert_last_good_state(dir.path());
}

#[test]
fn garbage_after_the_last_write_is_cut_off() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    {
        let server = open(dir.path());
        assert_eq!(apply(&server, &format!("{CM}/first"), "fieldManager=me", &configmap("first", "1")).code, 201);
    }
    let log = dir.path().join("log");
    let mut bytes = std::fs::read(&log).expect("the log");
    bytes.extend_from_slice(&[0xff, 0xff, 0x00, 0x00, 1, 2, 3]);
    std::fs::write(&log, &bytes).expect("a log with a torn header");
    let server = open(dir.path());
    assert_eq!(server.recovery().map(|r| r.discarded_bytes), Some(7));
    assert_eq!(get(&server, &format!("{CM}/first")).code, 200);
}

#[test]
fn compaction_keeps_everything() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    {
        let server = open(dir.path());
        for i in 0..20 {
            let name = format!("cm-{i}");
            assert_eq!(apply(&server, &format!("{CM}/{name}"), "fieldManager=me", &configmap(&name, "v")).code, 201);
        }
        server.compact().expect("a compaction");
        assert_eq!(std::fs::metadata(dir.path().join("log")).map(|m| m.len()).ok(), Some(0));
        assert_eq!(send(&server, "DELETE", &format!("{CM}/cm-3"), "", "").code, 200);
    }
    let server = open(dir.path());
    assert_eq!(server.recovery().map(|r| (r.objects, r.replayed)), Some((23, 1)));
    assert_eq!(get(&server, CM).body["items"].as_array().map(Vec::len), Some(19));
}

#[test]
fn a_damaged_snapshot_is_refused_and_a_second_opener_is_locked_out() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = open(dir.path());
    let second = ApiServer::open(dir.path(), ApiServerOptions::default());
    assert!(matches!(second, Err(StateError::Locked { .. })), "{second:?}");
    drop(server);
    let snapshot = dir.path().join("snapshot");
    let mut bytes = std::fs::read(&snapshot).expect("the snapshot");
    let at = bytes.len() - 3;
    bytes[at] ^= 0x01;
    std::fs::write(&snapshot, &bytes).expect("a damaged snapshot");
    let error = ApiServer::open(dir.path(), ApiServerOptions::default()).expect_err("a corrupt snapshot is refused");
    assert!(matches!(error, StateError::Corrupt { .. }), "{error}");
    assert!(error.to_string().contains("snapshot is corrupt"), "{error}");
}

#[test]
fn a_failed_request_leaves_no_trace() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    {
        let server = open(dir.path());
        let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}});
        assert_eq!(send(&server, "POST", CM, "application/json", &bad.to_string()).code, 422);
    }
    let server = open(dir.path());
    assert_eq!(server.recovery().map(|r| r.replayed), Some(0));
    assert_eq!(server.object_count(), 4);
}

#[test]
fn custom_kinds_come_back_with_their_objects() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let widget =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"replicas": 2}});
    let path = "/apis/example.com/v1/namespaces/default/widgets/w";
    {
        let server = open(dir.path());
        crate::crds::create_widget_crd(&server);
        assert_eq!(apply(&server, path, "fieldManager=me", &widget).code, 201);
    }
    let server = open(dir.path());
    assert_eq!(server.recovery().map(|r| r.discarded_bytes), Some(0));
    assert_eq!(get(&server, path).body["spec"]["replicas"], 2);
    let resources = get(&server, "/apis/example.com/v1").body;
    assert!(resources["resources"].as_array().into_iter().flatten().any(|r| r["name"] == "widgets"), "{resources}");
    // The CRD's schema drives ownership again: `ports` is a keyed list.
    let ports = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                       "spec": {"ports": [{"name": "http", "port": 80}]}});
    let applied = apply(&server, path, "fieldManager=other", &ports);
    assert_eq!(applied.code, 200, "{}", applied.body);
    let fields = &applied.body["metadata"]["managedFields"][1]["fieldsV1"];
    assert!(fields["f:spec"]["f:ports"].get("k:{\"name\":\"http\"}").is_some(), "{fields}");
}
