//! `MemoryTarget`: a target that keeps objects in memory, for tests and dry runs.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use gitops_core::{Inventory, Object, ObjectRef};

use crate::target::{ApplyOptions, DeleteOptions, Target, TargetError};

/// A target that holds objects in memory. It counts writes, so tests can assert that a no-op
/// sync writes nothing.
///
/// ```
/// use gitops_apply::{MemoryTarget, Target, ApplyOptions};
/// # tokio_test(async {
/// let target = MemoryTarget::new();
/// let cm = gitops_core::Object::from_value(serde_json::json!(
///     {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}}))?;
/// target.apply(&cm, &ApplyOptions::default()).await?;
/// assert!(target.get(&cm.object_ref()).await?.is_some());
/// assert_eq!(target.writes(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// # fn tokio_test<F: std::future::Future<Output = Result<(), Box<dyn std::error::Error>>>>(f: F) {
/// #     tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(f).expect("example runs")
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemoryTarget {
    objects: Mutex<BTreeMap<ObjectRef, Object>>,
    inventories: Mutex<BTreeMap<String, Inventory>>,
    writes: AtomicUsize,
}

impl MemoryTarget {
    /// An empty target.
    pub fn new() -> Self {
        MemoryTarget::default()
    }

    /// How many applies and deletes were stored (dry runs excluded).
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// A copy of every stored object.
    pub fn objects(&self) -> BTreeMap<ObjectRef, Object> {
        self.objects.lock().expect("memory target lock is never poisoned").clone()
    }

    /// Stores an object directly, as another writer would (no write is counted).
    pub fn insert(&self, object: Object) {
        self.objects.lock().expect("memory target lock is never poisoned").insert(object.object_ref(), object);
    }
}

#[async_trait]
impl Target for MemoryTarget {
    fn describe(&self) -> String {
        "memory".to_owned()
    }

    fn live_is_last_applied(&self) -> bool {
        true
    }

    async fn get(&self, object: &ObjectRef) -> Result<Option<Object>, TargetError> {
        Ok(self.objects.lock().expect("memory target lock is never poisoned").get(object).cloned())
    }

    async fn apply(&self, object: &Object, options: &ApplyOptions) -> Result<Object, TargetError> {
        if !options.dry_run {
            self.objects
                .lock()
                .expect("memory target lock is never poisoned")
                .insert(object.object_ref(), object.clone());
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(object.clone())
    }

    async fn delete(&self, object: &ObjectRef, _api_version: &str, options: &DeleteOptions) -> Result<(), TargetError> {
        if !options.dry_run
            && self.objects.lock().expect("memory target lock is never poisoned").remove(object).is_some()
        {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }

    async fn load_inventory(&self, name: &str) -> Result<Option<Inventory>, TargetError> {
        Ok(self.inventories.lock().expect("memory target lock is never poisoned").get(name).cloned())
    }

    async fn save_inventory(&self, name: &str, inventory: &Inventory) -> Result<(), TargetError> {
        self.inventories
            .lock()
            .expect("memory target lock is never poisoned")
            .insert(name.to_owned(), inventory.clone());
        Ok(())
    }
}
