//! The loop ([`Reconciler::run`]): intervals, the drift watch, `dependsOn`, webhooks, metrics.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gitops_apply::Target;
use gitops_reconcile::{
    ConditionType, Handle, LoopOptions, ReconcileOptions, Reconciler, Server, ServerOptions, SourceOptions, Sources,
    StatusDir, SyncStatus, WebhookSecret, github_signature,
};
use serde_json::json;

use crate::harness::{Cluster, GitDaemon, OneTarget, Repo, apps, config_map, eventually};

/// Starts the loop over the applications of `yaml`; returns its handle and the task (stopped
/// when the sender is dropped or sent to).
fn start(
    cluster: &Cluster,
    yaml: &str,
    sources: Sources,
    status: Option<&std::path::Path>,
) -> (Handle, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let target: Arc<dyn Target> = Arc::new(cluster.target());
    let options = LoopOptions::default().dependency_requeue(Duration::from_millis(200)).grace(Duration::from_secs(5));
    let mut reconciler =
        Reconciler::new(apps(yaml), Arc::new(OneTarget(target)), sources, ReconcileOptions::default(), options);
    if let Some(dir) = status {
        reconciler = reconciler.status_writer(Arc::new(StatusDir::new(dir)));
    }
    let handle = reconciler.handle();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(reconciler.run(async move {
        let _ = stopped.await;
    }));
    (handle, stop, task)
}

