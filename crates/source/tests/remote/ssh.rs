//! SSH end to end, through the system `ssh`, against a real `sshd` started by the test on
//! 127.0.0.1 with a dynamic port, its own host key and `authorized_keys` (see `servers::sshd`): the
//! usual references over `ssh://` and scp-like URLs, a fetch of a new commit, a wrong host key
//! refused, and URLs that try to inject an ssh option refused before anything runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use gitops_source::{Cache, DiscardProgress, FetchError, FetchOptions, RemoteUrl};

use super::{NO_INTERRUPT, Origin, check_transport_with, resolve, servers, update};

fn keygen(path: &Path) -> String {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success(), "ssh-keygen");
    let public = std::fs::read_to_string(path.with_extension("pub")).expect("public key");
    public.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

fn user() -> String {
    let output = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8(output.stdout).expect("UTF-8").trim().to_owned()
}

fn known_hosts(dir: &Path, name: &str, host: &str, key: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{host} {key}\n")).expect("known_hosts");
    path
}

#[test]
fn sshd_end_to_end() {
    if !servers::have("ssh") || !servers::have("ssh-keygen") {
        return;
    }
    let origin = Origin::new();
    let dir = origin.dir.path().join("ssh");
    std::fs::create_dir_all(&dir).expect("ssh dir");
    let host_key = dir.join("host_key");
    let host_public = keygen(&host_key);
    let client_key = dir.join("client_key");
    let authorized = dir.join("authorized_keys");
    std::fs::write(&authorized, format!("{}\n", keygen(&client_key))).expect("authorized_keys");
    let Some(sshd) = servers::sshd(&dir, "127.0.0.1", 0, &host_key, &authorized) else {
        return;
    };
    let user = user();
    let repo = origin.bare();

    // ssh:// with a port: the host is `[127.0.0.1]:PORT` in known_hosts.
    let hosts = known_hosts(&dir, "known_hosts", &format!("[127.0.0.1]:{}", sshd.port), &host_public);
    let options = FetchOptions::default().ssh(Some(client_key.clone()), Some(hosts.clone()));
    let url = format!("ssh://{user}@127.0.0.1:{}{}", sshd.port, repo.display());
    check_transport_with(&origin, &url, &options);

    // A fetch of a new commit into the existing mirror.
    let cache_dir = tempfile::tempdir().expect("cache");
    let cache = Cache::new(cache_dir.path());
    let remote = RemoteUrl::parse(&url).expect("url");
    update(&cache, &remote, &options).expect("clone over ssh");
    origin.commit("apps/web/deploy.yaml", "replicas: 4\n", "fourth");
    origin.publish();
    let mirror = update(&cache, &remote, &options).expect("fetch over ssh");
    assert_eq!(resolve(&mirror, "main"), origin.rev_parse("main"));

    // A host key that is not the server's is refused, and nothing is left in the cache.
    let other = keygen(&dir.join("other_host_key"));
    let wrong = known_hosts(&dir, "wrong_known_hosts", &format!("[127.0.0.1]:{}", sshd.port), &other);
    let refused = tempfile::tempdir().expect("cache");
    let options_wrong = FetchOptions::default().ssh(Some(client_key.clone()), Some(wrong));
    let err = update(&Cache::new(refused.path()), &remote, &options_wrong).expect_err("wrong host key");
    assert!(matches!(err, FetchError::Remote { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!("cannot fetch from {url}")), "{err}");
    eprintln!("wrong host key: {err}");
    let left = std::fs::read_dir(refused.path()).expect("cache").filter_map(Result::ok);
    assert!(left.filter(|e| e.path().extension().is_none_or(|x| x != "lock")).count() == 0, "left in the cache");

    // URLs that try to inject an ssh option are refused before anything runs.
    let marker = dir.join("pwned");
    for bad in [
        format!("ssh://-oProxyCommand=touch%20{}/repo.git", marker.display()),
        format!("ssh://-oProxyCommand=touch%20{}@127.0.0.1:{}/repo.git", marker.display(), sshd.port),
        format!("-oProxyCommand=touch {}:repo.git", marker.display()),
    ] {
        assert!(RemoteUrl::parse(&bad).is_err(), "{bad}");
    }
    let options_inject = options.clone().refs([format!("--upload-pack=touch {}", marker.display())]);
    let err = cache.update(&remote, &options_inject, DiscardProgress, &NO_INTERRUPT).expect_err("refused");
    assert!(matches!(err, FetchError::Url(_)), "{err}");
    assert!(!marker.exists(), "no command ran");

    // scp-like `user@host:path` has no port: a second sshd on port 22 of another loopback address.
    match servers::sshd(&dir, "127.0.0.2", 22, &host_key, &authorized) {
        Some(_scp) => {
            let hosts = known_hosts(&dir, "known_hosts_22", "127.0.0.2", &host_public);
            let options = FetchOptions::default().ssh(Some(client_key), Some(hosts));
            check_transport_with(&origin, &format!("{user}@127.0.0.2:{}", repo.display()), &options);
        }
        None => eprintln!("notice: no sshd on 127.0.0.2:22; the scp-like URL was not tested end to end"),
    }
}
