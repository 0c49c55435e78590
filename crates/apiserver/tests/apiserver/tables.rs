//! Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), as `kubectl get` asks.

use std::sync::Arc;

use gitops_apiserver::{ApiServer, ApiServerOptions, ManualClock};
use serde_json::{Value, json};

use crate::common::{Reply, apply, send_with};
use crate::crds::widget_crd;
use crate::kubectl::{Cluster, kubectl_binary};

const KUBECTL_ACCEPT: &str =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const CM: &str = "/api/v1/namespaces/default/configmaps";

fn table(server: &ApiServer, path: &str) -> Reply {
    send_with(server, "GET", path, &[("accept", KUBECTL_ACCEPT)], "")
}

fn column_names(table: &Value) -> Vec<&str> {
    table["columnDefinitions"].as_array().into_iter().flatten().filter_map(|c| c["name"].as_str()).collect()
}

#[test]
fn built_in_kinds_get_their_printer_columns_and_ages() {
    let clock = Arc::new(ManualClock::new(ManualClock::START));
    let server = ApiServer::new(ApiServerOptions::default().deterministic().clock(clock.clone()));
    let configmap = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo"},
                           "data": {"a": "1", "b": "2"}});
    assert_eq!(apply(&server, &format!("{CM}/demo"), "fieldManager=t", &configmap).code, 201);
    clock.advance(310);

    let list = table(&server, CM);
    assert_eq!(list.code, 200, "{}", list.body);
    assert_eq!((&list.body["kind"], &list.body["apiVersion"]), (&json!("Table"), &json!("meta.k8s.io/v1")));
    assert_eq!(column_names(&list.body), ["Name", "Data", "Age"]);
    assert_eq!(list.body["columnDefinitions"][0]["format"], "name");
    assert!(list.body["metadata"]["resourceVersion"].is_string());
    let row = &list.body["rows"][0];
    assert_eq!(row["cells"], json!(["demo", 2, "5m10s"]));
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row["object"]["metadata"]["name"], "demo");
    assert!(row["object"]["metadata"].get("managedFields").is_none(), "{row}");

    // One object; the whole object or none on request; a plain GET is unchanged.
    let one = table(&server, &format!("{CM}/demo?includeObject=Object"));
    assert_eq!(
        (one.body["rows"].as_array().map(Vec::len), &one.body["rows"][0]["object"]["data"]["b"]),
        (Some(1), &json!("2"))
    );
    let bare = table(&server, &format!("{CM}?includeObject=None"));
    assert!(bare.body["rows"][0].get("object").is_none());
    assert_eq!(table(&server, &format!("{CM}?includeObject=All")).code, 400);
    assert_eq!(table(&server, &format!("{CM}/missing")).code, 404);
    assert_eq!(send_with(&server, "GET", CM, &[], "").body["kind"], "ConfigMapList");

    let namespaces = table(&server, "/api/v1/namespaces?labelSelector=kubernetes.io%2Fmetadata.name%3Ddefault");
    assert_eq!(column_names(&namespaces.body), ["Name", "Status", "Age"]);
    assert_eq!(namespaces.body["rows"][0]["cells"], json!(["default", "Active", "5m10s"]));
    let roles = table(&server, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles");
    assert_eq!(column_names(&roles.body), ["Name", "Age"], "kinds without a printer here");
}

#[test]
fn custom_resources_use_additional_printer_columns() {
    let server = crate::common::server();
    let mut crd = widget_crd(&["v1"]);
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = json!([
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase", "priority": 1},
        {"name": "Created", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
    ]);
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    assert_eq!(apply(&server, &format!("{crds}/widgets.example.com"), "fieldManager=t", &crd).code, 201);
    let widgets = "/apis/example.com/v1/namespaces/default/widgets";
    let widget =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"replicas": 3}});
    assert_eq!(apply(&server, &format!("{widgets}/w"), "fieldManager=t", &widget).code, 201);
    let list = table(&server, widgets);
    assert_eq!(column_names(&list.body), ["Name", "Replicas", "Phase", "Created"]);
    assert_eq!(list.body["columnDefinitions"][2]["priority"], 1);
    assert_eq!(list.body["rows"][0]["cells"], json!(["w", 3, null, "0s"]));

    // Without printer columns a custom kind shows its age.
    let server = crate::common::server();
    crate::crds::create_widget_crd(&server);
    assert_eq!(apply(&server, &format!("{widgets}/w"), "fieldManager=t", &widget).code, 201);
    assert_eq!(column_names(&table(&server, widgets).body), ["Name", "Age"]);
}

#[test]
fn kubectl_get_prints_the_servers_columns() {
    let Some(kubectl) = kubectl_binary() else {
        eprintln!("NOTICE: kubectl not found (set KUBECTL or run install-peers.sh); skipping the kubectl Table test");
        return;
    };
    let cluster = Cluster::start(kubectl);
    let manifest =
        cluster.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  a: \"1\"\n");
    cluster.ok(&["apply", "--server-side", "-f", &manifest]);
    let out = cluster.ok(&["get", "configmaps"]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["NAME", "DATA", "AGE"], "{out}");
    let row: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(row[..2], ["demo", "1"], "{out}");
    let namespaces = cluster.ok(&["get", "namespaces", "default"]);
    assert!(
        namespaces.starts_with("NAME") && namespaces.contains("STATUS") && namespaces.contains("Active"),
        "{namespaces}"
    );
}
