//! End-to-end tests of the `gitops` binary on real Git repositories built with the `git` CLI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod cluster;
mod controller;
mod helm;
mod history;
mod plan;
mod reconcile;
mod source;

/// A Git repository in a temporary folder, driven by the `git` CLI.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn write(&self, path: &str, text: &str) {
        let file = self.path().join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    }

    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

fn gitops(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gitops")).args(args).current_dir(cwd).output().expect("gitops runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn guestbook_into(repo: &Repo) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/guestbook");
    for entry in std::fs::read_dir(&src).expect("example exists") {
        let entry = entry.expect("entry");
        let text = std::fs::read_to_string(entry.path()).expect("read");
        repo.write(&format!("apps/guestbook/{}", entry.file_name().to_string_lossy()), &text);
    }
}

/// Every file under `dir`, with its contents.
fn files(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root").to_string_lossy().into_owned();
                out.insert(rel, std::fs::read_to_string(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn sync_update_prune_and_diff_from_git() {
    let repo = Repo::new();
    guestbook_into(&repo);
    let first = repo.commit("guestbook");
    let work = tempfile::tempdir().expect("tempdir");
    let out_dir = work.path().join("out");
    let target = format!("dir:{}", out_dir.display());
    let repo_arg = repo.path().to_string_lossy().into_owned();
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", "apps/guestbook", "--repo", &repo_arg, "--target", &target];
        args.extend_from_slice(extra);
        gitops(&args, work.path())
    };

    // 1. The first sync writes every object, one file each, and the inventory.
    let out = sync(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("Synced at main@sha1:{first}: 4 created, 0 updated, 0 deleted, 0 unchanged")),
        "{}",
        stdout(&out)
    );
    let written = files(&out_dir);
    let names: Vec<&str> = written.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "_cluster/Namespace/guestbook.yaml",
            "_inventory/guestbook.json",
            "guestbook/ConfigMap/guestbook-config.yaml",
            "guestbook/Deployment.apps/frontend.yaml",
            "guestbook/Service/frontend.yaml",
        ]
    );
    assert!(written["guestbook/Deployment.apps/frontend.yaml"].contains("  replicas: 2\n"));
    assert!(written["_inventory/guestbook.json"].contains(&first));

    // 2. A committed change gives exactly one update.
    let deployment = std::fs::read_to_string(repo.path().join("apps/guestbook/deployment.yaml")).expect("read");
    repo.write("apps/guestbook/deployment.yaml", &deployment.replace("replicas: 2", "replicas: 3"));
    repo.commit("scale up");
    let diff = gitops(&["diff", "apps/guestbook", "--repo", &repo_arg, "--target", &target], work.path());
    assert_eq!(diff.status.code(), Some(1), "diff exits 1 on differences: {}", stderr(&diff));
    assert!(stdout(&diff).contains("-  replicas: 2\n+  replicas: 3\n"), "unified by default: {}", stdout(&diff));
    let diff = gitops(
        &["diff", "apps/guestbook", "--repo", &repo_arg, "--target", &target, "--diff-format", "names"],
        work.path(),
    );
    assert!(stdout(&diff).contains("~ Deployment/guestbook/frontend\n    spec.replicas\n"), "{}", stdout(&diff));
    let out = sync(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 created, 1 updated, 0 deleted, 3 unchanged"), "{}", stdout(&out));
    assert!(files(&out_dir)["guestbook/Deployment.apps/frontend.yaml"].contains("  replicas: 3\n"));

    // 3. Removing a file and syncing with --prune gives exactly one delete.
    repo.git(&["rm", "-q", "apps/guestbook/service.yaml"]);
    repo.commit("drop the service");
    let out = sync(&[]);
    assert!(
        stdout(&out).contains("Service/guestbook/frontend kept (no longer desired; use --prune to delete)"),
        "{}",
        stdout(&out)
    );
    assert!(out_dir.join("guestbook/Service/frontend.yaml").exists(), "not pruned without --prune");
    let out = sync(&["--prune"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 created, 0 updated, 1 deleted, 3 unchanged"), "{}", stdout(&out));
    assert!(!out_dir.join("guestbook/Service/frontend.yaml").exists());

    // 4. Syncing again changes nothing.
    let before = files(&out_dir);
    let out = sync(&["--prune"]);
    assert!(stdout(&out).contains("0 created, 0 updated, 0 deleted, 3 unchanged"), "{}", stdout(&out));
    assert_eq!(files(&out_dir), before, "a no-op sync rewrites nothing");

    // 5. diff exits 0 when in sync.
    let diff = gitops(&["diff", "apps/guestbook", "--repo", &repo_arg, "--target", &target], work.path());
    assert_eq!(diff.status.code(), Some(0), "{}{}", stdout(&diff), stderr(&diff));

    // 6. Invalid YAML: exit 2, the file and line in the message, nothing written.
    repo.write(
        "apps/guestbook/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata: {a: [1, 2}\n",
    );
    repo.write("apps/guestbook/deployment.yaml", &deployment.replace("replicas: 2", "replicas: 5"));
    repo.commit("break it");
    let out = sync(&["--prune"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("apps/guestbook/broken.yaml:5:"), "{}", stderr(&out));
    assert_eq!(files(&out_dir), before, "nothing is applied from a failed render");

    // An older revision is still reachable with --rev.
    let out = gitops(&["render", "apps/guestbook", "--repo", &repo_arg, "--rev", &first], work.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("  replicas: 2\n"));
}

#[test]
fn invalid_documents_name_file_line_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("svc.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n# a comment\nkind: Service\nmetadata:\n  name: web\n")
        .expect("write");
    let out = gitops(&["render", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "error: cannot render .: svc.yaml:6: document 1 (Service \"web\") is not a valid Kubernetes object: missing required field `apiVersion`"
    );
}

/// `gitops render` on a kustomization prints what `kubectl kustomize` prints (golden from
/// kubectl v1.37.1), read straight from a Git revision.
#[test]
fn render_a_kustomize_overlay_from_git_like_kubectl() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kustomize/368-generator-hash-in-overlay-reference");
    let repo = Repo::new();
    let mut stack = vec![fixture.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(&fixture).expect("inside").to_string_lossy().into_owned();
                repo.write(&format!("app/{rel}"), &std::fs::read_to_string(&path).expect("read"));
            }
        }
    }
    repo.commit("kustomize app");
    let build = std::fs::read_to_string(fixture.join("BUILD_PATH")).map(|s| s.trim().to_owned()).unwrap_or_default();
    let path = if build.is_empty() { "app".to_owned() } else { format!("app/{build}") };
    let repo_arg = repo.path().to_string_lossy().into_owned();
    let out = gitops(&["render", &path, "--repo", &repo_arg], repo.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = std::fs::read_to_string(fixture.join("expected.yaml")).expect("golden");
    assert_eq!(stdout(&out), expected);
}

/// A kustomization can name a remote base by URL (`file://` repositories here), pinned to a tag.
#[test]
fn kustomize_remote_base_pinned_to_a_tag() {
    let library = Repo::new();
    library.write("base/kustomization.yaml", "resources:\n- cm.yaml\n");
    library
        .write("base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  version: one\n");
    library.commit("v1");
    library.git(&["tag", "v1"]);
    library
        .write("base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  version: two\n");
    library.commit("v2");
    let app = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}//base?ref=v1", library.path().display());
    std::fs::write(app.path().join("kustomization.yaml"), format!("namePrefix: app-\nresources:\n- {url}\n"))
        .expect("write");
    let out = gitops(&["render", "."], app.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "apiVersion: v1\ndata:\n  version: one\nkind: ConfigMap\nmetadata:\n  name: app-shared\n");
    // The same base over git://, served by `git daemon`, fetched into the cache.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let parent = library.path().parent().expect("parent");
    let name = library.path().file_name().expect("name").to_string_lossy().into_owned();
    // `git-daemon` itself, not `git daemon`: killing the `git` wrapper would leave the daemon
    // running, holding the test harness's output open. Killed on drop, also when an assert fails.
    let exec_path = Command::new("git").arg("--exec-path").output().expect("git --exec-path");
    let exec_path = PathBuf::from(String::from_utf8_lossy(&exec_path.stdout).trim());
    let daemon = Command::new(exec_path.join("git-daemon"))
        .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1", &format!("--port={port}")])
        .arg(format!("--base-path={}", parent.display()))
        .arg(parent)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("git daemon");
    let daemon = KillOnDrop(daemon);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let cache = tempfile::tempdir().expect("cache");
    let cache_arg = cache.path().to_string_lossy().into_owned();
    let url = format!("git://127.0.0.1:{port}/{name}//base?ref=v1");
    std::fs::write(app.path().join("kustomization.yaml"), format!("resources:\n- {url}\n")).expect("write");
    let out = gitops(&["render", ".", "--cache", &cache_arg], app.path());
    drop(daemon);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("version: one"), "{}", stdout(&out));
    // An unreachable remote is an error naming it.
    std::fs::write(app.path().join("kustomization.yaml"), "resources:\n- git://127.0.0.1:1/org/repo//base?ref=v1\n")
        .expect("write");
    let out = gitops(&["render", ".", "--cache", &cache_arg], app.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot fetch from git://127.0.0.1:1/org/repo"), "{}", stderr(&out));
}

