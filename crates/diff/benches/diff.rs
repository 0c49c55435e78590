//! Diff throughput (criterion): 10,000 Deployment-sized objects against live copies that carry
//! what the API server adds (defaults, status, managedFields, metadata, respelled quantities,
//! reordered lists), so every object is compared in full and found unchanged.
//!
//! `cargo bench -p gitops-diff --bench diff` prints the time per 10,000 objects and the
//! throughput in objects per second, and the resident-memory growth of the inputs and of the
//! diff (Linux).
//!
//! On a machine shared with other work, wall time includes time the thread spent waiting for
//! the processor. `DIFF_BENCH_CPU_RUNS=15 cargo bench -p gitops-diff --bench diff` instead times
//! each case that many times in on-CPU time (Linux: `/proc/thread-self/schedstat`) and prints
//! the best and the median; `DIFF_BENCH_CASE=three-way` runs one case, and `DIFF_BENCH_OBJECTS`
//! changes the number of objects (for a run under `valgrind --tool=callgrind`, say).

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use gitops_core::{Inventory, Manifest, ManifestSet, Object, ObjectRef, Origin};
use gitops_diff::{Inputs, ThreeWayDiff};
use serde_json::{Value, json};

const OBJECTS: usize = 10_000;

/// The number of objects: `DIFF_BENCH_OBJECTS`, else [`OBJECTS`].
fn objects() -> usize {
    std::env::var("DIFF_BENCH_OBJECTS").ok().and_then(|n| n.parse().ok()).unwrap_or(OBJECTS)
}

fn desired(i: usize) -> Value {
    let env: Vec<Value> =
        (0..8).map(|e| json!({"name": format!("VAR_{e}"), "value": format!("value-{i}-{e}")})).collect();
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": format!("app-{i}"),
            "namespace": format!("team-{}", i % 50),
            "labels": {"app.kubernetes.io/name": format!("app-{i}"), "app.kubernetes.io/part-of": "shop", "tier": "web"},
            "annotations": {"owner": "team-payments", "docs": "https://example.invalid/runbook"}
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": format!("app-{i}")}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": format!("app-{i}"), "tier": "web"}},
                "spec": {
                    "serviceAccountName": "app",
                    "containers": [
                        {
                            "name": "app",
                            "image": format!("registry.example.invalid/app:{}", i % 7),
                            "args": ["--port=8080", "--log-format=json"],
                            "ports": [{"containerPort": 8080, "name": "http"}, {"containerPort": 9090, "name": "metrics"}],
                            "env": env,
                            "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
                            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
                            "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}, "initialDelaySeconds": 10},
                            "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}, {"name": "cache", "mountPath": "/cache"}]
                        },
                        {
                            "name": "proxy",
                            "image": "envoyproxy/envoy:v1.31",
                            "ports": [{"containerPort": 15001}],
                            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}
                        }
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": format!("app-{i}")}},
                        {"name": "cache", "emptyDir": {}}
                    ]
                }
            }
        }
    })
}

