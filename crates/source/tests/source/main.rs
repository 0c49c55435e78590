//! Integration tests: fixture repositories are built with the `git` command line in temporary
//! folders, and every resolved revision is checked against `git rev-parse`. `verify` signs
//! commits and tags with the real `gpg` and `ssh-keygen` and checks the verifier against them.

mod verify;

use std::path::{Path, PathBuf};
use std::process::Command;

use gitops_core::tree::{Entry, EntryKind, FileTree, TreeError};
use gitops_source::{OpenError, Repository, ResolveError, Snapshot, SnapshotError};
use tempfile::TempDir;

/// Runs `git` in `dir` with a fixed identity and clock and no user or system configuration.
fn git_in(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"])
        .args(["-c", "tag.gpgsign=false", "-c", "core.symlinks=true"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada Author")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05+01:00")
        .env("GIT_COMMITTER_NAME", "Carl Committer")
        .env("GIT_COMMITTER_EMAIL", "carl@example.com")
        .env("GIT_COMMITTER_DATE", "2024-01-02T04:05:06+02:00")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("git prints UTF-8").trim().to_owned()
}

/// A work tree repository in a temporary folder.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn init() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let fixture = Fixture { dir };
        fixture.git(&["init", "-q", "repo"]);
        fixture
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn git(&self, args: &[&str]) -> String {
        let cwd = if self.root().exists() { self.root() } else { self.dir.path().to_owned() };
        git_in(&cwd, args)
    }

    fn write(&self, path: &str, contents: &str) {
        let path = self.root().join(path);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
    }

    fn symlink(&self, target: &str, link: &str) {
        let link = self.root().join(link);
        std::fs::create_dir_all(link.parent().expect("has a parent")).expect("mkdir");
        std::os::unix::fs::symlink(target, link).expect("symlink");
    }

    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// What `git rev-parse <rev>^{commit}` says.
    fn rev_parse(&self, rev: &str) -> String {
        let rev = if rev.is_empty() { "HEAD" } else { rev };
        self.git(&["rev-parse", "--verify", &format!("{rev}^{{commit}}")])
    }

    fn open(&self) -> Repository {
        Repository::open(self.root()).expect("open")
    }
}

/// The shared history:
///
/// 1. `first`: `apps/app.yaml` (`v: 1`), `README.md`; tagged `v0.1` (lightweight).
/// 2. `second`: `apps/app.yaml` (`v: 2`), `base/`, links; tagged `v1.0` (annotated);
///    branch `feature/login`.
/// 3. `third`: a submodule entry `sub`; `main` is here.
///
/// The work tree then gets an uncommitted change to `apps/app.yaml`.
fn history() -> Fixture {
    let f = Fixture::init();
    f.write("apps/app.yaml", "v: 1\n");
    f.write("README.md", "# fixture\n");
    let first = f.commit("first");
    f.git(&["tag", "v0.1"]);

    f.write("apps/app.yaml", "v: 2\n");
    f.write("base/kustomization.yaml", "resources: []\n");
    f.write("base/deep/file.txt", "deep\n");
    f.symlink("../base/kustomization.yaml", "apps/link.yaml"); // inside
    f.symlink("link.yaml", "apps/chain.yaml"); // a chain of two
    f.symlink("apps", "dirlink"); // a folder
    f.symlink("dirlink/app.yaml", "via-dirlink.yaml"); // through a linked folder
    f.symlink("../outside.yaml", "escape.yaml"); // leaves the root
    f.symlink("/etc/passwd", "absolute.yaml"); // absolute
    f.symlink("base/deep/../../base/kustomization.yaml", "dotdot.yaml"); // `..` inside
    f.symlink("missing.yaml", "dangling.yaml"); // inside, but nothing there
    f.symlink("loop-b", "loop-a");
    f.symlink("loop-a", "loop-b");
    f.commit("second\n\nwith links");
    f.git(&["tag", "-a", "v1.0", "-m", "release 1.0"]);
    f.git(&["branch", "feature/login"]);

    f.git(&["update-index", "--add", "--cacheinfo", &format!("160000,{first},sub")]);
    f.git(&["commit", "-q", "-m", "third"]);

    f.write("apps/app.yaml", "uncommitted\n");
    f
}

fn names(entries: &[Entry]) -> Vec<(&str, EntryKind)> {
    entries.iter().map(|e| (e.name.as_str(), e.kind)).collect()
}

