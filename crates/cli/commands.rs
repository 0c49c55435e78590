//! Glue: flags → library options → pipeline → output.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use gitops_apiserver::{ApiServer, ApiServerOptions, Fault, FaultAction, write_kubeconfig};
use std::time::Instant;

use gitops_apply::{Applier, ApplierOptions, ConnectOptions, DirTarget, KubeTarget, MemoryTarget, Observed, Target};
use gitops_core::{Change, ChangeSet, DiskTree, ManifestSet, Revision};
use gitops_plan::{Plan, PlanOptions};
use gitops_render::RenderOptions;
use gitops_render::kustomize::LoadRestrictor;

use crate::flags::{
    Cli, ClusterCommand, Command, DryRun, LoadRestrictorFlag, PlanFormat, PruneArgs, RenderFormat, RollbackArgs,
    ServeArgs, SourceArgs, SyncArgs, TargetArgs,
};
use crate::history;
use crate::output;
use crate::progress::Progress;
use gitops_reconcile::PinAction as Pin;

/// Where the embedded target keeps its state, relative to the working directory.
const EMBEDDED_STATE: &str = ".gitops/cluster";

/// How long after a write the embedded cluster's simulated controllers report a rollout done.
const EMBEDDED_ROLLOUT: std::time::Duration = std::time::Duration::from_millis(100);

pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Render(args) => {
            if matches!(args.output, RenderFormat::Yaml)
                && let Some(text) = crate::helm::render_chart(&args.source, &args.helm, args.namespace.as_deref())?
            {
                use std::io::Write as _;
                std::io::stdout().lock().write_all(text.as_bytes())?;
                return Ok(ExitCode::SUCCESS);
            }
            let helm = crate::helm::template_options(&args.helm, args.namespace.as_deref())?;
            let (set, _) = render_with(&args.source, args.namespace.as_deref(), helm)?;
            output::print_manifests(&set, args.output)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff(args) => {
            let (set, revision) = render(&args.source, Some(&args.target.namespace))?;
            let name = app_name(&args.target, &args.source);
            runtime()?.block_on(async {
                let target = target(&args.target).await?;
                let options = ApplierOptions::default().inventory(name).field_manager(&args.target.field_manager);
                let applier = Applier::new(target.as_ref(), options);
                let observed = applier.observe(&set).await.context("cannot read the live state")?;
                let desired = if args.server_side {
                    applier.dry_run_desired(&observed.desired).await.context("server-side dry run failed")?
                } else {
                    observed.desired.clone()
                };
                let diff = observed.diff(&desired, &args.target.field_manager);
                output::print_diff(&diff, revision.as_ref(), args.diff_format)?;
                Ok(if diff.has_changes() { ExitCode::from(1) } else { ExitCode::SUCCESS })
            })
        }
        Command::Plan(args) => {
            let (set, revision) = render(&args.source, Some(&args.target.namespace))?;
            let name = app_name(&args.target, &args.source);
            runtime()?.block_on(async {
                let target = target(&args.target).await?;
                let (plan, _) =
                    plan_for(target.as_ref(), &args.target, &name, &set, &plan_options(&args.prune)).await?;
                match args.output {
                    PlanFormat::Text => output::print_plan(&plan, revision.as_ref(), cli.verbose > 0),
                    PlanFormat::Json => output::print_json(&plan)?,
                    PlanFormat::Dot => print!("{}", gitops_plan::output::dot(&plan)),
                    PlanFormat::Mermaid => print!("{}", gitops_plan::output::mermaid(&plan)),
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Cluster(ClusterCommand::Serve(args)) => runtime()?.block_on(serve(&args)),
        Command::Source(command) => crate::git::run(command),
        Command::Sync(args) => {
            let (set, revision) = render(&args.source, Some(&args.target.namespace))?;
            let name = app_name(&args.target, &args.source);
            let saved = match &args.plan {
                Some(path) => Some(read_plan(path)?),
                None => None,
            };
            let pin = if args.unpin { Pin::Release } else { Pin::Keep };
            runtime()?.block_on(sync(&args, set, revision.as_ref(), name, saved, cli.verbose > 0, pin))
        }
        Command::History(args) => {
            let name = app_name_for(args.target.name.as_deref(), &args.app, None);
            runtime()?.block_on(async {
                let target = target(&args.target).await?;
                history::history(target.as_ref(), &name, &args).await
            })
        }
        Command::Rollback(args) => rollback(args, cli.verbose > 0),
        Command::Crd => {
            print!("{}", gitops_reconcile::crd::crd_yaml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Controller(args) => runtime()?.block_on(crate::controller::run(args)),
        Command::Reconcile(args) => runtime()?.block_on(crate::reconcile::run(args)),
    }
}

/// `gitops rollback PATH REV --repo R`: renders REV and syncs it, pinning the application; with
/// `--unpin` and no REV, releases the pin.
fn rollback(mut args: RollbackArgs, verbose: bool) -> anyhow::Result<ExitCode> {
    let name = app_name(&args.sync.target, &args.sync.source);
    let Some(to) = args.to.take() else {
        return runtime()?.block_on(async {
            let target = target(&args.sync.target).await?;
            history::unpin(target.as_ref(), &name).await
        });
    };
    if args.sync.unpin {
        bail!("--unpin releases the pin without syncing: give it without REV");
    }
    if args.sync.source.git.repo.is_none() {
        bail!("rollback reads REV from Git: give the repository with --repo");
    }
    if args.sync.source.git.rev != "HEAD" {
        bail!("give the revision once, as REV (not --rev)");
    }
    gitops_reconcile::pinned_commit(&to).clone_into(&mut args.sync.source.git.rev);
    let (set, revision) = render(&args.sync.source, Some(&args.sync.target.namespace))
        .with_context(|| format!("cannot roll {name} back to {to}"))?;
    let saved = match &args.sync.plan {
        Some(path) => Some(read_plan(path)?),
        None => None,
    };
    runtime()?.block_on(sync(&args.sync, set, revision.as_ref(), name, saved, verbose, Pin::Set))
}

async fn sync(
    args: &SyncArgs,
    set: ManifestSet,
    revision: Option<&Revision>,
    name: String,
    saved: Option<Plan>,
    verbose: bool,
    pin: Pin,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let target = target(&args.target).await?;
    history::check_pin(target.as_ref(), &name, revision, pin).await?;
    let (plan, observed) = match saved {
        None => plan_for(target.as_ref(), &args.target, &name, &set, &plan_options(&args.prune)).await?,
        Some(saved) => {
            let observed = observe(target.as_ref(), &name, &set).await?;
            let plan = saved.verify(&observed.desired, &observed.live).context("refusing to run the saved plan")?;
            (plan, observed)
        }
    };
    if args.dry_run == Some(DryRun::Client) {
        let mut changes = ChangeSet::default();
        for step in &plan.steps {
            changes.push(Change { object: step.object.clone(), action: step.action, fields: step.fields.clone() });
        }
        output::print_sync(&changes, revision, &plan, Some("client"), false, started.elapsed());
        return Ok(ExitCode::SUCCESS);
    }
    let progress = Progress::new(plan.steps.len(), verbose);
    let options = ApplierOptions::default()
        .inventory(&name)
        .field_manager(&args.target.field_manager)
        .dry_run(args.dry_run == Some(DryRun::Server))
        .revision(revision.map(ToString::to_string))
        .concurrency(args.concurrency)
        .timeout((!args.timeout.is_zero()).then_some(args.timeout))
        // Clusters (real or embedded) run controllers that make workloads healthy; in a folder
        // or in memory a Deployment would never roll out.
        .wait(runs_controllers(&args.target) && !args.no_wait)
        .force(args.force_conflicts)
        .fail_fast(!args.continue_on_error)
        .on_event(progress.sink());
    let applier = Applier::new(target.as_ref(), options);
    let result = applier.run(&plan, observed).await;
    progress.finish();
    let mode = args.dry_run.map(|_| "server");
    match result {
        Ok(report) => {
            output::print_sync(&report.changes, revision, &plan, mode, true, started.elapsed());
            if args.dry_run.is_none() {
                history::update_pin(target.as_ref(), &name, report.inventory, revision, pin).await?;
                if pin == Pin::Set
                    && let Some(revision) = revision
                {
                    println!(
                        "{name} is pinned at {revision}: `gitops sync --unpin` or `gitops rollback {name} --unpin` releases it"
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            output::print_sync(&error.changes, revision, &plan, mode, true, started.elapsed());
            eprintln!("error: sync to {} failed; {} failing:", target.describe(), error.failures.len());
            for failure in &error.failures {
                eprintln!("  {failure}");
            }
            Ok(ExitCode::from(2))
        }
    }
}

/// Serves the embedded API server until the process is stopped.
async fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    // The embedded cluster defaults like a real one, so drift detection meets real noise.
    let options = ApiServerOptions::default().defaulting(true);
    let server = match &args.state {
        Some(dir) => ApiServer::open(dir, options)
            .with_context(|| format!("cannot open the cluster state in {}", dir.display()))?,
        None => ApiServer::new(options),
    };
    if let Some(latency) = args.latency.filter(|l| !l.is_zero()) {
        server.inject(Fault::new(FaultAction::Delay(latency)));
    }
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
    render_with(source, namespace, gitops_render::helm::chart::TemplateOptions::default())
}

/// [`render`] with Helm chart options.
fn render_with(
    source: &SourceArgs,
    namespace: Option<&str>,
    helm: gitops_render::helm::chart::TemplateOptions,
) -> anyhow::Result<(ManifestSet, Option<Revision>)> {
    let mut options = RenderOptions::default().helm(helm).load_restrictor(match source.load_restrictor {
        LoadRestrictorFlag::RootOnly => LoadRestrictor::RootOnly,
        LoadRestrictorFlag::None => LoadRestrictor::None,
    });
    if let Some(ns) = namespace {
        options = options.namespace(ns);
    }
    options = options.remote(std::sync::Arc::new(crate::remote::SourceResolver::new(&source.git)));
    if let Some((repo, revision)) = crate::git::resolve(&source.git)? {
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

fn plan_options(args: &PruneArgs) -> PlanOptions {
    PlanOptions::default()
        .prune(args.prune)
        .max_prune_share(args.max_prune_share)
        .allow_mass_prune(args.allow_mass_prune)
}

fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the plan {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a plan written by `gitops plan -o json`", path.display()))
}

async fn observe(target: &dyn Target, name: &str, set: &ManifestSet) -> anyhow::Result<Observed> {
    let applier = Applier::new(target, ApplierOptions::default().inventory(name));
    applier.observe(set).await.with_context(|| format!("cannot read the live state from {}", target.describe()))
}

/// Observes, diffs and plans; the plan records the live versions (for `sync --plan`) and keeps
/// only the warnings about references the target does not hold either.
async fn plan_for(
    target: &dyn Target,
    args: &TargetArgs,
    name: &str,
    set: &ManifestSet,
    options: &PlanOptions,
) -> anyhow::Result<(Plan, Observed)> {
    let observed = observe(target, name, set).await?;
    let diff = observed.diff(&observed.desired, &args.field_manager);
    let mut plan = gitops_plan::plan_with_desired(diff, &observed.desired, options).context("cannot plan the sync")?;
    plan.pin_live(&observed.live);
    let applier = Applier::new(target, ApplierOptions::default().inventory(name));
    applier.resolve_references(&mut plan).await.context("cannot read the objects the plan refers to")?;
    Ok((plan, observed))
}

/// Whether the target runs controllers: a real cluster, or the embedded one.
fn runs_controllers(args: &TargetArgs) -> bool {
    is_cluster(args) || args.target == "embedded"
}

/// Whether the flags name a real cluster (kubeconfig or in-cluster).
fn is_cluster(args: &TargetArgs) -> bool {
    args.kube || args.context.is_some() || args.kubeconfig.is_some()
}

/// The embedded API server, in process, its state kept under ./.gitops/cluster. Like a real
/// cluster: server defaults, and simulated controllers that roll out workloads, finish Jobs and
/// bind claims shortly after each write. `namespace` is the client's default namespace.
pub(crate) fn embedded_target(namespace: &str) -> anyhow::Result<KubeTarget> {
    let options = ApiServerOptions::default().defaulting(true).simulate_status(Some(EMBEDDED_ROLLOUT));
    let server = ApiServer::open(EMBEDDED_STATE, options)
        .with_context(|| format!("cannot open the embedded cluster in {EMBEDDED_STATE}"))?;
    let client = kube::Client::new(server, namespace.to_owned());
    Ok(KubeTarget::new(client, format!("embedded cluster ({EMBEDDED_STATE})")))
}

async fn target(args: &TargetArgs) -> anyhow::Result<Box<dyn Target>> {
    if is_cluster(args) {
        let mut options = ConnectOptions::default().namespace(&args.namespace);
        options.context.clone_from(&args.context);
        options.kubeconfig.clone_from(&args.kubeconfig);
        options.impersonate.clone_from(&args.as_user);
        options.service_account.clone_from(&args.service_account);
        let target = KubeTarget::connect(&options).await.context("cannot connect to the cluster")?;
        return Ok(Box::new(target.inventory_namespace(&args.namespace)));
    }
    if args.as_user.is_some() || args.service_account.is_some() {
        bail!("--as and --service-account need a cluster target (--kube)");
    }
    match args.target.as_str() {
        "embedded" => Ok(Box::new(embedded_target(&args.namespace)?.inventory_namespace(&args.namespace))),
        "memory" => Ok(Box::new(MemoryTarget::new())),
        other => match other.strip_prefix("dir:") {
            Some(path) if !path.is_empty() => Ok(Box::new(DirTarget::new(path))),
            _ => bail!("unknown target {other:?}: use embedded, dir:PATH or memory"),
        },
    }
}

/// `--name`, else the last component of PATH (of the repository for `.`), else `default`.
fn app_name(args: &TargetArgs, source: &SourceArgs) -> String {
    app_name_for(args.name.as_deref(), &source.path, source.git.repo.as_deref())
}

/// `name`, else the last component of `path` (of `repo` for `.`), else `default`.
fn app_name_for(name: Option<&str>, path: &str, repo: Option<&str>) -> String {
    if let Some(name) = name {
        return name.to_owned();
    }
    let from_path =
        |p: &Path| p.canonicalize().ok().and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()));
    let last = path.trim_end_matches('/').rsplit('/').next().filter(|s| !s.is_empty() && *s != ".");
    match (last, repo) {
        (Some(name), _) => Some(name.to_owned()),
        (None, Some(repo)) => from_path(Path::new(repo)).or_else(|| {
            repo.trim_end_matches('/').trim_end_matches(".git").rsplit(['/', ':']).next().map(str::to_owned)
        }),
        (None, None) => from_path(Path::new(path)),
    }
    .unwrap_or_else(|| "default".to_owned())
}
