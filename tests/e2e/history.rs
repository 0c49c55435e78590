//! `gitops history` and `gitops rollback` against the embedded target (the default).

use crate::{Repo, gitops, stderr, stdout};

const APP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  colour: blue
";

const EXTRA: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  added: in-two
";

/// A repository with two commits of `apps/shop`: `settings` blue, then green with `extra` added.
fn two_commits() -> (Repo, String, String) {
    let repo = Repo::new();
    repo.write("apps/shop/settings.yaml", APP);
    let first = repo.commit("one");
    repo.write("apps/shop/settings.yaml", &APP.replace("blue", "green"));
    repo.write("apps/shop/extra.yaml", EXTRA);
    let second = repo.commit("two");
    (repo, first, second)
}

#[test]
fn history_rollback_pin_and_unpin() {
    let (repo, first, second) = two_commits();
    let work = tempfile::tempdir().expect("tempdir");
    let repo_arg = repo.path().to_string_lossy().into_owned();
    let run = |args: &[&str]| gitops(args, work.path());
    let diff_at =
        |rev: &str| run(&["diff", "apps/shop", "--repo", &repo_arg, "--rev", rev, "--diff-format", "names"][..]);

    // Sync the first commit, then the second.
    let out = run(&["sync", "apps/shop", "--repo", &repo_arg, "--rev", &first, "--prune"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&["sync", "apps/shop", "--repo", &repo_arg, "--prune"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("Synced at main@sha1:{second}")), "{}", stdout(&out));

    // History lists both, newest first, by path or by --name.
    let out = run(&["history", "apps/shop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let newest = text.find(&format!("main@sha1:{second}  (current)")).expect(&text);
    let oldest = text.find(&format!("sha1:{first}")).expect(&text);
    assert!(newest < oldest, "{text}");
    assert!(text.contains("2 synced revisions"), "{text}");
    let out = run(&["history", "--name", "shop", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["history"], serde_json::json!([format!("main@sha1:{second}"), format!("sha1:{first}")]));
    assert_eq!(json["pinned"], serde_json::Value::Null);
    let out = run(&["history", "apps/other"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("application other was never synced"), "{}", stderr(&out));

    // Roll back to the first commit, by its recorded form: rev1's objects are back, rev2's are pruned.
    let out = run(&["rollback", "apps/shop", &format!("sha1:{first}"), "--repo", &repo_arg, "--prune"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 updated, 1 deleted"), "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!("shop is pinned at sha1:{first}")), "{}", stdout(&out));
    let out = diff_at(&first);
    assert_eq!(out.status.code(), Some(0), "the target holds rev1 exactly: {}{}", stdout(&out), stderr(&out));
    let out = diff_at(&second);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let out = run(&["history", "apps/shop", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["revision"], format!("sha1:{first}"));
    assert_eq!(json["pinned"], format!("sha1:{first}"));
    assert_eq!(json["history"][1], format!("main@sha1:{second}"));

    // A plain sync is refused while pinned, and changes nothing; syncing the pinned commit is not a move.
    let out = run(&["sync", "apps/shop", "--repo", &repo_arg, "--prune"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains(&format!("application shop is pinned at sha1:{first}")), "{}", stderr(&out));
    assert!(stderr(&out).contains("gitops sync --unpin"), "{}", stderr(&out));
    assert_eq!(diff_at(&first).status.code(), Some(0));
    let out = run(&["sync", "apps/shop", "--repo", &repo_arg, "--rev", &first, "--prune"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A REV that does not resolve is an error that names it.
    let out = run(&["rollback", "apps/shop", "no-such-tag", "--repo", &repo_arg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-tag"), "{}", stderr(&out));

    // Unpin, then a plain sync moves to HEAD.
    let out = run(&["rollback", "apps/shop", "--unpin"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("shop unpinned (was pinned at sha1:{first})")), "{}", stdout(&out));
    let out = run(&["sync", "apps/shop", "--repo", &repo_arg, "--prune"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(diff_at(&second).status.code(), Some(0));

    // `sync --unpin` syncs a pinned application and releases the pin.
    let out = run(&["rollback", "apps/shop", "main~1", "--repo", &repo_arg, "--prune"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(diff_at(&first).status.code(), Some(0));
    let out = run(&["sync", "apps/shop", "--repo", &repo_arg, "--prune", "--unpin"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(diff_at(&second).status.code(), Some(0));
    let out = run(&["history", "apps/shop", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["pinned"], serde_json::Value::Null, "{json}");
}

/// The pin is part of the inventory, so a folder target keeps it too, in `_inventory/APP.json`.
#[test]
fn the_pin_lives_in_the_inventory_of_a_folder_target() {
    let (repo, first, _) = two_commits();
    let work = tempfile::tempdir().expect("tempdir");
    let out_dir = work.path().join("out");
    let target = format!("dir:{}", out_dir.display());
    let repo_arg = repo.path().to_string_lossy().into_owned();
    let run = |args: &[&str]| gitops(args, work.path());

    assert!(run(&["sync", "apps/shop", "--repo", &repo_arg, "--target", &target]).status.success());
    let out = run(&["rollback", "apps/shop", &first[..10], "--repo", &repo_arg, "--target", &target]);
    assert!(out.status.success(), "{}", stderr(&out));
    let settings = std::fs::read_to_string(out_dir.join("default/ConfigMap/settings.yaml")).expect("written");
    assert!(settings.contains("colour: blue"), "{settings}");
    let inventory = std::fs::read_to_string(out_dir.join("_inventory/shop.json")).expect("inventory");
    let inventory: serde_json::Value = serde_json::from_str(&inventory).expect("json");
    assert_eq!(inventory["pinned"], format!("sha1:{first}"), "{inventory}");

    let out = run(&["sync", "apps/shop", "--repo", &repo_arg, "--target", &target]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is pinned at"), "{}", stderr(&out));
    let out = run(&["history", "apps/shop", "--target", &target]);
    assert!(stdout(&out).contains(&format!("sha1:{first}  (current, pinned)")), "{}", stdout(&out));
}
