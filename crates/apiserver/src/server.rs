//! The server: options, routing, the in-process tower `Service`, the TCP listener and the
//! kubeconfig writer.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Body;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::body::ResponseBody;
use crate::clock::{Clock, ManualClock, SystemClock, UidSource};
use crate::control::{Dropped, Side};
use crate::discovery;
use crate::error::ApiError;
use crate::faults::{FaultAction, Faults, RequestLog, RequestRecord, injected_status};
use crate::persist::Recovery;
use crate::registry::Registry;
use crate::request::Query;
use crate::verbs::{Body as ReplyBody, Call, Env, Reply, State, Target};
use crate::watch::{Hub, WatchRequest, WatchSettings};

/// How an [`ApiServer`] behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiServerOptions {
    /// Where time stamps come from.
    pub clock: Arc<dyn Clock>,
    /// Whether uids count up (`00000000-0000-4000-8000-000000000001`, …) instead of being random.
    pub sequential_uids: bool,
    /// The largest request body accepted; larger ones get a 413. The API server's is 3 MiB.
    pub max_body_bytes: usize,
    /// How many events the watch history keeps; a watch from an older resourceVersion gets
    /// `410 Expired`.
    pub watch_history: usize,
    /// How often a watch that allows bookmarks gets a `BOOKMARK` event.
    pub bookmark_interval: Duration,
    /// How long a watch without `timeoutSeconds` lasts (the API server picks 30 to 60 minutes).
    pub watch_timeout: Duration,
    /// Whether a persistent server ([`ApiServer::open`]) flushes every write to disk before
    /// answering. Off trades durability across power loss for speed; a crash of the process
    /// alone still loses nothing.
    pub fsync: bool,
    /// How many requests the request log keeps (0 turns it off).
    pub request_log: usize,
    /// Whether writes get the API server's defaults (Deployment replicas and strategy, container
    /// pull policies, Service cluster IPs, …). Off by default, so that stored objects are exactly
    /// what clients wrote; `gitops cluster serve` turns it on to behave like a real cluster.
    pub defaulting: bool,
    /// When set, workloads become available, Jobs complete and claims bind this long after
    /// each write to them (see [`ApiServerOptions::simulate_status`]). Off by default.
    pub simulate_status: Option<Duration>,
}

impl Default for ApiServerOptions {
    fn default() -> Self {
        ApiServerOptions {
            clock: Arc::new(SystemClock),
            sequential_uids: false,
            max_body_bytes: 3 * 1024 * 1024,
            watch_history: 1000,
            bookmark_interval: Duration::from_secs(60),
            watch_timeout: Duration::from_secs(1800),
            fsync: true,
            request_log: 10_000,
            defaulting: false,
            simulate_status: None,
        }
    }
}

impl ApiServerOptions {
    /// Default options: the system clock, random uids, a 3 MiB body cap.
    pub fn new() -> Self {
        Self::default()
    }

    /// Deterministic mode for golden tests: a [`ManualClock`] at [`ManualClock::START`] and
    /// sequential uids.
    #[must_use]
    pub fn deterministic(self) -> Self {
        self.clock(Arc::new(ManualClock::new(ManualClock::START))).sequential_uids(true)
    }

    /// Use `clock` for time stamps.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Count uids up instead of making random ones.
    #[must_use]
    pub fn sequential_uids(mut self, yes: bool) -> Self {
        self.sequential_uids = yes;
        self
    }

    /// Fill in the API server's defaults on writes, as a real cluster does (see
    /// [`ApiServerOptions::defaulting`]).
    #[must_use]
    pub fn defaulting(mut self, yes: bool) -> Self {
        self.defaulting = yes;
        self
    }

    /// Simulate the controllers' status writes, `delay` after each write, as kwok does:
    /// Deployments, ReplicaSets, StatefulSets and DaemonSets become available, Jobs complete,
    /// PersistentVolumeClaims bind. The writes are made by the field manager
    /// `gitops-status-simulator` through the status subresource; a zero delay writes before the
    /// triggering request is answered. `None` turns it off.
    #[must_use]
    pub fn simulate_status(mut self, delay: Option<Duration>) -> Self {
        self.simulate_status = delay;
        self
    }

