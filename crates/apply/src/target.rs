//! The `Target` trait: where objects are applied.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use gitops_core::{Health, Inventory, Object, ObjectRef, is_cluster_scoped, split_api_version};

use crate::health::{HealthChecks, HealthStatus};

/// Options for one apply.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// The field manager that owns what is applied (server-side apply).
    pub field_manager: String,
    /// Take ownership of fields another manager owns.
    pub force: bool,
    /// Run every check but store nothing.
    pub dry_run: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { field_manager: "gitops".to_owned(), force: false, dry_run: false }
    }
}

impl ApplyOptions {
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

    /// Sets dry-run.
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
}

/// How a delete treats the object's dependents (Kubernetes `propagationPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Propagation {
    /// Delete the object now, its dependents in the background (the server's default).
    #[default]
    Background,
    /// Delete the dependents first, then the object.
    Foreground,
    /// Leave the dependents in place.
    Orphan,
}

/// Options for one delete.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct DeleteOptions {
    /// Run every check but delete nothing.
    pub dry_run: bool,
    /// What happens to the object's dependents.
    pub propagation: Propagation,
}

impl DeleteOptions {
    /// Sets the propagation policy.
    #[must_use]
    pub fn propagation(mut self, propagation: Propagation) -> Self {
        self.propagation = propagation;
        self
    }

    /// Sets dry-run.
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
}

/// What kind of failure a [`TargetError`] is, for retry and reporting decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetErrorKind {
    /// The object does not exist.
    NotFound,
    /// Another writer got there first (a stale write): re-reading and re-applying fixes it.
    Conflict,
    /// Fields of the object are owned by another field manager; applying them needs a
    /// decision (change them there, or force the apply).
    Ownership,
    /// The target rejected the object as invalid.
    Invalid,
    /// A failure that may pass on retry (timeouts, throttling, unavailability).
    Transient,
    /// Anything else.
    Other,
}

/// An error from a target, about one object (or the inventory).
#[derive(Debug, thiserror::Error)]
#[error("{}{message}", object.as_ref().map(|o| format!("{o}: ")).unwrap_or_default())]
pub struct TargetError {
    /// What kind of failure.
    pub kind: TargetErrorKind,
    /// The object it is about, if any (boxed to keep `Result`s small).
    pub object: Option<Box<ObjectRef>>,
    /// What went wrong, in this layer's words.
    pub message: String,
    /// The cause.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TargetError {
    /// A new error.
    pub fn new(kind: TargetErrorKind, object: Option<&ObjectRef>, message: impl Into<String>) -> Self {
        TargetError { kind, object: object.cloned().map(Box::new), message: message.into(), source: None }
    }

    /// The same error with a cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Whether retrying may succeed.
    pub fn is_transient(&self) -> bool {
        self.kind == TargetErrorKind::Transient
    }

    /// Whether the failure is a conflict: a stale write, or fields another manager owns.
    pub fn is_conflict(&self) -> bool {
        matches!(self.kind, TargetErrorKind::Conflict | TargetErrorKind::Ownership)
    }

    /// Whether the object was not found.
    pub fn is_not_found(&self) -> bool {
        self.kind == TargetErrorKind::NotFound
    }
}

/// A change to a member of an inventory, seen by [`Target::watch`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemberChange {
    /// The object was created or modified (by anyone, this applier included).
    Changed(ObjectRef),
    /// The object was deleted.
    Deleted(ObjectRef),
    /// The watch started over (after a gap, such as an expired resource version): changes may
    /// have been missed, so compare everything again.
    Resynced,
}

/// The stream [`Target::watch`] returns. It ends when the target cannot watch any more; errors
/// in it are reported and the watch goes on.
pub type MemberChanges = futures::stream::BoxStream<'static, Result<MemberChange, TargetError>>;

/// What a target knows about a kind: the result of [`Target::discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindInfo {
    /// `group/version` (`v1` for the core group) the target serves the kind at.
    pub api_version: String,
    /// The kind.
    pub kind: String,
    /// The resource name in URLs (`deployments`), when the target has one.
    pub plural: Option<String>,
    /// Whether objects of the kind live in a namespace.
    pub namespaced: bool,
}