/// A child process killed and reaped when dropped.
struct KillOnDrop(pub(crate) std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn source_resolve_and_ls_remote() {
    let repo = Repo::new();
    repo.write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
    let first = repo.commit("first");
    repo.git(&["tag", "v1.0.0"]);
    repo.write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n");
    let second = repo.commit("second");
    repo.git(&["tag", "-a", "v1.1.0", "-m", "release"]);
    repo.git(&["tag", "v2.0.0-rc.1"]);
    let cache = tempfile::tempdir().expect("cache");
    let cache_arg = cache.path().to_string_lossy().into_owned();
    let url = format!("file://{}", repo.path().display());
    let out = gitops(
        &["source", "resolve", "--repo", &url, "--rev", ">=1.0.0 <2.0.0", "-o", "json", "--cache", &cache_arg],
        repo.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(json["revision"], format!("v1.1.0@sha1:{second}"));
    assert_eq!(json["message"], "second\n");
    assert_eq!(json["author"]["name"], "Test");
    let out = gitops(&["source", "resolve", "--repo", &url, "--rev", "v1.0.0", "--cache", &cache_arg], repo.path());
    assert!(stdout(&out).starts_with(&format!("v1.0.0@sha1:{first}\n")), "{}", stdout(&out));
    let out = gitops(&["source", "ls-remote", "--repo", &url, "--cache", &cache_arg], repo.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("{second}\tHEAD -> refs/heads/main")), "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!("{first}\trefs/tags/v1.0.0")), "{}", stdout(&out));
    // `render --repo URL --rev RANGE` reads the tag's tree from the mirror.
    let out = gitops(&["render", "app", "--repo", &url, "--rev", "~1.0", "--cache", &cache_arg], repo.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("name: c"), "{}", stdout(&out));
    let out = gitops(&["source", "resolve", "--repo", "ext::sh -c id", "--cache", &cache_arg], repo.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("remote helper transport is not allowed"), "{}", stderr(&out));
}

#[test]
fn render_prints_kustomize_style_yaml_and_json() {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/guestbook");
    let out = gitops(&["render", "configmap.yaml"], &examples);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "apiVersion: v1\ndata:\n  GET_HOSTS_FROM: dns\n  WELCOME_MESSAGE: Sign the guestbook\nkind: ConfigMap\nmetadata:\n  labels:\n    app.kubernetes.io/name: guestbook\n  name: guestbook-config\n  namespace: guestbook\n"
    );
    let out = gitops(&["render", ".", "-o", "json"], &examples);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(4));
    let out = gitops(&["sync", ".", "--target", "bogus"], &examples);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown target \"bogus\""));
}

