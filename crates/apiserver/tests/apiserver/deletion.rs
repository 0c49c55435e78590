//! The deletion lifecycle: finalizers, ownerReferences garbage collection with each
//! propagation policy, and the namespace cascade.

use gitops_apiserver::ApiServer;
use serde_json::{Value, json};

use crate::common::{get, merge_patch, send, server};

const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn create(server: &ApiServer, name: &str, metadata: &Value) -> Value {
    let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata});
    object["metadata"]["name"] = json!(name);
    let reply = send(server, "POST", CMS, "application/json", &object.to_string());
    assert_eq!(reply.code, 201, "{}", reply.body);
    reply.body
}

fn owner_ref(owner: &Value, block: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
           "blockOwnerDeletion": block})
}

fn exists(server: &ApiServer, name: &str) -> bool {
    get(server, &format!("{CMS}/{name}")).code == 200
}

fn delete(server: &ApiServer, name: &str, body: &str) -> crate::common::Reply {
    send(server, "DELETE", &format!("{CMS}/{name}"), "application/json", body)
}

#[test]
fn finalizers_defer_deletion_until_removed() {
    let server = server();
    create(&server, "held", &json!({"finalizers": ["example.com/a", "example.com/b"]}));
    let deleted = delete(&server, "held", "");
    assert_eq!(deleted.code, 200);
    assert!(deleted.body["metadata"]["deletionTimestamp"].is_string());
    let live = get(&server, &format!("{CMS}/held")).body;
    assert!(live["metadata"]["deletionTimestamp"].is_string());
    // Deleting again changes nothing.
    let again = delete(&server, "held", "");
    assert_eq!(again.body["metadata"]["resourceVersion"], live["metadata"]["resourceVersion"]);
    // Removing one finalizer keeps it; removing the last deletes it.
    let patch = |finalizers: Value| {
        merge_patch(&server, &format!("{CMS}/held"), &json!({"metadata": {"finalizers": finalizers}}).to_string())
    };
    assert_eq!(patch(json!(["example.com/b"])).code, 200);
    assert!(exists(&server, "held"));
    assert_eq!(patch(json!([])).code, 200);
    assert!(!exists(&server, "held"));
    // A delete that finds it gone is a 404.
    assert_eq!(delete(&server, "held", "").code, 404);
}

#[test]
fn background_deletes_dependents_after_the_owner() {
    let server = server();
    let owner = create(&server, "owner", &json!({}));
    let child = create(&server, "child", &json!({"ownerReferences": [owner_ref(&owner, false)]}));
    create(&server, "grandchild", &json!({"ownerReferences": [owner_ref(&child, false)]}));
    let other = create(&server, "other", &json!({}));
    create(&server, "shared", &json!({"ownerReferences": [owner_ref(&owner, false), owner_ref(&other, false)]}));
    let deleted =
        delete(&server, "owner", r#"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}"#);
    assert_eq!(deleted.body["status"], "Success");
    assert!(!exists(&server, "owner") && !exists(&server, "child") && !exists(&server, "grandchild"));
    assert!(exists(&server, "shared"), "a dependent with another live owner stays");
}

#[test]
fn foreground_waits_for_blocking_dependents() {
    let server = server();
    let owner = create(&server, "owner", &json!({}));
    create(
        &server,
        "child",
        &json!({"ownerReferences": [owner_ref(&owner, true)], "finalizers": ["example.com/hold"]}),
    );
    let deleted = send(&server, "DELETE", &format!("{CMS}/owner?propagationPolicy=Foreground"), "", "");
    assert_eq!(deleted.code, 200);
    assert_eq!(deleted.body["metadata"]["finalizers"], json!(["foregroundDeletion"]));
    // The child is being deleted but held by its finalizer, so the owner waits.
    let child = get(&server, &format!("{CMS}/child")).body;
    assert!(child["metadata"]["deletionTimestamp"].is_string());
    assert!(exists(&server, "owner"));
    let released = merge_patch(&server, &format!("{CMS}/child"), r#"{"metadata":{"finalizers":null}}"#);
    assert_eq!(released.code, 200, "{}", released.body);
    assert!(!exists(&server, "child"));
    assert!(!exists(&server, "owner"), "the owner goes once its blocking dependents are gone");
}

#[test]
fn orphan_keeps_dependents_without_the_reference() {
    let server = server();
    let owner = create(&server, "owner", &json!({}));
    create(&server, "child", &json!({"ownerReferences": [owner_ref(&owner, false)], "labels": {"a": "b"}}));
    let deleted = delete(&server, "owner", r#"{"propagationPolicy":"Orphan"}"#);
    assert_eq!(deleted.code, 200, "{}", deleted.body);
    assert!(!exists(&server, "owner"));
    let child = get(&server, &format!("{CMS}/child")).body;
    assert!(child["metadata"].get("ownerReferences").is_none(), "{child}");
    assert_eq!(child["metadata"]["labels"], json!({"a": "b"}));
    // A dry run deletes nothing, and a bad policy is refused.
    create(&server, "kept", &json!({}));
    assert_eq!(delete(&server, "kept", r#"{"dryRun":["All"]}"#).code, 200);
    assert!(exists(&server, "kept"));
    assert_eq!(delete(&server, "kept", r#"{"propagationPolicy":"Sideways"}"#).code, 422);
    assert_eq!(delete(&server, "kept", "{not json").code, 400);
    assert!(exists(&server, "kept"));
}

#[test]
fn namespace_deletion_cascades() {
    let server = server();
    let ns = send(&server, "POST", "/api/v1/namespaces", "application/json", r#"{"metadata":{"name":"team"}}"#);
    assert_eq!(ns.code, 201);
    let body =
        |name: &str, finalizers: Value| json!({"metadata": {"name": name, "finalizers": finalizers}}).to_string();
    let team = "/api/v1/namespaces/team/configmaps";
    assert_eq!(send(&server, "POST", team, "application/json", &body("a", json!([]))).code, 201);
    assert_eq!(send(&server, "POST", team, "application/json", &body("held", json!(["example.com/x"]))).code, 201);
    let deleted = send(&server, "DELETE", "/api/v1/namespaces/team", "", "");
    assert_eq!(deleted.body["status"]["phase"], "Terminating");
    // Terminating: contents without finalizers are gone, new content is refused.
    assert_eq!(get(&server, &format!("{team}/a")).code, 404);
    assert_eq!(get(&server, "/api/v1/namespaces/team").body["status"]["phase"], "Terminating");
    let refused = send(&server, "POST", team, "application/json", &body("new", json!([])));
    assert_eq!(refused.code, 403, "{}", refused.body);
    assert_eq!(refused.body["reason"], "Forbidden");
    // Releasing the last object lets the namespace go.
    let released = merge_patch(&server, &format!("{team}/held"), r#"{"metadata":{"finalizers":[]}}"#);
    assert_eq!(released.code, 200);
    assert_eq!(get(&server, "/api/v1/namespaces/team").code, 404);
}
