//! Prometheus metrics in the text exposition format (version 0.0.4), written by hand: a few
//! counters, gauges and one histogram do not need a metrics framework.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `gitops_reconcile_duration_seconds` | histogram | `stage` (fetch, render, diff, apply) |
//! | `gitops_reconcile_total` | counter | `application`, `result` (success, error) |
//! | `gitops_reconcile_errors_total` | counter | `application`, `stage` |
//! | `gitops_application_sync_status` | gauge (1 for the current status) | `application`, `status` |
//! | `gitops_application_health` | gauge (1 for the current health) | `application`, `health` |
//! | `gitops_application_objects` | gauge | `application` |
//!
//! The duration histogram has no application label, so its size does not grow with the number
//! of applications; the per-application series are a handful each.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use gitops_core::Health;

use crate::status::{ApplicationStatus, Stage, SyncStatus};

/// The histogram's bucket bounds, in seconds.
const BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

const SYNC_STATUSES: [SyncStatus; 3] = [SyncStatus::Synced, SyncStatus::OutOfSync, SyncStatus::Unknown];
const HEALTHS: [Health; 6] =
    [Health::Healthy, Health::Suspended, Health::Progressing, Health::Unknown, Health::Missing, Health::Degraded];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Cumulative counts per bucket bound.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(self.buckets.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Debug, Default, Clone)]
struct AppMetrics {
    success: u64,
    errors: u64,
    errors_by_stage: BTreeMap<Stage, u64>,
    sync: SyncStatus,
    health: Health,
    objects: usize,
}

#[derive(Debug, Default)]
struct Inner {
    durations: BTreeMap<Stage, Histogram>,
    apps: BTreeMap<String, AppMetrics>,
}

