//! Transformer configuration: where each transformer acts (Kustomize's "field specs").

use super::types::FieldSpec;

/// Field specs per transformer, plus name references. Starts from Kustomize's defaults and grows
/// with `configurations` files and `crds`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TransformerConfig {
    pub(crate) name_prefix: Vec<FieldSpec>,
    pub(crate) name_suffix: Vec<FieldSpec>,
    pub(crate) namespace: Vec<FieldSpec>,
    pub(crate) common_labels: Vec<FieldSpec>,
    pub(crate) labels: Vec<FieldSpec>,
    pub(crate) template_labels: Vec<FieldSpec>,
    pub(crate) common_annotations: Vec<FieldSpec>,
    pub(crate) name_reference: Vec<NameReference>,
    pub(crate) var_reference: Vec<FieldSpec>,
    pub(crate) images: Vec<FieldSpec>,
    pub(crate) replicas: Vec<FieldSpec>,
    /// Whether anything was added to the defaults; merging an untouched configuration into
    /// another adds nothing, and is skipped (it is quadratic in the ~300 default specs).
    pub(crate) customized: bool,
}

/// Objects of kind `target` are referred to by name at `referrers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameReference {
    pub(crate) target: FieldSpec,
    pub(crate) referrers: Vec<FieldSpec>,
}

const DEFAULTS: &str = include_str!("defaults.fieldspecs");

/// `group/version/kind` with `-` for any; split from the right, so a group that itself holds a
/// `/` (a Kustomize quirk kept on purpose) stays whole.
fn parse_gvk(text: &str) -> FieldSpec {
    let field = |p: Option<&str>| match p {
        None | Some("-") => String::new(),
        Some(p) => p.to_owned(),
    };
    let mut parts = text.rsplitn(3, '/');
    let kind = field(parts.next());
    let version = field(parts.next());
    let group = field(parts.next());
    FieldSpec { group, version, kind, ..FieldSpec::default() }
}

fn parse_spec(gvk: &str, path: &str, flag: Option<&str>) -> FieldSpec {
    FieldSpec { path: path.to_owned(), create: flag == Some("create"), ..parse_gvk(gvk) }
}

/// Adds `spec` to `list` unless an equal one is there; a spec with the same GVK and path but a
/// different `create` is an error in Kustomize, and the existing one is kept here.
pub(crate) fn merge_spec(list: &mut Vec<FieldSpec>, spec: FieldSpec) {
    if !list
        .iter()
        .any(|s| s.group == spec.group && s.version == spec.version && s.kind == spec.kind && s.path == spec.path)
    {
        list.push(spec);
    }
}

