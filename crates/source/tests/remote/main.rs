//! Remote sources end to end, against real servers started by the tests on 127.0.0.1:
//! `git daemon` (git://), `git http-backend` behind lighttpd (http, https with a test CA), and
//! local paths / file://. Every resolved revision is compared with `git rev-parse` on the origin.

mod servers;
mod ssh;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

use gitops_core::FileTree;
use gitops_source::{Cache, DiscardProgress, FetchError, FetchOptions, Reference, RemoteUrl, Repository, ResolveError};
use tempfile::TempDir;

static NO_INTERRUPT: AtomicBool = AtomicBool::new(false);

fn git_in(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada Author")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Carl Committer")
        .env("GIT_COMMITTER_EMAIL", "carl@example.com")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8").trim().to_owned()
}

/// Incompressible text, so that a pack is large enough to be cut in the middle.
fn noise(mut state: u64, len: usize) -> String {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + u8::try_from(state % 26).expect("below 26"))
        })
        .collect()
}

/// A work repository and its bare copy `srv/repo.git`, which the servers export.
struct Origin {
    dir: TempDir,
}

impl Origin {
    fn new() -> Origin {
        let origin = Origin { dir: tempfile::tempdir().expect("tempdir") };
        std::fs::create_dir_all(origin.srv()).expect("srv");
        git_in(origin.dir.path(), &["init", "-q", "work"]);
        let noise = noise(0x2545_f491_4f6c_dd1d, 120_000);
        origin.commit("apps/web/deploy.yaml", "replicas: 1\n", "first");
        origin.commit("data/noise.txt", &noise, "noise");
        origin.git(&["tag", "v1.0.0"]);
        origin.commit("apps/web/deploy.yaml", "replicas: 2\n", "second");
        origin.git(&["tag", "-a", "v1.2.0", "-m", "release 1.2.0"]);
        origin.commit("apps/api/deploy.yaml", "replicas: 3\n", "third");
        origin.git(&["tag", "v2.0.0-rc.1"]);
        origin.git(&["branch", "feature"]);
        git_in(origin.dir.path(), &["clone", "-q", "--bare", "work", "srv/repo.git"]);
        origin
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn srv(&self) -> PathBuf {
        self.dir.path().join("srv")
    }

    fn bare(&self) -> PathBuf {
        self.srv().join("repo.git")
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(&self.work(), args)
    }

    fn commit(&self, path: &str, contents: &str, message: &str) -> String {
        let file = self.work().join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, contents).expect("write");
        self.git(&["add", "."]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Makes the served repository equal to the work repository (force-pushes, deletions).
    fn publish(&self) {
        self.git(&["push", "-q", "--mirror", "--force", self.bare().to_str().expect("UTF-8")]);
    }

    /// `git rev-parse REV^{commit}` in the served repository.
    fn rev_parse(&self, rev: &str) -> String {
        git_in(&self.bare(), &["rev-parse", &format!("{rev}^{{commit}}")])
    }
}

fn update(cache: &Cache, url: &RemoteUrl, options: &FetchOptions) -> Result<Repository, FetchError> {
    cache.update(url, options, DiscardProgress, &NO_INTERRUPT).map(|(mirror, _)| mirror.repository().clone())
}

fn resolve(repo: &Repository, rev: &str) -> String {
    let reference = Reference::parse(rev).expect("reference parses");
    repo.resolve_reference(&reference).unwrap_or_else(|e| panic!("{rev}: {e}")).commit
}

/// Resolves the usual reference forms on `url` and compares them with `git rev-parse`.
fn check_transport(origin: &Origin, url: &str) {
    check_transport_with(origin, url, &FetchOptions::default());
}

/// [`check_transport`] with `options` (an SSH key and known_hosts file).
fn check_transport_with(origin: &Origin, url: &str, options: &FetchOptions) {
    let cache_dir = tempfile::tempdir().expect("cache");
    let cache = Cache::new(cache_dir.path());
    let url = RemoteUrl::parse(url).expect("url");
    let (mirror, outcome) = cache.update(&url, options, DiscardProgress, &NO_INTERRUPT).expect("clone");
    assert!(outcome.cloned && outcome.received_pack, "{url}: {outcome:?}");
    assert_eq!(outcome.default_branch.as_deref(), Some("main"), "{url}");
    let repo = mirror.repository();
    for rev in ["main", "feature", "refs/heads/main", "v1.0.0", "v1.2.0", "refs/tags/v1.2.0"] {
        assert_eq!(resolve(repo, rev), origin.rev_parse(rev), "{url} {rev}");
    }
    let head = repo.resolve_reference(&Reference::Default).expect("default branch");
    assert_eq!(head.reference.as_deref(), Some("main"), "{url}");
    assert_eq!(head.commit, origin.rev_parse("main"));
    let short = &origin.rev_parse("v1.0.0")[..8];
    assert_eq!(resolve(repo, short), origin.rev_parse("v1.0.0"), "{url} short id");
    let semver = repo.resolve_reference(&Reference::parse(">=1.0.0 <2.0.0").expect("range")).expect("semver");
    assert_eq!(
        (semver.reference.as_deref(), semver.commit.as_str()),
        (Some("v1.2.0"), origin.rev_parse("v1.2.0").as_str())
    );
    assert_eq!(semver.message.as_deref(), Some("second\n"));
    assert!(semver.to_string().starts_with("v1.2.0@sha1:"), "{semver}");
    let pre = repo.resolve_reference(&Reference::parse(">=2.0.0-0").expect("range")).expect("pre-release asked for");
    assert_eq!(pre.reference.as_deref(), Some("v2.0.0-rc.1"));
    let err = repo.resolve_reference(&Reference::parse("^3").expect("range")).expect_err("no 3.x");
    assert_eq!(err.to_string(), r#"no tag matches the semver range "^3"; highest tags: v2.0.0-rc.1, v1.2.0, v1.0.0"#);
    let err = repo.resolve("mian").expect_err("typo");
    assert!(
        matches!(&err, ResolveError::NotFound { candidates, .. } if candidates.contains(&"main".to_owned())),
        "{err}"
    );
    // The snapshot reads the files from the mirror.
    let snapshot = repo.snapshot(&semver).expect("snapshot");
    assert_eq!(snapshot.read("apps/web/deploy.yaml").expect("read"), b"replicas: 2\n");
    // ls-remote agrees with `git ls-remote`.
    let listed = cache.ls_remote(&url, options, &NO_INTERRUPT).expect("ls-remote");
    let ours: Vec<(String, String)> =
        listed.iter().filter(|r| r.name != "HEAD").map(|r| (r.commit.clone(), r.name.clone())).collect();
    let git: Vec<(String, String)> = git_in(&origin.bare(), &["ls-remote", "--refs", "."])
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(id, name)| (origin.rev_parse(id), name.to_owned()))
        .collect();
    let mut ours_sorted = ours.clone();
    ours_sorted.sort_by(|a, b| a.1.cmp(&b.1));
    let mut git_sorted = git;
    git_sorted.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(ours_sorted, git_sorted, "{url}");
    assert_eq!(listed[0].symref_target.as_deref(), Some("refs/heads/main"));
    // A second update fetches nothing new.
    let (_, again) = cache.update(&url, options, DiscardProgress, &NO_INTERRUPT).expect("fetch");
    assert!(!again.cloned && !again.received_pack, "{url}: {again:?}");
}

#[test]
fn local_path_and_file_url() {
    let origin = Origin::new();
    check_transport(&origin, origin.bare().to_str().expect("UTF-8"));
    check_transport(&origin, &format!("file://{}", origin.bare().display()));
}

#[test]
fn git_daemon() {
    let origin = Origin::new();
    let daemon = servers::git_daemon(&origin.srv());
    check_transport(&origin, &format!("git://127.0.0.1:{}/repo.git", daemon.port));
}

#[test]
fn smart_http_and_https_with_a_ca_bundle() {
    if !servers::have("lighttpd") {
        return;
    }
    let origin = Origin::new();
    let http = servers::lighttpd(&origin.srv(), origin.dir.path(), None);
    check_transport(&origin, &format!("http://127.0.0.1:{}/git/repo.git", http.port));

    if !servers::have("openssl") {
        return;
    }
    let tls = servers::make_tls(origin.dir.path());
    let https = servers::lighttpd(&origin.srv(), origin.dir.path(), Some(&tls));
    let url = RemoteUrl::parse(&format!("https://127.0.0.1:{}/git/repo.git", https.port)).expect("url");
    let cache_dir = tempfile::tempdir().expect("cache");
    let cache = Cache::new(cache_dir.path());
    let err = update(&cache, &url, &FetchOptions::default()).expect_err("the test CA is not trusted by default");
    assert!(err.to_string().contains("certificate") || format!("{err:?}").contains("Certificate"), "{err}");
    let options = FetchOptions::default().ca_file(Some(tls.ca.clone()));
    let repo = update(&cache, &url, &options).expect("https with the CA bundle");
    assert_eq!(resolve(&repo, "v1.2.0"), origin.rev_parse("v1.2.0"));
    let shallow = tempfile::tempdir().expect("cache");
    let repo = update(&Cache::new(shallow.path()), &url, &options.clone().depth(Some(1))).expect("shallow https");
    assert_eq!(resolve(&repo, "main"), origin.rev_parse("main"));
}

#[test]
fn shallow_clone_then_fetch_a_new_commit() {
    let origin = Origin::new();
    let daemon = servers::git_daemon(&origin.srv());
    let url = RemoteUrl::parse(&format!("git://127.0.0.1:{}/repo.git", daemon.port)).expect("url");
    let cache_dir = tempfile::tempdir().expect("cache");
    let cache = Cache::new(cache_dir.path());
    let options = FetchOptions::default().refs(["main"]).depth(Some(1));
    let repo = update(&cache, &url, &options).expect("shallow clone");
    let local = gix_is_shallow(&cache.mirror_path(&url));
    assert!(local, "the mirror is shallow");
    assert_eq!(resolve(&repo, "main"), origin.rev_parse("main"));
    assert!(repo.resolve("main~1").is_err(), "depth 1 has no parent");
    assert!(repo.resolve("feature").is_err(), "only main was asked for");
    let new = origin.commit("apps/web/deploy.yaml", "replicas: 9\n", "fourth");
    origin.publish();
    let repo = update(&cache, &url, &options).expect("fetch");
    assert_eq!(resolve(&repo, "main"), new);
    assert_eq!(
        repo.snapshot(&repo.resolve("main").expect("main")).expect("snap").read("apps/web/deploy.yaml").expect("read"),
        b"replicas: 9\n"
    );
}

/// An origin served by `git daemon`, with a cache holding a full clone of it.
struct Served {
    origin: Origin,
    daemon: servers::Server,
    url: RemoteUrl,
    cache_dir: TempDir,
    cache: Cache,
    repo: Repository,
}

impl Served {
    fn new() -> Served {
        let origin = Origin::new();
        let daemon = servers::git_daemon(&origin.srv());
        let url = RemoteUrl::parse(&format!("git://127.0.0.1:{}/repo.git", daemon.port)).expect("url");
        let cache_dir = tempfile::tempdir().expect("cache");
        let cache = Cache::new(cache_dir.path());
        let repo = update(&cache, &url, &FetchOptions::default()).expect("clone");
        Served { origin, daemon, url, cache_dir, cache, repo }
    }
}

fn gix_is_shallow(path: &Path) -> bool {
    path.join("shallow").exists()
}

#[test]
fn moved_tag_force_push_deleted_branch_and_vanished_repository() {
    let Served { origin, daemon: _daemon, url, cache_dir: _cache_dir, cache, repo } = Served::new();
    let old_main = resolve(&repo, "main");

    // Force-push main back one commit with a new commit on top; move a tag; delete a branch.
    origin.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let rewritten = origin.commit("apps/web/deploy.yaml", "replicas: 5\n", "rewritten");
    origin.git(&["tag", "-f", "v1.0.0", "HEAD"]);
    origin.git(&["branch", "-D", "feature"]);
    origin.publish();
    let repo = update(&cache, &url, &FetchOptions::default()).expect("fetch");
    assert_ne!(rewritten, old_main);
    assert_eq!(resolve(&repo, "main"), rewritten);
    assert_eq!(resolve(&repo, "v1.0.0"), rewritten, "the moved tag follows");
    let err = repo.resolve("feature").expect_err("the deleted branch is pruned");
    assert!(matches!(err, ResolveError::NotFound { .. }), "{err}");

    // The repository vanishes: the fetch fails, naming the URL, and the mirror still reads.
    std::fs::rename(origin.bare(), origin.srv().join("gone.git")).expect("rename");
    let err = update(&cache, &url, &FetchOptions::default()).expect_err("vanished");
    assert!(err.to_string().starts_with(&format!("cannot fetch from {url}")), "{err}");
    let repo = Repository::open(cache.mirror_path(&url)).expect("mirror");
    assert_eq!(resolve(&repo, "main"), rewritten);
}

#[test]
fn server_dropping_mid_fetch_leaves_the_previous_state() {
    let Served { origin, daemon, url, cache_dir: _cache_dir, cache, repo } = Served::new();
    let before = resolve(&repo, "main");

    // New, incompressible content, then a proxy to the same mirror that cuts the pack short.
    origin.commit("data/more.txt", &noise(0x9e37_79b9_7f4a_7c15, 300_000), "big");
    origin.publish();
    let proxy = servers::cutting_proxy(daemon.port, 30_000);
    let cut = RemoteUrl::parse(&format!("git://127.0.0.1:{}/repo.git", proxy.port)).expect("url");
    let mirror = cache.mirror_path(&url);
    let cut_cache_dir = tempfile::tempdir().expect("cache");
    // Same mirror, reached through the proxy: copy it under the proxy URL's name.
    let cut_cache = Cache::new(cut_cache_dir.path());
    copy_dir(&mirror, &cut_cache.mirror_path(&cut));
    let err = update(&cut_cache, &cut, &FetchOptions::default()).expect_err("cut mid-pack");
    assert!(matches!(err, FetchError::Remote { .. }), "{err}");
    let repo = Repository::open(cut_cache.mirror_path(&cut)).expect("still a repository");
    assert_eq!(resolve(&repo, "main"), before, "the previous state is intact");
    // And the next complete fetch succeeds.
    let repo = update(&cache, &url, &FetchOptions::default()).expect("fetch");
    assert_eq!(resolve(&repo, "main"), origin.rev_parse("main"));
}

/// An interrupt raised while a pack is flowing (from a slow server) stops the fetch with
/// `Interrupted`; the mirror keeps its previous state and the next fetch completes.
#[test]
fn interrupt_in_the_middle_of_a_pack_keeps_the_previous_state() {
    let Served { origin, daemon, url: _, cache_dir: _cache_dir, cache: _, repo: _ } = Served::new();
    let proxy = servers::slow_proxy(daemon.port);
    let url = RemoteUrl::parse(&format!("git://127.0.0.1:{}/repo.git", proxy.port)).expect("url");
    let cache_dir = tempfile::tempdir().expect("cache");
    let cache = Cache::new(cache_dir.path());
    let before = resolve(&update(&cache, &url, &FetchOptions::default()).expect("clone"), "main");
    origin.commit("data/more.txt", &noise(0x9e37_79b9_7f4a_7c15, 2_000_000), "big");
    origin.publish();
    proxy.slow.store(true, std::sync::atomic::Ordering::SeqCst);
    let interrupt = std::sync::Arc::new(AtomicBool::new(false));
    let (flag, bytes) = (std::sync::Arc::clone(&interrupt), std::sync::Arc::clone(&proxy.slow_bytes));
    std::thread::spawn(move || {
        while bytes.load(std::sync::atomic::Ordering::SeqCst) < 20_000 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let err = cache.update(&url, &FetchOptions::default(), DiscardProgress, &interrupt).expect_err("interrupted");
    assert!(matches!(err, FetchError::Interrupted { .. }), "{err:?}");
    assert!(proxy.slow_bytes.load(std::sync::atomic::Ordering::SeqCst) < 1_500_000, "the fetch ran to its end");
    let repo = Repository::open(cache.mirror_path(&url)).expect("still a repository");
    assert_eq!(resolve(&repo, "main"), before, "the previous state is intact");
    proxy.slow.store(false, std::sync::atomic::Ordering::SeqCst);
    let repo = update(&cache, &url, &FetchOptions::default()).expect("fetch");
    assert_eq!(resolve(&repo, "main"), origin.rev_parse("main"));
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status().expect("cp");
    assert!(status.success());
}

#[test]
fn corrupt_cache_is_cloned_again() {
    let origin = Origin::new();
    let url = RemoteUrl::parse(origin.bare().to_str().expect("UTF-8")).expect("url");
    let cache_dir = tempfile::tempdir().expect("cache");
    let cache = Cache::new(cache_dir.path());
    update(&cache, &url, &FetchOptions::default()).expect("clone");
    let mirror = cache.mirror_path(&url);
    // Lose every object: references now point nowhere.
    for entry in std::fs::read_dir(mirror.join("objects/pack")).expect("packs") {
        std::fs::remove_file(entry.expect("entry").path()).expect("rm");
    }
    let (mirror_handle, outcome) =
        cache.update(&url, &FetchOptions::default(), DiscardProgress, &NO_INTERRUPT).expect("re-clone");
    assert!(outcome.cloned, "{outcome:?}");
    assert_eq!(resolve(mirror_handle.repository(), "main"), origin.rev_parse("main"));
    // A garbled HEAD file also makes a fresh clone.
    std::fs::write(mirror.join("HEAD"), "garbage").expect("write");
    let (_, outcome) = cache.update(&url, &FetchOptions::default(), DiscardProgress, &NO_INTERRUPT).expect("re-clone");
    assert!(outcome.cloned);
}

#[test]
fn interrupt_stops_before_anything_is_written() {
    let origin = Origin::new();
    let url = RemoteUrl::parse(origin.bare().to_str().expect("UTF-8")).expect("url");
    let cache_dir = tempfile::tempdir().expect("cache");
    let cache = Cache::new(cache_dir.path());
    let interrupt = AtomicBool::new(true);
    let err = cache.update(&url, &FetchOptions::default(), DiscardProgress, &interrupt).expect_err("interrupted");
    assert!(matches!(err, FetchError::Interrupted { .. } | FetchError::Remote { .. }), "{err}");
    assert!(!cache.mirror_path(&url).exists(), "no half-made mirror");
    let leftovers: Vec<_> = std::fs::read_dir(cache_dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary clones are removed");
}

/// Two processes (this test binary, run again) and two threads update the same cache at once;
/// the lock makes them take turns and every one ends with a good mirror.
#[test]
fn concurrent_updates_from_two_processes() {
    if let Ok(dir) = std::env::var("GITOPS_TEST_CHILD_CACHE") {
        let url = std::env::var("GITOPS_TEST_CHILD_URL").expect("url");
        let url = RemoteUrl::parse(&url).expect("url");
        update(&Cache::new(dir), &url, &FetchOptions::default()).expect("child update");
        return;
    }
    let origin = Origin::new();
    let url_text = origin.bare().to_str().expect("UTF-8").to_owned();
    let url = RemoteUrl::parse(&url_text).expect("url");
    let cache_dir = tempfile::tempdir().expect("cache");
    let spawn = || {
        Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "concurrent_updates_from_two_processes", "--nocapture"])
            .env("GITOPS_TEST_CHILD_CACHE", cache_dir.path())
            .env("GITOPS_TEST_CHILD_URL", &url_text)
            .spawn()
            .expect("child")
    };
    let children = [spawn(), spawn()];
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                update(&Cache::new(cache_dir.path()), &url, &FetchOptions::default()).expect("thread update")
            });
        }
    });
    for mut child in children {
        assert!(child.wait().expect("wait").success(), "a child update failed");
    }
    let repo = Repository::open(Cache::new(cache_dir.path()).mirror_path(&url)).expect("mirror");
    assert_eq!(resolve(&repo, "main"), origin.rev_parse("main"));
    assert_eq!(resolve(&repo, "v1.2.0"), origin.rev_parse("v1.2.0"));
}

