//! [`HelmRenderer`]: a chart folder as a [`Renderer`].

use gitops_core::{FileTree, ManifestSet, parse_manifests};

use super::chart::{self, ChartError};
use crate::{RenderError, RenderOptions, Renderer};

/// Renders a Helm chart folder (one holding `Chart.yaml`) as `helm template` does, with
/// [`RenderOptions::helm`] (release name, values, capabilities). Every printed document
/// becomes a manifest whose origin is its template (`chart/templates/x.yaml`); hooks are
/// included with their `helm.sh/hook` annotations, which the plan maps to phases
/// (`gitops-plan`: `pre-install`/`pre-upgrade` → PreSync, `post-install`/`post-upgrade` →
/// PostSync; delete, rollback and test hooks are left out of a sync).
///
/// When [`RenderOptions::namespace`] is set it is the release namespace and is given to
/// namespaced objects without one.
#[derive(Debug, Clone, Copy, Default)]
pub struct HelmRenderer;

impl Renderer for HelmRenderer {
    fn render(&self, tree: &dyn FileTree, path: &str, options: &RenderOptions) -> Result<ManifestSet, RenderError> {
        let mut helm = options.helm.clone();
        if let Some(ns) = &options.namespace {
            helm.namespace.clone_from(ns);
        }
        let rendered = chart::template(tree, path, &helm).map_err(|e| RenderError::Helm(Box::new(e)))?;
        let read = options.plain_read_options();
        let docs = rendered
            .crds
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .chain(rendered.manifests.iter().map(|m| (m.path.as_str(), m.content.as_str())))
            .chain(rendered.hooks.iter().map(|h| (h.path.as_str(), h.content.as_str())));
        let mut set = ManifestSet::new();
        for (source, text) in docs {
            let mut manifests = parse_manifests(text, source, &read)?;
            crate::directory::fill_namespace(&mut manifests, options.namespace.as_deref());
            set.extend(manifests)?;
        }
        Ok(set)
    }
}

impl From<ChartError> for RenderError {
    fn from(error: ChartError) -> Self {
        RenderError::Helm(Box::new(error))
    }
}
