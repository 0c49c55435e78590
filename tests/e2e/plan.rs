//! `gitops plan` outputs, the prune guard, and review-then-apply with `gitops sync --plan FILE`.

use std::path::Path;

use super::{gitops, stderr, stdout};

const APP: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data: {mode: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
stringData: {password: hunter2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: web, image: nginx, envFrom: [{secretRef: {name: db}}]}]
      volumes: [{name: c, configMap: {name: cfg}}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: shop
  annotations: {argocd.argoproj.io/hook: PreSync}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: migrate}]}}}
";

fn write_app(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir.join("app")).expect("mkdir");
    std::fs::write(dir.join("app/app.yaml"), text).expect("write");
}

#[test]
fn plan_prints_waves_with_reasons_as_text_dot_and_mermaid() {
    let work = tempfile::tempdir().expect("tempdir");
    write_app(work.path(), APP);
    let target = format!("dir:{}", work.path().join("out").display());
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", "app", "--target", &target];
        args.extend_from_slice(extra);
        gitops(&args, work.path())
    };

    let out = plan(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Plan:
wave 0: PreSync, definitions
  + create Namespace/shop
wave 1: PreSync, resources
  + create Job/shop/migrate
      hook argocd.argoproj.io/hook: PreSync; deleted BeforeHookCreation
      after Namespace/shop (lives in it)
wave 2: Sync, resources
  + create Secret/shop/db
      after Namespace/shop (lives in it)
  + create ConfigMap/shop/cfg
      after Namespace/shop (lives in it)
wave 3: Sync, resources
  + create Deployment/shop/web
      after ConfigMap/shop/cfg (mounts it)
      after Namespace/shop (lives in it)
      after Secret/shop/db (reads environment from it)
5 to create, 0 to update, 0 to delete, 0 unchanged, 1 hook.
"
    );

    let dot = plan(&["-o", "dot"]);
    assert!(dot.status.success(), "{}", stderr(&dot));
    assert!(stdout(&dot).starts_with("digraph plan {\n"), "{}", stdout(&dot));
    assert!(stdout(&dot).contains("\"Deployment/shop/web\" -> \"ConfigMap/shop/cfg\" [label=\"mounts\"];"));
    let mermaid = plan(&["-o", "mermaid"]);
    assert!(stdout(&mermaid).starts_with("flowchart RL\n"), "{}", stdout(&mermaid));
    assert!(stdout(&mermaid).contains("|\"mounts\"|"), "{}", stdout(&mermaid));

    let json = plan(&["-o", "json"]);
    assert!(json.status.success(), "{}", stderr(&json));
    let text = stdout(&json);
    assert!(!text.contains("hunter2"), "Secret values are masked in the artifact");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(value["steps"][4]["object"]["name"], "web");
    assert_eq!(value["steps"][4]["wave"], 3);
    assert_eq!(value["steps"][4]["depends_on"][0]["reason"], "mounts");
    assert_eq!(value["steps"][1]["hook"]["delete_policies"][0], "BeforeHookCreation");
    assert_eq!(value["steps"][0]["live"], "absent");

    // The same input gives byte-identical output.
    assert_eq!(stdout(&plan(&["-o", "json"])), text);
}