    /// Refuse bodies over `bytes` with a 413.
    #[must_use]
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Keep `events` events of watch history (at least 0; 0 makes every resumed watch expire).
    #[must_use]
    pub fn watch_history(mut self, events: usize) -> Self {
        self.watch_history = events;
        self
    }

    /// Send watch bookmarks this often.
    #[must_use]
    pub fn bookmark_interval(mut self, every: Duration) -> Self {
        self.bookmark_interval = every;
        self
    }

    /// End watches without `timeoutSeconds` after this long.
    #[must_use]
    pub fn watch_timeout(mut self, after: Duration) -> Self {
        self.watch_timeout = after;
        self
    }

    /// Flush every write to disk before answering (the default), or not.
    #[must_use]
    pub fn fsync(mut self, yes: bool) -> Self {
        self.fsync = yes;
        self
    }

    /// Keep the last `requests` requests in the request log (0 turns it off).
    #[must_use]
    pub fn request_log(mut self, requests: usize) -> Self {
        self.request_log = requests;
        self
    }
}

#[derive(Debug)]
pub(crate) struct Inner {
    /// Lock order: `state`, then `side`.
    pub(crate) state: Mutex<State>,
    pub(crate) side: Mutex<Side>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) log: Mutex<RequestLog>,
    pub(crate) options: ApiServerOptions,
    pub(crate) uids: UidSource,
    pub(crate) recovery: Option<Recovery>,
}

/// An in-memory Kubernetes API server. Cloning gives another handle on the same objects.
///
/// It is a `tower::Service<http::Request<B>>` for any body `B`, so a client can talk to it
/// without a socket, and [`ApiServer::serve`] puts it on a TCP listener for kubectl.
#[derive(Debug, Clone)]
pub struct ApiServer {
    pub(crate) inner: Arc<Inner>,
}

/// What a route answers: a JSON document (and whether the request wrote), or a stream.
enum Answer {
    Json {
        code: u16,
        content_type: &'static str,
        body: ReplyBody,
        wrote: bool,
    },
    /// A JSON document already serialized (a LIST).
    Bytes(Vec<u8>),
    Stream(ResponseBody),
}

fn json_answer(code: u16, content_type: &'static str, body: Value) -> Answer {
    Answer::Json { code, content_type, body: ReplyBody::Value(body), wrote: false }
}

impl Default for ApiServer {
    fn default() -> Self {
        ApiServer::new(ApiServerOptions::default())
    }
}

impl ApiServer {
    /// A server with the built-in resources and the system namespaces.
    pub fn new(options: ApiServerOptions) -> ApiServer {
        let uids = UidSource::new(options.sequential_uids);
        let state = ApiServer::initial_state(&options, &uids);
        ApiServer::assemble(state, None, None, options, uids)
    }

    /// The state a new server starts from: the built-in resources and the system namespaces.
    pub(crate) fn initial_state(options: &ApiServerOptions, uids: &UidSource) -> State {
        let env = Env { now: options.clock.now(), uids };
        let mut state = State::new(Registry::builtin(), env);
        state.defaulting = options.defaulting;
        // The system namespaces are where history starts, not events in it.
        drop(state.store.take_changes());
        state
    }

