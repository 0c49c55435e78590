//! The `/status` and `/scale` subresources.
//!
//! For a kind with a status subresource, writes to the main resource leave `status` as it was
//! (and applied `status` fields are dropped, not owned), while writes to `/status` change nothing
//! but `status`. `/scale` reads and writes the replica count as an `autoscaling/v1` `Scale`, for
//! Deployments, ReplicaSets, StatefulSets and CRDs with a scale subresource; its writes are
//! recorded in `managedFields` with `subresource: scale`.

use http::Method;
use serde_json::{Map, Value, json};

use crate::clock::rfc3339;
use crate::error::{ApiError, Cause};
use crate::request::{json_object, json_patch, merge_patch, yaml_object};
use crate::ssa;
use crate::store::meta_str;
use crate::verbs::{Call, Env, Reply, State, Target, manager};

/// Where a kind keeps its replica counts and selector, as JSON pointers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScalePaths {
    /// The desired replicas, such as `/spec/replicas`.
    pub(crate) spec_replicas: String,
    /// The observed replicas, such as `/status/replicas`.
    pub(crate) status_replicas: String,
    /// Where the label selector is: a `LabelSelector` object for built-ins, a selector string for
    /// CRDs (`labelSelectorPath`).
    pub(crate) selector: Option<String>,
}

impl ScalePaths {
    fn builtin() -> ScalePaths {
        ScalePaths {
            spec_replicas: "/spec/replicas".into(),
            status_replicas: "/status/replicas".into(),
            selector: Some("/spec/selector".into()),
        }
    }
}

/// Turns a CRD's `.spec.replicas` style path into a JSON pointer; `None` for anything else.
pub(crate) fn json_path_pointer(path: &str) -> Option<String> {
    let rest = path.strip_prefix('.')?;
    let parts: Vec<&str> = rest.split('.').collect();
    if parts.iter().any(|part| part.is_empty() || part.contains(['[', ']', '*'])) {
        return None;
    }
    Some(parts.iter().fold(String::new(), |mut out, part| {
        out.push('/');
        out.push_str(&part.replace('~', "~0").replace('/', "~1"));
        out
    }))
}

/// Drops from an applied configuration what the target does not accept: `status` on a main
/// resource with a status subresource; everything but `status` on `/status`.
pub(crate) fn reset_applied(target: &Target, config: &mut Value) {
    let Some(map) = config.as_object_mut() else { return };
    match target.subresource.as_deref() {
        None if target.resource.has_subresource("status") => {
            map.remove("status");
        }
        Some("status") => {
            map.retain(|key, _| matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "status"));
            if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
                metadata.retain(|key, _| matches!(key.as_str(), "name" | "namespace" | "resourceVersion"));
            }
        }
        _ => {}
    }
}

/// Resets what a non-apply write may not change: `status` keeps its live value on a main
/// resource with a status subresource; on `/status` everything but `status` keeps its live value.
pub(crate) fn reset_updated(target: &Target, live: &Value, object: &mut Value) {
    match target.subresource.as_deref() {
        None if target.resource.has_subresource("status") => {
            if let Some(map) = object.as_object_mut() {
                match live.get("status") {
                    Some(status) => map.insert("status".into(), status.clone()),
                    None => map.remove("status"),
                };
            }
        }
        Some("status") => {
            let status = object.get("status").cloned();
            let resource_version = object.pointer("/metadata/resourceVersion").cloned();
            *object = live.clone();
            if let Some(map) = object.as_object_mut() {
                match status {
                    Some(status) => map.insert("status".into(), status),
                    None => map.remove("status"),
                };
            }
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.remove("managedFields");
                metadata.remove("resourceVersion");
                if let Some(rv) = resource_version {
                    metadata.insert("resourceVersion".into(), rv);
                }
            }
        }
        _ => {}
    }
}

