//! Talking to remotes with gix: fetch with explicit refspecs, list remote references, and the
//! per-transport configuration (TLS roots and credentials for HTTPS, the `ssh` command line).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use gix::NestedProgress;
use gix::remote::Direction;

use crate::cache::{FetchError, FetchOutcome, nonzero_depth};
use crate::url::{Credentials, RemoteUrl, Transport, check_ref_name, redact};

/// How to reach a remote and what to fetch from it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct FetchOptions {
    /// Fetch only this many commits of history (a shallow clone); `None` fetches everything.
    /// Needs a server that speaks Git protocol version 2; a clone that comes back complete anyway
    /// is an error.
    pub depth: Option<u32>,
    /// Fetch only these references (`main`, `refs/heads/main`, `refs/tags/v1.*`); empty fetches
    /// every branch and tag. A short name is a branch.
    pub refs: Vec<String>,
    /// HTTPS credentials; those given in the URL are used when this is `None`.
    pub credentials: Option<Credentials>,
    /// A PEM bundle of the certificate authorities to trust for HTTPS, instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// The private key `ssh` authenticates with.
    pub ssh_key: Option<PathBuf>,
    /// The `known_hosts` file `ssh` checks the server's key against (strictly).
    pub known_hosts: Option<PathBuf>,
    /// The longest wait for the remote, on every transport: to connect, and for each read or
    /// write after that (an inactivity timeout, not a limit on the whole transfer).
    /// `None` is [`FetchOptions::DEFAULT_TIMEOUT`]. For ssh it is `ConnectTimeout` (connection
    /// and handshake) and a keep-alive every `timeout` that gives up after one unanswered probe.
    pub timeout: Option<Duration>,
}

impl FetchOptions {
    /// Options with `depth` set.
    #[must_use]
    pub fn depth(mut self, depth: Option<u32>) -> Self {
        self.depth = depth.filter(|d| *d > 0);
        self
    }

    /// Options with `credentials` set.
    #[must_use]
    pub fn credentials(mut self, credentials: Option<Credentials>) -> Self {
        self.credentials = credentials;
        self
    }

    /// Options that fetch only `refs` (see [`FetchOptions::refs`]).
    #[must_use]
    pub fn refs(mut self, refs: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.refs = refs.into_iter().map(Into::into).collect();
        self
    }

    /// Options trusting the CAs in the PEM bundle `path` for HTTPS.
    #[must_use]
    pub fn ca_file(mut self, path: Option<PathBuf>) -> Self {
        self.ca_file = path;
        self
    }

    /// Options with the `ssh` key file and known_hosts file.
    #[must_use]
    pub fn ssh(mut self, key: Option<PathBuf>, known_hosts: Option<PathBuf>) -> Self {
        self.ssh_key = key;
        self.known_hosts = known_hosts;
        self
    }

    /// The timeout when none is given: 60 seconds, Flux's default.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

    /// Options with a timeout (see [`FetchOptions::timeout`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// The timeout in force: the one given, or [`FetchOptions::DEFAULT_TIMEOUT`].
    pub fn effective_timeout(&self) -> Duration {
        self.timeout.filter(|t| !t.is_zero()).unwrap_or(Self::DEFAULT_TIMEOUT)
    }

    /// The fetch refspecs: forced updates of the same names in the mirror.
    pub(crate) fn refspecs(&self) -> Result<Vec<String>, FetchError> {
        if self.refs.is_empty() {
            return Ok(vec!["+refs/heads/*:refs/heads/*".to_owned(), "+refs/tags/*:refs/tags/*".to_owned()]);
        }
        self.refs
            .iter()
            .map(|name| {
                check_ref_name(name)?;
                let full = if name.starts_with("refs/") { name.clone() } else { format!("refs/heads/{name}") };
                Ok(format!("+{full}:{full}"))
            })
            .collect()
    }
}

/// A reference as the remote advertises it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteRef {
    /// The full name (`refs/heads/main`, `refs/tags/v1.0.0`, `HEAD`).
    pub name: String,
    /// The commit it points to (annotated tags peeled).
    pub commit: String,
    /// The annotated tag object, for annotated tags.
    pub tag: Option<String>,
    /// What a symbolic reference (`HEAD`) points to.
    pub symref_target: Option<String>,
}

/// Open options for mirrors: no system, global or environment configuration, so that nothing
/// configured outside (credential helpers, `core.sshCommand`, `url.*.insteadOf`) runs or applies.
pub(crate) fn open_options() -> gix::open::Options {
    gix::open::Options::isolated()
}

