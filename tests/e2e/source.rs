//! `gitops source` and `--repo URL` end to end: signature verification with `--verify-key`, and
//! Ctrl-C during a fetch from a slow `git daemon`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Repo, gitops, stderr, stdout};

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/source/tests/remote/servers.rs"]
mod servers;

/// An SSH key made by `ssh-keygen`, and `repo` configured to sign commits with it.
fn ssh_signing(repo: &Repo, name: &str) -> Option<std::path::PathBuf> {
    let key = repo.path().join(format!(".{name}_key"));
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("notice: ssh-keygen is not installed; skipping the signature verification test");
        return None;
    }
    Some(key)
}

fn commit_signed(repo: &Repo, key: &Path, message: &str) -> String {
    repo.git(&["add", "-A"]);
    let signing = format!("user.signingkey={}", key.display());
    repo.git(&["-c", "gpg.format=ssh", "-c", &signing, "commit", "-q", "-S", "-m", message]);
    repo.git(&["rev-parse", "HEAD"])
}

#[test]
fn verify_key_refuses_an_unsigned_or_foreign_revision_before_rendering() {
    let repo = Repo::new();
    std::fs::write(repo.path().join(".gitignore"), ".*_key*\n").expect("ignore");
    let Some(ada) = ssh_signing(&repo, "ada") else { return };
    let Some(eve) = ssh_signing(&repo, "eve") else { return };
    let keys = repo.path().join(".ada_key_allowed_signers");
    let public = std::fs::read_to_string(ada.with_extension("pub")).expect("public key");
    std::fs::write(&keys, format!("ada@example.com {public}")).expect("keys");
    let keys_arg = keys.to_string_lossy().into_owned();

    repo.write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: signed\n");
    let signed = commit_signed(&repo, &ada, "signed");
    repo.git(&[
        "-c",
        "gpg.format=ssh",
        "-c",
        &format!("user.signingkey={}", ada.display()),
        "tag",
        "-s",
        "-m",
        "v1",
        "v1.0.0",
    ]);
    let cache = tempfile::tempdir().expect("cache");
    let cache_arg = cache.path().to_string_lossy().into_owned();
    let url = format!("file://{}", repo.path().display());
    let common = ["--repo", url.as_str(), "--cache", cache_arg.as_str(), "--verify-key", keys_arg.as_str()];

    let out = gitops(&[&["render", "app"], &common[..]].concat(), repo.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("name: signed"), "{}", stdout(&out));
    let out = gitops(&[&["source", "resolve", "-o", "json"], &common[..]].concat(), repo.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(json["verified"][0]["object"], format!("commit {signed}"));
    assert_eq!(json["verified"][0]["format"], "SSH");
    let out = gitops(
        &[&["source", "resolve", "--rev", "v1.0.0", "--verify-mode", "tag-and-head"], &common[..]].concat(),
        repo.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).matches("verified:  ").count(), 2, "{}", stdout(&out));

    // A commit signed by a key not in the file, then an unsigned one: refused, nothing rendered.
    repo.write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: foreign\n");
    let foreign = commit_signed(&repo, &eve, "foreign");
    let out = gitops(&[&["render", "app"], &common[..]].concat(), repo.path());
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(stderr(&out).contains(&format!("commit {foreign}: signed with SSH key SHA256:")), "{}", stderr(&out));
    assert!(stderr(&out).contains("which is not in the keyring"), "{}", stderr(&out));
    repo.write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unsigned\n");
    let unsigned = repo.commit("unsigned");
    let out = gitops(&[&["render", "app"], &common[..]].concat(), repo.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(stderr(&out).contains(&format!("commit {unsigned}: not signed")), "{}", stderr(&out));
    // Tag mode on a branch is refused, not skipped.
    let out = gitops(&[&["source", "resolve", "--verify-mode", "tag"], &common[..]].concat(), repo.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot verify the tag of main"), "{}", stderr(&out));
}

/// Ctrl-C during a slow fetch: the binary stops, says the fetch was interrupted, and the cache
/// still holds the previous state, which the next (fast) fetch brings up to date.
#[test]
fn ctrl_c_stops_a_fetch_and_the_cache_stays_usable() {
    if !servers::have("kill") {
        return;
    }
    let repo = Repo::new();
    repo.write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
    let first = repo.commit("first");
    let srv = tempfile::tempdir().expect("srv");
    let bare = srv.path().join("repo.git");
    repo.git(&["clone", "-q", "--bare", ".", bare.to_str().expect("UTF-8")]);
    let daemon = servers::git_daemon(srv.path());
    let proxy = servers::slow_proxy(daemon.port);
    let url = format!("git://127.0.0.1:{}/repo.git", proxy.port);
    let cache = tempfile::tempdir().expect("cache");
    let cache_arg = cache.path().to_string_lossy().into_owned();
    let resolve = ["source", "resolve", "--repo", url.as_str(), "--cache", cache_arg.as_str()];
    let out = gitops(&resolve, repo.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with(&format!("main@sha1:{first}")), "{}", stdout(&out));

    // About 3 MB of incompressible data: half a minute through the slow proxy.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: String = (0..3_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + u8::try_from(state % 26).expect("below 26"))
        })
        .collect();
    repo.write("data/noise.txt", &noise);
    let second = repo.commit("big");
    repo.git(&["push", "-q", bare.to_str().expect("UTF-8"), "main"]);
    proxy.slow.store(true, Ordering::SeqCst);

    let mut child = Command::new(env!("CARGO_BIN_EXE_gitops"))
        .args(resolve)
        .current_dir(repo.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gitops runs");
    // Wait until the pack is flowing, then Ctrl-C.
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.slow_bytes.load(Ordering::SeqCst) < 20_000 {
        assert!(Instant::now() < deadline, "the fetch never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    // A hang guard, not a timing assertion: the child must stop before the transfer could end.
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "gitops did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("was interrupted"), "{}", stderr(&out));
    assert!(proxy.slow_bytes.load(Ordering::SeqCst) < 2_000_000, "the fetch ran to its end");

    // The cache: no scratch folder left, the mirror intact at the previous commit.
    let entries: Vec<String> = std::fs::read_dir(cache.path())
        .expect("cache")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(entries.iter().all(|e| !e.contains(".tmp-")), "{entries:?}");
    let mirror = entries.iter().find(|e| Path::new(e).extension().is_some_and(|x| x == "git")).expect("a mirror");
    let mirror = cache.path().join(mirror);
    let git = |args: &[&str]| Command::new("git").arg("--git-dir").arg(&mirror).args(args).output().expect("git");
    assert!(git(&["fsck", "--no-progress"]).status.success());
    assert_eq!(String::from_utf8_lossy(&git(&["rev-parse", "main"]).stdout).trim(), first);

    proxy.slow.store(false, Ordering::SeqCst);
    let out = gitops(&resolve, repo.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with(&format!("main@sha1:{second}")), "{}", stdout(&out));
}
