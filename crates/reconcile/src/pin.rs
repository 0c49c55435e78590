//! The pin a rollback sets: while an application is pinned at a revision, nothing moves it to
//! another one (neither `gitops sync` nor the reconciler) until it is released.
//!
//! The pin lives in the inventory itself ([`Inventory::pinned`]), which every target stores with
//! the application: in the ApplySet parent Secret on a cluster, in `_inventory/APP.json` for a
//! folder. So it travels with the cluster state, and every machine that syncs the application
//! sees it.

use gitops_core::{Inventory, Revision};

/// What a sync does to the application's pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinAction {
    /// A plain sync: refused when pinned at another revision, leaves the pin as it is.
    Keep,
    /// Syncs whatever was asked, and releases the pin (`gitops sync --unpin`).
    Release,
    /// Syncs and pins the application at the synced revision (`gitops rollback`).
    Set,
}

/// A sync that the pin refuses, or a pin that cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    /// The application is pinned at another revision.
    #[error(
        "application {application} is pinned at {pinned} by `gitops rollback`; refusing to sync it to {wanted}. \
         Release the pin with `gitops sync --unpin` (which syncs) or `gitops rollback {application} --unpin`"
    )]
    Pinned {
        /// The application.
        application: String,
        /// The pinned revision, as recorded.
        pinned: String,
        /// What the sync wanted (a revision, or "a local folder").
        wanted: String,
    },
    /// Pinning needs a revision from Git.
    #[error("cannot pin {application}: a rollback needs a revision from a repository")]
    NoRevision {
        /// The application.
        application: String,
    },
}

/// The commit of a revision as recorded (`main@sha1:<hex>`, `sha1:<hex>`): the hex after the
/// algorithm; anything else is returned as it is (a rev-parse form for the repository).
///
/// ```
/// use gitops_reconcile::pinned_commit;
/// let hex = "0123456789abcdef0123456789abcdef01234567";
/// assert_eq!(pinned_commit(&format!("main@sha1:{hex}")), hex);
/// assert_eq!(pinned_commit("main~1"), "main~1");
/// ```
pub fn pinned_commit(recorded: &str) -> &str {
    let after_ref = recorded.rsplit_once('@').map_or(recorded, |(_, rest)| rest);
    match after_ref.split_once(':') {
        Some(("sha1" | "sha256", hex)) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => hex,
        _ => recorded,
    }
}

/// Refuses a plain sync ([`PinAction::Keep`]) of an application pinned at another revision than
/// `revision` (`None`: a local folder, never the pinned commit).
pub fn check_pin(
    application: &str,
    inventory: Option<&Inventory>,
    revision: Option<&Revision>,
    action: PinAction,
) -> Result<(), PinError> {
    if action != PinAction::Keep {
        return Ok(());
    }
    let Some(pinned) = inventory.and_then(|i| i.pinned.as_deref()) else { return Ok(()) };
    if revision.is_some_and(|r| r.commit == pinned_commit(pinned)) {
        return Ok(());
    }
    Err(PinError::Pinned {
        application: application.to_owned(),
        pinned: pinned.to_owned(),
        wanted: revision.map_or_else(|| "a local folder".to_owned(), ToString::to_string),
    })
}

/// After a successful sync, sets or releases the pin in `inventory` as `action` says. Returns
/// whether the inventory changed (and must be saved).
pub fn update_pin(
    application: &str,
    inventory: &mut Inventory,
    revision: Option<&Revision>,
    action: PinAction,
) -> Result<bool, PinError> {
    let wanted = match action {
        PinAction::Keep => return Ok(false),
        PinAction::Release => None,
        PinAction::Set => {
            Some(revision.ok_or_else(|| PinError::NoRevision { application: application.to_owned() })?.to_string())
        }
    };
    if inventory.pinned == wanted {
        return Ok(false);
    }
    inventory.pinned = wanted;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn recorded_revisions_become_commits() {
        assert_eq!(pinned_commit(&format!("main@sha1:{HEX}")), HEX);
        assert_eq!(pinned_commit(&format!("sha1:{HEX}")), HEX);
        assert_eq!(pinned_commit(&format!("release/v1@sha1:{HEX}")), HEX);
        assert_eq!(pinned_commit("main~1"), "main~1");
        assert_eq!(pinned_commit("v1.2.0"), "v1.2.0");
        assert_eq!(pinned_commit("sha1:not-hex"), "sha1:not-hex");
    }

    #[test]
    fn a_pin_refuses_other_revisions_only() {
        let inventory = Inventory { pinned: Some(format!("main@sha1:{HEX}")), ..Inventory::default() };
        let same = Revision::new(Some("main"), HEX);
        let other = Revision::new(Some("main"), "f".repeat(40));
        assert_eq!(check_pin("a", Some(&inventory), Some(&same), PinAction::Keep), Ok(()));
        let error = check_pin("a", Some(&inventory), Some(&other), PinAction::Keep).expect_err("refused");
        assert!(error.to_string().contains("pinned at main@sha1:0123"), "{error}");
        assert!(check_pin("a", Some(&inventory), None, PinAction::Keep).is_err());
        assert_eq!(check_pin("a", Some(&inventory), Some(&other), PinAction::Release), Ok(()));
        assert_eq!(check_pin("a", None, Some(&other), PinAction::Keep), Ok(()));
    }

    #[test]
    fn set_and_release() {
        let mut inventory = Inventory::default();
        let revision = Revision::new(Some("main"), HEX);
        assert_eq!(update_pin("a", &mut inventory, Some(&revision), PinAction::Set), Ok(true));
        assert_eq!(inventory.pinned.as_deref(), Some(format!("main@sha1:{HEX}").as_str()));
        assert_eq!(update_pin("a", &mut inventory, Some(&revision), PinAction::Set), Ok(false));
        assert_eq!(update_pin("a", &mut inventory, None, PinAction::Keep), Ok(false));
        assert!(update_pin("a", &mut inventory, None, PinAction::Set).is_err());
        assert_eq!(update_pin("a", &mut inventory, None, PinAction::Release), Ok(true));
        assert_eq!(inventory.pinned, None);
    }
}
