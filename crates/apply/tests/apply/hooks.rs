//! Waves, health waits and hooks, on a memory target with a simulated controller that finishes
//! Jobs and rolls out Deployments a little after they are written.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gitops_apply::{Applier, ApplierOptions, Event, MemoryTarget};
use gitops_core::{Health, ManifestSet, ObjectRef, parse_manifests, yaml::ReadOptions};
use gitops_plan::{PlanOptions, plan};
use serde_json::json;

/// Finishes every Job (failing those labelled `outcome: fail`) and rolls out every Deployment
/// that has no status yet, every few milliseconds, until dropped.
struct Controller(tokio::task::JoinHandle<()>);

impl Controller {
    fn start(target: Arc<MemoryTarget>) -> Controller {
        Controller(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(15)).await;
                for (_, mut object) in target.objects() {
                    if object.pointer("/status").is_some() {
                        continue;
                    }
                    let status = match object.kind() {
                        "Job" if object.label("outcome") == Some("fail") => json!({"failed": 1, "conditions": [
                            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "exit code 1"}]}),
                        "Job" => json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}),
                        "Deployment" => {
                            let replicas = object.pointer("/spec/replicas").cloned().unwrap_or(json!(1));
                            json!({"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas})
                        }
                        _ => continue,
                    };
                    object.as_map_mut().insert("status".into(), status);
                    target.insert(object);
                }
            }
        }))
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn job(name: &str, hook: &str, policy: Option<&str>, outcome: &str) -> String {
    let policy = policy.map(|p| format!(", argocd.argoproj.io/hook-delete-policy: {p}")).unwrap_or_default();
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}, namespace: shop, labels: {{outcome: {outcome}}}, \
         annotations: {{argocd.argoproj.io/hook: {hook}{policy}}}}}\nspec:\n  template:\n    spec:\n      \
         restartPolicy: Never\n      containers: [{{name: run, image: busybox}}]\n---\n"
    )
}

const APP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: shop}\ndata: {a: b}\n---\n\
    apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 2\n  \
    selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      \
    containers: [{name: web, image: nginx}]\n---\n";

fn set(text: &str) -> ManifestSet {
    ManifestSet::from_manifests(parse_manifests(text, "app.yaml", &ReadOptions::default()).expect("valid"))
        .expect("unique")
}

async fn run(
    target: &MemoryTarget,
    text: &str,
    options: ApplierOptions,
) -> (Result<gitops_apply::ApplyReport, gitops_apply::ApplyError>, Vec<String>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let options = options
        .inventory("shop")
        .poll_interval(Duration::from_millis(10))
        .on_event(move |e: Event| sink.lock().expect("lock").push(e.to_string()));
    let applier = Applier::new(target, options);
    let desired = set(text);
    let observed = applier.observe(&desired).await.expect("observe");
    let diff = gitops_diff::diff(&observed.desired, &observed.live, &observed.inventory);
    let result = applier.run(&plan(&diff, &PlanOptions::default()).expect("plans"), observed).await;
    let events = events.lock().expect("lock").clone();
    (result, events)
}

fn position(events: &[String], needle: &str) -> usize {
    events.iter().position(|e| e.contains(needle)).unwrap_or_else(|| panic!("no event with {needle:?} in {events:#?}"))
}

#[tokio::test]
async fn hooks_run_in_their_phases_and_health_gates_the_waves() {
    let target = Arc::new(MemoryTarget::new());
    let _controller = Controller::start(Arc::clone(&target));
    let text = format!(
        "{}{}{}{APP}",
        job("migrate", "PreSync", Some("HookSucceeded"), "ok"),
        job("smoke", "PostSync", None, "ok"),
        job("notify", "SyncFail", None, "ok")
    );
    let (result, events) = run(&target, &text, ApplierOptions::default()).await;
    let report = result.expect("sync succeeds");
    assert_eq!(report.changes.count(gitops_core::Action::Create), 4, "{events:#?}");

    // PreSync ran to completion before the Deployment; the Deployment was healthy before PostSync.
    let migrated = position(&events, "hook Job/shop/migrate finished: Healthy");
    let deployed = position(&events, "+ Deployment/shop/web created");
    let healthy = position(&events, "Deployment/shop/web is Healthy");
    let smoke = position(&events, "+ Job/shop/smoke created");
    assert!(migrated < deployed && deployed < healthy && healthy < smoke, "{events:#?}");
    assert!(events.iter().any(|e| e.contains("Deployment/shop/web is Progressing")), "{events:#?}");
    assert!(!events.iter().any(|e| e.contains("notify")), "SyncFail hooks run only on failure: {events:#?}");

    let objects = target.objects();
    assert!(
        !objects.contains_key(&ObjectRef::new("batch", "Job", Some("shop"), "migrate")),
        "HookSucceeded deletes it"
    );
    let smoke = objects.get(&ObjectRef::new("batch", "Job", Some("shop"), "smoke")).expect("kept until the next sync");
    assert_eq!(gitops_apply::health::HealthChecks::default().assess(smoke).health, Health::Healthy);

    // The next sync runs the hooks again; BeforeHookCreation replaces the finished smoke Job.
    let (result, events) = run(&target, &text, ApplierOptions::default()).await;
    result.expect("second sync");
    assert!(events.iter().any(|e| e.contains("hook Job/shop/smoke finished: Healthy")), "{events:#?}");
}

#[tokio::test]
async fn a_failed_hook_stops_the_sync_and_runs_sync_fail_hooks() {
    let target = Arc::new(MemoryTarget::new());
    let _controller = Controller::start(Arc::clone(&target));
    let text = format!(
        "{}{}{APP}",
        job("migrate", "PreSync", Some("HookFailed"), "fail"),
        job("notify", "SyncFail", None, "ok")
    );
    let (result, events) = run(&target, &text, ApplierOptions::default()).await;
    let err = result.expect_err("the PreSync hook fails");
    assert_eq!(err.object.as_ref().map(ToString::to_string).as_deref(), Some("Job/shop/migrate"));
    assert!(err.to_string().contains("hook failed: Degraded: job failed (BackoffLimitExceeded): exit code 1"), "{err}");
    assert!(events.iter().any(|e| e.contains("hook Job/shop/notify finished: Healthy")), "{events:#?}");
    let objects = target.objects();
    assert!(
        !objects.contains_key(&ObjectRef::new("apps", "Deployment", Some("shop"), "web")),
        "nothing after the failure"
    );
    assert!(!objects.contains_key(&ObjectRef::new("batch", "Job", Some("shop"), "migrate")), "HookFailed deletes it");
}

#[tokio::test]
async fn a_wave_that_never_gets_healthy_times_out() {
    let target = MemoryTarget::new(); // no controller: the Deployment never rolls out
    let options = ApplierOptions::default().wave_timeout(Some(Duration::from_millis(150)));
    let (result, events) = run(&target, APP, options).await;
    let err = result.expect_err("times out");
    assert_eq!(err.failures.len(), 1, "{events:#?}");
    let failure = err.failures[0].to_string();
    assert!(
        failure.starts_with("Deployment/shop/web: timed out waiting to become healthy (last: Progressing"),
        "{failure}"
    );
    assert_eq!(err.changes.count(gitops_core::Action::Create), 2, "what was done is returned");

    // Without waiting, the same sync succeeds at once.
    let (result, _) = run(&MemoryTarget::new(), APP, ApplierOptions::default().wait(false)).await;
    result.expect("no wait");
}