/// Fetches into `repo` with the refspecs of `options`, prunes references the remote no longer
/// has, and points `HEAD` at the remote's default branch.
pub(crate) fn fetch<P>(
    repo: &gix::Repository,
    url: &RemoteUrl,
    options: &FetchOptions,
    mut progress: P,
    should_interrupt: &AtomicBool,
) -> Result<FetchOutcome, FetchError>
where
    P: NestedProgress,
    P::SubProgress: 'static,
{
    let specs = options.refspecs()?;
    let repo = configured(repo, url, options)?;
    let fail = failure(url, should_interrupt);
    let remote = repo
        .remote_at(url.gix().clone())
        .and_then(|r| r.with_refspecs(specs.iter().map(String::as_str), Direction::Fetch))
        .map_err(&fail)?
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let mut connection = connect(&remote, url, options).map_err(&fail)?;
    configure_connection(&mut connection, &repo, url, options)?;
    let prepare = connection.prepare_fetch(&mut progress, ref_map_options()).map_err(&fail)?;
    let prepare = match options.depth {
        Some(depth) => prepare.with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(nonzero_depth(depth))),
        None => prepare,
    };
    let outcome = prepare.receive(progress, should_interrupt).map_err(&fail)?;
    let (received_pack, mut updated_refs) = match &outcome.status {
        gix::remote::fetch::Status::NoPackReceived { update_refs, .. } => (false, changed(update_refs)),
        gix::remote::fetch::Status::Change { update_refs, .. } => (true, changed(update_refs)),
    };
    let remote_refs = advertised(&outcome.ref_map.remote_refs);
    updated_refs += prune(&repo, &specs, &remote_refs).map_err(&fail)?;
    let default_branch = set_head(&repo, &remote_refs).map_err(&fail)?;
    Ok(FetchOutcome { cloned: false, received_pack, updated_refs, default_branch })
}

/// Lists the remote's branches, tags and `HEAD` without fetching any object, like `git ls-remote`.
/// `scratch` is an empty folder for the bare repository gix needs to hold the connection.
pub(crate) fn ls_remote(
    scratch: &Path,
    url: &RemoteUrl,
    options: &FetchOptions,
    should_interrupt: &AtomicBool,
) -> Result<Vec<RemoteRef>, FetchError> {
    let fail = failure(url, should_interrupt);
    let repo = gix::ThreadSafeRepository::init_opts(
        scratch,
        gix::create::Kind::Bare,
        gix::create::Options::default(),
        open_options(),
    )
    .map_err(|e| FetchError::Cache { path: scratch.to_owned(), source: e.into() })?
    .to_thread_local();
    let repo = configured(&repo, url, options)?;
    let specs = options.refspecs()?;
    let remote = repo
        .remote_at(url.gix().clone())
        .and_then(|r| r.with_refspecs(specs.iter().map(String::as_str), Direction::Fetch))
        .map_err(&fail)?;
    let mut connection = connect(&remote, url, options).map_err(&fail)?;
    configure_connection(&mut connection, &repo, url, options)?;
    let (ref_map, _) = connection.ref_map(gix::progress::Discard, ref_map_options()).map_err(&fail)?;
    let mut refs = advertised(&ref_map.remote_refs);
    refs.sort_by(|a, b| (a.name != "HEAD", &a.name).cmp(&(b.name != "HEAD", &b.name)));
    Ok(refs)
}

/// A boxed transport, whichever the URL needs.
type AnyTransport = Box<dyn gix::protocol::transport::client::blocking_io::Transport + Send>;

/// Connects for fetching. `git://` gets a socket of our own with [`FetchOptions::timeout`] on
/// the connect and on every read and write (gix's has a 5 s connect timeout and none after);
/// every other transport is gix's (HTTP timeouts are set in [`configure_connection`], ssh's
/// in [`ssh_command`]).
fn connect<'remote, 'repo>(
    remote: &'remote gix::Remote<'repo>,
    url: &RemoteUrl,
    options: &FetchOptions,
) -> Result<gix::remote::Connection<'remote, 'remote, 'repo, AnyTransport>, gix::Error> {
    use gix::protocol::transport::client::git;
    if url.transport() != Transport::Git {
        return remote.connect(Direction::Fetch).map_err(gix::Error::from_error);
    }
    let timeout = options.effective_timeout();
    let target = url.gix();
    let host = target.host().ok_or_else(|| gix::Error::from_error(UrlNoHost))?.to_owned();
    let port = target.port;
    let io = |e: std::io::Error| gix::Error::from_error(e);
    let address = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port.unwrap_or(9418)))
        .map_err(io)?
        .next()
        .ok_or_else(|| io(std::io::Error::new(std::io::ErrorKind::NotFound, format!("{host} has no address"))))?;
    let stream = std::net::TcpStream::connect_timeout(&address, timeout).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let write = TimedStream { stream: stream.try_clone().map_err(io)?, timeout };
    let transport = git::blocking_io::Connection::new(
        TimedStream { stream, timeout },
        write,
        gix::protocol::transport::Protocol::V2,
        target.path.clone(),
        Some((host, port)),
        git::ConnectMode::Daemon,
        false,
    );
    Ok(remote.to_connection_with_transport(Box::new(transport) as AnyTransport))
}

