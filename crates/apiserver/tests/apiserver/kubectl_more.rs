//! More acceptance with the real kubectl: CRDs and their custom resources, `/scale`, ApplySet
//! pruning, foreground and namespace deletion. Skipped, with a notice, when kubectl is absent.

use crate::kubectl::{Cluster, kubectl_binary};

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {type: integer}
              size: {type: string}
";

const WIDGET: &str = "apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
  namespace: default
spec:
  replicas: 1
  size: large
";

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - {name: nginx, image: nginx:1.27}
";

fn configmap(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  a: \"1\"\n")
}

#[test]
fn kubectl_crds_scale_applysets_and_deletion() {
    let Some(kubectl) = kubectl_binary() else {
        eprintln!("NOTICE: kubectl not found (set KUBECTL or run install-peers.sh); skipping the kubectl CRD test");
        return;
    };
    let cluster = Cluster::start(kubectl);

    // A CRD: established at once, listed by `get crd`, its kind served under its names.
    let crd = cluster.file("crd.yaml", CRD);
    cluster.ok(&["apply", "--server-side", "-f", &crd]);
    let crds = cluster.ok(&["get", "crd"]);
    assert!(crds.contains("widgets.example.com"), "{crds}");
    let established = cluster.ok(&["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s"]);
    assert!(established.contains("condition met"), "{established}");
    let widget = cluster.file("widget.yaml", WIDGET);
    let out = cluster.ok(&["apply", "--server-side", "-f", &widget]);
    assert_eq!(out.trim(), "widget.example.com/w serverside-applied");
    assert!(cluster.ok(&["get", "widgets"]).contains('w'));
    assert_eq!(cluster.ok(&["get", "wd", "w", "-o", "jsonpath={.spec.size}"]), "large");
    let resources = cluster.ok(&["api-resources", "--api-group=example.com"]);
    assert!(resources.contains("widgets") && resources.contains("wd"), "{resources}");

    // kubectl explain walks the OpenAPI schemas, for built-ins and the CRD.
    let explained = cluster.ok(&["explain", "deployment.spec.replicas"]);
    assert!(explained.contains("replicas") && explained.contains("integer"), "{explained}");
    let explained = cluster.ok(&["explain", "widgets.spec"]);
    assert!(explained.contains("size") && explained.contains("string"), "{explained}");

    // kubectl scale goes through /scale, for a CRD and a Deployment.
    cluster.ok(&["scale", "widget", "w", "--replicas=4"]);
    assert_eq!(cluster.ok(&["get", "widget", "w", "-o", "jsonpath={.spec.replicas}"]), "4");
    let deployment = cluster.file("deploy.yaml", DEPLOYMENT);
    cluster.ok(&["apply", "--server-side", "-f", &deployment]);
    cluster.ok(&["scale", "deployment", "web", "--replicas=3"]);
    assert_eq!(cluster.ok(&["get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"]), "3");

    // ApplySet prune: the member dropped from the set is deleted, the other kept.
    let set = [("KUBECTL_APPLYSET", "true")];
    let dir = |name: &str, members: &[&str]| {
        members.iter().map(|m| cluster.file(&format!("{name}-{m}.yaml"), &configmap(m))).collect::<Vec<_>>()
    };
    let first = dir("first", &["keep", "drop"]);
    let mut args = vec!["apply", "--server-side", "--prune", "--applyset=myset", "-n", "default"];
    for file in &first {
        args.extend(["-f", file.as_str()]);
    }
    let run = cluster.run_with(&args, &set);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(cluster.ok(&["get", "configmap", "drop"]).contains("drop"));
    let second = dir("second", &["keep"]);
    let args = ["apply", "--server-side", "--prune", "--applyset=myset", "-n", "default", "-f", second[0].as_str()];
    let run = cluster.run_with(&args, &set);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("configmap/drop pruned"), "{}", run.stdout);
    assert_ne!(cluster.run(&["get", "configmap", "drop"]).code, 0);
    assert!(cluster.ok(&["get", "configmap", "keep"]).contains("keep"));
    let parent = cluster.ok(&["get", "secret", "myset", "-o", "jsonpath={.metadata.labels}"]);
    assert!(parent.contains("applyset.kubernetes.io/id"), "{parent}");

    // Deleting the CRD deletes its objects; foreground deletion and namespaces finish too.
    cluster.ok(&["delete", "crd", "widgets.example.com"]);
    assert_ne!(cluster.run(&["get", "widgets"]).code, 0);
    cluster.ok(&["delete", "deployment", "web", "--cascade=foreground", "--timeout=10s"]);
    // (`kubectl create <kind>` sends protobuf, which this server does not speak: apply instead.)
    let team = cluster.file(
        "team.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inside\n  namespace: team\n",
    );
    cluster.ok(&["apply", "--server-side", "-f", &team]);
    assert!(cluster.ok(&["get", "configmap", "inside", "-n", "team"]).contains("inside"));
    cluster.ok(&["delete", "namespace", "team", "--timeout=10s"]);
    assert_ne!(cluster.run(&["get", "namespace", "team"]).code, 0);
}
