//! Property tests of the diff's laws:
//!
//! 1. an object compared with itself is unchanged, with no drift;
//! 2. the JSON Patch turns the live object into the object after the sync, and desired compared
//!    with that object is unchanged;
//! 3. with the live object as the last-applied one, the three-way diff is the two-way diff (an
//!    independent, plain comparison below);
//! 4. no rendering of a Secret's diff shows a secret value, plain or base64.

use std::collections::BTreeMap;

use base64::Engine;
use gitops_core::schema::{ListType, MapType, Node, Schema, Shape};
use gitops_core::{Action, Gvk, Inventory, Manifest, ManifestSet, Object, Origin};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::diffset::{ChangeKind, FieldChange};
use crate::keys::ItemIndex;
use crate::path::{Step, to_path};
use crate::scalar::scalars_equal;
use crate::walk::present;
use crate::{Inputs, OutputOptions, ThreeWayDiff, patches, summary, to_json, unified};

/// A plain two-way comparison: every field of either side counts.
struct TwoWay<'a> {
    changes: Vec<FieldChange>,
    steps: Vec<Step<'a>>,
    deduced: Node<'a>,
}

impl<'a> TwoWay<'a> {
    fn record(&mut self, kind: ChangeKind, before: Option<&Value>, after: Option<&Value>) {
        self.changes.push(FieldChange::new(to_path(&self.steps), kind, before.cloned(), after.cloned()));
    }

    fn skipped(&self, key: &str) -> bool {
        crate::walk::server_owned(&self.steps, key)
    }

    fn maps(&mut self, node: Node<'a>, desired: Option<&'a Map<String, Value>>, live: Option<&'a Map<String, Value>>) {
        let in_struct = node.shape() == Shape::Struct && node.type_name().is_some_and(|n| n.starts_with("io.k8s."));
        let empty = None;
        for (key, value) in desired.into_iter().flatten() {
            if !self.skipped(key) {
                self.steps.push(Step::Field(key));
                let child = node.field(key).unwrap_or(self.deduced);
                self.compare(child, Some(value), live.and_then(|l| l.get(key)).or(empty), in_struct);
                self.steps.pop();
            }
        }
        for (key, value) in live.into_iter().flatten() {
            if !self.skipped(key) && !desired.is_some_and(|d| d.contains_key(key)) {
                self.steps.push(Step::Field(key));
                let child = node.field(key).unwrap_or(self.deduced);
                self.compare(child, None, Some(value), in_struct);
                self.steps.pop();
            }
        }
    }

    fn compare(&mut self, node: Node<'a>, desired: Option<&'a Value>, live: Option<&'a Value>, in_struct: bool) {
        let granular = matches!(node.shape(), Shape::Struct | Shape::Map | Shape::Deduced);
        match (present(desired, node, in_struct), present(live, node, in_struct)) {
            (None, None) => {}
            (Some(Value::Object(d)), None) if granular && node.map_type() == MapType::Granular => {
                let start = self.changes.len();
                self.maps(node, Some(d), None);
                if self.changes.len() == start {
                    self.record(ChangeKind::Added, None, desired);
                }
            }
            (Some(d), None) => self.record(ChangeKind::Added, None, Some(d)),
            (None, Some(Value::Object(l))) if granular && node.map_type() == MapType::Granular => {
                self.maps(node, None, Some(l));
            }
            (None, Some(Value::Object(l))) if l.is_empty() => {}
            (None, Some(l)) => self.record(ChangeKind::Removed, Some(l), None),
            (Some(Value::Object(d)), Some(Value::Object(l))) => {
                self.maps(if granular { node } else { self.deduced }, Some(d), Some(l));
            }
            (Some(d @ Value::Array(di)), Some(l @ Value::Array(li))) => {
                let node = if node.shape() == Shape::List { node } else { self.deduced };
                self.lists(node, d, l, di, li);
            }
            (Some(d), Some(l)) if scalars_equal(node.scalar(), d, l) => {}
            (Some(d), Some(l)) => self.record(ChangeKind::Changed, Some(l), Some(d)),
        }
    }