/// What the API server returns for `desired`: defaults, server metadata, status, other
/// spellings of the same quantities, keyed lists in another order.
fn live_copy(desired: &Value) -> Value {
    let mut live = desired.clone();
    live["metadata"]["uid"] = json!("8d3c2f3e-0000-4000-8000-000000000000");
    live["metadata"]["resourceVersion"] = json!("123456");
    live["metadata"]["generation"] = json!(4);
    live["metadata"]["creationTimestamp"] = json!("2025-01-01T00:00:00Z");
    live["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("4");
    live["metadata"]["managedFields"] = json!([{
        "manager": "gitops", "operation": "Apply", "apiVersion": "apps/v1", "time": "2025-01-01T00:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {"f:tier": {}}}, "f:spec": {"f:replicas": {}, "f:template": {}}}
    }]);
    let spec = &mut live["spec"];
    spec["revisionHistoryLimit"] = json!(10);
    spec["progressDeadlineSeconds"] = json!(600);
    spec["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
    let pod = &mut spec["template"]["spec"];
    pod["dnsPolicy"] = json!("ClusterFirst");
    pod["restartPolicy"] = json!("Always");
    pod["schedulerName"] = json!("default-scheduler");
    pod["securityContext"] = json!({});
    pod["terminationGracePeriodSeconds"] = json!(30);
    pod["serviceAccount"] = json!("app");
    pod["volumes"][0]["configMap"]["defaultMode"] = json!(420);
    if let Some(containers) = pod["containers"].as_array_mut() {
        for container in containers.iter_mut() {
            container["imagePullPolicy"] = json!("IfNotPresent");
            container["terminationMessagePath"] = json!("/dev/termination-log");
            container["terminationMessagePolicy"] = json!("File");
            if let Some(ports) = container["ports"].as_array_mut() {
                for port in ports.iter_mut() {
                    port["protocol"] = json!("TCP");
                }
                ports.reverse();
            }
            for probe in ["readinessProbe", "livenessProbe"] {
                if let Some(probe) = container.get_mut(probe) {
                    probe["httpGet"]["scheme"] = json!("HTTP");
                    probe["timeoutSeconds"] = json!(1);
                    probe["successThreshold"] = json!(1);
                    probe["failureThreshold"] = json!(3);
                }
            }
        }
        containers[0]["resources"]["limits"]["cpu"] = json!("1000m");
        containers[0]["resources"]["limits"]["memory"] = json!("1024Mi");
        containers[1]["resources"]["limits"]["cpu"] = json!("0.5");
        if let Some(env) = containers[0]["env"].as_array_mut() {
            env.reverse();
        }
    }
    live["status"] = json!({
        "observedGeneration": 4, "replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "updatedReplicas": 3,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "lastUpdateTime": "2025-01-01T00:00:00Z"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "lastUpdateTime": "2025-01-01T00:00:00Z"}
        ]
    });
    live
}

/// Resident memory in bytes (Linux), to report how much the inputs and the diff hold.
fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The length of an object as JSON text.
fn json_len(object: &Object) -> usize {
    serde_json::to_vec(object.as_map()).map_or(0, |text| text.len())
}

fn mib(bytes: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)] // a report, not arithmetic
    let mib = bytes as f64 / (1024.0 * 1024.0);
    mib
}

struct Fixture {
    desired: ManifestSet,
    live: BTreeMap<ObjectRef, Object>,
    last: BTreeMap<ObjectRef, Object>,
    /// Records that differ from desired in one annotation (desired and live agree on it): the
    /// diff cannot take the shortcut for a record identical to desired, and finds drift.
    older: BTreeMap<ObjectRef, Object>,
    inventory: Inventory,
}

fn fixture() -> Fixture {
    let count = objects();
    let mut manifests = Vec::with_capacity(count);
    let mut live = BTreeMap::new();
    let mut last = BTreeMap::new();
    let mut older = BTreeMap::new();
    let mut inventory = Inventory::default();
    for i in 0..count {
        let want = desired(i);
        let object = Object::from_value(want.clone()).expect("valid object");
        let reference = object.object_ref();
        live.insert(reference.clone(), Object::from_value(live_copy(&want)).expect("valid object"));
        last.insert(reference.clone(), object.clone());
        let mut old = want.clone();
        old["metadata"]["annotations"]["owner"] = json!("team-checkout");
        older.insert(reference.clone(), Object::from_value(old).expect("valid object"));
        inventory.insert(reference, "apps/v1");
        manifests.push(Manifest { object, origin: Origin::generated("bench") });
    }
    let desired = ManifestSet::from_manifests(manifests).expect("unique names");
    Fixture { desired, live, last, older, inventory }
}

/// On-CPU time of this thread in nanoseconds (Linux), unaffected by time spent waiting for a
/// processor another process holds.
fn cpu_time() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

