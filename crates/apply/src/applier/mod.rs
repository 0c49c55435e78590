//! The `Applier`: runs a plan against a target, wave by wave, and keeps the inventory.

mod events;
mod retry;
mod run;
mod schedule;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use gitops_core::{ChangeSet, Inventory, Manifest, ManifestSet, Object, ObjectRef};
use gitops_diff::{DiffSet, Inputs, ThreeWayDiff};
use gitops_plan::Plan;

pub use events::{Event, EventSink};
pub use retry::RetryPolicy;

use crate::health::HealthChecks;
use crate::target::{Propagation, Target, TargetError, TargetErrorKind};

/// Options for an [`Applier`].
#[derive(Clone)]
#[non_exhaustive]
pub struct ApplierOptions {
    /// The inventory (application) name.
    pub inventory: String,
    /// The field manager for applies.
    pub field_manager: String,
    /// Take ownership of conflicting fields (and of objects another ApplySet owns, unless
    /// [`ApplierOptions::adopt`] says otherwise).
    pub force: bool,
    /// Take over objects another ApplySet owns; `None` (the default) follows `force`. A
    /// reconciler forces field conflicts (Git wins over hand edits) but never adopts another
    /// application's objects, which would make two applications fight over them.
    pub adopt: Option<bool>,
    /// Check everything, write nothing (the inventory included).
    pub dry_run: bool,
    /// The revision being synced, recorded in the inventory.
    pub revision: Option<String>,
    /// How many earlier revisions the inventory keeps.
    pub history: usize,
    /// How many steps of a wave run at once (at least 1); also bounds concurrent reads.
    pub concurrency: usize,
    /// From how many objects of one kind wanted in one namespace [`Applier::observe`] reads
    /// them with one list ([`Target::list_labelled`]); [`LIST_AT`] by default, `usize::MAX`
    /// for one read per object.
    pub list_at: usize,
    /// Wait for every object of a wave to be healthy before the next wave. Hooks are always
    /// waited for.
    pub wait: bool,
    /// The longest a wave may take, health waits included.
    pub wave_timeout: Option<Duration>,
    /// The longest the whole run may take.
    pub timeout: Option<Duration>,
    /// How often health is polled while waiting.
    pub poll_interval: Duration,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// Stop at the first wave with a failure (the default), or apply everything that can be
    /// applied and report every failure at the end.
    pub fail_fast: bool,
    /// The health checks.
    pub health: HealthChecks,
    /// How prune deletes treat dependents.
    pub prune_propagation: Propagation,
    /// Where events go.
    pub events: Option<EventSink>,
}

impl fmt::Debug for ApplierOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplierOptions")
            .field("inventory", &self.inventory)
            .field("field_manager", &self.field_manager)
            .field("force", &self.force)
            .field("dry_run", &self.dry_run)
            .field("revision", &self.revision)
            .field("concurrency", &self.concurrency)
            .field("list_at", &self.list_at)
            .field("wait", &self.wait)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("fail_fast", &self.fail_fast)
            .finish_non_exhaustive()
    }
}

impl Default for ApplierOptions {
    fn default() -> Self {
        ApplierOptions {
            inventory: "default".to_owned(),
            field_manager: "gitops".to_owned(),
            force: false,
            adopt: None,
            dry_run: false,
            revision: None,
            history: 10,
            concurrency: 16,
            list_at: LIST_AT,
            wait: true,
            wave_timeout: None,
            timeout: Some(Duration::from_secs(300)),
            poll_interval: Duration::from_millis(500),
            retry: RetryPolicy::default(),
            fail_fast: true,
            health: HealthChecks::default(),
            prune_propagation: Propagation::Background,
            events: None,
        }
    }
}

