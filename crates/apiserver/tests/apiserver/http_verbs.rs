//! Every verb and error shape over HTTP, in process.

use serde_json::json;

use crate::common::{apply, get, send, send_with, server};

const CM: &str = "/api/v1/namespaces/default/configmaps";

fn configmap(name: &str, labels: serde_json::Value) -> String {
    let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}});
    object["metadata"]["labels"] = labels;
    object.to_string()
}

#[test]
fn discovery_is_negotiated() {
    let server = server();
    let aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let reply = send_with(&server, "GET", "/apis", &[("accept", aggregated)], "");
    assert_eq!(reply.content_type, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    assert_eq!(reply.body["kind"], "APIGroupDiscoveryList");
    let apps =
        reply.body["items"].as_array().into_iter().flatten().find(|g| g["metadata"]["name"] == "apps").expect("apps");
    let deployments = apps["versions"][0]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["resource"] == "deployments")
        .expect("deployments");
    assert_eq!(deployments["shortNames"], json!(["deploy"]));
    assert_eq!(deployments["scope"], "Namespaced");
    assert_eq!(deployments["categories"], json!(["all"]));
    let core = send_with(&server, "GET", "/api", &[("accept", aggregated)], "");
    assert_eq!(core.body["items"][0]["metadata"]["name"], "");

    let legacy = get(&server, "/apis");
    assert_eq!(legacy.content_type, "application/json");
    assert_eq!(legacy.body["kind"], "APIGroupList");
    assert_eq!(get(&server, "/api").body["versions"], json!(["v1"]));
    let v1 = get(&server, "/api/v1");
    let names: Vec<&str> =
        v1.body["resources"].as_array().into_iter().flatten().filter_map(|r| r["name"].as_str()).collect();
    assert!(names.contains(&"configmaps") && names.contains(&"pods/status") && names.contains(&"namespaces"));
    assert_eq!(get(&server, "/apis/apps/v1").body["groupVersion"], "apps/v1");
    assert_eq!(get(&server, "/apis/apps/v9").code, 404);
    assert_eq!(get(&server, "/version").body["major"], "1");
}

