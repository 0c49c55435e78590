//! kubectl sees the set: members listed by the ApplySet label, the parent recognised as an
//! ApplySet. Skipped, with a notice, when kubectl is absent.

use std::path::PathBuf;
use std::process::Command;

use gitops_apiserver::write_kubeconfig;
use gitops_apply::Applier;

use crate::harness::{Cluster, manifests, options, sync};
use crate::sync::STACK;

fn kubectl_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KUBECTL").map(PathBuf::from).filter(|p| p.is_file()) {
        return Some(path);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    Some(home.join(".cache/gitops-peers/bin/kubectl")).filter(|p| p.is_file())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_lists_the_members_of_our_applyset_after_prune() {
    let Some(kubectl) = kubectl_binary() else {
        eprintln!("skipped: kubectl not found (set KUBECTL or run install-peers.sh)");
        return;
    };
    let cluster = Cluster::new();
    let handle = cluster.server.listen(([127, 0, 0, 1], 0).into()).await.expect("listen");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    write_kubeconfig(&kubeconfig, &handle.url()).expect("kubeconfig");
    let target = cluster.target();
    let applier = Applier::new(&target, options("shop").wait(false));
    sync(&applier, &manifests(STACK), true).await.expect("sync");
    let smaller: String =
        STACK.split("---").filter(|doc| !doc.contains("kind: Service\n")).collect::<Vec<_>>().join("---");
    sync(&applier, &manifests(&smaller), true).await.expect("prune");

    let id = target.applyset_id("shop");
    let run = |args: Vec<String>| {
        let output = Command::new(&kubectl)
            .args(&args)
            .env_clear()
            .env("HOME", dir.path())
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .expect("kubectl runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        stdout
    };
    let selector = format!("applyset.kubernetes.io/part-of={id}");
    let kinds = "configmaps,secrets,services,deployments,serviceaccounts,roles,rolebindings".to_owned();
    // kubectl blocks; the server answers on the runtime's other worker.
    let (members, parent) = tokio::task::block_in_place(|| {
        let members = run(vec![
            "get".into(),
            kinds,
            "-n".into(),
            "shop".into(),
            "-l".into(),
            selector,
            "-o".into(),
            "name".into(),
        ]);
        let parent = run(["get", "secret", "shop", "-n", "default", "-o", "jsonpath={.metadata.annotations}"]
            .map(String::from)
            .to_vec());
        (members, parent)
    });
    let mut names: Vec<&str> = members.lines().collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "configmap/web",
            "deployment.apps/web",
            "role.rbac.authorization.k8s.io/read-config",
            "rolebinding.rbac.authorization.k8s.io/web-reads-config",
            "secret/db",
            "serviceaccount/web",
        ],
        "the pruned Service is gone; the rest are members"
    );
    assert!(parent.contains("\"applyset.kubernetes.io/tooling\":\"gitops/v"), "{parent}");
    assert!(!parent.contains("Service,"), "the pruned kind left the hint: {parent}");
}
