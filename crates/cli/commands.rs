//! Glue: flags → library options → pipeline → output.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use gitops_apiserver::{ApiServer, ApiServerOptions, write_kubeconfig};
use gitops_apply::{Applier, ApplierOptions, DirTarget, MemoryTarget, Observed, Target};
use gitops_core::{DiskTree, ManifestSet, Revision};
use gitops_diff::{DiffSet, Inputs, ThreeWayDiff};
use gitops_plan::{Plan, PlanOptions};
use gitops_render::RenderOptions;
use gitops_render::kustomize::LoadRestrictor;
use gitops_source::Repository;

use crate::flags::{Cli, ClusterCommand, Command, LoadRestrictorFlag, PlanFormat, ServeArgs, SourceArgs, TargetArgs};
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
                let diff = diff_for(&set, &observed);
                output::print_diff(&diff, revision.as_ref(), args.diff_format)?;
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
        Command::Cluster(ClusterCommand::Serve(args)) => runtime()?.block_on(serve(&args)),
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

/// Serves the embedded API server until the process is stopped.
async fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let server = ApiServer::new(ApiServerOptions::default());
    let handle = server.listen(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    if let Some(path) = &args.kubeconfig {
        write_kubeconfig(path, &handle.url()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("serving the Kubernetes API at {}", handle.url());
    handle.wait().await;
    Ok(ExitCode::SUCCESS)
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
    let diff = diff_for(set, &observed);
    Ok((gitops_plan::plan(&diff, &PlanOptions::default().prune(prune)), observed.inventory))
}

/// The three-way diff of the desired set against what the target holds. The directory and
/// memory targets store exactly what was applied, so their live objects are also the
/// last-applied ones.
fn diff_for(set: &ManifestSet, observed: &Observed) -> DiffSet {
    let inputs = Inputs::new(set, &observed.live, &observed.inventory).last_applied(&observed.live);
    ThreeWayDiff::default().diff(&inputs)
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
