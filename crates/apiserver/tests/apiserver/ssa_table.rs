//! Server-side apply, case by case, after the Kubernetes server-side apply documentation:
//! shared ownership, conflicts, force, removal, keyed lists, sets, atomic lists and maps, and
//! Update operations. Each case asserts the stored object and its managedFields.

use gitops_apiserver::ApiServer;
use serde_json::{Value, json};

use crate::common::{content, get, managed, send, server};

const CM: &str = "/api/v1/namespaces/default/configmaps/c";
pub(crate) const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments/web";

#[derive(Clone, Copy)]
pub(crate) enum Op {
    Apply,
    Force,
    Merge,
    JsonPatch,
    Create,
    /// Apply through the `status` subresource.
    StatusApply,
    /// A merge patch through the `status` subresource.
    StatusMerge,
}

pub(crate) struct Step {
    manager: &'static str,
    op: Op,
    body: Value,
    code: u16,
}

pub(crate) fn step(manager: &'static str, op: Op, body: Value, code: u16) -> Step {
    Step { manager, op, body, code }
}

pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) path: &'static str,
    pub(crate) steps: Vec<Step>,
    /// A subset of the stored object's content (see `common::content`).
    pub(crate) object: Value,
    /// `[[manager, operation, fieldsV1], …]`.
    pub(crate) managed: Value,
}

fn cm(data: Value) -> Value {
    let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    object["data"] = data;
    object
}

fn cm_meta(metadata: Value) -> Value {
    let mut meta = metadata;
    meta["name"] = json!("c");
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta})
}

pub(crate) fn deploy(spec: Value) -> Value {
    let mut object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}});
    object["spec"] = spec;
    object
}

pub(crate) fn pod_spec(spec: Value) -> Value {
    let mut template = json!({});
    template["spec"] = spec;
    let mut object = json!({});
    object["template"] = template;
    deploy(object)
}

/// `fieldsV1` below `spec.template.spec`.
pub(crate) fn tpl(fields: Value) -> Value {
    let mut spec = json!({});
    spec["f:spec"] = fields;
    let mut template = json!({});
    template["f:template"] = spec;
    let mut object = json!({});
    object["f:spec"] = template;
    object
}

pub(crate) fn container(name: &str, image: &str) -> Value {
    json!({"name": name, "image": image})
}

pub(crate) fn container_fields(name: &str) -> (String, Value) {
    (format!("k:{{\"name\":\"{name}\"}}"), json!({".": {}, "f:image": {}, "f:name": {}}))
}

pub(crate) fn containers_fields(names: &[&str]) -> Value {
    let map: serde_json::Map<String, Value> = names.iter().map(|n| container_fields(n)).collect();
    tpl(json!({"f:containers": map}))
}

fn data(keys: &[&str]) -> Value {
    let map: serde_json::Map<String, Value> = keys.iter().map(|k| (format!("f:{k}"), json!({}))).collect();
    json!({"f:data": map})
}

