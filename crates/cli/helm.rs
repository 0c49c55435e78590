//! `gitops render CHART`: Helm flags → chart options, and the `helm template` text.

use std::sync::Arc;

use anyhow::Context;
use gitops_core::DiskTree;
use gitops_render::helm::chart::{self, Capabilities, KubeVersion, TemplateOptions, ValueOptions};

use crate::flags::{HelmArgs, SourceArgs};

/// The chart options the flags ask for.
pub(crate) fn template_options(args: &HelmArgs, namespace: Option<&str>) -> anyhow::Result<TemplateOptions> {
    let mut values = ValueOptions::default();
    for file in &args.values {
        let text = if file.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin()).context("cannot read values from stdin")?
        } else {
            std::fs::read_to_string(file).with_context(|| format!("cannot read the values file {}", file.display()))?
        };
        values = values.file(file.display().to_string(), text);
    }
    values.set_json.clone_from(&args.set_json);
    values.set.clone_from(&args.set);
    values.set_string.clone_from(&args.set_string);
    values.set_file.clone_from(&args.set_file);
    values = values
        .file_reader(Arc::new(|path: &str| std::fs::read_to_string(path).map_err(|e| format!("open {path}: {e}"))));
    let mut capabilities = Capabilities::default().api_versions(&args.api_versions);
    if let Some(kv) = &args.kube_version {
        capabilities = capabilities.kube_version(KubeVersion::parse(kv).map_err(anyhow::Error::msg)?);
    }
    let mut options = TemplateOptions::default()
        .release_name(&args.release)
        .values(values)
        .capabilities(capabilities)
        .include_crds(args.include_crds)
        .skip_tests(args.skip_tests)
        .is_upgrade(args.is_upgrade)
        .skip_schema_validation(args.skip_schema_validation);
    if let Some(ns) = namespace {
        options = options.namespace(ns);
    }
    Ok(options)
}

/// What `helm template` prints for a local chart folder or archive, or `None` when PATH is
/// not a chart (or comes from `--repo`, which renders through the common path).
pub(crate) fn render_chart(
    source: &SourceArgs,
    args: &HelmArgs,
    namespace: Option<&str>,
) -> anyhow::Result<Option<String>> {
    if source.git.repo.is_some() {
        return Ok(None);
    }
    let (tree, path) = DiskTree::for_path(&source.path).with_context(|| format!("cannot open {}", source.path))?;
    let is_archive = std::path::Path::new(&source.path).extension().is_some_and(|e| e == "tgz");
    if !is_archive && !chart::is_chart(&tree, &path) {
        return Ok(None);
    }
    let options = template_options(args, namespace)?;
    let rendered = chart::template(&tree, &path, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some(rendered.to_helm_output()))
}