#[test]
fn resolve_matches_git_rev_parse() {
    let f = history();
    let repo = f.open();
    let head = f.rev_parse("HEAD");
    let cases: Vec<(&str, Option<&str>)> = vec![
        ("HEAD", Some("main")),
        ("", Some("main")),
        ("main", Some("main")),
        ("feature/login", Some("feature/login")),
        ("v0.1", Some("v0.1")),
        ("v1.0", Some("v1.0")),
        ("refs/heads/main", Some("refs/heads/main")),
        ("refs/tags/v1.0", Some("refs/tags/v1.0")),
        (&head, None),
        (&head[..7], None),
        ("main~1", None),
        ("HEAD~2", None),
        ("v1.0^", None),
    ];
    for (rev, reference) in cases {
        let resolved = repo.resolve(rev).unwrap_or_else(|e| panic!("{rev:?}: {e}"));
        assert_eq!(resolved.commit, f.rev_parse(rev), "{rev:?}");
        assert_eq!(resolved.reference.as_deref(), reference, "{rev:?}");
    }
}

#[test]
fn resolve_peels_annotated_tags_and_fills_commit_metadata() {
    let f = history();
    let repo = f.open();
    let tag_object = f.git(&["rev-parse", "v1.0"]);
    let rev = repo.resolve("v1.0").expect("resolve");
    assert_ne!(rev.commit, tag_object, "the tag object itself is not a commit");
    assert_eq!(rev.commit, f.rev_parse("v1.0"));
    assert_eq!(rev.message.as_deref(), Some("second\n\nwith links\n"));
    let author = rev.author.clone().expect("author");
    assert_eq!((author.name.as_str(), author.email.as_str()), ("Ada Author", "ada@example.com"));
    assert_eq!((author.time, author.offset), (1_704_161_045, 3600));
    let committer = rev.committer.clone().expect("committer");
    assert_eq!(committer.name, "Carl Committer");
    assert_eq!((committer.time, committer.offset), (1_704_161_106, 7200));
    assert_eq!(rev.to_string(), format!("v1.0@sha1:{}", f.rev_parse("v1.0")));
}

