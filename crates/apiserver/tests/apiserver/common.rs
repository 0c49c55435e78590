//! Helpers: in-process requests and reduced views of stored objects.

use bytes::Bytes;
use gitops_apiserver::{ApiServer, ApiServerOptions};
use http::Request;
use http_body_util::{BodyExt, Full};
use serde_json::{Map, Value, json};

pub(crate) fn server() -> ApiServer {
    ApiServer::new(ApiServerOptions::default().deterministic())
}

/// A reply: code, content type and JSON body.
pub(crate) struct Reply {
    pub(crate) code: u16,
    pub(crate) content_type: String,
    pub(crate) body: Value,
}

pub(crate) fn send(server: &ApiServer, method: &str, path: &str, content_type: &str, body: &str) -> Reply {
    send_with(server, method, path, &[("content-type", content_type)], body)
}

pub(crate) fn send_with(server: &ApiServer, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        if !value.is_empty() {
            request = request.header(*name, *value);
        }
    }
    let request = request.body(Full::new(Bytes::from(body.to_owned()))).expect("a valid request");
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let response = runtime.block_on(server.call(request));
    let code = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let bytes = runtime.block_on(response.into_body().collect()).expect("a body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { code, content_type, body }
}

pub(crate) fn get(server: &ApiServer, path: &str) -> Reply {
    send(server, "GET", path, "", "")
}

pub(crate) fn merge_patch(server: &ApiServer, path: &str, body: &str) -> Reply {
    send(server, "PATCH", path, "application/merge-patch+json", body)
}

pub(crate) fn apply(server: &ApiServer, path: &str, query: &str, body: &Value) -> Reply {
    send(server, "PATCH", &format!("{path}?{query}"), "application/apply-patch+yaml", &body.to_string())
}

/// The object without server-owned metadata and managedFields: what a test compares.
pub(crate) fn content(object: &Value) -> Value {
    let mut out = object.as_object().cloned().unwrap_or_default();
    out.remove("apiVersion");
    out.remove("kind");
    let mut metadata = Map::new();
    for key in ["labels", "annotations", "finalizers"] {
        if let Some(value) = object.pointer(&format!("/metadata/{key}")) {
            metadata.insert(key.into(), value.clone());
        }
    }
    if metadata.is_empty() {
        out.remove("metadata");
    } else {
        out.insert("metadata".into(), Value::Object(metadata));
    }
    Value::Object(out)
}

/// `[[manager, operation, fieldsV1], …]` in stored order.
pub(crate) fn managed(object: &Value) -> Value {
    let entries = object.pointer("/metadata/managedFields").and_then(Value::as_array).cloned().unwrap_or_default();
    entries.iter().map(|e| json!([e["manager"], e["operation"], e["fieldsV1"]])).collect()
}