fn cases() -> Vec<Case> {
    use Op::{Apply, Create, Force, JsonPatch, Merge};
    vec![
        Case {
            name: "apply creates and owns what it applied",
            path: CM,
            steps: vec![step("a", Apply, cm(json!({"x": "1"})), 201)],
            object: json!({"data": {"x": "1"}}),
            managed: json!([["a", "Apply", data(&["x"])]]),
        },
        Case {
            name: "re-applying the same configuration changes nothing",
            path: CM,
            steps: vec![step("a", Apply, cm(json!({"x": "1"})), 201), step("a", Apply, cm(json!({"x": "1"})), 200)],
            object: json!({"data": {"x": "1"}}),
            managed: json!([["a", "Apply", data(&["x"])]]),
        },
        Case {
            name: "applying the same value shares ownership",
            path: CM,
            steps: vec![step("a", Apply, cm(json!({"x": "1"})), 201), step("b", Apply, cm(json!({"x": "1"})), 200)],
            object: json!({"data": {"x": "1"}}),
            managed: json!([["a", "Apply", data(&["x"])], ["b", "Apply", data(&["x"])]]),
        },
        Case {
            name: "a different value conflicts and changes nothing",
            path: CM,
            steps: vec![step("a", Apply, cm(json!({"x": "1"})), 201), step("b", Apply, cm(json!({"x": "2"})), 409)],
            object: json!({"data": {"x": "1"}}),
            managed: json!([["a", "Apply", data(&["x"])]]),
        },
        Case {
            name: "force takes the field and drops the emptied manager",
            path: CM,
            steps: vec![step("a", Apply, cm(json!({"x": "1"})), 201), step("b", Force, cm(json!({"x": "2"})), 200)],
            object: json!({"data": {"x": "2"}}),
            managed: json!([["b", "Apply", data(&["x"])]]),
        },
        Case {
            name: "force takes only the conflicting fields",
            path: CM,
            steps: vec![
                step("a", Apply, cm(json!({"x": "1", "y": "1"})), 201),
                step("b", Force, cm(json!({"x": "2"})), 200),
            ],
            object: json!({"data": {"x": "2", "y": "1"}}),
            managed: json!([["a", "Apply", data(&["y"])], ["b", "Apply", data(&["x"])]]),
        },
        Case {
            name: "a field the applier stops applying is removed",
            path: CM,
            steps: vec![
                step("a", Apply, cm(json!({"x": "1", "y": "1"})), 201),
                step("a", Apply, cm(json!({"x": "1"})), 200),
            ],
            object: json!({"data": {"x": "1"}}),
            managed: json!([["a", "Apply", data(&["x"])]]),
        },
        Case {
            name: "a field another manager also owns is kept",
            path: CM,
            steps: vec![
                step("a", Apply, cm(json!({"x": "1", "y": "1"})), 201),
                step("b", Apply, cm(json!({"y": "1"})), 200),
                step("a", Apply, cm(json!({"x": "1"})), 200),
            ],
            object: json!({"data": {"x": "1", "y": "1"}}),
            managed: json!([["a", "Apply", data(&["x"])], ["b", "Apply", data(&["y"])]]),
        },
        Case {
            name: "an update takes the field silently",
            path: CM,
            steps: vec![
                step("a", Apply, cm(json!({"x": "1"})), 201),
                step("hpa", Merge, json!({"data": {"x": "2"}}), 200),
            ],
            object: json!({"data": {"x": "2"}}),
            managed: json!([["hpa", "Update", data(&["x"])]]),
        },
        Case {
            name: "the applier then conflicts with the updater",
            path: CM,
            steps: vec![
                step("a", Apply, cm(json!({"x": "1"})), 201),
                step("hpa", Merge, json!({"data": {"x": "2"}}), 200),
                step("a", Apply, cm(json!({"x": "1"})), 409),
            ],
            object: json!({"data": {"x": "2"}}),
            managed: json!([["hpa", "Update", data(&["x"])]]),
        },
        Case {
            name: "force over an updater removes its entry",
            path: CM,
            steps: vec![
                step("a", Apply, cm(json!({"x": "1"})), 201),
                step("hpa", Merge, json!({"data": {"x": "2"}}), 200),
                step("a", Force, cm(json!({"x": "1"})), 200),
            ],
            object: json!({"data": {"x": "1"}}),
            managed: json!([["a", "Apply", data(&["x"])]]),
        },
        Case {
            name: "omitting a field an updater took keeps its value",
            path: CM,
            steps: vec![
                step("a", Apply, cm(json!({"x": "1", "y": "1"})), 201),
                step("hpa", Merge, json!({"data": {"x": "2"}}), 200),
                step("a", Apply, cm(json!({"y": "1"})), 200),
            ],
            object: json!({"data": {"x": "2", "y": "1"}}),
            managed: json!([["a", "Apply", data(&["y"])], ["hpa", "Update", data(&["x"])]]),
        },
        Case {
            name: "a create is an Update that owns the new map itself",
            path: CM,
            steps: vec![step("kubectl-create", Create, cm(json!({"x": "1"})), 201)],
            object: json!({"data": {"x": "1"}}),
            managed: json!([["kubectl-create", "Update", {"f:data": {".": {}, "f:x": {}}}]]),
        },
        Case {
            name: "a JSON patch is an Update next to the applier",
            path: CM,
            steps: vec![
                step("a", Apply, cm(json!({"x": "1"})), 201),
                step("edit", JsonPatch, json!([{"op": "add", "path": "/data/y", "value": "2"}]), 200),
            ],
            object: json!({"data": {"x": "1", "y": "2"}}),
            managed: json!([["a", "Apply", data(&["x"])], ["edit", "Update", data(&["y"])]]),
        },
        Case {
            name: "labels are granular: two managers, two labels",
            path: CM,
            steps: vec![
                step("a", Apply, cm_meta(json!({"labels": {"app": "web"}})), 201),
                step("b", Apply, cm_meta(json!({"labels": {"team": "x"}})), 200),
            ],
            object: json!({"metadata": {"labels": {"app": "web", "team": "x"}}}),
            managed: json!([
                ["a", "Apply", {"f:metadata": {"f:labels": {"f:app": {}}}}],
                ["b", "Apply", {"f:metadata": {"f:labels": {"f:team": {}}}}]
            ]),
        },
        Case {
            name: "a dropped label is removed",
            path: CM,
            steps: vec![
                step("a", Apply, cm_meta(json!({"labels": {"app": "web", "tier": "front"}})), 201),
                step("a", Apply, cm_meta(json!({"labels": {"app": "web"}})), 200),
            ],
            object: json!({"metadata": {"labels": {"app": "web"}}}),
            managed: json!([["a", "Apply", {"f:metadata": {"f:labels": {"f:app": {}}}}]]),
        },
        Case {
            name: "finalizers are a set owned item by item",
            path: CM,
            steps: vec![
                step("a", Apply, cm_meta(json!({"finalizers": ["a.io/x"]})), 201),
                step("b", Apply, cm_meta(json!({"finalizers": ["b.io/y"]})), 200),
            ],
            object: json!({"metadata": {"finalizers": ["a.io/x", "b.io/y"]}}),
            managed: json!([
                ["a", "Apply", {"f:metadata": {"f:finalizers": {"v:\"a.io/x\"": {}}}}],
                ["b", "Apply", {"f:metadata": {"f:finalizers": {"v:\"b.io/y\"": {}}}}]
            ]),
        },
        Case {
            name: "containers are keyed by name: a sidecar injector owns its own item",
            path: DEPLOY,
            steps: vec![
                step("gitops", Apply, pod_spec(json!({"containers": [container("nginx", "nginx:1")]})), 201),
                step("injector", Apply, pod_spec(json!({"containers": [container("proxy", "envoy:1")]})), 200),
            ],
            object: json!({"spec": {"template": {"spec": {"containers": [container("nginx", "nginx:1"), container("proxy", "envoy:1")]}}}}),
            managed: json!([
                ["gitops", "Apply", containers_fields(&["nginx"])],
                ["injector", "Apply", containers_fields(&["proxy"])]
            ]),
        },
        Case {
            name: "re-applying without the injected container neither conflicts nor removes it",
            path: DEPLOY,
            steps: vec![
                step("gitops", Apply, pod_spec(json!({"containers": [container("nginx", "nginx:1")]})), 201),
                step("injector", Apply, pod_spec(json!({"containers": [container("proxy", "envoy:1")]})), 200),
                step("gitops", Apply, pod_spec(json!({"containers": [container("nginx", "nginx:2")]})), 200),
            ],
            object: json!({"spec": {"template": {"spec": {"containers": [container("nginx", "nginx:2"), container("proxy", "envoy:1")]}}}}),
            managed: json!([
                ["gitops", "Apply", containers_fields(&["nginx"])],
                ["injector", "Apply", containers_fields(&["proxy"])]
            ]),
        },
        Case {
            name: "dropping one's own container removes only that item",
            path: DEPLOY,
            steps: vec![
                step(
                    "gitops",
                    Apply,
                    pod_spec(json!({"containers": [container("nginx", "nginx:1"), container("app", "app:1")]})),
                    201,
                ),
                step("injector", Apply, pod_spec(json!({"containers": [container("proxy", "envoy:1")]})), 200),
                step("gitops", Apply, pod_spec(json!({"containers": [container("nginx", "nginx:1")]})), 200),
            ],
            object: json!({"spec": {"template": {"spec": {"containers": [container("nginx", "nginx:1"), container("proxy", "envoy:1")]}}}}),
            managed: json!([
                ["gitops", "Apply", containers_fields(&["nginx"])],
                ["injector", "Apply", containers_fields(&["proxy"])]
            ]),
        },
        Case {
            name: "env is keyed by name inside a shared container",
            path: DEPLOY,
            steps: vec![
                step(
                    "a",
                    Apply,
                    pod_spec(json!({"containers": [{"name": "app", "env": [{"name": "A", "value": "1"}]}]})),
                    201,
                ),
                step(
                    "b",
                    Apply,
                    pod_spec(json!({"containers": [{"name": "app", "env": [{"name": "B", "value": "2"}]}]})),
                    200,
                ),
            ],
            object: json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]}}}}),
            managed: json!([
                [
                    "a",
                    "Apply",
                    tpl(
                        json!({"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:env": {"k:{\"name\":\"A\"}": {".": {}, "f:name": {}, "f:value": {}}}}}})
                    )
                ],
                [
                    "b",
                    "Apply",
                    tpl(
                        json!({"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:env": {"k:{\"name\":\"B\"}": {".": {}, "f:name": {}, "f:value": {}}}}}})
                    )
                ]
            ]),
        },
        Case {
            name: "ports are keyed by containerPort and the defaulted protocol",
            path: DEPLOY,
            steps: vec![step(
                "a",
                Apply,
                pod_spec(json!({"containers": [{"name": "app", "ports": [{"containerPort": 80}]}]})),
                201,
            )],
            object: json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "ports": [{"containerPort": 80}]}]}}}}),
            managed: json!([[
                "a",
                "Apply",
                tpl(json!({"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:name": {},
                "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}}}}))
            ]]),
        },
        Case {
            name: "an atomic list with another value conflicts as a whole",
            path: DEPLOY,
            steps: vec![
                step("a", Apply, pod_spec(json!({"tolerations": [{"key": "a"}]})), 201),
                step("b", Apply, pod_spec(json!({"tolerations": [{"key": "b"}]})), 409),
            ],
            object: json!({"spec": {"template": {"spec": {"tolerations": [{"key": "a"}]}}}}),
            managed: json!([["a", "Apply", tpl(json!({"f:tolerations": {}}))]]),
        },
        Case {
            name: "an atomic list with the same value is shared",
            path: DEPLOY,
            steps: vec![
                step("a", Apply, pod_spec(json!({"tolerations": [{"key": "a"}]})), 201),
                step("b", Apply, pod_spec(json!({"tolerations": [{"key": "a"}]})), 200),
            ],
            object: json!({"spec": {"template": {"spec": {"tolerations": [{"key": "a"}]}}}}),
            managed: json!([
                ["a", "Apply", tpl(json!({"f:tolerations": {}}))],
                ["b", "Apply", tpl(json!({"f:tolerations": {}}))]
            ]),
        },
        Case {
            name: "an atomic map (LabelSelector) conflicts as a whole",
            path: DEPLOY,
            steps: vec![
                step("a", Apply, deploy(json!({"selector": {"matchLabels": {"app": "web"}}})), 201),
                step("b", Apply, deploy(json!({"selector": {"matchLabels": {"tier": "x"}}})), 409),
                step("b", Force, deploy(json!({"selector": {"matchLabels": {"tier": "x"}}})), 200),
            ],
            object: json!({"spec": {"selector": {"matchLabels": {"tier": "x"}}}}),
            managed: json!([["b", "Apply", {"f:spec": {"f:selector": {}}}]]),
        },
        Case {
            name: "replicas taken by an autoscaler survive an apply that omits them",
            path: DEPLOY,
            steps: vec![
                step("gitops", Apply, deploy(json!({"replicas": 2, "paused": false})), 201),
                step("hpa", Merge, json!({"spec": {"replicas": 5}}), 200),
                step("gitops", Apply, deploy(json!({"paused": false})), 200),
            ],
            object: json!({"spec": {"replicas": 5, "paused": false}}),
            managed: json!([["gitops", "Apply", {"f:spec": {"f:paused": {}}}], ["hpa", "Update", {"f:spec": {"f:replicas": {}}}]]),
        },
        Case {
            name: "status applied to the main resource is dropped and not owned",
            path: DEPLOY,
            steps: vec![step(
                "a",
                Apply,
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"paused": true}, "status": {"replicas": 3}}),
                201,
            )],
            object: json!({"spec": {"paused": true}}),
            managed: json!([["a", "Apply", {"f:spec": {"f:paused": {}}}]]),
        },
    ]
}

