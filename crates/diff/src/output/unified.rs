//! The unified YAML diff, as `diff -u` (and `kubectl diff`) print it.

use std::fmt::Write;

use gitops_core::Action;
use gitops_core::yaml::{EmitOptions, to_string};
use similar::{Algorithm, DiffTag, capture_diff_slices, group_diff_ops};

use super::{OutputOptions, Paint};
use crate::diffset::{DiffSet, ObjectDiff};

/// A hunk range: `start,count`, or `start` for one line (1-based; the line before for none).
fn range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{len}", start + 1),
    }
}

fn object_diff(out: &mut String, d: &ObjectDiff, options: &OutputOptions, paint: &Paint) {
    let emit = EmitOptions::default();
    let old = d.before.as_ref().filter(|_| d.action != Action::Create).map(|v| to_string(v, &emit)).unwrap_or_default();
    let new = d.after.as_ref().filter(|_| d.action != Action::Delete).map(|v| to_string(v, &emit)).unwrap_or_default();
    let old_name = if d.action == Action::Create { "/dev/null".to_owned() } else { format!("live/{}", d.object) };
    let new_name = if d.action == Action::Delete { "/dev/null".to_owned() } else { format!("merged/{}", d.object) };
    let _ = writeln!(out, "{}", paint.paint("1", &format!("--- {old_name}")));
    let _ = writeln!(out, "{}", paint.paint("1", &format!("+++ {new_name}")));
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let ops = capture_diff_slices(Algorithm::Myers, &old_lines, &new_lines);
    for group in group_diff_ops(ops, options.context) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (old_start, new_start) = (first.old_range().start, first.new_range().start);
        let old_len = last.old_range().end - old_start;
        let new_len = last.new_range().end - new_start;
        let header = format!("@@ -{} +{} @@", range(old_start, old_len), range(new_start, new_len));
        let _ = writeln!(out, "{}", paint.paint("36", &header));
        for op in &group {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            if tag == DiffTag::Equal {
                for line in &old_lines[old_range] {
                    let _ = writeln!(out, " {line}");
                }
                continue;
            }
            for line in &old_lines[old_range] {
                let _ = writeln!(out, "{}", paint.paint("31", &format!("-{line}")));
            }
            for line in &new_lines[new_range] {
                let _ = writeln!(out, "{}", paint.paint("32", &format!("+{line}")));
            }
        }
    }
}

/// The unified diff of every object a sync writes: the normalized live object (`live/…`) against
/// the object after the sync (`merged/…`), as YAML in `kubectl kustomize`'s style, with
/// `options.context` lines of context. Creates diff against `/dev/null`, deletes to it.
pub fn unified(diff: &DiffSet, options: &OutputOptions) -> String {
    let paint = Paint::new(options.color);
    let mut out = String::new();
    for d in diff.diffs.iter().filter(|d| d.action.is_write()) {
        object_diff(&mut out, d, options, &paint);
    }
    out
}
