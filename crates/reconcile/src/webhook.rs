//! Git push webhooks, GitHub and GitLab formats: check the signature, read the repository and
//! the pushed reference, and find the applications it concerns.
//!
//! - GitHub: `X-GitHub-Event: push`, the body signed with HMAC-SHA256 under the shared secret
//!   in `X-Hub-Signature-256: sha256=<hex>`; `ping` is acknowledged.
//! - GitLab: `X-Gitlab-Event: Push Hook` or `Tag Push Hook`, the shared secret itself in
//!   `X-Gitlab-Token`.
//!
//! Both comparisons are constant-time. A receiver without a secret refuses every request: an
//! unauthenticated endpoint would let anyone make the reconciler fetch at will.

use std::path::Path;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::application::Application;
use crate::source::is_remote;

/// The shared webhook secret. Its value never appears in `Debug` output or messages.
#[derive(Clone)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// A secret.
    pub fn new(value: impl Into<String>) -> Self {
        WebhookSecret(value.into())
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

/// Where a push came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provider {
    /// GitHub (or Gitea/Forgejo, which send the same headers).
    GitHub,
    /// GitLab.
    GitLab,
}

/// One push: the repository (its URLs, as the provider lists them) and the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Push {
    /// Who sent it.
    pub provider: Provider,
    /// Every URL the payload gives for the repository (HTTP clone, SSH, web, git://).
    pub repository_urls: Vec<String>,
    /// The pushed reference (`refs/heads/main`, `refs/tags/v1.2.0`).
    pub git_ref: String,
    /// The repository's default branch, when the payload says.
    pub default_branch: Option<String>,
}

/// A webhook request that is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// Authentication failed or is not configured (HTTP 401).
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The request is not a push webhook this receiver understands (HTTP 400).
    #[error("bad request: {0}")]
    BadRequest(String),
}

/// What a valid webhook request is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// A push.
    Push(Push),
    /// An event that needs no reconcile (a GitHub `ping`, an issue comment): acknowledged.
    Ignored(String),
}

/// Checks and reads a webhook request: `header` looks a header up by its lowercase name,
/// `body` is the raw body (the signature covers its exact bytes).
///
/// ```
/// use gitops_reconcile::{Delivery, WebhookSecret, parse_webhook};
/// let body = br#"{"ref": "refs/heads/main", "project": {"git_http_url": "https://gitlab.com/a/b.git"}}"#;
/// let headers = |name: &str| match name {
///     "x-gitlab-event" => Some("Push Hook"),
///     "x-gitlab-token" => Some("s3cret"),
///     _ => None,
/// };
/// let delivery = parse_webhook(headers, body, Some(&WebhookSecret::new("s3cret")))?;
/// let Delivery::Push(push) = delivery else { panic!("a push") };
/// assert_eq!(push.git_ref, "refs/heads/main");
/// assert!(parse_webhook(headers, body, Some(&WebhookSecret::new("other"))).is_err());
/// # Ok::<(), gitops_reconcile::WebhookError>(())
/// ```
pub fn parse_webhook<'h>(
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
    secret: Option<&WebhookSecret>,
) -> Result<Delivery, WebhookError> {
    let (provider, event) = if let Some(event) = header("x-github-event").or_else(|| header("x-gitea-event")) {
        (Provider::GitHub, event)
    } else if let Some(event) = header("x-gitlab-event") {
        (Provider::GitLab, event)
    } else {
        return Err(WebhookError::BadRequest(
            "not a GitHub or GitLab webhook (no X-GitHub-Event or X-Gitlab-Event header)".to_owned(),
        ));
    };
    let secret = secret.ok_or(WebhookError::Unauthorized("no webhook secret is configured on this receiver"))?;
    match provider {
        Provider::GitHub => {
            let signature =
                header("x-hub-signature-256").ok_or(WebhookError::Unauthorized("X-Hub-Signature-256 is missing"))?;
            let hex = signature
                .strip_prefix("sha256=")
                .ok_or(WebhookError::Unauthorized("X-Hub-Signature-256 is not sha256=<hex>"))?;
            let expected =
                decode_hex(hex).ok_or(WebhookError::Unauthorized("X-Hub-Signature-256 is not sha256=<hex>"))?;
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.0.as_bytes())
                .map_err(|_| WebhookError::Unauthorized("the webhook secret cannot key HMAC-SHA256"))?;
            mac.update(body);
            // `verify_slice` compares in constant time.
            mac.verify_slice(&expected).map_err(|_| WebhookError::Unauthorized("the signature does not match"))?;
        }
        Provider::GitLab => {
            let token = header("x-gitlab-token").ok_or(WebhookError::Unauthorized("X-Gitlab-Token is missing"))?;
            if !constant_time_eq(token.as_bytes(), secret.0.as_bytes()) {
                return Err(WebhookError::Unauthorized("X-Gitlab-Token does not match"));
            }
        }
    }
    let is_push = match provider {
        Provider::GitHub => event == "push",
        Provider::GitLab => event == "Push Hook" || event == "Tag Push Hook",
    };
    if !is_push {
        return Ok(Delivery::Ignored(format!("{event} events need no reconcile")));
    }
    let payload: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::BadRequest(format!("the body is not JSON: {e}")))?;
    let git_ref = payload
        .get("ref")
        .and_then(Value::as_str)
        .ok_or_else(|| WebhookError::BadRequest("the push has no `ref`".to_owned()))?
        .to_owned();
    let (holder, fields, branch_holder): (&str, &[&str], &str) = match provider {
        Provider::GitHub => ("repository", &["clone_url", "git_url", "ssh_url", "html_url", "url"], "repository"),
        Provider::GitLab => ("project", &["git_http_url", "git_ssh_url", "http_url", "ssh_url", "web_url"], "project"),
    };
    let mut repository_urls: Vec<String> = fields
        .iter()
        .filter_map(|f| payload.get(holder).and_then(|r| r.get(*f)).and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    if provider == Provider::GitLab {
        // Older GitLab payloads name the repository under `repository`.
        for field in ["git_http_url", "git_ssh_url", "url", "homepage"] {
            if let Some(url) = payload.get("repository").and_then(|r| r.get(field)).and_then(Value::as_str) {
                repository_urls.push(url.to_owned());
            }
        }
    }
    if repository_urls.is_empty() {
        return Err(WebhookError::BadRequest(format!("the push names no repository URL under `{holder}`")));
    }
    let default_branch =
        payload.get(branch_holder).and_then(|r| r.get("default_branch")).and_then(Value::as_str).map(str::to_owned);
    Ok(Delivery::Push(Push { provider, repository_urls, git_ref, default_branch }))
}

