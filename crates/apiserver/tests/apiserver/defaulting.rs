//! Server defaulting: what is filled in, who owns it, and that it can be switched off.

use gitops_apiserver::{ApiServer, ApiServerOptions};
use serde_json::{Value, json};

use crate::common::{apply, get, managed, send, server};

const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments/web";
const SVC: &str = "/api/v1/namespaces/default/services";

fn defaulting() -> ApiServer {
    ApiServer::new(ApiServerOptions::default().deterministic().defaulting(true))
}

fn deployment(spec_extra: &Value) -> Value {
    let mut object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "app", "image": "example/app:1.0", "ports": [{"containerPort": 8080}]},
            {"name": "sidecar", "image": "example/sidecar"}
        ]}}
    }});
    for (key, value) in spec_extra.as_object().into_iter().flatten() {
        object["spec"][key] = value.clone();
    }
    object
}

#[test]
fn applied_deployments_are_defaulted_but_defaults_are_not_owned() {
    let server = defaulting();
    let created = apply(&server, DEPLOY, "fieldManager=gitops", &deployment(&json!({})));
    assert_eq!(created.code, 201, "{}", created.body);
    let spec = &created.body["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(
        [
            &pod["restartPolicy"],
            &pod["dnsPolicy"],
            &pod["schedulerName"],
            &pod["terminationGracePeriodSeconds"],
            &pod["securityContext"]
        ],
        [&json!("Always"), &json!("ClusterFirst"), &json!("default-scheduler"), &json!(30), &json!({})]
    );
    assert_eq!(pod["containers"][0]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(pod["containers"][1]["imagePullPolicy"], "Always");
    assert_eq!(pod["containers"][0]["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(pod["containers"][0]["terminationMessagePolicy"], "File");
    assert_eq!(pod["containers"][0]["ports"][0]["protocol"], "TCP");

    // The applier owns what it applied, nothing defaulted.
    let fields = managed(&created.body)[0][2].to_string();
    for defaulted in
        ["f:replicas", "f:strategy", "f:revisionHistoryLimit", "f:imagePullPolicy", "f:dnsPolicy", "f:protocol"]
    {
        assert!(!fields.contains(defaulted), "{defaulted} in {fields}");
    }

    // Re-applying is a no-op; applying then dropping replicas returns them to the default.
    let again = apply(&server, DEPLOY, "fieldManager=gitops", &deployment(&json!({})));
    assert_eq!(again.body["metadata"]["resourceVersion"], created.body["metadata"]["resourceVersion"]);
    let three = apply(&server, DEPLOY, "fieldManager=gitops", &deployment(&json!({"replicas": 3})));
    assert_eq!(three.body["spec"]["replicas"], 3);
    let dropped = apply(&server, DEPLOY, "fieldManager=gitops", &deployment(&json!({})));
    assert_eq!(dropped.body["spec"]["replicas"], 1);
    // Switching to Recreate by apply meets the defaulted rolling update parameters, which nobody
    // owns: the API server refuses it, as a real one does; a merge patch that clears them works.
    let recreate =
        apply(&server, DEPLOY, "fieldManager=gitops", &deployment(&json!({"strategy": {"type": "Recreate"}})));
    assert_eq!(recreate.code, 422, "{}", recreate.body);
    assert_eq!(recreate.body["details"]["causes"][0]["field"], "spec.strategy.rollingUpdate");
    let patch = r#"{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}"#;
    let patched = send(&server, "PATCH", DEPLOY, "application/merge-patch+json", patch);
    assert_eq!(patched.body["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn updates_own_what_was_defaulted() {
    let server = defaulting();
    let body = deployment(&json!({})).to_string();
    let created = send(
        &server,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl-create",
        "application/json",
        &body,
    );
    assert_eq!(created.code, 201);
    let fields = managed(&created.body)[0][2].to_string();
    assert!(fields.contains("f:imagePullPolicy") && fields.contains("f:replicas"), "{fields}");
}

#[test]
fn services_get_a_stable_cluster_ip() {
    let server = defaulting();
    let service = |name: &str| json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
    let web = send(&server, "POST", SVC, "application/json", &service("web").to_string()).body;
    let spec = &web["spec"];
    assert_eq!(spec["type"], "ClusterIP");
    assert_eq!(spec["sessionAffinity"], "None");
    assert_eq!(spec["ports"][0], json!({"port": 80, "protocol": "TCP", "targetPort": 80}));
    let ip = spec["clusterIP"].as_str().expect("allocated").to_owned();
    assert!(ip.starts_with("10."), "{ip}");
    assert_eq!(spec["clusterIPs"], json!([ip]));
    // Another server allocates the same address to the same Service; another Service differs.
    let other = defaulting();
    let same = send(&other, "POST", SVC, "application/json", &service("web").to_string()).body;
    assert_eq!(same["spec"]["clusterIP"], json!(ip));
    let api = send(&server, "POST", SVC, "application/json", &service("api").to_string()).body;
    assert_ne!(api["spec"]["clusterIP"], json!(ip));
    // An update that leaves the cluster IP out keeps it; a re-apply does too.
    let mut put = service("web");
    put["metadata"]["resourceVersion"] = web["metadata"]["resourceVersion"].clone();
    let replaced = send(&server, "PUT", &format!("{SVC}/web"), "application/json", &put.to_string());
    assert_eq!(replaced.body["spec"]["clusterIP"], json!(ip));
    assert_eq!(
        apply(&server, &format!("{SVC}/web"), "fieldManager=gitops", &service("web")).body["spec"]["clusterIP"],
        json!(ip)
    );
}

#[test]
fn defaulting_is_off_unless_asked_for() {
    let server = server();
    let created = apply(&server, DEPLOY, "fieldManager=gitops", &deployment(&json!({})));
    assert!(created.body["spec"].get("replicas").is_none());
    assert!(get(&server, DEPLOY).body["spec"]["template"]["spec"]["containers"][0].get("imagePullPolicy").is_none());
}
