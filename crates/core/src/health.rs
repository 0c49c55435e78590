//! `Health`: how an object, or an application, is doing.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The health of an object, ordered from best to worst so that an application's health is the
/// maximum of its objects' (`Healthy < Suspended < Progressing < Unknown < Missing < Degraded`).
///
/// ```
/// use gitops_core::Health;
/// let worst = [Health::Healthy, Health::Progressing, Health::Healthy].into_iter().max();
/// assert_eq!(worst, Some(Health::Progressing));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub enum Health {
    /// Ready and serving.
    #[default]
    Healthy,
    /// Paused on purpose (a suspended CronJob, a paused Deployment).
    Suspended,
    /// Not ready yet, but making progress.
    Progressing,
    /// Health cannot be assessed.
    Unknown,
    /// The object does not exist.
    Missing,
    /// Failed, or stuck.
    Degraded,
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Health::Healthy => "Healthy",
            Health::Suspended => "Suspended",
            Health::Progressing => "Progressing",
            Health::Unknown => "Unknown",
            Health::Missing => "Missing",
            Health::Degraded => "Degraded",
        })
    }
}
