//! Acceptance with kube-rs 5: discovery, server-side apply, conflicts, watchers that survive a
//! 410, and a controller — in process over the tower `Service`, and once over TCP.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use gitops_apiserver::{ApiServer, ApiServerOptions, write_kubeconfig};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, Discovery};
use serde_json::json;

fn client(server: &ApiServer) -> Client {
    Client::new(server.clone(), "default")
}

fn configmap(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    let data: BTreeMap<String, String> = data.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}))
        .expect("a ConfigMap")
}

/// Waits (up to 10 s) until `check` holds.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn discovery_run_and_run_aggregated_agree() {
    let server = ApiServer::default();
    let resources = |discovery: &Discovery| {
        let mut out: Vec<(String, String, String, String, bool)> = discovery
            .groups()
            .flat_map(kube::discovery::ApiGroup::recommended_resources)
            .map(|(ar, caps)| {
                (ar.group, ar.version, ar.kind, ar.plural, caps.scope == kube::discovery::Scope::Namespaced)
            })
            .collect();
        out.sort();
        out
    };
    let legacy = Discovery::new(client(&server)).run().await.expect("legacy discovery");
    let aggregated = Discovery::new(client(&server)).run_aggregated().await.expect("aggregated discovery");
    let (legacy, aggregated) = (resources(&legacy), resources(&aggregated));
    assert!(legacy.len() > 30, "{legacy:?}");
    assert_eq!(legacy, aggregated);
    let deployment = ("apps".to_owned(), "v1".to_owned(), "Deployment".to_owned(), "deployments".to_owned(), true);
    assert!(legacy.contains(&deployment));
}

#[tokio::test]
async fn server_side_apply_create_update_conflict_force_and_dry_run() {
    let server = ApiServer::default();
    let api: Api<ConfigMap> = Api::default_namespaced(client(&server));
    let engine = PatchParams::apply("engine");
    let created = api.patch("demo", &engine, &Patch::Apply(configmap("demo", &[("a", "1")]))).await.expect("create");
    let rv = created.metadata.resource_version.clone();
    let again = api.patch("demo", &engine, &Patch::Apply(configmap("demo", &[("a", "1")]))).await.expect("no-op");
    assert_eq!(again.metadata.resource_version, rv, "a no-op apply keeps the resourceVersion");
    let updated = api.patch("demo", &engine, &Patch::Apply(configmap("demo", &[("a", "2")]))).await.expect("update");
    assert_eq!(updated.data.as_ref().and_then(|d| d.get("a")).map(String::as_str), Some("2"));

    let dry = api
        .patch("demo", &PatchParams::apply("engine").dry_run(), &Patch::Apply(configmap("demo", &[("a", "3")])))
        .await
        .expect("a dry run");
    assert_eq!(dry.data.as_ref().and_then(|d| d.get("a")).map(String::as_str), Some("3"));
    assert_eq!(dry.metadata.resource_version, updated.metadata.resource_version);
    let live = api.get("demo").await.expect("get");
    assert_eq!(live.data.as_ref().and_then(|d| d.get("a")).map(String::as_str), Some("2"), "nothing stored");

    let other = PatchParams::apply("other");
    let error = api.patch("demo", &other, &Patch::Apply(configmap("demo", &[("a", "9")]))).await.expect_err("conflict");
    let kube::Error::Api(status) = error else { panic!("an API error, not {error:?}") };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    let causes = status.details.as_ref().map(|d| d.causes.clone()).unwrap_or_default();
    assert_eq!(causes.len(), 1, "{status:?}");
    assert_eq!((causes[0].reason.as_str(), causes[0].field.as_str()), ("FieldManagerConflict", ".data.a"));
    assert!(status.message.contains(r#"conflict with "engine""#), "{}", status.message);

    let forced =
        api.patch("demo", &other.force(), &Patch::Apply(configmap("demo", &[("a", "9")]))).await.expect("force");
    let managers: Vec<String> =
        forced.metadata.managed_fields.unwrap_or_default().into_iter().filter_map(|entry| entry.manager).collect();
    assert_eq!(managers, vec!["other".to_owned()], "force moved the only field to `other`");
}

#[tokio::test]
async fn a_watcher_sees_every_change_and_survives_a_410() {
    let server = ApiServer::default();
    let api: Api<ConfigMap> = Api::default_namespaced(client(&server));
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let record = Arc::clone(&seen);
    let stream = watcher(api.clone(), watcher::Config::default());
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            let line = match event {
                Ok(watcher::Event::Apply(cm)) => format!("apply {}", data(&cm)),
                Ok(watcher::Event::Delete(cm)) => format!("delete {}", data(&cm)),
                Ok(watcher::Event::Init) => "init".to_owned(),
                Ok(watcher::Event::InitApply(cm)) => format!("init-apply {}", data(&cm)),
                Ok(watcher::Event::InitDone) => "init-done".to_owned(),
                Err(watcher::Error::WatchError(status)) => format!("error {} {}", status.code, status.reason),
                Err(error) => format!("error {error}"),
            };
            record.lock().expect("lock").push(line);
        }
    });
    let lines = || seen.lock().expect("lock").clone();
    eventually("the watch is open", async || server.open_watches() == 1).await;
    let engine = PatchParams::apply("engine");
    api.patch("w", &engine, &Patch::Apply(configmap("w", &[("a", "1")]))).await.expect("create");
    api.patch("w", &engine, &Patch::Apply(configmap("w", &[("a", "2")]))).await.expect("update");
    api.delete("w", &DeleteParams::default()).await.expect("delete");
    eventually("the deletion is seen", async || lines().last().map(String::as_str) == Some("delete w=2")).await;
    assert_eq!(lines(), ["init", "init-done", "apply w=1", "apply w=2", "delete w=2"]);

    server.expire_watches();
    api.patch("x", &engine, &Patch::Apply(configmap("x", &[("b", "1")]))).await.expect("create");
    api.patch("x", &engine, &Patch::Apply(configmap("x", &[("b", "2")]))).await.expect("update");
    eventually("the watcher is back", async || lines().last().map(String::as_str) == Some("apply x=2")).await;
    let after: Vec<String> = lines().into_iter().skip(5).collect();
    assert_eq!(after.first().map(String::as_str), Some("error 410 Expired"), "the 410 reaches the watcher: {after:?}");
    assert!(after.contains(&"init".to_owned()) && after.contains(&"init-done".to_owned()), "it re-lists: {after:?}");
    task.abort();
}

