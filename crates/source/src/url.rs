//! Remote URLs: parsed, checked against the allowed transports, and never displayed with credentials.

use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};

/// A secret value (a token or a password) that never shows in `Debug` or logs.
///
/// ```
/// use gitops_source::Secret;
/// let secret = Secret::new("hunter2");
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// assert_eq!(secret.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// HTTPS credentials, sent as an `Authorization` header on every request to the remote.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// A bearer token (`Authorization: Bearer …`), as Flux's `bearerToken`.
    Token(Secret),
    /// A user name and password (`Authorization: Basic …`); a token used as a password works with most forges.
    Basic {
        /// The user name.
        username: String,
        /// The password or token.
        password: Secret,
    },
}

impl Credentials {
    /// Credentials from the environment: `GITOPS_GIT_TOKEN` (a bearer token), else
    /// `GITOPS_GIT_USERNAME` with `GITOPS_GIT_PASSWORD` (basic auth); `None` when unset.
    pub fn from_env() -> Option<Credentials> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if let Some(token) = var("GITOPS_GIT_TOKEN") {
            return Some(Credentials::Token(Secret::new(token)));
        }
        Some(Credentials::Basic {
            username: var("GITOPS_GIT_USERNAME")?,
            password: Secret::new(var("GITOPS_GIT_PASSWORD")?),
        })
    }

    /// The value of the `Authorization` header.
    pub(crate) fn header_value(&self) -> String {
        use base64::Engine as _;
        match self {
            Credentials::Token(token) => format!("Bearer {}", token.expose()),
            Credentials::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
            }
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Credentials::Token(<redacted>)"),
            Credentials::Basic { username, .. } => write!(f, "Credentials::Basic({username:?}, <redacted>)"),
        }
    }
}

/// The transports a [`RemoteUrl`] may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// A local path or `file://` URL (gix runs the local `git upload-pack`).
    File,
    /// `git://`, the Git daemon protocol.
    Git,
    /// `http://`, smart HTTP.
    Http,
    /// `https://`, smart HTTP over TLS.
    Https,
    /// `ssh://` or scp-like `user@host:path`, through the system `ssh`.
    Ssh,
}

/// A remote repository URL that passed the safety checks, with its credentials split off.
///
/// `Display` and `Debug` never show a user's password: [`RemoteUrl::parse`] moves a password given
/// in the URL into [`RemoteUrl::credentials`], and the URL that remains is what the cache is named
/// after.
///
/// ```
/// use gitops_source::RemoteUrl;
/// let url = RemoteUrl::parse("https://bot:s3cret@git.example.com/org/repo.git")?;
/// assert_eq!(url.to_string(), "https://git.example.com/org/repo.git");
/// assert!(!format!("{url:?}").contains("s3cret"));
/// assert!(RemoteUrl::parse("ext::sh -c touch% /tmp/pwned").is_err());
/// assert!(RemoteUrl::parse("ssh://-oProxyCommand=id/repo").is_err());
/// # Ok::<(), gitops_source::UrlError>(())
/// ```
#[derive(Clone)]
pub struct RemoteUrl {
    url: gix::Url,
    transport: Transport,
    credentials: Option<Credentials>,
}