impl Push {
    /// Whether the push concerns `app`: the same repository (URLs compared without scheme,
    /// credentials, `.git` and case of the host), and the reference it follows moved — its
    /// branch or tag, the default branch for `HEAD`, any tag for a semver range. A commit id
    /// never moves. `base` is the folder relative `repoURL`s start from (local repositories are
    /// matched by `file://` URL).
    pub fn concerns(&self, app: &Application, base: &Path) -> bool {
        let url = &app.source.repo_url;
        let wanted = if is_remote(url) {
            normalize_url(url)
        } else {
            let path = base.join(url);
            normalize_url(&format!("file://{}", path.canonicalize().unwrap_or(path).display()))
        };
        if !self.repository_urls.iter().any(|u| normalize_url(u) == wanted) {
            return false;
        }
        let branch = self.git_ref.strip_prefix("refs/heads/");
        let tag = self.git_ref.strip_prefix("refs/tags/");
        match gitops_source::Reference::parse(&app.source.target_revision) {
            Ok(gitops_source::Reference::Default) => match (branch, &self.default_branch) {
                (Some(branch), Some(default)) => branch == default,
                (Some(_), None) => true,
                _ => false,
            },
            Ok(gitops_source::Reference::Semver(_)) => tag.is_some(),
            Ok(gitops_source::Reference::Name(name)) => {
                let name = name.as_str();
                branch == Some(name) || tag == Some(name) || self.git_ref == name
            }
            Ok(_) | Err(_) => false,
        }
    }
}