#[test]
fn sync_runs_a_saved_plan_only_while_nothing_moved() {
    let work = tempfile::tempdir().expect("tempdir");
    write_app(work.path(), APP);
    let out_dir = work.path().join("out");
    let target = format!("dir:{}", out_dir.display());
    let save_plan = |file: &str| {
        let out = gitops(&["plan", "app", "--target", &target, "-o", "json"], work.path());
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::write(work.path().join(file), out.stdout).expect("write plan");
    };
    let sync_plan = |file: &str| gitops(&["sync", "app", "--target", &target, "--plan", file], work.path());

    // Review, then apply exactly that plan: Secret values come from the source, never the file.
    save_plan("first.json");
    let out = sync_plan("first.json");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Synced: 5 created, 0 updated, 0 deleted, 0 unchanged"), "{}", stdout(&out));
    let secret = std::fs::read_to_string(out_dir.join("shop/Secret/db.yaml")).expect("secret written");
    assert!(!secret.contains("<masked>"), "{secret}");

    // The live state moved since the plan: refused, naming the object.
    save_plan("second.json");
    let cfg = out_dir.join("shop/ConfigMap/cfg.yaml");
    let live = std::fs::read_to_string(&cfg).expect("read");
    std::fs::write(&cfg, live.replace("mode: blue", "mode: edited-by-hand")).expect("write");
    let out = sync_plan("second.json");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("the plan is stale"), "{}", stderr(&out));
    assert!(stderr(&out).contains("ConfigMap/shop/cfg changed on the target"), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&cfg).expect("read").contains("edited-by-hand"), "nothing was applied");

    // The source moved since the plan: refused too.
    save_plan("third.json");
    write_app(work.path(), &APP.replace("mode: blue", "mode: green"));
    let out = sync_plan("third.json");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("ConfigMap/shop/cfg renders differently from the plan"), "{}", stderr(&out));

    // A plan saved now runs.
    save_plan("fourth.json");
    let out = sync_plan("fourth.json");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&cfg).expect("read").contains("mode: green"));

    // Not a plan at all.
    std::fs::write(work.path().join("junk.json"), "{\"steps\": 3}").expect("write");
    let out = sync_plan("junk.json");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("junk.json is not a plan written by `gitops plan -o json`"), "{}", stderr(&out));
}

#[test]
fn pruning_everything_is_refused_unless_allowed() {
    let work = tempfile::tempdir().expect("tempdir");
    write_app(work.path(), APP);
    let out_dir = work.path().join("out");
    let target = format!("dir:{}", out_dir.display());
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", "app", "--target", &target];
        args.extend_from_slice(extra);
        gitops(&args, work.path())
    };
    assert!(sync(&[]).status.success());

    // An empty render would delete everything.
    write_app(work.path(), "");
    let out = sync(&["--prune"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("refusing to delete 5 of 5 objects (every object); allow it explicitly"),
        "{}",
        stderr(&out)
    );
    assert!(out_dir.join("shop/ConfigMap/cfg.yaml").exists());

    // A share limit refuses a partial wipe; --allow-mass-prune lifts every limit.
    write_app(work.path(), &APP[..APP.find("---\napiVersion: v1\nkind: Secret").expect("secret")]);
    let out = sync(&["--prune", "--max-prune-share", "0.5"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("refusing to delete 3 of 5 objects (more than the allowed 50%)"), "{}", stderr(&out));
    let out = sync(&["--prune", "--max-prune-share", "0.5", "--allow-mass-prune"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 created, 0 updated, 3 deleted, 2 unchanged"), "{}", stdout(&out));

    let out = sync(&["--max-prune-share", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a share between 0.0 and 1.0"), "{}", stderr(&out));
}

#[test]
fn sync_fail_hooks_are_not_applied_by_a_successful_sync() {
    let work = tempfile::tempdir().expect("tempdir");
    let hook = "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: on-failure\n  namespace: shop\n  \
                annotations: {argocd.argoproj.io/hook: SyncFail}\nspec: {template: {spec: {containers: []}}}\n";
    write_app(work.path(), &format!("{APP}{hook}"));
    let out_dir = work.path().join("out");
    let target = format!("dir:{}", out_dir.display());
    let plan = gitops(&["plan", "app", "--target", &target], work.path());
    assert!(
        stdout(&plan).contains("wave 4: SyncFail, resources\n  + create Job/shop/on-failure\n"),
        "{}",
        stdout(&plan)
    );
    let out = gitops(&["sync", "app", "--target", &target], work.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out_dir.join("shop/Job.batch/migrate.yaml").exists(), "the PreSync hook ran");
    assert!(!out_dir.join("shop/Job.batch/on-failure.yaml").exists(), "the SyncFail hook did not");
}
