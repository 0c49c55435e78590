//! `Snapshot`: the files of one commit, read from the object database as a [`FileTree`].

use std::fmt;

use gitops_core::Revision;
use gitops_core::tree::{self, Entry, EntryKind, FileTree, Stat, TreeError};
use gix::objs::tree::EntryKind as GitKind;

use crate::repository::GitError;

/// How many symbolic links one path may pass through, as on Linux (`ELOOP`).
const MAX_SYMLINK_HOPS: usize = 40;

/// The files of one commit, or of one folder of it, read straight from the object database.
///
/// A snapshot never checks anything out: every [`FileTree`] call looks up trees and blobs by id,
/// so it is unaffected by the work tree, the index or later commits, and it works on bare
/// repositories. It holds a shared handle to the repository and is `Send + Sync`; each call takes
/// a thread-local view of it.
///
/// Paths follow [`FileTree`]: `/`-separated, relative to the snapshot's root, normalized with
/// [`tree::normalize`] so that `..` cannot climb above the root. Symbolic links in the tree are
/// resolved the way a checkout would resolve them, component by component with relative targets
/// and chains (at most 40 hops); a link with an absolute target, or whose target leaves the root,
/// is [`TreeError::Escapes`]. Submodules (gitlinks) are listed as [`EntryKind::Submodule`] and are
/// never followed: reading one is an error that says so.
///
/// [`Snapshot::subtree`] narrows a snapshot to a folder, which then is the root: nothing outside
/// it can be read, through `..` or through a link.
#[derive(Clone)]
pub struct Snapshot {
    repo: gix::ThreadSafeRepository,
    revision: Revision,
    /// The tree that is this snapshot's root.
    root: gix::ObjectId,
    /// Where `root` sits in the commit's tree (`""` for the whole commit).
    path: String,
}

/// What a path resolves to.
#[derive(Debug, Clone, Copy)]
enum Node {
    Dir(gix::ObjectId),
    File(gix::ObjectId),
    Submodule,
}

/// A resolved path: what is there, and its real path (links followed) relative to the root.
struct Located {
    node: Node,
    real: String,
}

impl Snapshot {
    pub(crate) fn new(repo: gix::ThreadSafeRepository, revision: Revision) -> Result<Snapshot, SnapshotError> {
        let local = repo.to_thread_local();
        let id = gix::ObjectId::from_hex(revision.commit.as_bytes())
            .ok()
            .filter(|id| id.kind() == local.object_hash())
            .ok_or_else(|| SnapshotError::InvalidCommitId { revision: revision.to_string() })?;
        let git = |source: gix::Error| SnapshotError::Git { revision: revision.to_string(), source: source.into() };
        let Some(object) = local.try_find_object(id).map_err(git)? else {
            return Err(SnapshotError::MissingCommit { revision: revision.to_string() });
        };
        if object.kind != gix::objs::Kind::Commit {
            return Err(SnapshotError::NotACommit { revision: revision.to_string(), kind: object.kind.to_string() });
        }
        let root = object.into_commit().tree_id().map_err(git)?.detach();
        Ok(Snapshot { repo, revision, root, path: String::new() })
    }

    /// The revision whose files this is.
    pub fn revision(&self) -> &Revision {
        &self.revision
    }

    /// Where this snapshot's root sits in the commit (`""` unless it came from
    /// [`Snapshot::subtree`]), with symbolic links resolved.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The folder at `path` (relative to this snapshot's root) as a snapshot of its own.
    ///
    /// Paths in the result are relative to that folder, and nothing outside it is readable:
    /// `..` above it and links that leave it are [`TreeError::Escapes`]. A link to a folder is
    /// followed, and [`Snapshot::path`] then gives the real folder.
    pub fn subtree(&self, path: &str) -> Result<Snapshot, SnapshotError> {
        let fail =
            |source| SnapshotError::Subtree { revision: self.revision.to_string(), path: path.to_owned(), source };
        let repo = self.repo.to_thread_local();
        let located = self
            .locate(&repo, path)
            .map_err(fail)?
            .ok_or_else(|| fail(TreeError::NotFound { path: path.to_owned() }))?;
        let Node::Dir(root) = located.node else {
            return Err(fail(TreeError::NotADirectory { path: path.to_owned() }));
        };
        let full = tree::join(&self.path, &located.real).map_err(fail)?;
        Ok(Snapshot { repo: self.repo.clone(), revision: self.revision.clone(), root, path: full })
    }