#[test]
fn openapi_v3_advertises_field_validation() {
    let server = server();
    let index = get(&server, "/openapi/v3");
    let url = index.body["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().expect("apps/v1 listed").to_owned();
    let document = get(&server, &url);
    let path = &document.body["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        path["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    assert!(path["parameters"].as_array().into_iter().flatten().any(|p| p["name"] == "fieldValidation"));
    assert!(get(&server, "/openapi/v3/api/v1").body["paths"]["/api/v1/namespaces/{name}"].is_object());
    assert_eq!(get(&server, "/openapi/v2").code, 404);
}

#[test]
fn crud_round_trip() {
    let server = server();
    let created = send(&server, "POST", CM, "application/json", &configmap("demo", json!({"app": "x"})));
    assert_eq!(created.code, 201, "{}", created.body);
    let meta = &created.body["metadata"];
    assert_eq!(meta["uid"], "00000000-0000-4000-8000-000000000005");
    assert_eq!(meta["creationTimestamp"], "2026-01-01T00:00:00Z");
    assert_eq!(meta["generation"], 1);
    assert_eq!(meta["namespace"], "default");
    let rv: u64 = meta["resourceVersion"].as_str().and_then(|s| s.parse().ok()).expect("a numeric resourceVersion");
    assert_eq!(created.body["metadata"]["managedFields"][0]["operation"], "Update");

    let fetched = get(&server, &format!("{CM}/demo"));
    assert_eq!(fetched.body, created.body);

    let mut replaced = created.body.clone();
    replaced["data"]["a"] = json!("2");
    let put = send(&server, "PUT", &format!("{CM}/demo"), "application/json", &replaced.to_string());
    assert_eq!(put.code, 200, "{}", put.body);
    assert_eq!(put.body["data"]["a"], "2");
    assert_eq!(put.body["metadata"]["resourceVersion"], (rv + 1).to_string());

    // A stale resourceVersion is a 409 Conflict.
    let stale = send(&server, "PUT", &format!("{CM}/demo"), "application/json", &replaced.to_string());
    assert_eq!(stale.code, 409);
    assert_eq!(stale.body["reason"], "Conflict");
    assert_eq!(
        stale.body["message"],
        "Operation cannot be fulfilled on configmaps \"demo\": the object has been modified; please apply your changes to the latest version and try again"
    );

    // A PUT without changes is a no-op: same resourceVersion.
    let mut same = put.body.clone();
    same["metadata"].as_object_mut().expect("metadata").remove("resourceVersion");
    let noop = send(&server, "PUT", &format!("{CM}/demo"), "application/json", &same.to_string());
    assert_eq!(noop.body["metadata"]["resourceVersion"], put.body["metadata"]["resourceVersion"]);

    let deleted =
        send(&server, "DELETE", &format!("{CM}/demo"), "application/json", r#"{"propagationPolicy":"Background"}"#);
    assert_eq!(deleted.code, 200);
    assert_eq!(deleted.body["kind"], "Status");
    assert_eq!(deleted.body["status"], "Success");
    assert_eq!(deleted.body["details"]["kind"], "configmaps");
    assert_eq!(get(&server, &format!("{CM}/demo")).code, 404);
}

#[test]
fn error_shapes() {
    let server = server();
    let missing = get(&server, "/apis/apps/v1/namespaces/default/deployments/web");
    assert_eq!(missing.code, 404);
    assert_eq!(
        missing.body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "deployments.apps \"web\" not found", "reason": "NotFound",
               "details": {"name": "web", "group": "apps", "kind": "deployments"}, "code": 404})
    );
    assert_eq!(send(&server, "POST", CM, "application/json", &configmap("a", json!({}))).code, 201);
    let exists = send(&server, "POST", CM, "application/json", &configmap("a", json!({})));
    assert_eq!((exists.code, exists.body["reason"].as_str()), (409, Some("AlreadyExists")));
    assert_eq!(exists.body["message"], "configmaps \"a\" already exists");

    let invalid = send(&server, "POST", CM, "application/json", &configmap("Bad_Name", json!({})));
    assert_eq!(invalid.code, 422);
    assert_eq!(invalid.body["reason"], "Invalid");
    assert_eq!(invalid.body["details"]["kind"], "ConfigMap");
    assert_eq!(invalid.body["details"]["causes"][0]["field"], "metadata.name");
    assert!(invalid.body["message"].as_str().is_some_and(|m| m.starts_with(
        "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"
    )));

    let no_namespace =
        send(&server, "POST", "/api/v1/namespaces/nope/configmaps", "application/json", &configmap("a", json!({})));
    assert_eq!(no_namespace.code, 404);
    assert_eq!(no_namespace.body["message"], "namespaces \"nope\" not found");

    let malformed = send(&server, "POST", CM, "application/json", "{not json");
    assert_eq!((malformed.code, malformed.body["reason"].as_str()), (400, Some("BadRequest")));
    let wrong_version = send(
        &server,
        "POST",
        CM,
        "application/json",
        r#"{"apiVersion":"v2","kind":"ConfigMap","metadata":{"name":"x"}}"#,
    );
    assert_eq!(wrong_version.code, 400);

    let media = send(&server, "PATCH", &format!("{CM}/a"), "text/plain", "x");
    assert_eq!((media.code, media.body["reason"].as_str()), (415, Some("UnsupportedMediaType")));

    let huge = format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"big"}},"data":{{"a":"{}"}}}}"#,
        "x".repeat(4 * 1024 * 1024)
    );
    let too_large = send(&server, "POST", CM, "application/json", &huge);
    assert_eq!((too_large.code, too_large.body["reason"].as_str()), (413, Some("RequestEntityTooLarge")));

    let no_manager =
        send(&server, "PATCH", &format!("{CM}/a"), "application/apply-patch+yaml", &configmap("a", json!({})));
    assert_eq!(no_manager.code, 422);
    assert_eq!(no_manager.body["details"]["kind"], "PatchOptions");

    let force_on_merge = send(&server, "PATCH", &format!("{CM}/a?force=true"), "application/merge-patch+json", "{}");
    assert_eq!(force_on_merge.code, 422);
    assert_eq!(get(&server, "/api/v1/nothings").code, 404);
    assert_eq!(get(&server, "/api/v1/namespaces/default/namespaces").code, 404);
    // None of the failures stored anything.
    assert_eq!(get(&server, CM).body["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn lists_select_and_page() {
    let server = server();
    assert_eq!(
        send(
            &server,
            "POST",
            "/api/v1/namespaces",
            "application/json",
            r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}"#
        )
        .code,
        201
    );
    for (ns, name, tier) in
        [("default", "a", "web"), ("default", "b", "db"), ("team", "c", "web"), ("team", "d", "cache")]
    {
        let reply = send(
            &server,
            "POST",
            &format!("/api/v1/namespaces/{ns}/configmaps"),
            "application/json",
            &configmap(name, json!({"tier": tier})),
        );
        assert_eq!(reply.code, 201);
    }
    let names = |path: &str| -> Vec<String> {
        let reply = get(&server, path);
        assert_eq!(reply.code, 200, "{path}: {}", reply.body);
        reply.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(names(CM), ["a", "b"]);
    assert_eq!(names("/api/v1/configmaps"), ["a", "b", "c", "d"]);
    assert_eq!(names("/api/v1/configmaps?labelSelector=tier%3Dweb"), ["a", "c"]);
    assert_eq!(names("/api/v1/configmaps?labelSelector=tier+in+(db,cache)"), ["b", "d"]);
    assert_eq!(names("/api/v1/configmaps?labelSelector=tier!%3Dweb,tier"), ["b", "d"]);
    assert_eq!(names("/api/v1/configmaps?fieldSelector=metadata.name%3Dc"), ["c"]);
    assert_eq!(names("/api/v1/configmaps?fieldSelector=metadata.namespace%3Dteam"), ["c", "d"]);
    assert_eq!(get(&server, "/api/v1/configmaps?labelSelector=a%20in").code, 400);
    assert_eq!(get(&server, "/api/v1/configmaps?fieldSelector=spec.x%3D1").code, 400);

    let first = get(&server, "/api/v1/configmaps?limit=3");
    assert_eq!(first.body["kind"], "ConfigMapList");
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(3));
    let token = first.body["metadata"]["continue"].as_str().expect("a continue token").to_owned();
    assert_eq!(names(&format!("/api/v1/configmaps?limit=3&continue={token}")), ["d"]);
    let last = get(&server, &format!("/api/v1/configmaps?limit=3&continue={token}"));
    assert!(last.body["metadata"].get("continue").is_none());
    assert_eq!(get(&server, "/api/v1/configmaps?continue=zz").code, 400);

    // Namespaces are pre-created and labelled.
    let namespaces = names("/api/v1/namespaces");
    assert_eq!(namespaces, ["default", "kube-node-lease", "kube-public", "kube-system", "team"]);
    assert_eq!(
        get(&server, "/api/v1/namespaces/team").body["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "team"
    );

    // Deleting a namespace deletes what it holds.
    let deleted = send(&server, "DELETE", "/api/v1/namespaces/team", "", "");
    assert_eq!(deleted.body["status"]["phase"], "Terminating");
    assert_eq!(names("/api/v1/configmaps"), ["a", "b"]);
}

#[test]
fn dry_run_stores_nothing() {
    let server = server();
    let created = send(&server, "POST", &format!("{CM}?dryRun=All"), "application/json", &configmap("dry", json!({})));
    assert_eq!(created.code, 201);
    assert!(created.body["metadata"].get("resourceVersion").is_none());
    assert_eq!(get(&server, &format!("{CM}/dry")).code, 404);

    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}, "data": {"a": "1"}});
    let live = apply(&server, &format!("{CM}/dry"), "fieldManager=m", &body);
    let rv = live.body["metadata"]["resourceVersion"].clone();
    let changed = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}, "data": {"a": "2"}});
    let dry = apply(&server, &format!("{CM}/dry"), "fieldManager=m&dryRun=All", &changed);
    assert_eq!((dry.code, &dry.body["data"]["a"], &dry.body["metadata"]["resourceVersion"]), (200, &json!("2"), &rv));
    assert_eq!(get(&server, &format!("{CM}/dry")).body, live.body);
    let merge = send(
        &server,
        "PATCH",
        &format!("{CM}/dry?dryRun=All"),
        "application/merge-patch+json",
        r#"{"data":{"b":"x"}}"#,
    );
    assert_eq!(merge.body["data"]["b"], "x");
    let put = send(&server, "PUT", &format!("{CM}/dry?dryRun=All"), "application/json", &changed.to_string());
    assert_eq!(put.body["metadata"]["resourceVersion"], rv);
    let deleted = send(&server, "DELETE", &format!("{CM}/dry"), "application/json", r#"{"dryRun":["All"]}"#);
    assert_eq!(deleted.code, 200);
    assert_eq!(get(&server, &format!("{CM}/dry")).body, live.body);
    assert_eq!(get(&server, "/api/v1/configmaps").body["metadata"]["resourceVersion"], rv);
}

