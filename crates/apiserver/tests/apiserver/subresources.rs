//! `/status` and `/scale`: the status reset rules in both directions, patches and apply on
//! `/status`, and `autoscaling/v1` `Scale` for built-ins and CRDs.

use serde_json::{Value, json};

use crate::common::{apply, get, managed, merge_patch, send, server};
use crate::crds::create_widget_crd;

const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments/web";

fn deployment(replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    }, "status": {"replicas": 99}})
}

#[test]
fn status_is_reset_in_both_directions() {
    let server = server();
    let created = apply(&server, DEPLOY, "fieldManager=gitops", &deployment(2));
    assert_eq!(created.code, 201);
    assert!(created.body.get("status").is_none(), "status applied to the main resource is dropped");
    assert_eq!(managed(&created.body)[0][2].get("f:status"), None);

    // A merge patch on /status changes status only, and not the generation.
    let patch = json!({"spec": {"replicas": 7}, "metadata": {"labels": {"x": "y"}}, "status": {"replicas": 2, "readyReplicas": 2}});
    let patched = merge_patch(&server, &format!("{DEPLOY}/status?fieldManager=ctrl"), &patch.to_string());
    assert_eq!(patched.code, 200, "{}", patched.body);
    assert_eq!(patched.body["status"], json!({"replicas": 2, "readyReplicas": 2}));
    assert_eq!(patched.body["spec"]["replicas"], 2);
    assert!(patched.body["metadata"].get("labels").is_none());
    assert_eq!(patched.body["metadata"]["generation"], 1);
    let entry = patched.body["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["manager"] == "ctrl")
        .cloned()
        .expect("ctrl's entry");
    assert_eq!(entry["subresource"], "status");
    assert_eq!(entry["operation"], "Update");
    assert_eq!(entry["fieldsV1"], json!({"f:status": {"f:readyReplicas": {}, "f:replicas": {}}}));

    // A PUT on the main resource keeps the live status; a spec change bumps the generation.
    let mut put = patched.body.clone();
    put["spec"]["replicas"] = json!(3);
    put["status"] = json!({"replicas": 0});
    let replaced = send(&server, "PUT", DEPLOY, "application/json", &put.to_string());
    assert_eq!(replaced.code, 200, "{}", replaced.body);
    assert_eq!(replaced.body["status"], json!({"replicas": 2, "readyReplicas": 2}));
    assert_eq!(replaced.body["metadata"]["generation"], 2);

    // Apply on /status owns status fields under the subresource; a PUT on /status ignores spec.
    let status = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 50}, "status": {"availableReplicas": 2}});
    let applied = apply(&server, &format!("{DEPLOY}/status"), "fieldManager=sim", &status);
    assert_eq!(applied.code, 200, "{}", applied.body);
    assert_eq!(applied.body["spec"]["replicas"], 3);
    assert_eq!(applied.body["status"]["availableReplicas"], 2);
    let sim = applied.body["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["manager"] == "sim")
        .cloned();
    assert_eq!(
        sim.map(|e| (e["subresource"].clone(), e["fieldsV1"].clone())),
        Some((json!("status"), json!({"f:status": {"f:availableReplicas": {}}})))
    );
    let mut put = applied.body.clone();
    put["spec"]["replicas"] = json!(9);
    put["status"]["replicas"] = json!(4);
    let replaced = send(&server, "PUT", &format!("{DEPLOY}/status"), "application/json", &put.to_string());
    assert_eq!(replaced.code, 200, "{}", replaced.body);
    assert_eq!(
        (replaced.body["spec"]["replicas"].clone(), replaced.body["status"]["replicas"].clone()),
        (json!(3), json!(4))
    );
    assert_eq!(get(&server, &format!("{DEPLOY}/status")).body["status"]["replicas"], 4);

    // A subresource cannot create; an unknown subresource is a 404.
    let missing =
        apply(&server, "/apis/apps/v1/namespaces/default/deployments/none/status", "fieldManager=sim", &status);
    assert_eq!(missing.code, 404);
    assert_eq!(get(&server, "/api/v1/namespaces/default/configmaps/x/status").code, 404);
}

