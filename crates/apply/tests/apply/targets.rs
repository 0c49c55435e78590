//! Target contract tests (run against every target) and Applier behaviour on the simple targets.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use std::time::Duration;

use gitops_apply::{
    Applier, ApplierOptions, ApplyOptions, DeleteOptions, DirTarget, MemoryTarget, RetryPolicy, Target, TargetError,
    TargetErrorKind,
};
use gitops_core::{Action, Inventory, ManifestSet, Object, ObjectRef, parse_manifests, yaml::ReadOptions};
use gitops_plan::{PlanOptions, plan};
use serde_json::json;

fn object(kind: &str, ns: Option<&str>, name: &str, data: &str) -> Object {
    let mut meta = json!({"name": name});
    if let Some(ns) = ns {
        meta["namespace"] = json!(ns);
    }
    Object::from_value(json!({"apiVersion": "v1", "kind": kind, "metadata": meta, "data": {"k": data}})).expect("valid")
}

/// The contract every target meets (shared with the Kubernetes target's tests).
pub(crate) async fn contract(target: &dyn Target) {
    // Namespaced objects need their namespace first (on Kubernetes).
    let ns = Object::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}))
        .expect("valid");
    target.apply(&ns, &ApplyOptions::default()).await.expect("cluster-scoped");
    assert!(target.get(&ns.object_ref()).await.expect("get").is_some());

    let cm = object("ConfigMap", Some("team"), "cfg", "1");
    let r = cm.object_ref();
    assert_eq!(target.get(&r).await.expect("get"), None, "{}: missing objects are None", target.describe());

    target.apply(&cm, &ApplyOptions::default().dry_run(true)).await.expect("dry run");
    assert_eq!(target.get(&r).await.expect("get"), None, "dry run stores nothing");

    let stored = target.apply(&cm, &ApplyOptions::default()).await.expect("apply");
    assert_eq!(stored.object_ref(), r);
    assert_eq!(target.get(&r).await.expect("get").expect("stored").pointer("/data/k"), Some(&json!("1")));

    let changed = object("ConfigMap", Some("team"), "cfg", "2");
    target.apply(&changed, &ApplyOptions::default()).await.expect("update");
    target.apply(&changed, &ApplyOptions::default()).await.expect("idempotent");
    assert_eq!(target.get(&r).await.expect("get").expect("stored").pointer("/data/k"), Some(&json!("2")));

    target.delete(&r, "v1", &DeleteOptions::default().dry_run(true)).await.expect("dry-run delete");
    assert!(target.get(&r).await.expect("get").is_some());
    target.delete(&r, "v1", &DeleteOptions::default()).await.expect("delete");
    assert_eq!(target.get(&r).await.expect("get"), None);
    target.delete(&r, "v1", &DeleteOptions::default()).await.expect("deleting a missing object is fine");

    assert_eq!(target.load_inventory("app").await.expect("load"), None);
    let mut inventory = Inventory::default();
    inventory.insert(r.clone(), "v1");
    inventory.record_revision("main@sha1:abc", 5);
    target.save_inventory("app", &inventory).await.expect("save");
    assert_eq!(target.load_inventory("app").await.expect("load"), Some(inventory));
}

#[tokio::test]
async fn memory_target_meets_the_contract() {
    contract(&MemoryTarget::new()).await;
}

#[tokio::test]
async fn dir_target_meets_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = DirTarget::new(dir.path());
    contract(&target).await;
    assert!(dir.path().join("_cluster/Namespace/team.yaml").exists());
    assert!(dir.path().join("_inventory/app.json").exists());
}

#[tokio::test]
async fn dir_target_refuses_names_that_escape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = DirTarget::new(dir.path().join("root"));
    let evil = ObjectRef::new("", "ConfigMap", Some(".."), "x");
    let err = target.get(&evil).await.expect_err("refused");
    assert_eq!(err.kind, TargetErrorKind::Invalid);
    let err = target.load_inventory("../x").await.expect_err("refused");
    assert_eq!(err.kind, TargetErrorKind::Invalid);
}

