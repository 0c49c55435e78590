//! Reading `gitops.yaml`: every field, the defaults, and errors that name file, line and field.

use std::time::Duration;

use gitops_reconcile::{Applications, DefinitionError, TargetKind};

const FULL: &str = "applications:
  - name: db
    source:
      repoURL: ../repo
      path: apps/db
  - name: shop
    source:
      repoURL: ../repo
      targetRevision: v1.2.0
      path: apps/shop
    render:
      loadRestrictor: LoadRestrictionsNone
      valueFiles: [values-prod.yaml]
      values: {replicas: 3}
    destination:
      target: kube
      context: prod
      namespace: shop
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      retry:
        limit: 3
        backoff: {duration: 2s, factor: 3, maxDuration: 1m}
    ignoreDifferences:
      - group: apps
        kind: Deployment
        jsonPointers: [/spec/replicas]
    health: {timeout: 90s}
    dependsOn: [db]
    interval: 1m30s
";

fn parse_err(text: &str) -> DefinitionError {
    Applications::parse(text, "gitops.yaml").expect_err("invalid")
}

#[test]
fn every_field_and_the_defaults() {
    let apps = Applications::parse(FULL, "gitops.yaml").expect("valid");
    let db = apps.get("db").expect("db");
    assert_eq!(db.source.target_revision, "HEAD");
    assert_eq!(db.destination.target, TargetKind::Embedded);
    assert_eq!(db.destination.namespace, "default");
    assert!(db.sync_policy.automated.is_none(), "manual unless automated");
    assert_eq!(db.interval, Duration::from_secs(300));
    assert_eq!(db.health.timeout, Duration::from_secs(300));

    let shop = apps.get("shop").expect("shop");
    assert_eq!(shop.source.target_revision, "v1.2.0");
    assert_eq!(shop.destination.target, TargetKind::Kube { context: Some("prod".into()) });
    assert_eq!(shop.destination.namespace, "shop");
    let automated = shop.sync_policy.automated.expect("automated");
    assert!(automated.prune && automated.self_heal);
    let retry = shop.sync_policy.retry.as_ref().expect("retry");
    assert_eq!(retry.limit, 3);
    assert_eq!(retry.backoff.wait(0), Duration::from_secs(2));
    assert_eq!(retry.backoff.wait(1), Duration::from_secs(6));
    assert_eq!(retry.backoff.wait(5), Duration::from_secs(60));
    assert_eq!(shop.ignore_differences.len(), 1);
    assert_eq!(shop.health.timeout, Duration::from_secs(90));
    assert_eq!(shop.interval, Duration::from_secs(90));
    assert_eq!(shop.render.value_files, ["values-prod.yaml"]);
    let order: Vec<&str> = apps.order().expect("acyclic").iter().map(|a| a.name.as_str()).collect();
    assert_eq!(order, ["db", "shop"]);
}

#[test]
fn errors_name_file_line_and_field() {
    let cases: &[(&str, &str)] = &[
        (
            "applications:\n  - name: a\n    source: {repoURL: .}\n    syncPolicy:\n      automated: {prune: yes-please}\n",
            "gitops.yaml:5: applications[0].syncPolicy.automated.prune: invalid type: string \"yes-please\", expected a boolean",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: .}\n    sycnPolicy: {}\n",
            "gitops.yaml:4: applications[0].sycnPolicy: unknown field `sycnPolicy`, expected one of",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: .}\n  - name: a\n    source: {repoURL: .}\n",
            "gitops.yaml:4: applications[1].name: duplicate name \"a\" (also applications[0])",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: .}\n    interval: 5 minutes\n",
            "gitops.yaml:4: applications[0].interval: \"5 minutes\" is not a duration (like 30s, 5m, 1h30m)",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: ., targetRevision: '>=one'}\n",
            "gitops.yaml:3: applications[0].source.targetRevision: ",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: 'ext::sh -c evil://x'}\n",
            "gitops.yaml:3: applications[0].source.repoURL: remote URL",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: .}\n    destination: {target: cloud}\n",
            "gitops.yaml:4: applications[0].destination.target: unknown target \"cloud\": use embedded, dir:PATH or kube",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: .}\n    destination: {context: prod}\n",
            "applications[0].destination.context: only a `kube` target has a context",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: .}\n    dependsOn: [b]\n",
            "gitops.yaml:4: applications[0].dependsOn[0]: no application is named \"b\"",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: .}\n    dependsOn: [a]\n",
            "applications[0].dependsOn[0]: an application cannot depend on itself",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: .}\n    dependsOn: [c]\n  - name: b\n    source: {repoURL: .}\n    dependsOn: [a]\n  - name: c\n    source: {repoURL: .}\n    dependsOn: [b]\n",
            "gitops.yaml:4: applications[0].dependsOn: dependsOn has a cycle: a -> c -> b -> a",
        ),
        (
            "applications:\n  - name: Shop_1\n    source: {repoURL: .}\n",
            "applications[0].name: \"Shop_1\" is not a valid name",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: .}\n    ignoreDifferences:\n      - jsonPointers: [spec/replicas]\n",
            "gitops.yaml:5: applications[0].ignoreDifferences[0]: invalid JSON pointer \"spec/replicas\"",
        ),
        (
            "applications:\n  - name: a\n    source: {repoURL: .}\n    syncPolicy: {retry: {backoff: {factor: 0}}}\n",
            "applications[0].syncPolicy.retry.backoff.factor: must be at least 1",
        ),
        ("applications:\n  - name: a\n", "gitops.yaml:2: applications[0]: missing field `source`"),
        ("applications: [\n", "gitops.yaml:"),
    ];
    for (text, expected) in cases {
        let message = parse_err(text).to_string();
        assert!(message.contains(expected), "{text}\n  got:  {message}\n  want: {expected}");
    }
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gitops.yaml");
    let error = Applications::load(&path).expect_err("missing");
    assert!(error.to_string().contains("gitops.yaml: cannot read it"), "{error}");
    std::fs::write(&path, FULL).expect("write");
    let apps = Applications::load(&path).expect("valid");
    assert_eq!(apps.file, path);
    assert_eq!(apps.applications.len(), 2);
}