/// The reconciler's metrics. Shared (`Arc`) between the loop, which records, and the HTTP
/// endpoint, which renders them.
///
/// ```
/// use gitops_reconcile::{ApplicationStatus, Metrics, Stage};
/// let metrics = Metrics::default();
/// let mut status = ApplicationStatus::default();
/// status.name = "shop".into();
/// status.durations.record(Stage::Fetch, std::time::Duration::from_millis(30));
/// metrics.record(&status, None);
/// let text = metrics.render();
/// assert!(text.contains(r#"gitops_reconcile_duration_seconds_count{stage="fetch"} 1"#));
/// assert!(text.contains(r#"gitops_reconcile_total{application="shop",result="success"} 1"#));
/// ```
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Records one reconcile: its stage durations, result and the application's status;
    /// `failed` is the stage it failed in.
    pub fn record(&self, status: &ApplicationStatus, failed: Option<Stage>) {
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (stage, duration) in &status.durations.stages {
            inner.durations.entry(*stage).or_default().observe(duration.as_secs_f64());
        }
        let app = inner.apps.entry(status.name.clone()).or_default();
        match failed {
            Some(stage) => {
                app.errors += 1;
                *app.errors_by_stage.entry(stage).or_default() += 1;
            }
            None => app.success += 1,
        }
        app.sync = status.sync;
        app.health = status.health;
        app.objects = status.objects;
    }

    /// Forgets an application (it left the definition).
    pub fn remove(&self, application: &str) {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).apps.remove(application);
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        header(&mut out, "gitops_reconcile_duration_seconds", "histogram", "Duration of each reconcile stage.");
        for stage in Stage::ALL {
            let histogram = inner.durations.get(&stage).cloned().unwrap_or_default();
            let stage = stage.as_str();
            for (bound, count) in BUCKETS.iter().zip(histogram.buckets) {
                let _ = writeln!(
                    out,
                    "gitops_reconcile_duration_seconds_bucket{{stage=\"{stage}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "gitops_reconcile_duration_seconds_bucket{{stage=\"{stage}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(out, "gitops_reconcile_duration_seconds_sum{{stage=\"{stage}\"}} {}", histogram.sum);
            let _ = writeln!(out, "gitops_reconcile_duration_seconds_count{{stage=\"{stage}\"}} {}", histogram.count);
        }
        header(&mut out, "gitops_reconcile_total", "counter", "Reconciles by result.");
        for (name, app) in &inner.apps {
            let name = escape(name);
            let _ =
                writeln!(out, "gitops_reconcile_total{{application=\"{name}\",result=\"success\"}} {}", app.success);
            let _ = writeln!(out, "gitops_reconcile_total{{application=\"{name}\",result=\"error\"}} {}", app.errors);
        }
        header(&mut out, "gitops_reconcile_errors_total", "counter", "Failed reconciles by the stage that failed.");
        for (name, app) in &inner.apps {
            let name = escape(name);
            for stage in Stage::ALL {
                let count = app.errors_by_stage.get(&stage).copied().unwrap_or(0);
                let _ =
                    writeln!(out, "gitops_reconcile_errors_total{{application=\"{name}\",stage=\"{stage}\"}} {count}");
            }
        }
        header(&mut out, "gitops_application_sync_status", "gauge", "1 for the application's current sync status.");
        for (name, app) in &inner.apps {
            let name = escape(name);
            for status in SYNC_STATUSES {
                let value = u8::from(app.sync == status);
                let _ = writeln!(
                    out,
                    "gitops_application_sync_status{{application=\"{name}\",status=\"{status}\"}} {value}"
                );
            }
        }
        header(&mut out, "gitops_application_health", "gauge", "1 for the application's current health.");
        for (name, app) in &inner.apps {
            let name = escape(name);
            for health in HEALTHS {
                let value = u8::from(app.health == health);
                let _ =
                    writeln!(out, "gitops_application_health{{application=\"{name}\",health=\"{health}\"}} {value}");
            }
        }
        header(&mut out, "gitops_application_objects", "gauge", "Objects the application manages.");
        for (name, app) in &inner.apps {
            let _ = writeln!(out, "gitops_application_objects{{application=\"{}\"}} {}", escape(name), app.objects);
        }
        out
    }
}

fn header(out: &mut String, name: &str, type_: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {type_}");
}

/// Escapes a label value (`\`, `"` and newlines).
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn exposition_format() {
        let metrics = Metrics::default();
        let mut status = ApplicationStatus {
            name: "a\"b".into(),
            sync: SyncStatus::OutOfSync,
            health: Health::Degraded,
            objects: 3,
            ..ApplicationStatus::default()
        };
        status.durations.record(Stage::Render, Duration::from_millis(20));
        metrics.record(&status, Some(Stage::Apply));
        metrics.record(&status, None);
        let text = metrics.render();
        assert!(text.contains("# TYPE gitops_reconcile_duration_seconds histogram\n"), "{text}");
        assert!(text.contains("gitops_reconcile_duration_seconds_bucket{stage=\"render\",le=\"0.01\"} 0\n"));
        assert!(text.contains("gitops_reconcile_duration_seconds_bucket{stage=\"render\",le=\"0.025\"} 2\n"));
        assert!(text.contains("gitops_reconcile_duration_seconds_bucket{stage=\"render\",le=\"+Inf\"} 2\n"));
        assert!(text.contains("gitops_reconcile_total{application=\"a\\\"b\",result=\"error\"} 1\n"));
        assert!(text.contains("gitops_reconcile_errors_total{application=\"a\\\"b\",stage=\"apply\"} 1\n"));
        assert!(text.contains("gitops_application_sync_status{application=\"a\\\"b\",status=\"OutOfSync\"} 1\n"));
        assert!(text.contains("gitops_application_health{application=\"a\\\"b\",health=\"Degraded\"} 1\n"));
        assert!(text.contains("gitops_application_objects{application=\"a\\\"b\"} 3\n"));
        metrics.remove("a\"b");
        assert!(!metrics.render().contains("application="));
    }
}
