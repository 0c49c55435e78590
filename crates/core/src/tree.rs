//! Read-only file trees: the one way renderers read files, from a disk folder or a Git revision.

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// What a tree entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum EntryKind {
    /// A regular file (symlinks are resolved by the tree).
    File,
    /// A directory.
    Dir,
    /// A Git submodule: listed, never followed.
    Submodule,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    /// The entry's name (one path component).
    pub name: String,
    /// What it is.
    pub kind: EntryKind,
}

/// Size and kind of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// What it is.
    pub kind: EntryKind,
    /// Size in bytes (0 for directories).
    pub size: u64,
}

/// Why a tree could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// Nothing exists at the path.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The path, relative to the tree root.
        path: String,
    },
    /// The path, or a symlink on it, leads outside the tree root.
    #[error("{path}: path escapes the root of the tree")]
    Escapes {
        /// The path as given.
        path: String,
    },
    /// A file was expected.
    #[error("{path}: is a directory, not a file")]
    NotAFile {
        /// The path.
        path: String,
    },
    /// A directory was expected.
    #[error("{path}: not a directory")]
    NotADirectory {
        /// The path.
        path: String,
    },
    /// The file is larger than the caller allows.
    #[error("{path}: file of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The path.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// An I/O error from the disk.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An error from another backend (a Git object database, say).
    #[error("{path}: {message}")]
    Backend {
        /// The path.
        path: String,
        /// What went wrong.
        message: String,
        /// The cause, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl TreeError {
    /// Whether the error means the path does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, TreeError::NotFound { .. })
    }
}

/// A read-only tree of files, addressed by `/`-separated paths relative to its root.
///
/// Paths are normalized with [`normalize`] before use: `.` and empty components are dropped,
/// `..` goes up, and going above the root is an [`TreeError::Escapes`] error. Implementations
/// resolve symlinks themselves and refuse any that lead outside the root. Listings are sorted by
/// name, so every walk over a tree is deterministic.
pub trait FileTree: Send + Sync + fmt::Debug {
    /// The contents of a file.
    fn read(&self, path: &str) -> Result<Vec<u8>, TreeError>;

    /// The entries of a directory, sorted by name. `""` is the root.
    fn list(&self, dir: &str) -> Result<Vec<Entry>, TreeError>;

    /// Kind and size of a path, or `None` when nothing is there.
    fn stat(&self, path: &str) -> Result<Option<Stat>, TreeError>;

    /// Whether something exists at the path (errors count as no).
    fn exists(&self, path: &str) -> bool {
        matches!(self.stat(path), Ok(Some(_)))
    }

    /// Reads a file after checking that it is at most `limit` bytes, so a huge file fails fast.
    fn read_limited(&self, path: &str, limit: u64) -> Result<Vec<u8>, TreeError> {
        match self.stat(path)? {
            None => Err(TreeError::NotFound { path: path.to_owned() }),
            Some(Stat { kind: EntryKind::Dir, .. }) => Err(TreeError::NotAFile { path: path.to_owned() }),
            Some(Stat { size, .. }) if size > limit => Err(TreeError::TooLarge { path: path.to_owned(), size, limit }),
            Some(_) => self.read(path),
        }
    }
}

/// Normalizes a tree path: `a/./b/../c` is `a/c`, `""` and `.` are the root.
///
/// ```
/// use gitops_core::tree::normalize;
/// assert_eq!(normalize("a/./b/../c/").unwrap(), "a/c");
/// assert_eq!(normalize(".").unwrap(), "");
/// assert!(normalize("a/../../etc/passwd").is_err());
/// assert!(normalize("/etc/passwd").is_err());
/// ```
pub fn normalize(path: &str) -> Result<String, TreeError> {
    if path.starts_with('/') || path.contains('\0') {
        return Err(TreeError::Escapes { path: path.to_owned() });
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(TreeError::Escapes { path: path.to_owned() });
                }
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

/// Joins a tree path and a relative path, then normalizes (`join("a/b", "../c")` is `a/c`).
pub fn join(base: &str, relative: &str) -> Result<String, TreeError> {
    if base.is_empty() { normalize(relative) } else { normalize(&format!("{base}/{relative}")) }
}

/// A [`FileTree`] over a folder on disk.
///
/// Every access resolves symlinks and checks that the real path is still inside the root, so a
/// link to `/etc/passwd` (or to `../../secret`) is refused with the path named.
///
/// ```
/// use gitops_core::tree::{DiskTree, FileTree};
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("a.yaml"), "x: 1\n")?;
/// let tree = DiskTree::new(dir.path())?;
/// assert_eq!(tree.read("a.yaml")?, b"x: 1\n");
/// assert!(tree.read("../a.yaml").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DiskTree {
    root: PathBuf,
}

impl DiskTree {
    /// A tree rooted at `root`, which must be an existing directory.
    pub fn new(root: impl AsRef<Path>) -> Result<Self, TreeError> {
        let given = root.as_ref();
        let root =
            given.canonicalize().map_err(|source| TreeError::Io { path: given.display().to_string(), source })?;
        if !root.is_dir() {
            return Err(TreeError::NotADirectory { path: given.display().to_string() });
        }
        Ok(DiskTree { root })
    }