/// A target that fails the Nth apply, like a connection dropping in the middle of a sync.
#[derive(Debug)]
struct FailingTarget {
    inner: MemoryTarget,
    fail_at: usize,
    kind: TargetErrorKind,
    applies: AtomicUsize,
}

#[async_trait]
impl Target for FailingTarget {
    fn describe(&self) -> String {
        "failing".into()
    }
    async fn get(&self, object: &ObjectRef) -> Result<Option<Object>, TargetError> {
        self.inner.get(object).await
    }
    async fn apply(&self, object: &Object, options: &ApplyOptions) -> Result<Object, TargetError> {
        if self.applies.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(TargetError::new(self.kind, Some(&object.object_ref()), "connection reset"));
        }
        self.inner.apply(object, options).await
    }
    async fn delete(&self, object: &ObjectRef, api_version: &str, options: &DeleteOptions) -> Result<(), TargetError> {
        self.inner.delete(object, api_version, options).await
    }
    async fn load_inventory(&self, name: &str) -> Result<Option<Inventory>, TargetError> {
        self.inner.load_inventory(name).await
    }
    async fn save_inventory(&self, name: &str, inventory: &Inventory) -> Result<(), TargetError> {
        self.inner.save_inventory(name, inventory).await
    }
}

fn desired(names: &[&str]) -> ManifestSet {
    use std::fmt::Write;
    let mut text = String::new();
    for n in names {
        let _ = write!(
            text,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}, namespace: n}}\ndata: {{k: v}}\n---\n"
        );
    }
    ManifestSet::from_manifests(parse_manifests(&text, "set.yaml", &ReadOptions::default()).expect("valid"))
        .expect("unique")
}

async fn sync(
    target: &dyn Target,
    set: &ManifestSet,
    prune: bool,
) -> Result<gitops_apply::ApplyReport, gitops_apply::ApplyError> {
    let applier = Applier::new(target, ApplierOptions::default().inventory("app").revision(Some("main@sha1:1".into())));
    let observed = applier.observe(set).await.expect("observe");
    let diff = gitops_diff::diff(&observed.desired, &observed.live, &observed.inventory);
    applier.run(&plan(&diff, &PlanOptions::default().prune(prune)).expect("plans"), observed).await
}

#[tokio::test]
async fn an_interrupted_sync_converges_and_tracks_what_it_created() {
    // An error that is not retried stops the sync.
    let target = FailingTarget {
        inner: MemoryTarget::new(),
        fail_at: 3,
        kind: TargetErrorKind::Other,
        applies: AtomicUsize::new(0),
    };
    let set = desired(&["a", "b", "c", "d"]);
    let err = sync(&target, &set, true).await.expect_err("third apply fails");
    // The four ConfigMaps are one wave: the other three are applied, then the sync stops.
    assert_eq!(err.changes.count(Action::Create), 3, "the partial change set is returned");
    assert_eq!(err.object.as_ref().map(ToString::to_string).as_deref(), Some("ConfigMap/n/c"));
    assert_eq!(err.source.kind, TargetErrorKind::Other);
    assert_eq!(err.failures.len(), 1);
    let inventory = target.inner.load_inventory("app").await.expect("load").expect("saved before writing");
    assert_eq!(inventory.len(), 4, "every object the plan could create is owned");
    assert_eq!(inventory.revision, None, "the revision is recorded only when the sync completes");

    let report = sync(&target, &set, true).await.expect("second sync");
    assert_eq!(report.changes.summary(), "1 created, 0 updated, 0 deleted, 3 unchanged");
    assert_eq!(report.inventory.revision.as_deref(), Some("main@sha1:1"));

    let before = target.inner.writes();
    let report = sync(&target, &set, true).await.expect("no-op sync");
    assert!(!report.changes.has_writes());
    assert_eq!(target.inner.writes(), before, "a no-op sync writes nothing");
}