    /// Resolves `path` to what is there, following symbolic links; `None` when nothing is.
    fn locate(&self, repo: &gix::Repository, path: &str) -> Result<Option<Located>, TreeError> {
        let escapes = || TreeError::Escapes { path: path.to_owned() };
        // Components still to walk, the next one last; links push their target's components.
        let mut todo: Vec<String> =
            tree::normalize(path)?.split('/').filter(|part| !part.is_empty()).rev().map(str::to_owned).collect();
        // The folders walked so far, with their tree ids.
        let mut walked: Vec<(String, gix::ObjectId)> = Vec::new();
        let mut hops = 0;
        while let Some(part) = todo.pop() {
            match part.as_str() {
                "" | "." => continue,
                ".." => {
                    walked.pop().ok_or_else(escapes)?;
                    continue;
                }
                _ => {}
            }
            let dir = walked.last().map_or(self.root, |(_, id)| *id);
            let Some((kind, id)) = find_entry(repo, dir, &part, path)? else {
                return Ok(None);
            };
            let real = || real_path(&walked, &part);
            match kind {
                GitKind::Tree => walked.push((part, id)),
                GitKind::Blob | GitKind::BlobExecutable => {
                    // A file with components after it: not a directory, so nothing is there.
                    return Ok(todo.is_empty().then(|| Located { node: Node::File(id), real: real() }));
                }
                GitKind::Commit => {
                    if todo.is_empty() {
                        return Ok(Some(Located { node: Node::Submodule, real: real() }));
                    }
                    return Err(backend(path, format!("leads into submodule {}, which is not followed", real()))(None));
                }
                GitKind::Link => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(backend(path, "too many levels of symbolic links")(None));
                    }
                    let target = read_blob(repo, id, path)?;
                    let target = String::from_utf8(target).map_err(|err| {
                        backend(path, format!("symbolic link {} is not UTF-8", real()))(Some(Box::new(err)))
                    })?;
                    if target.is_empty() {
                        return Ok(None);
                    }
                    // Absolute targets, and targets that climb above the root, leave the tree.
                    if target.starts_with('/') {
                        return Err(escapes());
                    }
                    tree::join(&real_path(&walked, ""), &target).map_err(|_| escapes())?;
                    todo.extend(target.split('/').rev().map(str::to_owned));
                }
            }
        }
        let root = walked.last().map_or(self.root, |(_, id)| *id);
        Ok(Some(Located { node: Node::Dir(root), real: real_path(&walked, "") }))
    }

    /// Resolves `path`, which must exist.
    fn locate_existing(&self, repo: &gix::Repository, path: &str) -> Result<Located, TreeError> {
        self.locate(repo, path)?.ok_or_else(|| TreeError::NotFound { path: path.to_owned() })
    }
}

