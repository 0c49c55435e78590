//! What a reconcile reports: sync status, health, revisions, conditions, the last error and how
//! long each stage took; and where it is written (a JSON file per application, or a custom
//! resource's status subresource).

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gitops_core::Health;
use serde::{Deserialize, Serialize};

/// Whether the live objects match the desired ones (Argo CD's sync status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SyncStatus {
    /// Not compared yet, or the comparison failed.
    #[default]
    Unknown,
    /// Every object is as Git says (fields we own), and nothing owned is left to prune.
    Synced,
    /// Something differs: a new revision not applied (manual policy), drift, or a failed sync.
    OutOfSync,
}

impl fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyncStatus::Unknown => "Unknown",
            SyncStatus::Synced => "Synced",
            SyncStatus::OutOfSync => "OutOfSync",
        })
    }
}

/// A stage of a reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Stage {
    /// Fetching the repository and resolving the revision.
    Fetch,
    /// Rendering the manifests.
    Render,
    /// Reading the live state, diffing and planning.
    Diff,
    /// Applying the plan (health waits included).
    Apply,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 4] = [Stage::Fetch, Stage::Render, Stage::Diff, Stage::Apply];

    /// The stage's name as metrics and logs spell it (`fetch`, `render`, `diff`, `apply`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Fetch => "fetch",
            Stage::Render => "render",
            Stage::Diff => "diff",
            Stage::Apply => "apply",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long each stage of one reconcile took; a stage that did not run is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageDurations {
    /// `(stage, duration)` in the order the stages ran.
    #[serde(with = "durations")]
    pub stages: Vec<(Stage, Duration)>,
}

impl StageDurations {
    /// Records a stage.
    pub fn record(&mut self, stage: Stage, duration: Duration) {
        self.stages.push((stage, duration));
    }

    /// How long `stage` took, if it ran.
    pub fn get(&self, stage: Stage) -> Option<Duration> {
        self.stages.iter().find(|(s, _)| *s == stage).map(|(_, d)| *d)
    }
}

mod durations {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Stage;

    pub(super) fn serialize<S: Serializer>(stages: &[(Stage, Duration)], s: S) -> Result<S::Ok, S::Error> {
        let map: serde_json::Map<String, serde_json::Value> =
            stages.iter().map(|(stage, d)| (stage.as_str().to_owned(), serde_json::json!(d.as_secs_f64()))).collect();
        map.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(Stage, Duration)>, D::Error> {
        let map = std::collections::BTreeMap::<Stage, f64>::deserialize(d)?;
        Ok(map
            .into_iter()
            .map(|(stage, secs)| (stage, Duration::try_from_secs_f64(secs).unwrap_or_default()))
            .collect())
    }
}

/// What a condition is about. A condition is listed while it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ConditionType {
    /// The repository could not be fetched or the revision resolved.
    FetchFailed,
    /// The revision does not render (a bad commit): the last good state stays applied.
    RenderFailed,
    /// The live state could not be read, or the plan could not be made.
    ComparisonFailed,
    /// Applying failed.
    SyncFailed,
    /// A rollback pinned the application at a revision.
    Pinned,
    /// A `dependsOn` application is not Synced and Healthy yet: this one waits.
    DependencyNotReady,
    /// Live objects differ from Git and the policy does not heal them (manual, or no selfHeal).
    Drifted,
}

/// One condition, in Kubernetes' shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// What it is about.
    #[serde(rename = "type")]
    pub type_: ConditionType,
    /// What happened, for people.
    pub message: String,
    /// When the condition started to hold (RFC 3339).
    pub last_transition_time: String,
}

/// The status of one application, as written to the state directory or to the `Application`
/// resource's status subresource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApplicationStatus {
    /// The application.
    pub name: String,
    /// Synced, OutOfSync or Unknown.
    pub sync: SyncStatus,
    /// The worst health of the application's objects.
    pub health: Health,
    /// Why the health is not Healthy (the worst object and its reason).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub health_message: String,
    /// The revision last synced completely (from the inventory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_revision: Option<String>,
    /// The revision the last reconcile compared against (the source's, or the pin's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    /// The pin a rollback set, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
    /// How many objects the application has.
    pub objects: usize,
    /// Conditions that hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The last reconcile's error, cause chain included; absent when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the last reconcile ended (RFC 3339).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reconciled_at: String,
    /// When the application was last synced with writes (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_synced_at: Option<String>,
    /// How long each stage of the last reconcile took, in seconds.
    #[serde(default)]
    pub durations: StageDurations,
    /// How many reconciles in a row failed.
    #[serde(default)]
    pub failures: u32,
}

impl ApplicationStatus {
    /// Whether a dependent may proceed: Synced and Healthy.
    pub fn is_ready(&self) -> bool {
        self.sync == SyncStatus::Synced && self.health == Health::Healthy
    }

    /// The condition of `type_`, if it holds.
    pub fn condition(&self, type_: ConditionType) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// The body of a merge patch that sets this as a custom resource's `status` (for
    /// `PATCH …/status` with `application/merge-patch+json`).
    ///
    /// ```
    /// use gitops_reconcile::ApplicationStatus;
    /// let patch = ApplicationStatus::default().status_patch();
    /// assert_eq!(patch["status"]["sync"], "Unknown");
    /// ```
    pub fn status_patch(&self) -> serde_json::Value {
        serde_json::json!({ "status": self })
    }
}

/// Where statuses are written.
pub trait StatusWriter: Send + Sync {
    /// Writes the status of one application (replacing the previous one).
    fn write(&self, status: &ApplicationStatus) -> Result<(), std::io::Error>;
}

/// Writes one JSON file per application, `DIR/NAME.json`, atomically (a temporary file in the
/// same folder, synced, then renamed over the old one), so a reader never sees half a status.
#[derive(Debug, Clone)]
pub struct StatusDir {
    dir: PathBuf,
}

impl StatusDir {
    /// Statuses under `dir` (created when missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StatusDir { dir: dir.into() }
    }

    /// The file of `application`.
    pub fn path(&self, application: &str) -> PathBuf {
        self.dir.join(format!("{application}.json"))
    }

    /// Reads the status of `application`, if one was written.
    pub fn read(&self, application: &str) -> Result<Option<ApplicationStatus>, std::io::Error> {
        match std::fs::read(self.path(application)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl StatusWriter for StatusDir {
    fn write(&self, status: &ApplicationStatus) -> Result<(), std::io::Error> {
        std::fs::create_dir_all(&self.dir)?;
        let mut bytes = serde_json::to_vec_pretty(status).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        write_atomically(&self.path(&status.name), &bytes)
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), std::io::Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_files_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = StatusDir::new(dir.path().join("state"));
        assert_eq!(store.read("shop").expect("read"), None);
        let mut status = ApplicationStatus { name: "shop".into(), sync: SyncStatus::Synced, ..Default::default() };
        status.durations.record(Stage::Fetch, Duration::from_millis(250));
        store.write(&status).expect("write");
        let read = store.read("shop").expect("read").expect("written");
        assert_eq!(read, status);
        let text = std::fs::read_to_string(store.path("shop")).expect("file");
        assert!(text.contains("\"sync\": \"Synced\""), "{text}");
        assert!(text.contains("\"fetch\": 0.25"), "{text}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("state")).expect("dir").collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left");
    }
}
