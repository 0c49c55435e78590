//! Strategic merge patches against the goldens of the real tools (`tests/fixtures/smp`, written
//! by its `regen.sh` from `kubectl patch` and `kubectl kustomize`), and the laws of two-way
//! patches on random Deployment-shaped objects.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use gitops_core::Gvk;
use gitops_core::patch::{ListOrder, MergeOptions, PatchError, create_strategic_patch, strategic_merge};
use gitops_core::schema::Schema;
use gitops_core::yaml::{self, ReadOptions, parse_documents};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// The case folder: `tests/fixtures/smp`, or `$SMP_FIXTURES` for a differential run on cases
/// written by `tests/fixtures/smp/fuzz.py` (then not all need to match).
fn fixtures() -> (PathBuf, bool) {
    match std::env::var_os("SMP_FIXTURES") {
        Some(dir) => (PathBuf::from(dir), false),
        None => (Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/smp"), true),
    }
}

fn read_yaml(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    // kubectl's reader: the Kustomize one keeps plain annotation values as text, which would
    // turn `annotations: {note: null}` in a patch into the string "null".
    let options = ReadOptions::default().schema(yaml::Schema::Kubectl);
    let docs = parse_documents(&text, &options).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    assert_eq!(docs.len(), 1, "{}: one document", path.display());
    docs.into_iter().next().map(|doc| doc.value).unwrap_or_default()
}

fn gvk_of(object: &Value) -> Gvk {
    let api_version = object["apiVersion"].as_str().expect("apiVersion");
    Gvk::from_api_version(api_version, object["kind"].as_str().expect("kind"))
}

/// What a tool did with a case.
enum Golden {
    Merged(Value),
    Deleted,
    Failed,
}

fn golden(case: &Path, tool: &str) -> Option<Golden> {
    let json = case.join(format!("expected-{tool}.json"));
    let error = case.join(format!("expected-{tool}-error.txt"));
    if let Ok(text) = fs::read_to_string(&json) {
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", json.display()));
        return Some(if value.is_null() { Golden::Deleted } else { Golden::Merged(value) });
    }
    error.is_file().then_some(Golden::Failed)
}

/// Whether our outcome matches the golden; the reason when it does not.
fn check(outcome: &Result<Value, PatchError>, golden: &Golden) -> Result<(), String> {
    match (outcome, golden) {
        (Ok(ours), Golden::Merged(theirs)) if ours == theirs => Ok(()),
        (Ok(ours), Golden::Merged(theirs)) => Err(format!("differs:\n  ours:   {ours}\n  theirs: {theirs}")),
        (Err(PatchError::DeleteObject), Golden::Deleted) | (Err(_), Golden::Failed) => Ok(()),
        (Ok(ours), Golden::Deleted | Golden::Failed) => Err(format!("merged into {ours}, the tool did not")),
        (Err(err), _) => Err(format!("failed: {err}")),
    }
}

#[test]
fn fixtures_match_both_tools() {
    let (dir, committed) = fixtures();
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.join("patch.yaml").is_file())
        .collect();
    cases.sort();
    assert!(!committed || cases.len() >= 40, "{} cases", cases.len());
    let mut report = String::new();
    let mut unexpected = Vec::new();
    for (tool, order) in [("apimachinery", ListOrder::ApiMachinery), ("kustomize", ListOrder::Kustomize)] {
        let options = MergeOptions::default().list_order(order);
        let (mut total, mut passed, mut known) = (0, 0, Vec::new());
        for case in &cases {
            let name = case.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            let Some(golden) = golden(case, tool) else { continue };
            let original = read_yaml(&case.join("original.yaml"));
            let patch = read_yaml(&case.join("patch.yaml"));
            let schema = Schema::builtin().root_or_deduced(&gvk_of(&original));
            let outcome = strategic_merge(&original, &patch, schema, &options);
            let marker = fs::read_to_string(case.join(format!("KNOWN-DIFFERENCE-{tool}"))).ok();
            total += 1;
            match (check(&outcome, &golden), marker) {
                (Ok(()), None) => passed += 1,
                (Ok(()), Some(_)) => unexpected.push(format!("{tool} {name}: matches; remove KNOWN-DIFFERENCE-{tool}")),
                (Err(reason), Some(marker)) => known.push(format!("{name}: {} ({reason})", marker.trim())),
                (Err(reason), None) => unexpected.push(format!("{tool} {name}: {reason}")),
            }
        }
        let _ = writeln!(report, "{tool}: {passed}/{total} cases match");
        for line in known {
            let _ = writeln!(report, "  known difference {line}");
        }
    }
    println!("{report}");
    assert!(unexpected.is_empty(), "{report}\n{}", unexpected.join("\n\n"));
}

