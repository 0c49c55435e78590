//! Laws of planning, checked on generated inputs, and the plan's basic contract.

use std::collections::{BTreeMap, BTreeSet};

use gitops_core::{Action, Object, ObjectRef};
use gitops_diff::{DiffSet, ObjectDiff};
use gitops_plan::{Phase, Plan, PlanError, PlanOptions, plan};
use proptest::prelude::*;
use serde_json::json;

fn diff_of(object: &Object, action: Action) -> ObjectDiff {
    let diff = ObjectDiff::new(object.object_ref(), action, object.api_version());
    if action == Action::Delete {
        let mut diff = diff;
        diff.before = Some(object.to_value());
        diff
    } else {
        diff.with_desired(Some(object.clone()))
    }
}

fn object(api_version: &str, kind: &str, namespace: Option<&str>, name: &str, spec: serde_json::Value) -> Object {
    let mut value = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}});
    if let Some(ns) = namespace {
        value["metadata"]["namespace"] = json!(ns);
    }
    if let serde_json::Value::Object(extra) = spec {
        for (k, v) in extra {
            if k == "annotations" {
                value["metadata"]["annotations"] = v;
            } else {
                value[k] = v;
            }
        }
    }
    Object::from_value(value).expect("valid")
}

/// A generated object: one of a few kinds, in one of two namespaces, referring to others by name.
fn arb_object() -> impl Strategy<Value = (Object, Action)> {
    let kinds =
        prop::sample::select(vec!["Namespace", "ConfigMap", "Secret", "Deployment", "Widget", "CRD", "Service"]);
    (kinds, 0usize..2, "[a-c]", "[a-c]", 0usize..4, -1i64..2, 0usize..8).prop_map(
        |(kind, ns, name, other, action, wave, extra)| {
            let ns = ["x", "y"][ns];
            let mut annotations =
                if wave == 0 { json!({}) } else { json!({"argocd.argoproj.io/sync-wave": wave.to_string()}) };
            // Hooks, skips and explicit dependencies (which may close cycles).
            match extra {
                3 => annotations["argocd.argoproj.io/hook"] = json!("PreSync"),
                4 => annotations["helm.sh/hook"] = json!("post-install"),
                5 => annotations["argocd.argoproj.io/hook"] = json!("Skip"),
                6 => annotations["gitops.dev/depends-on"] = json!(format!("Deployment/{other}")),
                7 => annotations["gitops.dev/depends-on"] = json!(format!("ConfigMap/{other}, Service/{ns}/{name}")),
                _ => {}
            }
            let o = match kind {
                "Namespace" => object("v1", "Namespace", None, ns, json!({"annotations": annotations})),
                "CRD" => object(
                    "apiextensions.k8s.io/v1",
                    "CustomResourceDefinition",
                    None,
                    &format!("widgets{name}.example.com"),
                    json!({"spec": {"group": "example.com", "names": {"kind": "Widget"}}}),
                ),
                "Widget" => object("example.com/v1", "Widget", Some(ns), &name, json!({"annotations": annotations})),
                "Deployment" => object(
                    "apps/v1",
                    "Deployment",
                    Some(ns),
                    &name,
                    json!({"annotations": annotations, "spec": {"template": {"spec": {
                    "containers": [{"name": "c", "envFrom": [{"secretRef": {"name": other}}]}],
                    "volumes": [{"name": "v", "configMap": {"name": other}}]}}}}),
                ),
                "Secret" => object("v1", "Secret", Some(ns), &name, json!({"annotations": annotations})),
                "Service" => object("v1", "Service", Some(ns), &name, json!({"annotations": annotations})),
                _ => object("v1", "ConfigMap", Some(ns), &name, json!({"annotations": annotations})),
            };
            let action = [Action::Create, Action::Update, Action::Unchanged, Action::Delete][action];
            (o, action)
        },
    )
}

fn arb_diff() -> impl Strategy<Value = DiffSet> {
    prop::collection::vec(arb_object(), 0..40).prop_map(|items| {
        let mut seen = BTreeSet::new();
        let diffs =
            items.into_iter().filter(|(o, _)| seen.insert(o.object_ref())).map(|(o, a)| diff_of(&o, a)).collect();
        DiffSet { diffs }
    })
}

