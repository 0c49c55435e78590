//! What the applier reports while it runs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use gitops_core::{Action, ObjectRef};

use crate::health::HealthStatus;

/// One thing that happened during a run, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A wave begins: `steps` objects to apply or delete.
    WaveStarted {
        /// The wave's ordinal (0 first).
        wave: usize,
        /// How many steps it has.
        steps: usize,
    },
    /// An object was created, updated or deleted (or would be, in a dry run).
    Applied {
        /// The object.
        object: ObjectRef,
        /// What was done.
        action: Action,
    },
    /// An object was already as desired: nothing was written.
    Unchanged {
        /// The object.
        object: ObjectRef,
    },
    /// A step was left out (an object another ApplySet owns, for instance).
    Skipped {
        /// The object.
        object: ObjectRef,
        /// Why.
        reason: String,
    },
    /// A call failed and is retried.
    Retrying {
        /// The object, if the call was about one.
        object: Option<ObjectRef>,
        /// The try about to be made (2 for the first retry).
        attempt: u32,
        /// The error.
        error: String,
    },
    /// A step failed for good.
    Failed {
        /// The object.
        object: ObjectRef,
        /// The error.
        error: String,
    },
    /// An object's health changed while the applier waited for it.
    HealthChanged {
        /// The object.
        object: ObjectRef,
        /// Its health now.
        status: HealthStatus,
    },
    /// A hook ran to its end.
    HookFinished {
        /// The hook object.
        object: ObjectRef,
        /// How it ended.
        status: HealthStatus,
    },
    /// A wave ended.
    WaveFinished {
        /// The wave's ordinal.
        wave: usize,
        /// How long it took, health waits included.
        elapsed: Duration,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::WaveStarted { wave, steps } => write!(f, "wave {wave}: {steps} steps"),
            Event::Applied { object, action } => write!(f, "{} {object} {action}d", action.symbol()),
            Event::Unchanged { object } => write!(f, "= {object} unchanged"),
            Event::Skipped { object, reason } => write!(f, "! {object} skipped: {reason}"),
            Event::Retrying { object: Some(object), attempt, error } => {
                write!(f, "  {object}: retrying (try {attempt}): {error}")
            }
            Event::Retrying { object: None, attempt, error } => write!(f, "  retrying (try {attempt}): {error}"),
            Event::Failed { object, error } => write!(f, "x {object} failed: {error}"),
            Event::HealthChanged { object, status } => write!(f, "  {object} is {status}"),
            Event::HookFinished { object, status } => write!(f, "  hook {object} finished: {status}"),
            Event::WaveFinished { wave, elapsed } => write!(f, "wave {wave} done in {:.2}s", elapsed.as_secs_f64()),
        }
    }
}

/// Where events go: a callback, called from the applier's task (keep it quick; send to a
/// channel to do more).
pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;
