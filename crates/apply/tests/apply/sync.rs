//! Syncs of a realistic stack to the embedded API server through the Kubernetes target.

use std::sync::atomic::Ordering;
use std::time::Duration;

use gitops_apply::{Applier, Event, Target, applyset};
use gitops_core::{Action, ObjectRef};
use serde_json::json;

use gitops_apiserver::FaultAction;

use crate::harness::{Cluster, manifests, options, sync};

pub(crate) const STACK: &str = r"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: big, namespace: shop}
spec: {size: 3}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read-config, namespace: shop}
rules:
- apiGroups: ['']
  resources: [configmaps]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-reads-config, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-config}
subjects:
- {kind: ServiceAccount, name: web, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: shop-viewer}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web, namespace: shop}
data: {GREETING: hello, COLOR: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
stringData: {password: s3cr3t-Pa55}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
        envFrom: [{configMapRef: {name: web}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
";

fn names(report: &gitops_apply::ApplyReport, action: Action) -> Vec<String> {
    report.changes.changes.iter().filter(|c| c.action == action).map(|c| c.object.to_string()).collect()
}

#[tokio::test]
async fn full_sync_then_a_second_sync_writes_nothing() {
    let cluster = Cluster::new();
    let target = cluster.target();
    // No controller runs in the embedded server: do not wait for the Deployment's rollout.
    let applier = Applier::new(&target, options("shop").wait(false).revision(Some("main@sha1:1".into())));
    let set = manifests(STACK);
    let report = sync(&applier, &set, true).await.expect("first sync");
    assert_eq!(report.changes.summary(), "11 created, 0 updated, 0 deleted, 0 unchanged");
    assert_eq!(names(&report, Action::Create)[0], "Namespace/shop", "namespaces first");

    // Every member carries the ApplySet label; the parent Secret lists the group-kinds.
    let id = target.applyset_id("shop");
    let deployment = target.get(&ObjectRef::new("apps", "Deployment", Some("shop"), "web")).await.expect("get");
    assert_eq!(deployment.as_ref().and_then(|d| d.label(applyset::PART_OF_LABEL)), Some(id.as_str()));
    let parent =
        target.get(&ObjectRef::new("", "Secret", Some("default"), "shop")).await.expect("get").expect("parent");
    assert_eq!(parent.label(applyset::ID_LABEL), Some(id.as_str()));
    assert_eq!(
        parent.annotation(applyset::GROUP_KINDS_ANNOTATION),
        Some(
            "ClusterRole.rbac.authorization.k8s.io,ConfigMap,CustomResourceDefinition.apiextensions.k8s.io,Deployment.apps,Namespace,Role.rbac.authorization.k8s.io,RoleBinding.rbac.authorization.k8s.io,Secret,Service,ServiceAccount,Widget.example.com"
        )
    );
    assert_eq!(parent.annotation(applyset::NAMESPACES_ANNOTATION), Some("shop"));
    assert_eq!(parent.annotation(applyset::TOOLING_ANNOTATION), Some(applyset::TOOLING));
    let inventory = target.load_inventory("shop").await.expect("load").expect("stored");
    assert_eq!((inventory.len(), inventory.revision.as_deref()), (11, Some("main@sha1:1")));

    let (writes, requests) = (cluster.writes(), cluster.write_requests());
    let report = sync(&applier, &set, true).await.expect("second sync");
    assert_eq!(report.changes.summary(), "0 created, 0 updated, 0 deleted, 11 unchanged", "{:?}", report.changes);
    assert_eq!(cluster.writes(), writes, "a no-op sync makes zero writes (the server's request log)");
    assert_eq!(cluster.write_requests(), requests, "it does not even send a no-op apply");
}

#[tokio::test]
async fn drift_is_restored_and_conflicts_name_the_other_manager() {
    let cluster = Cluster::new();
    let target = cluster.target();
    let applier = Applier::new(&target, options("shop").wait(false));
    let set = manifests(STACK);
    sync(&applier, &set, true).await.expect("first sync");

    // Someone deletes the Service: the next sync recreates it.
    let service = ObjectRef::new("", "Service", Some("shop"), "web");
    target.delete(&service, "v1", &gitops_apply::DeleteOptions::default()).await.expect("delete");
    let report = sync(&applier, &set, true).await.expect("restores");
    assert_eq!(names(&report, Action::Create), ["Service/shop/web"]);

    // Someone edits the ConfigMap with another field manager (as `kubectl edit` does): our
    // apply conflicts, naming the manager and the field; forcing restores it.
    let edited = gitops_core::Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "web", "namespace": "shop"}, "data": {"COLOR": "red"}}))
    .expect("valid");
    let by_hand = gitops_apply::ApplyOptions::default().field_manager("kubectl-edit").force(true);
    target.apply(&edited, &by_hand).await.expect("edit");
    let err = sync(&applier, &set, true).await.expect_err("conflict");
    let text = err.to_string();
    assert!(
        text.contains("ConfigMap/shop/web") && text.contains("kubectl-edit") && text.contains(".data.COLOR"),
        "{text}"
    );
    assert!(err.source.is_conflict());

    let forced = Applier::new(&target, options("shop").wait(false).force(true));
    let report = sync(&forced, &set, true).await.expect("force restores");
    assert_eq!(names(&report, Action::Update), ["ConfigMap/shop/web"]);
    let live = target.get(&ObjectRef::new("", "ConfigMap", Some("shop"), "web")).await.expect("get").expect("live");
    assert_eq!(live.pointer("/data/COLOR"), Some(&json!("blue")));
}