macro_rules! setter {
    ($(#[$doc:meta] $name:ident: $ty:ty),* $(,)?) => {
        $(
            #[$doc]
            #[must_use]
            pub fn $name(mut self, $name: $ty) -> Self {
                self.$name = $name;
                self
            }
        )*
    };
}

impl ApplierOptions {
    setter! {
        /// Sets dry-run.
        dry_run: bool,
        /// Sets the revision recorded in the inventory.
        revision: Option<String>,
        /// Sets whether conflicts are forced.
        force: bool,
        /// Sets whether objects of another ApplySet are taken over (`None`: as `force`).
        adopt: Option<bool>,
        /// Sets whether health is awaited between waves.
        wait: bool,
        /// Sets the per-wave timeout.
        wave_timeout: Option<Duration>,
        /// Sets the overall timeout.
        timeout: Option<Duration>,
        /// Sets the health polling interval.
        poll_interval: Duration,
        /// Sets the retry policy.
        retry: RetryPolicy,
        /// Sets fail-fast (true) or continue (false).
        fail_fast: bool,
        /// Sets the health checks.
        health: HealthChecks,
        /// Sets how prune deletes treat dependents.
        prune_propagation: Propagation,
    }

    /// Sets the inventory name.
    #[must_use]
    pub fn inventory(mut self, name: impl Into<String>) -> Self {
        self.inventory = name.into();
        self
    }

    /// Sets the field manager.
    #[must_use]
    pub fn field_manager(mut self, manager: impl Into<String>) -> Self {
        self.field_manager = manager.into();
        self
    }

    /// Sets how many steps run at once.
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets from how many objects of a kind in a namespace observing lists them (see
    /// [`ApplierOptions::list_at`]).
    #[must_use]
    pub fn list_at(mut self, objects: usize) -> Self {
        self.list_at = objects.max(1);
        self
    }

    /// Sends events to `sink`.
    #[must_use]
    pub fn on_event(mut self, sink: impl Fn(Event) + Send + Sync + 'static) -> Self {
        self.events = Some(Arc::new(sink));
        self
    }
}

/// The live state an [`Applier`] observed for a desired set.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The desired objects as they will be applied: with the target's member labels (the
    /// ApplySet `part-of` label on Kubernetes). Diff these, not the rendered set.
    pub desired: ManifestSet,
    /// Live objects by identity (missing objects are absent): every desired and owned object.
    pub live: BTreeMap<ObjectRef, Object>,
    /// What the application owns: the stored inventory, plus objects the target marks as
    /// members (written by a sync that died before saving its inventory).
    pub inventory: Inventory,
    /// Whether the live objects are exactly what was last applied (see
    /// [`Target::live_is_last_applied`]): a diff may then use them as the last-applied ones.
    pub live_is_last_applied: bool,
}

impl Observed {
    /// The three-way diff of `desired` (usually [`Observed::desired`], or what a server-side dry
    /// run made of it) against this live state. What was applied last is the live object itself
    /// for targets that store exactly that (folders, memory), else `field_manager`'s entries in
    /// `managedFields`.
    #[must_use]
    pub fn diff(&self, desired: &ManifestSet, field_manager: &str) -> DiffSet {
        let mut inputs = Inputs::new(desired, &self.live, &self.inventory);
        if self.live_is_last_applied {
            inputs = inputs.last_applied(&self.live);
        }
        ThreeWayDiff::default().field_manager(field_manager).diff(&inputs)
    }
}

/// What a successful run did.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Every step's outcome, in order.
    pub changes: ChangeSet,
    /// The inventory as stored after the run.
    pub inventory: Inventory,
}

/// One object that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The object (the inventory's parent, for inventory failures).
    pub object: Option<ObjectRef>,
    /// Why, in full.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.object {
            Some(object) if !self.message.starts_with(&object.to_string()) => write!(f, "{object}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// A run that failed part way. `changes` holds what was done before (and despite) the failure;
/// the inventory on the target covers every object that may have been created, so the next
/// sync converges.
#[derive(Debug, thiserror::Error)]
#[error(
    "sync failed after {} writes: {}",
    changes.changes.iter().filter(|c| c.action.is_write()).count(),
    failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
)]
pub struct ApplyError {
    /// What was done.
    pub changes: ChangeSet,
    /// Every failure, in the order they happened (at least one).
    pub failures: Vec<Failure>,
    /// The object whose step failed first, if the failure was about one.
    pub object: Option<ObjectRef>,
    /// The first failure's cause.
    #[source]
    pub source: TargetError,
}

/// The objects wanted from one list, and what the list returned (`None`: the target cannot list).
type Listed = (Vec<ObjectRef>, Option<Vec<Object>>);

/// Objects of one kind wanted in one namespace from this many on are read with one list (see
/// [`Target::list_labelled`]) rather than one request each.
pub const LIST_AT: usize = 8;

