//! Resolving what a user typed (`main`, `v1.2.0`, `a1b2c3d`, `main~1`) to an exact [`Revision`].

use gitops_core::{Revision, Signature};

use crate::repository::{GitError, Repository};

/// How many candidate names a [`ResolveError::NotFound`] lists at most.
const MAX_CANDIDATES: usize = 5;

impl Repository {
    /// Resolves `rev` to a commit, with the reference it was named by and the commit's metadata.
    ///
    /// `rev` may be:
    ///
    /// - `HEAD` or `""`: the checked-out commit; the reference is the branch `HEAD` is on, if any;
    /// - a branch, tag or other reference, short (`main`, `v1.0`) or full (`refs/heads/main`),
    ///   looked up in Git's order (`refs/`, `refs/tags/`, `refs/heads/`, `refs/remotes/`);
    ///   the reference is the name as given, and annotated tags are peeled to their commit;
    /// - a full or unambiguous short commit id: the reference is `None`;
    /// - any other single-commit `git rev-parse` expression (`main~1`, `v1.0^2`, `HEAD@{1}`):
    ///   the reference is `None`.
    ///
    /// A name that matches nothing is a [`ResolveError::NotFound`] that lists the closest
    /// existing reference names.
    pub fn resolve(&self, rev: &str) -> Result<Revision, ResolveError> {
        let repo = self.local();
        let spec = rev.trim();
        let git = |source: gix::Error| ResolveError::Git { rev: rev.to_owned(), source: source.into() };

        let (reference, id) = if spec.is_empty() || spec == "HEAD" {
            let head = repo.head().map_err(git)?;
            if let gix::head::Kind::Unborn(branch) = &head.kind {
                return Err(ResolveError::Unborn { branch: branch.shorten().to_string() });
            }
            let branch = head.referent_name().map(|name| name.shorten().to_string());
            (branch, head.into_peeled_id().map_err(git)?.detach())
        } else if let Some(id) = full_object_id(spec, repo.object_hash()) {
            // Like git, a full id is an id even when a reference has the same name.
            (None, id)
        } else if let Some(mut found) = find_reference(&repo, spec).map_err(git)? {
            (Some(spec.to_owned()), found.peel_to_id().map_err(git)?.detach())
        } else {
            match repo.rev_parse_single(spec) {
                Ok(id) => (None, id.detach()),
                Err(err) if err.is_not_found() => {
                    return Err(not_found(&repo, rev));
                }
                Err(source) => {
                    return Err(ResolveError::Invalid { rev: rev.to_owned(), source: source.into() });
                }
            }
        };

        let Some(object) = repo.try_find_object(id).map_err(git)? else {
            return Err(not_found(&repo, rev));
        };
        let object = object.peel_tags_to_end().map_err(git)?;
        if object.kind != gix::objs::Kind::Commit {
            return Err(ResolveError::NotACommit { rev: rev.to_owned(), kind: object.kind.to_string() });
        }
        let commit = object.into_commit();
        let author = commit.author().map_err(git)?;
        let committer = commit.committer().map_err(git)?;
        let message = commit.message_raw().map_err(git)?;
        Ok(Revision {
            reference,
            commit: commit.id.to_hex().to_string(),
            author: Some(signature(author).map_err(git)?),
            committer: Some(signature(committer).map_err(git)?),
            message: Some(message.to_string()),
        })
    }
}

fn highest_tags(tags: &[String]) -> String {
    if tags.is_empty() {
        "; the repository has no version tags".to_owned()
    } else {
        format!("; highest tags: {}", tags.join(", "))
    }
}

fn not_found(repo: &gix::Repository, rev: &str) -> ResolveError {
    ResolveError::NotFound { rev: rev.to_owned(), candidates: closest(rev.trim(), &reference_names(repo)) }
}

/// Parses `spec` as a full object id of the repository's hash kind.
fn full_object_id(spec: &str, kind: gix::hash::Kind) -> Option<gix::ObjectId> {
    if spec.len() != kind.len_in_hex() {
        return None;
    }
    gix::ObjectId::from_hex(spec.as_bytes()).ok()
}

/// Looks `spec` up as a (partial) reference name, or `None` when it is not one or not valid as one.
pub(crate) fn find_reference<'repo>(
    repo: &'repo gix::Repository,
    spec: &str,
) -> gix::Result<Option<gix::Reference<'repo>>> {
    let Ok(name) = <&gix::refs::PartialNameRef>::try_from(spec) else {
        return Ok(None);
    };
    repo.try_find_reference(name)
}

