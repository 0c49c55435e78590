//! Bad input gets a proper `Status` and never corrupts the store: every case is followed by a
//! check that the store holds exactly what it held before.

use gitops_apiserver::{ApiServer, ApiServerOptions};
use serde_json::{Value, json};

use crate::common::{Reply, get, send, server};

const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn names(server: &ApiServer) -> Vec<String> {
    let list = get(server, "/api/v1/configmaps").body;
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .map(str::to_owned)
        .collect()
}

/// Whether `reply` is a failure `Status` with `code` and `reason` and a message.
fn is_status(reply: &Reply, code: u16, reason: &str) -> bool {
    reply.code == code
        && reply.body["kind"] == "Status"
        && reply.body["status"] == "Failure"
        && reply.body["reason"] == reason
        && reply.body["code"] == code
        && reply.body["message"].as_str().is_some_and(|m| !m.is_empty())
}

#[test]
fn bad_requests_are_refused_and_change_nothing() {
    let server = ApiServer::new(ApiServerOptions::default().deterministic().max_body_bytes(64 * 1024));
    let good = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "good"}, "data": {"a": "1"}});
    assert_eq!(send(&server, "POST", CMS, "application/json", &good.to_string()).code, 201);
    let before_count = server.object_count();
    let before = get(&server, &format!("{CMS}/good")).body;
    let apply_type = "application/apply-patch+yaml";
    let cm = |name: &str, namespace: Option<&str>| {
        let mut object =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"x": "y"}});
        if let Some(namespace) = namespace {
            object["metadata"]["namespace"] = json!(namespace);
        }
        object.to_string()
    };

    let cases: Vec<(&str, Reply, u16, &str)> = vec![
        ("malformed JSON", send(&server, "POST", CMS, "application/json", "{\"metadata\": {"), 400, "BadRequest"),
        ("a JSON array body", send(&server, "POST", CMS, "application/json", "[1, 2]"), 400, "BadRequest"),
        (
            "malformed YAML",
            send(&server, "PATCH", &format!("{CMS}/x?fieldManager=m"), apply_type, "a: [b"),
            400,
            "BadRequest",
        ),
        (
            "two YAML documents",
            send(&server, "PATCH", &format!("{CMS}/x?fieldManager=m"), apply_type, "a: 1\n---\nb: 2\n"),
            400,
            "BadRequest",
        ),
        (
            "an unknown resource",
            send(&server, "POST", "/api/v1/namespaces/default/widgets", "application/json", "{}"),
            404,
            "NotFound",
        ),
        ("an unknown group", get(&server, "/apis/nope.example.com/v1/things"), 404, "NotFound"),
        (
            "a kind that does not match the path",
            send(
                &server,
                "POST",
                CMS,
                "application/json",
                &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}).to_string(),
            ),
            400,
            "BadRequest",
        ),
        (
            "a namespace in the body that differs from the path",
            send(&server, "POST", CMS, "application/json", &cm("other", Some("kube-system"))),
            400,
            "BadRequest",
        ),
        (
            "an applied namespace that differs from the path",
            send(
                &server,
                "PATCH",
                &format!("{CMS}/other?fieldManager=m"),
                apply_type,
                &cm("other", Some("kube-system")),
            ),
            400,
            "BadRequest",
        ),
        (
            "an invalid DNS-1123 name",
            send(&server, "POST", CMS, "application/json", &cm("Not_Valid", None)),
            422,
            "Invalid",
        ),
        (
            "an applied invalid name",
            send(&server, "PATCH", &format!("{CMS}/UPPER?fieldManager=m"), apply_type, &cm("UPPER", None)),
            422,
            "Invalid",
        ),
        (
            "a name too long",
            send(&server, "POST", CMS, "application/json", &cm(&"a".repeat(254), None)),
            422,
            "Invalid",
        ),
        (
            "a huge body",
            send(&server, "POST", CMS, "application/json", &cm(&"x".repeat(100 * 1024), None)),
            413,
            "RequestEntityTooLarge",
        ),
        (
            "an unsupported patch type",
            send(&server, "PATCH", &format!("{CMS}/good"), "text/plain", "x"),
            415,
            "UnsupportedMediaType",
        ),
        (
            "a JSON patch that tests a wrong value",
            send(
                &server,
                "PATCH",
                &format!("{CMS}/good"),
                "application/json-patch+json",
                r#"[{"op":"test","path":"/data/a","value":"2"},{"op":"add","path":"/data/b","value":"3"}]"#,
            ),
            400,
            "BadRequest",
        ),
        (
            "a bad dryRun value",
            send(&server, "POST", &format!("{CMS}?dryRun=Some"), "application/json", &cm("d", None)),
            400,
            "BadRequest",
        ),
        ("a bad label selector", get(&server, &format!("{CMS}?labelSelector=a%20in%20(")), 400, "BadRequest"),
    ];
    let mut failures = Vec::new();
    for (name, reply, code, reason) in &cases {
        if !is_status(reply, *code, reason) {
            failures.push(format!("{name}: {} {}", reply.code, reply.body));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert_eq!(server.object_count(), before_count);
    assert_eq!(names(&server), ["good"]);
    assert_eq!(get(&server, &format!("{CMS}/good")).body, before);
}

#[test]
fn the_invalid_name_cause_names_the_field() {
    let server = server();
    let body = json!({"metadata": {"name": "-bad-"}}).to_string();
    let reply = send(&server, "POST", CMS, "application/json", &body);
    let cause: &Value = &reply.body["details"]["causes"][0];
    assert_eq!(cause["field"], "metadata.name");
    assert_eq!(cause["reason"], "FieldValueInvalid");
    assert!(reply.body["message"].as_str().unwrap_or("").starts_with("ConfigMap \"-bad-\" is invalid: metadata.name"));
}