impl RemoteUrl {
    /// Parses and checks `input`: a local path, `file://`, `git://`, `http(s)://`, `ssh://` or
    /// `user@host:path`. Helper transports (`ext::`, `fd::`, `foo::…`), other schemes, and
    /// anything that a program could read as an option (a URL, host, user or path starting with
    /// `-`, control characters) are refused. A relative local path is made absolute.
    pub fn parse(input: &str) -> Result<RemoteUrl, UrlError> {
        let refuse = |reason: &str| UrlError::Refused { url: redact(input), reason: reason.to_owned() };
        if input.is_empty() {
            return Err(refuse("the URL is empty"));
        }
        if input.starts_with('-') {
            return Err(refuse("a URL may not start with '-'"));
        }
        if input.chars().any(char::is_control) {
            return Err(refuse("a URL may not contain control characters"));
        }
        // `transport::address` is Git's remote-helper syntax (`ext::cmd` runs `cmd`).
        if let Some((helper, _)) = input.split_once("::")
            && !helper.contains('/')
        {
            return Err(refuse(&format!("the {helper}:: remote helper transport is not allowed")));
        }
        let local = !input.contains("://") && !is_scp_like(input);
        let absolute;
        let input_for_gix = if local && !Path::new(input).is_absolute() {
            absolute = std::path::absolute(input).map_err(|_| refuse("cannot make the path absolute"))?;
            absolute.to_str().ok_or_else(|| refuse("the path is not UTF-8"))?
        } else {
            input
        };
        let mut url = gix::url::parse(gix::bstr::BStr::new(input_for_gix)).map_err(|e| refuse(&e.to_string()))?;
        let transport = match &url.scheme {
            gix::url::Scheme::File => Transport::File,
            gix::url::Scheme::Git => Transport::Git,
            gix::url::Scheme::Http => Transport::Http,
            gix::url::Scheme::Https => Transport::Https,
            gix::url::Scheme::Ssh => Transport::Ssh,
            other => return Err(refuse(&format!("the {other} transport is not allowed"))),
        };
        if url.host().is_some_and(|h| h.starts_with('-')) {
            return Err(refuse("the host may not start with '-'"));
        }
        if url.user().is_some_and(|u| u.starts_with('-')) {
            return Err(refuse("the user may not start with '-'"));
        }
        let path = url.path.to_string();
        if path.trim_start_matches('/').starts_with('-') || path.trim_start_matches("/~").starts_with('-') {
            return Err(refuse("the repository path may not start with '-'"));
        }
        if transport != Transport::File && url.host().is_none_or(str::is_empty) {
            return Err(refuse("the URL has no host"));
        }
        let credentials = match (url.user(), url.password()) {
            (Some(user), Some(password)) if matches!(transport, Transport::Http | Transport::Https) => {
                Some(Credentials::Basic { username: user.to_owned(), password: Secret::new(password) })
            }
            (_, Some(_)) => return Err(refuse("a password in the URL is only allowed for http(s)")),
            _ => None,
        };
        if credentials.is_some() {
            url.set_user(None);
            url.set_password(None);
        }
        Ok(RemoteUrl { url, transport, credentials })
    }

    /// The transport the URL uses.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Credentials that were given inside the URL (`https://user:password@host/…`).
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The name of this remote's folder in a cache: a SHA-256 of the URL without credentials.
    pub fn cache_key(&self) -> String {
        let digest = Sha256::digest(self.to_string().as_bytes());
        digest.iter().take(16).fold(String::with_capacity(32), |mut hex, b| {
            hex.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            hex.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
            hex
        })
    }

    /// The URL for gix (without a password).
    pub(crate) fn gix(&self) -> &gix::Url {
        &self.url
    }
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password was moved out in `parse`; `to_bstring` would print one otherwise.
        write!(f, "{}", self.url.to_bstring())
    }
}

impl fmt::Debug for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteUrl")
            .field("url", &self.to_string())
            .field("transport", &self.transport)
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// Whether `input` is scp-like (`user@host:path` or `host:path`), as Git reads it: a colon before
/// any slash.
fn is_scp_like(input: &str) -> bool {
    match (input.find(':'), input.find('/')) {
        (Some(colon), Some(slash)) => colon < slash && colon > 1,
        (Some(colon), None) => colon > 1,
        _ => false,
    }
}

/// `input` with anything between `://` and `@` (user info) replaced, for error messages.
pub(crate) fn redact(input: &str) -> String {
    if let Some((scheme, rest)) = input.split_once("://") {
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{scheme}://<redacted>@{}", &rest[at + 1..]);
        }
    }
    input.to_owned()
}