    fn lists(&mut self, node: Node<'a>, d: &'a Value, l: &'a Value, di: &'a [Value], li: &'a [Value]) {
        let items = node.items().unwrap_or(self.deduced);
        let keys = node.list_map_keys();
        match node.list_type() {
            ListType::Map if !keys.is_empty() => {
                if let (Some(desired), Some(live)) = (ItemIndex::keyed(di, keys), ItemIndex::keyed(li, keys)) {
                    for item in di {
                        self.steps.push(Step::Key(keys, item));
                        match live.get(item) {
                            Some(have) => self.compare(items, Some(item), Some(have), false),
                            None => self.record(ChangeKind::Added, None, Some(item)),
                        }
                        self.steps.pop();
                    }
                    for item in li.iter().filter(|item| desired.find(item).is_none()) {
                        self.steps.push(Step::Key(keys, item));
                        self.record(ChangeKind::Removed, Some(item), None);
                        self.steps.pop();
                    }
                    return;
                }
            }
            ListType::Set => {
                let (Some(desired), Some(live)) = (ItemIndex::set(di), ItemIndex::set(li)) else {
                    return self.atomic(items, d, l, di, li);
                };
                for item in di.iter().filter(|item| live.find(item).is_none()) {
                    self.steps.push(Step::Item(item));
                    self.record(ChangeKind::Added, None, Some(item));
                    self.steps.pop();
                }
                for item in li.iter().filter(|item| desired.find(item).is_none()) {
                    self.steps.push(Step::Item(item));
                    self.record(ChangeKind::Removed, Some(item), None);
                    self.steps.pop();
                }
                return;
            }
            _ => {}
        }
        self.atomic(items, d, l, di, li);
    }

    fn atomic(&mut self, items: Node<'a>, d: &'a Value, l: &'a Value, di: &'a [Value], li: &'a [Value]) {
        if di.len() == li.len() {
            for (i, (want, have)) in di.iter().zip(li).enumerate() {
                self.steps.push(Step::Index(i));
                self.compare(items, Some(want), Some(have), false);
                self.steps.pop();
            }
        } else {
            self.record(ChangeKind::Changed, Some(l), Some(d));
        }
    }
}

fn two_way(desired: &Object, live: &Object) -> Vec<FieldChange> {
    let schema = Schema::builtin();
    let deduced = schema.root_or_deduced(&Gvk::new("gitops.invalid", "v0", "Unknown"));
    let mut walk = TwoWay { changes: Vec::new(), steps: Vec::new(), deduced };
    walk.maps(schema.root_or_deduced(&desired.gvk()), Some(desired.as_map()), Some(live.as_map()));
    walk.changes
}

fn object(value: Value) -> Object {
    Object::from_value(value).expect("generated objects are valid")
}

