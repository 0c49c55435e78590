//! What to check out, as Flux's `GitRepository.spec.ref` says it, and what changed between two
//! revisions.

use std::fmt;

use gitops_core::Revision;

use crate::repository::Repository;
use crate::resolve::ResolveError;
use crate::semver_range::{SemverError, SemverRange, parse_version};
use crate::snapshot::SnapshotError;

/// A reference to resolve: the default branch, a name, or the highest tag in a version range.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reference {
    /// The remote's default branch (the mirror's `HEAD`).
    Default,
    /// A branch, tag, `refs/...` name, full or short commit id, or rev-parse expression.
    Name(String),
    /// The highest tag whose version satisfies the range (Flux's `.spec.ref.semver`).
    Semver(SemverRange),
}

impl Reference {
    /// Reads what a user typed after `--rev`: empty or `HEAD` is the default branch; `semver:R`,
    /// or anything that can only be a range (starting with an operator `<>=!~^`, containing `||`,
    /// a space or a comma, or a wildcard part like `1.x`), is a [`Reference::Semver`]; anything
    /// else is a [`Reference::Name`]. A bare version like `1.2.3` is a name (a tag), as in Git.
    ///
    /// ```
    /// use gitops_source::Reference;
    /// assert!(matches!(Reference::parse(">=1.0.0 <2.0.0")?, Reference::Semver(_)));
    /// assert!(matches!(Reference::parse("1.x")?, Reference::Semver(_)));
    /// assert_eq!(Reference::parse("v1.2.3")?, Reference::Name("v1.2.3".into()));
    /// assert_eq!(Reference::parse("")?, Reference::Default);
    /// # Ok::<(), gitops_source::SemverError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Reference, SemverError> {
        let text = text.trim();
        if text.is_empty() || text == "HEAD" {
            return Ok(Reference::Default);
        }
        if let Some(range) = text.strip_prefix("semver:") {
            return SemverRange::parse(range).map(Reference::Semver);
        }
        let wildcard = text.split('.').any(|part| matches!(part.trim_start_matches('v'), "x" | "X" | "*"));
        let looks_like_range = text.starts_with(['<', '>', '=', '!', '~', '^'])
            || text.contains("||")
            || text.contains([' ', ','])
            || wildcard;
        if looks_like_range {
            SemverRange::parse(text).map(Reference::Semver)
        } else {
            Ok(Reference::Name(text.to_owned()))
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Default => f.write_str("HEAD"),
            Reference::Name(name) => f.write_str(name),
            Reference::Semver(range) => write!(f, "semver:{range}"),
        }
    }
}

/// How many tags a [`ResolveError::NoTagInRange`] lists at most.
const MAX_TAGS: usize = 5;

impl Repository {
    /// Resolves a [`Reference`]: the default branch is `HEAD`'s branch, a name is as
    /// [`Repository::resolve`], and a range picks the highest tag in it (the revision's reference
    /// is then that tag).
    pub fn resolve_reference(&self, reference: &Reference) -> Result<Revision, ResolveError> {
        match reference {
            Reference::Default => self.resolve("HEAD"),
            Reference::Name(name) => self.resolve(name),
            Reference::Semver(range) => {
                let tags = self.tag_names();
                if let Some((tag, _)) = range.best(tags.iter().map(String::as_str)) {
                    return self.resolve(&format!("refs/tags/{tag}")).map(|mut revision| {
                        revision.reference = Some(tag.to_owned());
                        revision
                    });
                }
                let mut versions: Vec<_> =
                    tags.iter().filter_map(|t| parse_version(t).map(|v| (v, t.clone()))).collect();
                versions.sort();
                let highest = versions.into_iter().rev().take(MAX_TAGS).map(|(_, t)| t).collect();
                Err(ResolveError::NoTagInRange { range: range.to_string(), highest })
            }
        }
    }

    /// The paths of files (and submodules) under `under` that differ between the commits of
    /// `from` and `to`: added, removed or modified, sorted. Empty when nothing under `under`
    /// changed, so a caller can skip rendering an application whose folder is untouched.
    ///
    /// Subtrees with the same id are skipped without being read, so the cost follows the size
    /// of the change, not of the repository.
    pub fn changed_paths(&self, from: &Revision, to: &Revision, under: &str) -> Result<Vec<String>, SnapshotError> {
        let repo = self.local();
        let under = gitops_core::tree::normalize(under).map_err(|source| SnapshotError::Subtree {
            revision: to.to_string(),
            path: under.to_owned(),
            source,
        })?;
        let old = tree_at(&repo, from, &under)?;
        let new = tree_at(&repo, to, &under)?;
        let mut changed = Vec::new();
        let git = |source: gix::Error| SnapshotError::Git { revision: to.to_string(), source: source.into() };
        compare(&repo, old, new, &under, &mut changed).map_err(git)?;
        changed.sort();
        Ok(changed)
    }
}

/// The id and kind of what is at `path` in the commit of `revision` (`None` when absent).
fn tree_at(
    repo: &gix::Repository,
    revision: &Revision,
    path: &str,
) -> Result<Option<(gix::ObjectId, bool)>, SnapshotError> {
    let git = |source: gix::Error| SnapshotError::Git { revision: revision.to_string(), source: source.into() };
    let id = gix::ObjectId::from_hex(revision.commit.as_bytes())
        .map_err(|_| SnapshotError::InvalidCommitId { revision: revision.to_string() })?;
    let Some(object) = repo.try_find_object(id).map_err(git)? else {
        return Err(SnapshotError::MissingCommit { revision: revision.to_string() });
    };
    let tree = object.peel_to_tree().map_err(git)?;
    if path.is_empty() {
        return Ok(Some((tree.id, true)));
    }
    let entry = tree.lookup_entry_by_path(path).map_err(git)?;
    Ok(entry.map(|e| (e.object_id(), e.mode().is_tree())))
}

/// Adds to `out` every path below `path` that differs between `old` and `new` (id, and whether
/// it is a tree).
fn compare(
    repo: &gix::Repository,
    old: Option<(gix::ObjectId, bool)>,
    new: Option<(gix::ObjectId, bool)>,
    path: &str,
    out: &mut Vec<String>,
) -> Result<(), gix::Error> {
    if old == new {
        return Ok(());
    }
    let entries = |side: Option<(gix::ObjectId, bool)>| -> Result<Vec<(String, gix::ObjectId, bool)>, gix::Error> {
        match side {
            Some((id, true)) => {
                let tree = repo.find_tree(id)?;
                let decoded = tree.decode()?;
                Ok(decoded
                    .entries
                    .iter()
                    .map(|e| (e.filename.to_string(), e.oid.to_owned(), e.mode.is_tree()))
                    .collect())
            }
            _ => Ok(Vec::new()),
        }
    };
    // A file (or link, or submodule) on either side is itself a change.
    if old.is_some_and(|(_, tree)| !tree) || new.is_some_and(|(_, tree)| !tree) {
        out.push(path.to_owned());
    }
    let (old_entries, new_entries) = (entries(old)?, entries(new)?);
    let mut names: Vec<&String> = old_entries.iter().chain(&new_entries).map(|(n, _, _)| n).collect();
    names.sort();
    names.dedup();
    for name in names {
        let find = |list: &[(String, gix::ObjectId, bool)]| {
            list.iter().find(|(n, _, _)| n == name).map(|(_, id, t)| (*id, *t))
        };
        let child = if path.is_empty() { name.clone() } else { format!("{path}/{name}") };
        compare(repo, find(&old_entries), find(&new_entries), &child, out)?;
    }
    Ok(())
}
