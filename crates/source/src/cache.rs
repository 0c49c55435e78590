//! The repository cache: one bare mirror per remote, updated under a file lock.

use std::fs::{self, File};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use gix::NestedProgress;

use crate::repository::{GitError, Repository};
use crate::transport::{self, FetchOptions};
use crate::url::RemoteUrl;

/// A folder of bare mirrors, one per remote URL, named by [`RemoteUrl::cache_key`].
///
/// Every update of a mirror holds an exclusive lock on `<key>.lock` next to it, so processes and
/// threads sharing a cache never write the same mirror at once. A first clone is made in a
/// temporary folder and renamed into place when complete; a later fetch writes its pack before
/// it moves any reference, so an interrupted or failed update leaves the previous state readable.
/// A mirror that cannot be opened is removed and cloned again.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// A bare mirror in a [`Cache`].
#[derive(Debug, Clone)]
pub struct Mirror {
    url: RemoteUrl,
    repository: Repository,
}

/// What [`Cache::update`] or [`Mirror::fetch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchOutcome {
    /// Whether the mirror was cloned (`true`) or an existing one fetched.
    pub cloned: bool,
    /// Whether a pack was received (`false`: nothing new on the remote).
    pub received_pack: bool,
    /// References updated, created or removed locally.
    pub updated_refs: usize,
    /// The remote's default branch (the branch its `HEAD` points to), when it advertises one.
    pub default_branch: Option<String>,
}

impl Cache {
    /// A cache in `root` (created on first use).
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// The default cache folder: `$GITOPS_CACHE_DIR`, else `$XDG_CACHE_HOME/gitops/git`, else
    /// `$HOME/.cache/gitops/git`; `None` when none of them is set.
    pub fn default_root() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        var("GITOPS_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("gitops/git")))
            .or_else(|| var("HOME").map(|d| d.join(".cache/gitops/git")))
    }

    /// The cache folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the mirror of `url` lives.
    pub fn mirror_path(&self, url: &RemoteUrl) -> PathBuf {
        self.root.join(format!("{}.git", url.cache_key()))
    }

    /// Opens the mirror of `url`, or clones it when there is none (or the one there is corrupt).
    /// An existing mirror is not fetched: call [`Mirror::fetch`], or use [`Cache::update`].
    pub fn open_or_clone<P>(
        &self,
        url: &RemoteUrl,
        options: &FetchOptions,
        progress: P,
        should_interrupt: &AtomicBool,
    ) -> Result<(Mirror, Option<FetchOutcome>), FetchError>
    where
        P: NestedProgress,
        P::SubProgress: 'static,
    {
        let _lock = self.lock(url)?;
        let path = self.mirror_path(url);
        if let Some(mirror) = Self::open_existing(url, &path) {
            return Ok((mirror, None));
        }
        let outcome = self.clone_into(url, &path, options, progress, should_interrupt)?;
        let repository = open_mirror(&path).map_err(|source| FetchError::Cache { path: path.clone(), source })?;
        Ok((Mirror { url: url.clone(), repository }, Some(outcome)))
    }

    /// Brings the mirror of `url` up to date: clones it, or fetches into the existing one.
    pub fn update<P>(
        &self,
        url: &RemoteUrl,
        options: &FetchOptions,
        mut progress: P,
        should_interrupt: &AtomicBool,
    ) -> Result<(Mirror, FetchOutcome), FetchError>
    where
        P: NestedProgress,
        P::SubProgress: 'static,
    {
        let (mirror, cloned) = self.open_or_clone(url, options, &mut progress, should_interrupt)?;
        let outcome = match cloned {
            Some(outcome) => outcome,
            None => mirror.fetch_locked(options, progress, should_interrupt)?,
        };
        Ok((mirror, outcome))
    }

    fn open_existing(url: &RemoteUrl, path: &Path) -> Option<Mirror> {
        if !path.exists() {
            return None;
        }
        match open_mirror(path) {
            Ok(repository) if repository.is_readable() => Some(Mirror { url: url.clone(), repository }),
            _ => {
                tracing::warn!(url = %url, path = %path.display(), "the cached mirror is corrupt; cloning it again");
                let _ = fs::remove_dir_all(path);
                None
            }
        }
    }

    /// Clones into a temporary folder, checks it, then renames it into place.
    fn clone_into<P>(
        &self,
        url: &RemoteUrl,
        path: &Path,
        options: &FetchOptions,
        progress: P,
        should_interrupt: &AtomicBool,
    ) -> Result<FetchOutcome, FetchError>
    where
        P: NestedProgress,
        P::SubProgress: 'static,
    {
        let temp = self.scratch(&url.cache_key());
        let result = (|| {
            let repo = gix::ThreadSafeRepository::init_opts(
                &temp,
                gix::create::Kind::Bare,
                gix::create::Options::default(),
                transport::open_options(),
            )
            .map_err(|e| FetchError::Cache { path: temp.clone(), source: e.into() })?
            .to_thread_local();
            let mut outcome = transport::fetch(&repo, url, options, progress, should_interrupt)?;
            outcome.cloned = true;
            if let Some(depth) = options.depth
                && !repo.is_shallow().unwrap_or(false)
            {
                return Err(FetchError::NotShallow { url: url.to_string(), depth });
            }
            fs::rename(&temp, path).map_err(|e| FetchError::Cache { path: path.to_owned(), source: e.into() })?;
            Ok(outcome)
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&temp);
        }
        result
    }

