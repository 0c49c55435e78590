//! Sync benchmarks against the embedded API server in process (criterion). The whole-process
//! comparison with `kubectl apply --server-side` is `benches/apply/compare.sh`.
//!
//! - `apply/sync-2000-objects-5ms`: a first sync of 2,000 objects (a Namespace, ConfigMaps,
//!   Services, ServiceAccounts) into a fresh server that delays every request by 5 ms;
//!   `…-get-each` observes with one read per object instead of lists.
//! - `apply/noop-resync-2000-objects`: observe, diff, plan and run again with everything in
//!   sync (no latency); every iteration checks that the server's request log shows zero writes.
//! - `apply/noop-resync-2000-objects-5ms` and `…-5ms-get-each`: the same with 5 ms per request,
//!   observing with one list per kind and namespace (the default) and with one read per object.

use std::fmt::Write;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use gitops_apiserver::{ApiServer, ApiServerOptions, Fault, FaultAction};
use gitops_apply::{Applier, ApplierOptions, ApplyReport, KubeTarget};
use gitops_core::{ManifestSet, parse_manifests, yaml::ReadOptions};
use gitops_plan::{PlanOptions, plan};

const OBJECTS: usize = 2000;

fn objects() -> ManifestSet {
    let mut text = String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: bench}\n---\n");
    for i in 0..OBJECTS - 1 {
        let _ = match i % 4 {
            0 | 1 => write!(
                text,
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: bench}}\ndata: {{index: '{i}'}}\n---\n"
            ),
            2 => write!(
                text,
                "apiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}, namespace: bench}}\n\
                 spec: {{selector: {{app: a{i}}}, ports: [{{port: 80, targetPort: 8080}}]}}\n---\n"
            ),
            _ => write!(
                text,
                "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa-{i}, namespace: bench}}\n---\n"
            ),
        };
    }
    let manifests = parse_manifests(&text, "bench.yaml", &ReadOptions::default()).expect("valid YAML");
    ManifestSet::from_manifests(manifests).expect("unique objects")
}

fn server() -> ApiServer {
    ApiServer::new(ApiServerOptions::default().defaulting(true).request_log(100_000))
}

async fn sync(target: &KubeTarget, set: &ManifestSet) -> ApplyReport {
    sync_with(target, set, ApplierOptions::default()).await
}

async fn sync_with(target: &KubeTarget, set: &ManifestSet, options: ApplierOptions) -> ApplyReport {
    let applier = Applier::new(target, options.inventory("bench").concurrency(32));
    let observed = applier.observe(set).await.expect("observe");
    let diff = observed.diff(&observed.desired, "gitops");
    let plan = plan(&diff, &PlanOptions::default()).expect("plans");
    applier.run(&plan, observed).await.expect("syncs")
}

fn target(server: &ApiServer) -> KubeTarget {
    KubeTarget::new(kube::Client::new(server.clone(), "default"), "embedded")
}

fn apply(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    // kube's client spawns its buffer worker on the current runtime, so clients are made inside it.
    let _guard = runtime.enter();
    let set = objects();
    let mut group = c.benchmark_group("apply");
    group.sample_size(10).measurement_time(Duration::from_secs(20));

    for (name, options) in [
        ("sync-2000-objects-5ms", ApplierOptions::default()),
        ("sync-2000-objects-5ms-get-each", ApplierOptions::default().list_at(usize::MAX)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let server = server();
                server.inject(Fault::new(FaultAction::Delay(Duration::from_millis(5))));
                let report = runtime.block_on(sync_with(&target(&server), &set, options.clone()));
                assert_eq!(report.changes.changes.len(), OBJECTS);
            });
        });
    }

    let server = server();
    let synced = target(&server);
    runtime.block_on(sync(&synced, &set));
    group.bench_function("noop-resync-2000-objects", |b| {
        b.iter(|| {
            server.clear_requests();
            let report = runtime.block_on(sync(&synced, &set));
            assert!(!report.changes.has_writes());
            assert_eq!(server.requests().iter().filter(|r| r.method != "GET").count(), 0, "zero writes");
        });
    });
    server.inject(Fault::new(FaultAction::Delay(Duration::from_millis(5))));
    for (name, options) in [
        ("noop-resync-2000-objects-5ms", ApplierOptions::default()),
        ("noop-resync-2000-objects-5ms-get-each", ApplierOptions::default().list_at(usize::MAX)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                server.clear_requests();
                let report = runtime.block_on(sync_with(&synced, &set, options.clone()));
                assert!(!report.changes.has_writes());
                assert_eq!(server.requests().iter().filter(|r| r.method != "GET").count(), 0, "zero writes");
            });
        });
    }
    group.finish();
}

criterion_group!(benches, apply);
criterion_main!(benches);
