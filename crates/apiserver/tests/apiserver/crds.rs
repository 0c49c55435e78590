//! CustomResourceDefinitions: registration in discovery, OpenAPI and the registry, conditions,
//! schema-driven ownership, updates, name clashes and deletion.

use serde_json::{Value, json};

use crate::common::{apply, get, managed, send, send_with, server};

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// A CRD for `widgets.example.com` serving `versions` (the first is stored).
pub(crate) fn widget_crd(versions: &[&str]) -> Value {
    let schema = json!({"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "replicas": {"type": "integer"},
            "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                      "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                         "additionalProperties": {"type": "string"}},
            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }},
        "status": {"type": "object", "properties": {"replicas": {"type": "integer"}, "phase": {"type": "string"}}}
    }}});
    let versions: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(at, name)| {
            json!({"name": name, "served": true, "storage": at == 0, "schema": schema,
                   "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                         "statusReplicasPath": ".status.replicas"}}})
        })
        .collect();
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"],
                      "categories": ["all"]},
            "versions": versions
        }
    })
}

pub(crate) fn create_widget_crd(server: &gitops_apiserver::ApiServer) {
    let created = apply(server, &format!("{CRDS}/widgets.example.com"), "fieldManager=test", &widget_crd(&["v1"]));
    assert_eq!(created.code, 201, "{}", created.body);
}

fn condition(crd: &Value, kind: &str) -> Value {
    crd["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == kind)
        .cloned()
        .unwrap_or_default()
}

#[test]
fn creating_a_crd_registers_its_kind_everywhere() {
    let server = server();
    assert_eq!(get(&server, "/apis/example.com/v1").code, 404);
    create_widget_crd(&server);

    let crd = get(&server, &format!("{CRDS}/widgets.example.com")).body;
    assert_eq!(condition(&crd, "Established")["status"], "True");
    assert_eq!(condition(&crd, "NamesAccepted")["status"], "True");
    assert_eq!(condition(&crd, "NamesAccepted")["reason"], "NoConflicts");
    assert_eq!(crd["status"]["acceptedNames"]["listKind"], "WidgetList");
    assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));
    // The status is the server's, recorded as its own status-subresource Update.
    let managers: Vec<(&str, &str)> = crd["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["manager"].as_str().unwrap_or(""), e["subresource"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(managers, [("test", ""), ("kube-apiserver", "status")]);

    // Legacy discovery.
    let groups = get(&server, "/apis").body;
    let group = groups["groups"].as_array().into_iter().flatten().find(|g| g["name"] == "example.com").expect("listed");
    assert_eq!(group["preferredVersion"]["groupVersion"], "example.com/v1");
    let resources = get(&server, "/apis/example.com/v1").body;
    let names: Vec<&str> =
        resources["resources"].as_array().into_iter().flatten().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["widgets", "widgets/scale", "widgets/status"]);
    assert_eq!(resources["resources"][0]["shortNames"], json!(["wd"]));
    assert_eq!(resources["resources"][0]["namespaced"], true);
    assert_eq!(resources["resources"][1]["kind"], "Scale");

    // Aggregated discovery.
    let aggregated = send_with(&server, "GET", "/apis", &[("accept", AGGREGATED)], "").body;
    let group = aggregated["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|g| g["metadata"]["name"] == "example.com")
        .expect("aggregated");
    let widgets = &group["versions"][0]["resources"][0];
    assert_eq!(widgets["resource"], "widgets");
    assert_eq!(widgets["categories"], json!(["all"]));
    assert_eq!(widgets["subresources"].as_array().map(Vec::len), Some(2));

    // OpenAPI.
    let index = get(&server, "/openapi/v3").body;
    let url = index["paths"]["apis/example.com/v1"]["serverRelativeURL"].as_str().expect("listed").to_owned();
    let document = get(&server, &url).body;
    assert_eq!(
        document["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"]["x-kubernetes-group-version-kind"]
            ["kind"],
        "Widget"
    );

    // The kind is served.
    let widget =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"replicas": 1}});
    let created = apply(&server, "/apis/example.com/v1/namespaces/default/widgets/w", "fieldManager=a", &widget);
    assert_eq!(created.code, 201, "{}", created.body);
    assert_eq!(get(&server, "/apis/example.com/v1/widgets").body["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn the_crd_schema_drives_ownership() {
    let server = server();
    create_widget_crd(&server);
    let path = "/apis/example.com/v1/namespaces/default/widgets/w";
    let widget = |spec: Value| json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec});

    // Keyed list: two managers own one item each, no conflict.
    let a = apply(
        &server,
        path,
        "fieldManager=a",
        &widget(json!({"ports": [{"name": "http", "port": 80}], "tags": ["x"]})),
    );
    assert_eq!(a.code, 201, "{}", a.body);
    let b = apply(
        &server,
        path,
        "fieldManager=b",
        &widget(json!({"ports": [{"name": "metrics", "port": 9090}], "tags": ["y"]})),
    );
    assert_eq!(b.code, 200, "{}", b.body);
    let stored = get(&server, path).body;
    assert_eq!(stored["spec"]["ports"], json!([{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}]));
    assert_eq!(stored["spec"]["tags"], json!(["x", "y"]));
    assert_eq!(
        managed(&stored),
        json!([
            ["a", "Apply", {"f:spec": {"f:ports": {"k:{\"name\":\"http\"}": {".": {}, "f:name": {}, "f:port": {}}}, "f:tags": {"v:\"x\"": {}}}}],
            ["b", "Apply", {"f:spec": {"f:ports": {"k:{\"name\":\"metrics\"}": {".": {}, "f:name": {}, "f:port": {}}}, "f:tags": {"v:\"y\"": {}}}}]
        ])
    );

    // Atomic map: a different value from another manager conflicts on the whole map.
    assert_eq!(
        apply(
            &server,
            path,
            "fieldManager=a",
            &widget(json!({"ports": [{"name": "http", "port": 80}], "tags": ["x"], "selector": {"app": "w"}}))
        )
        .code,
        200
    );
    let conflict = apply(
        &server,
        path,
        "fieldManager=b",
        &widget(json!({"ports": [{"name": "metrics", "port": 9090}], "tags": ["y"], "selector": {"app": "v"}})),
    );
    assert_eq!(conflict.code, 409, "{}", conflict.body);
    assert_eq!(conflict.body["details"]["causes"][0]["field"], ".spec.selector");

    // Preserve-unknown-fields: anything goes below `extra`, owned key by key.
    let c = apply(&server, path, "fieldManager=c", &widget(json!({"extra": {"free": {"form": 1}}})));
    assert_eq!(c.code, 200, "{}", c.body);
    assert_eq!(get(&server, path).body["spec"]["extra"], json!({"free": {"form": 1}}));
}

