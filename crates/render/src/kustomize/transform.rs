//! The field-spec transformers: namespace, name prefix and suffix, labels, annotations, images
//! and replicas, with the same special cases as Kustomize.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{Map, Value, json};

use super::fieldspec::{Create, apply, selects};
use super::resource::{ResMap, Resource};
use super::types::{FieldSpec, Image, Replica};

/// `namespace:` — sets the namespace of namespaced objects, the name of `v1` Namespace objects,
/// RoleBinding subjects named `default`, and the namespace fields the config lists.
/// Which RoleBinding subjects get the namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subjects {
    /// Subjects named `default` (Kustomize's default).
    DefaultOnly,
    /// Every ServiceAccount subject.
    AllServiceAccounts,
    /// None.
    None,
}

/// Options of the namespace transformer beyond the namespace itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NamespaceOptions {
    /// Only set namespaces that are empty.
    pub(crate) unset_only: bool,
    pub(crate) subjects: Subjects,
}

impl Default for NamespaceOptions {
    fn default() -> Self {
        NamespaceOptions { unset_only: false, subjects: Subjects::DefaultOnly }
    }
}

pub(crate) fn namespace(resources: &mut ResMap, namespace: &str, specs: &[FieldSpec]) -> Result<(), String> {
    namespace_with(resources, namespace, specs, NamespaceOptions::default())
}

/// The namespace transformer with its plugin options.
pub(crate) fn namespace_with(
    resources: &mut ResMap,
    namespace: &str,
    specs: &[FieldSpec],
    options: NamespaceOptions,
) -> Result<(), String> {
    let set = |node: &mut Value| {
        let empty = node.as_str().is_none_or(str::is_empty);
        if !options.unset_only || empty {
            *node = json!(namespace);
        }
    };
    for index in 0..resources.resources.len() {
        let resource = &mut resources.resources[index];
        resource.store_previous_id();
        let id = resource.cur_id();
        let api_version = resource.api_version().to_owned();
        if !id.is_cluster_scoped() {
            let metadata = resource.metadata_mut();
            set(metadata.entry("namespace").or_insert_with(|| json!("")));
        }
        let is_binding = matches!(id.kind.as_str(), "RoleBinding" | "ClusterRoleBinding");
        if is_binding && let Some(Value::Array(subjects)) = resource.map.get_mut("subjects") {
            for subject in subjects.iter_mut().filter_map(Value::as_object_mut) {
                let wanted = match options.subjects {
                    Subjects::DefaultOnly => subject.get("name").and_then(Value::as_str) == Some("default"),
                    Subjects::AllServiceAccounts => {
                        subject.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                    }
                    Subjects::None => false,
                };
                if wanted {
                    set(subject.entry("namespace").or_insert_with(|| json!("")));
                }
            }
        }
        for spec in specs.iter().filter(|s| selects(s, &id)) {
            if spec.path == "metadata/namespace"
                || (spec.path == "metadata/name" && api_version != "v1")
                || (is_binding && spec.path == "subjects/namespace")
            {
                continue;
            }
            apply(&mut resource.map, spec, Some(Create::Scalar), &mut |node| {
                set(node);
                Ok(())
            })
            .map_err(|e| format!("namespace transformation failed: {e}"))?;
        }
    }
    if let Some(id) = resources.first_duplicate() {
        return Err(format!("namespace transformation produces ID conflict: {id}"));
    }
    Ok(())
}

/// Kinds that never get a name prefix or suffix.
fn skips_affixes(resource: &Resource) -> bool {
    let id = resource.org_id();
    matches!(
        (id.group.as_str(), id.kind.as_str()),
        (_, "CustomResourceDefinition" | "Namespace") | ("apiregistration.k8s.io", "APIService")
    )
}

