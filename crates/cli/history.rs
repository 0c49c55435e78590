//! `gitops history` and `gitops rollback`: the synced revisions an inventory records, and the
//! pin a rollback sets.
//!
//! The pin lives in the inventory itself (`Inventory::pinned`), which every target stores with
//! the application: in the ApplySet parent Secret's `data.inventory` on a cluster (the embedded
//! one included), in `_inventory/APP.json` for a folder. So it travels with the cluster state,
//! and every machine that syncs the application sees it.

use std::process::ExitCode;

use anyhow::{Context, bail};
use gitops_apply::Target;
use gitops_core::{Inventory, Revision};
use serde_json::json;

use crate::flags::{HistoryArgs, HistoryFormat};

/// What a sync does to the application's pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pin {
    /// A plain sync: refused when pinned at another revision, leaves the pin as it is.
    Keep,
    /// `sync --unpin`: syncs whatever the pin says, and releases it.
    Release,
    /// `rollback`: syncs and pins the application at the synced revision.
    Set,
}

/// The commit of a revision as recorded (`main@sha1:<hex>`, `sha1:<hex>`): the hex after the
/// algorithm; anything else is returned as it is (a rev-parse form for the repository).
pub(crate) fn rev_spec(recorded: &str) -> &str {
    let after_ref = recorded.rsplit_once('@').map_or(recorded, |(_, rest)| rest);
    match after_ref.split_once(':') {
        Some(("sha1" | "sha256", hex)) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => hex,
        _ => recorded,
    }
}

/// Refuses a plain sync of a pinned application to any revision other than the pinned one.
pub(crate) async fn check_pin(
    target: &dyn Target,
    name: &str,
    revision: Option<&Revision>,
    pin: Pin,
) -> anyhow::Result<()> {
    if pin != Pin::Keep {
        return Ok(());
    }
    let inventory = load(target, name).await?;
    let Some(pinned) = inventory.and_then(|i| i.pinned) else { return Ok(()) };
    if revision.is_some_and(|r| r.commit == rev_spec(&pinned)) {
        return Ok(());
    }
    let wanted = revision.map_or_else(|| "a local folder".to_owned(), ToString::to_string);
    bail!(
        "application {name} is pinned at {pinned} by `gitops rollback`; refusing to sync it to {wanted}. \
         Release the pin with `gitops sync --unpin` (which syncs) or `gitops rollback {name} --unpin`"
    )
}

/// After a successful sync, sets or releases the pin as `pin` says.
pub(crate) async fn update_pin(
    target: &dyn Target,
    name: &str,
    mut inventory: Inventory,
    revision: Option<&Revision>,
    pin: Pin,
) -> anyhow::Result<()> {
    let wanted = match pin {
        Pin::Keep => return Ok(()),
        Pin::Release => None,
        Pin::Set => Some(revision.context("a rollback needs a revision from --repo")?.to_string()),
    };
    if inventory.pinned == wanted {
        return Ok(());
    }
    inventory.pinned = wanted;
    target
        .save_inventory(name, &inventory)
        .await
        .with_context(|| format!("cannot record the pin of {name} on {}", target.describe()))
}

/// `gitops rollback APP --unpin`: releases the pin without syncing.
pub(crate) async fn unpin(target: &dyn Target, name: &str) -> anyhow::Result<ExitCode> {
    let Some(mut inventory) = load(target, name).await? else {
        bail!("application {name} was never synced to {}", target.describe())
    };
    match inventory.pinned.take() {
        None => println!("{name} is not pinned"),
        Some(pinned) => {
            target
                .save_inventory(name, &inventory)
                .await
                .with_context(|| format!("cannot release the pin of {name} on {}", target.describe()))?;
            println!("{name} unpinned (was pinned at {pinned}); the next sync moves it");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `gitops history APP`.
pub(crate) async fn history(target: &dyn Target, name: &str, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let Some(inventory) = load(target, name).await? else {
        bail!("application {name} was never synced to {}", target.describe())
    };
    let revisions: Vec<&str> = inventory.revisions().collect();
    match args.output {
        HistoryFormat::Json => {
            let value = json!({
                "name": name,
                "target": target.describe(),
                "revision": inventory.revision,
                "pinned": inventory.pinned,
                "history": revisions,
            });
            crate::output::print_json(&value)?;
        }
        HistoryFormat::Text => {
            let count = revisions.len();
            let plural = if count == 1 { "" } else { "s" };
            println!("{name} on {}: {count} synced revision{plural}, newest first", target.describe());
            for (index, revision) in revisions.iter().enumerate() {
                let mut marks = Vec::new();
                if index == 0 && inventory.revision.is_some() {
                    marks.push("current");
                }
                if inventory.pinned.as_deref() == Some(*revision) {
                    marks.push("pinned");
                }
                let marks = if marks.is_empty() { String::new() } else { format!("  ({})", marks.join(", ")) };
                println!("{:>3}  {revision}{marks}", index + 1);
            }
            if let Some(pinned) = &inventory.pinned {
                println!(
                    "pinned at {pinned} by a rollback: `gitops sync --unpin` or `gitops rollback {name} --unpin` \
                     releases it"
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn load(target: &dyn Target, name: &str) -> anyhow::Result<Option<Inventory>> {
    target
        .load_inventory(name)
        .await
        .with_context(|| format!("cannot read the inventory of {name} from {}", target.describe()))
}

#[cfg(test)]
mod tests {
    use super::rev_spec;

    #[test]
    fn recorded_revisions_become_commits() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(rev_spec(&format!("main@sha1:{hex}")), hex);
        assert_eq!(rev_spec(&format!("sha1:{hex}")), hex);
        assert_eq!(rev_spec(&format!("release/v1@sha1:{hex}")), hex);
        assert_eq!(rev_spec("main~1"), "main~1");
        assert_eq!(rev_spec("v1.2.0"), "v1.2.0");
        assert_eq!(rev_spec("sha1:not-hex"), "sha1:not-hex");
    }
}