#[test]
fn errors_carry_the_path() {
    let schema = Schema::builtin().root_or_deduced(&Gvk::new("apps", "v1", "Deployment"));
    let original = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"name": "A"}]}]}}}});
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"value": "x"}]}]}}}});
    for order in [ListOrder::ApiMachinery, ListOrder::Kustomize] {
        let err = strategic_merge(&original, &patch, schema, &MergeOptions::default().list_order(order))
            .expect_err("env item without name");
        assert!(matches!(&err, PatchError::MissingMergeKey { key, .. } if key == "name"), "{err}");
        assert_eq!(err.path(), Some("spec.template.spec.containers[name=app].env[0]"), "{order:?}");
    }
    // apimachinery reads directives only where the original has a map to merge with.
    let original = json!({"spec": {"selector": {"matchLabels": {"app": "web"}}}});
    let explode = json!({"spec": {"selector": {"$patch": "explode"}}});
    let err = strategic_merge(&original, &explode, schema, &MergeOptions::default()).expect_err("unknown directive");
    assert_eq!(err.to_string(), "spec.selector: unknown or unsupported `$patch: explode`");
    let not_object = strategic_merge(&original, &json!([1]), schema, &MergeOptions::default());
    assert!(matches!(not_object, Err(PatchError::NotAnObject { what: "the patch", .. })));
}

#[test]
fn retain_keys_directive_must_list_every_patched_field() {
    let schema = Schema::builtin().root_or_deduced(&Gvk::new("apps", "v1", "Deployment"));
    let original = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
    let patch = json!({"spec": {"strategy": {"type": "Recreate", "$retainKeys": ["rollingUpdate"]}}});
    let err = strategic_merge(&original, &patch, schema, &MergeOptions::default()).expect_err("type is not listed");
    assert_eq!(err.path(), Some("spec.strategy"));
}

#[test]
fn two_way_patch_uses_every_directive() {
    let schema = Schema::builtin().root_or_deduced(&Gvk::new("apps", "v1", "Deployment"));
    let original = json!({"spec": {
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
        "template": {"spec": {
            "containers": [{"name": "a", "image": "a:1"}, {"name": "b"}, {"name": "c"}],
            "volumes": [{"name": "data", "emptyDir": {}}],
        }},
    }});
    let modified = json!({"spec": {
        "strategy": {"type": "Recreate"},
        "template": {"spec": {
            "containers": [{"name": "c"}, {"name": "a", "image": "a:2"}],
            "volumes": [{"name": "data", "configMap": {"name": "settings"}}],
        }},
    }});
    let patch = create_strategic_patch(&original, &modified, schema).expect("diff");
    assert_eq!(
        patch,
        json!({"spec": {
            "strategy": {"type": "Recreate", "rollingUpdate": null, "$retainKeys": ["type"]},
            "template": {"spec": {
                "containers": [{"name": "a", "image": "a:2"}, {"name": "b", "$patch": "delete"}],
                "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}],
                "volumes": [{"name": "data", "configMap": {"name": "settings"}, "emptyDir": null,
                             "$retainKeys": ["configMap", "name"]}],
                "$setElementOrder/volumes": [{"name": "data"}],
            }},
        }})
    );
    assert_eq!(strategic_merge(&original, &patch, schema, &MergeOptions::default()).expect("merge"), modified);
}

// Random Deployment-shaped objects for the laws.

fn subset(pool: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(pool, 0..=pool.len()).prop_shuffle()
}

fn object(entries: Vec<(&str, Option<Value>)>) -> Value {
    Value::Object(entries.into_iter().filter_map(|(key, value)| Some((key.to_string(), value?))).collect())
}

fn string_map(keys: Vec<&'static str>, value: &'static str) -> Option<Value> {
    (!keys.is_empty()).then(|| Value::Object(keys.into_iter().map(|k| (k.to_string(), json!(value))).collect()))
}

fn container(name: &'static str) -> impl Strategy<Value = Value> {
    (
        proptest::option::of(prop_oneof![Just("app:1"), Just("app:2")]),
        proptest::option::of(subset(&["--a", "--b", "--c"])),
        subset(&["MODE", "LOG", "TOKEN"]),
        prop_oneof![Just("x"), Just("y1")],
        subset(&["8080", "9090", "53"]),
        subset(&["/data", "/cache"]),
    )
        .prop_map(move |(image, args, env, env_value, ports, mounts)| {
            let env: Vec<Value> = env.into_iter().map(|name| json!({"name": name, "value": env_value})).collect();
            let ports: Vec<Value> = ports
                .into_iter()
                .filter_map(|port| port.parse::<u16>().ok())
                .map(|port| json!({"containerPort": port, "protocol": "TCP"}))
                .collect();
            let mounts: Vec<Value> =
                mounts.into_iter().map(|path| json!({"mountPath": path, "name": "data"})).collect();
            object(vec![
                ("name", Some(json!(name))),
                ("image", image.map(Value::from)),
                ("args", args.map(|args| json!(args))),
                ("env", (!env.is_empty()).then(|| Value::Array(env))),
                ("ports", (!ports.is_empty()).then(|| Value::Array(ports))),
                ("volumeMounts", (!mounts.is_empty()).then(|| Value::Array(mounts))),
            ])
        })
}