/// `namePrefix:` and `nameSuffix:`.
pub(crate) fn affix(resources: &mut ResMap, prefix: &str, suffix: &str, specs: &[FieldSpec]) -> Result<(), String> {
    for resource in resources.resources.iter_mut().filter(|r| !skips_affixes(r)) {
        let id = resource.org_id();
        for spec in specs.iter().filter(|s| selects(s, &id)) {
            if spec.path == "metadata/name" {
                if !prefix.is_empty() {
                    resource.prefixes.push(prefix.to_owned());
                    resource.store_previous_id();
                }
                if !suffix.is_empty() {
                    resource.suffixes.push(suffix.to_owned());
                    resource.store_previous_id();
                }
            }
            apply(&mut resource.map, spec, None, &mut |node| {
                if let Value::String(s) = node {
                    *s = format!("{prefix}{s}{suffix}");
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Sets string entries of maps at the given field specs (labels, annotations).
pub(crate) fn set_entries(
    resources: &mut ResMap,
    entries: &BTreeMap<String, String>,
    specs: &[FieldSpec],
) -> Result<(), String> {
    if entries.is_empty() {
        return Ok(());
    }
    for resource in &mut resources.resources {
        let id = resource.cur_id();
        for spec in specs.iter().filter(|s| selects(s, &id)) {
            apply(&mut resource.map, spec, Some(Create::Map), &mut |node| {
                let Value::Object(map) = node else {
                    return Err(format!("expected a mapping at {}", spec.path));
                };
                for (k, v) in entries {
                    map.insert(k.clone(), Value::String(v.clone()));
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Splits an image reference into name, tag and digest, as Kustomize does.
fn split_image(image: &str) -> (&str, &str, &str) {
    let slash = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[slash..];
    let at = search.find('@').map(|i| i + slash);
    let colon = search.find(':').map(|i| i + slash);
    match (colon, at) {
        (None, None) => (image, "", ""),
        (c, Some(a)) if c.is_none_or(|c| a < c) => (&image[..a], "", &image[a + 1..]),
        (Some(c), Some(a)) => (&image[..c], &image[c + 1..a], &image[a + 1..]),
        (Some(c), None) => (&image[..c], &image[c + 1..], ""),
        (None, Some(_)) => unreachable!("handled by the arm above"),
    }
}

fn update_image(value: &mut Value, image: &Image, matcher: &Regex) {
    let Value::String(current) = value else { return };
    if !matcher.is_match(current) {
        return;
    }
    let (name, tag, digest) = split_image(current);
    let mut name = name.to_owned();
    let (mut tag, mut digest) = (tag.to_owned(), digest.to_owned());
    if let Some(new_name) = image.new_name.as_deref().filter(|n| !n.is_empty()) {
        new_name.clone_into(&mut name);
    }
    let new_tag = image.new_tag.as_deref().unwrap_or("");
    let new_digest = image.digest.as_deref().unwrap_or("");
    let suffix = image.tag_suffix.as_deref().unwrap_or("");
    if !new_tag.is_empty() && !new_digest.is_empty() {
        (tag, digest) = (new_tag.to_owned(), new_digest.to_owned());
    } else if !new_tag.is_empty() {
        (tag, digest) = (new_tag.to_owned(), String::new());
    } else if !new_digest.is_empty() {
        (tag, digest) = (String::new(), new_digest.to_owned());
    } else if !suffix.is_empty() {
        tag.push_str(suffix);
        digest.clear();
    }
    if !tag.is_empty() {
        name = format!("{name}:{tag}");
    }
    if !digest.is_empty() {
        name = format!("{name}@{digest}");
    }
    *value = Value::String(name);
}

/// Every `containers` and `initContainers` list anywhere in the object (Kustomize's legacy pass).
fn legacy_containers(value: &mut Value, image: &Image, matcher: &Regex) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                legacy_containers(child, image, matcher);
                if (key == "containers" || key == "initContainers")
                    && let Value::Array(items) = child
                {
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        if let Some(image_field) = item.get_mut("image") {
                            update_image(image_field, image, matcher);
                        }
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| legacy_containers(item, image, matcher)),
        _ => {}
    }
}

/// `images:` — one entry: the legacy walk over containers, then the configured field specs.
pub(crate) fn images(resources: &mut ResMap, image: &Image, specs: &[FieldSpec]) -> Result<(), String> {
    let name = image.name.as_deref().unwrap_or("");
    // The name is used as a regular expression, as Kustomize does; one that does not compile
    // matches nothing.
    let Ok(matcher) = Regex::new(&format!("^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$")) else {
        return Ok(());
    };
    for resource in resources.resources.iter_mut().filter(|r| r.kind() != "CustomResourceDefinition") {
        let mut whole = Value::Object(std::mem::take(&mut resource.map));
        legacy_containers(&mut whole, image, &matcher);
        if let Value::Object(map) = whole {
            resource.map = map;
        }
        let id = resource.cur_id();
        for spec in specs.iter().filter(|s| selects(s, &id)) {
            let plain = FieldSpec { create: false, ..spec.clone() };
            apply(&mut resource.map, &plain, None, &mut |node| {
                update_image(node, image, &matcher);
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// `replicas:` — one entry, matched by current or previous name.
pub(crate) fn replicas(resources: &mut ResMap, replica: &Replica, specs: &[FieldSpec]) -> Result<(), String> {
    let name = replica.name.as_deref().unwrap_or("");
    let mut found = false;
    for spec in specs {
        for resource in &mut resources.resources {
            let ids = std::iter::once(resource.cur_id()).chain(resource.prev_ids.iter().cloned());
            if !ids.into_iter().any(|id| id.name == name && selects(spec, &id)) {
                continue;
            }
            found = true;
            apply(&mut resource.map, spec, Some(Create::Scalar), &mut |node| {
                *node = json!(replica.count);
                Ok(())
            })?;
        }
    }
    if !found {
        let gvks: Vec<String> = specs
            .iter()
            .map(|s| {
                let or = |v: &str, d: &str| if v.is_empty() { d.to_owned() } else { v.to_owned() };
                format!("{}.{}.{}", or(&s.kind, "~K"), or(&s.version, "~V"), or(&s.group, "~G"))
            })
            .collect();
        return Err(format!(
            "resource with name {name} does not match a config with the following GVK [{}]",
            gvks.join(" ")
        ));
    }
    Ok(())
}

/// Labels and annotations as a string map, for selector matching.
pub(crate) fn string_map(map: &Map<String, Value>) -> BTreeMap<String, String> {
    map.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect()
}

#[cfg(test)]
mod tests {
    use super::split_image;

    #[test]
    fn image_split() {
        assert_eq!(split_image("nginx"), ("nginx", "", ""));
        assert_eq!(split_image("nginx:1.2"), ("nginx", "1.2", ""));
        assert_eq!(split_image("reg:5000/nginx:1.2"), ("reg:5000/nginx", "1.2", ""));
        assert_eq!(split_image("nginx@sha256:abc"), ("nginx", "", "sha256:abc"));
        assert_eq!(split_image("nginx:1@sha256:abc"), ("nginx", "1", "sha256:abc"));
    }
}