/// A Deployment from generated parts: names from small pools, so desired and live overlap.
fn deployment() -> impl Strategy<Value = Object> {
    let container = (
        prop::sample::select(vec!["web", "sidecar", "init"]),
        prop::sample::select(vec!["nginx:1", "nginx:2", "envoy"]),
        prop::collection::btree_map(prop::sample::select(vec!["A", "B", "C", "D"]), "[a-c]{0,2}", 0..4),
        prop::collection::btree_set(prop::sample::select(vec![80u16, 443, 8080]), 0..3),
        prop::option::of(prop::sample::select(vec!["500m", "0.5", "1", "1000m", "250m"])),
        prop::collection::vec("[a-c]{1,2}", 0..3),
        any::<bool>(),
    )
        .prop_map(|(name, image, env, ports, cpu, args, tcp)| {
            let mut c = json!({"name": name, "image": image});
            if !env.is_empty() {
                c["env"] = env.into_iter().rev().map(|(k, v)| json!({"name": k, "value": v})).collect();
            }
            if !ports.is_empty() {
                c["ports"] =
                    ports
                        .into_iter()
                        .map(|p| {
                            if tcp {
                                json!({"containerPort": p, "protocol": "TCP"})
                            } else {
                                json!({"containerPort": p})
                            }
                        })
                        .collect();
            }
            if let Some(cpu) = cpu {
                c["resources"] = json!({"limits": {"cpu": cpu}});
            }
            if !args.is_empty() {
                c["args"] = json!(args);
            }
            c
        });
    (
        prop::option::of(0u32..4),
        prop::collection::btree_map(prop::sample::select(vec!["app", "tier", "team"]), "[a-c]{1,2}", 0..3),
        prop::collection::vec(container, 0..3),
        prop::collection::btree_set(prop::sample::select(vec!["a.io/x", "b.io/y"]), 0..2),
        any::<bool>(),
    )
        .prop_map(|(replicas, labels, containers, finalizers, status)| {
            let mut seen = std::collections::BTreeSet::new();
            let containers: Vec<Value> =
                containers.into_iter().filter(|c| seen.insert(c["name"].as_str().map(str::to_owned))).collect();
            let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"template": {"spec": {"containers": containers}}}});
            if let Some(r) = replicas {
                d["spec"]["replicas"] = json!(r);
            }
            if !labels.is_empty() {
                d["metadata"]["labels"] = json!(labels);
            }
            if !finalizers.is_empty() {
                d["metadata"]["finalizers"] = json!(finalizers);
            }
            if status {
                d["status"] = json!({"replicas": 1});
                d["metadata"]["uid"] = json!("u-1");
            }
            object(d)
        })
}

/// Live-side noise on a copy of desired: server defaults, reordering, respelling, real edits.
fn mutate(desired: &Object, ops: &[usize]) -> Object {
    let mut v = desired.to_value();
    for op in ops {
        let containers = v.pointer_mut("/spec/template/spec/containers").and_then(Value::as_array_mut);
        match (op, containers) {
            (0, Some(containers)) => {
                for c in containers.iter_mut() {
                    c["imagePullPolicy"] = json!("IfNotPresent");
                    c["terminationMessagePath"] = json!("/dev/termination-log");
                    for p in c.get_mut("ports").and_then(Value::as_array_mut).into_iter().flatten() {
                        p["protocol"] = json!("TCP");
                    }
                }
            }
            (1, Some(containers)) => {
                containers.reverse();
                for c in containers.iter_mut() {
                    for list in ["env", "ports"] {
                        if let Some(items) = c.get_mut(list).and_then(Value::as_array_mut) {
                            items.reverse();
                        }
                    }
                }
            }
            (2, Some(containers)) => {
                for c in containers.iter_mut() {
                    if let Some(cpu) = c.pointer_mut("/resources/limits/cpu") {
                        let respelled = match cpu.as_str() {
                            Some("500m") => json!("0.5"),
                            Some("1") => json!(1),
                            Some("1000m") => json!("1"),
                            Some("0.5") => json!("500m"),
                            Some("250m") => json!(0.25),
                            _ => cpu.clone(),
                        };
                        *cpu = respelled;
                    }
                }
            }
            (3, Some(containers)) => {
                containers.pop();
            }
            (4, _) => {
                v["spec"]["replicas"] = json!(7);
            }
            (5, _) => {
                v["metadata"]["labels"]["added-by"] = json!("controller");
            }
            (6, _) => {
                v["spec"]["progressDeadlineSeconds"] = json!(600);
                v["status"] = json!({"observedGeneration": 3});
                v["metadata"]["resourceVersion"] = json!("42");
            }
            (7, _) => {
                if let Some(labels) = v.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
                    labels.shift_remove("app");
                }
            }
            _ => {}
        }
    }
    object(v)
}

/// A desired Deployment and a live one: either independent, or desired with noise.
fn pair() -> impl Strategy<Value = (Object, Object)> {
    prop_oneof![
        (deployment(), deployment()),
        (deployment(), prop::collection::vec(0usize..8, 0..4)).prop_map(|(d, ops)| {
            let live = mutate(&d, &ops);
            (d, live)
        }),
    ]
}

fn secret_value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{10,16}".prop_map(|s| format!("S3CR3T{s}"))
}