/// Runs plans against a [`Target`].
///
/// The run goes wave by wave; the steps of a wave run concurrently (up to
/// [`ApplierOptions::concurrency`]), and the next wave starts once every object of this one is
/// healthy ([`ApplierOptions::wait`]). Hooks run as real objects: the previous copy is deleted
/// first, the hook applied and awaited, then deleted as its policy says. Transient failures
/// are retried ([`RetryPolicy`]).
///
/// Safety: before anything is written, every kind is checked to be served (or defined by a CRD
/// in the plan); before its first write, the applier stores an inventory that includes every
/// object the plan may create, so an interrupted sync leaves nothing untracked; prune never
/// deletes an object another ApplySet owns. After the last step it stores the final inventory
/// with the synced revision. A dry run writes nothing at all.
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

    /// The options.
    pub fn options(&self) -> &ApplierOptions {
        &self.options
    }

    /// Reads the inventory and the live copy of every desired and owned object, concurrently:
    /// objects of a kind wanted [`ApplierOptions::list_at`] or more times in one namespace with one list by the
    /// member labels, where the target supports it ([`Target::list_labelled`]).
    pub async fn observe(&self, desired: &ManifestSet) -> Result<Observed, TargetError> {
        let name = &self.options.inventory;
        let mut inventory = self.target.load_inventory(name).await?.unwrap_or_default();
        for (object, api_version) in self.target.list_inventory(name).await? {
            inventory.objects.entry(object).or_insert(api_version);
        }
        let labels = self.target.member_labels(name);
        let stamped = desired.iter().cloned().map(|mut manifest: Manifest| {
            for (key, value) in &labels {
                manifest.object.set_label(key, value);
            }
            manifest
        });
        let desired = ManifestSet::from_manifests(stamped).map_err(|e| {
            TargetError::new(TargetErrorKind::Invalid, None, "the desired set is invalid").with_source(e)
        })?;
        let owned = inventory.objects.keys().filter(|r| !desired.contains(r)).cloned();
        let refs: Vec<ObjectRef> = desired.iter().map(Manifest::object_ref).chain(owned).collect();
        let live = self.read_live(refs, &labels).await?;
        Ok(Observed { desired, live, inventory, live_is_last_applied: self.target.live_is_last_applied() })
    }

    /// Reads the live copies of `refs`, concurrently. Where `list_at` or more objects of one
    /// kind are wanted in one namespace, they are read with one list by the member labels (when
    /// the target can); the others, and those the list did not return (not created yet, or
    /// never labelled as members), are read one by one.
    async fn read_live(
        &self,
        refs: Vec<ObjectRef>,
        labels: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<ObjectRef, Object>, TargetError> {
        let mut live = BTreeMap::new();
        let mut singles = Vec::new();
        let mut groups: BTreeMap<(String, String, Option<String>), Vec<ObjectRef>> = BTreeMap::new();
        for object in refs {
            if labels.is_empty() {
                singles.push(object);
            } else {
                let group = (object.group.clone(), object.kind.clone(), object.namespace.clone());
                groups.entry(group).or_default().push(object);
            }
        }
        let (lists, few): (Vec<Vec<ObjectRef>>, Vec<Vec<ObjectRef>>) =
            groups.into_values().partition(|wanted| wanted.len() >= self.options.list_at);
        singles.extend(few.into_iter().flatten());
        let listed: Vec<Result<Listed, TargetError>> = futures::stream::iter(lists)
            .map(|wanted| async move {
                let Some(like) = wanted.first() else { return Ok((wanted, Some(Vec::new()))) };
                let found = self.options.retry.run(|| self.target.list_labelled(like, labels), |_, _| {}).await?;
                Ok((wanted, found))
            })
            .buffer_unordered(self.options.concurrency)
            .collect()
            .await;
        for result in listed {
            let (wanted, found) = result?;
            let Some(found) = found else {
                singles.extend(wanted);
                continue;
            };
            let mut by_name: HashMap<String, Object> = found.into_iter().map(|o| (o.name().to_owned(), o)).collect();
            for object in wanted {
                match by_name.remove(&object.name) {
                    Some(found) => {
                        live.insert(object, found);
                    }
                    None => singles.push(object),
                }
            }
        }
        let found: Vec<Result<(ObjectRef, Option<Object>), TargetError>> = futures::stream::iter(singles)
            .map(|object| async move {
                let live = self.options.retry.run(|| self.target.get(&object), |_, _| {}).await?;
                Ok((object, live))
            })
            .buffer_unordered(self.options.concurrency)
            .collect()
            .await;
        for result in found {
            if let (object, Some(found)) = result? {
                live.insert(object, found);
            }
        }
        Ok(live)
    }

    /// Settles the plan's references to objects outside it: those the target holds are no
    /// longer warned about (see [`Plan::resolve`]); the others stay as warnings.
    pub async fn resolve_references(&self, plan: &mut Plan) -> Result<(), TargetError> {
        let mut existing = std::collections::BTreeSet::new();
        for object in plan.unresolved() {
            if self.target.get(object).await?.is_some() {
                existing.insert(object.clone());
            }
        }
        plan.resolve(&existing);
        Ok(())
    }

    pub(crate) fn emit(&self, event: Event) {
        if let Some(sink) = &self.options.events {
            sink(event);
        }
    }
}

impl Applier<'_> {
    /// The desired objects as the target would store them: each applied in a dry run (server-side
    /// dry run on Kubernetes, with defaulting, admission and the merge with other managers'
    /// fields). `gitops diff --server-side` diffs these against the live objects.
    pub async fn dry_run_desired(&self, desired: &ManifestSet) -> Result<ManifestSet, TargetError> {
        let options = crate::target::ApplyOptions::default()
            .field_manager(self.options.field_manager.clone())
            .force(self.options.force)
            .dry_run(true);
        let options = &options;
        let results: Vec<Result<Manifest, TargetError>> = futures::stream::iter(desired.iter())
            .map(|manifest| async move {
                let applied = self.options.retry.run(|| self.target.apply(&manifest.object, options), |_, _| {}).await;
                let object = match applied {
                    Ok(object) => object,
                    // Its namespace (or CRD) is created by the same sync: compare it as rendered.
                    Err(error) if error.is_not_found() => manifest.object.clone(),
                    Err(error) => return Err(error),
                };
                Ok(Manifest { object, origin: manifest.origin.clone() })
            })
            .buffered(self.options.concurrency)
            .collect()
            .await;
        let manifests = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        ManifestSet::from_manifests(manifests).map_err(|e| {
            TargetError::new(TargetErrorKind::Invalid, None, "the dry-run objects do not form a set").with_source(e)
        })
    }
}