    pub(crate) fn assemble(
        state: State,
        durable: Option<crate::persist::Durable>,
        recovery: Option<Recovery>,
        options: ApiServerOptions,
        uids: UidSource,
    ) -> ApiServer {
        let side = Side { durable, hub: Hub::new(options.watch_history, state.store.revision()) };
        let log = RequestLog::new(options.request_log);
        ApiServer {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                side: Mutex::new(side),
                faults: Mutex::new(Faults::default()),
                log: Mutex::new(log),
                options,
                uids,
                recovery,
            }),
        }
    }

    /// How many objects are stored (the system namespaces included).
    pub fn object_count(&self) -> usize {
        self.lock().object_count()
    }

    pub(crate) fn options(&self) -> &ApiServerOptions {
        &self.inner.options
    }

    pub(crate) fn uids(&self) -> &UidSource {
        &self.inner.uids
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written object: every write
        // replaces whole values, so the state is usable after a poisoning.
        self.inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answers one request whose body has been read. Faults are not applied here, and the
    /// request is not logged; a watch needs a Tokio runtime to stream on.
    pub fn handle(&self, request: Request<Bytes>) -> Response<ResponseBody> {
        self.handle_logged(request).0
    }

    fn handle_logged(&self, request: Request<Bytes>) -> (Response<ResponseBody>, bool) {
        let (parts, body) = request.into_parts();
        match self.route(&parts.method, &parts.uri, &parts.headers, &body) {
            Ok(Answer::Json { code, content_type, body, wrote }) => {
                (respond_bytes(code, content_type, body.into_bytes()), wrote)
            }
            Ok(Answer::Stream(body)) => (stream_response(body), false),
            Ok(Answer::Bytes(bytes)) => (respond_bytes(200, "application/json", bytes), false),
            Err(error) => (respond(error.code(), "application/json", &error.status()), false),
        }
    }

    /// Reads the body within the cap, then answers. Injected faults apply and the request is
    /// logged; a fault that drops the connection answers `503 ServiceUnavailable` here, since
    /// there is no connection to drop (the tower `Service` and the TCP server do drop).
    pub async fn call<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if let Ok(response) = self.try_call(request).await {
            response
        } else {
            let (status, _) = injected_status(503);
            respond(503, "application/json", &status)
        }
    }

    /// Like [`ApiServer::call`], but a fault that drops the connection is an error.
    pub async fn try_call<B>(&self, request: Request<B>) -> Result<Response<ResponseBody>, Dropped>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        let mut record = RequestRecord {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            status: 0,
            wrote: false,
            faulted: false,
        };
        let actions = self.faults().actions(&record.method, &record.path);
        for action in actions {
            match action {
                FaultAction::Delay(duration) => tokio::time::sleep(duration).await,
                FaultAction::Respond(code) => {
                    let (status, _) = injected_status(code);
                    let mut response = respond(code, "application/json", &status);
                    if code == 429 {
                        response.headers_mut().insert(header::RETRY_AFTER, http::HeaderValue::from_static("1"));
                    }
                    record.status = code;
                    record.faulted = true;
                    self.log_request(record);
                    return Ok(response);
                }
                FaultAction::Drop => {
                    record.faulted = true;
                    self.log_request(record);
                    return Err(Dropped);
                }
            }
        }
        let cap = self.inner.options.max_body_bytes;
        let (response, wrote) = match Limited::new(body, cap).collect().await {
            Ok(collected) => self.handle_logged(Request::from_parts(parts, collected.to_bytes())),
            Err(error) => {
                let error = if error.is::<http_body_util::LengthLimitError>() {
                    ApiError::TooLarge(cap)
                } else {
                    ApiError::BadRequest(format!("reading the request body: {error}"))
                };
                (respond(error.code(), "application/json", &error.status()), false)
            }
        };
        record.status = response.status().as_u16();
        record.wrote = wrote;
        self.log_request(record);
        Ok(response)
    }

    fn route(&self, method: &Method, uri: &http::Uri, headers: &HeaderMap, body: &[u8]) -> Result<Answer, ApiError> {
        let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
        let query = Query::parse(uri.query());
        let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        let accept = header(header::ACCEPT);
        let json = |value: Value| Ok(json_answer(200, "application/json", value));
        let state = self.lock();
        let registry = &state.registry;
        let read_only = |found: Option<Value>| match (method, found) {
            (&Method::GET, Some(value)) => json(value),
            (&Method::GET, None) => Err(ApiError::NoResource),
            _ => Err(ApiError::MethodNotAllowed),
        };
        match segments.as_slice() {
            ["version"] => read_only(Some(discovery::version())),
            ["api" | "apis"] => {
                let core = segments[0] == "api";
                if method != Method::GET {
                    return Err(ApiError::MethodNotAllowed);
                }
                match discovery::aggregated_accept(accept) {
                    Some(content_type) => {
                        Ok(json_answer(200, content_type, discovery::aggregated(registry, core, content_type)))
                    }
                    None if core => json(discovery::api_versions()),
                    None => json(discovery::api_group_list(registry)),
                }
            }
            ["openapi", "v3"] => read_only(Some(discovery::openapi_index(registry))),
            ["openapi", "v3", "api", version] => {
                read_only(discovery::openapi_group_version(registry, &state.schema, "", version))
            }
            ["openapi", "v3", "apis", group, version] => {
                read_only(discovery::openapi_group_version(registry, &state.schema, group, version))
            }
            ["api", version] => read_only(discovery::api_resource_list(registry, "", version)),
            ["apis", group, version] => read_only(discovery::api_resource_list(registry, group, version)),
            ["api", version, rest @ ..] => {
                let target = resolve(&state, "", version, rest)?;
                drop(state);
                self.resource(method, &target, &query, headers, body)
            }
            ["apis", group, version, rest @ ..] => {
                let target = resolve(&state, group, version, rest)?;
                drop(state);
                self.resource(method, &target, &query, headers, body)
            }
            _ => Err(ApiError::NoResource),
        }
    }

    fn resource(
        &self,
        method: &Method,
        target: &Target,
        query: &Query,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Answer, ApiError> {
        let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        let call =
            Call { query, content_type: header(header::CONTENT_TYPE), user_agent: header(header::USER_AGENT), body };
        let env = Env { now: self.inner.options.clock.now(), uids: &self.inner.uids };
        let mut state = self.lock();
        let named = target.name.is_some();
        if *method == Method::GET
            && target.subresource.is_none()
            && !query.flag("watch")
            && let Some(version) = crate::table::requested(header(header::ACCEPT))
        {
            return state
                .table(target, query, version, env.now)
                .map(|table| json_answer(200, "application/json", table));
        }
        let reply: Result<Reply, ApiError> = match (method, named) {
            _ if target.subresource.is_some() => state.subresource(env, method, target, &call),
            (&Method::GET, _) if query.flag("watch") => return self.watch(&state, target, query),
            (&Method::GET, false) if target.subresource.is_none() => {
                return state.list_json(target, query).map(Answer::Bytes);
            }
            (&Method::GET, true) => state.get(target),
            (&Method::GET, false) => state.list(target, query),
            (&Method::POST, false) => state.create(env, target, &call),
            (&Method::PUT, true) => state.replace(env, target, &call),
            (&Method::PATCH, true) => state.patch(env, target, &call),
            (&Method::DELETE, true) => state.delete(env, target, &call),
            (&Method::DELETE, false) => state.delete_collection(env, target, &call),
            _ => return Err(ApiError::MethodNotAllowed),
        };
        let written = reply
            .as_ref()
            .ok()
            .map(|reply| Target { name: reply.body.name().or_else(|| target.name.clone()), ..target.clone() });
        if let Some(written) = &written {
            state.after_write(env, method, written);
        }
        let wrote = self.commit(&mut state, reply.is_ok())?;
        drop(state);
        let reply = reply?;
        if let Some(written) = written.filter(|_| wrote && *method != Method::DELETE) {
            self.schedule_simulation(&written);
        }
        Ok(Answer::Json { code: reply.code, content_type: "application/json", body: reply.body, wrote })
    }

    fn watch(&self, state: &State, target: &Target, query: &Query) -> Result<Answer, ApiError> {
        let resource = &target.resource;
        let request = WatchRequest::parse(
            query,
            (&resource.group, &resource.plural),
            (target.namespace.as_deref(), target.name.as_deref()),
            &resource.kind,
            &resource.api_version(),
        )?;
        let settings = WatchSettings {
            bookmark_interval: self.inner.options.bookmark_interval,
            default_timeout: self.inner.options.watch_timeout,
        };
        let side = self.side();
        Ok(Answer::Stream(request.start(&state.store, &side.hub, settings)?))
    }

    /// Serves on `listener` until the returned handle is dropped or shut down.
    pub fn serve(&self, listener: TcpListener) -> std::io::Result<ServerHandle> {
        let addr = listener.local_addr()?;
        let server = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let server = server.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let server = server.clone();
                        // An error makes hyper close the connection without a response.
                        async move { server.try_call(request).await }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    // A client closing its connection early is not the server's problem.
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Ok(ServerHandle { addr, task })
    }

    /// Binds `addr` (port 0 picks a free port) and serves on it.
    pub async fn listen(&self, addr: SocketAddr) -> std::io::Result<ServerHandle> {
        self.serve(TcpListener::bind(addr).await?)
    }
}

