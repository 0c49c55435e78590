//! Discovery documents (legacy and aggregated v2), `/version`, and the minimal OpenAPI v3 that
//! `kubectl apply` reads to learn that the server validates fields itself.

use serde_json::{Map, Value, json};

use gitops_core::schema::Schema;

use crate::openapi;
use crate::registry::{Registry, Resource};

/// The Content-Type of aggregated discovery replies.
pub(crate) const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const AGGREGATED_V2BETA1: &str = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/// The Kubernetes version the server reports.
pub(crate) const KUBERNETES_VERSION: (&str, &str) = ("1", "37");

/// Which aggregated discovery version the `Accept` header asks for first, if any.
pub(crate) fn aggregated_accept(accept: &str) -> Option<&'static str> {
    for media in accept.split(',') {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        let has = |p: &str| params.contains(&p);
        if has("g=apidiscovery.k8s.io") && has("as=APIGroupDiscoveryList") {
            if has("v=v2") {
                return Some(AGGREGATED_V2);
            }
            if has("v=v2beta1") {
                return Some(AGGREGATED_V2BETA1);
            }
        }
        if params.first().is_some_and(|m| *m == "application/json" || *m == "*/*") && params.len() == 1 {
            return None;
        }
    }
    None
}

/// `/version`.
pub(crate) fn version() -> Value {
    let (major, minor) = KUBERNETES_VERSION;
    json!({
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "gitVersion": format!("v{major}.{minor}.1"),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// Legacy `/api`.
pub(crate) fn api_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]
    })
}

/// Legacy `/apis`.
pub(crate) fn api_group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .into_iter()
        .filter(|(group, _)| !group.is_empty())
        .map(|(group, versions)| {
            let versions: Vec<Value> =
                versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
            json!({"name": group, "versions": versions, "preferredVersion": versions[0]})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Legacy `/api/v1` or `/apis/<group>/<version>`; `None` when nothing is served there.
pub(crate) fn api_resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for resource in registry.in_group_version(group, version) {
        let mut entry = Map::new();
        entry.insert("name".into(), json!(resource.plural));
        entry.insert("singularName".into(), json!(resource.singular));
        entry.insert("namespaced".into(), json!(resource.is_namespaced()));
        entry.insert("kind".into(), json!(resource.kind));
        entry.insert("verbs".into(), json!(resource.verbs));
        if !resource.short_names.is_empty() {
            entry.insert("shortNames".into(), json!(resource.short_names));
        }
        if !resource.categories.is_empty() {
            entry.insert("categories".into(), json!(resource.categories));
        }
        entry.insert("storageVersionHash".into(), json!(hash(&resource.api_version(), &resource.kind)));
        resources.push(Value::Object(entry));
        for sub in &resource.subresources {
            resources.push(json!({
                "name": format!("{}/{sub}", resource.plural),
                "singularName": "",
                "namespaced": resource.is_namespaced(),
                "kind": subresource_kind(resource, sub),
                "verbs": ["get", "patch", "update"]
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}))
}

fn subresource_kind(resource: &Resource, sub: &str) -> String {
    if sub == "scale" { "Scale".into() } else { resource.kind.clone() }
}

/// Aggregated `/api` (`core == true`) or `/apis`.
pub(crate) fn aggregated(registry: &Registry, core: bool, content_type: &str) -> Value {
    let api_version =
        if content_type == AGGREGATED_V2 { "apidiscovery.k8s.io/v2" } else { "apidiscovery.k8s.io/v2beta1" };
    let items: Vec<Value> = registry
        .groups()
        .into_iter()
        .filter(|(group, _)| group.is_empty() == core)
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let resources: Vec<Value> =
                        registry.in_group_version(&group, version).map(aggregated_resource).collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items})
}

fn aggregated_resource(resource: &Resource) -> Value {
    let kind = |kind: &str| json!({"group": resource.group, "version": resource.version, "kind": kind});
    let mut entry = Map::new();
    entry.insert("resource".into(), json!(resource.plural));
    entry.insert("responseKind".into(), kind(&resource.kind));
    entry.insert("scope".into(), json!(if resource.is_namespaced() { "Namespaced" } else { "Cluster" }));
    entry.insert("singularResource".into(), json!(resource.singular));
    entry.insert("verbs".into(), json!(resource.verbs));
    if !resource.short_names.is_empty() {
        entry.insert("shortNames".into(), json!(resource.short_names));
    }
    if !resource.categories.is_empty() {
        entry.insert("categories".into(), json!(resource.categories));
    }
    if !resource.subresources.is_empty() {
        let subs: Vec<Value> = resource
            .subresources
            .iter()
            .map(|sub| json!({"subresource": sub, "responseKind": kind(&subresource_kind(resource, sub)), "verbs": ["get", "patch", "update"]}))
            .collect();
        entry.insert("subresources".into(), Value::Array(subs));
    }
    Value::Object(entry)
}

/// A stable short hash, for `storageVersionHash` and the OpenAPI `hash` parameter.
fn hash(a: &str, b: &str) -> String {
    let mut value: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in a.bytes().chain([0]).chain(b.bytes()) {
        value = (value ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{value:016x}")
}

/// `/openapi/v3`: one entry per served group version.
pub(crate) fn openapi_index(registry: &Registry) -> Value {
    let mut paths = Map::new();
    for (group, versions) in registry.groups() {
        for version in versions {
            let path = if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") };
            let url = format!("/openapi/v3/{path}?hash={}", hash(&path, "openapi").to_uppercase());
            paths.insert(path, json!({"serverRelativeURL": url}));
        }
    }
    json!({"paths": paths})
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`: PATCH operations with the
/// group-version-kind and the `fieldValidation` parameter, which is all `kubectl apply` looks for.
pub(crate) fn openapi_group_version(registry: &Registry, schema: &Schema, group: &str, version: &str) -> Option<Value> {
    let mut paths = Map::new();
    let prefix = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
    for resource in registry.in_group_version(group, version) {
        let path = if resource.is_namespaced() {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", resource.plural)
        } else {
            format!("{prefix}/{}/{{name}}", resource.plural)
        };
        let query = |name: &str, kind: &str| json!({"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": true}});
        let patch = json!({
            "operationId": format!("patch{}", resource.kind),
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": resource.group, "version": resource.version, "kind": resource.kind},
            "parameters": [query("dryRun", "string"), query("fieldManager", "string"), query("fieldValidation", "string"), query("force", "boolean")],
            "responses": {"200": {"description": "OK"}, "201": {"description": "Created"}}
        });
        paths.insert(path, json!({"patch": patch}));
    }
    if paths.is_empty() {
        return None;
    }
    let (major, minor) = KUBERNETES_VERSION;
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": format!("v{major}.{minor}.1")},
        "paths": paths,
        "components": {"schemas": openapi::component_schemas(schema, registry.in_group_version(group, version))}
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_accept(kubectl), Some(AGGREGATED_V2));
        assert_eq!(aggregated_accept("application/json, */*"), None);
        assert_eq!(aggregated_accept(""), None);
    }
}
