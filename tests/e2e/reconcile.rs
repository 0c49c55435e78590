//! `gitops reconcile`: one pass (`--once`), and the loop with its HTTP listener (`/hooks/git`,
//! `/metrics`), against the embedded cluster and repositories built with the `git` CLI.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{KillOnDrop, Repo, gitops, stderr, stdout};

fn config_map(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: {value:?}\n")
}

fn apps_yaml(url: &str) -> String {
    format!(
        "applications:\n  - name: web\n    source: {{repoURL: '{url}', targetRevision: main, path: apps/web}}\n    syncPolicy: {{automated: {{prune: true}}}}\n    interval: 1h\n"
    )
}

/// The status file of `app`, parsed (None until it exists).
fn status(dir: &Path, app: &str) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join(".gitops/status").join(format!("{app}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

fn synced_revision(dir: &Path, app: &str) -> String {
    status(dir, app).and_then(|s| s["syncedRevision"].as_str().map(str::to_owned)).unwrap_or_default()
}

fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A plain HTTP/1.1 request; the status code and the body.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(name);
        request.push_str(": ");
        request.push_str(value);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let code = response.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("a status line");
    (code, response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default())
}

#[test]
fn reconcile_once_syncs_and_a_bad_commit_keeps_the_last_good_state() {
    let repo = Repo::new();
    repo.write(".gitignore", ".gitops/\n");
    repo.write("gitops.yaml", &apps_yaml("."));
    repo.write("apps/web/cm.yaml", &config_map("web", "one"));
    let first = repo.commit("one");

    let out = gitops(&["reconcile", "--once"], repo.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("web: Synced"), "{}", stdout(&out));
    assert!(synced_revision(repo.path(), "web").ends_with(&first));

    repo.write("apps/web/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [web\n");
    repo.commit("broken");
    let out = gitops(&["reconcile", "--once"], repo.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cm.yaml"), "the error names the file: {}", stderr(&out));
    let after = status(repo.path(), "web").expect("a status");
    assert!(after["syncedRevision"].as_str().is_some_and(|r| r.ends_with(&first)), "{after}");
    assert!(after["lastError"].as_str().is_some_and(|e| e.contains("cm.yaml")), "{after}");
    // The cluster still holds the first commit's objects: a diff against it is empty.
    let diff = gitops(&["diff", "apps/web", "--repo", ".", "--rev", &first, "--name", "web"], repo.path());
    assert_eq!(diff.status.code(), Some(0), "{}{}", stdout(&diff), stderr(&diff));

    // Structured logs: one JSON object per line, the event's fields included.
    let out = gitops(&["reconcile", "--once", "-v", "--log-format", "json"], repo.path());
    let logs = stderr(&out);
    let events: Vec<serde_json::Value> =
        logs.lines().filter(|l| l.starts_with('{')).filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(
        events.iter().any(|e| e["level"] == "WARN" && e["fields"].to_string().contains("web")),
        "a warning about web, as JSON: {logs}"
    );
}

#[test]
fn the_loop_syncs_a_push_through_the_webhook_and_converges_after_a_kill() {
    let served = tempfile::tempdir().expect("tempdir");
    let work = Repo::new();
    work.write("apps/web/cm.yaml", &config_map("web", "one"));
    let first = work.commit("one");
    let origin = served.path().join("origin.git");
    work.git(&["clone", "-q", "--bare", ".", origin.to_str().expect("utf-8")]);
    work.git(&["remote", "add", "origin", origin.to_str().expect("utf-8")]);
    let url = format!("file://{}", origin.display());

    let control = tempfile::tempdir().expect("tempdir");
    std::fs::write(control.path().join("gitops.yaml"), apps_yaml(&url)).expect("write");
    let cache = control.path().join("cache");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_gitops"))
            .args(["reconcile", "--listen", &format!("127.0.0.1:{port}"), "--cache"])
            .arg(&cache)
            .current_dir(control.path())
            .env("GITOPS_WEBHOOK_SECRET", "t0ken")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gitops reconcile starts")
    };
    let mut reconciler = KillOnDrop(start());
    wait_for("the first commit is synced", Duration::from_secs(60), || {
        synced_revision(control.path(), "web").ends_with(&first)
    });

    work.write("apps/web/cm.yaml", &config_map("web", "two"));
    let second = work.commit("two");
    work.git(&["push", "-q", "origin", "main"]);
    let push = serde_json::json!({"object_kind": "push", "ref": "refs/heads/main", "project": {"git_http_url": url}})
        .to_string();
    let (code, body) =
        http(port, "POST", "/hooks/git", &[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "wrong")], &push);
    assert_eq!(code, 401, "a wrong token is refused: {body}");
    let (code, body) =
        http(port, "POST", "/hooks/git", &[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "t0ken")], &push);
    assert_eq!(code, 202, "{body}");
    // The interval is an hour: only the webhook can bring this sync.
    wait_for("the pushed commit is synced", Duration::from_secs(60), || {
        synced_revision(control.path(), "web").ends_with(&second)
    });
    let (code, metrics) = http(port, "GET", "/metrics", &[], "");
    assert_eq!(code, 200);
    assert!(metrics.contains("gitops_reconcile_duration_seconds_count{stage=\"apply\"}"), "{metrics}");

    // A large commit, and the reconciler killed while it may be syncing it.
    for i in 0..150 {
        work.write(&format!("apps/web/cm-{i}.yaml"), &config_map(&format!("web-{i}"), "three"));
    }
    let third = work.commit("three");
    work.git(&["push", "-q", "origin", "main"]);
    let (code, _) =
        http(port, "POST", "/hooks/git", &[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "t0ken")], &push);
    assert_eq!(code, 202);
    std::thread::sleep(Duration::from_millis(300));
    let _ = reconciler.0.kill();
    let _ = reconciler.0.wait();

    let out = Command::new(env!("CARGO_BIN_EXE_gitops"))
        .args(["reconcile", "--once", "--cache"])
        .arg(&cache)
        .current_dir(control.path())
        .output()
        .expect("gitops runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(synced_revision(control.path(), "web").ends_with(&third));
    assert_eq!(status(control.path(), "web").expect("status")["objects"], 151);
    let diff = gitops(&["diff", "apps/web", "--repo", &url, "--rev", &third, "--name", "web"], control.path());
    assert_eq!(diff.status.code(), Some(0), "{}{}", stdout(&diff), stderr(&diff));
    drop(reconciler);
}
