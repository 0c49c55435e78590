//! API server throughput (criterion, in process, one thread): server-side applies of
//! Deployment-sized objects, a LIST of 10,000 of them, and the memory a stored object costs
//! beyond its JSON.
//!
//! `cargo bench -p gitops-apiserver --bench apiserver` prints criterion's times and, on Linux,
//! the memory per stored object (see `memory_per_object` for the method) and the CPU time per
//! operation (see `cpu_time`), which a machine shared with other work inflates far less than
//! criterion's wall-clock times.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gitops_apiserver::{ApiServer, ApiServerOptions};
use http::Request;
use serde_json::{Value, json};

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

/// A Deployment of about 1.5 KB of JSON: labels, annotations, two containers with ports, env,
/// resources, probes and volume mounts, and volumes.
fn deployment(name: &str, image: &str) -> Value {
    let labels = json!({"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop", "tier": "web"});
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": labels, "annotations": {"example.com/owner": "team-shop"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": name,
                    "containers": [
                        {"name": "app", "image": image,
                         "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}],
                         "env": [{"name": "MODE", "value": "production"}, {"name": "LOG_LEVEL", "value": "info"},
                                 {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": name, "key": "url"}}}],
                         "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                         "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
                         "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}]},
                        {"name": "proxy", "image": "envoy:1.30",
                         "ports": [{"name": "proxy", "containerPort": 15001}],
                         "args": ["--config", "/etc/envoy/envoy.yaml"]}
                    ],
                    "volumes": [{"name": "config", "configMap": {"name": name}}]
                }
            }
        }
    })
}

fn request(method: &str, path: &str, content_type: &str, body: Bytes) -> Request<Bytes> {
    Request::builder().method(method).uri(path).header("content-type", content_type).body(body).expect("a request")
}

fn apply(server: &ApiServer, name: &str, body: &Bytes) -> u16 {
    let path = format!("{DEPLOYMENTS}/{name}?fieldManager=bench");
    server.handle(request("PATCH", &path, "application/apply-patch+yaml", body.clone())).status().as_u16()
}

fn bodies(count: usize, image: &str) -> Vec<(String, Bytes)> {
    bodies_named(count, "web", image)
}

fn bodies_named(count: usize, prefix: &str, image: &str) -> Vec<(String, Bytes)> {
    (0..count)
        .map(|i| {
            let name = format!("{prefix}-{i:05}");
            let body = Bytes::from(deployment(&name, image).to_string());
            (name, body)
        })
        .collect()
}

fn applies(c: &mut Criterion) {
    let mut group = c.benchmark_group("server-side apply");
    group.throughput(Throughput::Elements(1));
    let server = ApiServer::new(ApiServerOptions::default());
    let (blue, green) = (bodies(1000, "shop:1.0"), bodies(1000, "shop:2.0"));
    for (name, body) in &blue {
        assert_eq!(apply(&server, name, body), 201);
    }
    // Each apply changes the image of one of 1,000 Deployments: merge, ownership, store, event.
    let mut at = 0;
    group.bench_function("update (image change)", |b| {
        b.iter(|| {
            let round = at / blue.len();
            let (name, body) = if round % 2 == 0 { &green[at % green.len()] } else { &blue[at % blue.len()] };
            at += 1;
            black_box(apply(&server, name, body))
        });
    });
    let mut at = 0;
    group.bench_function("no-op", |b| {
        b.iter(|| {
            let (name, body) = &blue[at % blue.len()];
            at += 1;
            black_box(apply(&server, name, body))
        });
    });
    let mut created = 0;
    group.bench_function("create", |b| {
        b.iter(|| {
            created += 1;
            let name = format!("new-{created}");
            let body = Bytes::from(deployment(&name, "shop:1.0").to_string());
            black_box(apply(&server, &name, &body))
        });
    });
    group.finish();
}

fn list(c: &mut Criterion) {
    let server = ApiServer::new(ApiServerOptions::default());
    for (name, body) in bodies(10_000, "shop:1.0") {
        assert_eq!(apply(&server, &name, &body), 201);
    }
    let mut group = c.benchmark_group("list");
    group.sample_size(20);
    group.bench_function("10,000 Deployments (serialized)", |b| {
        b.iter(|| {
            let response = server.handle(request("GET", DEPLOYMENTS, "", Bytes::new()));
            black_box(response)
        });
    });
    group.finish();
}