#[test]
fn patches_and_generation() {
    let server = server();
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "app:1"}]}}},
        "status": {"replicas": 7}});
    let created = apply(&server, path, "fieldManager=gitops", &deployment);
    assert_eq!(created.code, 201);
    assert!(created.body.get("status").is_none(), "status is reset on the main resource");
    let labelled = send(&server, "PATCH", path, "application/merge-patch+json", r#"{"metadata":{"labels":{"x":"y"}}}"#);
    assert_eq!(labelled.body["metadata"]["generation"], 1, "metadata changes keep the generation");
    let scaled = send(
        &server,
        "PATCH",
        path,
        "application/json-patch+json",
        r#"[{"op":"replace","path":"/spec/replicas","value":3}]"#,
    );
    assert_eq!(
        (scaled.code, &scaled.body["spec"]["replicas"], &scaled.body["metadata"]["generation"]),
        (200, &json!(3), &json!(2))
    );
    let strategic = send(
        &server,
        "PATCH",
        path,
        "application/strategic-merge-patch+json",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"s:1"}]}}}}"#,
    );
    let mut names: Vec<&str> = strategic.body["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["app", "sidecar"], "a strategic merge adds to the keyed list");
    assert_eq!(
        send(
            &server,
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/none",
            "application/merge-patch+json",
            "{}"
        )
        .code,
        404
    );
}
