//! A plan as an artifact: saved, reviewed, then run only if the world has not moved.
//!
//! `gitops plan -o json` saves a [`Plan`] whose steps record the version of each live object
//! ([`Plan::pin_live`]). `gitops sync --plan FILE` reads it back and calls [`Plan::verify`] with a
//! fresh render and the current live objects: any object changed on the target, rendered
//! differently, added or removed makes the plan stale, and nothing is run.
//!
//! Secret values are never written to a plan (they are masked), so a plan alone cannot be
//! applied: [`Plan::verify`] takes the objects to apply from the fresh render, after checking
//! that everything but Secret values is what the plan shows. Secret values themselves are not
//! pinned by a plan.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use gitops_core::{ManifestSet, Object, ObjectRef};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Moved, StalePlan};
use crate::model::Plan;

/// The version of a live object when a plan was made.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LiveVersion {
    /// The object did not exist.
    Absent,
    /// Its `metadata.resourceVersion`.
    ResourceVersion(String),
    /// A SHA-256 of its JSON, for targets without resource versions.
    Digest(String),
}

impl LiveVersion {
    /// The version of a live object (`None`: absent).
    pub fn of(live: Option<&Object>) -> LiveVersion {
        let Some(object) = live else { return LiveVersion::Absent };
        if let Some(Value::String(version)) = object.metadata().get("resourceVersion") {
            return LiveVersion::ResourceVersion(version.clone());
        }
        let bytes = serde_json::to_vec(object.as_map()).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        let mut hex = String::with_capacity(64);
        for byte in digest {
            let _ = write!(hex, "{byte:02x}");
        }
        LiveVersion::Digest(hex)
    }
}

impl fmt::Display for LiveVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveVersion::Absent => f.write_str("absent"),
            LiveVersion::ResourceVersion(v) => write!(f, "resourceVersion {v}"),
            LiveVersion::Digest(d) => write!(f, "sha256 {}", d.get(..12).unwrap_or(d)),
        }
    }
}

/// A Secret with its values replaced; other objects as they are.
pub(crate) fn masked(object: &Object) -> Value {
    let mut value = object.to_value();
    if object.kind() == "Secret" {
        for field in ["data", "stringData"] {
            if let Some(Value::Object(entries)) = value.get_mut(field) {
                for entry in entries.values_mut() {
                    *entry = Value::String("<masked>".to_owned());
                }
            }
        }
    }
    value
}

/// Serializes the object to apply with Secret values replaced, so a printed or saved plan never
/// holds them (the project's rule for plans, diffs, logs and errors).
#[allow(clippy::ref_option)] // serde's `serialize_with` passes the field as `&Option<T>`
pub(crate) fn serialize_masked<S: serde::Serializer>(
    desired: &Option<Object>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match desired {
        None => serializer.serialize_none(),
        Some(object) => masked(object).serialize(serializer),
    }
}

impl Plan {
    /// Records the version of each step's live object (`live` holds the target's copies;
    /// objects missing from it are recorded as absent), for [`Plan::verify`].
    pub fn pin_live(&mut self, live: &BTreeMap<ObjectRef, Object>) {
        for step in &mut self.steps {
            step.live = Some(LiveVersion::of(live.get(&step.object)));
        }
    }

    /// Checks a saved plan against a fresh render and the current live objects, and returns it
    /// ready to run, with the objects to apply taken from `desired` (so Secrets carry their
    /// values). Refuses, listing everything that moved, when an object changed on the target,
    /// renders differently (Secret values aside), appeared or disappeared.
    pub fn verify(&self, desired: &ManifestSet, live: &BTreeMap<ObjectRef, Object>) -> Result<Plan, StalePlan> {
        let mut moved = BTreeSet::new();
        let mut plan = self.clone();
        let mut planned = BTreeSet::new();
        for step in &mut plan.steps {
            planned.insert(step.object.clone());
            let now = LiveVersion::of(live.get(&step.object));
            match &step.live {
                None => {
                    moved.insert(Moved::Unpinned { object: step.object.clone() });
                }
                Some(version) if *version != now => {
                    moved.insert(Moved::Live {
                        object: step.object.clone(),
                        planned: version.to_string(),
                        now: now.to_string(),
                    });
                }
                Some(_) => {}
            }
            let fresh = desired.get(&step.object).map(|m| &m.object);
            match (&step.desired, fresh) {
                (Some(saved), Some(fresh)) => {
                    if masked(saved) == masked(fresh) {
                        step.desired = Some(fresh.clone());
                    } else {
                        moved.insert(Moved::Source { object: step.object.clone() });
                    }
                }
                (Some(_), None) => {
                    moved.insert(Moved::Gone { object: step.object.clone() });
                }
                (None, Some(_)) if step.action == gitops_core::Action::Delete => {
                    moved.insert(Moved::New { object: step.object.clone() });
                }
                _ => {}
            }
        }
        for manifest in desired {
            let object = manifest.object_ref();
            let left_out = self.skipped.iter().any(|s| s.object == object);
            if !planned.contains(&object) && !left_out {
                moved.insert(Moved::New { object });
            }
        }
        if moved.is_empty() { Ok(plan) } else { Err(StalePlan { moved: moved.into_iter().collect() }) }
    }
}
