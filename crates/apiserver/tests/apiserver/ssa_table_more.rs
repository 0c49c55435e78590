//! More server-side apply cases for the table in `ssa_table`: the status subresource, shared and
//! forced ownership inside keyed list items, atomic lists, and CRD schemas (keyed lists, sets,
//! atomic maps, preserved unknown fields, status reset).

use serde_json::{Value, json};

use crate::ssa_table::{Case, DEPLOY, Op, container, container_fields, containers_fields, deploy, pod_spec, step, tpl};

const WIDGET: &str = "/apis/example.com/v1/namespaces/default/widgets/w";

fn widget(spec: Value) -> Value {
    let mut object = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    object["spec"] = spec;
    object
}

fn status(body: Value) -> Value {
    let mut object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}});
    object["status"] = body;
    object
}

fn containers(items: Vec<Value>) -> Value {
    let mut spec = json!({});
    spec["containers"] = Value::Array(items);
    pod_spec(spec)
}

#[allow(clippy::too_many_lines)]
pub(crate) fn cases() -> Vec<Case> {
    use Op::{Apply, Force, StatusApply, StatusMerge};
    let paused = || deploy(json!({"paused": true}));
    let paused_fields = || json!({"f:spec": {"f:paused": {}}});
    vec![
        Case {
            name: "status applied through /status is owned under the subresource",
            path: DEPLOY,
            steps: vec![
                step("gitops", Apply, paused(), 201),
                step("ctrl", StatusApply, status(json!({"replicas": 2})), 200),
            ],
            object: json!({"spec": {"paused": true}, "status": {"replicas": 2}}),
            // Apply entries sort by time, then manager.
            managed: json!([["ctrl", "Apply", {"f:status": {"f:replicas": {}}}], ["gitops", "Apply", paused_fields()]]),
        },
        Case {
            name: "a merge patch on /status is an Update that changes status only",
            path: DEPLOY,
            steps: vec![
                step("gitops", Apply, paused(), 201),
                step("ctrl", StatusMerge, json!({"spec": {"paused": false}, "status": {"replicas": 1}}), 200),
            ],
            object: json!({"spec": {"paused": true}, "status": {"replicas": 1}}),
            managed: json!([["gitops", "Apply", paused_fields()], ["ctrl", "Update", {"f:status": {"f:replicas": {}}}]]),
        },
        Case {
            name: "a status applier prunes the status fields it stops applying",
            path: DEPLOY,
            steps: vec![
                step("gitops", Apply, paused(), 201),
                step("ctrl", StatusApply, status(json!({"replicas": 2, "readyReplicas": 2})), 200),
                step("ctrl", StatusApply, status(json!({"replicas": 2})), 200),
            ],
            object: json!({"status": {"replicas": 2}}),
            // Apply entries sort by time, then manager.
            managed: json!([["ctrl", "Apply", {"f:status": {"f:replicas": {}}}], ["gitops", "Apply", paused_fields()]]),
        },
        Case {
            name: "a main-resource apply never conflicts with status owners",
            path: DEPLOY,
            steps: vec![
                step("gitops", Apply, paused(), 201),
                step("ctrl", StatusApply, status(json!({"replicas": 2})), 200),
                step(
                    "gitops",
                    Apply,
                    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                           "spec": {"paused": true}, "status": {"replicas": 9}}),
                    200,
                ),
            ],
            object: json!({"status": {"replicas": 2}}),
            // Apply entries sort by time, then manager.
            managed: json!([["ctrl", "Apply", {"f:status": {"f:replicas": {}}}], ["gitops", "Apply", paused_fields()]]),
        },
        Case {
            name: "two appliers of the same container item share it",
            path: DEPLOY,
            steps: vec![
                step("a", Apply, containers(vec![container("app", "app:1")]), 201),
                step("b", Apply, containers(vec![container("app", "app:1")]), 200),
            ],
            object: json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:1"}]}}}}),
            managed: json!([["a", "Apply", containers_fields(&["app"])], ["b", "Apply", containers_fields(&["app"])]]),
        },
        Case {
            name: "another image in a shared item conflicts on that field only",
            path: DEPLOY,
            steps: vec![
                step("a", Apply, containers(vec![container("app", "app:1")]), 201),
                step("b", Apply, containers(vec![container("app", "app:2")]), 409),
            ],
            object: json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:1"}]}}}}),
            managed: json!([["a", "Apply", containers_fields(&["app"])]]),
        },
        Case {
            name: "force on an item's field leaves the item itself shared",
            path: DEPLOY,
            steps: vec![
                step("a", Apply, containers(vec![container("app", "app:1")]), 201),
                step("b", Force, containers(vec![container("app", "app:2")]), 200),
            ],
            object: json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}),
            managed: json!([
                ["a", "Apply", tpl(json!({"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:name": {}}}}))],
                ["b", "Apply", containers_fields(&["app"])]
            ]),
        },
        Case {
            name: "dropping a shared item keeps it for its other owner",
            path: DEPLOY,
            steps: vec![
                step("a", Apply, containers(vec![container("app", "app:1")]), 201),
                step("b", Apply, containers(vec![container("app", "app:1")]), 200),
                step("a", Apply, containers(vec![container("web", "web:1")]), 200),
            ],
            object: json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:1"}, {"name": "web", "image": "web:1"}]}}}}),
            managed: json!([["a", "Apply", containers_fields(&["web"])], ["b", "Apply", containers_fields(&["app"])]]),
        },
        Case {
            name: "force on an atomic list moves the whole list",
            path: DEPLOY,
            steps: vec![
                step("a", Apply, containers(vec![json!({"name": "app", "args": ["x", "y"]})]), 201),
                step("b", Force, containers(vec![json!({"name": "app", "args": ["z"]})]), 200),
            ],
            object: json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "args": ["z"]}]}}}}),
            managed: json!([
                ["a", "Apply", tpl(json!({"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:name": {}}}}))],
                [
                    "b",
                    "Apply",
                    tpl(json!({"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:args": {}, "f:name": {}}}}))
                ]
            ]),
        },
        Case {
            name: "a CRD's keyed list (x-kubernetes-list-map-keys) merges item by item",
            path: WIDGET,
            steps: vec![
                step("a", Apply, widget(json!({"ports": [{"name": "http", "port": 80}]})), 201),
                step("b", Apply, widget(json!({"ports": [{"name": "grpc", "port": 90}]})), 200),
                step("a", Apply, widget(json!({"ports": [{"name": "http", "port": 81}]})), 200),
            ],
            object: json!({"spec": {"ports": [{"name": "http", "port": 81}, {"name": "grpc", "port": 90}]}}),
            managed: json!([
                ["a", "Apply", {"f:spec": {"f:ports": {"k:{\"name\":\"http\"}": {".": {}, "f:name": {}, "f:port": {}}}}}],
                ["b", "Apply", {"f:spec": {"f:ports": {"k:{\"name\":\"grpc\"}": {".": {}, "f:name": {}, "f:port": {}}}}}]
            ]),
        },
        Case {
            name: "a CRD's set list merges value by value and prunes only one's own",
            path: WIDGET,
            steps: vec![
                step("a", Apply, widget(json!({"tags": ["x", "shared"]})), 201),
                step("b", Apply, widget(json!({"tags": ["shared", "y"]})), 200),
                step("a", Apply, widget(json!({"tags": []})), 200),
            ],
            object: json!({"spec": {"tags": ["shared", "y"]}}),
            managed: json!([
                ["a", "Apply", {"f:spec": {"f:tags": {}}}],
                ["b", "Apply", {"f:spec": {"f:tags": {"v:\"shared\"": {}, "v:\"y\"": {}}}}]
            ]),
        },
        Case {
            name: "a CRD's atomic map conflicts as a whole and force takes it",
            path: WIDGET,
            steps: vec![
                step("a", Apply, widget(json!({"selector": {"app": "w"}})), 201),
                step("b", Apply, widget(json!({"selector": {"tier": "x"}})), 409),
                step("b", Force, widget(json!({"selector": {"tier": "x"}})), 200),
            ],
            object: json!({"spec": {"selector": {"tier": "x"}}}),
            managed: json!([["b", "Apply", {"f:spec": {"f:selector": {}}}]]),
        },
        Case {
            name: "below x-kubernetes-preserve-unknown-fields keys are owned one by one",
            path: WIDGET,
            steps: vec![
                step("a", Apply, widget(json!({"extra": {"x": 1}})), 201),
                step("b", Apply, widget(json!({"extra": {"y": {"deep": true}}})), 200),
            ],
            object: json!({"spec": {"extra": {"x": 1, "y": {"deep": true}}}}),
            managed: json!([
                ["a", "Apply", {"f:spec": {"f:extra": {"f:x": {}}}}],
                // A deduced map key is a member itself, hence the `.`.
                ["b", "Apply", {"f:spec": {"f:extra": {"f:y": {".": {}, "f:deep": {}}}}}]
            ]),
        },
        Case {
            name: "a CRD with a status subresource resets status on the main resource",
            path: WIDGET,
            steps: vec![
                step(
                    "a",
                    Apply,
                    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                           "spec": {"replicas": 1}, "status": {"phase": "Ready"}}),
                    201,
                ),
                step(
                    "ctrl",
                    StatusApply,
                    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                           "spec": {"replicas": 5}, "status": {"phase": "Ready"}}),
                    200,
                ),
            ],
            object: json!({"spec": {"replicas": 1}, "status": {"phase": "Ready"}}),
            managed: json!([
                ["a", "Apply", {"f:spec": {"f:replicas": {}}}],
                ["ctrl", "Apply", {"f:status": {"f:phase": {}}}]
            ]),
        },
    ]
}

#[test]
fn container_fields_are_keyed_by_name() {
    assert_eq!(container_fields("a").0, "k:{\"name\":\"a\"}");
}
