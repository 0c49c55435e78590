//! The synchronous garbage collector and namespace cascade: how long one DELETE takes when it
//! brings down many objects. Run: `cargo bench -p gitops-apiserver --bench lifecycle`.

use bytes::Bytes;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gitops_apiserver::{ApiServer, ApiServerOptions};
use http::Request;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

const OBJECTS: usize = 1000;

fn send(server: &ApiServer, method: &str, path: &str, body: &Value) -> Value {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a request");
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let response = runtime.block_on(server.call(request));
    assert!(response.status().is_success(), "{method} {path}: {}", response.status());
    let bytes =
        runtime.block_on(response.into_body().collect()).map(http_body_util::Collected::to_bytes).unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn namespace_with_objects() -> ApiServer {
    let server = ApiServer::new(ApiServerOptions::default().deterministic());
    send(&server, "POST", "/api/v1/namespaces", &json!({"metadata": {"name": "team"}}));
    for at in 0..OBJECTS {
        let body = json!({"metadata": {"name": format!("cm-{at}")}, "data": {"a": "1"}});
        send(&server, "POST", "/api/v1/namespaces/team/configmaps", &body);
    }
    server
}

fn owner_with_dependents() -> ApiServer {
    let server = ApiServer::new(ApiServerOptions::default().deterministic());
    let cms = "/api/v1/namespaces/default/configmaps";
    send(&server, "POST", cms, &json!({"metadata": {"name": "owner"}}));
    let created = send(&server, "GET", &format!("{cms}/owner"), &json!({}));
    let owner = created["metadata"]["uid"].as_str().expect("a uid").to_owned();
    for at in 0..OBJECTS {
        let reference =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner, "blockOwnerDeletion": true});
        let body = json!({"metadata": {"name": format!("dep-{at}"), "ownerReferences": [reference]}});
        send(&server, "POST", cms, &body);
    }
    server
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("lifecycle");
    group.sample_size(10);
    group.bench_function("delete a namespace holding 1000 objects", |b| {
        b.iter_batched(
            namespace_with_objects,
            |server| send(&server, "DELETE", "/api/v1/namespaces/team", &json!({})),
            BatchSize::PerIteration,
        );
    });
    for policy in ["Background", "Foreground"] {
        group.bench_function(format!("delete an owner of 1000 dependents ({policy})"), |b| {
            b.iter_batched(
                owner_with_dependents,
                |server| {
                    send(
                        &server,
                        "DELETE",
                        "/api/v1/namespaces/default/configmaps/owner",
                        &json!({"propagationPolicy": policy}),
                    )
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
