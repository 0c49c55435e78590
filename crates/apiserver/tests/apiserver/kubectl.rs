//! Acceptance with the real kubectl (v1.37.1). Skipped, with a notice, when kubectl is absent.

use std::path::PathBuf;
use std::process::Command;

use gitops_apiserver::{ApiServer, ServerHandle, write_kubeconfig};

/// kubectl from `$KUBECTL`, else from `~/.cache/gitops-peers/bin` (what install-peers.sh fills).
pub(crate) fn kubectl_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KUBECTL").map(PathBuf::from).filter(|p| p.is_file()) {
        return Some(path);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    Some(home.join(".cache/gitops-peers/bin/kubectl")).filter(|p| p.is_file())
}

pub(crate) struct Cluster {
    kubectl: PathBuf,
    dir: tempfile::TempDir,
    _handle: ServerHandle,
    _runtime: tokio::runtime::Runtime,
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Cluster {
    pub(crate) fn start(kubectl: PathBuf) -> Cluster {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
        let server = ApiServer::default();
        let handle = runtime.block_on(server.listen(([127, 0, 0, 1], 0).into())).expect("a listener");
        let dir = tempfile::tempdir().expect("a temporary directory");
        write_kubeconfig(&dir.path().join("kubeconfig"), &handle.url()).expect("a kubeconfig");
        Cluster { kubectl, dir, _handle: handle, _runtime: runtime }
    }

    pub(crate) fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("a manifest");
        path.display().to_string()
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    /// Runs kubectl with extra environment variables.
    pub(crate) fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let home = self.dir.path().join("home");
        let output = Command::new(&self.kubectl)
            .args(args)
            .env_clear()
            .envs(env.iter().copied())
            .env("HOME", &home)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .output()
            .expect("kubectl runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "kubectl {args:?} failed:\n{}\n{}", run.stdout, run.stderr);
        run.stdout
    }
}

fn configmap(value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  labels:\n    app: demo\ndata:\n  a: \"{value}\"\n"
    )
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
";

#[test]
fn kubectl_acceptance() {
    let Some(kubectl) = kubectl_binary() else {
        eprintln!(
            "NOTICE: kubectl not found (set KUBECTL or run install-peers.sh); skipping the kubectl acceptance test"
        );
        return;
    };
    let cluster = Cluster::start(kubectl);
    let v1 = cluster.file("cm-v1.yaml", &configmap("1"));
    let v2 = cluster.file("cm-v2.yaml", &configmap("2"));
    let rv =
        |cluster: &Cluster| cluster.ok(&["get", "configmap", "demo", "-o", "jsonpath={.metadata.resourceVersion}"]);

    // apply --server-side: create, then a no-op re-apply keeps the resourceVersion.
    let out = cluster.ok(&["apply", "--server-side", "-f", &v1]);
    assert_eq!(out.trim(), "configmap/demo serverside-applied");
    let created = rv(&cluster);
    cluster.ok(&["apply", "--server-side", "-f", &v1]);
    assert_eq!(rv(&cluster), created, "a no-op apply keeps the resourceVersion");

    // --dry-run=server changes nothing.
    let out = cluster.ok(&["apply", "--server-side", "--dry-run=server", "-f", &v2]);
    assert_eq!(out.trim(), "configmap/demo serverside-applied (server dry run)");
    assert_eq!(rv(&cluster), created);
    assert_eq!(cluster.ok(&["get", "configmap", "demo", "-o", "jsonpath={.data.a}"]), "1");

    // diff --server-side: 0 without changes, 1 with.
    assert_eq!(cluster.run(&["diff", "--server-side", "-f", &v1]).code, 0);
    let diff = cluster.run(&["diff", "--server-side", "-f", &v2]);
    assert_eq!(diff.code, 1, "{}\n{}", diff.stdout, diff.stderr);
    assert!(diff.stdout.contains("-  a: \"1\"") && diff.stdout.contains("+  a: \"2\""), "{}", diff.stdout);
    assert_eq!(rv(&cluster), created, "diff is a dry run");

    // A conflict: exit 1 with kubectl's advice; --force-conflicts moves ownership.
    let conflict = cluster.run(&["apply", "--server-side", "--field-manager=other", "-f", &v2]);
    assert_eq!(conflict.code, 1, "{}\n{}", conflict.stdout, conflict.stderr);
    assert!(
        conflict.stderr.contains("Apply failed with 1 conflict: conflict with \"kubectl\": .data.a"),
        "{}",
        conflict.stderr
    );
    assert!(conflict.stderr.contains("--force-conflicts"), "{}", conflict.stderr);
    cluster.ok(&["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", &v2]);
    let managers = cluster.ok(&[
        "get",
        "configmap",
        "demo",
        "--show-managed-fields",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]);
    assert_eq!(managers, "kubectl other", "kubectl keeps the label, other owns data.a");
    assert_eq!(cluster.ok(&["get", "configmap", "demo", "-o", "jsonpath={.data.a}"]), "2");

    // get -o yaml, -l, -A.
    let yaml = cluster.ok(&["get", "configmap", "demo", "-o", "yaml"]);
    assert!(
        yaml.contains("  name: demo\n") && yaml.contains("  a: \"2\"\n") && !yaml.contains("managedFields"),
        "{yaml}"
    );
    let deployment = cluster.file("deploy.yaml", DEPLOYMENT);
    cluster.ok(&["apply", "--server-side", "-f", &deployment]);
    assert_eq!(cluster.ok(&["get", "configmaps", "-l", "app=demo", "-o", "name"]).trim(), "configmap/demo");
    assert_eq!(cluster.ok(&["get", "configmaps", "-l", "app=other", "-o", "name"]).trim(), "");
    let all = cluster.ok(&["get", "deployments", "-A"]);
    assert!(all.starts_with("NAMESPACE") && all.contains("default") && all.contains("web"), "{all}");
    assert_eq!(
        cluster.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]),
        "nginx:1.27"
    );

    // api-resources comes from discovery.
    let resources = cluster.ok(&["api-resources"]);
    let line = resources.lines().find(|l| l.starts_with("deployments ")).unwrap_or_default();
    assert!(
        line.contains("deploy") && line.contains("apps/v1") && line.contains("true") && line.contains("Deployment"),
        "{resources}"
    );

    // delete, then the object is gone.
    let out = cluster.ok(&["delete", "configmap", "demo"]);
    assert_eq!(out.trim(), "configmap \"demo\" deleted from default namespace");
    let gone = cluster.run(&["get", "configmap", "demo"]);
    assert_eq!(gone.code, 1);
    assert!(gone.stderr.contains("Error from server (NotFound): configmaps \"demo\" not found"), "{}", gone.stderr);
    assert_eq!(cluster.run(&["diff", "--server-side", "-f", &v1]).code, 1, "creation is a difference");
}
