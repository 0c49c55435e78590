//! Why a plan cannot be made, or a saved plan cannot be run.

use std::fmt;

use gitops_core::ObjectRef;

use crate::model::Reason;

/// One edge of a cycle: `from` goes after `to` because of `reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleEdge {
    /// The object that refers.
    pub from: ObjectRef,
    /// The object referred to.
    pub to: ObjectRef,
    /// How.
    pub reason: Reason,
}

impl fmt::Display for CycleEdge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.from, self.reason, self.to)
    }
}

/// One item per line, indented, after the message.
fn lines<T: fmt::Display>(items: &[T]) -> String {
    use fmt::Write as _;
    let mut out = String::new();
    for item in items {
        let _ = write!(out, "\n  {item}");
    }
    out
}

/// Why [`plan`](crate::plan) refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Objects of one phase, wave and stage refer to each other in a circle; every edge is listed
    /// with its reason, each object going after the next.
    #[error("the plan has a dependency cycle:{}", lines(edges))]
    Cycle {
        /// The edges of the cycle, each one's `to` being the next one's `from`.
        edges: Vec<CycleEdge>,
    },
    /// The plan would delete every object the application owns, or more than the allowed share.
    #[error(
        "refusing to delete {deletes} of {owned} objects{}; allow it explicitly if this is intended",
        match limit { Some(l) => format!(" (more than the allowed {:.0}%)", l * 100.0), None => " (every object)".to_owned() }
    )]
    TooManyDeletes {
        /// How many objects the plan deletes.
        deletes: usize,
        /// How many objects the application owns: those deleted plus those desired.
        owned: usize,
        /// The share exceeded, or `None` when the plan deletes everything.
        limit: Option<f64>,
    },
}

/// One way a saved plan no longer matches the world.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Moved {
    /// The live object changed since the plan was made.
    Live {
        /// The object.
        object: ObjectRef,
        /// What the plan recorded.
        planned: String,
        /// What the target holds now.
        now: String,
    },
    /// The source renders this object differently now.
    Source {
        /// The object.
        object: ObjectRef,
    },
    /// The source renders an object the plan does not know.
    New {
        /// The object.
        object: ObjectRef,
    },
    /// The plan applies an object the source no longer renders.
    Gone {
        /// The object.
        object: ObjectRef,
    },
    /// A step of the plan does not record the live state (the plan was not pinned).
    Unpinned {
        /// The object.
        object: ObjectRef,
    },
}

impl fmt::Display for Moved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Moved::Live { object, planned, now } => write!(f, "{object} changed on the target ({planned} -> {now})"),
            Moved::Source { object } => write!(f, "{object} renders differently from the plan"),
            Moved::New { object } => write!(f, "{object} is rendered but not in the plan"),
            Moved::Gone { object } => write!(f, "{object} is in the plan but no longer rendered"),
            Moved::Unpinned { object } => write!(f, "{object} has no recorded live state in the plan"),
        }
    }
}

/// A saved plan that no longer describes what a sync would do; make a new one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the plan is stale, make a new one:{}", lines(&self.moved))]
pub struct StalePlan {
    /// Everything that moved, in object order.
    pub moved: Vec<Moved>,
}
