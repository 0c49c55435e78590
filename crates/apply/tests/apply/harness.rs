//! The embedded API server behind a client-side layer that counts requests and writes, and
//! injects latency and faults (error statuses, dropped connections) — what a flaky network and
//! a busy API server do to a sync.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use gitops_apiserver::{ApiServer, ApiServerOptions, ResponseBody};
use gitops_apply::{Applier, ApplierOptions, ApplyError, ApplyReport, KubeTarget};
use gitops_core::{ManifestSet, parse_manifests, yaml::ReadOptions};
use gitops_diff::{Inputs, ThreeWayDiff};
use gitops_plan::{PlanOptions, plan};
use http::{Request, Response};

/// A fault to inject into one request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    /// Answer with this status code and a `Status` body.
    Status(u16),
    /// Fail the request as a reset connection would.
    Drop,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicUsize,
    /// Writes the server accepted (dry runs excluded).
    pub(crate) writes: AtomicUsize,
    /// Faults for the next write requests, in order.
    faults: Mutex<VecDeque<Fault>>,
    latency_ms: AtomicUsize,
}

/// The server, a client over it, and the counters.
#[derive(Clone)]
pub(crate) struct Cluster {
    pub(crate) server: ApiServer,
    pub(crate) counters: Arc<Counters>,
}

impl Cluster {
    pub(crate) fn new() -> Cluster {
        Cluster { server: ApiServer::new(ApiServerOptions::default()), counters: Arc::default() }
    }

    pub(crate) fn target(&self) -> KubeTarget {
        KubeTarget::new(kube::Client::new(self.clone(), "default"), "embedded")
    }

    pub(crate) fn writes(&self) -> usize {
        self.counters.writes.load(Ordering::SeqCst)
    }

    pub(crate) fn fail_next_writes(&self, faults: &[Fault]) {
        self.counters.faults.lock().expect("lock").extend(faults.iter().copied());
    }

    pub(crate) fn latency(&self, latency: Duration) {
        self.counters.latency_ms.store(usize::try_from(latency.as_millis()).unwrap_or(usize::MAX), Ordering::SeqCst);
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower::Service<Request<kube::client::Body>> for Cluster {
    type Response = Response<ResponseBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<kube::client::Body>) -> Self::Future {
        let cluster = self.clone();
        Box::pin(async move {
            let counters = &cluster.counters;
            counters.requests.fetch_add(1, Ordering::SeqCst);
            let latency = counters.latency_ms.load(Ordering::SeqCst);
            if latency > 0 {
                tokio::time::sleep(Duration::from_millis(latency as u64)).await;
            }
            let write = request.method() != http::Method::GET;
            let dry_run = request.uri().query().is_some_and(|q| q.contains("dryRun"));
            if write {
                let fault = counters.faults.lock().expect("lock").pop_front();
                match fault {
                    Some(Fault::Drop) => return Err("connection reset by peer".into()),
                    Some(Fault::Status(code)) => {
                        let body = format!(
                            r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected {code}","code":{code}}}"#
                        );
                        let response = Response::builder()
                            .status(code)
                            .header("content-type", "application/json")
                            .body(ResponseBody::whole(body))?;
                        return Ok(response);
                    }
                    None => {}
                }
            }
            let response = cluster.server.call(request).await;
            if write && !dry_run && response.status().is_success() {
                counters.writes.fetch_add(1, Ordering::SeqCst);
            }
            Ok(response)
        })
    }
}

pub(crate) fn manifests(text: &str) -> ManifestSet {
    ManifestSet::from_manifests(parse_manifests(text, "stack.yaml", &ReadOptions::default()).expect("valid YAML"))
        .expect("unique objects")
}

/// Observe, diff (three-way, with this manager's managedFields), plan, run.
pub(crate) async fn sync(applier: &Applier<'_>, set: &ManifestSet, prune: bool) -> Result<ApplyReport, ApplyError> {
    let observed = applier.observe(set).await.expect("observe");
    let inputs = Inputs::new(&observed.desired, &observed.live, &observed.inventory);
    let diff = ThreeWayDiff::default().field_manager(&applier.options().field_manager).diff(&inputs);
    applier.run(&plan(&diff, &PlanOptions::default().prune(prune)).expect("plans"), observed).await
}

pub(crate) fn options(name: &str) -> ApplierOptions {
    ApplierOptions::default().inventory(name).poll_interval(Duration::from_millis(20))
}
