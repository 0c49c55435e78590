//! An embedded Kubernetes API server with real server-side apply, for tests and local targets.
//!
//! No cluster, kube-apiserver or container runtime is needed: [`ApiServer`] keeps objects in
//! memory and answers the HTTP API that kubectl and kube-rs speak, with the behaviour clients
//! can see — discovery, `Status` errors, resourceVersions, and server-side apply with
//! `managedFields` that follow the schema's list and map topology.
//!
//! # Overview
//!
//! - [`ApiServer`] is the server. It is a `tower::Service<http::Request<B>>`, so a client can
//!   call it in process, and [`ApiServer::serve`] / [`ApiServer::listen`] put it on a TCP
//!   listener (`127.0.0.1:0` picks a port); [`write_kubeconfig`] points kubectl at it.
//! - [`ApiServerOptions`] choose the [`Clock`] and uid source ([`ApiServerOptions::deterministic`]
//!   for golden tests) and the body cap.
//! - [`Registry`] lists the built-in [`Resource`]s it serves: names, scope, verbs, subresources.
//! - Every error reply is an [`ApiError`] rendered as a Kubernetes `Status`.
//!
//! Requests flow: path → [`Resource`] and namespace/name → verb (get, list, create, update,
//! patch, delete) → the field manager, which merges and records ownership → the store, which
//! stamps uid, creationTimestamp, generation and a global resourceVersion. Dry runs take the same
//! path and stop before the store; no-op writes change nothing, not even the resourceVersion.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use gitops_apiserver::{ApiServer, ApiServerOptions};
//! use http::Request;
//! use http_body_util::{BodyExt, Full};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let server = ApiServer::new(ApiServerOptions::default().deterministic());
//! let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"demo"},"data":{"a":"1"}}"#;
//! let request = Request::patch("/api/v1/namespaces/default/configmaps/demo?fieldManager=me")
//!     .header("content-type", "application/apply-patch+yaml")
//!     .body(Full::new(Bytes::from(body)))?;
//! let response = server.call(request).await;
//! assert_eq!(response.status(), 201);
//! let bytes = response.into_body().collect().await?.to_bytes();
//! let object: serde_json::Value = serde_json::from_slice(&bytes)?;
//! assert_eq!(object["metadata"]["managedFields"][0]["fieldsV1"], serde_json::json!({"f:data": {"f:a": {}}}));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # CRDs, subresources and deletion
//!
//! - Creating a CustomResourceDefinition registers its kind at once (discovery, OpenAPI, the
//!   schema table that drives ownership) and sets `NamesAccepted` / `Established`; name clashes
//!   leave it unaccepted; deleting it deletes its objects.
//! - `/status` and `/scale` follow the API server's reset rules; scale speaks `autoscaling/v1`.
//! - Deletes honour finalizers, `propagationPolicy` (Background, Foreground, Orphan) through
//!   `ownerReferences`, and namespaces cascade; the garbage collector runs synchronously.
//! - With [`ApiServerOptions::defaulting`] (off by default, on in `gitops cluster serve`) writes
//!   get the API server's defaults; appliers never own defaulted fields.
//! - With [`ApiServerOptions::simulate_status`] workloads become available, Jobs complete and
//!   claims bind after a delay, written by their own field manager, as kwok does.
//!
//! # Persistence, faults and the request log
//!
//! [`ApiServer::open`] keeps the objects in a state directory (a snapshot plus an append-only,
//! checksummed log; a torn tail after a crash is cut off and the last good state served).
//! [`ApiServer::inject`] adds a [`Fault`] — an error answer, latency, or a dropped connection —
//! and [`ApiServer::requests`] returns the [`RequestRecord`] log, so a test can count writes.
//! docs/apiserver.md describes the formats.
//!
//! # Watch
//!
//! `?watch=true` on a list path streams JSON lines (over HTTP/1.1 chunked encoding, or as a
//! streaming [`ResponseBody`] in process): replay as `ADDED` from resourceVersion `0` or none,
//! events after N otherwise, `BOOKMARK`s, `timeoutSeconds`, selector transitions (`DELETED` when
//! an object stops matching), `sendInitialEvents`, and `410 Expired` as an `ERROR` event when N
//! is older than the bounded history ([`ApiServerOptions::watch_history`]) or after
//! [`ApiServer::expire_watches`]. kube-rs watchers and controllers run against it.
//!
//! # Not yet
//!
//! See docs/apiserver.md and docs/status.md for what is not implemented yet.

#![deny(missing_docs)]

mod admission;
mod body;
mod clock;
mod control;
mod crd;
mod defaults;
mod discovery;
mod error;
mod faults;
mod fieldset;
mod lifecycle;
mod openapi;
mod persist;
mod registry;
mod request;
mod selector;
mod server;
mod simulate;
mod ssa;
mod store;
mod stored;
mod subresource;
mod table;
mod verbs;
mod watch;

pub use body::ResponseBody;
pub use control::Dropped;
pub use faults::{Fault, FaultAction, RequestRecord};
pub use persist::{Recovery, StateError};

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ApiError, Cause};
pub use registry::{Registry, Resource, VERBS};
pub use selector::{FieldSelector, LabelSelector};
pub use server::{ApiServer, ApiServerOptions, ServerHandle, write_kubeconfig};
