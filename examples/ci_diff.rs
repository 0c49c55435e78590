//! A CI check: render a path of a Git repository at two revisions (the pull request's head and
//! its base) and print what merging it would change, without a cluster.
//!
//! ```text
//! cargo run --example ci_diff -- REPO BASE HEAD [PATH]
//! cargo run --example ci_diff -- . origin/main HEAD examples/guestbook
//! ```
//!
//! Both revisions are read straight from Git's object database (no checkout), rendered the way
//! `gitops sync` renders them (Kustomize or plain YAML), and compared with gitops-diff: BASE's
//! objects stand for both the live state and the last-applied state, so objects that HEAD drops
//! show as deletions. Secret values are masked. The exit code is 0 when HEAD changes nothing, 1
//! when it changes objects, 2 on an error (an unknown revision, a render error), so a CI job
//! fails on changes it should review, or on manifests that no longer render.

use std::collections::BTreeMap;
use std::process::ExitCode;

use gitops_core::{Inventory, ManifestSet, Object, ObjectRef};
use gitops_diff::{DiffSet, Inputs, OutputOptions, ThreeWayDiff};
use gitops_render::RenderOptions;
use gitops_source::Repository;

/// Renders `path` at `rev`.
fn render_at(repo: &Repository, rev: &str, path: &str) -> Result<ManifestSet, Box<dyn std::error::Error>> {
    let revision = repo.resolve(rev)?;
    let snapshot = repo.snapshot(&revision)?;
    let set = gitops_render::render(&snapshot, path, &RenderOptions::default())
        .map_err(|e| format!("cannot render {path} at {revision}: {e}"))?;
    Ok(set)
}

/// What `head` changes relative to `base`, for the objects rendered from `path`.
fn diff_revisions(repo: &str, base: &str, head: &str, path: &str) -> Result<DiffSet, Box<dyn std::error::Error>> {
    let repo = Repository::open(repo)?;
    let before = render_at(&repo, base, path)?;
    let after = render_at(&repo, head, path)?;
    let live: BTreeMap<ObjectRef, Object> = before.iter().map(|m| (m.object_ref(), m.object.clone())).collect();
    let mut inventory = Inventory::default();
    for manifest in &before {
        inventory.insert(manifest.object_ref(), manifest.object.api_version());
    }
    Ok(ThreeWayDiff::default().diff(&Inputs::new(&after, &live, &inventory).last_applied(&live)))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (repo, base, head, path) = match args.as_slice() {
        [repo, base, head] => (repo, base, head, ""),
        [repo, base, head, path] => (repo, base, head, path.as_str()),
        _ => {
            eprintln!("usage: ci_diff REPO BASE HEAD [PATH]");
            return ExitCode::from(2);
        }
    };
    match diff_revisions(repo, base, head, path) {
        Ok(diff) => {
            let options = OutputOptions::default();
            print!("{}", gitops_diff::summary(&diff, &options));
            print!("{}", gitops_diff::unified(&diff, &options));
            if diff.has_changes() {
                ExitCode::from(1)
            } else {
                println!("no changes between {base} and {head}");
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use gitops_core::Action;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "Ada")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn reports_changes_deletions_and_render_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir(root.join("app")).expect("mkdir");
        let cm = |n: u32| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg, namespace: ns}}\ndata: {{count: \"{n}\"}}\n"
            )
        };
        std::fs::write(root.join("app/cm.yaml"), cm(1)).expect("write");
        std::fs::write(
            root.join("app/old.yaml"),
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: old, namespace: ns}\n",
        )
        .expect("write");
        git(root, &["init", "-q"]);
        git(root, &["add", "."]);
        git(root, &["commit", "-q", "-m", "base"]);
        git(root, &["tag", "base"]);
        std::fs::write(root.join("app/cm.yaml"), cm(2)).expect("write");
        std::fs::remove_file(root.join("app/old.yaml")).expect("rm");
        git(root, &["commit", "-q", "-am", "pull request"]);
        let repo = root.to_str().expect("utf-8 temp path");

        let same = super::diff_revisions(repo, "base", "base", "app").expect("diffs");
        assert!(!same.has_changes());

        let diff = super::diff_revisions(repo, "base", "HEAD", "app").expect("diffs");
        assert!(diff.has_changes());
        let actions: Vec<(String, Action)> = diff.diffs.iter().map(|d| (d.object.to_string(), d.action)).collect();
        assert!(actions.contains(&("ConfigMap/ns/cfg".to_owned(), Action::Update)), "{actions:?}");
        assert!(actions.contains(&("ServiceAccount/ns/old".to_owned(), Action::Delete)), "{actions:?}");
        let text = gitops_diff::unified(&diff, &gitops_diff::OutputOptions::default());
        assert!(text.contains("+  count: \"2\""), "{text}");

        let error = super::diff_revisions(repo, "base", "no-such-branch", "app").expect_err("unknown revision");
        assert!(error.to_string().contains("no-such-branch"), "{error}");
    }
}