/// Checks a reference name or pattern a caller asked for: it may not be read as an option and
/// must be a valid Git reference name.
pub(crate) fn check_ref_name(name: &str) -> Result<(), UrlError> {
    let refuse = |reason: &str| UrlError::BadReference { name: name.to_owned(), reason: reason.to_owned() };
    if name.starts_with('-') {
        return Err(refuse("a reference may not start with '-'"));
    }
    if name.chars().any(|c| c.is_control() || c == ' ' || c == ':' || c == '\\') {
        return Err(refuse("a reference may not contain spaces, ':', '\\' or control characters"));
    }
    gix::validate::reference::name_partial(name.replace('*', "x").as_str().into())
        .map_err(|e| refuse(&e.to_string()))?;
    Ok(())
}

/// Why a URL or reference was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL is malformed or uses a transport that is not allowed.
    #[error("remote URL {url:?} refused: {reason}")]
    Refused {
        /// The URL as given, with any credentials redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// A reference name or pattern is not valid.
    #[error("reference {name:?} refused: {reason}")]
    BadReference {
        /// The name as given.
        name: String,
        /// Why.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_transports() {
        for (input, transport) in [
            ("https://example.com/org/repo.git", Transport::Https),
            ("http://127.0.0.1:8080/git/repo.git", Transport::Http),
            ("git://127.0.0.1:9418/repo.git", Transport::Git),
            ("ssh://git@example.com:2222/org/repo.git", Transport::Ssh),
            ("git@example.com:org/repo.git", Transport::Ssh),
            ("file:///srv/repo.git", Transport::File),
            ("/srv/repo.git", Transport::File),
        ] {
            assert_eq!(RemoteUrl::parse(input).expect(input).transport(), transport, "{input}");
        }
        let relative = RemoteUrl::parse("some/dir").expect("relative path");
        assert!(relative.to_string().starts_with('/'), "{relative}");
    }

    #[test]
    fn refused_urls() {
        for input in [
            "",
            "-uhello",
            "--upload-pack=touch /tmp/x",
            "ext::sh -c 'touch /tmp/pwned'",
            "fd::17",
            "transport::https://example.com/repo",
            "ssh://-oProxyCommand=touch%20/tmp/x/repo",
            "-oProxyCommand=x:repo",
            "ssh://-user@host/repo",
            "ssh://host/-repo",
            "git@host:-repo",
            "ftp://example.com/repo",
            "https://example.com/repo\n--upload-pack=x",
            "git://user:pass@example.com/repo",
        ] {
            let err = RemoteUrl::parse(input).expect_err(input);
            assert!(matches!(err, UrlError::Refused { .. }), "{input}: {err}");
        }
    }

    #[test]
    fn credentials_are_split_off_and_never_shown() {
        let url = RemoteUrl::parse("https://bot:hunter2@example.com/org/repo.git").expect("parses");
        assert_eq!(url.to_string(), "https://example.com/org/repo.git");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert!(format!("{url:?}").contains("<redacted>"));
        let plain = RemoteUrl::parse("https://example.com/org/repo.git").expect("parses");
        assert_eq!(url.cache_key(), plain.cache_key(), "the cache key ignores credentials");
        assert_eq!(url.cache_key().len(), 32);
        let Some(Credentials::Basic { username, password }) = url.credentials() else { panic!("basic credentials") };
        assert_eq!((username.as_str(), password.expose()), ("bot", "hunter2"));
        assert_eq!(url.credentials().map(Credentials::header_value).as_deref(), Some("Basic Ym90Omh1bnRlcjI="));
        let token = Credentials::Token(Secret::new("t0ken"));
        assert_eq!(format!("{token:?}"), "Credentials::Token(<redacted>)");
        assert_eq!(token.header_value(), "Bearer t0ken");
        let err = RemoteUrl::parse("ext::https://bot:hunter2@example.com/x").expect_err("helper");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert_eq!(redact("https://a:b@h/x"), "https://<redacted>@h/x");
    }

    #[test]
    fn reference_names() {
        for good in ["main", "refs/heads/main", "v1.0.0", "refs/tags/*", "feature/x"] {
            check_ref_name(good).expect(good);
        }
        for bad in ["-main", "--upload-pack=x", "a b", "a..b", "refs/heads/x:refs/heads/y", "x\n"] {
            assert!(check_ref_name(bad).is_err(), "{bad}");
        }
    }
}
