//! Helm charts: loading, values, dependencies, rendering and output, as `helm template`
//! (Helm v4.3.1) does them.
//!
//! The flow is Helm's own:
//!
//! 1. [`load_chart`] reads a chart folder (or a `.tgz` archive, [`load_archive`]) from a
//!    [`FileTree`](gitops_core::FileTree): `Chart.yaml` (apiVersion v1 and v2), `values.yaml`,
//!    `values.schema.json`, `templates/`, `crds/`, other files (for `.Files`) and subcharts under
//!    `charts/`, honouring `.helmignore`. Reads never leave the chart folder and are capped in
//!    size ([`LoadLimits`]).
//! 2. [`ValueOptions`] merges `-f` files and `--set`, `--set-string`, `--set-file`, `--set-json`
//!    in Helm's order, with Helm's `strvals` grammar ([`strvals`]).
//! 3. [`template`] processes dependencies (conditions, tags, aliases, import-values), coalesces
//!    values (chart defaults, parent overrides, `global`, nulls deleting keys), validates them
//!    against `values.schema.json`, builds `.Release`, `.Chart`, `.Capabilities`, `.Files`,
//!    `.Template`, `.Subcharts`, renders every template and sorts the documents in Helm's install
//!    order into a [`Rendered`], whose [`Rendered::to_helm_output`] is what `helm template`
//!    prints.
//!
//! ```
//! use gitops_core::DiskTree;
//! use gitops_render::helm::chart::{template, TemplateOptions};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir(dir.path().join("templates"))?;
//! std::fs::write(dir.path().join("Chart.yaml"), "apiVersion: v2\nname: web\nversion: 0.1.0\n")?;
//! std::fs::write(dir.path().join("values.yaml"), "port: 80\n")?;
//! std::fs::write(
//!     dir.path().join("templates/svc.yaml"),
//!     "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  ports: [{port: {{ .Values.port }}}]\n",
//! )?;
//! let tree = DiskTree::new(dir.path())?;
//! let rendered = template(&tree, "", &TemplateOptions::default().release_name("shop"))?;
//! assert_eq!(
//!     rendered.to_helm_output(),
//!     "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: shop\nspec:\n  ports: [{port: 80}]\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod capabilities;
mod deps;
mod engine;
mod error;
mod files;
mod ignore;
mod load;
mod metadata;
mod output;
pub mod strvals;
mod values;
mod version;

pub use capabilities::{Capabilities, KubeVersion};
pub use error::ChartError;
pub use load::{Chart, ChartFile, LoadLimits, is_chart, load_archive, load_chart};
pub use metadata::{Dependency, Maintainer, Metadata};
pub use output::{Hook, Rendered, RenderedManifest};
pub use values::{FileReader, ValueOptions};

use gitops_core::FileTree;

/// Options of one `helm template` run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TemplateOptions {
    /// `.Release.Name` (`helm template NAME`); `release-name` by default, as Helm.
    pub release_name: String,
    /// `.Release.Namespace` (`--namespace`); `default` by default.
    pub namespace: String,
    /// `.Release.IsUpgrade` instead of `.Release.IsInstall` (`--is-upgrade`).
    pub is_upgrade: bool,
    /// The user's values (`-f`, `--set`, ...).
    pub values: ValueOptions,
    /// What `.Capabilities` reports (`--kube-version`, `--api-versions`).
    pub capabilities: Capabilities,
    /// Print the files under `crds/` first (`--include-crds`).
    pub include_crds: bool,
    /// Leave out test hooks (`--skip-tests`).
    pub skip_tests: bool,
    /// Skip `values.schema.json` validation (`--skip-schema-validation`).
    pub skip_schema_validation: bool,
    /// Reading limits.
    pub limits: LoadLimits,
}

impl Default for TemplateOptions {
    fn default() -> Self {
        TemplateOptions {
            release_name: "release-name".to_owned(),
            namespace: "default".to_owned(),
            is_upgrade: false,
            values: ValueOptions::default(),
            capabilities: Capabilities::default(),
            include_crds: false,
            skip_tests: false,
            skip_schema_validation: false,
            limits: LoadLimits::default(),
        }
    }
}

impl TemplateOptions {
    /// Sets `.Release.Name`.
    #[must_use]
    pub fn release_name(mut self, name: impl Into<String>) -> Self {
        self.release_name = name.into();
        self
    }

    /// Sets `.Release.Namespace`.
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Renders as an upgrade (`.Release.IsUpgrade`).
    #[must_use]
    pub fn is_upgrade(mut self, yes: bool) -> Self {
        self.is_upgrade = yes;
        self
    }

    /// Sets the user's values.
    #[must_use]
    pub fn values(mut self, values: ValueOptions) -> Self {
        self.values = values;
        self
    }

    /// Sets what `.Capabilities` reports.
    #[must_use]
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Prints the chart's CRDs first.
    #[must_use]
    pub fn include_crds(mut self, yes: bool) -> Self {
        self.include_crds = yes;
        self
    }

    /// Leaves out test hooks.
    #[must_use]
    pub fn skip_tests(mut self, yes: bool) -> Self {
        self.skip_tests = yes;
        self
    }

    /// Skips `values.schema.json` validation.
    #[must_use]
    pub fn skip_schema_validation(mut self, yes: bool) -> Self {
        self.skip_schema_validation = yes;
        self
    }

    /// Sets the reading limits.
    #[must_use]
    pub fn limits(mut self, limits: LoadLimits) -> Self {
        self.limits = limits;
        self
    }
}

/// Loads the chart at `path` of `tree` and renders it as `helm template` does.
///
/// # Errors
///
/// [`ChartError`] naming the file (and line where there is one): an unreadable or invalid
/// chart, bad values or `--set` expressions, a schema violation, a template that does not parse
/// or fails, or a rendered document that is not YAML.
pub fn template(tree: &dyn FileTree, path: &str, options: &TemplateOptions) -> Result<Rendered, ChartError> {
    let chart = load_chart(tree, path, &options.limits)?;
    template_chart(chart, options)
}

/// Renders a loaded chart as `helm template` does (see [`template`]).
///
/// # Errors
///
/// As [`template`], without the loading errors.
pub fn template_chart(mut chart: Chart, options: &TemplateOptions) -> Result<Rendered, ChartError> {
    if !matches!(chart.metadata.chart_type.as_str(), "" | "application") {
        return Err(ChartError::NotInstallable(chart.metadata.chart_type.clone()));
    }
    let user = options.values.merge()?;
    deps::process_dependencies(&mut chart, &user).map_err(|e| ChartError::Dependencies(Box::new(e)))?;
    if !chart.metadata.kube_version.is_empty() {
        let kube = &options.capabilities.kube_version;
        if !version::matches(&chart.metadata.kube_version, &kube.normalized()) {
            return Err(ChartError::KubeVersion {
                constraint: chart.metadata.kube_version.clone(),
                version: kube.version.clone(),
            });
        }
    }
    let values = values::coalesce_values(&chart, user)?;
    if !options.skip_schema_validation {
        values::validate_schemas(&chart, &values)?;
    }
    let files = engine::render(&chart, &values, options)?;
    output::sort_manifests(&chart, files, options)
}
