//! The reconciler's HTTP endpoint: `GET /metrics` (Prometheus text), `POST /hooks/git` (push
//! webhooks), `GET /status` (every application's status as JSON) and `GET /healthz`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::runner::Handle;
use crate::webhook::{Delivery, WebhookError, WebhookSecret, parse_webhook};

/// The largest webhook body accepted (GitHub caps payloads at 25 MB; pushes are far smaller).
const MAX_BODY: usize = 4 << 20;

/// Options of the endpoint.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ServerOptions {
    /// The shared webhook secret; without one, `/hooks/git` refuses every request.
    pub webhook_secret: Option<WebhookSecret>,
}

impl ServerOptions {
    /// Sets the webhook secret.
    #[must_use]
    pub fn webhook_secret(mut self, secret: Option<WebhookSecret>) -> Self {
        self.webhook_secret = secret;
        self
    }
}

/// A running endpoint. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    /// Serves `handle`'s reconciler on `listener`.
    pub fn start(listener: TcpListener, handle: Handle, options: ServerOptions) -> std::io::Result<Server> {
        let addr = listener.local_addr()?;
        let state = Arc::new((handle, options));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, Infallible>(route(&state.0, &state.1, request).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Ok(Server { addr, task })
    }

    /// Binds `addr` (port 0 picks a free one) and serves on it.
    pub async fn listen(addr: SocketAddr, handle: Handle, options: ServerOptions) -> std::io::Result<Server> {
        Server::start(TcpListener::bind(addr).await?, handle, options)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn route(handle: &Handle, options: &ServerOptions, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    match (request.method().clone(), path.as_str()) {
        (Method::GET, "/metrics") => {
            reply(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", handle.metrics().render())
        }
        (Method::GET, "/healthz") => reply(StatusCode::OK, "text/plain", "ok\n".to_owned()),
        (Method::GET, "/status") => {
            let statuses: Vec<_> = handle.statuses().into_values().collect();
            json(StatusCode::OK, &serde_json::json!({ "applications": statuses }))
        }
        (Method::POST, "/hooks/git") => hook(handle, options, request).await,
        (_, "/metrics" | "/healthz" | "/status" | "/hooks/git") => {
            json(StatusCode::METHOD_NOT_ALLOWED, &serde_json::json!({"error": "method not allowed"}))
        }
        _ => json(StatusCode::NOT_FOUND, &serde_json::json!({"error": format!("no such path: {path}")})),
    }
}

async fn hook(handle: &Handle, options: &ServerOptions, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return json(
                StatusCode::PAYLOAD_TOO_LARGE,
                &serde_json::json!({"error": format!("the body is over {MAX_BODY} bytes or was cut")}),
            );
        }
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    match parse_webhook(header, &body, options.webhook_secret.as_ref()) {
        Ok(Delivery::Push(push)) => {
            let triggered = handle.push(&push);
            tracing::info!(git_ref = %push.git_ref, applications = ?triggered, "push webhook");
            json(StatusCode::ACCEPTED, &serde_json::json!({ "triggered": triggered }))
        }
        Ok(Delivery::Ignored(why)) => json(StatusCode::OK, &serde_json::json!({ "ignored": why })),
        Err(error @ WebhookError::Unauthorized(_)) => {
            tracing::warn!(%error, "webhook refused");
            json(StatusCode::UNAUTHORIZED, &serde_json::json!({ "error": error.to_string() }))
        }
        Err(error) => json(StatusCode::BAD_REQUEST, &serde_json::json!({ "error": error.to_string() })),
    }
}

fn json(code: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    reply(code, "application/json", text)
}

fn reply(code: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = code;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    response
}
