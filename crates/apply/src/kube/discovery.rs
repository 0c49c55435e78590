//! A cache of the API server's kinds, refreshed when a kind is missing (a CRD may just have
//! been created) or after a CRD is applied.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::core::discovery::{ApiResource, Scope};
use kube::{Client, Discovery};
use tokio::sync::{Mutex, RwLock};

use crate::target::TargetError;

/// One served kind: how to address it, and whether it is namespaced.
#[derive(Debug, Clone)]
pub(crate) struct Served {
    pub(crate) resource: ApiResource,
    pub(crate) namespaced: bool,
}

#[derive(Debug, Default)]
struct Kinds {
    /// `(group, version, kind)` → served.
    by_gvk: HashMap<(String, String, String), Served>,
    /// `(group, kind)` → the preferred version.
    preferred: HashMap<(String, String), Served>,
    /// Bumped at every refresh, so concurrent misses refresh once.
    generation: u64,
    /// When discovery ran.
    fetched: Option<Instant>,
}

/// A lookup that misses runs discovery again only when the cache is older than this, so many
/// objects of a kind that does not exist (yet) cost one discovery, not one each. Applying a CRD
/// drops the cache at once.
const MISS_REFRESH: Duration = Duration::from_secs(2);

/// The cache. Cloning shares it.
#[derive(Clone)]
pub(crate) struct DiscoveryCache {
    client: Client,
    kinds: Arc<RwLock<Option<Arc<Kinds>>>>,
    /// Held while discovery runs; counts the refreshes.
    refreshing: Arc<Mutex<u64>>,
}

impl std::fmt::Debug for DiscoveryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoveryCache").finish_non_exhaustive()
    }
}

impl DiscoveryCache {
    pub(crate) fn new(client: Client) -> Self {
        DiscoveryCache { client, kinds: Arc::default(), refreshing: Arc::default() }
    }

    /// Forgets what is known; the next lookup runs discovery again.
    pub(crate) async fn invalidate(&self) {
        *self.kinds.write().await = None;
    }

    /// The kind at exactly this group and version.
    pub(crate) async fn gvk(&self, group: &str, version: &str, kind: &str) -> Result<Option<Served>, TargetError> {
        let key = (group.to_owned(), version.to_owned(), kind.to_owned());
        self.lookup(|k| k.by_gvk.get(&key).cloned()).await
    }

    /// The kind at its preferred version.
    pub(crate) async fn group_kind(&self, group: &str, kind: &str) -> Result<Option<Served>, TargetError> {
        let key = (group.to_owned(), kind.to_owned());
        self.lookup(|k| k.preferred.get(&key).cloned()).await
    }

    async fn lookup(&self, find: impl Fn(&Kinds) -> Option<Served>) -> Result<Option<Served>, TargetError> {
        let current = self.current().await?;
        if let Some(found) = find(&current) {
            return Ok(Some(found));
        }
        if current.fetched.is_some_and(|at| at.elapsed() < MISS_REFRESH) {
            return Ok(None);
        }
        let refreshed = self.refresh(current.generation).await?;
        Ok(find(&refreshed))
    }

    async fn current(&self) -> Result<Arc<Kinds>, TargetError> {
        if let Some(kinds) = self.kinds.read().await.as_ref() {
            return Ok(Arc::clone(kinds));
        }
        // Nothing cached: any generation differs from this one.
        self.refresh(u64::MAX).await
    }

    /// Runs discovery unless someone else did since `seen` was read.
    async fn refresh(&self, seen: u64) -> Result<Arc<Kinds>, TargetError> {
        let mut refreshes = self.refreshing.lock().await;
        if let Some(kinds) = self.kinds.read().await.as_ref()
            && kinds.generation != seen
        {
            return Ok(Arc::clone(kinds));
        }
        let discovery = run(&self.client).await?;
        *refreshes += 1;
        let mut kinds = Kinds { generation: *refreshes, fetched: Some(Instant::now()), ..Kinds::default() };
        for group in discovery.groups() {
            for version in group.versions() {
                for (resource, capabilities) in group.versioned_resources(version) {
                    let served = Served { namespaced: capabilities.scope == Scope::Namespaced, resource };
                    let key =
                        (served.resource.group.clone(), served.resource.version.clone(), served.resource.kind.clone());
                    kinds.by_gvk.insert(key, served);
                }
            }
            for (resource, capabilities) in group.recommended_resources() {
                let served = Served { namespaced: capabilities.scope == Scope::Namespaced, resource };
                kinds.preferred.insert((served.resource.group.clone(), served.resource.kind.clone()), served);
            }
        }
        tracing::debug!(kinds = kinds.by_gvk.len(), "discovery refreshed");
        let kinds = Arc::new(kinds);
        *self.kinds.write().await = Some(Arc::clone(&kinds));
        Ok(kinds)
    }
}

/// Aggregated discovery (two requests) when the server offers it; legacy discovery (one request
/// per group version) when it does not, since kube-rs's aggregated discovery then finds no groups.
async fn run(client: &Client) -> Result<Discovery, TargetError> {
    match Discovery::new(client.clone()).run_aggregated().await {
        Ok(discovery) if discovery.groups().next().is_some() => return Ok(discovery),
        Ok(_) => tracing::debug!("aggregated discovery found no groups; using legacy discovery"),
        Err(error) => tracing::debug!(%error, "aggregated discovery failed; using legacy discovery"),
    }
    Discovery::new(client.clone()).run().await.map_err(|e| super::error::map(e, None, "API discovery failed"))
}
