//! Kustomize conformance: every case under `tests/fixtures/kustomize/` is built and compared with
//! the golden output of `kubectl kustomize` (kubectl v1.37.1, Kustomize v5.8.1).
//!
//! A case is a folder with the inputs, an optional `BUILD_PATH` (the folder to build, relative to
//! the case; default the case itself), an optional `OPTIONS` (kubectl flags; only
//! `--load-restrictor LoadRestrictionsNone` is understood), and either `expected.yaml` (the build
//! output) or `expected-error.txt` (kubectl's error: the build must fail).
//!
//! Cases listed in `KNOWN_DIFFERENCES` (one name per line, `#` comments) are allowed to differ,
//! and must: a listed case that starts passing fails the test until it is removed from the list,
//! so the list always says exactly what does not match yet.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gitops_core::DiskTree;
use gitops_core::yaml::{EmitOptions, ReadOptions, parse_documents, to_string_multi};
use gitops_render::kustomize::LoadRestrictor;
use gitops_render::{KustomizeRenderer, RenderOptions, Renderer};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kustomize")
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Identical,
    ParsedEqual,
    Different(String),
    ErrorAsExpected,
    UnexpectedError(String),
    MissingError,
    /// Neither `expected.yaml` nor `expected-error.txt`: the case has no golden.
    Incomplete,
}

fn run_case(dir: &Path) -> Outcome {
    let build_path = std::fs::read_to_string(dir.join("BUILD_PATH")).map(|s| s.trim().to_owned()).unwrap_or_default();
    let options = std::fs::read_to_string(dir.join("OPTIONS")).unwrap_or_default();
    let mut render_options = RenderOptions::default();
    if options.contains("LoadRestrictionsNone") {
        render_options = render_options.load_restrictor(LoadRestrictor::None);
    }
    let tree = DiskTree::new(dir).expect("case folder");
    let result = KustomizeRenderer.render(&tree, &build_path, &render_options);
    let expected = std::fs::read_to_string(dir.join("expected.yaml")).ok();
    if expected.is_none() && !dir.join("expected-error.txt").exists() {
        return Outcome::Incomplete;
    }
    match (result, expected) {
        (Ok(_), None) => Outcome::MissingError,
        (Err(_), None) => Outcome::ErrorAsExpected,
        (Err(e), Some(_)) => Outcome::UnexpectedError(format!("{e:#}")),
        (Ok(set), Some(expected)) => {
            let values: Vec<serde_json::Value> = set.iter().map(|m| m.object.to_value()).collect();
            let actual = to_string_multi(&values, &EmitOptions::default());
            let expected = expected.trim_end_matches('\n').to_owned() + "\n";
            if actual == expected {
                return Outcome::Identical;
            }
            let parse = |text: &str| {
                parse_documents(text, &ReadOptions::default())
                    .map(|docs| docs.into_iter().map(|d| d.value).collect::<Vec<_>>())
            };
            match (parse(&actual), parse(&expected)) {
                (Ok(a), Ok(b)) if a == b => Outcome::ParsedEqual,
                _ => {
                    let first =
                        actual.lines().zip(expected.lines()).enumerate().find(|(_, (a, e))| a != e).map_or_else(
                            || format!("{} lines vs {} expected", actual.lines().count(), expected.lines().count()),
                            |(i, (a, e))| format!("line {}: got {a:?}, want {e:?}", i + 1),
                        );
                    Outcome::Different(first)
                }
            }
        }
    }
}

#[test]
fn kustomize_conformance() {
    let root = fixtures();
    let known: BTreeSet<String> = std::fs::read_to_string(root.join("KNOWN_DIFFERENCES"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let (mut identical, mut parsed_equal, mut errors_ok, mut outputs) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    let mut fixed = Vec::new();
    for case in &cases {
        let name = case.file_name().expect("name").to_string_lossy().into_owned();
        let outcome = run_case(case);
        if case.join("expected.yaml").exists() {
            outputs += 1;
        }
        let ok = match &outcome {
            Outcome::Identical => {
                identical += 1;
                true
            }
            Outcome::ErrorAsExpected => {
                errors_ok += 1;
                true
            }
            Outcome::ParsedEqual => {
                parsed_equal += 1;
                false
            }
            _ => false,
        };
        match (ok, known.contains(&name)) {
            (true, true) => fixed.push(name),
            (false, false) => failures.push(format!("{name}: {outcome:?}")),
            _ => {}
        }
    }
    let total = cases.len();
    println!(
        "kustomize conformance: {total} cases; {identical}/{outputs} outputs byte-identical, {} parsed-equal; \
         {errors_ok}/{} error cases fail as kubectl does",
        identical + parsed_equal,
        total - outputs
    );
    assert!(
        failures.is_empty(),
        "{} case(s) differ and are not in KNOWN_DIFFERENCES:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(fixed.is_empty(), "these cases now pass; remove them from KNOWN_DIFFERENCES: {fixed:?}");
}

/// Bad kustomizations are named precisely: an unknown field with its file and line, a cycle with
/// its chain, a missing file with the kustomization that asked for it.
#[test]
fn errors_name_the_file_line_field_and_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |path: &str, text: &str| {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    };
    write("app/kustomization.yaml", "namePrefix: x-\nresorces:\n- cm.yaml\n");
    write("a/kustomization.yaml", "resources:\n- ../b\n");
    write("b/kustomization.yaml", "resources:\n- ../a\n");
    write("c/kustomization.yaml", "resources:\n- missing.yaml\n");
    let tree = DiskTree::new(dir.path()).expect("tree");
    let build = |path: &str| {
        let err = KustomizeRenderer.render(&tree, path, &RenderOptions::default()).expect_err("invalid");
        format!("{err:#}")
    };
    assert_eq!(build("app"), "app/kustomization.yaml:2: unknown field `resorces` in Kustomization");
    assert_eq!(build("a"), "cycle detected: a -> b -> a");
    let missing = build("c");
    assert!(missing.starts_with("missing.yaml: no such file or directory (in c"), "{missing}");
}

#[test]
fn nested_unknown_and_mistyped_fields_name_their_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("kustomization.yaml"), "replicas:\n- name: web\n  cont: 2\n").expect("write");
    let tree = DiskTree::new(dir.path()).expect("tree");
    let err = KustomizeRenderer.render(&tree, "", &RenderOptions::default()).expect_err("invalid");
    assert_eq!(format!("{err}"), "kustomization.yaml:3: unknown field `cont` in `replicas[0]`");
    std::fs::write(dir.path().join("kustomization.yaml"), "namespace:\n  a: b\n").expect("write");
    let err = KustomizeRenderer.render(&tree, "", &RenderOptions::default()).expect_err("invalid");
    assert!(format!("{err}").starts_with("kustomization.yaml:1: `namespace`: invalid type"), "{err}");
}
