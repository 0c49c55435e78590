//! YAML reader and emitter against the real tools' output and the serde_yaml oracle.

use std::fmt::Write as _;
use std::path::PathBuf;

use gitops_core::yaml::{self, Budget, EmitOptions, ReadOptions, Schema, YamlErrorKind, parse_documents};
use proptest::prelude::*;
use serde_json::{Value, json};

fn fixture(path: &str) -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/yaml").join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn read_one(text: &str) -> Value {
    let mut docs = parse_documents(text, &ReadOptions::default()).expect("valid YAML");
    assert_eq!(docs.len(), 1);
    docs.remove(0).value
}

/// Every scalar style, key order, fold and chomping case, compared byte for byte with
/// `kubectl kustomize` (kubectl v1.37.1, Kustomize v5.8.1; regenerate with tests/fixtures/regen.sh).
#[test]
fn emitter_matches_kubectl_kustomize() {
    let input = read_one(&fixture("emitter/input.yaml"));
    let expected = fixture("emitter/expected.yaml");
    let actual = yaml::to_string(&input, &EmitOptions::default());
    if actual != expected {
        for (i, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
            assert_eq!(a, e, "first difference at line {}", i + 1);
        }
        assert_eq!(actual.lines().count(), expected.lines().count(), "line counts differ");
        assert_eq!(actual, expected);
    }
}

/// Plain scalars as Kustomize reads them, printed as it prints them.
#[test]
fn reader_resolves_scalars_as_kustomize() {
    let input = read_one(&fixture("scalars/input.yaml"));
    let expected = fixture("scalars/expected.yaml");
    assert_eq!(yaml::to_string(&input, &EmitOptions::default()), expected);
}

#[test]
fn documents_lines_and_empty_documents() {
    let text = "# leading comment\n\napiVersion: v1\n---\n---\n# c\n...\n---\n- 1\n";
    let docs = parse_documents(text, &ReadOptions::default()).expect("valid");
    let summary: Vec<(usize, usize, bool)> = docs.iter().map(|d| (d.index, d.line, d.value.is_null())).collect();
    // An empty document's line is where its (empty) content would start.
    assert_eq!(summary, [(0, 3, false), (1, 5, true), (2, 7, true), (3, 9, false)]);
}

#[test]
fn errors_carry_line_and_column() {
    let err = parse_documents("a: 1\nb: [1, 2\nc: 3\n", &ReadOptions::default()).expect_err("invalid");
    assert!(matches!(err.kind, YamlErrorKind::Syntax(_)));
    assert!(err.line >= 2, "{err:?}");
    let err = parse_documents("a: 1\nb: 2\na: 3\n", &ReadOptions::default()).expect_err("duplicate");
    assert_eq!((err.line, err.kind.clone()), (3, YamlErrorKind::DuplicateKey("a".into())));
    let err = parse_documents("x: .inf\n", &ReadOptions::default()).expect_err("inf");
    assert_eq!(err.to_string(), ".inf cannot be represented in JSON");
    let err = parse_documents("? [a]\n: 1\n", &ReadOptions::default()).expect_err("complex key");
    assert_eq!(err.kind, YamlErrorKind::ComplexKey);
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let text = "base: &b {x: 1, y: 2}\nother: &o {y: 20, z: 30}\nm:\n  <<: [*b, *o]\n  x: 10\nlist: &l [1, 2]\ncopy: *l\nquoted:\n  \"<<\": 1\n";
    assert_eq!(
        read_one(text),
        json!({"base": {"x": 1, "y": 2}, "other": {"y": 20, "z": 30}, "m": {"x": 10, "y": 2, "z": 30},
               "list": [1, 2], "copy": [1, 2], "quoted": {"<<": 1}})
    );
}

#[test]
fn alias_bomb_fails_fast() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        let _ = writeln!(text, "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]");
    }
    let start = std::time::Instant::now();
    let err = parse_documents(&text, &ReadOptions::default()).expect_err("bomb");
    assert!(matches!(err.kind, YamlErrorKind::Budget { what, .. } if what.starts_with("nodes")), "{err}");
    // Not a timing assertion: a generous ceiling that only an unbounded expansion would hit.
    assert!(start.elapsed().as_secs() < 30);
}

