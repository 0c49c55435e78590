//! gitops-apply's integration tests: the target contract (every target, the Kubernetes one over
//! the embedded API server included), the applier, and syncs against the embedded API server.

#[cfg(feature = "kube")]
mod harness;
mod hooks;
#[cfg(feature = "kube")]
mod kube;
#[cfg(feature = "kube")]
mod kubectl;
#[cfg(feature = "kube")]
mod observe;
#[cfg(feature = "kube")]
mod sync;
mod targets;
