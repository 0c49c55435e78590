//! Glue: flags → library options → pipeline → output.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use gitops_apply::{Applier, ApplierOptions, DirTarget, MemoryTarget, Target};
use gitops_core::{DiskTree, ManifestSet, Revision};
use gitops_plan::{Plan, PlanOptions};
use gitops_render::RenderOptions;
use gitops_render::kustomize::LoadRestrictor;
use gitops_source::Repository;

use crate::flags::{Cli, Command, LoadRestrictorFlag, PlanFormat, SourceArgs, TargetArgs};
use crate::output;

/// Where the embedded target keeps its state, relative to the working directory.
const EMBEDDED_STATE: &str = ".gitops/cluster";

pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Render(args) => {
            let (set, _) = render(&args.source, args.namespace.as_deref())?;
            output::print_manifests(&set, args.output)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff(args) => {
            let (set, revision) = render(&args.source, Some(&args.target.namespace))?;
            let target = target(&args.target)?;
            let name = app_name(&args.target, &args.source);
            runtime()?.block_on(async {
                let applier = Applier::new(target.as_ref(), ApplierOptions::default().inventory(name));
                let observed = applier.observe(&set).await.context("cannot read the live state")?;
                let diff = gitops_diff::diff(&set, &observed.live, &observed.inventory);
                output::print_diff(&diff, revision.as_ref());
                Ok(if diff.has_changes() { ExitCode::from(1) } else { ExitCode::SUCCESS })
            })
        }
        Command::Plan(args) => {
            let (set, revision) = render(&args.source, Some(&args.target.namespace))?;
            let target = target(&args.target)?;
            let name = app_name(&args.target, &args.source);
            runtime()?.block_on(async {
                let (plan, _) = plan_for(target.as_ref(), &name, &set, args.prune).await?;
                match args.output {
                    PlanFormat::Text => output::print_plan(&plan, revision.as_ref(), cli.verbose > 0),
                    PlanFormat::Json => output::print_json(&plan)?,
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Sync(args) => {
            let (set, revision) = render(&args.source, Some(&args.target.namespace))?;
            let target = target(&args.target)?;
            let name = app_name(&args.target, &args.source);
            runtime()?.block_on(async {
                let (plan, inventory) = plan_for(target.as_ref(), &name, &set, args.prune).await?;
                let options = ApplierOptions::default()
                    .inventory(name)
                    .dry_run(args.dry_run)
                    .revision(revision.as_ref().map(ToString::to_string));
                let applier = Applier::new(target.as_ref(), options);
                match applier.run(&plan, inventory).await {
                    Ok(report) => {
                        output::print_sync(&report.changes, revision.as_ref(), &plan, args.dry_run);
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(error) => {
                        output::print_sync(&error.changes, revision.as_ref(), &plan, args.dry_run);
                        Err(anyhow::Error::new(error).context(format!("sync to {} failed", target.describe())))
                    }
                }
            })
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

/// Reads and renders the source (blocking: Git and rendering run before the async part).
fn render(source: &SourceArgs, namespace: Option<&str>) -> anyhow::Result<(ManifestSet, Option<Revision>)> {
    let mut options = RenderOptions::default().load_restrictor(match source.load_restrictor {
        LoadRestrictorFlag::RootOnly => LoadRestrictor::RootOnly,
        LoadRestrictorFlag::None => LoadRestrictor::None,
    });
    options = options.remote(std::sync::Arc::new(crate::remote::SourceResolver));
    if let Some(ns) = namespace {
        options = options.namespace(ns);
    }
    if let Some(repo_path) = &source.repo {
        let repo = Repository::open(repo_path)?;
        let revision = repo.resolve(&source.rev)?;
        let snapshot = repo.snapshot(&revision)?;
        let set = gitops_render::render(&snapshot, &source.path, &options)
            .with_context(|| format!("cannot render {} at {revision}", source.path))?;
        Ok((set, Some(revision)))
    } else {
        let (tree, path) = DiskTree::for_path(&source.path).with_context(|| format!("cannot open {}", source.path))?;
        let set =
            gitops_render::render(&tree, &path, &options).with_context(|| format!("cannot render {}", source.path))?;
        Ok((set, None))
    }
}

async fn plan_for(
    target: &dyn Target,
    name: &str,
    set: &ManifestSet,
    prune: bool,
) -> anyhow::Result<(Plan, gitops_core::Inventory)> {
    let applier = Applier::new(target, ApplierOptions::default().inventory(name));
    let observed =
        applier.observe(set).await.with_context(|| format!("cannot read the live state from {}", target.describe()))?;
    let diff = gitops_diff::diff(set, &observed.live, &observed.inventory);
    Ok((gitops_plan::plan(&diff, &PlanOptions::default().prune(prune)), observed.inventory))
}

fn target(args: &TargetArgs) -> anyhow::Result<Box<dyn Target>> {
    match args.target.as_str() {
        "embedded" => Ok(Box::new(DirTarget::new(EMBEDDED_STATE))),
        "memory" => Ok(Box::new(MemoryTarget::new())),
        other => match other.strip_prefix("dir:") {
            Some(path) if !path.is_empty() => Ok(Box::new(DirTarget::new(path))),
            _ => bail!("unknown target {other:?}: use embedded, dir:PATH or memory"),
        },
    }
}

/// `--name`, else the last component of PATH (of the repository for `.`), else `default`.
fn app_name(args: &TargetArgs, source: &SourceArgs) -> String {
    if let Some(name) = &args.name {
        return name.clone();
    }
    let from_path =
        |p: &Path| p.canonicalize().ok().and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()));
    let last = source.path.trim_end_matches('/').rsplit('/').next().filter(|s| !s.is_empty() && *s != ".");
    match (last, &source.repo) {
        (Some(name), _) => Some(name.to_owned()),
        (None, Some(repo)) => from_path(repo),
        (None, None) => from_path(Path::new(&source.path)),
    }
    .unwrap_or_else(|| "default".to_owned())
}
