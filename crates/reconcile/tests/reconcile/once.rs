//! One reconcile at a time ([`AppReconciler::reconcile`]).

use std::sync::Arc;

use gitops_apply::Target;
use gitops_core::Health;
use gitops_reconcile::{
    AppReconciler, ConditionType, PinAction, ReconcileOptions, Request, SourceOptions, Sources, SyncStatus, Trigger,
    update_pin,
};
use serde_json::json;

use crate::harness::{Cluster, Repo, apps, config_map};

fn reconciler(repo: &Repo, cluster: &Cluster, policy: &str) -> AppReconciler {
    let text = format!(
        "applications:\n  - name: web\n    source: {{repoURL: '{}', path: apps/web}}\n    syncPolicy: {policy}\n",
        repo.path().display()
    );
    let target: Arc<dyn Target> = Arc::new(cluster.target());
    let sources = Sources::new(SourceOptions::default());
    AppReconciler::new(apps(&text).remove(0), target, sources, ReconcileOptions::default())
}

fn writes(outcome: &gitops_reconcile::Outcome) -> usize {
    outcome.changes.changes.iter().filter(|c| c.action.is_write()).count()
}

#[tokio::test]
async fn a_pass_syncs_skips_unchanged_paths_and_keeps_the_last_good_state() {
    let repo = Repo::new();
    repo.write("apps/web/cm.yaml", &config_map("web", "one"));
    repo.write("README", "hello\n");
    let first = repo.commit("one");
    let cluster = Cluster::new();
    let mut web = reconciler(&repo, &cluster, "{automated: {prune: true, selfHeal: true}}");

    let out = web.reconcile(&Request::new(Trigger::Manual)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert!(out.rendered && out.applied);
    assert_eq!((out.status.sync, out.status.health), (SyncStatus::Synced, Health::Healthy));
    assert_eq!(out.status.synced_revision, Some(format!("main@sha1:{first}")));
    assert_eq!(out.status.objects, 1);
    assert_eq!(cluster.value("web").await.as_deref(), Some("one"));

    // The same commit: nothing rendered, nothing applied.
    let out = web.reconcile(&Request::new(Trigger::Interval)).await;
    assert!(out.error.is_none() && !out.rendered && !out.applied, "{out:?}");
    assert_eq!(out.status.sync, SyncStatus::Synced);

    // A commit outside the path: not rendered; the revision is recorded without object writes.
    repo.write("README", "changed\n");
    let second = repo.commit("docs");
    let out = web.reconcile(&Request::new(Trigger::Interval)).await;
    assert!(out.error.is_none() && !out.rendered, "{out:?}");
    assert_eq!(writes(&out), 0, "{:?}", out.changes);
    assert_eq!(out.status.synced_revision, Some(format!("main@sha1:{second}")));

    // A bad commit: the error is reported, the last good state stays applied.
    repo.write("apps/web/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [oops\n");
    let bad = repo.commit("bad");
    let out = web.reconcile(&Request::new(Trigger::Interval)).await;
    let error = out.error.as_ref().expect("a render error");
    assert_eq!(error.stage(), gitops_reconcile::Stage::Render);
    let message = out.status.last_error.clone().expect("last error");
    assert!(message.contains(&bad) && message.contains("cm.yaml"), "{message}");
    assert!(out.status.condition(ConditionType::RenderFailed).is_some());
    assert_eq!(out.status.synced_revision, Some(format!("main@sha1:{second}")));
    assert_eq!(out.status.last_attempted_revision, Some(format!("main@sha1:{bad}")));
    assert_eq!(cluster.value("web").await.as_deref(), Some("one"));
    assert_eq!(out.status.failures, 1);

    // Drift while the head is bad is still healed, from the last good render.
    let edited = gitops_core::Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "web", "namespace": "default"}, "data": {"value": "by hand"}}))
    .expect("valid");
    let by_hand = gitops_apply::ApplyOptions::default().field_manager("kubectl-edit").force(true);
    cluster.target().apply(&edited, &by_hand).await.expect("edit");
    let out = web.reconcile(&Request::new(Trigger::Drift)).await;
    assert!(out.applied, "{out:?}");
    assert_eq!(cluster.value("web").await.as_deref(), Some("one"));

    // The fix is synced and the condition clears.
    repo.write("apps/web/cm.yaml", &config_map("web", "two"));
    let fixed = repo.commit("fix");
    let out = web.reconcile(&Request::new(Trigger::Webhook)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(cluster.value("web").await.as_deref(), Some("two"));
    assert_eq!(out.status.synced_revision, Some(format!("main@sha1:{fixed}")));
    assert!(out.status.conditions.is_empty(), "{:?}", out.status.conditions);
    assert_eq!(out.status.failures, 0);
}