impl State {
    /// Serves a request on `target`'s subresource.
    pub(crate) fn subresource(
        &mut self,
        env: Env<'_>,
        method: &Method,
        target: &Target,
        call: &Call<'_>,
    ) -> Result<Reply, ApiError> {
        match (target.subresource.as_deref(), method) {
            (Some("status"), &Method::GET) => self.get(target),
            (Some("status"), &Method::PUT) => self.replace(env, target, call),
            (Some("status"), &Method::PATCH) => {
                // A subresource cannot create its object, not even by apply.
                self.live(target)?;
                self.patch(env, target, call)
            }
            (Some("scale"), _) => self.scale(env, method, target, call),
            _ => Err(ApiError::MethodNotAllowed),
        }
    }

    fn scale_paths(&self, target: &Target) -> ScalePaths {
        self.registry
            .custom_kind(&target.resource.group, &target.resource.kind)
            .and_then(|custom| custom.scale.clone())
            .unwrap_or_else(ScalePaths::builtin)
    }

    fn scale(&mut self, env: Env<'_>, method: &Method, target: &Target, call: &Call<'_>) -> Result<Reply, ApiError> {
        let paths = self.scale_paths(target);
        let live = self.live(target)?;
        let current = scale_view(&live, &paths);
        let dry_run = call.query.dry_run()?;
        let media = call.content_type.split(';').next().unwrap_or("").trim();
        let desired = match *method {
            Method::GET => return Ok(Reply::ok(current)),
            Method::PUT => {
                let body = json_object(call.body)?;
                check_scale(&body, target)?;
                body
            }
            Method::PATCH => match media {
                "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                    let mut scale = current.clone();
                    merge_patch(&mut scale, &json_object(call.body)?);
                    scale
                }
                "application/json-patch+json" => {
                    let patch: Value = serde_json::from_slice(call.body)
                        .map_err(|e| ApiError::BadRequest(format!("error decoding JSON patch: {e}")))?;
                    let mut scale = current.clone();
                    json_patch(&mut scale, &patch).map_err(ApiError::BadRequest)?;
                    scale
                }
                "application/apply-patch+yaml" => {
                    let body = yaml_object(call.body)?;
                    check_scale(&body, target)?;
                    let replicas = replicas(&body, target)?;
                    return self.apply_scale(env, target, call, &live, &paths, replicas, dry_run);
                }
                _ => {
                    return Err(ApiError::UnsupportedMediaType(
                        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
                            .into(),
                    ));
                }
            },
            _ => return Err(ApiError::MethodNotAllowed),
        };
        let replicas = replicas(&desired, target)?;
        let mut object = ssa::without_managed_fields(&live);
        set_pointer(&mut object, &paths.spec_replicas, json!(replicas));
        if let Some(rv) = meta_str(&desired, "resourceVersion") {
            set_pointer(&mut object, "/metadata/resourceVersion", json!(rv));
        } else if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("resourceVersion");
        }
        let reply = self.write_update(env, target, &live, object, &manager(call), dry_run)?;
        Ok(Reply::ok(scale_view(&reply.body.into_value(), &paths)))
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_scale(
        &mut self,
        env: Env<'_>,
        target: &Target,
        call: &Call<'_>,
        live: &Value,
        paths: &ScalePaths,
        replicas: i64,
        dry_run: bool,
    ) -> Result<Reply, ApiError> {
        let Some(manager) = call.query.get("fieldManager") else {
            return Err(ApiError::Invalid {
                kind: "PatchOptions".into(),
                group: "meta.k8s.io".into(),
                name: String::new(),
                causes: vec![Cause {
                    reason: "FieldValueRequired".into(),
                    message: "Required value: is required for apply patch".into(),
                    field: "fieldManager".into(),
                }],
            });
        };
        let mut config = json!({
            "apiVersion": target.resource.api_version(),
            "kind": target.resource.kind,
            "metadata": {"name": target.name.clone().unwrap_or_default()},
        });
        set_pointer(&mut config, &paths.spec_replicas, json!(replicas));
        let now = rfc3339(env.now);
        let api_version = target.resource.api_version();
        let writer = target.writer(manager, &api_version, &now);
        let body = match ssa::apply(Some(live), &config, &writer, call.query.flag("force"))? {
            None => live.clone(),
            Some(object) => self.commit_update(target, live, object, dry_run).into_value(),
        };
        Ok(Reply::ok(scale_view(&body, paths)))
    }
}

