//! `gitops render CHART` prints what `helm template` prints (the goldens of the chart conformance
//! suite), errors are Helm's, and a chart's Helm hooks become plan phases.

use std::path::{Path, PathBuf};

use super::{gitops, stderr, stdout};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helm").join(name)
}

fn golden(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("expected").join(name)).expect("the golden exists")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readable fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn render_prints_what_helm_template_prints() {
    let dir = fixture("helm-create");
    let out = gitops(&["render", "chart"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), golden(&dir, "default.out"));

    let out = gitops(
        &["render", "chart", "--release", "shop", "-f", "values-prod.yaml", "--set", "image.pullPolicy=Always"],
        &dir,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), golden(&dir, "prod-values.out"));

    let dir = fixture("umbrella-globals");
    let out = gitops(
        &[
            "render",
            "chart",
            "--release",
            "shop",
            "--set",
            "worker.enabled=false",
            "--set",
            "global.env=prod",
            "--set",
            "api.queue=priority",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), golden(&dir, "no-worker.out"));
}

#[test]
fn render_reports_helms_errors() {
    let dir = fixture("error-required");
    let out = gitops(&["render", "chart"], &dir);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(golden(&dir, "missing-host.err").trim_end()), "{}", stderr(&out));

    let dir = fixture("error-parse");
    let out = gitops(&["render", "chart"], &dir);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("parse error at (broken/templates/broken.yaml:8): unexpected \"}\" in else"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn helm_hooks_become_plan_phases() {
    let work = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture("hooks").join("chart"), &work.path().join("chart"));
    let target = format!("dir:{}", work.path().join("out").display());
    let out = gitops(&["plan", "chart", "--target", &target, "--name", "hooks"], work.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let line_of = |needle: &str| {
        text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle} is planned:\n{text}"))
    };
    let pre_sync = line_of("PreSync");
    let post_sync = line_of("PostSync");
    // pre-install hooks run before the release's objects, post-install hooks after them.
    assert!(pre_sync < line_of("Job/default/release-name-migrate"), "{text}");
    assert!(line_of("ConfigMap/default/release-name-hook-config") > pre_sync, "{text}");
    assert!(line_of("Deployment/default/release-name-app") < post_sync, "{text}");
    assert!(line_of("Job/default/release-name-notify") > post_sync, "{text}");
    // Test hooks are not part of a sync (`test-success` is `test`); a hook Helm does not know is
    // dropped by the render.
    assert!(text.contains("! skip Pod/default/release-name-test (a hook for an event a sync does not run)"), "{text}");
    assert!(text.contains("! skip ServiceAccount/default/release-name-sa"), "{text}");
    assert!(!text.contains("warning"), "hook names are compared in lower case, as Helm does:\n{text}");
    assert!(!text.contains("unknown-hook"), "{text}");
}