#[tokio::test]
async fn manual_and_no_self_heal_report_out_of_sync() {
    let repo = Repo::new();
    repo.write("apps/web/cm.yaml", &config_map("web", "one"));
    repo.commit("one");
    let cluster = Cluster::new();

    // Manual: compared, never applied.
    let mut manual = reconciler(&repo, &cluster, "{}");
    let out = manual.reconcile(&Request::new(Trigger::Manual)).await;
    assert!(out.error.is_none() && !out.applied, "{out:?}");
    assert_eq!(out.status.sync, SyncStatus::OutOfSync);
    assert_eq!(out.status.health, Health::Missing);
    assert_eq!(cluster.value("web").await, None);

    // Automated without selfHeal: a new revision is synced, a hand edit is only reported.
    let mut auto = reconciler(&repo, &cluster, "{automated: {prune: true}}");
    let out = auto.reconcile(&Request::new(Trigger::Manual)).await;
    assert!(out.applied && out.error.is_none(), "{out:?}");
    let edited = gitops_core::Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "web", "namespace": "default"}, "data": {"value": "by hand"}}))
    .expect("valid");
    let by_hand = gitops_apply::ApplyOptions::default().field_manager("kubectl-edit").force(true);
    cluster.target().apply(&edited, &by_hand).await.expect("edit");
    let out = auto.reconcile(&Request::new(Trigger::Drift)).await;
    assert!(!out.applied, "{out:?}");
    assert_eq!(out.status.sync, SyncStatus::OutOfSync);
    assert!(out.status.condition(ConditionType::Drifted).is_some(), "{:?}", out.status.conditions);
    assert_eq!(cluster.value("web").await.as_deref(), Some("by hand"));
}

#[tokio::test]
async fn a_pin_holds_the_application_until_released() {
    let repo = Repo::new();
    repo.write("apps/web/cm.yaml", &config_map("web", "one"));
    let first = repo.commit("one");
    repo.write("apps/web/cm.yaml", &config_map("web", "two"));
    repo.commit("two");
    let cluster = Cluster::new();
    let mut web = reconciler(&repo, &cluster, "{automated: {prune: true, selfHeal: true}}");
    let out = web.reconcile(&Request::new(Trigger::Manual)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(cluster.value("web").await.as_deref(), Some("two"));

    // A rollback pins the application at the first commit (as `gitops rollback` records it).
    let target = cluster.target();
    let mut inventory = target.load_inventory("web").await.expect("load").expect("synced");
    let pinned = gitops_core::Revision::new(Some("main"), first.clone());
    assert!(update_pin("web", &mut inventory, Some(&pinned), PinAction::Set).expect("pin"));
    target.save_inventory("web", &inventory).await.expect("save");

    for _ in 0..2 {
        let out = web.reconcile(&Request::new(Trigger::Interval)).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(cluster.value("web").await.as_deref(), Some("one"), "the pin holds");
        assert!(out.status.condition(ConditionType::Pinned).is_some());
        assert_eq!(out.status.pinned, Some(format!("main@sha1:{first}")));
    }

    let mut inventory = target.load_inventory("web").await.expect("load").expect("synced");
    assert!(update_pin("web", &mut inventory, None, PinAction::Release).expect("unpin"));
    target.save_inventory("web", &inventory).await.expect("save");
    let out = web.reconcile(&Request::new(Trigger::Interval)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(cluster.value("web").await.as_deref(), Some("two"), "unpinned: back to the branch head");
    assert_eq!(out.status.pinned, None);
}