fn check_scale(body: &Value, target: &Target) -> Result<(), ApiError> {
    if let Some(kind) = body.get("kind").and_then(Value::as_str).filter(|k| *k != "Scale") {
        return Err(ApiError::BadRequest(format!(
            "the kind in the data ({kind}) does not match the expected kind (Scale)"
        )));
    }
    if let Some(name) = meta_str(body, "name").filter(|n| Some(*n) != target.name.as_deref()) {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({name}) does not match the name on the URL ({})",
            target.name.as_deref().unwrap_or("")
        )));
    }
    Ok(())
}

fn replicas(scale: &Value, target: &Target) -> Result<i64, ApiError> {
    let invalid = |message: String| ApiError::Invalid {
        kind: "Scale".into(),
        group: "autoscaling".into(),
        name: target.name.clone().unwrap_or_default(),
        causes: vec![Cause { reason: "FieldValueInvalid".into(), message, field: "spec.replicas".into() }],
    };
    match scale.pointer("/spec/replicas") {
        Some(value) => match value.as_i64() {
            Some(n) if n >= 0 => Ok(n),
            Some(n) => Err(invalid(format!("Invalid value: {n}: must be greater than or equal to 0"))),
            None => Err(invalid(format!("Invalid value: {value}: must be an integer"))),
        },
        None => Ok(0),
    }
}

/// The `autoscaling/v1` `Scale` of `object`.
pub(crate) fn scale_view(object: &Value, paths: &ScalePaths) -> Value {
    let mut metadata = Map::new();
    for field in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
        if let Some(value) = object.pointer(&format!("/metadata/{field}")) {
            metadata.insert(field.into(), value.clone());
        }
    }
    let spec_replicas = object.pointer(&paths.spec_replicas).and_then(Value::as_i64).unwrap_or(0);
    let status_replicas = object.pointer(&paths.status_replicas).and_then(Value::as_i64).unwrap_or(0);
    let mut status = Map::new();
    status.insert("replicas".into(), json!(status_replicas));
    let selector = paths.selector.as_deref().and_then(|path| object.pointer(path)).map(selector_string);
    if let Some(selector) = selector.filter(|s| !s.is_empty()) {
        status.insert("selector".into(), json!(selector));
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": spec_replicas},
        "status": status,
    })
}

/// A selector as a string: a string stays, a `LabelSelector` is rendered in the label selector
/// syntax (`app=web,tier in (a,b)`).
fn selector_string(selector: &Value) -> String {
    if let Some(text) = selector.as_str() {
        return text.to_owned();
    }
    let mut parts = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in labels {
            parts.push(format!("{key}={}", value.as_str().unwrap_or("")));
        }
    }
    for expression in selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let key = expression.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let part = match expression.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_owned(),
            "DoesNotExist" => format!("!{key}"),
            _ => continue,
        };
        parts.push(part);
    }
    parts.join(",")
}

/// Sets the value at a JSON pointer, creating objects on the way.
pub(crate) fn set_pointer(object: &mut Value, pointer: &str, value: Value) {
    let mut at = object;
    let parts: Vec<String> =
        pointer.split('/').skip(1).map(|part| part.replace("~1", "/").replace("~0", "~")).collect();
    let Some((last, path)) = parts.split_last() else { return };
    for part in path {
        if !at.get(part).is_some_and(Value::is_object) {
            if let Some(map) = at.as_object_mut() {
                map.insert(part.clone(), json!({}));
            } else {
                return;
            }
        }
        let Some(next) = at.get_mut(part) else { return };
        at = next;
    }
    if let Some(map) = at.as_object_mut() {
        map.insert(last.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_become_pointers() {
        assert_eq!(json_path_pointer(".spec.replicas").as_deref(), Some("/spec/replicas"));
        assert_eq!(json_path_pointer(".spec.items[0]"), None);
        assert_eq!(json_path_pointer("spec"), None);
    }

    #[test]
    fn selectors_render_like_kubectl() {
        let selector = json!({"matchLabels": {"app": "web"}, "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "canary", "operator": "DoesNotExist"}
        ]});
        assert_eq!(selector_string(&selector), "app=web,tier in (a,b),!canary");
    }
}
