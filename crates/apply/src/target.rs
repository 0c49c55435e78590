//! The `Target` trait: where objects are applied.

use std::fmt;

use async_trait::async_trait;
use gitops_core::{Inventory, Object, ObjectRef};

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

/// Options for one delete.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct DeleteOptions {
    /// Run every check but delete nothing.
    pub dry_run: bool,
}

impl DeleteOptions {
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
    /// Another writer got there first, or owns the field.
    Conflict,
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

    /// Whether the failure is a conflict.
    pub fn is_conflict(&self) -> bool {
        self.kind == TargetErrorKind::Conflict
    }

    /// Whether the object was not found.
    pub fn is_not_found(&self) -> bool {
        self.kind == TargetErrorKind::NotFound
    }
}

/// Where objects are applied: a Kubernetes cluster, a folder of hydrated manifests, memory, or
/// anything else a user implements.
///
/// The trait is object safe (`Box<dyn Target>`) and async. Implementations must be idempotent:
/// applying the same object twice leaves the target as after the first apply.
///
/// To write a target for something that is not Kubernetes, implement:
/// - [`Target::get`]: the live copy of an object, or `None`;
/// - [`Target::apply`]: create or update an object and return what is now stored;
/// - [`Target::delete`]: remove an object (deleting a missing object is not an error);
/// - [`Target::load_inventory`] / [`Target::save_inventory`]: persist the named inventory, the
///   set of objects this application owns, so that prune knows what it may delete.
#[async_trait]
pub trait Target: Send + Sync + fmt::Debug {
    /// A short description for messages: `dir:/path`, `memory`, `cluster https://...`.
    fn describe(&self) -> String;

    /// The live copy of an object, or `None` when it does not exist.
    async fn get(&self, object: &ObjectRef) -> Result<Option<Object>, TargetError>;

    /// Creates or updates an object; returns what the target now holds (what it would hold, in a dry run).
    async fn apply(&self, object: &Object, options: &ApplyOptions) -> Result<Object, TargetError>;

    /// Deletes an object, addressed by identity and `apiVersion`. A missing object is not an error.
    async fn delete(&self, object: &ObjectRef, api_version: &str, options: &DeleteOptions) -> Result<(), TargetError>;

    /// The named inventory, or `None` when the application never synced to this target.
    async fn load_inventory(&self, name: &str) -> Result<Option<Inventory>, TargetError>;

    /// Stores the named inventory.
    async fn save_inventory(&self, name: &str, inventory: &Inventory) -> Result<(), TargetError>;
}
