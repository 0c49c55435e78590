//! A `Target` that is not Kubernetes: a key-value store (think etcd or Consul) that keeps each
//! object as canonical JSON under `objects/<group>/<Kind>/<namespace>/<name>`, with a
//! modification revision per key, and each application's inventory under `inventories/<name>`.
//!
//! The example renders `examples/guestbook` from disk, then runs the real pipeline through the
//! [`Applier`]: observe, three-way diff, plan, apply. It syncs twice (the second sync writes
//! nothing), then drops the Service from the desired set and syncs with pruning, which deletes it
//! from the store because the inventory says the application owned it.
//!
//! ```text
//! cargo run --example custom_target
//! ```

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use gitops_apply::health::{HealthChecks, HealthStatus};
use gitops_apply::{Applier, ApplierOptions, ApplyOptions, DeleteOptions, Target, TargetError, TargetErrorKind};
use gitops_core::{ChangeSet, DiskTree, Inventory, ManifestSet, Object, ObjectRef};
use gitops_diff::{Inputs, ThreeWayDiff};
use gitops_plan::PlanOptions;
use gitops_render::RenderOptions;

/// One stored value and the store revision that last wrote it.
#[derive(Debug, Clone)]
struct Entry {
    value: String,
    mod_revision: u64,
}

/// A key-value store with a global revision counter, as etcd has.
#[derive(Debug, Default)]
struct KvTarget {
    state: Mutex<(BTreeMap<String, Entry>, u64)>,
}

impl KvTarget {
    fn key(object: &ObjectRef) -> String {
        let group = if object.group.is_empty() { "core" } else { object.group.as_str() };
        let namespace = object.namespace.as_deref().unwrap_or("_cluster");
        format!("objects/{group}/{}/{namespace}/{}", object.kind, object.name)
    }

    fn read(&self, key: &str) -> Option<Entry> {
        self.state.lock().expect("the store lock is never poisoned").0.get(key).cloned()
    }

    fn write(&self, key: String, value: Option<String>) -> u64 {
        let mut state = self.state.lock().expect("the store lock is never poisoned");
        state.1 += 1;
        let revision = state.1;
        match value {
            Some(value) => state.0.insert(key, Entry { value, mod_revision: revision }),
            None => state.0.remove(&key),
        };
        revision
    }

    /// The keys under `prefix`, with the revision that last wrote each.
    fn keys(&self, prefix: &str) -> Vec<(String, u64)> {
        let state = self.state.lock().expect("the store lock is never poisoned");
        state
            .0
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, e)| (k.clone(), e.mod_revision))
            .collect()
    }

    fn revision(&self) -> u64 {
        self.state.lock().expect("the store lock is never poisoned").1
    }
}

fn invalid(object: Option<&ObjectRef>, error: &serde_json::Error) -> TargetError {
    TargetError::new(TargetErrorKind::Invalid, object, format!("stored value is not an object: {error}"))
}

#[async_trait]
impl Target for KvTarget {
    fn describe(&self) -> String {
        "kv store".to_owned()
    }

    /// The store keeps exactly what was applied, so the diff may use it as the last-applied copy.
    fn live_is_last_applied(&self) -> bool {
        true
    }

    /// Nothing runs in a store, so what is stored is as healthy as it will get.
    fn assess(&self, _live: &Object, _checks: &HealthChecks) -> HealthStatus {
        HealthStatus::healthy()
    }

    async fn get(&self, object: &ObjectRef) -> Result<Option<Object>, TargetError> {
        let Some(entry) = self.read(&Self::key(object)) else { return Ok(None) };
        let value = serde_json::from_str(&entry.value).map_err(|e| invalid(Some(object), &e))?;
        Object::from_value(value)
            .map(Some)
            .map_err(|e| TargetError::new(TargetErrorKind::Invalid, Some(object), e.to_string()))
    }