impl TransformerConfig {
    /// Kustomize's built-in configuration.
    pub(crate) fn defaults() -> TransformerConfig {
        let mut config = TransformerConfig::default();
        for line in DEFAULTS.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let mut words = line.split_whitespace();
            let (Some(first), Some(second)) = (words.next(), words.next()) else { continue };
            if line.starts_with(' ') {
                let spec = parse_spec(first, second, words.next());
                if let Some(last) = config.name_reference.last_mut() {
                    last.referrers.push(spec);
                }
                continue;
            }
            if first == "nameReference" {
                config.name_reference.push(NameReference { target: parse_gvk(second), referrers: Vec::new() });
                continue;
            }
            let Some(path) = words.next() else { continue };
            let spec = parse_spec(second, path, words.next());
            if let Some(list) = config.list_mut(first) {
                list.push(spec);
            }
        }
        config
    }

    /// The field-spec list a `configurations` file calls `name`.
    pub(crate) fn list_mut(&mut self, name: &str) -> Option<&mut Vec<FieldSpec>> {
        Some(match name {
            "namePrefix" => &mut self.name_prefix,
            "nameSuffix" => &mut self.name_suffix,
            "namespace" => &mut self.namespace,
            "commonLabels" => &mut self.common_labels,
            "labels" => &mut self.labels,
            "templateLabels" => &mut self.template_labels,
            "commonAnnotations" => &mut self.common_annotations,
            "varReference" => &mut self.var_reference,
            "images" => &mut self.images,
            "replicas" => &mut self.replicas,
            _ => return None,
        })
    }

    /// Adds name-reference referrers for a target, merging with an existing entry.
    pub(crate) fn add_name_reference(&mut self, target: FieldSpec, referrers: Vec<FieldSpec>) {
        if let Some(existing) = self.name_reference.iter_mut().find(|n| {
            n.target.group == target.group && n.target.version == target.version && n.target.kind == target.kind
        }) {
            for r in referrers {
                merge_spec(&mut existing.referrers, r);
            }
        } else {
            self.name_reference.push(NameReference { target, referrers });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let config = TransformerConfig::defaults();
        assert_eq!(config.name_prefix.len(), 1);
        assert_eq!(config.name_prefix[0].path, "metadata/name");
        assert!(
            config
                .common_labels
                .iter()
                .any(|s| s.kind == "Deployment" && s.path == "spec/selector/matchLabels" && s.create)
        );
        let cm = config.name_reference.iter().find(|n| n.target.kind == "ConfigMap").expect("ConfigMap refs");
        assert_eq!(cm.target.version, "v1");
        assert!(
            cm.referrers
                .iter()
                .any(|r| r.kind == "Deployment" && r.path == "spec/template/spec/volumes/configMap/name")
        );
        let ingress_class =
            config.name_reference.iter().find(|n| n.target.kind == "IngressClass").expect("IngressClass");
        assert_eq!(ingress_class.target.group, "networking.k8s.io/v1", "Kustomize's quirk is kept");
        assert_eq!(config.images.len(), 6);
    }
}

