//! Fetching an application's source: a local repository read in place, or a remote one mirrored
//! into the cache, and its revision resolved (a name or a semver range).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use gitops_core::Revision;
use gitops_source::{Cache, DiscardProgress, FetchOptions, Reference, RemoteUrl, Repository};

use crate::application::Application;

/// Whether a `repoURL` names a remote repository (a URL or scp-like `git@host:path`) rather than
/// a folder on this machine.
pub(crate) fn is_remote(url: &str) -> bool {
    url.contains("://") || (url.contains('@') && url.contains(':'))
}

/// Why a source could not be fetched or resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The local repository cannot be opened.
    #[error("cannot open the repository {path}")]
    Open {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: gitops_source::OpenError,
    },
    /// The URL is not one gitops-source accepts.
    #[error("{url}: not a repository URL")]
    Url {
        /// The URL as written.
        url: String,
        /// The cause.
        #[source]
        source: gitops_source::UrlError,
    },
    /// A remote repository needs a cache folder and none was configured.
    #[error("{url}: remote repositories need a cache folder (SourceOptions::cache)")]
    NoCache {
        /// The URL, without credentials.
        url: String,
    },
    /// Fetching failed.
    #[error("cannot fetch {url}")]
    Fetch {
        /// The URL, without credentials.
        url: String,
        /// The cause.
        #[source]
        source: gitops_source::FetchError,
    },
    /// `targetRevision` is not a reference.
    #[error("targetRevision {revision:?} is not a reference")]
    Reference {
        /// As written.
        revision: String,
        /// The cause.
        #[source]
        source: gitops_source::SemverError,
    },
    /// The revision does not resolve in the repository.
    #[error("cannot resolve {revision} in {repo}")]
    Resolve {
        /// The reference.
        revision: String,
        /// The repository, as shown.
        repo: String,
        /// The cause.
        #[source]
        source: gitops_source::ResolveError,
    },
}

impl SourceError {
    /// Whether trying again later may succeed (network failures, a server that is down).
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::Fetch { .. })
    }
}

/// Where sources come from: the folder relative paths start from, the cache for remote
/// repositories, and how they are fetched.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SourceOptions {
    /// The folder relative `repoURL`s are read from (the folder of `gitops.yaml`).
    pub base: PathBuf,
    /// The cache of mirrors for remote repositories; `None` refuses remote `repoURL`s.
    pub cache: Option<PathBuf>,
    /// How remotes are fetched (credentials, CA bundle, SSH key, timeout).
    pub fetch: FetchOptions,
}

impl SourceOptions {
    /// Sets the folder relative `repoURL`s are read from.
    #[must_use]
    pub fn base(mut self, base: impl Into<PathBuf>) -> Self {
        self.base = base.into();
        self
    }

    /// Sets the mirror cache.
    #[must_use]
    pub fn cache(mut self, cache: Option<PathBuf>) -> Self {
        self.cache = cache;
        self
    }

    /// Sets the fetch options.
    #[must_use]
    pub fn fetch(mut self, fetch: FetchOptions) -> Self {
        self.fetch = fetch;
        self
    }
}

/// Fetches sources (blocking: call it from `spawn_blocking` in async code). Cloning shares the
/// interrupt flag.
#[derive(Debug, Clone)]
pub struct Sources {
    options: SourceOptions,
    interrupt: Arc<AtomicBool>,
}

/// A fetched source: the repository and the resolved revision.
#[derive(Clone)]
pub struct Fetched {
    /// The repository (local, or the cache's mirror).
    pub repository: Repository,
    /// The revision `targetRevision` (or the pin) resolved to.
    pub revision: Revision,
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetched").field("revision", &self.revision).finish_non_exhaustive()
    }
}

impl Sources {
    /// Sources read as `options` say.
    pub fn new(options: SourceOptions) -> Self {
        Sources { options, interrupt: Arc::new(AtomicBool::new(false)) }
    }

    /// The folder relative `repoURL`s are read from.
    pub fn base(&self) -> &Path {
        &self.options.base
    }

    /// The flag that stops a fetch in progress when set.
    pub fn interrupt(&self) -> &Arc<AtomicBool> {
        &self.interrupt
    }

    /// The repository of `app`: opened in place when local, fetched up to date when remote.
    pub fn repository(&self, app: &Application) -> Result<Repository, SourceError> {
        let url = &app.source.repo_url;
        if !is_remote(url) {
            let path = local_path(&self.options.base, url);
            return Repository::open(&path).map_err(|source| SourceError::Open { path, source });
        }
        let parsed = RemoteUrl::parse(url).map_err(|source| SourceError::Url { url: url.clone(), source })?;
        let shown = parsed.to_string();
        let cache = self.options.cache.as_ref().ok_or_else(|| SourceError::NoCache { url: shown.clone() })?;
        let (mirror, outcome) = Cache::new(cache)
            .update(&parsed, &self.options.fetch, DiscardProgress, &self.interrupt)
            .map_err(|source| SourceError::Fetch { url: shown.clone(), source })?;
        tracing::debug!(url = %shown, cloned = outcome.cloned, refs = outcome.updated_refs, "fetched");
        Ok(mirror.repository().clone())
    }

    /// Fetches `app`'s repository and resolves `rev`: `targetRevision` as written (a name, or a
    /// semver range), or a pinned commit.
    pub fn fetch(&self, app: &Application, rev: &str) -> Result<Fetched, SourceError> {
        let repository = self.repository(app)?;
        let reference =
            Reference::parse(rev).map_err(|source| SourceError::Reference { revision: rev.to_owned(), source })?;
        let revision = repository.resolve_reference(&reference).map_err(|source| SourceError::Resolve {
            revision: reference.to_string(),
            repo: shown_url(&app.source.repo_url),
            source,
        })?;
        Ok(Fetched { repository, revision })
    }
}

/// A repository URL as shown in messages: without credentials.
pub(crate) fn shown_url(url: &str) -> String {
    if is_remote(url) {
        RemoteUrl::parse(url).map_or_else(|_| url.to_owned(), |u| u.to_string())
    } else {
        url.to_owned()
    }
}

fn local_path(base: &Path, url: &str) -> PathBuf {
    let path = Path::new(url.strip_prefix("file://").unwrap_or(url));
    if path.is_absolute() { path.to_owned() } else { base.join(path) }
}