#[test]
fn missing_revision_lists_the_closest_references() {
    let f = history();
    let repo = f.open();

    let err = repo.resolve("mian").expect_err("no such branch");
    assert!(err.is_not_found());
    let ResolveError::NotFound { rev, candidates } = &err else {
        panic!("expected NotFound, got {err:?}");
    };
    assert_eq!(rev, "mian");
    assert_eq!(candidates, &["main"]);
    assert_eq!(err.to_string(), r#"revision "mian" not found; closest references: main"#);

    let Err(ResolveError::NotFound { candidates, .. }) = repo.resolve("v1.1") else {
        panic!("v1.1 does not exist");
    };
    assert_eq!(candidates, ["v0.1", "v1.0"]);

    let Err(ResolveError::NotFound { candidates, .. }) = repo.resolve("feature") else {
        panic!("feature does not exist");
    };
    assert_eq!(candidates, ["feature/login"]);

    for rev in ["nothing-like-it", "0000000", "nothing~1"] {
        let err = repo.resolve(rev).expect_err(rev);
        assert!(err.is_not_found(), "{rev}: {err:?}");
    }
    let full_missing = "0123456789012345678901234567890123456789";
    assert!(repo.resolve(full_missing).expect_err("missing").is_not_found());

    // Not a missing name: a range, or bad syntax.
    for rev in ["v0.1..main", "main~x"] {
        let err = repo.resolve(rev).expect_err(rev);
        assert!(matches!(err, ResolveError::Invalid { .. }), "{rev}: {err:?}");
    }
}

#[test]
fn resolve_reports_unborn_detached_and_non_commits() {
    let f = Fixture::init();
    let repo = f.open();
    assert!(matches!(
        repo.resolve("HEAD"),
        Err(ResolveError::Unborn { branch }) if branch == "main"
    ));

    let f = history();
    let first = f.rev_parse("v0.1");
    f.git(&["update-ref", "--no-deref", "HEAD", &first]);
    let rev = f.open().resolve("HEAD").expect("detached HEAD");
    assert_eq!((rev.reference, rev.commit), (None, first));

    let err = f.open().resolve("main^{tree}").expect_err("a tree");
    assert!(matches!(&err, ResolveError::NotACommit { .. }), "{err:?}");
    f.git(&["tag", "a-tree", "main^{tree}"]);
    let err = f.open().resolve("a-tree").expect_err("a tree");
    assert!(matches!(&err, ResolveError::NotACommit { kind, .. } if kind == "tree"), "{err:?}");
}

#[test]
fn snapshot_reads_the_commit_not_the_work_tree() {
    let f = history();
    let repo = f.open();
    let old = repo.snapshot(&repo.resolve("v0.1").expect("v0.1")).expect("snapshot");
    assert_eq!(old.read("apps/app.yaml").expect("read"), b"v: 1\n");
    assert!(!old.exists("base"));
    assert_eq!(old.revision().reference.as_deref(), Some("v0.1"));

    let head = repo.snapshot(&repo.resolve("HEAD").expect("HEAD")).expect("snapshot");
    assert_eq!(head.read("apps/app.yaml").expect("read"), b"v: 2\n");
    assert_eq!(head.read("./apps/../README.md").expect("read"), b"# fixture\n");
    let stat = head.stat("apps/app.yaml").expect("stat").expect("exists");
    assert_eq!((stat.kind, stat.size), (EntryKind::File, 5));
    assert_eq!(head.read_limited("README.md", 100).expect("small"), b"# fixture\n");
    assert!(matches!(head.read_limited("README.md", 3), Err(TreeError::TooLarge { size: 10, .. })));
    assert!(head.stat("nope").expect("stat").is_none());
    assert!(head.read("nope").expect_err("missing").is_not_found());
    assert!(head.read("README.md/x").expect_err("under a file").is_not_found());
    assert!(matches!(head.read("apps"), Err(TreeError::NotAFile { .. })));
    assert!(matches!(head.list("README.md"), Err(TreeError::NotADirectory { .. })));
}

#[test]
fn snapshot_lists_folders_sorted_by_name() {
    use EntryKind::{Dir, File, Submodule};
    let f = history();
    let repo = f.open();
    let snap = repo.snapshot(&repo.resolve("main").expect("main")).expect("snapshot");
    assert_eq!(
        names(&snap.list("").expect("root")),
        [
            ("README.md", File),
            ("absolute.yaml", File),
            ("apps", Dir),
            ("base", Dir),
            ("dangling.yaml", File),
            ("dirlink", Dir),
            ("dotdot.yaml", File),
            ("escape.yaml", File),
            ("loop-a", File),
            ("loop-b", File),
            ("sub", Submodule),
            ("via-dirlink.yaml", File),
        ]
    );
    let apps = [("app.yaml", File), ("chain.yaml", File), ("link.yaml", File)];
    assert_eq!(names(&snap.list("apps").expect("apps")), apps);
    assert_eq!(names(&snap.list("dirlink").expect("dirlink")), apps);
    assert_eq!(names(&snap.list(".").expect("dot")).len(), 12);
}

#[test]
fn snapshot_resolves_symlinks_inside_and_refuses_escapes() {
    let f = history();
    let repo = f.open();
    let snap = repo.snapshot(&repo.resolve("main").expect("main")).expect("snapshot");
    let base = b"resources: []\n";
    assert_eq!(snap.read("apps/link.yaml").expect("link"), base);
    assert_eq!(snap.read("apps/chain.yaml").expect("chain"), base);
    assert_eq!(snap.read("dotdot.yaml").expect("base/.."), base);
    assert_eq!(snap.read("dirlink/app.yaml").expect("folder link"), b"v: 2\n");
    assert_eq!(snap.read("via-dirlink.yaml").expect("through"), b"v: 2\n");
    assert_eq!(snap.read("dirlink/../README.md").expect("dot-dot"), b"# fixture\n");

    for path in ["escape.yaml", "absolute.yaml", "../README.md", "apps/../../x"] {
        let err = snap.read(path).expect_err(path);
        assert!(matches!(&err, TreeError::Escapes { path: p } if p == path), "{path}: {err:?}");
        assert!(!snap.exists(path), "{path}");
    }
    assert!(matches!(snap.list("/"), Err(TreeError::Escapes { .. })));
    assert!(snap.read("dangling.yaml").expect_err("dangling").is_not_found());
    let err = snap.read("loop-a").expect_err("loop");
    assert!(err.to_string().contains("too many levels of symbolic links"), "{err}");
}

#[test]
fn submodules_are_listed_never_followed() {
    let f = history();
    let repo = f.open();
    let snap = repo.snapshot(&repo.resolve("HEAD").expect("HEAD")).expect("snapshot");
    let stat = snap.stat("sub").expect("stat").expect("exists");
    assert_eq!(stat.kind, EntryKind::Submodule);
    let err = snap.read("sub").expect_err("a submodule");
    assert!(err.to_string().contains("submodule"), "{err}");
    let err = snap.read("sub/file").expect_err("inside a submodule");
    assert!(err.to_string().contains("submodule"), "{err}");
}

#[test]
fn subtree_is_scoped_to_its_folder() {
    let f = history();
    let repo = f.open();
    let snap = repo.snapshot(&repo.resolve("HEAD").expect("HEAD")).expect("snapshot");
    let apps = snap.subtree("apps").expect("subtree");
    assert_eq!(apps.path(), "apps");
    assert_eq!(apps.revision(), snap.revision());
    assert_eq!(apps.read("app.yaml").expect("read"), b"v: 2\n");
    assert_eq!(names(&apps.list("").expect("list")).len(), 3);
    // `link.yaml` points to `../base/...`: fine from the commit root, outside this subtree.
    for path in ["link.yaml", "chain.yaml", "../README.md", "../apps/app.yaml"] {
        let err = apps.read(path).expect_err(path);
        assert!(matches!(err, TreeError::Escapes { .. }), "{path}: {err:?}");
    }

    let via_link = snap.subtree("dirlink").expect("linked folder");
    assert_eq!(via_link.path(), "apps");
    let deep = snap.subtree("base").and_then(|base| base.subtree("deep")).expect("nested");
    assert_eq!(deep.path(), "base/deep");
    assert_eq!(deep.read("file.txt").expect("read"), b"deep\n");
    assert!(matches!(deep.read("../kustomization.yaml"), Err(TreeError::Escapes { .. })));

    for (path, expected) in [("missing", "no such file"), ("README.md", "not a directory"), ("..", "escapes")] {
        let err = snap.subtree(path).expect_err(path);
        let SnapshotError::Subtree { source, .. } = &err else {
            panic!("{path}: {err:?}");
        };
        assert!(source.to_string().contains(expected), "{path}: {source}");
    }
}

#[test]
fn works_on_a_bare_clone_and_from_inside_a_work_tree() {
    let f = history();
    let bare = f.dir.path().join("bare.git");
    git_in(f.dir.path(), &["clone", "-q", "--bare", "repo", bare.to_str().expect("UTF-8 path")]);
    let repo = Repository::open(&bare).expect("open bare");
    assert!(repo.workdir().is_none());
    for rev in ["HEAD", "main", "v1.0", "v0.1", "main~1"] {
        let resolved = repo.resolve(rev).expect(rev);
        assert_eq!(resolved.commit, f.rev_parse(rev), "{rev}");
    }
    assert_eq!(repo.resolve("HEAD").expect("HEAD").reference.as_deref(), Some("main"));
    let snap = repo.snapshot(&repo.resolve("v1.0").expect("tag")).expect("snapshot");
    assert_eq!(snap.read("apps/chain.yaml").expect("read"), b"resources: []\n");

    let inner = Repository::open(f.root().join("base/deep")).expect("open from a subfolder");
    let workdir = inner.workdir().expect("has a work tree");
    assert_eq!(workdir.canonicalize().expect("canonical"), f.root().canonicalize().expect("canonical"));

    let empty = tempfile::tempdir().expect("tempdir");
    let err = Repository::open(empty.path()).expect_err("not a repository");
    assert!(matches!(err, OpenError::NotARepository { .. }));
}

#[test]
fn snapshots_are_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Snapshot>();
    assert_send_sync::<Repository>();

    let f = history();
    let repo = f.open();
    let snap = repo.snapshot(&repo.resolve("main").expect("main")).expect("snapshot");
    let tree: &dyn FileTree = &snap;
    std::thread::scope(|scope| {
        let readers: Vec<_> = (0..4).map(|_| scope.spawn(|| tree.read("apps/link.yaml").expect("read"))).collect();
        for reader in readers {
            assert_eq!(reader.join().expect("no panic"), b"resources: []\n");
        }
    });
    assert!(format!("{snap:?}").contains("main@sha1:"));
}
