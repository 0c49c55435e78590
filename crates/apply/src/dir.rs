//! `DirTarget`: hydrated manifests in a folder, one file per object.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use gitops_core::yaml::{EmitOptions, ReadOptions, to_string};
use gitops_core::{Inventory, Object, ObjectRef, parse_manifests};

use crate::health::{HealthChecks, HealthStatus};
use crate::target::{ApplyOptions, DeleteOptions, Target, TargetError, TargetErrorKind};

/// The folder (beside the namespaces) that holds inventories. Namespace names are DNS labels, so
/// no namespace can be called `_inventory` or `_cluster`.
const INVENTORY_DIR: &str = "_inventory";
const CLUSTER_DIR: &str = "_cluster";

/// A target that writes hydrated manifests to a folder, one file per object, at
/// `<namespace or _cluster>/<Kind[.group]>/<name>.yaml`, in the style of `kubectl kustomize`.
/// Inventories are kept in `_inventory/<name>.json`.
///
/// Writes are atomic (a temporary file renamed into place), so an interrupted sync never leaves a
/// torn file. Names that are not safe path components (`..`, anything with `/`) are refused.
#[derive(Debug, Clone)]
pub struct DirTarget {
    root: PathBuf,
}

impl DirTarget {
    /// A target writing under `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirTarget { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the object's file lives.
    pub fn path_of(&self, object: &ObjectRef) -> Result<PathBuf, TargetError> {
        let namespace = object.namespace.as_deref().unwrap_or(CLUSTER_DIR);
        let kind_dir = object.group_kind();
        for part in [namespace, &kind_dir, &object.name] {
            check_component(part, object)?;
        }
        Ok(self.root.join(namespace).join(kind_dir).join(format!("{}.yaml", object.name)))
    }

    fn inventory_path(&self, name: &str) -> Result<PathBuf, TargetError> {
        if !is_safe_component(name) {
            return Err(TargetError::new(TargetErrorKind::Invalid, None, format!("invalid inventory name {name:?}")));
        }
        Ok(self.root.join(INVENTORY_DIR).join(format!("{name}.json")))
    }
}

fn is_safe_component(part: &str) -> bool {
    !part.is_empty() && part != "." && part != ".." && !part.contains(['/', '\\', '\0'])
}

fn check_component(part: &str, object: &ObjectRef) -> Result<(), TargetError> {
    if is_safe_component(part) {
        Ok(())
    } else {
        Err(TargetError::new(TargetErrorKind::Invalid, Some(object), format!("{part:?} cannot be used as a file name")))
    }
}

fn io_error(object: Option<&ObjectRef>, path: &Path, source: std::io::Error) -> TargetError {
    TargetError::new(TargetErrorKind::Other, object, format!("{}: {source}", path.display())).with_source(source)
}

async fn write_atomic(path: &Path, contents: &[u8], object: Option<&ObjectRef>) -> Result<(), TargetError> {
    let parent = path.parent().expect("target paths always have a parent");
    tokio::fs::create_dir_all(parent).await.map_err(|e| io_error(object, parent, e))?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("object");
    let tmp = parent.join(format!(".{file_name}.tmp-{}", std::process::id()));
    tokio::fs::write(&tmp, contents).await.map_err(|e| io_error(object, &tmp, e))?;
    tokio::fs::rename(&tmp, path).await.map_err(|e| io_error(object, path, e))
}

#[async_trait]
impl Target for DirTarget {
    fn describe(&self) -> String {
        format!("dir:{}", self.root.display())
    }

    fn live_is_last_applied(&self) -> bool {
        true
    }

    /// A folder runs nothing: a stored object is healthy.
    fn assess(&self, _live: &Object, _checks: &HealthChecks) -> HealthStatus {
        HealthStatus::healthy()
    }

    async fn get(&self, object: &ObjectRef) -> Result<Option<Object>, TargetError> {
        let path = self.path_of(object)?;
        let text = match tokio::fs::read_to_string(&path).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(Some(object), &path, e)),
        };
        let file = path.display().to_string();
        let mut manifests = parse_manifests(&text, &file, &ReadOptions::default()).map_err(|e| {
            TargetError::new(TargetErrorKind::Invalid, Some(object), "stored manifest is not valid").with_source(e)
        })?;
        match manifests.len() {
            1 => Ok(Some(manifests.remove(0).object)),
            n => Err(TargetError::new(
                TargetErrorKind::Invalid,
                Some(object),
                format!("{file} holds {n} objects, not 1"),
            )),
        }
    }

    async fn apply(&self, object: &Object, options: &ApplyOptions) -> Result<Object, TargetError> {
        let r = object.object_ref();
        let path = self.path_of(&r)?;
        if !options.dry_run {
            let text = to_string(&object.to_value(), &EmitOptions::default());
            write_atomic(&path, text.as_bytes(), Some(&r)).await?;
        }
        Ok(object.clone())
    }

    async fn delete(&self, object: &ObjectRef, _api_version: &str, options: &DeleteOptions) -> Result<(), TargetError> {
        let path = self.path_of(object)?;
        if options.dry_run {
            return Ok(());
        }
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error(Some(object), &path, e)),
        }
        // Drop the kind and namespace folders once empty; a failure here only leaves an empty folder.
        let mut dir = path.parent();
        for _ in 0..2 {
            let Some(d) = dir else { break };
            if tokio::fs::remove_dir(d).await.is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(())
    }

    async fn load_inventory(&self, name: &str) -> Result<Option<Inventory>, TargetError> {
        let path = self.inventory_path(name)?;
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(None, &path, e)),
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            TargetError::new(TargetErrorKind::Invalid, None, format!("{}: invalid inventory", path.display()))
                .with_source(e)
        })
    }

    async fn save_inventory(&self, name: &str, inventory: &Inventory) -> Result<(), TargetError> {
        let path = self.inventory_path(name)?;
        let mut bytes = serde_json::to_vec_pretty(inventory).expect("an inventory always serializes");
        bytes.push(b'\n');
        write_atomic(&path, &bytes, None).await
    }
}
