//! Three `gitops controller` processes against one API server (`gitops cluster serve`): they
//! split the Applications, one is killed, the others take its share within the lease duration,
//! and no application is ever reconciled by two replicas at once.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gitops_reconcile::crd::ApplicationResource;
use kube::Api;

use super::cluster::Server;
use super::{KillOnDrop, Repo, gitops, stderr};

const APPS: usize = 12;
const LEASE: Duration = Duration::from_secs(2);

fn controller(kubeconfig: &Path, identity: &str, repo: &Path, journal: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gitops"))
        .args(["controller", "--watch-namespace", "default", "--lease-duration", "2s", "--renew-interval", "300ms"])
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--identity", identity])
        .arg("--repo-root")
        .arg(repo)
        .arg("--journal")
        .arg(journal)
        .env("GITOPS_LOG", "info,kube=warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(journal.with_extension("log")).expect("a log file"))
        .spawn()
        .expect("a controller starts")
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis()
}

/// Every reconcile recorded in the journals: (application, replica, start ms, end ms). One that
/// never ended lasts until its replica was killed (`killed`), else until now.
fn reconciles(journals: &[std::path::PathBuf], killed: &BTreeMap<String, u128>) -> Vec<(String, String, u128, u128)> {
    let mut out = Vec::new();
    for journal in journals {
        let text = std::fs::read_to_string(journal).unwrap_or_default();
        let mut open: BTreeMap<String, u128> = BTreeMap::new();
        for line in text.lines() {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            let app = entry["application"].as_str().unwrap_or_default().to_owned();
            let ms = u128::from(entry["ms"].as_u64().unwrap_or_default());
            match entry["event"].as_str() {
                Some("start") => {
                    open.insert(app, ms);
                }
                Some("end") => {
                    if let Some(start) = open.remove(&app) {
                        out.push((app, entry["replica"].as_str().unwrap_or_default().to_owned(), start, ms));
                    }
                }
                _ => {}
            }
        }
        let replica = journal.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let end = killed.get(&replica).copied().unwrap_or_else(now_ms);
        for (app, start) in open {
            out.push((app, replica.clone(), start, end));
        }
    }
    out
}

#[test]
fn three_replicas_split_the_work_and_survive_a_kill_without_overlap() {
    let repo = Repo::new();
    for i in 0..APPS {
        repo.write(
            &format!("apps/app-{i}/cm.yaml"),
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg-{i}}}\ndata: {{app: \"{i}\"}}\n"),
        );
    }
    repo.commit("apps");
    let work = tempfile::tempdir().expect("tempdir");
    let server = Server::start(work.path());
    let kubeconfig = server.kubeconfig.display().to_string();

    // The CRD and the Applications, synced with gitops itself.
    let control = work.path().join("control");
    std::fs::create_dir_all(&control).expect("mkdir");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/crd.yaml"), control.join("crd.yaml")).expect("copy");
    let mut apps = String::new();
    for i in 0..APPS {
        let _ = write!(
            apps,
            "---\napiVersion: gitops.dev/v1alpha1\nkind: Application\nmetadata: {{name: app-{i}, namespace: default}}\n\
             spec:\n  source: {{repoURL: ., path: apps/app-{i}}}\n  syncPolicy: {{automated: {{prune: true}}}}\n  interval: 1s\n"
        );
    }
    std::fs::write(control.join("apps.yaml"), apps).expect("write");
    let out = gitops(&["sync", "control", "--kubeconfig", &kubeconfig, "--no-wait", "--name", "control"], work.path());
    assert!(out.status.success(), "{}", stderr(&out));

    let journals: Vec<_> = (0..3).map(|i| work.path().join(format!("r{i}.jsonl"))).collect();
    // Killed on drop, so a failed assertion leaves no controller running.
    let mut replicas: Vec<KillOnDrop> = (0..3)
        .map(|i| KillOnDrop(controller(&server.kubeconfig, &format!("r{i}"), repo.path(), &journals[i])))
        .collect();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let statuses = || {
        runtime.block_on(async {
            let config = kube::Config::from_custom_kubeconfig(
                kube::config::Kubeconfig::read_from(&server.kubeconfig).expect("kubeconfig"),
                &kube::config::KubeConfigOptions::default(),
            )
            .await
            .expect("config");
            let api: Api<ApplicationResource> =
                Api::namespaced(kube::Client::try_from(config).expect("client"), "default");
            let list = api.list(&kube::api::ListParams::default()).await.expect("a list");
            list.items
                .into_iter()
                .map(|a| {
                    let status = a.status.unwrap_or_default();
                    (a.metadata.name.unwrap_or_default(), (status.sync, status.reconciled_by))
                })
                .collect::<BTreeMap<_, _>>()
        })
    };

    // Every application is synced, by more than one replica overall.
    let started = Instant::now();
    loop {
        let now = statuses();
        if now.len() == APPS && now.values().all(|(sync, _)| sync.as_deref() == Some("Synced")) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "not all synced: {now:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The first replica up may sync everything alone before the others join; with a 1 s
    // interval the work is split soon after.
    let mut killed = BTreeMap::new();
    loop {
        let owners: std::collections::BTreeSet<String> =
            reconciles(&journals, &killed).into_iter().map(|(_, replica, _, _)| replica).collect();
        if owners.len() == 3 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the work is not split: {owners:?}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Kill r0: within the lease duration (and a few renewals) every application is reconciled
    // again, by r1 or r2.
    let _ = replicas[0].0.kill();
    let _ = replicas[0].0.wait();
    let kill = now_ms();
    killed.insert("r0".to_owned(), kill);
    let started = Instant::now();
    loop {
        let after: std::collections::BTreeSet<String> = reconciles(&journals, &killed)
            .into_iter()
            .filter(|(_, replica, start, _)| replica != "r0" && *start > kill)
            .map(|(app, _, _, _)| app)
            .collect();
        if after.len() == APPS {
            break;
        }
        assert!(started.elapsed() < LEASE * 5, "not taken over: only {after:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    for (i, replica) in replicas.iter_mut().enumerate().skip(1) {
        let _ = replica.0.kill();
        let _ = replica.0.wait();
        killed.insert(format!("r{i}"), now_ms());
    }

    // No two replicas ever reconciled the same application at the same time.
    let mut by_app: BTreeMap<String, Vec<(String, u128, u128)>> = BTreeMap::new();
    for (app, replica, start, end) in reconciles(&journals, &killed) {
        by_app.entry(app).or_default().push((replica, start, end));
    }
    assert_eq!(by_app.len(), APPS);
    for (app, mut runs) in by_app {
        runs.sort_by_key(|(_, start, _)| *start);
        for pair in runs.windows(2) {
            let ((a, _, a_end), (b, b_start, _)) = (&pair[0], &pair[1]);
            if !(a == b || a_end <= b_start) {
                for journal in &journals {
                    eprintln!("{}", std::fs::read_to_string(journal.with_extension("log")).unwrap_or_default());
                }
            }
            assert!(a == b || a_end <= b_start, "{app}: {a} and {b} overlapped: {pair:?}");
        }
    }
}
