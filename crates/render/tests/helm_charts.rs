//! Chart conformance: every `tests/fixtures/helm/<case>/` with a `renders.txt` is rendered with
//! each of its argument sets and compared byte for byte with what helm v4.3.1 printed
//! (`expected/NAME.out`), or with Helm's error message (`expected/NAME.err`; ours must end with
//! Helm's message, as we may name the file first). The goldens come from
//! `tests/fixtures/helm/regen_charts.py`, never from this code.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gitops_core::DiskTree;
use gitops_render::helm::chart::{Capabilities, KubeVersion, TemplateOptions, ValueOptions, template};

/// Renders allowed to differ, each with the reason; the test fails when a listed render starts
/// passing, so the list stays honest.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    ("error-values/bad-file", "a YAML syntax error is worded by our YAML reader, not go-yaml (same file, same line)"),
    ("set-values/typed", INT64),
    ("set-values/strings", INT64),
    ("set-values/file", INT64),
    ("values-types/overrides", INT64),
];

/// Why integers from `--set` differ.
const INT64: &str = "integers typed by --set are Go int64; the template value model has one integer type, \
                     Go int, so kindOf/typeOf/%T print int";

/// Charts left out of the byte comparison because their output is random (none today).
const NONDETERMINISTIC: &[&str] = &[];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/helm")
}

/// Splits a line as a POSIX shell would (quotes and backslashes), as the regen script's
/// `shlex.split` does.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    cur.push(d);
                }
            }
            '"' => {
                in_word = true;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => cur.push(e),
                            Some(e) => {
                                cur.push('\\');
                                cur.push(e);
                            }
                            None => cur.push('\\'),
                        },
                        d => cur.push(d),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    cur.push(e);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// The options `helm template` would get from these arguments.
fn options(dir: &Path, args: &[String]) -> Result<TemplateOptions, String> {
    let mut opts = TemplateOptions::default();
    let mut values = ValueOptions::default();
    let base = dir.to_path_buf();
    values = values.file_reader(Arc::new(move |p: &str| {
        std::fs::read_to_string(base.join(p)).map_err(|e| format!("open {p}: {e}"))
    }));
    let mut caps = Capabilities::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "-f" | "--values" => {
                let name = value()?;
                let text = std::fs::read_to_string(dir.join(&name)).map_err(|e| format!("{name}: {e}"))?;
                values = values.file(name, text);
            }
            "--set" => values = values.set(value()?),
            "--set-string" => values = values.set_string(value()?),
            "--set-json" => values = values.set_json(value()?),
            "--set-file" => values = values.set_file(value()?),
            "-n" | "--namespace" => opts = opts.namespace(value()?),
            "--release" => opts = opts.release_name(value()?),
            "--include-crds" => opts = opts.include_crds(true),
            "--skip-tests" => opts = opts.skip_tests(true),
            "--is-upgrade" => opts = opts.is_upgrade(true),
            "--skip-schema-validation" => opts = opts.skip_schema_validation(true),
            "--kube-version" => caps = caps.kube_version(KubeVersion::parse(&value()?)?),
            "-a" | "--api-versions" => caps = caps.api_versions([value()?]),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(opts.values(values).capabilities(caps))
}

/// Renders one case as `gitops render` does; `Err` carries the error message.
fn render(dir: &Path, args: &[String]) -> Result<String, String> {
    let opts = options(dir, args)?;
    let tree = DiskTree::new(dir).map_err(|e| e.to_string())?;
    let chart = if dir.join("chart.tgz").is_file() { "chart.tgz" } else { "chart" };
    template(&tree, chart, &opts).map(|r| r.to_helm_output()).map_err(|e| e.to_string())
}

#[test]
fn charts_match_helm() {
    let root = fixtures();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("the fixtures folder exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.join("renders.txt").is_file())
        .collect();
    dirs.sort();
    let (mut passed, mut total, mut charts) = (0, 0, 0);
    let mut failures = Vec::new();
    for dir in &dirs {
        let chart = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if NONDETERMINISTIC.contains(&chart.as_str()) {
            continue;
        }
        charts += 1;
        let text = std::fs::read_to_string(dir.join("renders.txt")).expect("renders.txt is readable");
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let words = shell_words(line);
            let (name, args) = words.split_first().expect("a case has a name");
            let id = format!("{chart}/{name}");
            total += 1;
            let out = dir.join("expected").join(format!("{name}.out"));
            let err = dir.join("expected").join(format!("{name}.err"));
            let want = match (std::fs::read_to_string(&out), std::fs::read_to_string(&err)) {
                (Ok(o), _) => Ok(o),
                (_, Ok(e)) => Err(e.trim_end_matches('\n').to_owned()),
                _ => {
                    failures.push(format!("{id}: no golden; run tests/fixtures/helm/regen_charts.py"));
                    continue;
                }
            };
            // Our errors may name the file first (`chart/Chart.yaml: validation: ...`); they
            // must end with Helm's message.
            let got = match (render(dir, args), &want) {
                (Err(ours), Err(theirs)) if ours.trim_end_matches('\n').ends_with(theirs.as_str()) => {
                    Err(theirs.clone())
                }
                (got, _) => got,
            };
            let known = KNOWN_DIFFERENCES.iter().any(|(n, _)| *n == id);
            match (got == want, known) {
                (true, false) => passed += 1,
                (true, true) => failures.push(format!("{id}: passes now; remove it from KNOWN_DIFFERENCES")),
                (false, true) => {}
                (false, false) => failures.push(format!("{id}:\n--- helm\n{want:?}\n--- ours\n{got:?}")),
            }
        }
    }
    eprintln!(
        "{passed}/{total} chart renders byte-identical to helm in {charts} charts ({} known differences, {} nondeterministic charts left out)",
        KNOWN_DIFFERENCES.len(),
        NONDETERMINISTIC.len()
    );
    assert!(failures.is_empty(), "{} failing:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn shell_words_split_as_shlex() {
    assert_eq!(shell_words(r#"a --set 'x=1,y=2' "b c" d\ e"#), ["a", "--set", "x=1,y=2", "b c", "d e"]);
}
