//! `Repository`: a local Git repository, opened once and shared between threads.

use std::fmt;
use std::path::{Path, PathBuf};

use gitops_core::Revision;

use crate::snapshot::{Snapshot, SnapshotError};

/// A boxed error from the Git backend, so that no gix type shows in this crate's API.
pub(crate) type GitError = Box<dyn std::error::Error + Send + Sync>;

/// A local Git repository, with or without a work tree.
///
/// It is opened with [gitoxide](https://github.com/GitoxideLabs/gitoxide) and never shells out
/// to `git`. The handle is cheap to clone, `Send` and `Sync`: every call takes a thread-local
/// view of the shared object and reference stores.
///
/// Reading a revision takes two steps, so that the exact commit is fixed before anything is read:
/// [`Repository::resolve`] turns what a user typed into a [`Revision`], and
/// [`Repository::snapshot`] turns a revision into a [`Snapshot`] of its files.
#[derive(Clone)]
pub struct Repository {
    repo: gix::ThreadSafeRepository,
}

impl Repository {
    /// Opens the repository at `path`, or the one that contains it (like `git -C path`).
    ///
    /// `path` may be a work tree, any folder inside one, a `.git` folder or a bare repository.
    pub fn open(path: impl AsRef<Path>) -> Result<Repository, OpenError> {
        let path = path.as_ref();
        let repo = gix::ThreadSafeRepository::discover(path)
            .map_err(|source| OpenError::NotARepository { path: path.to_owned(), source: source.into() })?;
        Ok(Repository { repo })
    }

    /// The work tree, or `None` for a bare repository.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.work_dir()
    }

    /// The Git directory: `.git` in a work tree, the repository itself when bare.
    pub fn git_dir(&self) -> &Path {
        self.repo.git_dir()
    }

    /// The files of `revision`'s commit, read straight from the object database.
    ///
    /// Nothing is checked out: the work tree, the index and uncommitted changes play no part.
    pub fn snapshot(&self, revision: &Revision) -> Result<Snapshot, SnapshotError> {
        Snapshot::new(self.repo.clone(), revision.clone())
    }

    /// Wraps a repository gix opened.
    pub(crate) fn from_gix(repo: gix::ThreadSafeRepository) -> Repository {
        Repository { repo }
    }

    /// Whether every reference can be read and points to an object that exists: a cheap check
    /// that a mirror is not corrupt (a missing pack or a garbled reference file).
    pub(crate) fn is_readable(&self) -> bool {
        let repo = self.local();
        if repo.head().is_err() {
            return false;
        }
        let Ok(platform) = repo.references() else { return false };
        let Ok(all) = platform.all() else { return false };
        for reference in all {
            let Ok(mut reference) = reference else { return false };
            match reference.peel_to_id() {
                Ok(id) if repo.has_object(id) => {}
                _ => return false,
            }
        }
        true
    }

    /// The names of the tags (`v1.0.0`, without `refs/tags/`).
    pub(crate) fn tag_names(&self) -> Vec<String> {
        let repo = self.local();
        let Ok(platform) = repo.references() else { return Vec::new() };
        let Ok(tags) = platform.tags() else { return Vec::new() };
        tags.filter_map(Result::ok).map(|r| r.name().shorten().to_string()).collect()
    }

    /// A thread-local handle for one operation.
    pub(crate) fn local(&self) -> gix::Repository {
        self.repo.to_thread_local()
    }
}

impl fmt::Debug for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repository")
            .field("git_dir", &self.git_dir())
            .field("workdir", &self.workdir())
            .finish_non_exhaustive()
    }
}

/// Why [`Repository::open`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// No Git repository is at the path or above it, or the one found could not be read.
    #[error("{}: not a Git repository (or one that could not be opened)", path.display())]
    NotARepository {
        /// The path given to [`Repository::open`].
        path: PathBuf,
        /// The cause, from the Git backend.
        #[source]
        source: GitError,
    },
}