/// A running listener. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, what clients connect to.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections.
    pub fn shutdown(self) {}

    /// Waits until the server stops (it runs until the process ends or the handle is dropped).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<B> tower::Service<Request<B>> for ApiServer
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<ResponseBody>;
    type Error = Dropped;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Dropped>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Dropped>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let server = self.clone();
        Box::pin(async move { server.try_call(request).await })
    }
}

/// Turns the path after `/api/v1` or `/apis/<g>/<v>` into a target.
fn resolve(state: &State, group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let registry = &state.registry;
    let find = |plural: &str| registry.get(group, version, plural).cloned().ok_or(ApiError::NoResource);
    let target = |resource, namespace: Option<&str>, name: Option<&str>| Target {
        resource,
        namespace: namespace.map(str::to_owned),
        name: name.map(str::to_owned),
        subresource: None,
        schema: state.schema.clone(),
    };
    let with_sub = |target: Target, sub: &str| {
        if target.resource.has_subresource(sub) {
            Ok(Target { subresource: Some(sub.to_owned()), ..target })
        } else {
            Err(ApiError::NoResource)
        }
    };
    let namespaced_resource =
        |plural: &str| registry.get(group, version, plural).filter(|r| r.is_namespaced()).cloned();
    match rest {
        ["namespaces", namespace, plural, tail @ ..] if namespaced_resource(plural).is_some() => {
            let resource = find(plural)?;
            match tail {
                [] => Ok(target(resource, Some(namespace), None)),
                [name] => Ok(target(resource, Some(namespace), Some(name))),
                [name, sub] => with_sub(target(resource, Some(namespace), Some(name)), sub),
                _ => Err(ApiError::NoResource),
            }
        }
        [plural] => Ok(target(find(plural)?, None, None)),
        [plural, name] => {
            let resource = find(plural)?;
            if resource.is_namespaced() {
                return Err(ApiError::NoResource);
            }
            Ok(target(resource, None, Some(name)))
        }
        [plural, name, sub] => {
            let resource = find(plural)?;
            if resource.is_namespaced() {
                return Err(ApiError::NoResource);
            }
            with_sub(target(resource, None, Some(name)), sub)
        }
        _ => Err(ApiError::NoResource),
    }
}

fn respond(code: u16, content_type: &str, body: &Value) -> Response<ResponseBody> {
    respond_bytes(code, content_type, serde_json::to_vec(body).unwrap_or_default())
}

fn respond_bytes(code: u16, content_type: &str, bytes: impl Into<Bytes>) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::whole(bytes));
    *response.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

fn stream_response(body: ResponseBody) -> Response<ResponseBody> {
    let mut response = Response::new(body);
    response.headers_mut().insert(header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response.headers_mut().insert(header::CACHE_CONTROL, http::HeaderValue::from_static("no-cache, private"));
    response
}

/// Writes a kubeconfig at `path` whose current context points at `url` (plain HTTP, no
/// credentials), namespace `default`. kubectl and kube-rs then connect with no flags.
pub fn write_kubeconfig(path: &Path, url: &str) -> std::io::Result<()> {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: gitops\n  cluster:\n    server: {url}\ncontexts:\n- name: gitops\n  context:\n    cluster: gitops\n    user: gitops\n    namespace: default\ncurrent-context: gitops\nusers:\n- name: gitops\n  user: {{}}\npreferences: {{}}\n"
    );
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}