#[derive(Debug, thiserror::Error)]
#[error("a git:// URL needs a host")]
struct UrlNoHost;

/// A socket with read and write timeouts whose expiry reads as such (the OS says "resource
/// temporarily unavailable").
struct TimedStream {
    stream: std::net::TcpStream,
    timeout: Duration,
}

impl TimedStream {
    fn explain(&self, error: std::io::Error) -> std::io::Error {
        use std::io::ErrorKind;
        match error.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                std::io::Error::new(ErrorKind::TimedOut, format!("the server did not answer within {:?}", self.timeout))
            }
            _ => error,
        }
    }
}

impl std::io::Read for TimedStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.stream.read(buf).map_err(|e| self.explain(e))
    }
}

impl std::io::Write for TimedStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stream.write(buf).map_err(|e| self.explain(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush().map_err(|e| self.explain(e))
    }
}

fn ref_map_options() -> gix::remote::ref_map::Options {
    // `HEAD` as an implicit refspec: its object is fetched and its target (the default branch)
    // advertised, but nothing is written for it.
    let head = gix::refspec::parse("HEAD".into(), gix::refspec::parse::Operation::Fetch)
        .expect("`HEAD` is a valid fetch refspec")
        .to_owned();
    gix::remote::ref_map::Options { extra_refspecs: vec![head], ..Default::default() }
}

/// Maps a gix error to a [`FetchError`], naming an interrupt as such and redacting the message.
fn failure<'a>(url: &'a RemoteUrl, should_interrupt: &'a AtomicBool) -> impl Fn(gix::Error) -> FetchError + 'a {
    move |err| {
        if should_interrupt.load(Ordering::Relaxed) {
            return FetchError::Interrupted { url: url.to_string() };
        }
        let mut message = String::new();
        let mut source: Option<&dyn std::error::Error> = Some(&err);
        while let Some(e) = source {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&redact(&e.to_string()));
            source = e.source();
        }
        FetchError::Remote { url: url.to_string(), message, source: None }
    }
}

/// A copy of `repo` with the in-memory configuration the transport needs (the `ssh` command).
fn configured(repo: &gix::Repository, url: &RemoteUrl, options: &FetchOptions) -> Result<gix::Repository, FetchError> {
    let mut repo = repo.clone();
    if url.transport() == Transport::Ssh {
        let fail = failure(url, &NEVER);
        let mut config = repo.config_snapshot_mut();
        config.set_value(&gix::config::tree::Core::SSH_COMMAND, ssh_command(options).as_str()).map_err(&fail)?;
        config.set_value(&gix::config::tree::Ssh::VARIANT, "ssh").map_err(&fail)?;
        config.commit().map_err(&fail)?;
    }
    Ok(repo)
}

static NEVER: AtomicBool = AtomicBool::new(false);

/// The `ssh` command line gix runs (through `sh -c`, so every path is single-quoted): batch mode
/// (never a prompt), the timeout, the key file only, and strict host key checking against the
/// given known_hosts file.
pub fn ssh_command(options: &FetchOptions) -> String {
    let seconds = options.effective_timeout().as_secs().max(1);
    let mut command = format!(
        "ssh -o BatchMode=yes -o ConnectTimeout={seconds} -o ServerAliveInterval={seconds} -o ServerAliveCountMax=1"
    );
    if let Some(key) = &options.ssh_key {
        command.push_str(" -i ");
        command.push_str(&shell_quote(&key.to_string_lossy()));
        command.push_str(" -o IdentitiesOnly=yes");
    }
    if let Some(known_hosts) = &options.known_hosts {
        command.push_str(" -o UserKnownHostsFile=");
        command.push_str(&shell_quote(&known_hosts.to_string_lossy()));
        command.push_str(" -o StrictHostKeyChecking=yes");
    }
    command
}

