//! Fault injection and the request log.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gitops_apiserver::{ApiServer, Dropped, Fault, FaultAction};
use http::Request;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use crate::common::{apply, get, server};

const CM: &str = "/api/v1/namespaces/default/configmaps";

fn configmap(name: &str, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": value}})
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
}

#[test]
fn the_nth_matching_request_fails_with_a_status() {
    let server = server();
    server.inject(Fault::new(FaultAction::Respond(500)).method("PATCH").path_contains("/configmaps/").nth(2));
    assert_eq!(get(&server, CM).code, 200, "a GET does not match");
    assert_eq!(apply(&server, &format!("{CM}/a"), "fieldManager=me", &configmap("a", "1")).code, 201);
    let failed = apply(&server, &format!("{CM}/b"), "fieldManager=me", &configmap("b", "1"));
    assert_eq!(failed.code, 500);
    assert_eq!(failed.body["kind"], "Status");
    assert_eq!(failed.body["reason"], "InternalError");
    assert_eq!(get(&server, &format!("{CM}/b")).code, 404, "the failed request was not carried out");
    assert_eq!(apply(&server, &format!("{CM}/b"), "fieldManager=me", &configmap("b", "1")).code, 201, "only once");

    let log = server.requests();
    let lines: Vec<(String, u16, bool, bool)> = log.iter().map(|r| (r.line(), r.status, r.wrote, r.faulted)).collect();
    assert_eq!(
        lines,
        vec![
            (format!("GET {CM}"), 200, false, false),
            (format!("PATCH {CM}/a"), 201, true, false),
            (format!("PATCH {CM}/b"), 500, false, true),
            (format!("GET {CM}/b"), 404, false, false),
            (format!("PATCH {CM}/b"), 201, true, false),
        ]
    );
    assert_eq!(log[1].query, "fieldManager=me");
}

#[test]
fn conflicts_and_throttling_carry_their_reasons() {
    let server = server();
    server.inject(Fault::new(FaultAction::Respond(409)).times(1));
    server.inject(Fault::new(FaultAction::Respond(429)).times(1));
    let conflict = get(&server, CM);
    assert_eq!((conflict.code, conflict.body["reason"].as_str()), (409, Some("Conflict")));
    let request = Request::get(CM).body(Full::new(Bytes::new())).expect("a request");
    let throttled = runtime().block_on(server.call(request));
    assert_eq!(throttled.status(), 429);
    assert_eq!(throttled.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let body = runtime().block_on(throttled.into_body().collect()).expect("a body").to_bytes();
    let status: Value = serde_json::from_slice(&body).expect("a Status");
    assert_eq!(
        (status["reason"].as_str(), status["details"]["retryAfterSeconds"].as_u64()),
        (Some("TooManyRequests"), Some(1))
    );
    assert_eq!(get(&server, CM).code, 200, "both faults are spent");
    server.inject(Fault::new(FaultAction::Respond(503)));
    assert_eq!(get(&server, CM).code, 503);
    server.clear_faults();
    assert_eq!(get(&server, CM).code, 200);
}

#[test]
fn latency_delays_the_answer() {
    let server = server();
    server.inject(Fault::new(FaultAction::Delay(Duration::from_millis(60))).method("GET"));
    let started = Instant::now();
    let request = Request::get(CM).body(Full::new(Bytes::new())).expect("a request");
    let response = runtime().block_on(server.call(request));
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(60), "the delay happened");
}

#[test]
fn a_dropped_connection_gets_no_response() {
    let server = server();
    server.inject(Fault::new(FaultAction::Drop).path_contains("/configmaps").times(1));
    // In process: the Service fails the call.
    let request = Request::get(CM).body(Full::new(Bytes::new())).expect("a request");
    let mut service = server.clone();
    let outcome = runtime().block_on(tower::Service::call(&mut service, request));
    assert_eq!(outcome.err(), Some(Dropped));

    // Over TCP: the connection closes without a byte.
    server.inject(Fault::new(FaultAction::Drop).path_contains("/configmaps").times(1));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
    let handle = runtime.block_on(server.listen(([127, 0, 0, 1], 0).into())).expect("a listener");
    let mut stream = std::net::TcpStream::connect(handle.addr()).expect("a connection");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
    write!(stream, "GET {CM} HTTP/1.1\r\nHost: x\r\n\r\n").expect("a request is sent");
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    assert!(read.is_err() || answer.is_empty(), "no response: {:?}", String::from_utf8_lossy(&answer));
    // The next request on a new connection is answered.
    let mut stream = std::net::TcpStream::connect(handle.addr()).expect("a connection");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
    write!(stream, "GET {CM} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("a request is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("a response");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let statuses: Vec<(u16, bool)> = server.requests().iter().map(|r| (r.status, r.faulted)).collect();
    assert_eq!(statuses, vec![(0, true), (0, true), (200, false)]);
}

#[test]
fn a_second_identical_apply_writes_nothing() {
    let server = server();
    for name in ["a", "b"] {
        assert_eq!(apply(&server, &format!("{CM}/{name}"), "fieldManager=sync", &configmap(name, "1")).code, 201);
    }
    assert_eq!(server.take_requests().iter().filter(|r| r.wrote).count(), 2);
    for name in ["a", "b"] {
        assert_eq!(apply(&server, &format!("{CM}/{name}"), "fieldManager=sync", &configmap(name, "1")).code, 200);
    }
    let dry = apply(&server, &format!("{CM}/a"), "fieldManager=sync&dryRun=All", &configmap("a", "2"));
    assert_eq!(dry.code, 200);
    let requests = server.take_requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests.iter().filter(|r| r.wrote).count(), 0, "no-op applies and dry runs write nothing");
    assert_eq!(apply(&server, &format!("{CM}/a"), "fieldManager=sync", &configmap("a", "2")).code, 200);
    assert_eq!(server.requests().iter().filter(|r| r.wrote).count(), 1);
    server.clear_requests();
    assert!(server.requests().is_empty());
    let quiet = ApiServer::new(gitops_apiserver::ApiServerOptions::default().request_log(0));
    assert_eq!(get(&quiet, CM).code, 200);
    assert!(quiet.requests().is_empty(), "a log of capacity 0 keeps nothing");
}
