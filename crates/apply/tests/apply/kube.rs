//! The Kubernetes target over the embedded API server.

use gitops_apiserver::{ApiServer, ApiServerOptions};
use gitops_apply::{ApplyOptions, KubeTarget, Target, TargetErrorKind};
use gitops_core::Object;
use serde_json::json;

pub(crate) fn server_and_target() -> (ApiServer, KubeTarget) {
    let server = ApiServer::new(ApiServerOptions::default());
    let client = kube::Client::new(server.clone(), "default");
    (server, KubeTarget::new(client, "embedded"))
}

fn obj(value: serde_json::Value) -> Object {
    Object::from_value(value).expect("valid object")
}

#[tokio::test]
async fn kube_target_meets_the_contract() {
    let (_server, target) = server_and_target();
    crate::targets::contract(&target).await;
}

#[tokio::test]
async fn scope_is_checked_and_defaulted() {
    let (_server, target) = server_and_target();
    let cm = obj(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}}));
    let stored = target.apply(&cm, &ApplyOptions::default()).await.expect("defaults the namespace");
    assert_eq!(stored.namespace(), Some("default"));
    let ns = obj(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "namespace": "default"}}));
    let err = target.apply(&ns, &ApplyOptions::default()).await.expect_err("cluster-scoped with a namespace");
    assert_eq!(err.kind, TargetErrorKind::Invalid);
    assert!(err.to_string().contains("metadata.namespace: Namespace is cluster-scoped"), "{err}");
    let widget = obj(
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"}}),
    );
    let err = target.apply(&widget, &ApplyOptions::default()).await.expect_err("unknown kind");
    assert!(err.is_not_found());
    assert!(err.to_string().contains("does not serve kind Widget in example.com/v1"), "{err}");
    assert_eq!(target.get(&widget.object_ref()).await.expect("get"), None, "no kind, no object");
}

#[tokio::test]
async fn conflicts_name_the_other_manager_and_the_field() {
    let (_server, target) = server_and_target();
    let cm = |v: &str| {
        obj(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}, "data": {"k": v}}),
        )
    };
    target.apply(&cm("1"), &ApplyOptions::default().field_manager("helm")).await.expect("helm applies");
    let err = target.apply(&cm("2"), &ApplyOptions::default()).await.expect_err("gitops conflicts");
    assert!(err.is_conflict(), "{err}");
    let text = err.to_string();
    assert!(text.contains("\"helm\"") && text.contains(".data.k"), "{text}");
    let forced = target.apply(&cm("2"), &ApplyOptions::default().force(true)).await.expect("force takes over");
    assert_eq!(forced.pointer("/data/k"), Some(&json!("2")));
}
