//! Watch over the in-process service: replay, resourceVersions, selectors, bookmarks, timeouts and
//! 410 Expired.

use std::time::Duration;

use bytes::Bytes;
use gitops_apiserver::{ApiServer, ApiServerOptions, ResponseBody};
use http::Request;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

/// A request answered synchronously (no runtime needed outside watches).
fn call(server: &ApiServer, method: &str, path: &str, content_type: &str, body: &str) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(Bytes::from(body.to_owned()))
        .expect("a request");
    let response = server.handle(request);
    let status = response.status().as_u16();
    let bytes = read_whole(response.into_body());
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Reads a whole body without a runtime: whole bodies are ready at once.
fn read_whole(body: ResponseBody) -> Vec<u8> {
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    let mut body = std::pin::pin!(body);
    let mut out = Vec::new();
    while let std::task::Poll::Ready(Some(Ok(frame))) = hyper::body::Body::poll_frame(body.as_mut(), &mut context) {
        out.extend_from_slice(&frame.into_data().unwrap_or_default());
    }
    out
}

/// Server-side apply of `object` at `CM/name` (or in another collection) as manager `me`.
fn apply(server: &ApiServer, path: &str, object: &Value) -> Reply {
    let (code, body) =
        call(server, "PATCH", &format!("{path}?fieldManager=me"), "application/apply-patch+yaml", &object.to_string());
    Reply { code, body }
}

struct Reply {
    code: u16,
    body: Value,
}

fn send(server: &ApiServer, method: &str, path: &str, content_type: &str, body: &str) -> Reply {
    let (code, body) = call(server, method, path, content_type, body);
    Reply { code, body }
}

const CM: &str = "/api/v1/namespaces/default/configmaps";

fn configmap(name: &str, value: &str, labels: &Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"a": value}})
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime")
}

/// An open watch: its body and the bytes read but not yet split into lines.
struct Watch {
    body: ResponseBody,
    buffer: Vec<u8>,
}

impl Watch {
    async fn open(server: &ApiServer, path: &str) -> Watch {
        let request = Request::get(path).body(Full::new(Bytes::new())).expect("a request");
        let response = server.call(request).await;
        assert_eq!(response.status(), 200);
        assert!(response.body().is_stream());
        Watch { body: response.into_body(), buffer: Vec::new() }
    }

    /// The next event as `(type, name or resourceVersion, object)`, or `None` at the end.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(at) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=at).collect();
                let event: Value = serde_json::from_slice(&line).expect("a JSON line");
                return Some((event["type"].as_str().unwrap_or("").to_owned(), event["object"].clone()));
            }
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame()).await.expect("in time")?;
            self.buffer.extend_from_slice(&frame.expect("no error").into_data().expect("data"));
        }
    }

    /// The next event as `TYPE name`.
    async fn next_line(&mut self) -> Option<String> {
        let (kind, object) = self.next().await?;
        Some(format!("{kind} {}", object["metadata"]["name"].as_str().unwrap_or("")))
    }
}

fn rv(object: &Value) -> u64 {
    object["metadata"]["resourceVersion"].as_str().and_then(|s| s.parse().ok()).expect("a resourceVersion")
}