/// Where objects are applied: a Kubernetes cluster, a folder of hydrated manifests, memory, or
/// anything else a user implements.
///
/// The trait is object safe (`Box<dyn Target>`) and async. Implementations must be idempotent:
/// applying the same object twice leaves the target as after the first apply, and writes
/// nothing the second time.
///
/// # Writing a target
///
/// To write a target for something that is not Kubernetes (Terraform state, a Nomad cluster, a
/// folder), implement the required methods:
/// - [`Target::get`]: the live copy of an object, or `None`;
/// - [`Target::apply`]: create or update an object and return what is now stored, honouring
///   [`ApplyOptions::dry_run`] (check, store nothing) and, where ownership exists, the field
///   manager and [`ApplyOptions::force`];
/// - [`Target::delete`]: remove an object (deleting a missing object is not an error);
/// - [`Target::load_inventory`] / [`Target::save_inventory`]: persist the named inventory, the
///   set of objects this application owns, so that prune knows what it may delete.
///
/// The provided methods have defaults that suit a store without a type system or controllers;
/// override them when the target knows better:
/// - [`Target::discover`]: which kinds exist and their scope (default: every kind exists, scoped
///   as in Kubernetes);
/// - [`Target::list_inventory`]: the objects the target itself marks as members of an inventory
///   (default: the stored inventory's objects);
/// - [`Target::member_labels`]: labels every applied member carries (default: none);
/// - [`Target::list_labelled`]: the objects of a kind and namespace that carry those labels,
///   in one request (default: not supported, objects are read one by one);
/// - [`Target::assess`] / [`Target::health`]: an object's health (default: the checks' verdict
///   on the live copy);
/// - [`Target::live_is_last_applied`]: whether `get` returns exactly what was applied;
/// - [`Target::watch`]: a stream of changes to an inventory's members (default: none, and the
///   reconciler finds drift at its interval instead).
///
/// Errors are [`TargetError`]s whose [`TargetErrorKind`] drives the applier: transient errors
/// are retried with backoff, conflicts on update are re-read and re-applied, not-found is
/// reported as such.
#[async_trait]
pub trait Target: Send + Sync + fmt::Debug {
    /// A short description for messages: `dir:/path`, `memory`, `cluster https://...`.
    fn describe(&self) -> String;

    /// What the target knows about a kind, or `None` when it does not serve it. Kubernetes
    /// targets answer from API discovery (refreshed when a kind is missing, since a CRD may
    /// just have been created).
    async fn discover(&self, api_version: &str, kind: &str) -> Result<Option<KindInfo>, TargetError> {
        let group = split_api_version(api_version).0;
        Ok(Some(KindInfo {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            plural: None,
            namespaced: !is_cluster_scoped(group, kind),
        }))
    }

    /// The live copy of an object, or `None` when it does not exist.
    async fn get(&self, object: &ObjectRef) -> Result<Option<Object>, TargetError>;

    /// The live objects of `like`'s kind in `like`'s namespace that carry every one of
    /// `labels` (the [`Target::member_labels`] of an inventory), to read many objects with one
    /// request. `None` when the target cannot list that way (the default); callers then read
    /// objects one by one with [`Target::get`]. Objects without the labels are not returned:
    /// callers read those with `get` too.
    async fn list_labelled(
        &self,
        _like: &ObjectRef,
        _labels: &BTreeMap<String, String>,
    ) -> Result<Option<Vec<Object>>, TargetError> {
        Ok(None)
    }

    /// The objects (with their `apiVersion`s) the target marks as members of the named
    /// inventory. The applier owns these as well as the stored inventory's, so that an object
    /// written by a sync that died before saving its inventory is still pruned later.
    async fn list_inventory(&self, name: &str) -> Result<Vec<(ObjectRef, String)>, TargetError> {
        let inventory = self.load_inventory(name).await?.unwrap_or_default();
        Ok(inventory.objects.into_iter().collect())
    }

    /// Labels every member of the named inventory carries when applied (the ApplySet `part-of`
    /// label on Kubernetes). Callers add them to the desired objects before diffing.
    fn member_labels(&self, _inventory: &str) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Creates or updates an object; returns what the target now holds (what it would hold, in a dry run).
    async fn apply(&self, object: &Object, options: &ApplyOptions) -> Result<Object, TargetError>;

    /// Deletes an object, addressed by identity and `apiVersion`. A missing object is not an error.
    async fn delete(&self, object: &ObjectRef, api_version: &str, options: &DeleteOptions) -> Result<(), TargetError>;

    /// The health of a live copy (default: what `checks` say of it). A target whose objects
    /// run nowhere (a folder) says healthy.
    fn assess(&self, live: &Object, checks: &HealthChecks) -> HealthStatus {
        checks.assess(live)
    }

    /// The object's health now: [`Health::Missing`] when absent, else [`Target::assess`] of its
    /// live copy.
    async fn health(&self, object: &ObjectRef, checks: &HealthChecks) -> Result<HealthStatus, TargetError> {
        Ok(match self.get(object).await? {
            Some(live) => self.assess(&live, checks),
            None => HealthStatus::new(Health::Missing, "not found"),
        })
    }

    /// Whether [`Target::get`] returns exactly what was last applied (a store without defaults
    /// or controllers), so a diff may use the live copy as the last-applied one.
    fn live_is_last_applied(&self) -> bool {
        false
    }

    /// Watches the members of the named inventory among objects of `kinds` (`(apiVersion,
    /// kind)` pairs) and reports each change, so drift is seen as it happens. Only objects that
    /// carry the inventory's member label ([`Target::member_labels`]) are watched, never whole
    /// kinds. `None` (the default): the target cannot watch.
    async fn watch(&self, _inventory: &str, _kinds: &[(String, String)]) -> Result<Option<MemberChanges>, TargetError> {
        Ok(None)
    }

    /// The named inventory, or `None` when the application never synced to this target.
    async fn load_inventory(&self, name: &str) -> Result<Option<Inventory>, TargetError>;

    /// Stores the named inventory.
    async fn save_inventory(&self, name: &str, inventory: &Inventory) -> Result<(), TargetError>;
}
