//! Git repositories made with the `git` CLI, the embedded API server as the cluster, and polling.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use gitops_apiserver::{ApiServer, ApiServerOptions};
use gitops_apply::{KubeTarget, Target, TargetError};
use gitops_core::{Object, ObjectRef};
use gitops_reconcile::{Application, Applications, Targets};

/// A Git repository in a temporary folder.
pub(crate) struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    pub(crate) fn new() -> Repo {
        let repo = Repo { dir: tempfile::tempdir().expect("tempdir") };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn git(&self, args: &[&str]) -> String {
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

    pub(crate) fn write(&self, path: &str, text: &str) {
        let file = self.path().join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    }

    /// Commits everything; returns the commit id.
    pub(crate) fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// A ConfigMap manifest.
pub(crate) fn config_map(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: {value:?}\n")
}

/// The embedded API server, in process.
pub(crate) struct Cluster {
    pub(crate) server: ApiServer,
}

impl Cluster {
    pub(crate) fn new() -> Cluster {
        let options = ApiServerOptions::default().defaulting(true).simulate_status(Some(Duration::from_millis(50)));
        Cluster { server: ApiServer::new(options) }
    }

    pub(crate) fn target(&self) -> KubeTarget {
        KubeTarget::new(kube::Client::new(self.server.clone(), "default"), "embedded")
    }

    /// The object of `group` and `kind` named `name` in the default namespace, if it exists.
    pub(crate) async fn get(&self, group: &str, kind: &str, name: &str) -> Option<Object> {
        self.target().get(&ObjectRef::new(group, kind, Some("default"), name)).await.expect("get")
    }

    /// The `data.value` of a ConfigMap, if it exists.
    pub(crate) async fn value(&self, name: &str) -> Option<String> {
        let object = self.get("", "ConfigMap", name).await?;
        object.pointer("/data/value").and_then(|v| v.as_str()).map(str::to_owned)
    }
}

/// Every application gets the same target.
pub(crate) struct OneTarget(pub(crate) Arc<dyn Target>);

#[async_trait]
impl Targets for OneTarget {
    async fn target(&self, _app: &Application) -> Result<Arc<dyn Target>, TargetError> {
        Ok(Arc::clone(&self.0))
    }
}

/// Parses a `gitops.yaml` text.
pub(crate) fn apps(text: &str) -> Vec<Application> {
    let apps = Applications::parse(text, "gitops.yaml").expect("valid gitops.yaml");
    apps.order().expect("ordered").into_iter().cloned().collect()
}

/// Polls `check` until it holds, for up to a minute (no timing is asserted).
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `git daemon` serving the repositories under `base`, killed on drop.
pub(crate) struct GitDaemon {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl GitDaemon {
    pub(crate) fn start(base: &Path) -> GitDaemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        // `git-daemon` itself, not `git daemon`: killing the `git` wrapper would leave the daemon
        // running, holding the test harness's output open.
        let exec_path = Command::new("git").arg("--exec-path").output().expect("git --exec-path");
        let exec_path = std::path::PathBuf::from(String::from_utf8_lossy(&exec_path.stdout).trim());
        let child = Command::new(exec_path.join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        GitDaemon { child, port }
    }
}