/// Times each case `runs` times in on-CPU time and prints the best and the median.
fn cpu_report(runs: usize) {
    let f = fixture();
    let count = f.desired.len();
    let options = ThreeWayDiff::default();
    let cases = [
        ("three-way", Inputs::new(&f.desired, &f.live, &f.inventory).last_applied(&f.last)),
        ("three-way-record-differs", Inputs::new(&f.desired, &f.live, &f.inventory).last_applied(&f.older)),
        ("desired-vs-live-as-last-applied", Inputs::new(&f.desired, &f.live, &f.inventory).last_applied(&f.live)),
        ("no-last-applied", Inputs::new(&f.desired, &f.live, &f.inventory)),
    ];
    let only = std::env::var("DIFF_BENCH_CASE").ok();
    for (name, inputs) in cases {
        if only.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        let mut times: Vec<u64> = (0..runs.max(1))
            .filter_map(|_| {
                let start = cpu_time()?;
                drop(black_box(options.diff(black_box(&inputs))));
                Some(cpu_time()?.saturating_sub(start))
            })
            .collect();
        times.sort_unstable();
        let (Some(best), Some(median)) = (times.first(), times.get(times.len() / 2)) else {
            println!("{name}: no on-CPU time (needs /proc/thread-self/schedstat)");
            continue;
        };
        #[allow(clippy::cast_precision_loss)] // a report, not arithmetic
        let (best, median, per_second) =
            (*best as f64 / 1e6, *median as f64 / 1e6, count as f64 / (*best as f64 / 1e9));
        println!(
            "{name}: {count} objects, on-CPU best {best:.1} ms, median {median:.1} ms of {} runs ({per_second:.0} objects/s at best)",
            times.len()
        );
    }
}

fn diff(c: &mut Criterion) {
    let before = resident();
    let f = fixture();
    let count = f.desired.len();
    let inputs = Inputs::new(&f.desired, &f.live, &f.inventory).last_applied(&f.last);
    let options = ThreeWayDiff::default();
    let with_inputs = resident();
    let set = options.diff(&inputs);
    let with_diff = resident();
    assert_eq!(set.count(gitops_core::Action::Unchanged), count, "server defaults are no changes");
    assert!(!set.has_drift(), "no drift");
    if let (Some(a), Some(b), Some(c)) = (before, with_inputs, with_diff) {
        // The inputs' size as JSON text: what "the input" is without allocator overhead.
        let json: usize = f.desired.iter().map(|m| json_len(&m.object)).sum::<usize>()
            + f.live.values().chain(f.last.values()).map(json_len).sum::<usize>();
        println!(
            "memory: inputs resident {:.1} MiB (desired, live, last applied and the records that differ; \
             {:.1} MiB as JSON for desired, live, last applied); the diff of them {:.1} MiB",
            mib(b.saturating_sub(a)),
            mib(json as u64),
            mib(c.saturating_sub(b))
        );
    }
    drop(set);

    let mut group = c.benchmark_group("diff");
    group.sample_size(20);
    group.throughput(Throughput::Elements(count as u64));
    group.bench_function("10000-deployments-three-way", |b| b.iter(|| black_box(options.diff(black_box(&inputs)))));
    let older = Inputs::new(&f.desired, &f.live, &f.inventory).last_applied(&f.older);
    let drifted = options.diff(&older);
    assert_eq!(drifted.count(gitops_core::Action::Unchanged), count, "drift is no change");
    assert_eq!(drifted.diffs.iter().filter(|d| d.drift.len() == 1).count(), count, "one drifted field each");
    drop(drifted);
    group.bench_function("10000-deployments-three-way-record-differs", |b| {
        b.iter(|| black_box(options.diff(black_box(&older))));
    });
    let two_way = Inputs::new(&f.desired, &f.live, &f.inventory).last_applied(&f.live);
    group.bench_function("10000-deployments-desired-vs-live-as-last-applied", |b| {
        b.iter(|| black_box(options.diff(black_box(&two_way))));
    });
    let without = Inputs::new(&f.desired, &f.live, &f.inventory);
    group.bench_function("10000-deployments-no-last-applied", |b| {
        b.iter(|| black_box(options.diff(black_box(&without))));
    });
    group.finish();
}

criterion_group!(benches, diff);

fn main() {
    if let Some(runs) = std::env::var("DIFF_BENCH_CPU_RUNS").ok().and_then(|n| n.parse().ok()) {
        cpu_report(runs);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
