//! Git sources for gitops-rs: resolve a revision of a local repository to an exact commit, and read
//! that commit's files as a [`FileTree`](gitops_core::FileTree) without checking anything out.
//!
//! Everything here is blocking. Local repositories are opened with gitoxide, in-process; remote
//! ones are mirrored into a [`Cache`] (see [`RemoteUrl`] for the allowed transports and
//! docs/source.md for the cache's guarantees) and then read the same way.
//!
//! # Overview
//!
//! - [`Repository`] is a local repository, with a work tree or bare. [`Repository::open`] finds
//!   it from any path inside it, like `git -C path`.
//! - [`Repository::resolve`] turns what a user typed — `HEAD`, a branch, a tag (annotated tags are
//!   peeled), a full or short commit id, `refs/...`, or an expression like `main~1` — into a
//!   [`Revision`](gitops_core::Revision): the commit id, the reference it was named by, and the
//!   commit's author, committer and message. A name that matches nothing is a
//!   [`ResolveError::NotFound`] that suggests the closest reference names.
//! - [`Repository::snapshot`] gives the [`Snapshot`] of a revision: its files, read blob by blob
//!   from the object database, so the work tree, the index and uncommitted changes never leak in.
//!   A snapshot is `Send + Sync`, resolves symbolic links inside the tree and refuses those that
//!   leave it, lists submodules without following them, and can be narrowed to a folder with
//!   [`Snapshot::subtree`].
//!
//! Data flows one way: a string becomes a `Revision` (a plain value that can be logged, stored or
//! compared), and a `Revision` becomes a `Snapshot` that renderers read through the `FileTree`
//! trait, the same trait a folder on disk implements.
//!
//! # Example
//!
//! ```
//! use std::process::Command;
//! use gitops_core::FileTree;
//! use gitops_source::Repository;
//!
//! // A repository with two commits, made with the `git` command line.
//! let dir = tempfile::tempdir()?;
//! let git = |args: &[&str]| {
//!     let status = Command::new("git")
//!         .args(["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"])
//!         .args(args)
//!         .current_dir(dir.path())
//!         .env("GIT_AUTHOR_NAME", "Ada")
//!         .env("GIT_AUTHOR_EMAIL", "ada@example.com")
//!         .env("GIT_COMMITTER_NAME", "Ada")
//!         .env("GIT_COMMITTER_EMAIL", "ada@example.com")
//!         .status()
//!         .expect("git runs");
//!     assert!(status.success(), "git {args:?}");
//! };
//! git(&["init", "-q"]);
//! std::fs::create_dir(dir.path().join("apps"))?;
//! std::fs::write(dir.path().join("apps/app.yaml"), "replicas: 1\n")?;
//! git(&["add", "."]);
//! git(&["commit", "-q", "-m", "first"]);
//! std::fs::write(dir.path().join("apps/app.yaml"), "replicas: 2\n")?;
//! git(&["commit", "-q", "-am", "second"]);
//!
//! let repo = Repository::open(dir.path())?;
//! let head = repo.resolve("HEAD")?;
//! assert_eq!(head.reference.as_deref(), Some("main"));
//! assert_eq!(head.message.as_deref(), Some("second\n"));
//!
//! // An older revision reads the files as they were then, whatever the work tree holds.
//! let previous = repo.resolve("main~1")?;
//! let snapshot = repo.snapshot(&previous)?;
//! assert_eq!(snapshot.read("apps/app.yaml")?, b"replicas: 1\n");
//!
//! // A subtree is a root of its own: nothing above it is readable.
//! let apps = snapshot.subtree("apps")?;
//! assert_eq!(apps.list("")?[0].name, "app.yaml");
//! assert!(apps.read("../apps/app.yaml").is_err());
//!
//! // A typo suggests the closest references.
//! let err = repo.resolve("mian").expect_err("no such branch");
//! assert_eq!(err.to_string(), r#"revision "mian" not found; closest references: main"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Remote repositories
//!
//! - [`RemoteUrl::parse`] checks a URL (path, `file://`, `git://`, `http(s)://`, `ssh://`,
//!   `user@host:path`) and refuses helper transports and option injection; credentials never
//!   show in `Debug`, `Display` or errors.
//! - [`Cache::update`] clones or fetches a bare mirror under a file lock, atomically;
//!   [`Cache::ls_remote`] lists references without fetching.
//! - [`Reference`] is a name, the default branch, or a [`SemverRange`] over tags (Flux semantics);
//!   [`Repository::resolve_reference`] resolves it and [`Repository::changed_paths`] says what
//!   changed under a folder between two revisions.

#![deny(missing_docs)]

mod cache;
mod reference;
mod repository;
mod resolve;
mod semver_range;
mod snapshot;
mod transport;
mod url;
mod verify;

pub use cache::{Cache, FetchError, FetchOutcome, Mirror};
pub use gix::progress::Discard as DiscardProgress;
pub use gix::{NestedProgress, Progress};
pub use reference::Reference;
pub use repository::{OpenError, Repository};
pub use resolve::ResolveError;
pub use semver_range::{SemverError, SemverRange, parse_version};
pub use snapshot::{Snapshot, SnapshotError};
pub use transport::{FetchOptions, RemoteRef, ssh_command};
pub use url::{Credentials, RemoteUrl, Secret, Transport, UrlError};
pub use verify::{Keyring, KeyringError, SignatureFormat, SignedObject, Verified, VerifyError, VerifyMode};