    /// A tree for a local path: rooted at the nearest enclosing folder that holds `.git` (so an
    /// overlay can reach `../base` inside its repository); outside any repository, at the current
    /// working directory when it contains the path, else at the path itself. Reads never leave
    /// that root. Returns the tree and the path relative to its root.
    ///
    /// ```
    /// use gitops_core::DiskTree;
    /// let dir = tempfile::tempdir()?;
    /// std::fs::create_dir_all(dir.path().join(".git"))?;
    /// std::fs::create_dir_all(dir.path().join("apps/web"))?;
    /// let (tree, path) = DiskTree::for_path(dir.path().join("apps/web"))?;
    /// assert_eq!(path, "apps/web");
    /// assert_eq!(tree.root(), dir.path().canonicalize()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_path(path: impl AsRef<Path>) -> Result<(DiskTree, String), TreeError> {
        let given = path.as_ref();
        let real =
            given.canonicalize().map_err(|source| TreeError::Io { path: given.display().to_string(), source })?;
        let start = if real.is_dir() { real.as_path() } else { real.parent().unwrap_or(&real) };
        let cwd = std::env::current_dir().ok().and_then(|d| d.canonicalize().ok());
        let root = start
            .ancestors()
            .find(|dir| dir.join(".git").exists())
            .or_else(|| cwd.as_deref().filter(|cwd| start.starts_with(cwd)))
            .unwrap_or(start)
            .to_path_buf();
        let relative = real.strip_prefix(&root).unwrap_or(Path::new("")).to_string_lossy().replace('\\', "/");
        Ok((DiskTree::new(&root)?, relative))
    }

    /// The canonical root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves a tree path to a real path inside the root, or `None` when nothing exists there.
    fn resolve(&self, path: &str) -> Result<Option<PathBuf>, TreeError> {
        let normalized = normalize(path)?;
        let joined = self.root.join(&normalized);
        match joined.canonicalize() {
            Ok(real) if real.starts_with(&self.root) => Ok(Some(real)),
            Ok(_) => Err(TreeError::Escapes { path: path.to_owned() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A dangling symlink that points outside is still an escape, not a missing file.
                if let Ok(target) = std::fs::read_link(&joined) {
                    let absolute = joined.parent().map_or(target.clone(), |p| p.join(&target));
                    if !lexically_inside(&absolute, &self.root) {
                        return Err(TreeError::Escapes { path: path.to_owned() });
                    }
                }
                Ok(None)
            }
            Err(source) => Err(TreeError::Io { path: path.to_owned(), source }),
        }
    }
}

fn lexically_inside(path: &Path, root: &Path) -> bool {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                parts.pop();
            }
            Component::CurDir => {}
            other => parts.push(other),
        }
    }
    parts.iter().collect::<PathBuf>().starts_with(root)
}

impl FileTree for DiskTree {
    fn read(&self, path: &str) -> Result<Vec<u8>, TreeError> {
        let real = self.resolve(path)?.ok_or_else(|| TreeError::NotFound { path: path.to_owned() })?;
        if real.is_dir() {
            return Err(TreeError::NotAFile { path: path.to_owned() });
        }
        std::fs::read(&real).map_err(|source| TreeError::Io { path: path.to_owned(), source })
    }

    fn list(&self, dir: &str) -> Result<Vec<Entry>, TreeError> {
        let real = self.resolve(dir)?.ok_or_else(|| TreeError::NotFound { path: dir.to_owned() })?;
        if !real.is_dir() {
            return Err(TreeError::NotADirectory { path: dir.to_owned() });
        }
        let io = |source| TreeError::Io { path: dir.to_owned(), source };
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&real).map_err(io)? {
            let entry = entry.map_err(io)?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let kind = match std::fs::metadata(entry.path()) {
                Ok(meta) if meta.is_dir() => EntryKind::Dir,
                _ => EntryKind::File,
            };
            entries.push(Entry { name, kind });
        }
        entries.sort();
        Ok(entries)
    }

    fn stat(&self, path: &str) -> Result<Option<Stat>, TreeError> {
        let Some(real) = self.resolve(path)? else {
            return Ok(None);
        };
        let meta = std::fs::metadata(&real).map_err(|source| TreeError::Io { path: path.to_owned(), source })?;
        Ok(Some(if meta.is_dir() {
            Stat { kind: EntryKind::Dir, size: 0 }
        } else {
            Stat { kind: EntryKind::File, size: meta.len() }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_that_escape_are_refused() {
        let outer = tempfile::tempdir().expect("tempdir");
        let root = outer.path().join("root");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        std::fs::write(outer.path().join("secret"), "s").expect("write");
        std::fs::write(root.join("sub/ok.yaml"), "ok").expect("write");
        std::os::unix::fs::symlink("../secret", root.join("leak")).expect("symlink");
        std::os::unix::fs::symlink("sub/ok.yaml", root.join("inside")).expect("symlink");
        std::os::unix::fs::symlink("/nonexistent/x", root.join("dangling")).expect("symlink");
        let tree = DiskTree::new(&root).expect("tree");
        assert!(matches!(tree.read("leak"), Err(TreeError::Escapes { path }) if path == "leak"));
        assert!(matches!(tree.read("dangling"), Err(TreeError::Escapes { .. })));
        assert_eq!(tree.read("inside").expect("inside"), b"ok");
        assert!(matches!(tree.read("sub/../../secret"), Err(TreeError::Escapes { .. })));
        assert!(tree.read("missing").expect_err("missing").is_not_found());
        let names: Vec<_> = tree.list("").expect("list").into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["dangling", "inside", "leak", "sub"]);
        assert!(matches!(tree.read_limited("sub/ok.yaml", 1), Err(TreeError::TooLarge { size: 2, .. })));
    }
}