    /// A fresh temporary folder name in the cache, unique to this process and call.
    fn scratch(&self, prefix: &str) -> PathBuf {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        self.root.join(format!("{prefix}.tmp-{}-{n}", std::process::id()))
    }

    /// Takes the exclusive lock of `url`'s mirror, waiting for another holder to finish.
    fn lock(&self, url: &RemoteUrl) -> Result<File, FetchError> {
        let cache_err = |e: std::io::Error| FetchError::Cache { path: self.root.clone(), source: e.into() };
        fs::create_dir_all(&self.root).map_err(cache_err)?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join(format!("{}.lock", url.cache_key())))
            .map_err(cache_err)?;
        file.lock().map_err(cache_err)?;
        Ok(file)
    }
}

impl Mirror {
    /// The mirror as a repository, for [`Repository::resolve`] and [`Repository::snapshot`].
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The remote URL.
    pub fn url(&self) -> &RemoteUrl {
        &self.url
    }

    /// Fetches the remote's new commits into the mirror (under the cache's lock).
    pub fn fetch<P>(
        &self,
        cache: &Cache,
        options: &FetchOptions,
        progress: P,
        should_interrupt: &AtomicBool,
    ) -> Result<FetchOutcome, FetchError>
    where
        P: NestedProgress,
        P::SubProgress: 'static,
    {
        let _lock = cache.lock(&self.url)?;
        self.fetch_locked(options, progress, should_interrupt)
    }

    fn fetch_locked<P>(
        &self,
        options: &FetchOptions,
        progress: P,
        should_interrupt: &AtomicBool,
    ) -> Result<FetchOutcome, FetchError>
    where
        P: NestedProgress,
        P::SubProgress: 'static,
    {
        let repo = self.repository.local();
        transport::fetch(&repo, &self.url, options, progress, should_interrupt)
    }
}

fn open_mirror(path: &Path) -> Result<Repository, GitError> {
    let repo = gix::ThreadSafeRepository::open_opts(path, transport::open_options())?;
    Ok(Repository::from_gix(repo))
}

/// The depth as gix wants it.
pub(crate) fn nonzero_depth(depth: u32) -> NonZeroU32 {
    NonZeroU32::new(depth).unwrap_or(NonZeroU32::MIN)
}

/// Why a clone, fetch or remote listing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL or a reference was refused.
    #[error(transparent)]
    Url(#[from] crate::url::UrlError),
    /// The remote could not be reached or answered with an error.
    #[error("cannot fetch from {url}: {message}")]
    Remote {
        /// The remote, without credentials.
        url: String,
        /// What went wrong, without credentials.
        message: String,
        /// The cause, from the Git backend.
        #[source]
        source: Option<GitError>,
    },
    /// The operation was interrupted through the `should_interrupt` flag.
    #[error("fetching from {url} was interrupted")]
    Interrupted {
        /// The remote.
        url: String,
    },
    /// A shallow clone was asked for, but the server sent full history (it does not speak Git
    /// protocol version 2).
    #[error("asked {url} for a shallow clone of depth {depth}, but it sent the full history (no protocol v2?)")]
    NotShallow {
        /// The remote.
        url: String,
        /// The depth asked for.
        depth: u32,
    },
    /// The TLS configuration (the CA bundle) could not be read.
    #[error("cannot configure TLS for {url}: {message}")]
    Tls {
        /// The remote.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing the cache folder failed.
    #[error("cache {}: cannot update it", path.display())]
    Cache {
        /// The folder or file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: GitError,
    },
}

impl Cache {
    /// Lists the remote's `HEAD`, branches and tags without fetching, like `git ls-remote`
    /// (only the references `options.refs` names, when it names some).
    pub fn ls_remote(
        &self,
        url: &RemoteUrl,
        options: &FetchOptions,
        should_interrupt: &AtomicBool,
    ) -> Result<Vec<crate::RemoteRef>, FetchError> {
        let scratch = self.scratch("ls-remote");
        fs::create_dir_all(&self.root).map_err(|e| FetchError::Cache { path: self.root.clone(), source: e.into() })?;
        let result = transport::ls_remote(&scratch, url, options, should_interrupt);
        let _ = fs::remove_dir_all(&scratch);
        result
    }
}
