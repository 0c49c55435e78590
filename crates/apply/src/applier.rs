//! The `Applier`: runs a plan against a target and keeps the inventory.

use std::collections::BTreeMap;

use gitops_core::{Action, Change, ChangeSet, Inventory, ManifestSet, Object, ObjectRef};
use gitops_plan::{Phase, Plan};

use crate::target::{ApplyOptions, DeleteOptions, Target, TargetError};

/// Options for an [`Applier`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApplierOptions {
    /// The inventory (application) name.
    pub inventory: String,
    /// The field manager for applies.
    pub field_manager: String,
    /// Take ownership of conflicting fields.
    pub force: bool,
    /// Check everything, write nothing (the inventory included).
    pub dry_run: bool,
    /// The revision being synced, recorded in the inventory.
    pub revision: Option<String>,
    /// How many earlier revisions the inventory keeps.
    pub history: usize,
}

impl Default for ApplierOptions {
    fn default() -> Self {
        ApplierOptions {
            inventory: "default".to_owned(),
            field_manager: "gitops".to_owned(),
            force: false,
            dry_run: false,
            revision: None,
            history: 10,
        }
    }
}

impl ApplierOptions {
    /// Sets the inventory name.
    #[must_use]
    pub fn inventory(mut self, name: impl Into<String>) -> Self {
        self.inventory = name.into();
        self
    }

    /// Sets dry-run.
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Sets the revision recorded in the inventory.
    #[must_use]
    pub fn revision(mut self, revision: Option<String>) -> Self {
        self.revision = revision;
        self
    }

    /// Sets the field manager.
    #[must_use]
    pub fn field_manager(mut self, manager: impl Into<String>) -> Self {
        self.field_manager = manager.into();
        self
    }

    /// Sets whether conflicts are forced.
    #[must_use]
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }
}

/// The live state an [`Applier`] observed: the target's copy of every desired and owned object.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Live objects by identity (missing objects are absent).
    pub live: BTreeMap<ObjectRef, Object>,
    /// The application's inventory on the target (empty if it never synced).
    pub inventory: Inventory,
}

/// What a successful run did.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Every step's outcome, in order.
    pub changes: ChangeSet,
    /// The inventory as stored after the run.
    pub inventory: Inventory,
}

/// A run that failed part way. `changes` holds what was done before the failure; the inventory
/// on the target covers every object that may have been created, so the next sync converges.
#[derive(Debug, thiserror::Error)]
#[error("sync stopped after {} of its writes", changes.changes.iter().filter(|c| c.action.is_write()).count())]
pub struct ApplyError {
    /// What was done before the failure.
    pub changes: ChangeSet,
    /// The object whose step failed, if the failure was about one.
    pub object: Option<ObjectRef>,
    /// The cause.
    #[source]
    pub source: TargetError,
}

/// Runs plans against a [`Target`].
///
/// Before its first write, the applier stores an inventory that includes every object the plan
/// may create, so an interrupted sync leaves nothing untracked; after the last step it stores
/// the final inventory (pruned objects removed) with the synced revision. A dry run writes
/// nothing at all.
#[derive(Debug)]
pub struct Applier<'t> {
    target: &'t dyn Target,
    options: ApplierOptions,
}

impl<'t> Applier<'t> {
    /// An applier for `target`.
    pub fn new(target: &'t dyn Target, options: ApplierOptions) -> Self {
        Applier { target, options }
    }

    /// Reads the inventory and the live copy of every desired and owned object.
    pub async fn observe(&self, desired: &ManifestSet) -> Result<Observed, TargetError> {
        let inventory = self.target.load_inventory(&self.options.inventory).await?.unwrap_or_default();
        let mut live = BTreeMap::new();
        let owned = inventory.objects.keys().filter(|r| !desired.contains(r));
        for object in desired.iter().map(gitops_core::Manifest::object_ref).chain(owned.cloned()) {
            if let Some(found) = self.target.get(&object).await? {
                live.insert(object, found);
            }
        }
        Ok(Observed { live, inventory })
    }

    /// Runs the plan; `inventory` is the one [`Applier::observe`] returned.
    pub async fn run(&self, plan: &Plan, mut inventory: Inventory) -> Result<ApplyReport, ApplyError> {
        let dry_run = self.options.dry_run;
        let apply_options = ApplyOptions::default()
            .field_manager(self.options.field_manager.clone())
            .force(self.options.force)
            .dry_run(dry_run);
        let delete_options = DeleteOptions::default().dry_run(dry_run);
        let fail = |changes: &ChangeSet, object: Option<&ObjectRef>, source| ApplyError {
            changes: changes.clone(),
            object: object.cloned(),
            source,
        };

        let before = inventory.clone();
        for step in plan.steps.iter().filter(|s| s.desired.is_some()) {
            inventory.insert(step.object.clone(), step.api_version.clone());
        }
        let mut changes = ChangeSet::default();
        if !dry_run && inventory != before && plan.has_writes() {
            self.save(&inventory).await.map_err(|e| fail(&changes, None, e))?;
        }

        // SyncFail hooks run only when a sync fails, which this applier does not run yet.
        for step in plan.steps.iter().filter(|s| s.phase != Phase::SyncFail) {
            let result = match (step.action, &step.desired) {
                (Action::Create | Action::Update, Some(object)) => {
                    self.target.apply(object, &apply_options).await.map(|_| ())
                }
                (Action::Delete, _) => {
                    let deleted = self.target.delete(&step.object, &step.api_version, &delete_options).await;
                    if deleted.is_ok() {
                        inventory.remove(&step.object);
                    }
                    deleted
                }
                _ => Ok(()),
            };
            if let Err(source) = result {
                tracing::warn!(object = %step.object, error = %source, "step failed");
                if !dry_run {
                    // Keep the deletes that happened out of the inventory; a failure to save is
                    // reported with the step's error, which is the one the user must act on.
                    let _ = self.save(&inventory).await;
                }
                return Err(fail(&changes, Some(&step.object), source));
            }
            tracing::debug!(object = %step.object, action = %step.action, "step done");
            changes.push(Change { object: step.object.clone(), action: step.action, fields: step.fields.clone() });
        }

        if let Some(revision) = &self.options.revision {
            inventory.record_revision(revision, self.options.history);
        }
        if !dry_run && (inventory != before || changes.has_writes()) {
            self.save(&inventory).await.map_err(|e| fail(&changes, None, e))?;
        }
        Ok(ApplyReport { changes, inventory })
    }

    async fn save(&self, inventory: &Inventory) -> Result<(), TargetError> {
        self.target.save_inventory(&self.options.inventory, inventory).await
    }
}
