//! The fixture table: one case per folder of `tests/fixtures/diff/`.
//!
//! Each case has `desired.yaml` (what Git renders; may be empty), and optionally `live.yaml`
//! (what the target holds), `last-applied.yaml` (what was applied last; its objects are also
//! the inventory, so an object there and not desired is a prune candidate), `crds.yaml` (CRDs
//! added to the schema) and `options.yaml` (`argocd:` ignoreDifferences entries, `flux:` drift
//! ignore rules, `fieldManager:`, `lastAppliedAnnotation:`). The expected output is
//! `expected.txt`: the summary, unchanged objects included. `expected-unified.txt`, where
//! present, locks the unified diff too. Every update's JSON Patch must turn the live object into
//! the object after the sync.
//!
//! `UPDATE_EXPECT=1 cargo test -p gitops-diff --test diff` rewrites the expected files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[path = "../../../tests/support/fixture_table.rs"]
mod fixture_table;
use fixture_table::{compare, run_table};

use gitops_core::schema::Schema;
use gitops_core::yaml::ReadOptions;
use gitops_core::{Action, Inventory, ManifestSet, Object, ObjectRef, parse_manifests};
use gitops_diff::{IgnoreRule, Inputs, OutputOptions, ThreeWayDiff, summary, unified};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/diff")
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

fn by_ref(objects: Vec<Object>) -> BTreeMap<ObjectRef, Object> {
    objects.into_iter().map(|o| (o.object_ref(), o)).collect()
}

fn options(dir: &Path) -> ThreeWayDiff {
    let mut options = ThreeWayDiff::default();
    let crds = read_objects(dir, "crds.yaml");
    if !crds.is_empty() {
        let mut schema = Schema::new();
        for crd in &crds {
            schema.add_crd(crd).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        options = options.schema(schema);
    }
    let Ok(text) = std::fs::read_to_string(dir.join("options.yaml")) else {
        return options;
    };
    let documents = gitops_core::yaml::parse_documents(&text, &ReadOptions::default()).expect("options.yaml parses");
    let config: Value = documents.into_iter().next().map(|d| d.value).expect("one document");
    for rule in config.get("argocd").and_then(Value::as_array).into_iter().flatten() {
        options = options.ignore(IgnoreRule::from_argocd(rule).expect("valid Argo CD rule"));
    }
    for rule in config.get("flux").and_then(Value::as_array).into_iter().flatten() {
        options = options.ignore(IgnoreRule::from_flux(rule).expect("valid Flux rule"));
    }
    if let Some(manager) = config.get("fieldManager").and_then(Value::as_str) {
        options = options.field_manager(manager);
    }
    if let Some(use_it) = config.get("lastAppliedAnnotation").and_then(Value::as_bool) {
        options = options.last_applied_annotation(use_it);
    }
    options
}

/// Runs one case; returns the failures.
fn run(dir: &Path, update: bool) -> Vec<String> {
    let desired = ManifestSet::from_manifests(
        read_objects(dir, "desired.yaml")
            .into_iter()
            .map(|object| gitops_core::Manifest { object, origin: gitops_core::Origin::generated("desired.yaml") }),
    )
    .expect("unique desired objects");
    let live = by_ref(read_objects(dir, "live.yaml"));
    let last = by_ref(read_objects(dir, "last-applied.yaml"));
    let mut inventory = Inventory::default();
    for (object, applied) in &last {
        inventory.insert(object.clone(), applied.api_version());
    }
    let inputs = Inputs::new(&desired, &live, &inventory).last_applied(&last);
    let diff = options(dir).diff(&inputs);

    let mut failures = Vec::new();
    for d in diff.diffs.iter().filter(|d| d.action == Action::Update) {
        let (Some(patch), Some(mut patched)) = (d.patch(), d.before.clone()) else {
            failures.push(format!("{}: an update without a patch", d.object));
            continue;
        };
        if let Err(e) = json_patch::patch(&mut patched, &patch) {
            failures.push(format!("{}: the patch does not apply: {e}", d.object));
        } else if Some(&patched) != d.after.as_ref() {
            failures.push(format!("{}: the patch does not give the object after the sync", d.object));
        }
    }

    let outputs = [
        ("expected.txt", summary(&diff, &OutputOptions::default().show_unchanged(true))),
        ("expected-unified.txt", unified(&diff, &OutputOptions::default())),
    ];
    for (file, actual) in outputs {
        if file != "expected.txt" && !dir.join(file).exists() {
            continue;
        }
        compare(dir, file, &actual, update, &mut failures);
    }
    failures
}

#[test]
fn fixture_table() {
    run_table(&fixtures(), 60, run);
}
