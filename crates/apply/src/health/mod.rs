//! Health assessment, kstatus-style: a pure function per kind, overridable by users.
//!
//! [`HealthChecks`] maps a group and kind to a [`HealthCheck`]; [`HealthChecks::default`] holds
//! the built-in checks (see [`builtin`]) and falls back to [`builtin::generic`], which reads the
//! `Ready` / `Available` conditions and `observedGeneration` that most controllers publish.
//!
//! ```
//! use gitops_apply::health::{HealthChecks, HealthStatus};
//! use gitops_core::{Health, Object};
//! use serde_json::json;
//!
//! let job = Object::from_value(json!({
//!     "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "shop"},
//!     "status": {"conditions": [{"type": "Complete", "status": "True"}]}
//! }))?;
//! assert_eq!(HealthChecks::default().assess(&job).health, Health::Healthy);
//!
//! // A user check for a custom kind: healthy when `.status.phase` is `Running`.
//! let checks = HealthChecks::default().with("example.com", "Widget", |o: &Object| {
//!     match o.pointer("/status/phase").and_then(|p| p.as_str()) {
//!         Some("Running") => HealthStatus::healthy(),
//!         _ => HealthStatus::new(Health::Progressing, "widget not running"),
//!     }
//! });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod builtin;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use gitops_core::{Health, Object};

/// An object's health and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthStatus {
    /// The health.
    pub health: Health,
    /// Why, in a few words (empty when healthy).
    pub message: String,
}

impl HealthStatus {
    /// A health with a reason.
    pub fn new(health: Health, message: impl Into<String>) -> Self {
        HealthStatus { health, message: message.into() }
    }

    /// Healthy, with no message.
    pub fn healthy() -> Self {
        HealthStatus { health: Health::Healthy, message: String::new() }
    }

    /// Progressing, with a reason.
    pub fn progressing(message: impl Into<String>) -> Self {
        HealthStatus::new(Health::Progressing, message)
    }

    /// Degraded, with a reason.
    pub fn degraded(message: impl Into<String>) -> Self {
        HealthStatus::new(Health::Degraded, message)
    }

    /// Whether a wait for this object is over: healthy, suspended or failed for good.
    pub fn is_settled(&self) -> bool {
        matches!(self.health, Health::Healthy | Health::Suspended | Health::Degraded)
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.health)
        } else {
            write!(f, "{}: {}", self.health, self.message)
        }
    }
}

/// Assesses one kind's health from the live object. Implemented for any
/// `Fn(&Object) -> HealthStatus`.
pub trait HealthCheck: Send + Sync {
    /// The object's health. Must be pure: the same object gives the same answer.
    fn check(&self, object: &Object) -> HealthStatus;
}

impl<F: Fn(&Object) -> HealthStatus + Send + Sync> HealthCheck for F {
    fn check(&self, object: &Object) -> HealthStatus {
        self(object)
    }
}

/// The health checks by group and kind, with a generic fallback.
#[derive(Clone)]
pub struct HealthChecks {
    by_kind: HashMap<(String, String), Arc<dyn HealthCheck>>,
    fallback: Arc<dyn HealthCheck>,
}

impl fmt::Debug for HealthChecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kinds: Vec<String> = self.by_kind.keys().map(|(g, k)| format!("{k}.{g}")).collect();
        kinds.sort();
        f.debug_struct("HealthChecks").field("kinds", &kinds).finish_non_exhaustive()
    }
}

impl Default for HealthChecks {
    /// The built-in checks.
    fn default() -> Self {
        let mut checks = HealthChecks::empty();
        for (group, kind, check) in builtin::CHECKS {
            checks.by_kind.insert(((*group).to_owned(), (*kind).to_owned()), Arc::new(*check));
        }
        checks
    }
}

impl HealthChecks {
    /// No kind-specific checks: everything goes to [`builtin::generic`].
    pub fn empty() -> Self {
        HealthChecks { by_kind: HashMap::new(), fallback: Arc::new(builtin::generic) }
    }

    /// Sets (or replaces) the check for a group and kind (`""` for the core group).
    #[must_use]
    pub fn with(mut self, group: &str, kind: &str, check: impl HealthCheck + 'static) -> Self {
        self.by_kind.insert((group.to_owned(), kind.to_owned()), Arc::new(check));
        self
    }

    /// Replaces the fallback for kinds without their own check.
    #[must_use]
    pub fn with_fallback(mut self, check: impl HealthCheck + 'static) -> Self {
        self.fallback = Arc::new(check);
        self
    }

    /// The object's health.
    pub fn assess(&self, object: &Object) -> HealthStatus {
        let group = gitops_core::split_api_version(object.api_version()).0;
        match self.by_kind.get(&(group.to_owned(), object.kind().to_owned())) {
            Some(check) => check.check(object),
            None => self.fallback.check(object),
        }
    }
}