fn synced_at(handle: &Handle, app: &str, commit: &str) -> bool {
    handle
        .status(app)
        .is_some_and(|s| s.sync == SyncStatus::Synced && s.synced_revision.is_some_and(|r| r.ends_with(commit)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_are_synced_within_an_interval_and_statuses_are_written() {
    let repo = Repo::new();
    repo.write("apps/web/cm.yaml", &config_map("web", "one"));
    let first = repo.commit("one");
    let cluster = Cluster::new();
    let state = tempfile::tempdir().expect("tempdir");
    let yaml = format!(
        "applications:\n  - name: web\n    source: {{repoURL: '{}', path: apps/web}}\n    syncPolicy: {{automated: {{prune: true}}}}\n    interval: 1s\n",
        repo.path().display()
    );
    let (handle, stop, task) = start(&cluster, &yaml, Sources::new(SourceOptions::default()), Some(state.path()));
    eventually("the first commit is synced", || async { synced_at(&handle, "web", &first) }).await;
    assert_eq!(cluster.value("web").await.as_deref(), Some("one"));

    repo.write("apps/web/cm.yaml", &config_map("web", "two"));
    let second = repo.commit("two");
    eventually("the second commit is synced at the next interval", || async { synced_at(&handle, "web", &second) })
        .await;
    assert_eq!(cluster.value("web").await.as_deref(), Some("two"));

    let status = StatusDir::new(state.path()).read("web").expect("read").expect("written");
    assert_eq!(status.sync, SyncStatus::Synced);
    assert!(status.synced_revision.is_some_and(|r| r.ends_with(&second)));
    // Every pass diffs; a pass the drift watch starts (our own apply's events) does not fetch.
    assert!(status.durations.get(gitops_reconcile::Stage::Diff).is_some());
    let _ = stop.send(());
    task.await.expect("the loop stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_healed_through_the_watch() {
    let repo = Repo::new();
    repo.write("apps/web/cm.yaml", &config_map("web", "one"));
    repo.write("apps/manual/cm.yaml", &config_map("manual", "one"));
    let first = repo.commit("one");
    let cluster = Cluster::new();
    // An hour's interval: only the watch can bring the next reconcile.
    let yaml = format!(
        "applications:
  - name: web
    source: {{repoURL: '{repo}', path: apps/web}}
    syncPolicy: {{automated: {{prune: true, selfHeal: true}}}}
    interval: 1h
  - name: manual
    source: {{repoURL: '{repo}', path: apps/manual}}
    syncPolicy: {{automated: {{prune: true}}}}
    interval: 1h
",
        repo = repo.path().display()
    );
    let (handle, stop, task) = start(&cluster, &yaml, Sources::new(SourceOptions::default()), None);
    eventually("both are synced", || async {
        synced_at(&handle, "web", &first) && synced_at(&handle, "manual", &first)
    })
    .await;

    let by_hand = gitops_apply::ApplyOptions::default().field_manager("kubectl-edit").force(true);
    for name in ["web", "manual"] {
        let edited = gitops_core::Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"}, "data": {"value": "by hand"}}))
        .expect("valid");
        cluster.target().apply(&edited, &by_hand).await.expect("edit");
    }
    eventually("self-heal restores web", || async { cluster.value("web").await.as_deref() == Some("one") }).await;
    eventually("manual is reported OutOfSync", || async {
        handle
            .status("manual")
            .is_some_and(|s| s.sync == SyncStatus::OutOfSync && s.condition(ConditionType::Drifted).is_some())
    })
    .await;
    assert_eq!(cluster.value("manual").await.as_deref(), Some("by hand"), "without selfHeal, drift stays");
    let _ = stop.send(());
    task.await.expect("the loop stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependents_wait_until_their_dependency_is_synced_and_healthy() {
    let repo = Repo::new();
    // The database does not render yet; the web application depends on it.
    repo.write("apps/db/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: [db\n");
    repo.write("apps/web/cm.yaml", &config_map("web", "one"));
    repo.commit("one");
    let cluster = Cluster::new();
    let yaml = format!(
        "applications:
  - name: web
    source: {{repoURL: '{repo}', path: apps/web}}
    syncPolicy: {{automated: {{prune: true}}}}
    dependsOn: [db]
    interval: 1s
  - name: db
    source: {{repoURL: '{repo}', path: apps/db}}
    syncPolicy: {{automated: {{prune: true}}, retry: {{limit: 100, backoff: {{duration: 200ms, maxDuration: 1s}}}}}}
    interval: 1s
",
        repo = repo.path().display()
    );
    let (handle, stop, task) = start(&cluster, &yaml, Sources::new(SourceOptions::default()), None);
    eventually("web waits for db", || async {
        handle.status("web").is_some_and(|s| s.condition(ConditionType::DependencyNotReady).is_some())
            && handle.status("db").is_some_and(|s| s.last_error.is_some())
    })
    .await;
    assert_eq!(cluster.value("web").await, None, "nothing of web is applied while db is not ready");

    let deployment = "apiVersion: apps/v1
kind: Deployment
metadata: {name: db}
spec:
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: postgres:16}]}
";
    repo.write("apps/db/deploy.yaml", deployment);
    let fixed = repo.commit("db renders");
    eventually("web is synced once db is ready", || async { synced_at(&handle, "web", &fixed) }).await;
    let db = handle.status("db").expect("db status");
    assert!(db.is_ready(), "{db:?}");
    assert!(cluster.get("apps", "Deployment", "db").await.is_some());
    assert_eq!(cluster.value("web").await.as_deref(), Some("one"));
    let _ = stop.send(());
    task.await.expect("the loop stops");
}

/// A plain HTTP/1.1 request; returns the status code and the body.
fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        let _ = write!(request, "{name}: {value}\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    stream.write_all(body).expect("write body");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let code = response.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status line");
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (code, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_push_webhook_syncs_a_remote_repository_at_once() {
    // The origin is a bare repository served by `git daemon`; the application fetches it.
    let served = tempfile::tempdir().expect("tempdir");
    let work = Repo::new();
    work.write("apps/web/cm.yaml", &config_map("web", "one"));
    let first = work.commit("one");
    let origin = served.path().join("origin.git");
    work.git(&["clone", "-q", "--bare", ".", origin.to_str().expect("utf-8")]);
    work.git(&["remote", "add", "origin", origin.to_str().expect("utf-8")]);
    let daemon = GitDaemon::start(served.path());
    let url = format!("git://127.0.0.1:{}/origin.git", daemon.port);

    let cluster = Cluster::new();
    let cache = tempfile::tempdir().expect("tempdir");
    let sources = Sources::new(SourceOptions::default().cache(Some(cache.path().to_owned())));
    let yaml = format!(
        "applications:\n  - name: web\n    source: {{repoURL: '{url}', targetRevision: main, path: apps/web}}\n    syncPolicy: {{automated: {{prune: true}}}}\n    interval: 1h\n"
    );
    let (handle, stop, task) = start(&cluster, &yaml, sources, None);
    let secret = WebhookSecret::new("s3cret");
    let server = Server::listen(
        "127.0.0.1:0".parse().expect("addr"),
        handle.clone(),
        ServerOptions::default().webhook_secret(Some(secret.clone())),
    )
    .await
    .expect("listen");
    let addr = server.addr();
    eventually("the first commit is synced", || async { synced_at(&handle, "web", &first) }).await;

    work.write("apps/web/cm.yaml", &config_map("web", "two"));
    let second = work.commit("two");
    work.git(&["push", "-q", "origin", "main"]);
    let body = serde_json::to_vec(&json!({
        "ref": "refs/heads/main",
        "repository": {"clone_url": url, "default_branch": "main"},
    }))
    .expect("json");

    // Unsigned or wrongly signed: refused, nothing triggered.
    let refused = tokio::task::spawn_blocking({
        let body = body.clone();
        move || {
            http(addr, "POST", "/hooks/git", &[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", "sha256=00")], &body)
        }
    })
    .await
    .expect("request");
    assert_eq!(refused.0, 401, "{}", refused.1);

    let signature = github_signature(&secret, &body);
    let accepted = tokio::task::spawn_blocking(move || {
        http(addr, "POST", "/hooks/git", &[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &signature)], &body)
    })
    .await
    .expect("request");
    assert_eq!(accepted.0, 202, "{}", accepted.1);
    assert!(accepted.1.contains("\"web\""), "{}", accepted.1);
    eventually("the pushed commit is synced without waiting for the hour", || async {
        synced_at(&handle, "web", &second)
    })
    .await;
    assert_eq!(cluster.value("web").await.as_deref(), Some("two"));

    let (code, metrics) =
        tokio::task::spawn_blocking(move || http(addr, "GET", "/metrics", &[], b"")).await.expect("request");
    assert_eq!(code, 200);
    assert!(metrics.contains("gitops_reconcile_total{application=\"web\",result=\"success\"}"), "{metrics}");
    assert!(metrics.contains("gitops_application_sync_status{application=\"web\",status=\"Synced\"} 1"), "{metrics}");
    assert!(metrics.contains("gitops_reconcile_duration_seconds_count{stage=\"fetch\"}"), "{metrics}");
    assert!(metrics.contains("gitops_application_objects{application=\"web\"} 1"), "{metrics}");
    let _ = stop.send(());
    task.await.expect("the loop stops");
}
