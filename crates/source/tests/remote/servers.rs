//! Git servers for the tests, on 127.0.0.1 with dynamic ports, stopped on drop: `git daemon`,
//! `git http-backend` behind lighttpd (http, and https with a test CA made by `openssl`), TCP
//! proxies that cut the connection after a number of bytes or slow it down, and a server that
//! accepts connections and never answers. (Also used by the binary's end-to-end tests.)

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A free port (the listener is dropped right away; a clash is retried by the caller's wait).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn wait_for(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server on port {port} did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `program` can be run; tests that need it print a notice and return otherwise.
pub(crate) fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program} || test -x /usr/sbin/{program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("notice: {program} is not installed; skipping the part of this test that needs it");
    }
    found
}

/// A running server process, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `git daemon` exporting every repository under `base`. The `git-daemon` program is run directly:
/// `git daemon` would run it as a child that outlives the kill on drop (and holds the test's
/// output open).
pub(crate) fn git_daemon(base: &Path) -> Server {
    let port = free_port();
    let child = Command::new(exec_path().join("git-daemon"))
        .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("git daemon starts");
    wait_for(port);
    Server { child, port }
}

fn exec_path() -> PathBuf {
    let out = Command::new("git").arg("--exec-path").output().expect("git --exec-path");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// TLS material for lighttpd: a CA and a server certificate for 127.0.0.1 signed by it.
pub(crate) struct Tls {
    pub(crate) ca: PathBuf,
    pub(crate) server_pem: PathBuf,
}

pub(crate) fn make_tls(dir: &Path) -> Tls {
    let run = |args: &[&str]| {
        let status =
            Command::new("openssl").args(args).current_dir(dir).stderr(Stdio::null()).status().expect("openssl");
        assert!(status.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=gitops test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").expect("ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    let mut pem = std::fs::read(dir.join("server.crt")).expect("crt");
    pem.extend(std::fs::read(dir.join("server.key")).expect("key"));
    std::fs::write(dir.join("server.pem"), pem).expect("pem");
    Tls { ca: dir.join("ca.pem"), server_pem: dir.join("server.pem") }
}

/// lighttpd serving `git http-backend` for the repositories under `base` at `/git/`.
pub(crate) fn lighttpd(base: &Path, conf_dir: &Path, tls: Option<&Tls>) -> Server {
    let port = free_port();
    let mut modules = vec!["\"mod_alias\"", "\"mod_cgi\"", "\"mod_setenv\""];
    let mut ssl = String::new();
    if let Some(tls) = tls {
        modules.push("\"mod_openssl\"");
        ssl = format!("ssl.engine = \"enable\"\nssl.pemfile = \"{}\"\n", tls.server_pem.display());
    }
    let conf = format!(
        "server.document-root = \"{base}\"\nserver.port = {port}\nserver.bind = \"127.0.0.1\"\n\
         server.modules = ({modules})\nalias.url = (\"/git/\" => \"{backend}/\")\ncgi.assign = (\"\" => \"\")\n\
         setenv.add-environment = (\"GIT_PROJECT_ROOT\" => \"{base}\", \"GIT_HTTP_EXPORT_ALL\" => \"1\")\n{ssl}",
        base = base.display(),
        modules = modules.join(", "),
        backend = exec_path().join("git-http-backend").display(),
    );
    let path = conf_dir.join(format!("lighttpd-{port}.conf"));
    std::fs::write(&path, conf).expect("lighttpd.conf");
    let child =
        Command::new("lighttpd").arg("-D").arg("-f").arg(&path).stderr(Stdio::null()).spawn().expect("lighttpd starts");
    wait_for(port);
    Server { child, port }
}

/// A TCP proxy to `upstream` that forwards at most `limit` bytes from the server, then drops the
/// connection: a server that dies in the middle of sending a pack.
pub(crate) struct CuttingProxy {
    pub(crate) port: u16,
}

pub(crate) fn cutting_proxy(upstream: u16, limit: usize) -> CuttingProxy {
    let port = proxy(upstream, move |mut server, mut client| {
        let mut sent = 0;
        let mut buf = [0u8; 4096];
        while sent < limit {
            let Ok(n) = server.read(&mut buf) else { break };
            if n == 0 {
                break;
            }
            let n = n.min(limit - sent);
            if client.write_all(&buf[..n]).is_err() {
                break;
            }
            sent += n;
        }
    });
    CuttingProxy { port }
}

/// A TCP proxy to `upstream` on a new port: client bytes go to the server as they come, and
/// `forward(server, client)` (on a thread per connection) passes the server's on; both ends are
/// shut down when it returns.
fn proxy(upstream: u16, forward: impl Fn(TcpStream, TcpStream) + Clone + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else { return };
            let (mut client_read, mut server_write) =
                (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_read, &mut server_write);
            });
            let forward = forward.clone();
            std::thread::spawn(move || {
                let (server_end, client_end) = (server.try_clone().expect("clone"), client.try_clone().expect("clone"));
                forward(server, client);
                let _ = client_end.shutdown(std::net::Shutdown::Both);
                let _ = server_end.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    port
}

/// A TCP proxy to `upstream` that, while `slow` is set, passes the server's bytes on 1 KiB at a
/// time with a 10 ms pause (about 100 KB/s): a slow server, for interrupting a fetch in the middle.
pub(crate) struct SlowProxy {
    pub(crate) port: u16,
    /// Whether the proxy throttles (it starts fast).
    pub(crate) slow: Arc<AtomicBool>,
    /// Bytes passed from the server to clients while slow.
    pub(crate) slow_bytes: Arc<AtomicUsize>,
}

pub(crate) fn slow_proxy(upstream: u16) -> SlowProxy {
    let slow = Arc::new(AtomicBool::new(false));
    let slow_bytes = Arc::new(AtomicUsize::new(0));
    let (flag, counter) = (Arc::clone(&slow), Arc::clone(&slow_bytes));
    let port = proxy(upstream, move |mut server, mut client| {
        let mut buf = [0u8; 1024];
        while let Ok(n) = server.read(&mut buf) {
            if n == 0 || client.write_all(&buf[..n]).is_err() {
                break;
            }
            if flag.load(Ordering::SeqCst) {
                counter.fetch_add(n, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    });
    SlowProxy { port, slow, slow_bytes }
}

/// A server that accepts connections and never sends a byte (they stay open until the test ends).
pub(crate) struct SilentServer {
    pub(crate) port: u16,
}

pub(crate) fn silent_server() -> SilentServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            open.push(client);
        }
    });
    SilentServer { port }
}

/// `/usr/sbin/sshd` on `address:port` (port 0: a free one) with its own host key and
/// `authorized_keys` in `dir`, for the user running the tests (root logs in with a key only).
/// `None`, with a printed notice, when it cannot start: not installed, no privilege separation
/// directory `/run/sshd` (`.ci/run` makes it), or the address is taken.
pub(crate) fn sshd(dir: &Path, address: &str, port: u16, host_key: &Path, authorized_keys: &Path) -> Option<Server> {
    let sshd = Path::new("/usr/sbin/sshd");
    if !sshd.exists() {
        eprintln!("notice: /usr/sbin/sshd is not installed (openssh-server); skipping the ssh end-to-end test");
        return None;
    }
    let port = if port == 0 { free_port() } else { port };
    let config = dir.join(format!("sshd-{port}.conf"));
    let log = dir.join(format!("sshd-{port}.log"));
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress {address}\nHostKey {host_key}\nPidFile {pid}\nAuthorizedKeysFile {keys}\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nLogLevel ERROR\n",
            host_key = host_key.display(),
            pid = dir.join(format!("sshd-{port}.pid")).display(),
            keys = authorized_keys.display(),
        ),
    )
    .expect("sshd config");
    let mut child = Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("sshd log"))
        .spawn()
        .expect("sshd runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect((address, port)).is_err() {
        let exited = child.try_wait().expect("sshd status").is_some();
        if exited || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let why = std::fs::read_to_string(&log).unwrap_or_default();
            eprintln!("notice: sshd did not start on {address}:{port} ({}); skipping what needs it", why.trim());
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(Server { child, port })
}