fn data(cm: &ConfigMap) -> String {
    let name = cm.metadata.name.clone().unwrap_or_default();
    let values: Vec<&str> = cm.data.iter().flat_map(|d| d.values()).map(String::as_str).collect();
    format!("{name}={}", values.join(","))
}

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct ReconcileError(#[from] kube::Error);

/// Copies a ConfigMap's data into `<name>-copy`.
async fn copy_data(source: Arc<ConfigMap>, api: Arc<Api<ConfigMap>>) -> Result<Action, ReconcileError> {
    let name = source.metadata.name.clone().unwrap_or_default();
    let copy = format!("{name}-copy");
    let mut target = configmap(&copy, &[]);
    target.data.clone_from(&source.data);
    api.patch(&copy, &PatchParams::apply("copier").force(), &Patch::Apply(target)).await?;
    Ok(Action::await_change())
}

#[tokio::test]
async fn a_controller_reconciles() {
    let server = ApiServer::default();
    let api: Api<ConfigMap> = Api::default_namespaced(client(&server));
    let mut source = configmap("source", &[("greeting", "hello")]);
    source.metadata.labels = Some(BTreeMap::from([("copy".to_owned(), "yes".to_owned())]));
    api.patch("source", &PatchParams::apply("user"), &Patch::Apply(&source)).await.expect("a source");
    let controller = Controller::new(api.clone(), watcher::Config::default().labels("copy=yes"))
        .run(copy_data, |_, _, _| Action::requeue(Duration::from_millis(100)), Arc::new(api.clone()))
        .for_each(|_| async {});
    let task = tokio::spawn(controller);
    let copied = async |value: &str| {
        let copy = api.get_opt("source-copy").await.ok().flatten();
        copy.and_then(|c| c.data).and_then(|d| d.get("greeting").cloned()).as_deref() == Some(value)
    };
    eventually("the copy is made", async || copied("hello").await).await;
    source.data = Some(BTreeMap::from([("greeting".to_owned(), "bonjour".to_owned())]));
    api.patch("source", &PatchParams::apply("user"), &Patch::Apply(&source)).await.expect("a change");
    eventually("the copy follows", async || copied("bonjour").await).await;
    task.abort();
    assert!(api.get_opt("source-copy-copy").await.expect("a get").is_none(), "the selector kept the copy out");
}

#[test]
fn over_tcp_with_a_kubeconfig() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let server = ApiServer::new(ApiServerOptions::default());
        let handle = server.listen(([127, 0, 0, 1], 0).into()).await.expect("a listener");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("kubeconfig");
        write_kubeconfig(&path, &handle.url()).expect("a kubeconfig");
        let kubeconfig = kube::config::Kubeconfig::read_from(&path).expect("it reads back");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
            .await
            .expect("a config");
        let client = Client::try_from(config).expect("a client");
        let api: Api<ConfigMap> = Api::default_namespaced(client);
        let stream = watcher(api.clone(), watcher::Config::default());
        let mut stream = std::pin::pin!(stream);
        api.patch("tcp", &PatchParams::apply("engine"), &Patch::Apply(configmap("tcp", &[("a", "1")])))
            .await
            .expect("an apply over TCP");
        let mut applied = None;
        while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
            if let Ok(watcher::Event::Apply(cm) | watcher::Event::InitApply(cm)) = event {
                applied = Some(data(&cm));
                break;
            }
        }
        assert_eq!(applied.as_deref(), Some("tcp=1"), "the chunked watch stream arrives over HTTP/1.1");
    });
}