/// A repository URL reduced to `host/path` (lowercase host, no scheme, credentials, port for
/// the well-known schemes, trailing `/` or `.git`), so the forms a provider lists compare equal.
fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    // scp-like `git@host:path`.
    let rest = if url.contains("://") { rest.to_owned() } else { rest.replacen(':', "/", 1) };
    let rest = rest.rsplit_once('@').map_or(rest.as_str(), |(_, after)| after);
    let rest = rest.trim_end_matches('/').trim_end_matches(".git").trim_end_matches('/');
    match rest.split_once('/') {
        Some((host, path)) => format!("{}/{path}", host.to_ascii_lowercase()),
        None => rest.to_ascii_lowercase(),
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// Compares without an early exit, so the time taken does not tell how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `X-Hub-Signature-256` value GitHub sends for `body` under `secret` (for senders and
/// tests).
///
/// ```
/// use gitops_reconcile::{WebhookSecret, github_signature};
/// let signature = github_signature(&WebhookSecret::new("It's a Secret to Everybody"), b"Hello, World!");
/// // GitHub's documented example.
/// assert_eq!(signature, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
/// ```
pub fn github_signature(secret: &WebhookSecret, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.0.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut out = String::from("sha256=");
    for byte in bytes {
        use std::fmt::Write;
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_in_every_form() {
        let forms = [
            "https://github.com/Org/Repo.git",
            "https://token:x@GitHub.com/Org/Repo",
            "git@github.com:Org/Repo.git",
            "ssh://git@github.com/Org/Repo.git",
            "git://github.com/Org/Repo.git/",
        ];
        for form in forms {
            assert_eq!(normalize_url(form), "github.com/Org/Repo", "{form}");
        }
        assert_ne!(normalize_url("https://github.com/org/other"), normalize_url(forms[0]));
    }

    fn github(
        event: &str,
        signature: Option<&str>,
        body: &[u8],
        secret: Option<&WebhookSecret>,
    ) -> Result<Delivery, WebhookError> {
        let headers = |name: &str| match name {
            "x-github-event" => Some(event),
            "x-hub-signature-256" => signature,
            _ => None,
        };
        parse_webhook(headers, body, secret)
    }

    #[test]
    fn github_pushes_are_signed() {
        let secret = WebhookSecret::new("s3cret");
        let body = br#"{"ref":"refs/heads/main","repository":{"clone_url":"https://github.com/o/r.git","default_branch":"main"}}"#;
        let signature = github_signature(&secret, body);
        let Ok(Delivery::Push(push)) = github("push", Some(&signature), body, Some(&secret)) else { panic!("a push") };
        assert_eq!(push.default_branch.as_deref(), Some("main"));
        assert_eq!(push.repository_urls, ["https://github.com/o/r.git"]);
        let tampered = github_signature(&secret, b"{}");
        assert_eq!(
            github("push", Some(&tampered), body, Some(&secret)),
            Err(WebhookError::Unauthorized("the signature does not match"))
        );
        assert!(matches!(github("push", None, body, Some(&secret)), Err(WebhookError::Unauthorized(_))));
        assert!(matches!(github("push", Some("sha256=zz"), body, Some(&secret)), Err(WebhookError::Unauthorized(_))));
        assert!(matches!(github("push", Some(&signature), body, None), Err(WebhookError::Unauthorized(_))));
        assert!(matches!(github("ping", Some(&signature), body, Some(&secret)), Ok(Delivery::Ignored(_))));
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", WebhookSecret::new("hunter2")), "WebhookSecret(***)");
    }

    #[test]
    fn pushes_concern_the_followed_reference() {
        let apps = crate::Applications::parse(
            "applications:
  - {name: head, source: {repoURL: 'https://github.com/o/r'}}
  - {name: main, source: {repoURL: 'git@github.com:o/r.git', targetRevision: main}}
  - {name: dev, source: {repoURL: 'https://github.com/o/r', targetRevision: dev}}
  - {name: semver, source: {repoURL: 'https://github.com/o/r', targetRevision: '>=1.0.0'}}
  - {name: other, source: {repoURL: 'https://github.com/o/other'}}
",
            "gitops.yaml",
        )
        .expect("valid");
        let push = |git_ref: &str| Push {
            provider: Provider::GitHub,
            repository_urls: vec!["https://github.com/o/r.git".into()],
            git_ref: git_ref.into(),
            default_branch: Some("main".into()),
        };
        let concerned = |p: &Push| -> Vec<&str> {
            apps.applications.iter().filter(|a| p.concerns(a, Path::new("."))).map(|a| a.name.as_str()).collect()
        };
        assert_eq!(concerned(&push("refs/heads/main")), ["head", "main"]);
        assert_eq!(concerned(&push("refs/heads/dev")), ["dev"]);
        assert_eq!(concerned(&push("refs/tags/v1.2.0")), ["semver"]);
    }
}
