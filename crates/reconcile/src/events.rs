//! Events: what happened to an application, for people (Kubernetes Events on the `Application`,
//! a log line, a chat message). The reconciler emits them through an [`EventSink`].

use std::fmt;

/// Whether an event is routine or calls for attention (Kubernetes' event types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// Routine: a sync, a heal.
    Normal,
    /// Something failed or needs attention.
    Warning,
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        })
    }
}

/// Why an event was emitted (Kubernetes' `reason`: one CamelCase word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventReason {
    /// Objects were written to bring the application to a new revision.
    Synced,
    /// Live changes to fields we own were undone (self-heal).
    DriftHealed,
    /// The live state differs from Git and the policy leaves it so.
    OutOfSync,
    /// Fetching the source failed.
    FetchFailed,
    /// Rendering failed; the last good state stays applied.
    RenderFailed,
    /// Reading the live state or planning failed.
    ComparisonFailed,
    /// Applying failed.
    SyncFailed,
    /// The application waits for the applications it depends on.
    DependencyNotReady,
}

impl EventReason {
    /// The reason as Kubernetes spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventReason::Synced => "Synced",
            EventReason::DriftHealed => "DriftHealed",
            EventReason::OutOfSync => "OutOfSync",
            EventReason::FetchFailed => "FetchFailed",
            EventReason::RenderFailed => "RenderFailed",
            EventReason::ComparisonFailed => "ComparisonFailed",
            EventReason::SyncFailed => "SyncFailed",
            EventReason::DependencyNotReady => "DependencyNotReady",
        }
    }
}

impl fmt::Display for EventReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event about an application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconcileEvent {
    /// The application.
    pub application: String,
    /// Normal or Warning.
    pub type_: EventType,
    /// Why.
    pub reason: EventReason,
    /// What happened, for people (Secret values never appear: messages name objects, not data).
    pub message: String,
}

impl ReconcileEvent {
    /// A new event.
    pub fn new(application: &str, type_: EventType, reason: EventReason, message: impl Into<String>) -> Self {
        ReconcileEvent { application: application.to_owned(), type_, reason, message: message.into() }
    }
}

/// Where events go. The controller implements it with Kubernetes Events on the `Application`;
/// [`LogEvents`] writes them to the log.
pub trait EventSink: Send + Sync {
    /// Records one event. Called from the reconciler's task: keep it quick (send to a channel to
    /// do more).
    fn emit(&self, event: &ReconcileEvent);
}

/// Writes events as structured `tracing` records (target `gitops::event`): `info` for Normal,
/// `warn` for Warning.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogEvents;

impl EventSink for LogEvents {
    fn emit(&self, event: &ReconcileEvent) {
        match event.type_ {
            EventType::Normal => tracing::info!(
                target: "gitops::event",
                application = %event.application,
                reason = %event.reason,
                "{}", event.message
            ),
            EventType::Warning => tracing::warn!(
                target: "gitops::event",
                application = %event.application,
                reason = %event.reason,
                "{}", event.message
            ),
        }
    }
}
