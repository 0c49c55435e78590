//! Remote resources: Git repositories named by URL in `resources:` and `components:`.
//!
//! The renderer holds no network code: a [`RemoteResolver`] given in the options turns a
//! [`RemoteRepo`] into a [`FileTree`]. The `gitops` binary wires it to `gitops-source`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use gitops_core::FileTree;
use gitops_core::tree::normalize;

/// A remote kustomization root, as Kustomize reads its URL forms:
/// `https://host/org/repo//path?ref=v1`, `github.com/org/repo/path?ref=v1`,
/// `git@host:org/repo.git//path`, `ssh://host/org/repo//path`, `file:///srv/repo//path`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteRepo {
    /// What to clone: scheme, host and repository path (`https://github.com/org/repo`).
    pub url: String,
    /// The folder inside the repository (`""` for its root).
    pub path: String,
    /// The `ref` (or `version`) query parameter: a branch, tag or commit; `None` for the default branch.
    pub reference: Option<String>,
    /// The `submodules` query parameter (default true).
    pub submodules: bool,
    /// The `timeout` query parameter (default 27 s, as Kustomize).
    pub timeout: Duration,
}

/// Fetches remote repositories for the Kustomize renderer.
pub trait RemoteResolver: Send + Sync + fmt::Debug {
    /// The repository `repo.url` at `repo.reference`, as a file tree rooted at the repository.
    fn fetch(&self, repo: &RemoteRepo) -> Result<Arc<dyn FileTree>, String>;
}

const SCHEMES: [&str; 5] = ["https://", "http://", "ssh://", "git://", "file://"];

/// Whether a `resources` entry names a remote repository rather than a local path.
pub(crate) fn looks_remote(entry: &str) -> bool {
    let entry = entry.strip_prefix("git::").unwrap_or(entry);
    if SCHEMES.iter().any(|s| entry.starts_with(s)) {
        return true;
    }
    // scp-like `user@host:path`
    if let Some((user_host, _)) = entry.split_once(':')
        && user_host.contains('@')
        && !user_host.contains('/')
    {
        return true;
    }
    // A bare host (`github.com/org/repo`): a first segment with a dot that is not `.` or `..`.
    let first = entry.split('/').next().unwrap_or_default();
    first.contains('.') && !first.starts_with('.') && entry.contains('/')
}

/// Parses a remote entry; `Err` names what is wrong with it.
///
/// ```
/// use gitops_render::kustomize::parse_remote;
/// let repo = parse_remote("https://github.com/org/repo//deploy/base?ref=v1.2.0").unwrap();
/// assert_eq!((repo.url.as_str(), repo.path.as_str(), repo.reference.as_deref()),
///            ("https://github.com/org/repo", "deploy/base", Some("v1.2.0")));
/// let repo = parse_remote("github.com/org/repo/deploy?version=main").unwrap();
/// assert_eq!((repo.url.as_str(), repo.path.as_str()), ("https://github.com/org/repo", "deploy"));
/// let repo = parse_remote("git@example.com:org/repo.git//app").unwrap();
/// assert_eq!((repo.url.as_str(), repo.path.as_str()), ("git@example.com:org/repo.git", "app"));
/// ```
pub fn parse_remote(entry: &str) -> Result<RemoteRepo, String> {
    let raw = entry.strip_prefix("git::").unwrap_or(entry);
    let (base, query) = raw.split_once('?').unwrap_or((raw, ""));
    let mut reference = None;
    let (mut submodules, mut timeout) = (true, Duration::from_secs(27));
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "ref" if !value.is_empty() => reference = Some(value.to_owned()),
            "version" if reference.is_none() && !value.is_empty() => reference = Some(value.to_owned()),
            "submodules" => submodules = !matches!(value, "false" | "0" | "f" | "F" | "FALSE" | "False"),
            "timeout" => {
                let seconds = value.strip_suffix('s').unwrap_or(value);
                if let Ok(s) = seconds.parse::<u64>().map(Duration::from_secs) {
                    timeout = s;
                }
            }
            _ => {}
        }
    }
    // Split off the host part: `scheme://host/` or `user@host:`, or a bare `host/`.
    let (host, rest, file) = if let Some(rest) = base.strip_prefix("file://") {
        ("file://".to_owned(), rest.to_owned(), true)
    } else if let Some(scheme) = SCHEMES.iter().find(|s| base.starts_with(*s)) {
        let rest = &base[scheme.len()..];
        let (host, path) = rest.split_once('/').ok_or_else(|| format!("no repository path in {entry:?}"))?;
        (format!("{scheme}{host}/"), path.to_owned(), false)
    } else if let Some((user_host, path)) = base.split_once(':').filter(|(uh, _)| uh.contains('@') && !uh.contains('/'))
    {
        (format!("{user_host}:"), path.to_owned(), false)
    } else {
        let (host, path) = base.split_once('/').ok_or_else(|| format!("no repository path in {entry:?}"))?;
        (format!("https://{host}/"), path.to_owned(), false)
    };
    // The repository and the folder inside it: at the explicit `//` marker, else (for hosts)
    // after `org/repo`; a `file://` URL without a marker is all repository.
    let (repo_path, kust_path) = if let Some((repo, path)) = rest.split_once("//") {
        (repo.to_owned(), path.to_owned())
    } else if file {
        (rest.clone(), String::new())
    } else {
        let segments: Vec<&str> = rest.split('/').collect();
        if segments.len() < 2 {
            return Err(format!("failed to parse repo path segment in {entry:?}"));
        }
        (segments[..2].join("/"), segments[2..].join("/"))
    };
    if repo_path.is_empty() {
        return Err(format!("failed to parse repo path segment in {entry:?}"));
    }
    let path = normalize(&kust_path).map_err(|_| format!("url path exits repo: {entry}"))?;
    Ok(RemoteRepo { url: format!("{host}{repo_path}"), path, reference, submodules, timeout })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_forms() {
        assert!(looks_remote("https://github.com/a/b//c"));
        assert!(looks_remote("github.com/a/b/c"));
        assert!(looks_remote("git@github.com:a/b"));
        assert!(!looks_remote("../base"));
        assert!(!looks_remote("base"));
        assert!(!looks_remote("deploy.yaml"));
        let repo =
            parse_remote("file:///srv/repo.git//apps/web?ref=main&timeout=10s&submodules=false").expect("parses");
        assert_eq!(repo.url, "file:///srv/repo.git");
        assert_eq!(repo.path, "apps/web");
        assert_eq!(repo.reference.as_deref(), Some("main"));
        assert_eq!(repo.timeout, Duration::from_secs(10));
        assert!(!repo.submodules);
        assert!(parse_remote("https://github.com/a/b//../../etc").is_err());
        let repo = parse_remote("ssh://git@host.example/org/repo//x?version=v2").expect("parses");
        assert_eq!((repo.url.as_str(), repo.reference.as_deref()), ("ssh://git@host.example/org/repo", Some("v2")));
    }
}
