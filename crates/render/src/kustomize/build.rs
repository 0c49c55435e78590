//! The build: accumulate resources through the tree of kustomizations, then run generators and
//! transformers in Kustomize's order, then hash, fix name references and sort.

use gitops_core::tree::{EntryKind, FileTree, join};
use gitops_core::yaml::{ReadOptions, Schema};
use gitops_core::{Origin, parse_manifests};
use serde_json::Value;

use super::config::TransformerConfig;
use super::error::KustomizeError;
use super::generate::{SourceFiles, absorb, content_hash, generate};
use super::load::{KustFile, LoadRestrictor, display_dir, find_kustomization, is_within, load_kustomization};
use super::resource::{ResMap, Resource};
use super::{nameref, sort, transform};
use crate::RenderOptions;

/// What a kustomization contributes upward: its resources and its transformer configuration.
#[derive(Debug, Clone)]
pub(crate) struct Accumulated {
    pub(crate) resources: ResMap,
    pub(crate) config: TransformerConfig,
    /// Legacy `vars` of this kustomization and everything below it, resolved at the very end.
    pub(crate) vars: Vec<super::types::Var>,
}

impl Accumulated {
    fn empty() -> Self {
        Accumulated { resources: ResMap::default(), config: TransformerConfig::defaults(), vars: Vec::new() }
    }
}

pub(crate) struct Builder<'t> {
    pub(crate) tree: &'t dyn FileTree,
    pub(crate) options: &'t RenderOptions,
    /// The kustomization folders being built, outermost first.
    pub(crate) stack: Vec<String>,
    /// The remote repositories being built, outermost first (a URL twice is a cycle).
    pub(crate) remotes: Vec<String>,
}

/// Reads files for one kustomization, within its load restrictions.
pub(crate) struct Files<'a> {
    pub(crate) tree: &'a dyn FileTree,
    pub(crate) dir: &'a str,
    pub(crate) restrictor: LoadRestrictor,
    pub(crate) max: u64,
}

impl Files<'_> {
    pub(crate) fn resolve(&self, path: &str) -> Result<String, String> {
        let full = join(self.dir, path).map_err(|e| e.to_string())?;
        if self.restrictor == LoadRestrictor::RootOnly && !is_within(&full, self.dir) {
            return Err(format!("security; file '{path}' is not in or below '{}'", display_dir(self.dir)));
        }
        Ok(full)
    }

    pub(crate) fn read_text(&self, path: &str) -> Result<(String, String), String> {
        let full = self.resolve(path)?;
        let bytes = self.tree.read_limited(&full, self.max).map_err(|e| e.to_string())?;
        let text = String::from_utf8(bytes).map_err(|_| format!("{full}: not UTF-8 text"))?;
        Ok((full, text))
    }
}

impl SourceFiles for Files<'_> {
    fn read_file(&self, path: &str) -> Result<Vec<u8>, String> {
        let full = self.resolve(path)?;
        self.tree.read_limited(&full, self.max).map_err(|e| e.to_string())
    }
}

impl<'t> Builder<'t> {
    fn chain(&self) -> Vec<String> {
        self.stack.iter().rev().map(|d| display_dir(d)).collect()
    }