/// A `configurations` file: field-spec lists by transformer, and name references.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    name_reference: Vec<NameReferenceEntry>,
    #[serde(flatten)]
    lists: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct NameReferenceEntry {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

/// An OpenAPI definition as Kustomize reads it: `{"Schema": {...}}` (Go's field name), or the
/// schema itself.
fn schema_of(definition: &serde_json::Value) -> &serde_json::Value {
    definition.get("Schema").unwrap_or(definition)
}

fn read_yaml(text: &str, file: &str) -> Result<serde_json::Value, String> {
    use gitops_core::yaml::{ReadOptions, Schema, parse_documents};
    let docs = parse_documents(text, &ReadOptions::default().schema(Schema::Kubectl))
        .map_err(|e| format!("{file}:{}: invalid YAML: {e}", e.line))?;
    Ok(docs.into_iter().next().map_or(serde_json::Value::Null, |d| d.value))
}

impl TransformerConfig {
    /// Merges a `configurations` file into this configuration.
    pub(crate) fn merge_file(&mut self, text: &str, file: &str) -> Result<(), String> {
        self.customized = true;
        let value = read_yaml(text, file)?;
        if value.is_null() {
            return Ok(());
        }
        let parsed: ConfigFile =
            serde_json::from_value(value).map_err(|e| format!("{file}: invalid configuration: {e}"))?;
        for entry in parsed.name_reference {
            let target =
                FieldSpec { group: entry.group, version: entry.version, kind: entry.kind, ..FieldSpec::default() };
            self.add_name_reference(target, entry.field_specs);
        }
        for (name, specs) in parsed.lists {
            let specs: Vec<FieldSpec> = serde_json::from_value(specs).map_err(|e| format!("{file}: `{name}`: {e}"))?;
            if let Some(list) = self.list_mut(&name) {
                for spec in specs {
                    merge_spec(list, spec);
                }
            }
        }
        Ok(())
    }

    /// Merges another configuration (a base's) into this one.
    pub(crate) fn merge(&mut self, other: &TransformerConfig) {
        if !other.customized {
            return;
        }
        self.customized = true;
        let lists = [
            (&mut self.name_prefix, &other.name_prefix),
            (&mut self.name_suffix, &other.name_suffix),
            (&mut self.namespace, &other.namespace),
            (&mut self.common_labels, &other.common_labels),
            (&mut self.labels, &other.labels),
            (&mut self.template_labels, &other.template_labels),
            (&mut self.common_annotations, &other.common_annotations),
            (&mut self.var_reference, &other.var_reference),
            (&mut self.images, &other.images),
            (&mut self.replicas, &other.replicas),
        ];
        for (mine, theirs) in lists {
            for spec in theirs {
                merge_spec(mine, spec.clone());
            }
        }
        for reference in &other.name_reference {
            self.add_name_reference(reference.target.clone(), reference.referrers.clone());
        }
    }

    /// Merges a legacy `crds` file: OpenAPI definitions whose properties carry
    /// `x-kubernetes-object-ref-*`, `x-kubernetes-annotation`, `x-kubernetes-label-selector` and
    /// `x-kubernetes-identity` extensions.
    pub(crate) fn merge_crd_file(&mut self, text: &str, file: &str) -> Result<(), String> {
        self.customized = true;
        let value = read_yaml(text, file)?;
        let serde_json::Value::Object(definitions) = value else {
            return Err(format!("unable to parse open API definition from '{file}'"));
        };
        for (name, definition) in &definitions {
            let properties = schema_of(definition).get("properties").and_then(serde_json::Value::as_object);
            let looks_like_a_kind = properties
                .is_some_and(|p| p.contains_key("kind") && p.contains_key("apiVersion") && p.contains_key("metadata"));
            if !looks_like_a_kind {
                continue;
            }
            let kind = name.rsplit('.').next().unwrap_or(name).to_owned();
            let gvk = FieldSpec { kind, ..FieldSpec::default() };
            self.load_crd_type(&definitions, name, &gvk, &mut Vec::new(), 0);
        }
        Ok(())
    }

    fn load_crd_type(
        &mut self,
        definitions: &serde_json::Map<String, serde_json::Value>,
        type_name: &str,
        gvk: &FieldSpec,
        path: &mut Vec<String>,
        depth: usize,
    ) {
        let type_name = type_name.trim_start_matches("#/definitions/");
        let Some(properties) =
            definitions.get(type_name).and_then(|d| schema_of(d).get("properties")).and_then(|p| p.as_object())
        else {
            return;
        };
        if depth > 32 {
            return;
        }
        let spec_at = |path: &[String], extra: Option<&str>| {
            let mut p = path.join("/");
            if let Some(extra) = extra {
                p = format!("{p}/{extra}");
            }
            FieldSpec { path: p, ..gvk.clone() }
        };
        for (property, schema) in properties {
            path.push(property.clone());
            let extension = |key: &str| schema.get(key).and_then(serde_json::Value::as_str);
            if extension("x-kubernetes-annotation").is_some() {
                merge_spec(&mut self.common_annotations, spec_at(path, None));
            }
            if extension("x-kubernetes-label-selector").is_some() {
                merge_spec(&mut self.common_labels, spec_at(path, None));
            }
            if extension("x-kubernetes-identity").is_some() {
                merge_spec(&mut self.name_prefix, spec_at(path, None));
            }
            if let (Some(version), Some(kind)) =
                (extension("x-kubernetes-object-ref-api-version"), extension("x-kubernetes-object-ref-kind"))
            {
                let key = extension("x-kubernetes-object-ref-name-key").unwrap_or("name");
                let target = FieldSpec { version: version.to_owned(), kind: kind.to_owned(), ..FieldSpec::default() };
                self.add_name_reference(target, vec![spec_at(path, Some(key))]);
            }
            if let Some(reference) = schema.get("$ref").and_then(serde_json::Value::as_str) {
                let reference = reference.to_owned();
                self.load_crd_type(definitions, &reference, gvk, path, depth + 1);
            }
            path.pop();
        }
    }
}