fn run(server: &ApiServer, path: &str, step: &Step) -> crate::common::Reply {
    const APPLY: &str = "application/apply-patch+yaml";
    const MERGE: &str = "application/merge-patch+json";
    let body = step.body.to_string();
    let manager = step.manager;
    let (method, url, content_type) = match step.op {
        Op::Apply => ("PATCH", format!("{path}?fieldManager={manager}"), APPLY),
        Op::Force => ("PATCH", format!("{path}?fieldManager={manager}&force=true"), APPLY),
        Op::Merge => ("PATCH", format!("{path}?fieldManager={manager}"), MERGE),
        Op::JsonPatch => ("PATCH", format!("{path}?fieldManager={manager}"), "application/json-patch+json"),
        Op::StatusApply => ("PATCH", format!("{path}/status?fieldManager={manager}"), APPLY),
        Op::StatusMerge => ("PATCH", format!("{path}/status?fieldManager={manager}"), MERGE),
        Op::Create => {
            let collection = path.rsplit_once('/').map_or(path, |(collection, _)| collection);
            ("POST", format!("{collection}?fieldManager={manager}"), "application/json")
        }
    };
    send(server, method, &url, content_type, &body)
}

/// Whether `expected` is contained in `actual`: objects by key, everything else equal.
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        _ => actual == expected,
    }
}