    fn files<'a>(&self, kust: &'a KustFile) -> Files<'a>
    where
        't: 'a,
    {
        Files {
            tree: self.tree,
            dir: &kust.dir,
            restrictor: self.options.load_restrictor,
            max: self.options.max_file_size,
        }
    }

    fn build_err(kust: &KustFile, message: impl Into<String>) -> KustomizeError {
        KustomizeError::Build { file: kust.file.clone(), message: message.into() }
    }

    /// Builds the kustomization in `dir`: everything `kubectl kustomize dir` does.
    pub(crate) fn build(&mut self, dir: &str) -> Result<Vec<Resource>, KustomizeError> {
        let kust = self.enter(dir)?;
        let mut acc = self.accumulate(&kust, Accumulated::empty())?;
        self.stack.pop();
        let err = |m: String| Self::build_err(&kust, m);
        for resource in acc.resources.resources.iter_mut().filter(|r| r.needs_hash) {
            let hash = content_hash(resource);
            resource.store_previous_id();
            let name = format!("{}-{hash}", resource.name());
            resource.set_name(&name);
        }
        nameref::fix_references(&mut acc.resources, &acc.config.name_reference).map_err(err)?;
        super::vars::resolve(&mut acc.resources, &acc.vars, &acc.config).map_err(err)?;
        let mut resources = acc.resources.resources;
        sort::sort(&mut resources, kust.kustomization.sort_options.as_ref()).map_err(err)?;
        let build_metadata = kust.kustomization.build_metadata.as_deref().unwrap_or_default();
        // Unknown buildMetadata values are ignored, as Kustomize ignores them.
        if build_metadata.iter().any(|o| o == "managedByLabel") {
            let labels =
                [("app.kubernetes.io/managed-by".to_owned(), "kustomize-v5.8.1".to_owned())].into_iter().collect();
            let spec = super::types::FieldSpec { path: "metadata/labels".into(), create: true, ..Default::default() };
            let mut map = ResMap { resources };
            transform::set_entries(&mut map, &labels, &[spec]).map_err(err)?;
            resources = map.resources;
        }
        if build_metadata.iter().any(|o| o == "originAnnotations") {
            for resource in &mut resources {
                let path = relative_path(dir, &resource.origin.file);
                let origin = match resource.generated_by {
                    Some(kind) => {
                        format!("configuredIn: {path}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n")
                    }
                    None => format!("path: {path}\n"),
                };
                let metadata = resource.metadata_mut();
                let annotations =
                    metadata.entry("annotations").or_insert_with(|| Value::Object(serde_json::Map::new()));
                if let Value::Object(map) = annotations {
                    map.insert("config.kubernetes.io/origin".into(), Value::String(origin));
                }
            }
        }
        Ok(resources)
    }

    /// Loads the kustomization in `dir`, refusing cycles.
    fn enter(&mut self, dir: &str) -> Result<KustFile, KustomizeError> {
        if let Some(pos) = self.stack.iter().position(|visited| is_within(visited, dir)) {
            let mut chain: Vec<String> = self.stack[pos..].iter().map(|d| display_dir(d)).collect();
            chain.push(display_dir(dir));
            return Err(KustomizeError::Cycle { chain });
        }
        let kust = load_kustomization(self.tree, dir, self.options.max_file_size).map_err(|e| match e {
            KustomizeError::Load { path, message, source, .. } => {
                KustomizeError::Load { path, message, chain: self.chain(), source }
            }
            other => other,
        })?;
        if kust.kustomization.validators.is_some() {
            return Err(KustomizeError::Unsupported {
                file: kust.file.clone(),
                field: "validators".into(),
                reason: "validator plugins are not run by this renderer".into(),
            });
        }
        if kust.kustomization.helm_charts.is_some() || kust.kustomization.helm_chart_inflation_generator.is_some() {
            return Err(KustomizeError::Unsupported {
                file: kust.file.clone(),
                field: "helmCharts".into(),
                reason: "Helm charts inside kustomizations are not supported yet".into(),
            });
        }
        self.stack.push(dir.to_owned());
        Ok(kust)
    }

    /// Kustomize's `accumulateTarget`: resources, configurations, generators, components,
    /// transformers. `acc` is what the caller accumulated so far (only components see it).
    fn accumulate(&mut self, kust: &KustFile, mut acc: Accumulated) -> Result<Accumulated, KustomizeError> {
        let k = &kust.kustomization;
        // The custom schema an `openapi: {path: ...}` names must exist. (Its content is not used
        // yet: merges follow the built-in schema; see docs/kustomize.md.)
        if let Some(path) = k.openapi.as_ref().and_then(|o| o.get("path")) {
            self.files(kust).read_text(path).map_err(|m| self.load_err(path, m))?;
        }
        for path in k.resources.iter().flatten() {
            self.accumulate_resource(kust, path, &mut acc)?;
        }
        let files = self.files(kust);
        for path in k.configurations.iter().flatten() {
            let (full, text) = files.read_text(path).map_err(|m| self.load_err(path, m))?;
            acc.config.merge_file(&text, &full).map_err(|m| Self::build_err(kust, m))?;
        }
        for path in k.crds.iter().flatten() {
            let (full, text) = files.read_text(path).map_err(|m| self.load_err(path, m))?;
            acc.config.merge_crd_file(&text, &full).map_err(|m| Self::build_err(kust, m))?;
        }
        for (secret, generators) in [(false, &k.config_map_generator), (true, &k.secret_generator)] {
            for args in generators.iter().flatten() {
                let origin = Origin::generated(kust.file.clone());
                let resource = generate(args, k.generator_options.as_ref(), secret, &files, origin)
                    .map_err(|m| Self::build_err(kust, m))?;
                absorb(&mut acc.resources, resource).map_err(|m| Self::build_err(kust, m))?;
            }
        }
        super::plugins::run_generators(kust, &files, &mut acc)?;
        for path in k.components.iter().flatten() {
            if super::remote::looks_remote(path) && !self.tree.exists(&join(&kust.dir, path).unwrap_or_default()) {
                return Err(KustomizeError::Unsupported {
                    file: kust.file.clone(),
                    field: format!("components: {path}"),
                    reason: "remote components are not supported yet".into(),
                });
            }
            let dir = join(&kust.dir, path).map_err(|e| self.load_err(path, e.to_string()))?;
            let component = self.enter(&dir)?;
            if !component.kustomization.is_component() {
                self.stack.pop();
                return Err(Self::build_err(
                    kust,
                    format!("expected kind 'Component' for path '{}'", display_dir(&dir)),
                ));
            }
            acc = self.accumulate(&component, acc)?;
            self.stack.pop();
        }
        super::transformers::run(kust, &files, &mut acc)?;
        merge_vars(&mut acc.vars, k.vars.iter().flatten().cloned()).map_err(|m| Self::build_err(kust, m))?;
        Ok(acc)
    }

    /// Builds a remote kustomization (a resource, or a component when `component` is set) with
    /// the configured resolver, in a builder of its own over the fetched tree.
    fn accumulate_remote(
        &mut self,
        kust: &KustFile,
        entry: &str,
        component: bool,
    ) -> Result<Accumulated, KustomizeError> {
        let repo = super::remote::parse_remote(entry).map_err(|m| Self::build_err(kust, m))?;
        let Some(resolver) = self.options.remote.clone() else {
            return Err(KustomizeError::Unsupported {
                file: kust.file.clone(),
                field: format!("resources: {entry}"),
                reason: "remote resources need a resolver; none is configured".into(),
            });
        };
        let key = format!("{}@{}", repo.url, repo.reference.as_deref().unwrap_or(""));
        if self.remotes.contains(&key) {
            let mut chain = self.remotes.clone();
            chain.push(key);
            return Err(KustomizeError::Cycle { chain });
        }
        let tree = resolver.fetch(&repo).map_err(|message| KustomizeError::Load {
            path: entry.to_owned(),
            message,
            chain: self.chain(),
            source: None,
        })?;
        let mut remotes = self.remotes.clone();
        remotes.push(key);
        let mut sub = Builder { tree: &*tree, options: self.options, stack: Vec::new(), remotes };
        let remote_kust = sub.enter(&repo.path)?;
        if remote_kust.kustomization.is_component() != component {
            return Err(Self::build_err(kust, format!("unexpected kind of kustomization at {entry}")));
        }
        let mut result = sub.accumulate(&remote_kust, Accumulated::empty())?;
        for resource in &mut result.resources.resources {
            resource.origin.file = format!("{}//{}", repo.url, resource.origin.file);
        }
        Ok(result)
    }

    fn load_err(&self, path: &str, message: String) -> KustomizeError {
        KustomizeError::Load { path: path.to_owned(), message, chain: self.chain(), source: None }
    }

    /// A `resources` entry: a file of manifests, or a folder with a kustomization.
    fn accumulate_resource(
        &mut self,
        kust: &KustFile,
        path: &str,
        acc: &mut Accumulated,
    ) -> Result<(), KustomizeError> {
        if super::remote::looks_remote(path) && !self.tree.exists(&join(&kust.dir, path).unwrap_or_default()) {
            let result = self.accumulate_remote(kust, path, false)?;
            acc.resources.append_all(result.resources).map_err(|m| Self::build_err(kust, m))?;
            acc.config.merge(&result.config);
            return merge_vars(&mut acc.vars, result.vars).map_err(|m| Self::build_err(kust, m));
        }
        let tree_err = |e: gitops_core::tree::TreeError| KustomizeError::Load {
            path: path.to_owned(),
            message: "cannot be read".into(),
            chain: self.chain(),
            source: Some(Box::new(e)),
        };
        let full = join(&kust.dir, path).map_err(tree_err)?;
        let stat = self.tree.stat(&full).map_err(tree_err)?;
        match stat.map(|s| s.kind) {
            Some(EntryKind::File) => {
                let files = self.files(kust);
                let (file, text) = files.read_text(path).map_err(|m| self.load_err(path, m))?;
                let read = ReadOptions::default()
                    .schema(Schema::Kustomize)
                    .annotations_as_text(true)
                    .budget(self.options.budget.clone());
                let manifests = parse_manifests(&text, &file, &read).map_err(|source| KustomizeError::Resource {
                    message: source.to_string(),
                    chain: self.chain(),
                    source: Box::new(source),
                })?;
                for manifest in manifests {
                    let resource = Resource::new(manifest.object.into_map(), manifest.origin);
                    acc.resources.append(resource).map_err(|m| Self::build_err(kust, m))?;
                }
                Ok(())
            }
            Some(EntryKind::Dir) => {
                if find_kustomization(self.tree, &full)?.is_none() {
                    return Err(self.load_err(
                        path,
                        "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory".into(),
                    ));
                }
                let sub = self.enter(&full)?;
                if sub.kustomization.is_component() {
                    self.stack.pop();
                    return Err(Self::build_err(
                        kust,
                        format!("expected kind != 'Component' for path '{}'", display_dir(&full)),
                    ));
                }
                let result = self.accumulate(&sub, Accumulated::empty())?;
                self.stack.pop();
                acc.resources.append_all(result.resources).map_err(|m| Self::build_err(kust, m))?;
                acc.config.merge(&result.config);
                merge_vars(&mut acc.vars, result.vars).map_err(|m| Self::build_err(kust, m))?;
                Ok(())
            }
            _ => Err(self.load_err(path, "no such file or directory".into())),
        }
    }
}

/// Adds vars, refusing a second var of the same name, as Kustomize does.
fn merge_vars(
    into: &mut Vec<super::types::Var>,
    vars: impl IntoIterator<Item = super::types::Var>,
) -> Result<(), String> {
    for var in vars {
        if into.iter().any(|v| v.name == var.name) {
            return Err(format!("var '{}' already encountered", var.name));
        }
        into.push(var);
    }
    Ok(())
}

/// `file` relative to the folder `from` (both tree paths): `../base/cm.yaml`.
fn relative_path(from: &str, file: &str) -> String {
    let from: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let to: Vec<&str> = file.split('/').filter(|s| !s.is_empty()).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    parts.join("/")
}