#[test]
fn size_documents_and_depth_budgets() {
    let small = ReadOptions::default().budget(Budget::default().max_bytes(10));
    let err = parse_documents("a: 0123456789\n", &small).expect_err("too large");
    assert_eq!(err.to_string(), "input of 14 bytes exceeds the limit of 10 bytes");
    let few = ReadOptions::default().budget(Budget::default().max_documents(2));
    assert!(parse_documents("a: 1\n---\nb: 2\n---\nc: 3\n", &few).is_err());
    let deep_block = format!("{}x\n", "- ".repeat(600));
    let err = parse_documents(&deep_block, &ReadOptions::default()).expect_err("too deep");
    assert!(err.to_string().contains("nesting depth"), "{err}");
    // Flow collections are capped by the parser itself (255 levels).
    let deep_flow = format!("{}{}", "[".repeat(300), "]".repeat(300));
    assert!(parse_documents(&deep_flow, &ReadOptions::default()).is_err());
}

#[test]
fn kubectl_schema_reads_yaml_1_1() {
    let opts = ReadOptions::default().schema(Schema::Kubectl);
    let docs = parse_documents("a: on\nb: 2001-12-14\non: 1\nc: 0644\n", &opts).expect("valid");
    assert_eq!(docs[0].value, json!({"a": true, "b": "2001-12-14", "true": 1, "c": 420}));
}

/// Where YAML 1.2 and go-yaml v3 agree, our reader and serde_yaml (libyaml) must agree too.
#[test]
fn agrees_with_serde_yaml_on_common_documents() {
    let inputs = [
        "a: 1\nb: [1, 2, {c: d}]\nc: 'single'\nd: \"double\\n\"\ne: |\n  lit\n  eral\nf: >\n  folded\n  text\n",
        "- a\n- - b\n  - c\n- {x: y}\n- ~\n- true\n- -3\n- 1.5\n- 'x: y'\n",
        "key with spaces: value with spaces\n\"quoted key\": 2\nempty:\nnested:\n  deep:\n    deeper: [[], {}]\n",
        "s: \"\\u00e9\\t\\x41\"\nt: 'it''s'\nu: plain # comment\n",
    ];
    for input in inputs {
        let ours = read_one(input);
        let theirs: Value = serde_yaml::from_str(input).expect("serde_yaml parses");
        assert_eq!(ours, theirs, "input:\n{input}");
    }
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        (-1e6f64..1e6).prop_filter("non-integral", |f| f.fract() != 0.0).prop_map(|f| json!(f)),
        "[ -~\\n\\t\u{e9}\u{1F600}]{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "on", "yes", "0777", "12:30", "1e3", "null", "~", "- x", "a: b", "#x", "", " ", "\n"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z0-9_. -]{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Emitting and reading back gives the same value, so strings that look like other types
    /// (`on`, `0777`, `12:30`) stay strings through a round trip.
    #[test]
    fn round_trip_keeps_values(inner in arb_value()) {
        // Documents are objects; a bare scalar root is not a Kubernetes document.
        let value = json!({"v": inner});
        let text = yaml::to_string(&value, &EmitOptions::default());
        let back = parse_documents(&text, &ReadOptions::default()).expect("emitted YAML parses");
        prop_assert_eq!(&back[0].value, &value, "emitted:\n{}", text);
    }

    /// A YAML 1.1 reader (kubectl's) reads the emitted strings as strings too.
    #[test]
    fn yaml_1_1_readers_keep_strings(s in "[ -~]{0,20}") {
        let value = json!({"v": s});
        let text = yaml::to_string(&value, &EmitOptions::default());
        let back = parse_documents(&text, &ReadOptions::default().schema(Schema::Kubectl)).expect("parses");
        prop_assert_eq!(&back[0].value, &value, "emitted:\n{}", text);
    }
}