#[tokio::test]
async fn prune_removes_only_our_members() {
    let cluster = Cluster::new();
    let target = cluster.target();
    let applier = Applier::new(&target, options("shop").wait(false));
    sync(&applier, &manifests(STACK), true).await.expect("first sync");

    // Another application owns a ConfigMap in the same namespace; an unlabelled one is nobody's.
    let other = Applier::new(&target, options("other").wait(false));
    let theirs = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs, namespace: shop}\ndata: {a: b}\n";
    sync(&other, &manifests(theirs), true).await.expect("other app");
    let stray = gitops_core::Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "stray", "namespace": "shop"}}))
    .expect("valid");
    target.apply(&stray, &gitops_apply::ApplyOptions::default().field_manager("someone")).await.expect("stray");

    let smaller: String =
        STACK.split("---").filter(|doc| !doc.contains("kind: Service\n")).collect::<Vec<_>>().join("---");
    let report = sync(&applier, &manifests(&smaller), true).await.expect("prune");
    assert_eq!(names(&report, Action::Delete), ["Service/shop/web"]);
    for name in ["theirs", "stray"] {
        assert!(
            target.get(&ObjectRef::new("", "ConfigMap", Some("shop"), name)).await.expect("get").is_some(),
            "{name} kept"
        );
    }
    let inventory = target.load_inventory("shop").await.expect("load").expect("stored");
    assert!(!inventory.contains(&ObjectRef::new("", "Service", Some("shop"), "web")));
}

#[tokio::test]
async fn faults_are_retried_and_the_sync_converges() {
    let cluster = Cluster::new();
    let target = cluster.target();
    let retry = gitops_apply::RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(10));
    let retries = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&retries);
    let applier = Applier::new(
        &target,
        options("shop").wait(false).retry(retry).on_event(move |e| {
            if matches!(e, Event::Retrying { .. }) {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        }),
    );
    cluster.latency(Duration::from_millis(2));
    cluster.fail_next_writes(&[
        FaultAction::Respond(500),
        FaultAction::Respond(429),
        FaultAction::Drop,
        FaultAction::Respond(503),
        FaultAction::Drop,
    ]);
    let report = sync(&applier, &manifests(STACK), true).await.expect("converges");
    assert_eq!(report.changes.count(Action::Create), 11);
    assert_eq!(retries.load(Ordering::SeqCst), 5, "each fault cost one retry");
    let inventory = target.load_inventory("shop").await.expect("load").expect("stored");
    assert_eq!(inventory.len(), 11, "the inventory is consistent");
    let writes = cluster.writes();
    let again = sync(&applier, &manifests(STACK), true).await.expect("no-op");
    assert!(!again.changes.has_writes());
    assert_eq!(cluster.writes(), writes);
}

#[tokio::test]
async fn a_sync_killed_mid_wave_converges_on_the_next_run() {
    let cluster = Cluster::new();
    let target = cluster.target();
    let applier = Applier::new(&target, options("shop").wait(false));
    let set = manifests(STACK);
    cluster.latency(Duration::from_millis(5));
    // Kill the sync (drop its future) once a few objects are written.
    let killed = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::select! {
            result = sync(&applier, &set, true) => Some(result),
            () = async { while cluster.writes() < 4 { tokio::time::sleep(Duration::from_millis(1)).await } } => None,
        }
    })
    .await
    .expect("no hang");
    assert!(killed.is_none(), "the sync was killed part way");
    let inventory = target.load_inventory("shop").await.expect("load").expect("saved before the first write");
    assert_eq!(inventory.len(), 11, "every object the sync could create is tracked");

    cluster.latency(Duration::ZERO);
    let report = sync(&applier, &set, true).await.expect("re-sync");
    assert_eq!(report.changes.count(Action::Create) + report.changes.count(Action::Unchanged), 11);
    assert!(report.changes.count(Action::Unchanged) >= 2, "{}", report.changes.summary());
    let writes = cluster.writes();
    assert!(!sync(&applier, &set, true).await.expect("no-op").changes.has_writes());
    assert_eq!(cluster.writes(), writes, "converged: nothing left to do, no duplicates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waves_wait_for_rollouts_and_hooks_run_to_completion_on_the_server() {
    let cluster = Cluster::with_controllers(Duration::from_millis(60));
    let target = cluster.target();
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&events);
    let options = options("shop").timeout(Some(Duration::from_secs(30))).on_event(move |e: Event| {
        sink.lock().expect("lock").push(e.to_string());
    });
    let applier = Applier::new(&target, options);
    let hook = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: smoke\n  namespace: shop\n  annotations:\n    \
        argocd.argoproj.io/hook: PostSync\n    argocd.argoproj.io/hook-delete-policy: HookSucceeded\nspec:\n  \
        template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: t, image: busybox}]\n---\n";
    let report = sync(&applier, &manifests(&format!("{hook}{STACK}")), true).await.expect("sync");
    assert_eq!(report.changes.count(Action::Create), 12);
    let events = events.lock().expect("lock").clone();
    let at = |needle: &str| {
        events.iter().position(|e| e.contains(needle)).unwrap_or_else(|| panic!("{needle}: {events:#?}"))
    };
    assert!(at("Deployment/shop/web is Progressing") < at("Deployment/shop/web is Healthy"), "{events:#?}");
    assert!(at("Deployment/shop/web is Healthy") < at("+ Job/shop/smoke created"), "PostSync after the rollout");
    // A hook's step is done (and reported created) once the hook has run to its end.
    assert!(at("hook Job/shop/smoke finished: Healthy") < at("+ Job/shop/smoke created"));
    let smoke = ObjectRef::new("batch", "Job", Some("shop"), "smoke");
    assert!(target.get(&smoke).await.expect("get").is_none(), "HookSucceeded deleted the finished Job");
}
