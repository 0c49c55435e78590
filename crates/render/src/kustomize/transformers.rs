//! Running one kustomization's transformers, in Kustomize's order.

use super::build::{Accumulated, Files};
use super::config::merge_spec;
use super::error::KustomizeError;
use super::load::KustFile;
use super::patches::{self, Patch};
use super::transform;
use super::types::{FieldSpec, Label};

/// Kustomize v5.8's order: legacy strategic-merge patches, patches, namespace, prefix, suffix,
/// labels, annotations, legacy JSON 6902 patches, replicas, images, replacements.
pub(crate) fn run(kust: &KustFile, files: &Files<'_>, acc: &mut Accumulated) -> Result<(), KustomizeError> {
    let k = &kust.kustomization;
    let err = |message: String| KustomizeError::Build { file: kust.file.clone(), message };

    if let Some(entries) = &k.patches_strategic_merge {
        for entry in entries {
            let patch = Patch::from_strategic_merge_entry(entry, files).map_err(err)?;
            patches::apply(&mut acc.resources, &patch).map_err(err)?;
        }
    }
    for entry in k.patches.iter().flatten() {
        let patch = Patch::from_entry(entry, files).map_err(err)?;
        patches::apply(&mut acc.resources, &patch).map_err(err)?;
    }
    if let Some(ns) = k.namespace.as_deref().filter(|ns| !ns.is_empty()) {
        transform::namespace(&mut acc.resources, ns, &acc.config.namespace).map_err(err)?;
    }
    if let Some(prefix) = k.name_prefix.as_deref().filter(|p| !p.is_empty()) {
        transform::affix(&mut acc.resources, prefix, "", &acc.config.name_prefix).map_err(err)?;
    }
    if let Some(suffix) = k.name_suffix.as_deref().filter(|s| !s.is_empty()) {
        transform::affix(&mut acc.resources, "", suffix, &acc.config.name_suffix).map_err(err)?;
    }
    for label in k.labels.iter().flatten() {
        let specs = label_specs(label, acc);
        let pairs = label.pairs.clone().unwrap_or_default();
        transform::set_entries(&mut acc.resources, &pairs, &specs).map_err(err)?;
    }
    if let Some(common) = k.common_labels.as_ref().filter(|c| !c.is_empty()) {
        transform::set_entries(&mut acc.resources, common, &acc.config.common_labels).map_err(err)?;
    }
    if let Some(annotations) = k.common_annotations.as_ref().filter(|a| !a.is_empty()) {
        transform::set_entries(&mut acc.resources, annotations, &acc.config.common_annotations).map_err(err)?;
    }
    for entry in k.patches_json6902.iter().flatten() {
        let patch = Patch::from_legacy_json6902(entry, files).map_err(err)?;
        patches::apply(&mut acc.resources, &patch).map_err(err)?;
    }
    for replica in k.replicas.iter().flatten() {
        transform::replicas(&mut acc.resources, replica, &acc.config.replicas).map_err(err)?;
    }
    for image in k.images.iter().flatten() {
        transform::images(&mut acc.resources, image, &acc.config.images).map_err(err)?;
    }
    if let Some(replacements) = k.replacements.as_ref().filter(|r| !r.is_empty()) {
        super::replacements::run(&mut acc.resources, replacements, files).map_err(err)?;
    }
    super::plugins::run_transformers(kust, files, acc)
}

/// The field specs of one `labels` entry: its own `fields`, the configured `labels` specs, then
/// either the commonLabels specs (with selectors) or the template specs and `metadata/labels`.
fn label_specs(label: &Label, acc: &Accumulated) -> Vec<FieldSpec> {
    let mut specs = label.fields.clone().unwrap_or_default();
    for spec in &acc.config.labels {
        merge_spec(&mut specs, spec.clone());
    }
    if label.include_selectors {
        for spec in &acc.config.common_labels {
            merge_spec(&mut specs, spec.clone());
        }
    } else {
        if label.include_templates {
            for spec in &acc.config.template_labels {
                merge_spec(&mut specs, spec.clone());
            }
        }
        merge_spec(&mut specs, FieldSpec { path: "metadata/labels".into(), create: true, ..FieldSpec::default() });
    }
    specs
}