fn signature(sig: gix::actor::SignatureRef<'_>) -> gix::Result<Signature> {
    let sig = sig.trim();
    let time = sig.time()?;
    Ok(Signature { name: sig.name.to_string(), email: sig.email.to_string(), time: time.seconds, offset: time.offset })
}

/// The short names of every reference (`main`, `v1.0`, `origin/main`), sorted, without
/// duplicates. Failures to read a reference are skipped: this only feeds suggestions.
fn reference_names(repo: &gix::Repository) -> Vec<String> {
    let Ok(platform) = repo.references() else {
        return Vec::new();
    };
    let Ok(all) = platform.all() else {
        return Vec::new();
    };
    let mut names: Vec<String> = all.filter_map(Result::ok).map(|r| r.name().shorten().to_string()).collect();
    names.sort();
    names.dedup();
    names
}

/// Up to [`MAX_CANDIDATES`] of `names` closest to `wanted`: names sharing a prefix with it first,
/// then by edit distance, then by name. Names too far to be a typo of `wanted` are left out.
pub(crate) fn closest(wanted: &str, names: &[String]) -> Vec<String> {
    let limit = (wanted.chars().count() / 2).max(2);
    let mut scored: Vec<(bool, usize, &String)> = names
        .iter()
        .filter_map(|name| {
            let prefix = !wanted.is_empty() && (name.starts_with(wanted) || wanted.starts_with(name.as_str()));
            let distance = edit_distance(wanted, name);
            (prefix || distance <= limit).then_some((!prefix, distance, name))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(MAX_CANDIDATES).map(|(_, _, name)| name.clone()).collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Why [`Repository::resolve`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// No reference, commit id or expression matches the revision.
    #[error("revision {rev:?} not found{}", suggestions(candidates))]
    NotFound {
        /// The revision as given.
        rev: String,
        /// The existing reference names closest to it, best first (at most five).
        candidates: Vec<String>,
    },
    /// No tag's version satisfies the range.
    #[error("no tag matches the semver range {range:?}{}", highest_tags(highest))]
    NoTagInRange {
        /// The range, as given.
        range: String,
        /// The highest version tags there are (at most five), highest first.
        highest: Vec<String>,
    },
    /// `HEAD` points to a branch that has no commit yet.
    #[error("HEAD points to branch {branch:?}, which has no commits yet")]
    Unborn {
        /// The branch `HEAD` points to.
        branch: String,
    },
    /// The revision names an object that is not a commit (a tree or a blob, or a tag of one).
    #[error("revision {rev:?} names a {kind}, not a commit")]
    NotACommit {
        /// The revision as given.
        rev: String,
        /// The kind of object it names (`tree`, `blob`).
        kind: String,
    },
    /// The revision is not a valid expression, is an ambiguous short id, or names more than one
    /// commit (a range).
    #[error("revision {rev:?} cannot be resolved to one commit")]
    Invalid {
        /// The revision as given.
        rev: String,
        /// The cause, from the Git backend.
        #[source]
        source: GitError,
    },
    /// Reading references or objects failed.
    #[error("revision {rev:?}: reading the repository failed")]
    Git {
        /// The revision as given.
        rev: String,
        /// The cause, from the Git backend.
        #[source]
        source: GitError,
    },
}

impl ResolveError {
    /// Whether the error means the revision does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ResolveError::NotFound { .. })
    }
}

fn suggestions(candidates: &[String]) -> String {
    if candidates.is_empty() { String::new() } else { format!("; closest references: {}", candidates.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("main", "main"), 0);
        assert_eq!(edit_distance("mian", "main"), 2);
        assert_eq!(edit_distance("mai", "main"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn closest_prefers_prefixes_then_distance_and_drops_far_names() {
        let names: Vec<String> =
            ["develop", "feature/login", "main", "master", "v1.0"].into_iter().map(str::to_owned).collect();
        assert_eq!(closest("mian", &names), ["main"]);
        assert_eq!(closest("ma", &names), ["main", "master"]);
        assert_eq!(closest("feature", &names), ["feature/login"]);
        assert_eq!(closest("v1.1", &names), ["v1.0"]);
        assert!(closest("completely-unrelated", &names).is_empty());
    }
}