#[test]
fn server_side_apply_table() {
    let mut cases = cases();
    cases.extend(crate::ssa_table_more::cases());
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let server = server();
        if case.path.starts_with("/apis/example.com/") {
            crate::crds::create_widget_crd(&server);
        }
        for (index, step) in case.steps.iter().enumerate() {
            let reply = run(&server, case.path, step);
            if reply.code != step.code {
                failures.push(format!(
                    "{}: step {index} answered {} not {}: {}",
                    case.name, reply.code, step.code, reply.body
                ));
            }
        }
        let stored = get(&server, case.path).body;
        if !contains(&content(&stored), &case.object) {
            failures.push(format!(
                "{}: object\n  got      {}\n  expected {}",
                case.name,
                content(&stored),
                case.object
            ));
        }
        if managed(&stored) != case.managed {
            failures.push(format!(
                "{}: managedFields\n  got      {}\n  expected {}",
                case.name,
                managed(&stored),
                case.managed
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn no_op_apply_keeps_the_resource_version() {
    let server = server();
    let first = run(&server, CM, &step("a", Op::Apply, cm(json!({"x": "1"})), 201));
    let second = run(&server, CM, &step("a", Op::Apply, cm(json!({"x": "1"})), 200));
    assert_eq!(second.code, 200);
    assert_eq!(second.body, first.body, "not even managedFields time changes");
    let list = get(&server, "/api/v1/configmaps");
    assert_eq!(list.body["metadata"]["resourceVersion"], first.body["metadata"]["resourceVersion"]);
}

#[test]
fn conflict_messages_follow_kubectl() {
    let server = server();
    run(&server, DEPLOY, &step("gitops", Op::Apply, deploy(json!({"replicas": 2})), 201));
    run(&server, DEPLOY, &step("hpa", Op::Merge, json!({"spec": {"replicas": 5}}), 200));
    let reply = run(&server, DEPLOY, &step("gitops", Op::Apply, deploy(json!({"replicas": 2})), 409));
    assert_eq!(
        reply.body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "Apply failed with 1 conflict: conflict with \"hpa\" using apps/v1: .spec.replicas",
               "reason": "Conflict",
               "details": {"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"hpa\" using apps/v1", "field": ".spec.replicas"}]},
               "code": 409})
    );
    run(&server, DEPLOY, &step("other", Op::Apply, deploy(json!({"paused": true, "minReadySeconds": 1})), 200));
    let two = run(
        &server,
        DEPLOY,
        &step("gitops", Op::Apply, deploy(json!({"replicas": 2, "paused": false, "minReadySeconds": 2})), 409),
    );
    assert_eq!(
        two.body["message"],
        "Apply failed with 3 conflicts: conflicts with \"hpa\" using apps/v1:\n- .spec.replicas\nconflicts with \"other\":\n- .spec.minReadySeconds\n- .spec.paused"
    );
    assert_eq!(two.body["details"]["causes"].as_array().map(Vec::len), Some(3));
}