fn containers() -> impl Strategy<Value = Vec<Value>> {
    subset(&["app", "proxy", "init", "debug"])
        .prop_flat_map(|names| names.into_iter().map(container).collect::<Vec<_>>())
}

fn volume(name: &'static str) -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"name": name, "emptyDir": {}})),
        Just(json!({"name": name, "configMap": {"name": "settings"}})),
        Just(json!({"name": name, "secret": {"secretName": "token"}})),
    ]
}

fn deployment() -> impl Strategy<Value = Value> {
    let metadata = (subset(&["app", "tier", "team"]), subset(&["note"]), subset(&["a", "b", "c"]));
    let strategy = proptest::option::of(prop_oneof![
        Just(json!({"type": "Recreate"})),
        Just(json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}})),
        Just(json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}})),
    ]);
    let pod = (
        containers(),
        subset(&["data", "cache"]).prop_flat_map(|names| names.into_iter().map(volume).collect::<Vec<_>>()),
        proptest::option::of(subset(&["a", "b"])),
        subset(&["disk", "zone"]),
    );
    (metadata, proptest::option::of(1..4u8), strategy, pod).prop_map(
        |((labels, annotations, finalizers), replicas, strategy, (containers, volumes, tolerations, nodes))| {
            let tolerations =
                tolerations.map(|keys| keys.into_iter().map(|key| json!({"key": key, "operator": "Exists"})).collect());
            let pod_spec = object(vec![
                ("containers", Some(Value::Array(containers))),
                ("volumes", (!volumes.is_empty()).then(|| Value::Array(volumes))),
                ("tolerations", tolerations.map(Value::Array)),
                ("nodeSelector", string_map(nodes, "ssd")),
            ]);
            object(vec![
                ("apiVersion", Some(json!("apps/v1"))),
                ("kind", Some(json!("Deployment"))),
                (
                    "metadata",
                    Some(object(vec![
                        ("name", Some(json!("web"))),
                        ("labels", string_map(labels, "web")),
                        ("annotations", string_map(annotations, "x")),
                        ("finalizers", (!finalizers.is_empty()).then(|| json!(finalizers))),
                    ])),
                ),
                (
                    "spec",
                    Some(object(vec![
                        ("replicas", replicas.map(Value::from)),
                        ("strategy", strategy),
                        ("template", Some(json!({"spec": pod_spec}))),
                    ])),
                ),
            ])
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn two_way_patch_turns_original_into_modified(original in deployment(), modified in deployment()) {
        let schema = Schema::builtin().root_or_deduced(&Gvk::new("apps", "v1", "Deployment"));
        let patch = create_strategic_patch(&original, &modified, schema).expect("diff");
        let merged = strategic_merge(&original, &patch, schema, &MergeOptions::default()).expect("merge");
        prop_assert_eq!(merged, modified, "patch: {}", patch);
    }

    #[test]
    fn patch_of_an_object_with_itself_is_empty(original in deployment()) {
        let schema = Schema::builtin().root_or_deduced(&Gvk::new("apps", "v1", "Deployment"));
        prop_assert_eq!(create_strategic_patch(&original, &original, schema).expect("diff"), json!({}));
    }

    #[test]
    fn empty_patch_is_identity(original in deployment()) {
        let schema = Schema::builtin().root_or_deduced(&Gvk::new("apps", "v1", "Deployment"));
        for order in [ListOrder::ApiMachinery, ListOrder::Kustomize] {
            let options = MergeOptions::default().list_order(order);
            let merged = strategic_merge(&original, &Value::Object(Map::new()), schema, &options).expect("merge");
            prop_assert_eq!(&merged, &original);
        }
    }
}

/// `cargo test --release -p gitops-core --test patch -- --ignored --nocapture merge_time`
#[test]
#[ignore = "a timing, meaningful in release builds only"]
fn merge_time() {
    let case = fixtures().0.join("04-env-merge");
    let (original, patch) = (read_yaml(&case.join("original.yaml")), read_yaml(&case.join("patch.yaml")));
    let schema = Schema::builtin().root_or_deduced(&gvk_of(&original));
    let runs = 20_000u32;
    for order in [ListOrder::ApiMachinery, ListOrder::Kustomize] {
        let options = MergeOptions::default().list_order(order);
        let start = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(strategic_merge(&original, &patch, schema, &options).expect("merges"));
        }
        println!("{order:?}: {:?} per merge", start.elapsed() / runs);
    }
}