#[test]
fn changed_paths_between_revisions() {
    let origin = Origin::new();
    let repo = Repository::open(origin.bare()).expect("open");
    let v1 = repo.resolve("v1.0.0").expect("v1");
    let v12 = repo.resolve("v1.2.0").expect("v1.2");
    let main = repo.resolve("main").expect("main");
    assert_eq!(repo.changed_paths(&v1, &v12, "").expect("diff"), ["apps/web/deploy.yaml"]);
    assert_eq!(repo.changed_paths(&v12, &main, "").expect("diff"), ["apps/api/deploy.yaml"]);
    assert!(repo.changed_paths(&v12, &main, "apps/web").expect("diff").is_empty(), "nothing under apps/web");
    assert_eq!(repo.changed_paths(&v1, &main, "apps").expect("diff"), ["apps/api/deploy.yaml", "apps/web/deploy.yaml"]);
    assert!(repo.changed_paths(&v1, &main, "../x").is_err());
    // Compare with `git diff --name-only`.
    let git = git_in(&origin.bare(), &["diff", "--name-only", &v1.commit, &main.commit]);
    let ours = repo.changed_paths(&v1, &main, "").expect("diff");
    assert_eq!(ours, git.lines().collect::<Vec<_>>());
}

#[test]
fn option_injection_never_runs_a_command() {
    let dir = tempfile::tempdir().expect("dir");
    let marker = dir.path().join("pwned");
    let cache = Cache::new(dir.path().join("cache"));
    for url in [
        format!("ext::sh -c touch% {}", marker.display()),
        format!("ssh://-oProxyCommand=touch%20{}/repo", marker.display()),
        format!("-oProxyCommand=touch {}:repo", marker.display()),
        format!("--upload-pack=touch {}", marker.display()),
    ] {
        assert!(RemoteUrl::parse(&url).is_err(), "{url}");
    }
    let origin = Origin::new();
    let url = RemoteUrl::parse(origin.bare().to_str().expect("UTF-8")).expect("url");
    let options = FetchOptions::default().refs([format!("--upload-pack=touch {}", marker.display())]);
    let err = cache.update(&url, &options, DiscardProgress, &NO_INTERRUPT).expect_err("refused");
    assert!(matches!(err, FetchError::Url(_)), "{err}");
    assert!(!marker.exists(), "no command ran");
}