#[test]
fn replays_then_streams_changes() {
    let server = ApiServer::new(ApiServerOptions::default());
    assert_eq!(apply(&server, &format!("{CM}/a"), &configmap("a", "1", &json!({}))).code, 201);
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}});
    assert_eq!(send(&server, "POST", "/api/v1/namespaces", "application/json", &ns.to_string()).code, 201);
    runtime().block_on(async {
        let mut watch = Watch::open(&server, &format!("{CM}?watch=true")).await;
        let mut all = Watch::open(&server, "/api/v1/configmaps?watch=1&resourceVersion=0").await;
        assert_eq!(watch.next_line().await.as_deref(), Some("ADDED a"));
        assert_eq!(all.next_line().await.as_deref(), Some("ADDED a"));
        assert_eq!(apply(&server, &format!("{CM}/a"), &configmap("a", "2", &json!({}))).code, 200);
        let other = "/api/v1/namespaces/other/configmaps";
        assert_eq!(apply(&server, &format!("{other}/b"), &configmap("b", "1", &json!({}))).code, 201);
        assert_eq!(send(&server, "DELETE", &format!("{CM}/a"), "", "").code, 200);
        let (kind, object) = watch.next().await.expect("an event");
        assert_eq!((kind.as_str(), &object["data"]["a"]), ("MODIFIED", &json!("2")));
        let (kind, deleted) = watch.next().await.expect("an event");
        assert_eq!(kind, "DELETED", "the other namespace is not this watch's");
        assert!(rv(&deleted) > rv(&object), "a deletion has its own resourceVersion");
        for expected in ["MODIFIED a", "ADDED b", "DELETED a"] {
            assert_eq!(all.next_line().await.as_deref(), Some(expected));
        }
        assert_eq!(server.open_watches(), 2);
    });
}

#[test]
fn a_resource_version_resumes_after_it() {
    let server = ApiServer::new(ApiServerOptions::default());
    let first = apply(&server, &format!("{CM}/a"), &configmap("a", "1", &json!({})));
    assert_eq!(apply(&server, &format!("{CM}/b"), &configmap("b", "1", &json!({}))).code, 201);
    runtime().block_on(async {
        let mut watch = Watch::open(&server, &format!("{CM}?watch=true&resourceVersion={}", rv(&first.body))).await;
        assert_eq!(watch.next_line().await.as_deref(), Some("ADDED b"), "only what came after");
        assert_eq!(send(&server, "DELETE", &format!("{CM}/b"), "", "").code, 200);
        assert_eq!(watch.next_line().await.as_deref(), Some("DELETED b"));
    });
}

#[test]
fn a_resource_version_older_than_the_history_is_expired() {
    let server = ApiServer::new(ApiServerOptions::default().watch_history(2));
    let first = apply(&server, &format!("{CM}/a"), &configmap("a", "1", &json!({})));
    for value in ["2", "3", "4"] {
        assert_eq!(apply(&server, &format!("{CM}/a"), &configmap("a", value, &json!({}))).code, 200);
    }
    runtime().block_on(async {
        let mut watch = Watch::open(&server, &format!("{CM}?watch=true&resourceVersion={}", rv(&first.body))).await;
        let (kind, status) = watch.next().await.expect("an event");
        assert_eq!(kind, "ERROR");
        assert_eq!((status["code"].as_u64(), status["reason"].as_str()), (Some(410), Some("Expired")));
        assert!(status["message"].as_str().is_some_and(|m| m.starts_with("too old resource version")), "{status}");
        assert!(watch.next().await.is_none(), "the stream ends");

        // A forced expiry ends open watches the same way.
        let mut open = Watch::open(&server, &format!("{CM}?watch=true")).await;
        assert_eq!(open.next_line().await.as_deref(), Some("ADDED a"));
        server.expire_watches();
        let (kind, status) = open.next().await.expect("an event");
        assert_eq!((kind.as_str(), status["code"].as_u64()), ("ERROR", Some(410)));
        assert!(open.next().await.is_none());
    });
}

#[test]
fn selectors_filter_and_objects_leave_and_enter() {
    let server = ApiServer::new(ApiServerOptions::default());
    runtime().block_on(async {
        let mut watch = Watch::open(&server, &format!("{CM}?watch=true&labelSelector=app%3Dweb")).await;
        let mut named = Watch::open(&server, &format!("{CM}?watch=true&fieldSelector=metadata.name%3Db")).await;
        let web = json!({"app": "web"});
        for (name, labels) in [("a", web.clone()), ("b", json!({"app": "db"})), ("c", web.clone())] {
            assert_eq!(apply(&server, &format!("{CM}/{name}"), &configmap(name, "1", &labels)).code, 201);
        }
        // `a` moves out of the selector, then back in.
        for labels in [json!({"app": "db"}), web] {
            assert_eq!(apply(&server, &format!("{CM}/a"), &configmap("a", "1", &labels)).code, 200);
        }
        for expected in ["ADDED a", "ADDED c", "DELETED a", "ADDED a"] {
            assert_eq!(watch.next_line().await.as_deref(), Some(expected));
        }
        assert_eq!(named.next_line().await.as_deref(), Some("ADDED b"));
        let bad = server
            .call(
                Request::get(format!("{CM}?watch=true&labelSelector=a%20in"))
                    .body(Full::new(Bytes::new()))
                    .expect("a request"),
            )
            .await;
        assert_eq!(bad.status(), 400);
    });
}

