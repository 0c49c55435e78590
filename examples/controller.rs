//! A custom controller on kube-runtime with gitops-rs as its sync engine: every ConfigMap
//! labelled `example.gitops.dev/bundle=true` holds manifests in `data["manifests.yaml"]`, and the
//! controller keeps the cluster equal to them: applies what is there (server-side apply), prunes
//! what left, and records each bundle's objects in its own inventory.
//!
//! It runs against the embedded API server, in process, so it needs no cluster:
//! ```text
//! cargo run --example controller
//! ```

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use gitops_apiserver::{ApiServer, ApiServerOptions};
use gitops_apply::{Applier, ApplierOptions, KubeTarget};
use gitops_core::{ManifestSet, parse_manifests, yaml::ReadOptions};
use gitops_plan::PlanOptions;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Error(String);

fn fail(e: impl std::fmt::Display) -> Error {
    Error(e.to_string())
}

/// Syncs one bundle: parse, observe, diff, plan with prune, apply.
async fn sync(client: Client, bundle: &ConfigMap) -> Result<String, Error> {
    let name = format!("bundle-{}", bundle.name_any());
    let text = bundle.data.as_ref().and_then(|d| d.get("manifests.yaml")).cloned().unwrap_or_default();
    let file = format!("ConfigMap {name}: manifests.yaml");
    let desired = ManifestSet::from_manifests(parse_manifests(&text, &file, &ReadOptions::default()).map_err(fail)?)
        .map_err(fail)?;
    let target = KubeTarget::new(client, "cluster").inventory_namespace("default");
    let applier = Applier::new(&target, ApplierOptions::default().inventory(&name).wait(false));
    let observed = applier.observe(&desired).await.map_err(fail)?;
    let diff = observed.diff(&observed.desired, "gitops");
    let mut plan =
        gitops_plan::plan_with_desired(diff, &observed.desired, &PlanOptions::default().prune(true)).map_err(fail)?;
    applier.resolve_references(&mut plan).await.map_err(fail)?;
    Ok(applier.run(&plan, observed).await.map_err(fail)?.changes.summary())
}

async fn reconcile(bundle: Arc<ConfigMap>, client: Arc<Client>) -> Result<Action, Error> {
    // The Applier's future is not `Send`; kube-runtime wants one, so drive it on a blocking
    // thread with the runtime's handle.
    let (client, handle) = (Client::clone(&client), tokio::runtime::Handle::current());
    let summary = tokio::task::spawn_blocking(move || handle.block_on(sync(client, &bundle))).await.map_err(fail)??;
    println!("synced: {summary}");
    Ok(Action::requeue(Duration::from_secs(60)))
}

fn bundle(manifests: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "shop", "labels": {"example.gitops.dev/bundle": "true"}},
        "data": {"manifests.yaml": manifests},
    }))
    .expect("a ConfigMap")
}

const TWO: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: default}\n---\n\
                   apiVersion: v1\nkind: Secret\nmetadata: {name: web-token, namespace: default}\nstringData: {token: s3cr3t}\n";
const ONE: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: default}\n";

/// Polls until `check` holds (up to 10 s).
async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) -> Result<(), Error> {
    for _ in 0..200 {
        if check().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(Error(format!("timed out waiting until {what}")))
}

/// Runs the controller against an in-process API server: a bundle of two objects is synced,
/// then one is dropped from the bundle and pruned.
async fn run() -> Result<(), Error> {
    let client = Client::new(ApiServer::new(ApiServerOptions::default()), "default");
    let bundles: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let controller =
        Controller::new(bundles.clone(), watcher::Config::default().labels("example.gitops.dev/bundle=true"))
            .run(reconcile, |_, _, _| Action::requeue(Duration::from_secs(1)), Arc::new(client.clone()))
            .for_each(|_| async {});
    let task = tokio::spawn(controller);

    let apply = PatchParams::apply("example").force();
    bundles.patch("shop", &apply, &Patch::Apply(bundle(TWO))).await.map_err(fail)?;
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::default_namespaced(client.clone());
    until("the Secret is applied", async || secrets.get_opt("web-token").await.ok().flatten().is_some()).await?;

    bundles.patch("shop", &apply, &Patch::Apply(bundle(ONE))).await.map_err(fail)?;
    until("the Secret is pruned", async || matches!(secrets.get_opt("web-token").await, Ok(None))).await?;
    let accounts: Api<k8s_openapi::api::core::v1::ServiceAccount> = Api::default_namespaced(client);
    accounts.get("web").await.map_err(fail)?;
    task.abort();
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run().await
}

#[cfg(test)]
mod tests {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn syncs_then_prunes() {
        super::run().await.expect("the controller syncs and prunes");
    }
}