#[test]
fn updates_reregister_and_clashes_are_not_accepted() {
    let server = server();
    create_widget_crd(&server);
    // A second served version appears in discovery, preferred first.
    let two = apply(&server, &format!("{CRDS}/widgets.example.com"), "fieldManager=test", &widget_crd(&["v2", "v1"]));
    assert_eq!(two.code, 200, "{}", two.body);
    assert_eq!(get(&server, "/apis/example.com/v2").code, 200);
    let groups = get(&server, "/apis").body;
    let group = groups["groups"].as_array().into_iter().flatten().find(|g| g["name"] == "example.com").expect("listed");
    assert_eq!(group["preferredVersion"]["version"], "v2");
    assert_eq!(
        get(&server, &format!("{CRDS}/widgets.example.com")).body["status"]["storedVersions"],
        json!(["v1", "v2"])
    );

    // Another CRD of the same group with the same plural under another kind clashes.
    let mut clash = widget_crd(&["v1"]);
    clash["metadata"]["name"] = json!("gadgets.example.com");
    clash["spec"]["names"] = json!({"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "shortNames": ["wd"]});
    let created = apply(&server, &format!("{CRDS}/gadgets.example.com"), "fieldManager=test", &clash);
    assert_eq!(created.code, 201);
    let stored = get(&server, &format!("{CRDS}/gadgets.example.com")).body;
    assert_eq!(condition(&stored, "NamesAccepted")["status"], "False");
    assert_eq!(condition(&stored, "NamesAccepted")["reason"], "ShortNamesConflict");
    assert_eq!(condition(&stored, "Established")["status"], "False");
    assert_eq!(get(&server, "/apis/example.com/v1/gadgets").code, 404);

    // Invalid CRDs are refused and stored nothing.
    let mut wrong = widget_crd(&["v1"]);
    wrong["metadata"]["name"] = json!("wrong.example.com");
    let refused = send(&server, "POST", CRDS, "application/json", &wrong.to_string());
    assert_eq!(refused.code, 422, "{}", refused.body);
    assert_eq!(refused.body["details"]["causes"][0]["field"], "metadata.name");
    let mut no_storage = widget_crd(&["v1"]);
    no_storage["spec"]["versions"][0]["storage"] = json!(false);
    let refused =
        send(&server, "PUT", &format!("{CRDS}/widgets.example.com"), "application/json", &no_storage.to_string());
    assert_eq!(refused.code, 422, "{}", refused.body);
    assert_eq!(get(&server, "/apis/example.com/v2").code, 200);
}

#[test]
fn deleting_a_crd_removes_its_objects_and_kind() {
    let server = server();
    create_widget_crd(&server);
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    assert_eq!(
        apply(&server, "/apis/example.com/v1/namespaces/default/widgets/w", "fieldManager=a", &widget).code,
        201
    );
    let before = server.object_count();
    let deleted = send(&server, "DELETE", &format!("{CRDS}/widgets.example.com"), "", "");
    assert_eq!(deleted.code, 200, "{}", deleted.body);
    assert_eq!(server.object_count(), before - 2);
    assert_eq!(get(&server, "/apis/example.com/v1").code, 404);
    assert_eq!(get(&server, "/apis/example.com/v1/namespaces/default/widgets/w").code, 404);
    let groups = get(&server, "/apis").body;
    assert!(!groups["groups"].as_array().into_iter().flatten().any(|g| g["name"] == "example.com"));
    assert!(get(&server, "/openapi/v3").body["paths"].get("apis/example.com/v1").is_none());
    // Recreated, it starts empty.
    create_widget_crd(&server);
    assert_eq!(get(&server, "/apis/example.com/v1/widgets").body["items"], json!([]));
}