/// A server that accepts the connection and never answers: every transport gives up after the
/// timeout, with an error naming the URL, and leaves nothing in the cache.
#[test]
fn a_server_that_never_answers_times_out() {
    let silent = servers::silent_server();
    let dir = tempfile::tempdir().expect("dir");
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, "").expect("known_hosts");
    let mut urls =
        vec![format!("git://127.0.0.1:{}/repo.git", silent.port), format!("http://127.0.0.1:{}/repo.git", silent.port)];
    if servers::have("ssh") {
        urls.push(format!("ssh://git@127.0.0.1:{}/repo.git", silent.port));
    }
    for url in urls {
        let cache_dir = tempfile::tempdir().expect("cache");
        let options = FetchOptions::default()
            .timeout(Some(std::time::Duration::from_secs(1)))
            .ssh(None, Some(known_hosts.clone()));
        let started = std::time::Instant::now();
        let (done, wait) = std::sync::mpsc::channel();
        let (root, remote) = (cache_dir.path().to_owned(), RemoteUrl::parse(&url).expect("url"));
        std::thread::spawn(move || {
            let result = Cache::new(root).update(&remote, &options, DiscardProgress, &NO_INTERRUPT).map(|_| ());
            let _ = done.send(result);
        });
        // A hang guard, not a timing assertion: the fetch must give up on its own.
        let result = wait.recv_timeout(std::time::Duration::from_secs(120)).unwrap_or_else(|_| panic!("{url} hangs"));
        let err = result.expect_err("a silent server");
        eprintln!("{url}: gave up after {:?}: {err}", started.elapsed());
        assert!(matches!(err, FetchError::Remote { .. }), "{url}: {err:?}");
        assert!(err.to_string().starts_with(&format!("cannot fetch from {url}")), "{err}");
        let left: Vec<_> = std::fs::read_dir(cache_dir.path())
            .expect("cache")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| Path::new(name).extension().is_none_or(|x| x != "lock"))
            .collect();
        assert!(left.is_empty(), "{url}: left in the cache: {left:?}");
    }
}
