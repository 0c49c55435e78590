//! Wires Kustomize's remote resources to `gitops-source`.

use std::sync::Arc;

use gitops_core::FileTree;
use gitops_render::kustomize::{RemoteRepo, RemoteResolver};
use gitops_source::{Cache, DiscardProgress, FetchOptions, Reference, RemoteUrl, Repository, Transport};

use crate::flags::GitArgs;

/// Fetches remote bases into the repository cache (any allowed transport) and reads the
/// revision from the object database. `file://` repositories are read in place.
#[derive(Debug)]
pub(crate) struct SourceResolver {
    cache: Option<Cache>,
    options: FetchOptions,
}

impl SourceResolver {
    pub(crate) fn new(args: &GitArgs) -> SourceResolver {
        SourceResolver { cache: crate::git::cache(args).ok(), options: crate::git::fetch_options(args).depth(None) }
    }
}

impl RemoteResolver for SourceResolver {
    fn fetch(&self, repo: &RemoteRepo) -> Result<Arc<dyn FileTree>, String> {
        let url = RemoteUrl::parse(&repo.url).map_err(|e| e.to_string())?;
        let repository = if let (Transport::File, Some(path)) = (url.transport(), repo.url.strip_prefix("file://")) {
            Repository::open(path).map_err(|e| format!("{e:#}"))?
        } else {
            let cache = self.cache.as_ref().ok_or("no cache folder for remote bases: pass --cache DIR")?;
            let options = self.options.clone().timeout(Some(repo.timeout));
            let _git = crate::interrupt::GitPhase::enter();
            let (mirror, _) =
                cache.update(&url, &options, DiscardProgress, crate::interrupt::flag()).map_err(|e| error_chain(&e))?;
            mirror.repository().clone()
        };
        let reference = repo.reference.as_deref().map_or(Reference::Default, |r| Reference::Name(r.to_owned()));
        let revision = repository.resolve_reference(&reference).map_err(|e| e.to_string())?;
        let snapshot = repository.snapshot(&revision).map_err(|e| e.to_string())?;
        Ok(Arc::new(snapshot))
    }
}

pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
