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

#[cfg(test)]
mod tests {
    use gitops_core::DiskTree;

    use crate::{RenderOptions, render};

    fn write(dir: &std::path::Path, path: &str, text: &str) {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("has parent")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    }

    #[test]
    fn charts_are_detected_and_rendered_with_hooks_and_the_namespace() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "app/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n");
        write(dir.path(), "app/values.yaml", "replicas: 2\n");
        write(
            dir.path(),
            "app/templates/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels: {ns: {{ .Release.Namespace }}}\nspec:\n  replicas: {{ .Values.replicas }}\n",
        );
        write(
            dir.path(),
            "app/templates/hook.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations: {helm.sh/hook: pre-install}\n",
        );
        write(dir.path(), "app/templates/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n");
        let tree = DiskTree::new(dir.path()).expect("tree");
        let mut helm = super::chart::TemplateOptions::default().release_name("shop-web");
        helm.values = super::chart::ValueOptions::default().set("replicas=3");
        let set = render(&tree, "app", &RenderOptions::default().namespace("shop").helm(helm)).expect("renders");
        let refs: Vec<String> = set.iter().map(|m| m.object_ref().to_string()).collect();
        assert_eq!(refs, ["Namespace/shop", "Deployment/shop/shop-web", "Job/shop/migrate"]);
        let deploy = &set.as_slice()[1];
        assert_eq!(deploy.origin.file, "web/templates/deploy.yaml");
        assert_eq!(deploy.object.pointer("/spec/replicas"), Some(&serde_json::json!(3)));
        assert_eq!(deploy.object.label("ns"), Some("shop"));

        write(dir.path(), "app/templates/bad.yaml", "{{ required \"db.host is required\" .Values.db }}\n");
        let err = render(&tree, "app", &RenderOptions::default()).expect_err("required fails");
        assert_eq!(err.to_string(), "execution error at (web/templates/bad.yaml:1:3): db.host is required");
    }
}