/// The resident memory of this process in bytes (Linux `/proc/self/statm`), if known.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Memory per stored object beyond its JSON: the growth of the resident set while 50,000
/// Deployments are applied, divided by their number, minus the average size of a stored
/// Deployment as compact JSON (what `GET` returns, managedFields included). The request bodies
/// are made before the first measurement and the request log is off, so neither counts; the
/// watch history (1,000 events) shares the stored values. Freed memory the allocator keeps
/// counts against the server, so this errs on the high side.
fn memory_per_object(_: &mut Criterion) {
    const COUNT: usize = 50_000;
    let server = ApiServer::new(ApiServerOptions::default().request_log(0));
    let bodies = bodies(COUNT, "shop:1.0");
    let Some(before) = resident_bytes() else {
        eprintln!("memory per object: /proc/self/statm is not readable here; skipped");
        return;
    };
    for (name, body) in &bodies {
        assert_eq!(apply(&server, name, body), 201);
    }
    let after = resident_bytes().unwrap_or(before);
    let sample = server.handle(request("GET", &format!("{DEPLOYMENTS}/web-00000"), "", Bytes::new()));
    let json = http_body_util::BodyExt::collect(sample.into_body());
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let json = runtime.block_on(json).map_or(0, |c| c.to_bytes().len() as u64);
    let per_object = after.saturating_sub(before) / COUNT as u64;
    eprintln!(
        "memory per stored Deployment: {per_object} bytes resident, of which {json} bytes of JSON; overhead {} bytes",
        per_object.saturating_sub(json)
    );
    black_box(&server);
}

/// The CPU time this thread has run, from Linux `/proc/thread-self/schedstat` (nanoseconds), if
/// known.
fn cpu_nanos() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

/// CPU time per operation (the thread's run time, not wall-clock time, so time spent waiting for
/// a core another process holds does not count): 4,000 updates, 4,000 no-op applies and 2,000
/// creates of Deployments, and 20 LISTs of 10,000 Deployments.
fn cpu_time(_: &mut Criterion) {
    let Some(start) = cpu_nanos() else {
        eprintln!("CPU time per operation: /proc/thread-self/schedstat is not readable here; skipped");
        return;
    };
    let per = |from: u64, count: u32| Duration::from_nanos(cpu_nanos().unwrap_or(from).saturating_sub(from)) / count;
    let report = |what: &str, each: Duration| {
        eprintln!("CPU time per {what}: {each:?} ({:.0}/s on one core)", 1.0 / each.as_secs_f64());
    };
    let server = ApiServer::new(ApiServerOptions::default().request_log(0));
    let (blue, green) = (bodies(1000, "shop:1.0"), bodies(1000, "shop:2.0"));
    let created = cpu_nanos().unwrap_or(start);
    for (name, body) in blue.iter().chain(&bodies_named(1000, "new", "shop:1.0")) {
        assert_eq!(apply(&server, name, body), 201);
    }
    report("create", per(created, 2000));
    let updated = cpu_nanos().unwrap_or(start);
    for (name, body) in green.iter().chain(&blue).chain(&green).chain(&blue) {
        assert_eq!(apply(&server, name, body), 200);
    }
    report("update (image change)", per(updated, 4000));
    let noop = cpu_nanos().unwrap_or(start);
    for _ in 0..4 {
        for (name, body) in &blue {
            assert_eq!(apply(&server, name, body), 200);
        }
    }
    report("no-op apply", per(noop, 4000));
    let server = ApiServer::new(ApiServerOptions::default().request_log(0));
    for (name, body) in bodies(10_000, "shop:1.0") {
        assert_eq!(apply(&server, &name, &body), 201);
    }
    let listed = cpu_nanos().unwrap_or(start);
    for _ in 0..20 {
        black_box(server.handle(request("GET", DEPLOYMENTS, "", Bytes::new())));
    }
    report("LIST of 10,000 Deployments", per(listed, 20));
}

criterion_group!(benches, applies, list, memory_per_object, cpu_time);
criterion_main!(benches);
