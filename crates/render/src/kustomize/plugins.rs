//! `transformers:` and `generators:` entries that configure Kustomize's built-in plugins
//! (`apiVersion: builtin`). External plugins (Go, exec, containers) and KRM functions are refused.

use std::collections::BTreeMap;

use gitops_core::Origin;
use gitops_core::yaml::{ReadOptions, Schema, parse_documents};
use serde::Deserialize;
use serde_json::Value;

use super::build::{Accumulated, Files};
use super::error::KustomizeError;
use super::generate::{absorb, generate};
use super::load::KustFile;
use super::patches::{self, Patch};
use super::transform::{self, NamespaceOptions, Subjects};
use super::types::{FieldSpec, GeneratorArgs, GeneratorOptions, Image, ReplacementField, Replica, Selector};

/// The built-in plugin configurations an entry holds (a file path, or inline YAML).
fn load_configs(
    kust: &KustFile,
    files: &Files<'_>,
    field: &str,
    entries: &[String],
) -> Result<Vec<Value>, KustomizeError> {
    let unsupported =
        |reason: String| KustomizeError::Unsupported { file: kust.file.clone(), field: field.to_owned(), reason };
    let mut configs = Vec::new();
    for entry in entries {
        let (text, source) = if entry.contains('\n') {
            (entry.clone(), "inline configuration".to_owned())
        } else {
            let (full, text) = files.read_text(entry).map_err(|message| KustomizeError::Load {
                path: entry.clone(),
                message,
                chain: vec![kust.file.clone()],
                source: None,
            })?;
            (text, full)
        };
        let docs = parse_documents(&text, &ReadOptions::default().schema(Schema::Kubectl)).map_err(|e| {
            KustomizeError::Build {
                file: kust.file.clone(),
                message: format!("{source}:{}: invalid YAML: {e}", e.line),
            }
        })?;
        for doc in docs.into_iter().map(|d| d.value).filter(|v| !v.is_null()) {
            let api_version = doc.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
            let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned();
            if doc.pointer("/metadata/annotations/config.kubernetes.io~1function").is_some() {
                return Err(unsupported(format!("{source}: KRM functions ({kind}) are not run")));
            }
            if api_version != "builtin" {
                return Err(unsupported(format!(
                    "{source}: external plugin {api_version}/{kind} is not run; only `apiVersion: builtin` configurations are"
                )));
            }
            configs.push(doc);
        }
    }
    Ok(configs)
}

fn parse<T: for<'de> Deserialize<'de>>(config: &Value, kind: &str) -> Result<T, String> {
    serde_json::from_value(config.clone()).map_err(|e| format!("invalid {kind} configuration: {e}"))
}

