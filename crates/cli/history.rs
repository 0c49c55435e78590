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
use gitops_reconcile::PinAction;
use serde_json::json;

use crate::flags::{HistoryArgs, HistoryFormat};

/// Refuses a plain sync of a pinned application to any revision other than the pinned one
/// (gitops-reconcile's pin policy, which the reconciler follows too).
pub(crate) async fn check_pin(
    target: &dyn Target,
    name: &str,
    revision: Option<&Revision>,
    pin: PinAction,
) -> anyhow::Result<()> {
    if pin != PinAction::Keep {
        return Ok(());
    }
    let inventory = load(target, name).await?;
    Ok(gitops_reconcile::check_pin(name, inventory.as_ref(), revision, pin)?)
}

/// After a successful sync, sets or releases the pin as `pin` says.
pub(crate) async fn update_pin(
    target: &dyn Target,
    name: &str,
    mut inventory: Inventory,
    revision: Option<&Revision>,
    pin: PinAction,
) -> anyhow::Result<()> {
    if !gitops_reconcile::update_pin(name, &mut inventory, revision, pin)? {
        return Ok(());
    }
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
