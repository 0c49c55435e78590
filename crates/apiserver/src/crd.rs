//! CustomResourceDefinitions: validating them, registering their kinds and keeping their status.
//!
//! After every write to a CRD the server reconciles it at once, as the API server's
//! apiextensions controllers do in the background: when its names are free it registers the kind
//! (every served version, its scope, names, categories and subresources) in the registry, which
//! discovery and OpenAPI read, and in the schema table, which server-side apply reads; it then
//! sets the `NamesAccepted` and `Established` conditions, `acceptedNames` and `storedVersions`.
//! A CRD whose plural, singular, kind or short names clash with another kind of the same group
//! gets `NamesAccepted: False` and stays unregistered. When a CRD is deleted its objects go with
//! it.

use std::cmp::{Ordering, Reverse};

use gitops_core::Object;
use gitops_core::schema::{Schema, Scope};
use serde_json::{Map, Value, json};

use crate::clock::rfc3339;
use crate::error::{ApiError, Cause};
use crate::registry::{CustomKind, Resource, VERBS};
use crate::request::{NameRule, validate_name};
use crate::ssa;
use crate::store::{Key, meta_str};
use crate::subresource::{ScalePaths, json_path_pointer};
use crate::verbs::{Env, State, Target};

/// The group of CustomResourceDefinitions.
pub(crate) const GROUP: &str = "apiextensions.k8s.io";
/// Their plural.
pub(crate) const PLURAL: &str = "customresourcedefinitions";
/// The manager of the status the server writes.
const MANAGER: &str = "kube-apiserver";

/// Whether `target` is about CustomResourceDefinitions.
pub(crate) fn is_crd(target: &Target) -> bool {
    target.resource.group == GROUP && target.resource.plural == PLURAL
}

/// What a CRD's spec says, read leniently (validation happened before it was stored).
struct Definition {
    group: String,
    kind: String,
    plural: String,
    singular: String,
    list_kind: String,
    short_names: Vec<String>,
    categories: Vec<String>,
    scope: Scope,
    /// Served versions, most preferred first, each with its subresources.
    served: Vec<(String, Vec<String>)>,
    storage: Option<String>,
    scale: Option<ScalePaths>,
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

impl Definition {
    fn read(crd: &Value) -> Definition {
        let text = |pointer: &str| crd.pointer(pointer).and_then(Value::as_str).unwrap_or("").to_owned();
        let kind = text("/spec/names/kind");
        let singular = Some(text("/spec/names/singular")).filter(|s| !s.is_empty()).unwrap_or(kind.to_lowercase());
        let list_kind = Some(text("/spec/names/listKind")).filter(|s| !s.is_empty()).unwrap_or(format!("{kind}List"));
        let scope = if text("/spec/scope") == "Cluster" { Scope::Cluster } else { Scope::Namespaced };
        let mut served = Vec::new();
        let mut storage = None;
        let mut scale = None;
        for version in crd.pointer("/spec/versions").and_then(Value::as_array).into_iter().flatten() {
            let name = version.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
            if version.get("storage").and_then(Value::as_bool) == Some(true) {
                storage = Some(name.clone());
            }
            if version.get("served").and_then(Value::as_bool) != Some(true) || name.is_empty() {
                continue;
            }
            let mut subresources = Vec::new();
            if let Some(paths) = version.pointer("/subresources/scale") {
                subresources.push("scale".to_owned());
                let pointer = |key: &str| paths.get(key).and_then(Value::as_str).and_then(json_path_pointer);
                scale.get_or_insert(ScalePaths {
                    spec_replicas: pointer("specReplicasPath").unwrap_or_else(|| "/spec/replicas".into()),
                    status_replicas: pointer("statusReplicasPath").unwrap_or_else(|| "/status/replicas".into()),
                    selector: pointer("labelSelectorPath"),
                });
            }
            if version.pointer("/subresources/status").is_some() {
                subresources.push("status".to_owned());
            }
            served.push((name, subresources));
        }
        served.sort_by(|a, b| version_order(&a.0, &b.0));
        Definition {
            group: text("/spec/group"),
            kind,
            plural: text("/spec/names/plural"),
            singular,
            list_kind,
            short_names: strings(crd.pointer("/spec/names/shortNames")),
            categories: strings(crd.pointer("/spec/names/categories")),
            scope,
            served,
            storage,
            scale,
        }
    }

    fn resources(&self) -> Vec<Resource> {
        self.served
            .iter()
            .map(|(version, subresources)| Resource {
                group: self.group.clone(),
                version: version.clone(),
                kind: self.kind.clone(),
                plural: self.plural.clone(),
                singular: self.singular.clone(),
                short_names: self.short_names.clone(),
                categories: self.categories.clone(),
                scope: self.scope,
                verbs: VERBS.iter().map(|s| (*s).to_string()).collect(),
                subresources: subresources.clone(),
            })
            .collect()
    }

