//! The `Application` CRD: the committed manifest is the generated one, and the embedded API
//! server accepts it, serves the kind, validates nothing away, and serves its status subresource.
#![cfg(feature = "kube")]

use gitops_apiserver::{ApiServer, ApiServerOptions};
use gitops_reconcile::Application;
use gitops_reconcile::crd::{ApplicationResource, ResourceCondition, ResourceStatus, crd, crd_yaml};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

const COMMITTED: &str = include_str!("../../../deploy/crd.yaml");

#[test]
fn the_committed_crd_is_the_generated_one() {
    assert!(
        COMMITTED == crd_yaml(),
        "deploy/crd.yaml is stale: regenerate it with `cargo run -- crd > deploy/crd.yaml`"
    );
}

#[tokio::test]
async fn the_embedded_api_server_serves_applications_and_their_status() {
    let server = ApiServer::new(ApiServerOptions::default());
    let client = kube::Client::new(server.clone(), "default");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch("applications.gitops.dev", &PatchParams::apply("test"), &Patch::Apply(crd())).await.expect("the CRD");
    let stored = crds.get("applications.gitops.dev").await.expect("it is stored");
    let conditions = stored.status.and_then(|s| s.conditions).unwrap_or_default();
    assert!(conditions.iter().any(|c| c.type_ == "Established" && c.status == "True"), "{conditions:?}");

    let apps: Api<ApplicationResource> = Api::namespaced(client, "default");
    let app: ApplicationResource = serde_json::from_value(json!({
        "apiVersion": "gitops.dev/v1alpha1", "kind": "Application",
        "metadata": {"name": "web"},
        "spec": {
            "source": {"repoURL": "repos/shop", "targetRevision": "main", "path": "web"},
            "render": {"values": {"replicas": 3, "image": {"tag": "v1"}}},
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
            "ignoreDifferences": [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}],
            "interval": "1m"
        }
    }))
    .expect("an Application");
    let created = apps.create(&PostParams::default(), &app).await.expect("created");
    // Free-form fields survive the structural schema (pruning would drop them).
    assert_eq!(created.spec, app.spec);
    let checked = Application::from_spec("web", &created.spec, "Application default/web").expect("a valid spec");
    assert!(checked.sync_policy.automated.is_some_and(|a| a.prune && a.self_heal));
    assert_eq!(checked.ignore_differences.len(), 1);

    let mut status = ResourceStatus::default();
    status.sync = Some("Synced".to_owned());
    status.health = Some("Healthy".to_owned());
    status.last_synced_revision = Some("main@sha1:0123".to_owned());
    status.conditions = vec![ResourceCondition::new("Ready", true, "Synced", "applied main@sha1:0123")];
    let patch = json!({"status": status});
    apps.patch_status("web", &PatchParams::default(), &Patch::Merge(&patch)).await.expect("the status");
    let read = apps.get("web").await.expect("read back");
    assert_eq!(read.status, Some(status));
    assert_eq!(read.spec, app.spec, "a status write leaves the spec");
}