/// `gitops diff --diff-format`: summary, unified (no colour when not on a terminal), JSON and
/// JSON Patch, with Secret values masked in every one of them.
#[test]
fn diff_formats_show_values_and_mask_secrets() {
    let work = tempfile::tempdir().expect("tempdir");
    let app = work.path().join("app");
    std::fs::create_dir_all(&app).expect("mkdir");
    let deployment =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/guestbook/deployment.yaml"))
            .expect("example");
    let secret = |password: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: guestbook\nstringData:\n  password: {password}\n"
        )
    };
    std::fs::write(app.join("deployment.yaml"), &deployment).expect("write");
    std::fs::write(app.join("secret.yaml"), secret("first-Pa55word")).expect("write");
    let target = format!("dir:{}", work.path().join("out").display());
    let out = gitops(&["sync", "app", "--target", &target], work.path());
    assert!(out.status.success(), "{}", stderr(&out));

    std::fs::write(app.join("deployment.yaml"), deployment.replace("replicas: 2", "replicas: 3")).expect("write");
    std::fs::write(app.join("secret.yaml"), secret("second-Pa55word")).expect("write");
    let diff = |format: &str| {
        let out = gitops(&["diff", "app", "--target", &target, "--diff-format", format], work.path());
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        let text = stdout(&out);
        for secret in ["first-Pa55word", "second-Pa55word", "Zmlyc3QtUGE1NXdvcmQ=", "c2Vjb25kLVBhNTV3b3Jk"] {
            assert!(!text.contains(secret), "{format} shows a secret value:\n{text}");
        }
        text
    };

    let summary = diff("summary");
    assert!(summary.contains("~ Deployment/guestbook/frontend\n    spec.replicas: 2 -> 3\n"), "{summary}");
    assert!(summary.contains("~ Secret/guestbook/db\n    data.password: <masked-1> -> <masked-2>\n"), "{summary}");
    assert!(summary.contains("Diff: 0 to create, 2 to update, 0 to delete, 0 unchanged"), "{summary}");

    let unified = diff("unified");
    assert!(unified.contains("--- live/Deployment/guestbook/frontend\n+++ merged/Deployment/guestbook/frontend\n"));
    assert!(unified.contains("\n-  replicas: 2\n+  replicas: 3\n"), "{unified}");
    assert!(!unified.contains('\u{1b}'), "no colour when stdout is not a terminal");

    let json: serde_json::Value = serde_json::from_str(&diff("json")).expect("JSON");
    assert_eq!(json["summary"]["update"], 2);
    let deployment_diff = &json["diffs"][0];
    assert_eq!(deployment_diff["changes"][0]["path"], "spec.replicas");
    assert_eq!(deployment_diff["patch"], serde_json::json!([{"op": "replace", "path": "/spec/replicas", "value": 3}]));

    let patches: serde_json::Value = serde_json::from_str(&diff("patch")).expect("JSON");
    assert_eq!(patches[1]["object"]["kind"], "Secret");
    assert_eq!(patches[1]["patch"][0]["value"], "<masked-2>");
}