    fn accepted_names(&self) -> Value {
        let mut names = Map::new();
        names.insert("plural".into(), json!(self.plural));
        names.insert("singular".into(), json!(self.singular));
        if !self.short_names.is_empty() {
            names.insert("shortNames".into(), json!(self.short_names));
        }
        names.insert("kind".into(), json!(self.kind));
        names.insert("listKind".into(), json!(self.list_kind));
        if !self.categories.is_empty() {
            names.insert("categories".into(), json!(self.categories));
        }
        Value::Object(names)
    }
}

/// Kubernetes' version priority: GA before beta before alpha, higher numbers first, then other
/// names alphabetically.
pub(crate) fn version_order(a: &str, b: &str) -> Ordering {
    fn key(version: &str) -> (u8, Reverse<u64>, Reverse<u64>, &str) {
        let parsed = version.strip_prefix('v').and_then(|rest| {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            let major: u64 = rest.get(..digits)?.parse().ok()?;
            let tail = rest.get(digits..)?;
            if tail.is_empty() {
                return Some((0, major, 0));
            }
            for (rank, word) in [(1, "beta"), (2, "alpha")] {
                if let Some(minor) = tail.strip_prefix(word) {
                    return Some((rank, major, minor.parse().ok()?));
                }
            }
            None
        });
        match parsed {
            Some((rank, major, minor)) => (rank, Reverse(major), Reverse(minor), ""),
            None => (3, Reverse(0), Reverse(0), version),
        }
    }
    key(a).cmp(&key(b))
}

/// Validates a CRD before it is stored: the API server's rules that matter to clients.
pub(crate) fn validate(crd: &Value) -> Result<(), ApiError> {
    let name = meta_str(crd, "name").unwrap_or("").to_owned();
    let mut causes = Vec::new();
    let mut cause = |field: &str, reason: &str, message: String| {
        causes.push(Cause { reason: reason.into(), message, field: field.into() });
    };
    let text = |pointer: &str| crd.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    let (group, plural, kind) = (text("/spec/group"), text("/spec/names/plural"), text("/spec/names/kind"));
    if group.is_empty() {
        cause("spec.group", "FieldValueRequired", "Required value".into());
    } else if !group.contains('.') {
        cause(
            "spec.group",
            "FieldValueInvalid",
            format!("Invalid value: {group:?}: should be a domain with at least one dot"),
        );
    }
    if plural.is_empty() {
        cause("spec.names.plural", "FieldValueRequired", "Required value".into());
    } else if let Some(error) = validate_name(plural, NameRule::Label).first() {
        cause("spec.names.plural", "FieldValueInvalid", format!("Invalid value: {plural:?}: {error}"));
    }
    if kind.is_empty() {
        cause("spec.names.kind", "FieldValueRequired", "Required value".into());
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        cause(
            "metadata.name",
            "FieldValueInvalid",
            format!("Invalid value: {name:?}: must be spec.names.plural+\".\"+spec.group"),
        );
    }
    if !matches!(text("/spec/scope"), "Namespaced" | "Cluster") {
        let scope = text("/spec/scope");
        cause(
            "spec.scope",
            "FieldValueNotSupported",
            format!("Unsupported value: {scope:?}: supported values: \"Cluster\", \"Namespaced\""),
        );
    }
    if let Some((field, message)) = schema_error(crd) {
        cause(&field, "FieldValueInvalid", message);
    }
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array).cloned().unwrap_or_default();
    if versions.is_empty() {
        cause(
            "spec.versions",
            "FieldValueInvalid",
            "Invalid value: \"null\": must have exactly one version marked as storage version".into(),
        );
    } else if versions.iter().filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true)).count() != 1 {
        cause(
            "spec.versions",
            "FieldValueInvalid",
            "Invalid value: must have exactly one version marked as storage version".into(),
        );
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid { kind: "CustomResourceDefinition".into(), group: GROUP.into(), name, causes })
    }
}

/// Why the CRD's schemas cannot be read, if they cannot: (field, message).
fn schema_error(crd: &Value) -> Option<(String, String)> {
    let parsed = match Object::from_value(crd.clone()) {
        Ok(parsed) => parsed,
        Err(error) => return Some(("metadata".into(), format!("Invalid value: {error}"))),
    };
    let error = Schema::new().add_crd(&parsed).err()?;
    Some((error.path().unwrap_or("spec").to_owned(), format!("Invalid value: {error}")))
}