    async fn apply(&self, object: &Object, options: &ApplyOptions) -> Result<Object, TargetError> {
        if !options.dry_run {
            let text = serde_json::to_string(object).map_err(|e| invalid(Some(&object.object_ref()), &e))?;
            self.write(Self::key(&object.object_ref()), Some(text));
        }
        Ok(object.clone())
    }

    async fn delete(&self, object: &ObjectRef, _api_version: &str, options: &DeleteOptions) -> Result<(), TargetError> {
        let key = Self::key(object);
        if !options.dry_run && self.read(&key).is_some() {
            self.write(key, None);
        }
        Ok(())
    }

    async fn load_inventory(&self, name: &str) -> Result<Option<Inventory>, TargetError> {
        let Some(entry) = self.read(&format!("inventories/{name}")) else { return Ok(None) };
        serde_json::from_str(&entry.value).map(Some).map_err(|e| invalid(None, &e))
    }

    async fn save_inventory(&self, name: &str, inventory: &Inventory) -> Result<(), TargetError> {
        let text = serde_json::to_string(inventory).map_err(|e| invalid(None, &e))?;
        self.write(format!("inventories/{name}"), Some(text));
        Ok(())
    }
}

/// Observe, diff, plan and apply `desired` to `target` as the application `guestbook`.
async fn sync(
    target: &dyn Target,
    desired: &ManifestSet,
    prune: bool,
) -> Result<ChangeSet, Box<dyn std::error::Error>> {
    let applier = Applier::new(target, ApplierOptions::default().inventory("guestbook"));
    let observed = applier.observe(desired).await?;
    let mut inputs = Inputs::new(&observed.desired, &observed.live, &observed.inventory);
    if observed.live_is_last_applied {
        inputs = inputs.last_applied(&observed.live);
    }
    let diff = ThreeWayDiff::default().diff(&inputs);
    let plan = gitops_plan::plan(&diff, &PlanOptions::default().prune(prune))?;
    Ok(applier.run(&plan, observed).await?.changes)
}

/// Runs the three syncs; returns the store's keys at the end and its revision after each sync.
async fn run() -> Result<(Vec<(String, u64)>, [u64; 3]), Box<dyn std::error::Error>> {
    let guestbook = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/guestbook");
    let tree = DiskTree::new(guestbook)?;
    let desired = gitops_render::render(&tree, "", &RenderOptions::default().namespace("guestbook"))?;
    let target = KvTarget::default();

    let first = sync(&target, &desired, false).await?;
    let mut revisions = [target.revision(), 0, 0];
    println!("first sync:  {} (store revision {})", first.summary(), revisions[0]);
    let again = sync(&target, &desired, false).await?;
    revisions[1] = target.revision();
    println!("second sync: {} (store revision {})", again.summary(), revisions[1]);

    let without_service =
        ManifestSet::from_manifests(desired.iter().filter(|m| m.object_ref().kind != "Service").cloned())?;
    let pruned = sync(&target, &without_service, true).await?;
    revisions[2] = target.revision();
    println!("prune sync:  {} (store revision {})", pruned.summary(), revisions[2]);

    let keys = target.keys("objects/");
    for (key, revision) in &keys {
        println!("  {key}  (mod revision {revision})");
    }
    Ok((keys, revisions))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(run())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn syncs_then_prunes_the_service() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let (keys, revisions) = runtime.block_on(super::run()).expect("the example runs");
        let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        assert!(names.iter().any(|k| k.starts_with("objects/apps/Deployment/guestbook/")), "{names:?}");
        assert!(!names.iter().any(|k| k.contains("/Service/")), "the Service was pruned: {names:?}");
        // The second sync wrote nothing at all, and the prune sync wrote only the deletion and the
        // inventory: every object kept the revision the first sync gave it.
        assert_eq!(revisions[1], revisions[0], "{revisions:?}");
        assert_eq!(revisions[2], revisions[1] + 2, "{revisions:?}");
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert!(keys.iter().all(|(_, revision)| *revision <= revisions[0]), "{keys:?}");
    }
}