fn name_of(config: &Value) -> (Option<String>, Option<String>) {
    let text = |p: &str| config.pointer(p).and_then(Value::as_str).map(str::to_owned);
    (text("/metadata/name"), text("/metadata/namespace"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceConfig {
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
    #[serde(default)]
    unset_only: bool,
    #[serde(default)]
    set_role_binding_subjects: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AffixConfig {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    suffix: String,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntriesConfig {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageConfig {
    image_tag: Image,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplicaConfig {
    replica: Replica,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchConfig {
    path: Option<String>,
    patch: Option<String>,
    target: Option<Selector>,
    options: Option<super::types::PatchOptions>,
    #[serde(default)]
    paths: Vec<String>,
    patches: Option<String>,
    json_op: Option<String>,
}

#[derive(Deserialize)]
struct ReplacementConfig {
    #[serde(default)]
    replacements: Vec<ReplacementField>,
}

/// Runs the `transformers:` entries, after the kustomization's own fields.
pub(crate) fn run_transformers(
    kust: &KustFile,
    files: &Files<'_>,
    acc: &mut Accumulated,
) -> Result<(), KustomizeError> {
    let Some(entries) = &kust.kustomization.transformers else { return Ok(()) };
    let err = |message: String| KustomizeError::Build { file: kust.file.clone(), message };
    for config in load_configs(kust, files, "transformers", entries)? {
        let kind = config.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned();
        let resources = &mut acc.resources;
        match kind.as_str() {
            "NamespaceTransformer" => {
                let c: NamespaceConfig = parse(&config, &kind).map_err(err)?;
                let namespace = name_of(&config).1.unwrap_or_default();
                let subjects = match c.set_role_binding_subjects.as_str() {
                    "" | "defaultOnly" => Subjects::DefaultOnly,
                    "allServiceAccounts" => Subjects::AllServiceAccounts,
                    "none" => Subjects::None,
                    other => return Err(err(format!("invalid value {other:?} for setRoleBindingSubjects"))),
                };
                if !namespace.is_empty() {
                    let options = NamespaceOptions { unset_only: c.unset_only, subjects };
                    transform::namespace_with(resources, &namespace, &c.field_specs, options).map_err(err)?;
                }
            }
            "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
                let c: AffixConfig = parse(&config, &kind).map_err(err)?;
                if !c.prefix.is_empty() {
                    transform::affix(resources, &c.prefix, "", &c.field_specs).map_err(err)?;
                }
                if !c.suffix.is_empty() {
                    transform::affix(resources, "", &c.suffix, &c.field_specs).map_err(err)?;
                }
            }
            "LabelTransformer" | "AnnotationsTransformer" => {
                let c: EntriesConfig = parse(&config, &kind).map_err(err)?;
                let entries = if kind == "LabelTransformer" { &c.labels } else { &c.annotations };
                transform::set_entries(resources, entries, &c.field_specs).map_err(err)?;
            }
            "ImageTagTransformer" => {
                let c: ImageConfig = parse(&config, &kind).map_err(err)?;
                transform::images(resources, &c.image_tag, &c.field_specs).map_err(err)?;
            }
            "ReplicaCountTransformer" => {
                let c: ReplicaConfig = parse(&config, &kind).map_err(err)?;
                transform::replicas(resources, &c.replica, &c.field_specs).map_err(err)?;
            }
            "PatchTransformer" | "PatchJson6902Transformer" => {
                let c: PatchConfig = parse(&config, &kind).map_err(err)?;
                let entry = super::types::Patch {
                    path: c.path,
                    patch: c.patch.or(c.json_op),
                    target: c.target,
                    options: c.options,
                };
                let patch = if kind == "PatchTransformer" {
                    Patch::from_entry(&entry, files)
                } else {
                    Patch::from_legacy_json6902(&entry, files)
                }
                .map_err(err)?;
                patches::apply(resources, &patch).map_err(err)?;
            }
            "PatchStrategicMergeTransformer" => {
                let c: PatchConfig = parse(&config, &kind).map_err(err)?;
                for entry in c.paths.iter().chain(c.patches.iter()) {
                    let patch = Patch::from_strategic_merge_entry(entry, files).map_err(err)?;
                    patches::apply(resources, &patch).map_err(err)?;
                }
            }
            "ReplacementTransformer" => {
                let c: ReplacementConfig = parse(&config, &kind).map_err(err)?;
                super::replacements::run(resources, &c.replacements, files).map_err(err)?;
            }
            other => {
                return Err(KustomizeError::Unsupported {
                    file: kust.file.clone(),
                    field: "transformers".into(),
                    reason: format!("the built-in plugin {other} is not supported"),
                });
            }
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct GeneratorConfig {
    behavior: Option<String>,
    literals: Option<Vec<String>>,
    files: Option<Vec<String>>,
    envs: Option<Vec<String>>,
    env: Option<String>,
    options: Option<GeneratorOptions>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// Runs the `generators:` entries, after the kustomization's own generators.
pub(crate) fn run_generators(kust: &KustFile, files: &Files<'_>, acc: &mut Accumulated) -> Result<(), KustomizeError> {
    let Some(entries) = &kust.kustomization.generators else { return Ok(()) };
    let err = |message: String| KustomizeError::Build { file: kust.file.clone(), message };
    for config in load_configs(kust, files, "generators", entries)? {
        let kind = config.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned();
        let secret = match kind.as_str() {
            "ConfigMapGenerator" => false,
            "SecretGenerator" => true,
            other => {
                return Err(KustomizeError::Unsupported {
                    file: kust.file.clone(),
                    field: "generators".into(),
                    reason: format!("the built-in plugin {other} is not supported"),
                });
            }
        };
        let c: GeneratorConfig = parse(&config, &kind).map_err(err)?;
        let (name, namespace) = name_of(&config);
        let mut args = GeneratorArgs {
            name,
            namespace,
            behavior: c.behavior,
            literals: c.literals,
            files: c.files,
            envs: c.envs,
            env: None,
            options: c.options,
            kind: c.kind,
        };
        if let Some(env) = c.env {
            args.envs.get_or_insert_with(Vec::new).push(env);
        }
        let resource = generate(&args, None, secret, files, Origin::generated(kust.file.clone())).map_err(err)?;
        absorb(&mut acc.resources, resource).map_err(err)?;
    }
    Ok(())
}