/// `text` single-quoted for `sh`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Credentials (never a helper program) and, for HTTP(S), the TLS roots and headers.
use gix::protocol::transport::client::blocking_io::http;

fn configure_connection<T>(
    connection: &mut gix::remote::Connection<'_, '_, '_, T>,
    repo: &gix::Repository,
    url: &RemoteUrl,
    options: &FetchOptions,
) -> Result<(), FetchError>
where
    T: gix::protocol::transport::client::blocking_io::Transport,
{
    // Never run a configured credential helper or prompt: the caller's credentials are sent as a
    // header, and a server asking for more gets nothing.
    connection.set_credentials(|_| Ok(None));
    if !matches!(url.transport(), Transport::Http | Transport::Https) {
        return Ok(());
    }
    let fail = failure(url, &NEVER);
    let mut http_options = repo
        .transport_options(gix::bstr::BStr::new(&url.gix().to_bstring()), None)
        .map_err(&fail)?
        .and_then(|any| any.downcast::<http::Options>().ok())
        .map(|boxed| *boxed)
        .unwrap_or_default();
    let tls = tls_config(url, options.ca_file.as_deref())?;
    let timeout = options.effective_timeout();
    let header = options.credentials.as_ref().or(url.credentials()).map(Credentials::header_value);
    let header = header
        .map(|value| {
            let mut value = reqwest::header::HeaderValue::from_str(&value).map_err(|_| FetchError::Tls {
                url: url.to_string(),
                message: "credentials are not a valid header".into(),
            })?;
            value.set_sensitive(true);
            Ok::<_, FetchError>(value)
        })
        .transpose()?;
    let backend = http::reqwest::Options {
        configure_client: Some(Box::new(move |builder| {
            let builder = builder.tls_backend_preconfigured(tls.clone());
            Ok(builder.timeout(timeout).connect_timeout(timeout))
        })),
        configure_request: Some(Box::new(move |request| {
            if let Some(value) = &header {
                request.headers_mut().insert(reqwest::header::AUTHORIZATION, value.clone());
            }
            Ok(())
        })),
    };
    http_options.backend = Some(Arc::new(Mutex::new(backend)));
    connection.set_transport_options(Box::new(http_options));
    Ok(())
}

/// A rustls configuration with the ring provider (the one kube uses; nothing is installed
/// process-wide) trusting `ca_file` if given, else the system's roots.
fn tls_config(url: &RemoteUrl, ca_file: Option<&Path>) -> Result<rustls::ClientConfig, FetchError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let tls = |message: String| FetchError::Tls { url: url.to_string(), message };
    let roots = match ca_file {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| tls(format!("{}: {e}", path.display())))?;
            for cert in certs {
                let cert = cert.map_err(|e| tls(format!("{}: {e}", path.display())))?;
                roots.add(cert).map_err(|e| tls(format!("{}: {e}", path.display())))?;
            }
            if roots.is_empty() {
                return Err(tls(format!("{}: no certificate in the CA bundle", path.display())));
            }
            Arc::new(roots)
        }
        None => system_roots(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(e.to_string()))
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
}

/// The system's trusted roots (honouring `SSL_CERT_FILE` and `SSL_CERT_DIR`), loaded once.
fn system_roots() -> Arc<rustls::RootCertStore> {
    static ROOTS: OnceLock<Arc<rustls::RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            let loaded = rustls_native_certs::load_native_certs();
            for error in &loaded.errors {
                tracing::warn!(%error, "cannot load a system certificate");
            }
            roots.add_parsable_certificates(loaded.certs);
            Arc::new(roots)
        })
        .clone()
}

fn changed(update: &gix::remote::fetch::refs::update::Outcome) -> usize {
    use gix::remote::fetch::refs::update::Mode;
    update.updates.iter().filter(|u| !matches!(u.mode, Mode::NoChangeNeeded | Mode::ImplicitTagNotSentByRemote)).count()
}

fn advertised(refs: &[gix::protocol::handshake::Ref]) -> Vec<RemoteRef> {
    use gix::protocol::handshake::Ref;
    refs.iter()
        .filter_map(|r| {
            Some(match r {
                Ref::Peeled { full_ref_name, tag, object } => RemoteRef {
                    name: full_ref_name.to_string(),
                    commit: object.to_string(),
                    tag: Some(tag.to_string()),
                    symref_target: None,
                },
                Ref::Direct { full_ref_name, object } => RemoteRef {
                    name: full_ref_name.to_string(),
                    commit: object.to_string(),
                    tag: None,
                    symref_target: None,
                },
                Ref::Symbolic { full_ref_name, target, tag, object } => RemoteRef {
                    name: full_ref_name.to_string(),
                    commit: object.to_string(),
                    tag: tag.map(|t| t.to_string()),
                    symref_target: Some(target.to_string()),
                },
                Ref::Unborn { .. } => return None,
            })
        })
        .collect()
}