fn options() -> PlanOptions {
    PlanOptions::default().prune(true).allow_mass_prune(true)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Every dependency is in an earlier wave; each non-excluded object appears exactly once;
    /// prunes follow every apply; steps are sorted by wave; the plan does not depend on the
    /// order of its input.
    #[test]
    fn laws(diff in arb_diff()) {
        let p = match plan(&diff, &options()) {
            Ok(p) => p,
            Err(PlanError::Cycle { edges }) => {
                // A cycle is reported only when there is one: each edge's object refers to the
                // next edge's, and the last to the first.
                prop_assert!(edges.len() >= 2, "{edges:?}");
                for (i, e) in edges.iter().enumerate() {
                    prop_assert_eq!(&e.to, &edges[(i + 1) % edges.len()].from);
                }
                return Ok(());
            }
            Err(other) => panic!("{other}"),
        };
        let wave: BTreeMap<&ObjectRef, usize> = p.steps.iter().map(|s| (&s.object, s.wave)).collect();
        for step in &p.steps {
            for dependency in &step.depends_on {
                prop_assert!(wave[&dependency.object] < step.wave, "{} waits for {}", step.object, dependency.object);
            }
        }
        let planned: Vec<&ObjectRef> = p.steps.iter().map(|s| &s.object).collect();
        let unique: BTreeSet<&ObjectRef> = planned.iter().copied().collect();
        prop_assert_eq!(planned.len(), unique.len());
        prop_assert_eq!(planned.len() + p.skipped.len(), diff.diffs.len());
        let first_delete = p.steps.iter().position(|s| s.action == Action::Delete).unwrap_or(p.steps.len());
        prop_assert!(p.steps[first_delete..].iter().all(|s| s.action == Action::Delete && s.phase == Phase::Prune));
        prop_assert!(p.steps.windows(2).all(|w| w[0].wave <= w[1].wave));
        let waves: Vec<usize> = p.waves().map(|w| w[0].wave).collect();
        prop_assert_eq!(waves, (0..p.waves().count()).collect::<Vec<_>>(), "wave ordinals are dense");

        // Every generated diff carries its desired objects, so the consuming variant, given
        // them again as the desired set, plans the same.
        let set = gitops_core::ManifestSet::from_manifests(diff.diffs.iter().filter(|d| d.action != Action::Delete).filter_map(|d| {
            d.desired.clone().map(|object| gitops_core::Manifest { object, origin: gitops_core::Origin::generated("law") })
        }))
        .expect("unique");
        prop_assert_eq!(&p, &gitops_plan::plan_with_desired(diff.clone(), &set, &options()).expect("plans"));

        let mut reversed = diff.clone();
        reversed.diffs.reverse();
        prop_assert_eq!(&p, &plan(&reversed, &options()).expect("plans"));
        prop_assert_eq!(
            serde_json::to_string(&p).expect("serializes"),
            serde_json::to_string(&plan(&diff, &options()).expect("plans")).expect("serializes")
        );
    }

    /// A plan read back from JSON is the plan that was written.
    #[test]
    fn json_round_trip(diff in arb_diff()) {
        // Generated dependencies may form cycles; those plans have nothing to serialize.
        let Ok(p) = plan(&diff, &options()) else { return Ok(()) };
        let back: Plan = serde_json::from_str(&serde_json::to_string(&p).expect("serializes")).expect("reads back");
        prop_assert_eq!(back, p);
    }
}

#[test]
fn without_prune_owned_objects_are_orphans() {
    let cm = object("v1", "ConfigMap", Some("n"), "old", json!({}));
    let web = object("v1", "ConfigMap", Some("n"), "new", json!({}));
    let diff = DiffSet { diffs: vec![diff_of(&cm, Action::Delete), diff_of(&web, Action::Create)] };
    let p = plan(&diff, &PlanOptions::default()).expect("plans");
    assert_eq!(p.count(Action::Delete), 0);
    assert_eq!(p.orphans, [cm.object_ref()]);
}

#[test]
fn the_prune_guard_refuses_deleting_everything_or_too_much() {
    let objects: Vec<Object> =
        (0..4).map(|i| object("v1", "ConfigMap", Some("n"), &format!("c{i}"), json!({}))).collect();
    let all = DiffSet { diffs: objects.iter().map(|o| diff_of(o, Action::Delete)).collect() };
    let err = plan(&all, &PlanOptions::default().prune(true)).expect_err("deletes everything");
    assert_eq!(
        err.to_string(),
        "refusing to delete 4 of 4 objects (every object); allow it explicitly if this is intended"
    );
    assert!(plan(&all, &PlanOptions::default().prune(true).allow_mass_prune(true)).is_ok());

    let mut three = all.clone();
    three.diffs[0] = diff_of(&objects[0], Action::Unchanged);
    assert!(plan(&three, &PlanOptions::default().prune(true)).is_ok(), "no share limit by default");
    let err = plan(&three, &PlanOptions::default().prune(true).max_prune_share(Some(0.5))).expect_err("75% > 50%");
    assert!(matches!(err, PlanError::TooManyDeletes { deletes: 3, owned: 4, limit: Some(_) }), "{err}");
    assert_eq!(
        err.to_string(),
        "refusing to delete 3 of 4 objects (more than the allowed 50%); allow it explicitly if this is intended"
    );
}

#[test]
fn secret_values_never_reach_the_plan_output() {
    let secret = object(
        "v1",
        "Secret",
        Some("n"),
        "db",
        json!({"data": {"password": "c2VjcmV0"}, "stringData": {"token": "hunter2"}}),
    );
    let p = plan(&DiffSet { diffs: vec![diff_of(&secret, Action::Create)] }, &PlanOptions::default()).expect("plans");
    let json = serde_json::to_string(&p).expect("serializes");
    assert!(!json.contains("c2VjcmV0") && !json.contains("hunter2"), "{json}");
    assert!(json.contains("\"password\":\"<masked>\""), "{json}");
    for text in
        [gitops_plan::output::text(&p, &gitops_plan::output::TextOptions::default()), gitops_plan::output::dot(&p)]
    {
        assert!(!text.contains("hunter2"), "{text}");
    }
}
