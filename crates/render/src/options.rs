//! Options shared by every renderer.

use gitops_core::yaml::{Budget, ReadOptions, Schema};

use crate::kustomize::LoadRestrictor;

/// Options for rendering.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Set on namespaced objects that have no namespace (none by default, as `kubectl kustomize`).
    pub namespace: Option<String>,
    /// The largest file that will be read, in bytes; larger files fail before they are read.
    pub max_file_size: u64,
    /// YAML reading limits.
    pub budget: Budget,
    /// Whether directories are walked recursively (default true).
    pub recursive: bool,
    /// Which files a kustomization may read (default: its own folder and below).
    pub load_restrictor: LoadRestrictor,
    /// Fetches remote Kustomize resources (Git URLs); without one they are an error.
    pub remote: Option<std::sync::Arc<dyn crate::kustomize::RemoteResolver>>,
    /// How Helm charts are rendered: release name, values, capabilities. When
    /// [`RenderOptions::namespace`] is set it is also the release namespace.
    pub helm: crate::helm::chart::TemplateOptions,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            namespace: None,
            max_file_size: 16 << 20,
            budget: Budget::default(),
            recursive: true,
            load_restrictor: LoadRestrictor::RootOnly,
            remote: None,
            helm: crate::helm::chart::TemplateOptions::default(),
        }
    }
}

impl RenderOptions {
    /// Sets the namespace given to namespaced objects that have none.
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Sets the largest file that will be read.
    #[must_use]
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// Sets the YAML reading limits.
    #[must_use]
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// Walks directories recursively (true) or reads only the top level (false).
    #[must_use]
    pub fn recursive(mut self, recursive: bool) -> Self {
        self.recursive = recursive;
        self
    }

    /// Sets which files a kustomization may read.
    #[must_use]
    pub fn load_restrictor(mut self, restrictor: LoadRestrictor) -> Self {
        self.load_restrictor = restrictor;
        self
    }

    /// Sets the resolver for remote Kustomize resources.
    #[must_use]
    pub fn remote(mut self, resolver: std::sync::Arc<dyn crate::kustomize::RemoteResolver>) -> Self {
        self.remote = Some(resolver);
        self
    }

    /// Sets how Helm charts are rendered.
    #[must_use]
    pub fn helm(mut self, options: crate::helm::chart::TemplateOptions) -> Self {
        self.helm = options;
        self
    }

    /// Reading options for plain manifests: go-yaml v2 rules, as `kubectl apply -f` reads.
    pub(crate) fn plain_read_options(&self) -> ReadOptions {
        ReadOptions::default().schema(Schema::Kubectl).budget(self.budget.clone())
    }
}
