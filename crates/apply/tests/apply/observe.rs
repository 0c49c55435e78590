//! Observing many objects: one list per kind and namespace by the member labels, one read per
//! object for the rest.

use std::collections::BTreeMap;

use gitops_apiserver::{ApiServer, ApiServerOptions};
use gitops_apply::{Applier, ApplyOptions, KubeTarget, LIST_AT, Target};
use gitops_core::{Manifest, ManifestSet, Object, Origin};
use serde_json::json;

fn object(kind: &str, namespace: &str, name: &str, labels: &BTreeMap<String, String>) -> Object {
    let mut value = json!({
        "apiVersion": "v1", "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
    });
    if kind == "Service" {
        value["spec"] = json!({"ports": [{"port": 80}]});
    } else {
        value["data"] = json!({"name": name});
    }
    Object::from_value(value).expect("valid object")
}

#[tokio::test]
async fn observe_lists_members_by_kind_and_namespace_and_reads_the_rest() {
    let server = ApiServer::new(ApiServerOptions::default().request_log(10_000));
    let target = KubeTarget::new(kube::Client::new(server.clone(), "default"), "embedded");
    let applier = Applier::new(&target, crate::harness::options("app"));
    let members = target.member_labels("app");
    let none = BTreeMap::new();
    let mut wanted = Vec::new();
    // Enough ConfigMaps in `default` to list: members, two that are not labelled as members
    // (created by someone else), one that does not exist yet, and a member of another set.
    for i in 0..LIST_AT + 4 {
        wanted.push((object("ConfigMap", "default", &format!("member-{i}"), &members), true));
    }
    for name in ["stranger-1", "stranger-2"] {
        wanted.push((object("ConfigMap", "default", name, &none), true));
    }
    wanted.push((object("ConfigMap", "default", "missing", &members), false));
    let other = target.member_labels("other-app");
    let foreign = object("ConfigMap", "default", "foreign", &other);
    target.apply(&foreign, &ApplyOptions::default()).await.expect("apply");
    // Too few Services to list; a ConfigMap alone in another namespace.
    for name in ["web", "api"] {
        wanted.push((object("Service", "default", name, &members), true));
    }
    wanted.push((object("ConfigMap", "shop", "lonely", &members), true));
    let shop = Object::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
    target.apply(&shop.expect("valid"), &ApplyOptions::default()).await.expect("apply");
    for (object, exists) in &wanted {
        if *exists {
            target.apply(object, &ApplyOptions::default()).await.expect("apply");
        }
    }
    let desired = ManifestSet::from_manifests(
        wanted.iter().map(|(object, _)| Manifest { object: object.clone(), origin: Origin::generated("test") }),
    )
    .expect("unique");

    server.clear_requests();
    let observed = applier.observe(&desired).await.expect("observe");
    let requests = server.take_requests();

    // The same objects as reading each one.
    assert_eq!(observed.live.len(), wanted.iter().filter(|(_, exists)| *exists).count());
    for (object, _) in &wanted {
        let r = object.object_ref();
        assert_eq!(observed.live.get(&r), target.get(&r).await.expect("get").as_ref(), "{r}");
    }
    assert!(!observed.live.contains_key(&foreign.object_ref()), "not desired, not ours");

    let reads = |suffix: &str| -> Vec<_> {
        requests.iter().filter(|r| r.method == "GET" && r.path.ends_with(suffix)).map(|r| r.query.clone()).collect()
    };
    let lists = reads("/namespaces/default/configmaps");
    assert_eq!(lists.len(), 1, "one list for the ConfigMaps in default: {requests:#?}");
    assert!(lists[0].contains("labelSelector"), "{}", lists[0]);
    let singles = requests.iter().filter(|r| r.method == "GET" && r.path.contains("/configmaps/")).count();
    assert_eq!(singles, 4, "strangers, the missing one, the lonely one: {requests:#?}");
    let services = requests.iter().filter(|r| r.method == "GET" && r.path.contains("/services")).count();
    assert_eq!(services, 2, "{requests:#?}");
    assert!(requests.iter().all(|r| !r.wrote), "observing writes nothing");
}

#[tokio::test]
async fn targets_that_cannot_list_are_read_one_by_one() {
    let target = gitops_apply::MemoryTarget::default();
    let applier = Applier::new(&target, crate::harness::options("app"));
    let objects: Vec<Object> =
        (0..LIST_AT * 2).map(|i| object("ConfigMap", "default", &format!("c{i}"), &BTreeMap::new())).collect();
    for object in &objects[1..] {
        target.apply(object, &ApplyOptions::default()).await.expect("apply");
    }
    let desired = ManifestSet::from_manifests(
        objects.iter().map(|object| Manifest { object: object.clone(), origin: Origin::generated("test") }),
    )
    .expect("unique");
    let observed = applier.observe(&desired).await.expect("observe");
    assert_eq!(observed.live.len(), objects.len() - 1);
    assert!(!observed.live.contains_key(&objects[0].object_ref()));
}
