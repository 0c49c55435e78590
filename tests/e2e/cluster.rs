//! `gitops sync --kubeconfig` and `gitops diff --server-side` against a running API server
//! (`gitops cluster serve`), as against a real cluster.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{gitops, stderr, stdout};

/// `gitops cluster serve` in the background, stopped when dropped.
pub(super) struct Server {
    child: Child,
    pub(super) kubeconfig: PathBuf,
}

impl Server {
    pub(super) fn start(dir: &Path) -> Server {
        let kubeconfig = dir.join("kubeconfig");
        let child = Command::new(env!("CARGO_BIN_EXE_gitops"))
            .args(["cluster", "serve", "--listen", "127.0.0.1:0", "--kubeconfig"])
            .arg(&kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let started = Instant::now();
        while !kubeconfig.exists() {
            assert!(started.elapsed() < Duration::from_secs(30), "the server wrote no kubeconfig");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The file is written before the first request can be answered: give it a moment.
        std::thread::sleep(Duration::from_millis(50));
        Server { child, kubeconfig }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const APP: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data: {mode: blue}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
";

#[test]
fn sync_and_server_side_diff_against_a_cluster_from_kubeconfig() {
    let work = tempfile::tempdir().expect("tempdir");
    let server = Server::start(work.path());
    let app = work.path().join("app");
    std::fs::create_dir_all(&app).expect("mkdir");
    std::fs::write(app.join("app.yaml"), APP).expect("write");
    let kubeconfig = server.kubeconfig.display().to_string();
    // No controller runs in the embedded API server: do not wait for rollouts.
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", "app", "--kubeconfig", &kubeconfig, "--no-wait"];
        args.extend_from_slice(extra);
        gitops(&args, work.path())
    };

    let out = sync(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Synced: 3 created, 0 updated, 0 deleted, 0 unchanged in "), "{}", stdout(&out));
    assert!(stdout(&out).contains("Deployment/shop/web created"), "{}", stdout(&out));
    let out = sync(&[]);
    assert!(stdout(&out).contains("Synced: 0 created, 0 updated, 0 deleted, 3 unchanged"), "{}", stdout(&out));

    let diff = |extra: &[&str]| {
        let mut args = vec!["diff", "app", "--kubeconfig", &kubeconfig, "--diff-format", "summary"];
        args.extend_from_slice(extra);
        gitops(&args, work.path())
    };
    let out = diff(&["--server-side"]);
    assert_eq!(out.status.code(), Some(0), "in sync: {}{}", stdout(&out), stderr(&out));

    std::fs::write(app.join("app.yaml"), APP.replace("replicas: 2", "replicas: 3")).expect("write");
    let out = diff(&["--server-side"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("~ Deployment/shop/web\n    spec.replicas: 2 -> 3\n"), "{}", stdout(&out));

    // A server-side dry run checks every write and stores nothing.
    let out = sync(&["--dry-run=server"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("(dry run, server): 0 created, 1 updated"), "{}", stdout(&out));
    assert_eq!(diff(&[]).status.code(), Some(1), "still different after the dry run");

    // Another application takes the ConfigMap (its field and its ApplySet label): our sync refuses
    // to touch an object another ApplySet owns, naming it; --force-conflicts takes it back.
    let edited = work.path().join("edit.yaml");
    std::fs::write(
        &edited,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata: {mode: red}\n",
    )
    .expect("write");
    let other = gitops(
        &[
            "sync",
            "edit.yaml",
            "--kubeconfig",
            &kubeconfig,
            "--name",
            "other",
            "--field-manager",
            "someone-else",
            "--force-conflicts",
        ],
        work.path(),
    );
    assert!(other.status.success(), "{}", stderr(&other));
    let out = sync(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("ConfigMap/shop/cfg: metadata.labels.applyset.kubernetes.io/part-of: owned by another ApplySet"),
        "{err}"
    );
    let out = sync(&["--force-conflicts"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(diff(&[]).status.code(), Some(0), "{}", stdout(&diff(&[])));
}

/// The default target is the embedded API server, in process, its state kept under
/// `./.gitops/cluster` from one run to the next.
#[test]
fn the_embedded_target_keeps_its_state_between_runs() {
    let work = tempfile::tempdir().expect("tempdir");
    let app = work.path().join("app");
    std::fs::create_dir_all(&app).expect("mkdir");
    std::fs::write(app.join("app.yaml"), APP).expect("write");
    let out = gitops(&["sync", "app"], work.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Synced: 3 created, 0 updated, 0 deleted, 0 unchanged"), "{}", stdout(&out));
    assert!(work.path().join(".gitops/cluster/log").exists() || work.path().join(".gitops/cluster/snapshot").exists());

    let out = gitops(&["sync", "app"], work.path());
    assert!(stdout(&out).contains("Synced: 0 created, 0 updated, 0 deleted, 3 unchanged"), "{}", stdout(&out));
    std::fs::write(app.join("app.yaml"), APP.replace("replicas: 2", "replicas: 4")).expect("write");
    let out = gitops(&["diff", "app", "--server-side", "--diff-format", "summary"], work.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("spec.replicas: 2 -> 4"), "{}", stdout(&out));
}