/// Whether `name` is one of the destinations of `specs` (`+src:dst`, with a trailing `*` glob).
fn covered(specs: &[String], name: &str) -> bool {
    specs.iter().filter_map(|s| s.split_once(':').map(|(_, dst)| dst)).any(|dst| match dst.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == dst,
    })
}

/// Deletes local references our refspecs cover that the remote no longer advertises (a deleted
/// branch or tag), so a mirror never resolves what is gone.
fn prune(repo: &gix::Repository, specs: &[String], remote: &[RemoteRef]) -> Result<usize, gix::Error> {
    use gix::refs::transaction::{Change, PreviousValue, RefEdit, RefLog};
    let advertised: BTreeSet<&str> = remote.iter().map(|r| r.name.as_str()).collect();
    let mut edits = Vec::new();
    for reference in repo.references()?.all()? {
        let Ok(reference) = reference else { continue };
        let name = reference.name().as_bstr().to_string();
        if covered(specs, &name) && !advertised.contains(name.as_str()) {
            edits.push(RefEdit {
                change: Change::Delete { expected: PreviousValue::Any, log: RefLog::AndReference },
                name: reference.name().to_owned(),
                deref: false,
            });
        }
    }
    let count = edits.len();
    if count > 0 {
        repo.edit_references(edits)?;
    }
    Ok(count)
}

/// Points the mirror's `HEAD` at the remote's default branch, when that branch was fetched.
fn set_head(repo: &gix::Repository, remote: &[RemoteRef]) -> Result<Option<String>, gix::Error> {
    use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit};
    let Some(target) = remote.iter().find(|r| r.name == "HEAD").and_then(|r| r.symref_target.clone()) else {
        return Ok(None);
    };
    let branch = target.strip_prefix("refs/heads/").unwrap_or(&target).to_owned();
    if repo.try_find_reference(target.as_str())?.is_some() {
        let name: gix::refs::FullName = "HEAD".try_into().map_err(gix::Error::from_error)?;
        let new: gix::refs::FullName = target.as_str().try_into().map_err(gix::Error::from_error)?;
        repo.edit_reference(RefEdit {
            change: Change::Update {
                log: LogChange::default(),
                expected: PreviousValue::Any,
                new: gix::refs::Target::Symbolic(new),
            },
            name,
            deref: false,
        })?;
    }
    Ok(Some(branch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_command_quotes_paths_and_is_strict() {
        let options = FetchOptions {
            ssh_key: Some(PathBuf::from("/keys/it's key")),
            known_hosts: Some(PathBuf::from("/etc/known hosts")),
            ..FetchOptions::default()
        };
        assert_eq!(
            ssh_command(&options),
            r"ssh -o BatchMode=yes -o ConnectTimeout=60 -o ServerAliveInterval=60 -o ServerAliveCountMax=1 -i '/keys/it'\''s key' -o IdentitiesOnly=yes -o UserKnownHostsFile='/etc/known hosts' -o StrictHostKeyChecking=yes"
        );
        let quick = FetchOptions::default().timeout(Some(Duration::from_millis(1500)));
        assert_eq!(
            ssh_command(&quick),
            "ssh -o BatchMode=yes -o ConnectTimeout=1 -o ServerAliveInterval=1 -o ServerAliveCountMax=1"
        );
    }

    #[test]
    fn refspecs() {
        let all = FetchOptions::default().refspecs().expect("default");
        assert_eq!(all, ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]);
        let narrow = FetchOptions { refs: vec!["main".into(), "refs/tags/v1.*".into()], ..FetchOptions::default() };
        assert_eq!(
            narrow.refspecs().expect("narrow"),
            ["+refs/heads/main:refs/heads/main", "+refs/tags/v1.*:refs/tags/v1.*"]
        );
        let bad = FetchOptions { refs: vec!["--upload-pack=touch x".into()], ..FetchOptions::default() };
        assert!(bad.refspecs().is_err());
        assert!(covered(&all, "refs/heads/x"));
        assert!(!covered(&narrow.refspecs().expect("narrow"), "refs/heads/other"));
    }
}