impl FileTree for Snapshot {
    fn read(&self, path: &str) -> Result<Vec<u8>, TreeError> {
        let repo = self.repo.to_thread_local();
        match self.locate_existing(&repo, path)?.node {
            Node::File(id) => read_blob(&repo, id, path),
            Node::Dir(_) => Err(TreeError::NotAFile { path: path.to_owned() }),
            Node::Submodule => Err(backend(path, "is a Git submodule, which a snapshot does not read")(None)),
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<Entry>, TreeError> {
        let repo = self.repo.to_thread_local();
        let located = self.locate_existing(&repo, dir)?;
        let Node::Dir(id) = located.node else {
            return Err(TreeError::NotADirectory { path: dir.to_owned() });
        };
        let tree = find_tree(&repo, id, dir)?;
        let decoded = tree.decode().map_err(|err| backend(dir, "cannot decode tree")(Some(err.into())))?;
        let mut entries = Vec::with_capacity(decoded.entries.len());
        for entry in &decoded.entries {
            let Ok(name) = std::str::from_utf8(entry.filename) else {
                continue;
            };
            let kind = match entry.mode.kind() {
                GitKind::Tree => EntryKind::Dir,
                GitKind::Blob | GitKind::BlobExecutable => EntryKind::File,
                GitKind::Commit => EntryKind::Submodule,
                GitKind::Link => {
                    // Like `DiskTree`: a link is listed as what it points to, or as a file when it
                    // dangles or escapes (reading it then says why).
                    let link = tree::join(&located.real, name)?;
                    match self.locate(&repo, &link) {
                        Ok(Some(Located { node: Node::Dir(_), .. })) => EntryKind::Dir,
                        Ok(Some(Located { node: Node::Submodule, .. })) => EntryKind::Submodule,
                        _ => EntryKind::File,
                    }
                }
            };
            entries.push(Entry { name: name.to_owned(), kind });
        }
        entries.sort();
        Ok(entries)
    }

    fn stat(&self, path: &str) -> Result<Option<Stat>, TreeError> {
        let repo = self.repo.to_thread_local();
        let Some(located) = self.locate(&repo, path)? else {
            return Ok(None);
        };
        Ok(Some(match located.node {
            Node::Dir(_) => Stat { kind: EntryKind::Dir, size: 0 },
            Node::Submodule => Stat { kind: EntryKind::Submodule, size: 0 },
            Node::File(id) => {
                let header =
                    repo.find_header(id).map_err(|err| backend(path, "cannot read object header")(Some(err.into())))?;
                Stat { kind: EntryKind::File, size: header.size() }
            }
        }))
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("revision", &self.revision.to_string())
            .field("path", &self.path)
            .field("tree", &self.root.to_hex().to_string())
            .field("git_dir", &self.repo.git_dir())
            .finish()
    }
}

/// `walked` joined with `name` (which may be empty): a real path relative to the root.
fn real_path(walked: &[(String, gix::ObjectId)], name: &str) -> String {
    walked.iter().map(|(part, _)| part.as_str()).chain((!name.is_empty()).then_some(name)).collect::<Vec<_>>().join("/")
}

/// A [`TreeError::Backend`] maker for `path`.
fn backend(path: &str, message: impl Into<String>) -> impl FnOnce(Option<GitError>) -> TreeError {
    let path = path.to_owned();
    let message = message.into();
    move |source| TreeError::Backend { path, message, source }
}

fn find_tree<'repo>(
    repo: &'repo gix::Repository,
    id: gix::ObjectId,
    path: &str,
) -> Result<gix::Tree<'repo>, TreeError> {
    repo.find_tree(id).map_err(|err| backend(path, format!("cannot read tree {id}"))(Some(err.into())))
}

/// The kind and id of the entry `name` in the tree `dir`.
fn find_entry(
    repo: &gix::Repository,
    dir: gix::ObjectId,
    name: &str,
    path: &str,
) -> Result<Option<(GitKind, gix::ObjectId)>, TreeError> {
    let tree = find_tree(repo, dir, path)?;
    let decoded = tree.decode().map_err(|err| backend(path, format!("cannot decode tree {dir}"))(Some(err.into())))?;
    Ok(decoded
        .entries
        .iter()
        .find(|entry| entry.filename == name.as_bytes())
        .map(|entry| (entry.mode.kind(), entry.oid.to_owned())))
}

fn read_blob(repo: &gix::Repository, id: gix::ObjectId, path: &str) -> Result<Vec<u8>, TreeError> {
    let mut blob =
        repo.find_blob(id).map_err(|err| backend(path, format!("cannot read blob {id}"))(Some(err.into())))?;
    Ok(blob.take_data())
}

/// Why [`Repository::snapshot`](crate::Repository::snapshot) or [`Snapshot::subtree`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The revision's commit is not a full object id of the repository's hash kind.
    #[error("{revision}: the commit is not a full object id")]
    InvalidCommitId {
        /// The revision, as displayed (`main@sha1:…`).
        revision: String,
    },
    /// The commit is not in the repository's object database.
    #[error("{revision}: commit not found in the repository")]
    MissingCommit {
        /// The revision, as displayed.
        revision: String,
    },
    /// The revision's id names an object that is not a commit.
    #[error("{revision}: the object is a {kind}, not a commit")]
    NotACommit {
        /// The revision, as displayed.
        revision: String,
        /// The kind of object it is (`tree`, `blob`, `tag`).
        kind: String,
    },
    /// The folder given to [`Snapshot::subtree`] is missing, not a folder, or outside the tree.
    #[error("{revision}: cannot open subtree {path:?}")]
    Subtree {
        /// The revision, as displayed.
        revision: String,
        /// The path as given.
        path: String,
        /// Why.
        #[source]
        source: TreeError,
    },
    /// Reading the commit failed.
    #[error("{revision}: reading the commit failed")]
    Git {
        /// The revision, as displayed.
        revision: String,
        /// The cause, from the Git backend.
        #[source]
        source: GitError,
    },
}
