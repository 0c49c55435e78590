//! Planning throughput (criterion): 1,000, 10,000 and 100,000 objects with realistic references.
//!
//! The input is made of applications of ten objects each in namespaces of ten applications: a
//! ConfigMap, a Secret, a ServiceAccount, a Role and its RoleBinding, a Deployment that mounts
//! the ConfigMap, reads the Secret and runs as the ServiceAccount, a Service, an Ingress to it,
//! a HorizontalPodAutoscaler and a PodDisruptionBudget for the Deployment; one in ten
//! applications has a Helm pre-install hook and one in ten an Argo CD sync wave. Every object is
//! to be created, so every reference is resolved and layered.
//!
//! `cargo bench -p gitops-plan --bench plan` prints the time per plan for each size, for the
//! copying `plan` and the consuming `plan_with_desired`, and on Linux the planning thread's CPU
//! time (which excludes waiting for a core on a busy machine), the peak memory planning takes
//! above its input and what the plan itself holds.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gitops_core::{Action, Manifest, ManifestSet, Object, Origin};
use gitops_diff::{DiffSet, ObjectDiff};
use gitops_plan::{PlanOptions, plan, plan_with_desired};
use serde_json::{Value, json};

fn app(ns: &str, app: usize) -> Vec<Value> {
    let name = format!("app-{app}");
    let labels = json!({"app.kubernetes.io/name": name});
    let mut objects = vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": {"mode": "blue"}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns}, "data": {"token": "aHVudGVyMg=="}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name, "namespace": ns},
               "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": ns},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": name}]}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": {
            "replicas": 2, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {
                "serviceAccountName": name,
                "containers": [{"name": "app", "image": "shop:1.0",
                    "envFrom": [{"secretRef": {"name": name}}],
                    "env": [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": name, "key": "mode"}}}]}],
                "volumes": [{"name": "config", "configMap": {"name": name}}]}}}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
               "spec": {"selector": labels, "ports": [{"port": 80}]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name, "namespace": ns},
               "spec": {"rules": [{"host": format!("{name}.{ns}.example.com"), "http": {"paths": [
                   {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": name, "port": {"number": 80}}}}]}}]}}),
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name, "namespace": ns},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}, "maxReplicas": 5}}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": ns},
               "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}}}),
    ];
    if app % 10 == 3 {
        // An Argo CD sync wave: the ConfigMap goes first.
        objects[0]["metadata"]["annotations"] = json!({"argocd.argoproj.io/sync-wave": "-1"});
    }
    if app % 10 == 7 {
        // A Helm pre-install hook: the ServiceAccount moves to PreSync, and its Namespace with it.
        objects[2]["metadata"]["annotations"] = json!({"helm.sh/hook": "pre-install", "helm.sh/hook-weight": "-1"});
    }
    objects
}

/// `n` objects (a multiple of 100) as a diff in which every object is created.
fn input(n: usize) -> DiffSet {
    let mut diffs = Vec::with_capacity(n + n / 100);
    let mut app_index = 0;
    while diffs.len() < n {
        let ns = format!("team-{}", app_index / 10);
        if app_index % 10 == 0 {
            let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            diffs.push(namespace);
        }
        diffs.extend(app(&ns, app_index));
        app_index += 1;
    }
    let diffs = diffs
        .into_iter()
        .map(|value| {
            let object = Object::from_value(value).expect("valid object");
            ObjectDiff::new(object.object_ref(), Action::Create, object.api_version()).with_desired(Some(object))
        })
        .collect();
    DiffSet { diffs }
}

/// Resident memory in bytes and its peak since the last reset (Linux).
fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Time this thread spent on a CPU, in nanoseconds (Linux): unlike wall time, it does not grow
/// while other processes hold the machine's cores.
fn on_cpu() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

fn mib(bytes: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)] // a report, not arithmetic
    let mib = bytes as f64 / (1024.0 * 1024.0);
    mib
}

fn bench(c: &mut Criterion) {
    let options = PlanOptions::default();
    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    for n in [1_000, 10_000, 100_000] {
        let diff = input(n);
        // Reset the peak (writing 5 to clear_refs, Linux 4.0+), plan once, and report.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let before = memory();
        let planned = plan(&diff, &options).expect("no cycles");
        let after = memory();
        assert_eq!(planned.steps.len(), diff.diffs.len());
        assert!(planned.warnings.is_empty(), "every reference resolves: {:?}", planned.warnings.first());
        if let (Some((rss, _)), Some((rss_after, peak))) = (before, after) {
            println!(
                "plan/{n}: {} objects, {} waves; peak {:.1} MiB above the input, the plan holds {:.1} MiB",
                diff.diffs.len(),
                planned.waves().count(),
                mib(peak.saturating_sub(rss)),
                mib(rss_after.saturating_sub(rss))
            );
        }
        drop(planned);
        let runs = 3;
        if let Some(start) = on_cpu() {
            for _ in 0..runs {
                drop(black_box(plan(black_box(&diff), &options)));
            }
            if let Some(end) = on_cpu() {
                #[allow(clippy::cast_precision_loss)] // a report
                let ms = (end - start) as f64 / f64::from(runs) / 1e6;
                println!(
                    "plan/{n}: borrowing: {ms:.1} ms on one core per plan (thread CPU time, plan and drop, mean of {runs})"
                );
            }
        }
        group.throughput(Throughput::Elements(diff.diffs.len() as u64));
        group.bench_with_input(BenchmarkId::new("borrowing", n), &diff, |b, diff| {
            b.iter_with_large_drop(|| plan(black_box(diff), &options));
        });
        let set =
            ManifestSet::from_manifests(diff.diffs.iter().filter_map(|d| {
                d.desired.clone().map(|object| Manifest { object, origin: Origin::generated("bench") })
            }))
            .expect("unique");
        let mut total = Some(0u64);
        for _ in 0..runs {
            let input = diff.clone();
            let (Some(start), planned, Some(end)) = (on_cpu(), plan_with_desired(input, &set, &options), on_cpu())
            else {
                total = None;
                break;
            };
            drop(planned);
            total = total.map(|t| t + (end - start));
        }
        if let Some(total) = total {
            #[allow(clippy::cast_precision_loss)] // a report
            let ms = total as f64 / f64::from(runs) / 1e6;
            println!(
                "plan/{n}: consuming: {ms:.1} ms on one core per plan (thread CPU time, plan only, mean of {runs})"
            );
        }
        group.bench_with_input(BenchmarkId::new("consuming", n), &diff, |b, diff| {
            b.iter_batched(|| diff.clone(), |diff| plan_with_desired(diff, &set, &options), BatchSize::LargeInput);
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