#[test]
fn scale_reads_and_writes_replicas() {
    let server = server();
    assert_eq!(apply(&server, DEPLOY, "fieldManager=gitops", &deployment(2)).code, 201);
    let scale = get(&server, &format!("{DEPLOY}/scale"));
    assert_eq!(scale.code, 200);
    assert_eq!(scale.body["kind"], "Scale");
    assert_eq!(scale.body["apiVersion"], "autoscaling/v1");
    assert_eq!(scale.body["spec"], json!({"replicas": 2}));
    assert_eq!(scale.body["status"], json!({"replicas": 0, "selector": "app=web"}));

    // PUT with the live resourceVersion, then a stale one.
    let mut body = scale.body.clone();
    body["spec"]["replicas"] = json!(5);
    let put = send(&server, "PUT", &format!("{DEPLOY}/scale?fieldManager=hpa"), "application/json", &body.to_string());
    assert_eq!(put.code, 200, "{}", put.body);
    assert_eq!(put.body["spec"]["replicas"], 5);
    assert_eq!(send(&server, "PUT", &format!("{DEPLOY}/scale"), "application/json", &body.to_string()).code, 409);
    let stored = get(&server, DEPLOY).body;
    assert_eq!(stored["spec"]["replicas"], 5);
    let hpa = stored["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["manager"] == "hpa")
        .cloned()
        .expect("hpa");
    assert_eq!(hpa["subresource"], "scale");
    assert_eq!(hpa["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    // The applier lost `spec.replicas` to the scaler: re-applying conflicts, naming the subresource.
    let conflict = apply(&server, DEPLOY, "fieldManager=gitops", &deployment(2));
    assert_eq!(conflict.code, 409);
    assert!(
        conflict.body["message"].as_str().unwrap_or("").contains("with subresource \"scale\""),
        "{}",
        conflict.body
    );

    // Merge patch, and bad values.
    let merged = merge_patch(&server, &format!("{DEPLOY}/scale"), r#"{"spec":{"replicas":1}}"#);
    assert_eq!(merged.body["spec"]["replicas"], 1);
    let negative = merge_patch(&server, &format!("{DEPLOY}/scale"), r#"{"spec":{"replicas":-1}}"#);
    assert_eq!(negative.code, 422);
    assert_eq!(get(&server, DEPLOY).body["spec"]["replicas"], 1);
    assert_eq!(get(&server, "/api/v1/namespaces/default/services/x/scale").code, 404);
}

#[test]
fn crds_get_status_and_scale_subresources() {
    let server = server();
    create_widget_crd(&server);
    let path = "/apis/example.com/v1/namespaces/default/widgets/w";
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"replicas": 3}, "status": {"phase": "x"}});
    let created = apply(&server, path, "fieldManager=a", &widget);
    assert!(created.body.get("status").is_none());
    let status = merge_patch(&server, &format!("{path}/status"), r#"{"status":{"replicas":3,"phase":"Ready"}}"#);
    assert_eq!(status.code, 200, "{}", status.body);
    assert_eq!(status.body["metadata"]["generation"], 1);
    let scale = get(&server, &format!("{path}/scale")).body;
    assert_eq!(scale["spec"]["replicas"], 3);
    assert_eq!(scale["status"]["replicas"], 3);
    let scaled = merge_patch(&server, &format!("{path}/scale"), r#"{"spec":{"replicas":6}}"#);
    assert_eq!(scaled.code, 200, "{}", scaled.body);
    let stored = get(&server, path).body;
    assert_eq!(stored["spec"]["replicas"], 6);
    assert_eq!(stored["metadata"]["generation"], 2);
    assert_eq!(stored["status"]["phase"], "Ready");
}
