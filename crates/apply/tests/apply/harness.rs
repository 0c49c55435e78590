//! The embedded API server as a cluster for the Kubernetes target: its request log counts the
//! writes, its fault injection adds latency, error statuses and dropped connections.

use std::time::Duration;

use gitops_apiserver::{ApiServer, ApiServerOptions, Fault, FaultAction};
use gitops_apply::{Applier, ApplierOptions, ApplyError, ApplyReport, KubeTarget};
use gitops_core::{ManifestSet, parse_manifests, yaml::ReadOptions};
use gitops_diff::{Inputs, ThreeWayDiff};
use gitops_plan::{PlanOptions, plan};

/// The server, and clients over it in process.
#[derive(Clone)]
pub(crate) struct Cluster {
    pub(crate) server: ApiServer,
}

impl Cluster {
    /// A server that fills in defaults as a real one does, with no controllers.
    pub(crate) fn new() -> Cluster {
        Cluster::with(ApiServerOptions::default())
    }

    /// A server whose simulated controllers roll out workloads and finish Jobs `delay` after
    /// each write.
    pub(crate) fn with_controllers(delay: Duration) -> Cluster {
        Cluster::with(ApiServerOptions::default().simulate_status(Some(delay)))
    }

    fn with(options: ApiServerOptions) -> Cluster {
        Cluster { server: ApiServer::new(options.defaulting(true).request_log(1_000_000)) }
    }

    pub(crate) fn target(&self) -> KubeTarget {
        KubeTarget::new(kube::Client::new(self.server.clone(), "default"), "embedded")
    }

    /// Requests that changed stored state, from the server's request log.
    pub(crate) fn writes(&self) -> usize {
        self.server.requests().iter().filter(|r| r.wrote).count()
    }

    /// Requests other than reads, whether they changed anything or not.
    pub(crate) fn write_requests(&self) -> usize {
        self.server.requests().iter().filter(|r| r.method != "GET").count()
    }

    /// The next writes (PATCH or DELETE, in order) meet these faults, one each.
    pub(crate) fn fail_next_writes(&self, faults: &[FaultAction]) {
        for action in faults {
            self.server.inject(Fault::new(action.clone()).method("PATCH").times(1));
        }
    }

    /// Every request waits this long.
    pub(crate) fn latency(&self, latency: Duration) {
        self.server.clear_faults();
        if !latency.is_zero() {
            self.server.inject(Fault::new(FaultAction::Delay(latency)));
        }
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
