//! The fixture table: one case per folder of `tests/fixtures/plan/`.
//!
//! Each case has `desired.yaml` (what Git renders), and optionally `live.yaml` (what the target
//! holds; every live object is owned, so one no longer desired is a prune candidate) and
//! `options.yaml` (`prune: true`, `maxPruneShare: 0.5`, `allowMassPrune: true`). The expected
//! output is `expected.txt`: the plan as `gitops plan -v` prints it, or the error. Where present,
//! `expected.dot` and `expected.mermaid` lock those outputs too. Every case is also checked for
//! the plan's laws (dependencies in earlier waves, each object once, prunes last).
//!
//! `UPDATE_EXPECT=1 cargo test -p gitops-plan --test fixtures` rewrites the expected files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[path = "../../../tests/support/fixture_table.rs"]
mod fixture_table;
use fixture_table::{compare, run_table};

use gitops_core::yaml::ReadOptions;
use gitops_core::{Action, Inventory, ManifestSet, Object, ObjectRef, parse_manifests};
use gitops_plan::output::{TextOptions, dot, mermaid, text};
use gitops_plan::{Phase, Plan, PlanOptions, plan_with_desired};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/plan")
}

fn read_objects(dir: &Path, file: &str) -> Vec<Object> {
    let path = dir.join(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    parse_manifests(&text, file, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .map(|m| m.object)
        .collect()
}

fn options(dir: &Path) -> PlanOptions {
    let mut options = PlanOptions::default();
    let Ok(text) = std::fs::read_to_string(dir.join("options.yaml")) else {
        return options;
    };
    let documents = gitops_core::yaml::parse_documents(&text, &ReadOptions::default()).expect("options.yaml parses");
    let config: Value = documents.into_iter().next().map(|d| d.value).expect("one document");
    if let Some(prune) = config.get("prune").and_then(Value::as_bool) {
        options = options.prune(prune);
    }
    if let Some(share) = config.get("maxPruneShare").and_then(Value::as_f64) {
        options = options.max_prune_share(Some(share));
    }
    if let Some(allow) = config.get("allowMassPrune").and_then(Value::as_bool) {
        options = options.allow_mass_prune(allow);
    }
    options
}

/// The laws every plan keeps.
fn check_laws(plan: &Plan, desired: &ManifestSet) -> Vec<String> {
    let mut failures = Vec::new();
    let wave: BTreeMap<&ObjectRef, usize> = plan.steps.iter().map(|s| (&s.object, s.wave)).collect();
    for step in &plan.steps {
        for dependency in &step.depends_on {
            if wave.get(&dependency.object).is_none_or(|w| *w >= step.wave) {
                failures.push(format!("{} does not come after {}", step.object, dependency.object));
            }
        }
    }
    let planned: BTreeSet<&ObjectRef> = plan.steps.iter().map(|s| &s.object).collect();
    if planned.len() != plan.steps.len() {
        failures.push("an object has two steps".to_owned());
    }
    let skipped: BTreeSet<&ObjectRef> = plan.skipped.iter().map(|s| &s.object).collect();
    for manifest in desired {
        let object = manifest.object_ref();
        if !planned.contains(&object) && !skipped.contains(&object) {
            failures.push(format!("{object} is desired but neither planned nor skipped"));
        }
    }
    let first_prune = plan.steps.iter().position(|s| s.phase == Phase::Prune).unwrap_or(plan.steps.len());
    if plan.steps[first_prune..].iter().any(|s| s.action != Action::Delete && s.phase != Phase::SyncFail) {
        failures.push("an apply follows a prune".to_owned());
    }
    failures
}

fn run(dir: &Path, update: bool) -> Vec<String> {
    let desired_objects = read_objects(dir, "desired.yaml");
    let desired = ManifestSet::from_manifests(
        parse_manifests(
            &std::fs::read_to_string(dir.join("desired.yaml")).unwrap_or_default(),
            "desired.yaml",
            &ReadOptions::default(),
        )
        .expect("desired.yaml parses"),
    )
    .expect("desired objects are unique");
    assert_eq!(desired.len(), desired_objects.len());
    let live: BTreeMap<ObjectRef, Object> =
        read_objects(dir, "live.yaml").into_iter().map(|o| (o.object_ref(), o)).collect();
    let mut inventory = Inventory::default();
    for (r, o) in &live {
        inventory.insert(r.clone(), o.api_version());
    }
    let diff = gitops_diff::diff(&desired, &live, &inventory);
    let mut failures = Vec::new();
    let actual = match plan_with_desired(diff.clone(), &desired, &options(dir)) {
        Ok(p) => {
            failures.extend(check_laws(&p, &desired));
            let again = plan_with_desired(diff.clone(), &desired, &options(dir)).expect("plans again");
            if again != p {
                failures.push("the same input gave another plan".to_owned());
            }
            if dir.join("expected.dot").exists() || (update && dir.join("expected.mermaid").exists()) {
                compare(dir, "expected.dot", &dot(&p), update, &mut failures);
            }
            if dir.join("expected.mermaid").exists() {
                compare(dir, "expected.mermaid", &mermaid(&p), update, &mut failures);
            }
            text(&p, &TextOptions::default().verbose(true))
        }
        Err(error) => format!("error: {error}\n"),
    };
    compare(dir, "expected.txt", &actual, update, &mut failures);
    failures
}

#[test]
fn fixture_table() {
    run_table(&fixtures(), 20, run);
}