impl State {
    /// Brings the registry, the schema and the CRD's status in line with the stored CRD `name`:
    /// registers it, re-registers it, or (when it is gone or being deleted) unregisters it and
    /// deletes its objects.
    pub(crate) fn reconcile_crd(&mut self, env: Env<'_>, target: &Target, name: &str) {
        let key = Key::new(GROUP, PLURAL, "", name);
        let live = self.store.value(&key);
        let Some(live) = live.filter(|crd| meta_str(crd, "deletionTimestamp").is_none()) else {
            self.unregister_crd(name, true);
            return;
        };
        let definition = Definition::read(&live);
        let conflict = self.name_conflict(name, &definition);
        if conflict.is_some() {
            self.unregister_crd(name, false);
        } else if let Ok(object) = Object::from_value(ssa::without_managed_fields(&live))
            && self.schema.add_crd(&object).is_ok()
        {
            {
                let custom = CustomKind {
                    crd: name.to_owned(),
                    group: definition.group.clone(),
                    kind: definition.kind.clone(),
                    plural: definition.plural.clone(),
                    scale: definition.scale.clone(),
                };
                if let Some(previous) = self.registry.custom_of(name).cloned()
                    && (previous.group != custom.group || previous.kind != custom.kind)
                {
                    self.schema.remove_crd(&previous.group, &previous.kind);
                }
                self.registry.register_custom(custom, definition.resources());
            }
        }
        let status = crd_status(&live, &definition, conflict.as_ref(), &rfc3339(env.now));
        if live.get("status") != Some(&status) {
            let mut object = ssa::without_managed_fields(&live);
            object["status"] = status;
            let target = Target { subresource: Some("status".into()), name: Some(name.into()), ..target.clone() };
            let now = rfc3339(env.now);
            let writer = target.writer(MANAGER, "apiextensions.k8s.io/v1", &now);
            if let Some(object) = ssa::update(Some(&live), &object, &writer) {
                self.commit_update(&target, &live, object, false);
            }
        }
    }

    /// A clash between `definition`'s names and another kind of the same group: (reason, name).
    fn name_conflict(&self, crd: &str, definition: &Definition) -> Option<(&'static str, String)> {
        let others: Vec<&Resource> = self
            .registry
            .resources()
            .iter()
            .filter(|r| r.group == definition.group)
            .filter(|r| self.registry.custom_kind(&r.group, &r.kind).is_none_or(|custom| custom.crd != crd))
            .collect();
        if let Some(other) = others.iter().find(|r| r.plural == definition.plural || r.singular == definition.plural) {
            return Some(("PluralConflict", other.plural.clone()));
        }
        if others.iter().any(|r| r.singular == definition.singular || r.plural == definition.singular) {
            return Some(("SingularConflict", definition.singular.clone()));
        }
        if let Some(short) =
            definition.short_names.iter().find(|short| others.iter().any(|r| r.short_names.contains(short)))
        {
            return Some(("ShortNamesConflict", short.clone()));
        }
        if others.iter().any(|r| r.kind == definition.kind) {
            return Some(("KindConflict", definition.kind.clone()));
        }
        None
    }

    /// Unregisters the CRD `name`; with `delete_objects`, its objects are deleted too.
    fn unregister_crd(&mut self, name: &str, delete_objects: bool) {
        let Some(custom) = self.registry.unregister_custom(name) else { return };
        self.schema.remove_crd(&custom.group, &custom.kind);
        if delete_objects {
            let keys: Vec<Key> =
                self.store.list(&custom.group, &custom.plural, None, None).map(|(key, _)| key.clone()).collect();
            for key in keys {
                self.remove_object(&key);
            }
        }
    }
}

/// The status the API server gives a CRD: conditions, accepted names and stored versions.
fn crd_status(live: &Value, definition: &Definition, conflict: Option<&(&str, String)>, now: &str) -> Value {
    let previous = live.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    let condition = |kind: &str, status: &str, reason: &str, message: String| {
        let time = previous
            .iter()
            .find(|c| {
                c.get("type").and_then(Value::as_str) == Some(kind)
                    && c.get("status").and_then(Value::as_str) == Some(status)
            })
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or_else(|| json!(now));
        json!({"type": kind, "status": status, "lastTransitionTime": time, "reason": reason, "message": message})
    };
    let (names, established) = match conflict {
        None => (
            condition("NamesAccepted", "True", "NoConflicts", "no conflicts found".into()),
            condition("Established", "True", "InitialNamesAccepted", "the initial names have been accepted".into()),
        ),
        Some((reason, name)) => (
            condition("NamesAccepted", "False", reason, format!("{name:?} is already in use")),
            condition("Established", "False", "NotAccepted", "not all names are accepted".into()),
        ),
    };
    let mut stored = strings(live.pointer("/status/storedVersions"));
    if let Some(storage) = &definition.storage
        && !stored.contains(storage)
    {
        stored.push(storage.clone());
    }
    let accepted = if conflict.is_none() {
        definition.accepted_names()
    } else {
        live.pointer("/status/acceptedNames").cloned().unwrap_or_else(|| json!({"plural": "", "kind": ""}))
    };
    json!({"conditions": [names, established], "acceptedNames": accepted, "storedVersions": stored})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_by_kubernetes_priority() {
        let mut versions = vec!["v1alpha1", "foo", "v2beta1", "v1", "v1beta2", "v2", "v10"];
        versions.sort_by(|a, b| version_order(a, b));
        assert_eq!(versions, ["v10", "v2", "v1", "v2beta1", "v1beta2", "v1alpha1", "foo"]);
    }

    #[test]
    fn validation_names_the_field() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "wrong"}, "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true}]}});
        let error = validate(&crd).expect_err("name mismatch");
        assert!(error.to_string().contains("metadata.name: Invalid value: \"wrong\""), "{error}");
        let mut ok = crd.clone();
        ok["metadata"]["name"] = json!("widgets.example.com");
        validate(&ok).expect("valid");
    }
}