#[test]
fn apply_body_checks() {
    let server = server();
    let with_managed =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "managedFields": [{}]}});
    assert_eq!(run(&server, CM, &step("a", Op::Apply, with_managed, 400)).code, 400);
    let wrong_version = json!({"apiVersion": "v2", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let reply = run(&server, CM, &step("a", Op::Apply, wrong_version, 400));
    assert_eq!(
        reply.body["message"],
        "Incorrect version specified in apply patch. Specified patch version: v2, expected: v1"
    );
    let wrong_name = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}});
    assert_eq!(run(&server, CM, &step("a", Op::Apply, wrong_name, 400)).code, 400);
    // The API server reads apply bodies as YAML 1.1 (sigs.k8s.io/yaml): quoted `"on"` stays a string.
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  mode: \"on\"\n  flag: on\n";
    let reply = send(&server, "PATCH", &format!("{CM}?fieldManager=a"), "application/apply-patch+yaml", yaml);
    assert_eq!(reply.code, 201, "{}", reply.body);
    assert_eq!((&reply.body["data"]["mode"], &reply.body["data"]["flag"]), (&json!("on"), &json!(true)));
    let bad_yaml = send(&server, "PATCH", &format!("{CM}?fieldManager=a"), "application/apply-patch+yaml", "a: [");
    assert_eq!(bad_yaml.code, 400);
    let missing_ns = send(
        &server,
        "PATCH",
        "/api/v1/namespaces/nope/configmaps/c?fieldManager=a",
        "application/apply-patch+yaml",
        &cm(json!({})).to_string(),
    );
    assert_eq!(missing_ns.code, 404);
}
