//! The fixture-table runner shared by the crates' golden tests: one case per folder, every
//! case run, failures collected into one report, `UPDATE_EXPECT=1` rewrites the expected files.
//! Included with `#[path]` by the test files that use it.

use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Compares `actual` with the file `file` of the case folder `dir`. With `update`, a differing
/// or missing file is rewritten; otherwise the difference is added to `failures`.
pub(crate) fn compare(dir: &Path, file: &str, actual: &str, update: bool, failures: &mut Vec<String>) {
    let path = dir.join(file);
    let expected = std::fs::read_to_string(&path).ok();
    if expected.as_deref() == Some(actual) {
        return;
    }
    if update {
        std::fs::write(&path, actual).expect("write expected");
    } else {
        failures.push(format!(
            "{file} differs\n--- expected\n{}--- actual\n{actual}",
            expected.unwrap_or_else(|| "(missing)\n".to_owned())
        ));
    }
}

/// Runs `run(case, update)` on every case folder under `root` (at least `min` of them) and fails
/// with one report naming every failed case.
pub(crate) fn run_table(root: &Path, min: usize, run: impl Fn(&Path, bool) -> Vec<String>) {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= min, "the table has {} cases, fewer than {min}", cases.len());
    let mut report = String::new();
    let mut failed = 0;
    for case in &cases {
        let failures = run(case, update);
        if !failures.is_empty() {
            failed += 1;
            let name = case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let _ = writeln!(report, "== {name}\n{}", failures.join("\n"));
        }
    }
    assert!(failed == 0, "{failed} of {} cases failed:\n{report}", cases.len());
}
