//! Wires Kustomize's remote resources to `gitops-source`.

use std::sync::Arc;

use gitops_core::FileTree;
use gitops_render::kustomize::{RemoteRepo, RemoteResolver};
use gitops_source::Repository;

/// Opens `file://` repositories with gitops-source and reads the revision from the object database.
#[derive(Debug, Default)]
pub(crate) struct SourceResolver;

impl RemoteResolver for SourceResolver {
    fn fetch(&self, repo: &RemoteRepo) -> Result<Arc<dyn FileTree>, String> {
        let Some(path) = repo.url.strip_prefix("file://") else {
            return Err(format!(
                "cannot fetch {}: only file:// repositories can be read so far (remote transports are not built yet)",
                repo.url
            ));
        };
        let repository = Repository::open(path).map_err(|e| format!("{e:#}"))?;
        let revision = repository.resolve(repo.reference.as_deref().unwrap_or("HEAD")).map_err(|e| e.to_string())?;
        let snapshot = repository.snapshot(&revision).map_err(|e| e.to_string())?;
        Ok(Arc::new(snapshot))
    }
}