/// Sends one HTTP/1.1 request to `addr` and returns the status line and body.
fn http(addr: &str, method: &str, path: &str, content_type: &str, body: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("a connection");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).expect("a read timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("a request is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("a response");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.lines().next().unwrap_or("").to_owned(), body.to_owned())
}

/// `gitops cluster serve --state DIR` until its kubeconfig appears; returns the child and address.
fn serve_cluster(state: &Path, kubeconfig: &Path) -> (std::process::Child, String) {
    let _ = std::fs::remove_file(kubeconfig);
    let mut child = Command::new(env!("CARGO_BIN_EXE_gitops"))
        .args(["cluster", "serve", "--listen", "127.0.0.1:0", "--state"])
        .arg(state)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("gitops cluster serve starts");
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(kubeconfig)
            && let Some(line) = text.lines().find(|l| l.trim_start().starts_with("server: http://"))
        {
            let addr = line.trim_start().trim_start_matches("server: http://").to_owned();
            return (child, addr);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("gitops cluster serve wrote no kubeconfig");
}

#[test]
fn cluster_serve_keeps_its_state_across_restarts() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (state, kubeconfig) = (dir.path().join("state"), dir.path().join("kubeconfig"));
    let path = "/api/v1/namespaces/default/configmaps/kept";
    let (mut child, addr) = serve_cluster(&state, &kubeconfig);
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kept"},"data":{"a":"1"}}"#;
    let (status, _) = http(&addr, "PATCH", &format!("{path}?fieldManager=e2e"), "application/apply-patch+yaml", body);
    child.kill().expect("the server stops");
    let _ = child.wait();
    assert!(status.starts_with("HTTP/1.1 201"), "{status}");

    let (mut child, addr) = serve_cluster(&state, &kubeconfig);
    let (status, body) = http(&addr, "GET", path, "application/json", "");
    child.kill().expect("the server stops");
    let _ = child.wait();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let object: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(object["data"]["a"], "1");
}
