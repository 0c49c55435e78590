//! The Kustomization file, as Kustomize v5 reads it: every field, strict about unknown ones.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `kustomization.yaml`: a `Kustomization` or a `Component`.
///
/// Field names and meanings follow Kustomize v5.8; unknown fields are errors. Legacy fields
/// (`bases`, `imageTags`, `commonLabels`, `patchesStrategicMerge`, `patchesJson6902`, `vars`,
/// `configMapGenerator[].env`) are read and folded into their modern forms by
/// [`Kustomization::normalize`], as `kustomize edit fix` would.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)] // each field is Kustomize's field of the same name
pub struct Kustomization {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub metadata: Option<KMetadata>,
    pub openapi: Option<BTreeMap<String, String>>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub namespace: Option<String>,
    pub common_labels: Option<BTreeMap<String, String>>,
    pub labels: Option<Vec<Label>>,
    pub common_annotations: Option<BTreeMap<String, String>>,
    pub patches_strategic_merge: Option<Vec<String>>,
    #[serde(rename = "patchesJson6902")]
    pub patches_json6902: Option<Vec<Patch>>,
    pub patches: Option<Vec<Patch>>,
    pub images: Option<Vec<Image>>,
    pub image_tags: Option<Vec<Image>>,
    pub replacements: Option<Vec<ReplacementField>>,
    pub replicas: Option<Vec<Replica>>,
    pub vars: Option<Vec<Var>>,
    pub sort_options: Option<SortOptions>,
    pub resources: Option<Vec<String>>,
    pub components: Option<Vec<String>>,
    pub crds: Option<Vec<String>>,
    pub bases: Option<Vec<String>>,
    pub config_map_generator: Option<Vec<GeneratorArgs>>,
    pub secret_generator: Option<Vec<GeneratorArgs>>,
    pub helm_globals: Option<serde_json::Value>,
    pub helm_charts: Option<Vec<serde_json::Value>>,
    pub helm_chart_inflation_generator: Option<Vec<serde_json::Value>>,
    pub generator_options: Option<GeneratorOptions>,
    pub configurations: Option<Vec<String>>,
    pub generators: Option<Vec<String>>,
    pub transformers: Option<Vec<String>>,
    pub validators: Option<Vec<String>>,
    pub build_metadata: Option<Vec<String>>,
}

/// `metadata` of a Kustomization (informational).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct KMetadata {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An entry of `labels`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Label {
    pub pairs: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
    pub fields: Option<Vec<FieldSpec>>,
}

/// Where a transformer acts: a path in objects of a group/version/kind.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FieldSpec {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub create: bool,
}

/// A patch: strategic merge or JSON 6902, inline or from a file, with an optional target.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs, clippy::struct_field_names)] // the names are Kustomize's field names
pub struct Patch {
    pub path: Option<String>,
    pub patch: Option<String>,
    pub target: Option<Selector>,
    pub options: Option<PatchOptions>,
}

/// `patches[].options`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct PatchOptions {
    #[serde(default)]
    pub allow_name_change: bool,
    #[serde(default)]
    pub allow_kind_change: bool,
}

/// Selects resources: by group/version/kind/name/namespace (regular expressions) and by label or
/// annotation selector.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs, clippy::struct_field_names)] // the names are Kustomize's field names
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

/// An entry of `images`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Image {
    pub name: Option<String>,
    pub new_name: Option<String>,
    pub tag_suffix: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
}

/// An entry of `replicas`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Replica {
    pub name: Option<String>,
    pub count: i64,
}

/// An entry of `replacements`: inline, or a `path` to a file of replacements.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ReplacementField {
    pub path: Option<String>,
    pub source: Option<SourceSelector>,
    pub targets: Option<Vec<TargetSelector>>,
    pub source_value: Option<String>,
}

/// Where a replacement reads its value.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct SourceSelector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub field_path: Option<String>,
    pub options: Option<FieldOptions>,
}

/// Where a replacement writes its value.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct TargetSelector {
    pub select: Option<Selector>,
    pub reject: Option<Vec<Selector>>,
    pub field_paths: Option<Vec<String>>,
    pub options: Option<FieldOptions>,
}

/// How a replacement splits or creates fields.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FieldOptions {
    pub delimiter: Option<String>,
    #[serde(default)]
    pub index: i64,
    pub encoding: Option<String>,
    #[serde(default)]
    pub create: bool,
}

/// A legacy `vars` entry.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Var {
    pub name: String,
    pub objref: VarTarget,
    pub fieldref: Option<VarFieldRef>,
}

/// The object a var reads.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct VarTarget {
    pub api_version: Option<String>,
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
}

/// The field a var reads (default `metadata.name`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct VarFieldRef {
    /// Go's JSON decoding matches names case-insensitively, and Kustomize's own examples write
    /// `fieldpath`.
    #[serde(alias = "fieldpath")]
    pub field_path: Option<String>,
}

/// `sortOptions`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct SortOptions {
    pub order: Option<String>,
    pub legacy_sort_options: Option<LegacySortOptions>,
}

/// `sortOptions.legacySortOptions`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct LegacySortOptions {
    pub order_first: Option<Vec<String>>,
    pub order_last: Option<Vec<String>>,
}

/// A `configMapGenerator` or `secretGenerator` entry.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct GeneratorArgs {
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub behavior: Option<String>,
    pub literals: Option<Vec<String>>,
    pub files: Option<Vec<String>>,
    pub envs: Option<Vec<String>>,
    pub env: Option<String>,
    pub options: Option<GeneratorOptions>,
    /// Secrets only.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `generatorOptions`, and a generator's `options`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct GeneratorOptions {
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub disable_name_suffix_hash: bool,
    #[serde(default)]
    pub immutable: bool,
}

impl Kustomization {
    /// Whether this is a `Component`.
    pub fn is_component(&self) -> bool {
        self.kind.as_deref() == Some("Component")
    }

    /// Folds the legacy fields that Kustomize itself folds before a build: `bases` into
    /// `resources`, `imageTags` into `images`, a generator's `env` into `envs`. The other legacy
    /// fields (`commonLabels`, `patchesStrategicMerge`, `patchesJson6902`, `vars`) stay: they run
    /// as transformers of their own, at their own place in the order.
    pub fn normalize(&mut self) {
        if let Some(bases) = self.bases.take() {
            self.resources.get_or_insert_with(Vec::new).extend(bases);
        }
        if let Some(tags) = self.image_tags.take() {
            self.images.get_or_insert_with(Vec::new).extend(tags);
        }
        for generator in
            self.config_map_generator.iter_mut().flatten().chain(self.secret_generator.iter_mut().flatten())
        {
            if let Some(env) = generator.env.take() {
                generator.envs.get_or_insert_with(Vec::new).push(env);
            }
        }
    }
}