fn secret(data: &BTreeMap<String, String>, string_data: &BTreeMap<String, String>) -> Object {
    let b64 = |s: &String| Value::String(base64::engine::general_purpose::STANDARD.encode(s));
    let mut v = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
        "type": "Opaque", "data": data.iter().map(|(k, s)| (k.clone(), b64(s))).collect::<Map<_, _>>()});
    if !string_data.is_empty() {
        v["stringData"] = json!(string_data);
    }
    object(v)
}

fn set_of(objects: &[&Object]) -> ManifestSet {
    ManifestSet::from_manifests(
        objects.iter().map(|o| Manifest { object: (*o).clone(), origin: Origin::generated("law") }),
    )
    .expect("unique")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// diff(a, a) is empty, whatever the last-applied object.
    #[test]
    fn self_diff_is_empty(a in deployment(), last in prop::option::of(deployment())) {
        let d = ThreeWayDiff::default().diff_object(Some(&a), Some(&a), last.as_ref()).expect("an object");
        prop_assert_eq!(d.action, Action::Unchanged);
        prop_assert!(d.changes.is_empty(), "{:?}", d.changes);
        prop_assert_eq!(two_way(&a, &a), Vec::new());
        if last.is_none() {
            prop_assert!(d.drift.is_empty());
        }
    }

    /// The patch turns live into the object after the sync, which desired then equals.
    #[test]
    fn patch_turns_live_into_desired((desired, live) in pair(), last in prop::option::of(deployment())) {
        let options = ThreeWayDiff::default();
        for (two_way, last) in [(false, last.as_ref()), (true, Some(&live))] {
            let d = options.diff_object(Some(&desired), Some(&live), last).expect("an object");
            let Some(patch) = d.patch() else {
                prop_assert_eq!(d.action, Action::Unchanged);
                continue;
            };
            let mut patched = d.before.clone().expect("updates have a before");
            json_patch::patch(&mut patched, &patch).expect("the patch applies");
            prop_assert_eq!(Some(&patched), d.after.as_ref());
            let after = object(patched);
            let again = options.diff_object(Some(&desired), Some(&after), last).expect("an object");
            prop_assert!(again.changes.is_empty(), "{:?}", again.changes);
            if two_way {
                // Two-way: the patched object is desired, up to spelling and order.
                let two = options.diff_object(Some(&desired), Some(&after), Some(&after)).expect("an object");
                prop_assert!(two.changes.is_empty(), "{:?}", two.changes);
            }
        }
    }

    /// When last applied is desired, the drift found alongside the changes is the drift a
    /// separate walk of last applied against live finds.
    #[test]
    fn mirrored_drift_is_the_drift((desired, live) in pair()) {
        let options = ThreeWayDiff::default();
        let root = options.schema_ref().root_or_deduced(&desired.gvk());
        let separate = crate::three_way::drift(ThreeWayDiff::nodes(), root, desired.as_map(), live.as_map());
        let copy = desired.clone();
        for last in [&desired, &copy] {
            let d = options.diff_object(Some(&desired), Some(&live), Some(last)).expect("an object");
            prop_assert_eq!(&d.drift, &separate);
        }
    }

    /// Last applied identical to desired (a copy) is left out of the walk: the changes are what
    /// walking all three finds, and it mirrors desired.
    #[test]
    fn identical_last_applied_needs_no_walk((desired, live) in pair(), other in deployment()) {
        let options = ThreeWayDiff::default();
        let root = options.schema_ref().root_or_deduced(&desired.gvk());
        let copy = desired.clone();
        let (want, have) = (desired.as_map(), live.as_map());
        for (last, is_copy) in [(&copy, true), (&other, false)] {
            let (fast, fast_mirror, walked) =
                crate::three_way::changes(ThreeWayDiff::nodes(), root, want, have, Some(last.as_map()), true);
            let (full, full_mirror, _) =
                crate::three_way::changes(ThreeWayDiff::nodes(), root, want, have, Some(last.as_map()), false);
            prop_assert_eq!(walked.is_none(), is_copy || desired == other);
            prop_assert_eq!(fast, full);
            // The walk's own mirror check is conservative (it stops looking below a field live
            // lacks); an identical copy mirrors desired everywhere.
            let consistent = if walked.is_none() { fast_mirror } else { fast_mirror == full_mirror };
            prop_assert!(consistent, "mirror: fast {}, full {}", fast_mirror, full_mirror);
        }
    }

    /// With live as the last-applied object, the three-way diff is the two-way diff.
    #[test]
    fn three_way_with_live_as_last_is_two_way((desired, live) in pair()) {
        let d = ThreeWayDiff::default().diff_object(Some(&desired), Some(&live), Some(&live)).expect("an object");
        prop_assert_eq!(&d.changes, &two_way(&desired, &live));
        prop_assert!(d.drift.is_empty());
    }

    /// Server defaults, reordering and respelling are never changes when last applied is desired.
    #[test]
    fn noise_is_no_change(desired in deployment(), ops in prop::collection::vec(prop::sample::select(vec![0usize, 1, 2, 6]), 0..4)) {
        let live = mutate(&desired, &ops);
        let d = ThreeWayDiff::default().diff_object(Some(&desired), Some(&live), Some(&desired)).expect("an object");
        prop_assert_eq!(d.action, Action::Unchanged, "{:?}", d.changes);
        prop_assert!(d.drift.is_empty(), "{:?}", d.drift);
    }

    /// No output shows a secret value, plain or base64-encoded.
    #[test]
    fn masking_never_leaks(
        desired_data in prop::collection::btree_map("[a-c]", secret_value(), 0..3),
        string_data in prop::collection::btree_map("[b-d]", secret_value(), 0..3),
        live_data in prop::collection::btree_map("[a-c]", secret_value(), 0..3),
        last_data in prop::collection::btree_map("[a-d]", secret_value(), 0..3),
        shared in secret_value(),
        present in any::<bool>(),
    ) {
        let mut live_data = live_data;
        let mut desired_data = desired_data;
        live_data.insert("s".into(), shared.clone());
        desired_data.insert("s".into(), shared.clone());
        let desired = secret(&desired_data, &string_data);
        let live = secret(&live_data, &BTreeMap::new());
        let last = secret(&last_data, &BTreeMap::new());
        let set = set_of(&[&desired]);
        let live_map: BTreeMap<_, _> = if present { [(live.object_ref(), live.clone())].into_iter().collect() } else { BTreeMap::new() };
        let last_map: BTreeMap<_, _> = [(last.object_ref(), last.clone())].into_iter().collect();
        let mut inventory = Inventory::default();
        inventory.insert(gitops_core::ObjectRef::new("", "Secret", Some("shop"), "gone"), "v1");
        let mut live_all = live_map.clone();
        let gone = secret(&live_data, &BTreeMap::new());
        let mut gone_value = gone.into_value();
        gone_value["metadata"]["name"] = json!("gone");
        let gone = object(gone_value);
        live_all.insert(gone.object_ref(), gone);
        let inputs = Inputs::new(&set, &live_all, &inventory).last_applied(&last_map);
        let diff = ThreeWayDiff::default().diff(&inputs);
        let options = OutputOptions::default().show_unchanged(true);
        let outputs = [
            summary(&diff, &options),
            unified(&diff, &options),
            to_json(&diff).to_string(),
            patches(&diff).to_string(),
            serde_json::to_string(&diff).expect("serializes"),
            format!("{diff:?}"),
        ];
        let secrets = desired_data.values().chain(string_data.values()).chain(live_data.values()).chain(last_data.values());
        for value in secrets {
            let encoded = base64::engine::general_purpose::STANDARD.encode(value);
            for output in &outputs {
                prop_assert!(!output.contains(value.as_str()), "{value} leaked: {output}");
                prop_assert!(!output.contains(encoded.as_str()), "{encoded} leaked: {output}");
            }
        }
        if present {
            let d = &diff.diffs[0];
            let same = d.changes.iter().all(|c| c.path.to_string() != "data.s");
            prop_assert!(same, "an equal value is no change");
        }
    }
}