#[tokio::test]
async fn prune_removes_only_owned_objects_and_dry_run_writes_nothing() {
    let target = MemoryTarget::new();
    sync(&target, &desired(&["a", "b"]), true).await.expect("first sync");
    target.insert(object("ConfigMap", Some("n"), "foreign", "x"));

    let dry = Applier::new(&target, ApplierOptions::default().inventory("app").dry_run(true));
    let set = desired(&["a"]);
    let observed = dry.observe(&set).await.expect("observe");
    let diff = gitops_diff::diff(&observed.desired, &observed.live, &observed.inventory);
    let writes = target.writes();
    let report =
        dry.run(&plan(&diff, &PlanOptions::default().prune(true)).expect("plans"), observed).await.expect("dry run");
    assert_eq!(report.changes.count(Action::Delete), 1);
    assert_eq!(target.writes(), writes, "dry run");

    let kept = sync(&target, &set, false).await.expect("sync without prune");
    assert_eq!(kept.changes.count(Action::Delete), 0);
    assert!(kept.inventory.contains(&ObjectRef::new("", "ConfigMap", Some("n"), "b")), "unpruned objects stay owned");

    let report = sync(&target, &set, true).await.expect("prune");
    assert_eq!(report.changes.summary(), "0 created, 0 updated, 1 deleted, 1 unchanged");
    let names: Vec<String> = target.objects().keys().map(|r| r.name.clone()).collect();
    assert_eq!(names, ["a", "foreign"]);
}

#[tokio::test]
async fn transient_errors_are_retried() {
    let target = FailingTarget {
        inner: MemoryTarget::new(),
        fail_at: 2,
        kind: TargetErrorKind::Transient,
        applies: AtomicUsize::new(0),
    };
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&events);
    let options = ApplierOptions::default()
        .inventory("app")
        .retry(RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(5)))
        .on_event(move |e| seen.lock().expect("lock").push(e.to_string()));
    let applier = Applier::new(&target, options);
    let set = desired(&["a", "b", "c"]);
    let observed = applier.observe(&set).await.expect("observe");
    let diff = gitops_diff::diff(&observed.desired, &observed.live, &observed.inventory);
    let report = applier
        .run(&plan(&diff, &PlanOptions::default()).expect("plans"), observed)
        .await
        .expect("converges after a retry");
    assert_eq!(report.changes.count(Action::Create), 3);
    let events = events.lock().expect("lock");
    assert!(
        events.iter().any(|e| e.contains("ConfigMap/n/b: retrying (try 2): ConfigMap/n/b: connection reset")),
        "{events:#?}"
    );
    assert!(events.iter().any(|e| e == "+ ConfigMap/n/c created"), "{events:#?}");
}

#[tokio::test]
async fn fail_fast_stops_at_the_failed_wave_and_continue_runs_the_rest() {
    let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n---\n\
        apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n---\n\
        apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: n}\n";
    let set = ManifestSet::from_manifests(parse_manifests(text, "set.yaml", &ReadOptions::default()).expect("valid"))
        .expect("unique");
    for fail_fast in [true, false] {
        // The first apply (the Namespace, alone in the first wave) fails for good.
        let target = FailingTarget {
            inner: MemoryTarget::new(),
            fail_at: 1,
            kind: TargetErrorKind::Other,
            applies: AtomicUsize::new(0),
        };
        let applier = Applier::new(&target, ApplierOptions::default().inventory("app").fail_fast(fail_fast));
        let observed = applier.observe(&set).await.expect("observe");
        let diff = gitops_diff::diff(&observed.desired, &observed.live, &observed.inventory);
        let plan = plan(&diff, &PlanOptions::default()).expect("plans");
        assert!(plan.waves().count() >= 2, "the Namespace is a wave of its own");
        let err = applier.run(&plan, observed).await.expect_err("fails");
        assert_eq!(err.failures.len(), 1);
        assert_eq!(err.object.as_ref().map(ToString::to_string).as_deref(), Some("Namespace/n"));
        let created = err.changes.count(Action::Create);
        assert_eq!(created, if fail_fast { 0 } else { 2 }, "fail_fast={fail_fast}");
    }
}