#[test]
fn a_named_path_watches_one_object() {
    let server = ApiServer::new(ApiServerOptions::default());
    for name in ["a", "b"] {
        assert_eq!(apply(&server, &format!("{CM}/{name}"), &configmap(name, "1", &json!({}))).code, 201);
    }
    runtime().block_on(async {
        // The legacy form of `fieldSelector=metadata.name=b`: the object as ADDED, then its changes only.
        let mut watch = Watch::open(&server, &format!("{CM}/b?watch=true")).await;
        let first = watch.next().await.expect("an event");
        assert_eq!((first.0.as_str(), &first.1["metadata"]["name"]), ("ADDED", &json!("b")));
        let mut resumed = Watch::open(&server, &format!("{CM}/b?watch=1&resourceVersion={}", rv(&first.1))).await;
        for name in ["a", "b"] {
            assert_eq!(apply(&server, &format!("{CM}/{name}"), &configmap(name, "2", &json!({}))).code, 200);
        }
        assert_eq!(send(&server, "DELETE", &format!("{CM}/b"), "", "").code, 200);
        for watch in [&mut watch, &mut resumed] {
            for expected in ["MODIFIED b", "DELETED b"] {
                assert_eq!(watch.next_line().await.as_deref(), Some(expected));
            }
        }
        // A watch on a name nobody has yet sees the object when it is created.
        let mut later = Watch::open(&server, &format!("{CM}/c?watch=true&timeoutSeconds=5")).await;
        assert_eq!(apply(&server, &format!("{CM}/c"), &configmap("c", "1", &json!({}))).code, 201);
        assert_eq!(later.next_line().await.as_deref(), Some("ADDED c"));
    });
}

#[test]
fn bookmarks_initial_events_and_timeouts() {
    let options = ApiServerOptions::default().bookmark_interval(Duration::from_millis(50));
    let server = ApiServer::new(options);
    let created = apply(&server, &format!("{CM}/a"), &configmap("a", "1", &json!({})));
    runtime().block_on(async {
        let mut watch =
            Watch::open(&server, &format!("{CM}?watch=true&allowWatchBookmarks=true&timeoutSeconds=1")).await;
        assert_eq!(watch.next_line().await.as_deref(), Some("ADDED a"));
        let (kind, bookmark) = watch.next().await.expect("a bookmark");
        assert_eq!((kind.as_str(), bookmark["kind"].as_str()), ("BOOKMARK", Some("ConfigMap")));
        assert_eq!(rv(&bookmark), rv(&created.body));
        let mut count = 0;
        while watch.next().await.is_some() {
            count += 1;
        }
        assert!(count >= 1, "more bookmarks, then the end at timeoutSeconds");

        let streaming = format!(
            "{CM}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
        );
        let mut watch = Watch::open(&server, &streaming).await;
        assert_eq!(watch.next_line().await.as_deref(), Some("ADDED a"));
        let (kind, end) = watch.next().await.expect("the end of the initial events");
        assert_eq!(kind, "BOOKMARK");
        assert_eq!(end["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
        let bad = Request::get(format!("{CM}?watch=true&sendInitialEvents=true")).body(Full::new(Bytes::new()));
        assert_eq!(server.call(bad.expect("a request")).await.status(), 400);
    });
}
