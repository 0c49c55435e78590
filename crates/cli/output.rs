//! Printing results. Everything printed is ordered, so output is deterministic.

use std::io::{IsTerminal, Write};

use gitops_core::yaml::{EmitOptions, to_string_multi};
use gitops_core::{Action, ChangeSet, ManifestSet, Revision};
use gitops_diff::{DiffSet, OutputOptions};
use gitops_plan::Plan;

use crate::flags::{DiffFormat, RenderFormat};

pub(crate) fn print_manifests(set: &ManifestSet, format: RenderFormat) -> anyhow::Result<()> {
    let values: Vec<serde_json::Value> = set.iter().map(|m| m.object.to_value()).collect();
    let text = match format {
        RenderFormat::Yaml => to_string_multi(&values, &EmitOptions::default()),
        RenderFormat::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": values});
            format!("{}\n", serde_json::to_string_pretty(&list)?)
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

pub(crate) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn source_line(revision: Option<&Revision>) -> String {
    revision.map(|r| format!(" at {r}")).unwrap_or_default()
}

/// Whether to colour output: on a terminal, unless `NO_COLOR` is set to something (no-color.org).
fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub(crate) fn print_diff(diff: &DiffSet, revision: Option<&Revision>, format: DiffFormat) -> anyhow::Result<()> {
    let options = OutputOptions::default().color(use_color());
    let mut out = std::io::stdout().lock();
    match format {
        DiffFormat::Names => {
            for d in diff.diffs.iter().filter(|d| d.action.is_write()) {
                match d.action {
                    Action::Delete => writeln!(out, "- {} (owned, no longer desired)", d.object)?,
                    _ => writeln!(out, "{} {}", d.action.symbol(), d.object)?,
                }
                for field in &d.fields {
                    writeln!(out, "    {field}")?;
                }
            }
        }
        DiffFormat::Summary => out.write_all(gitops_diff::summary(diff, &options).as_bytes())?,
        DiffFormat::Unified => return Ok(out.write_all(gitops_diff::unified(diff, &options).as_bytes())?),
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &gitops_diff::to_json(diff))?;
            return Ok(writeln!(out)?);
        }
        DiffFormat::Patch => {
            serde_json::to_writer_pretty(&mut out, &gitops_diff::patches(diff))?;
            return Ok(writeln!(out)?);
        }
    }
    writeln!(
        out,
        "Diff{}: {} to create, {} to update, {} to delete, {} unchanged{}",
        source_line(revision),
        diff.count(Action::Create),
        diff.count(Action::Update),
        diff.count(Action::Delete),
        diff.count(Action::Unchanged),
        match diff.count(Action::Excluded) {
            0 => String::new(),
            n => format!(", {n} excluded"),
        }
    )?;
    Ok(())
}

pub(crate) fn print_plan(plan: &Plan, revision: Option<&Revision>, verbose: bool) {
    println!("Plan{}:", source_line(revision));
    print!("{}", gitops_plan::output::text(plan, &gitops_plan::output::TextOptions::default().verbose(verbose)));
}

/// The sync's outcome: each write unless `listed` (the progress display showed them), the
/// objects kept without --prune, and the summary with the time taken.
pub(crate) fn print_sync(
    changes: &ChangeSet,
    revision: Option<&Revision>,
    plan: &Plan,
    dry_run: Option<&str>,
    listed: bool,
    elapsed: std::time::Duration,
) {
    let verb = |a: Action| match a {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Delete => "deleted",
        _ => "unchanged",
    };
    for change in changes.changes.iter().filter(|c| c.action.is_write() && !listed) {
        println!("{} {}", change.object, verb(change.action));
    }
    for orphan in &plan.orphans {
        println!("{orphan} kept (no longer desired; use --prune to delete)");
    }
    let mode = dry_run.map(|m| format!(" (dry run, {m})")).unwrap_or_default();
    println!("Synced{}{mode}: {} in {:.2}s", source_line(revision), changes.summary(), elapsed.as_secs_f64());
}
