//! Command-line flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// GitOps from Git to Kubernetes: render manifests, show what would change, plan and sync.
#[derive(Debug, Parser)]
#[command(name = "gitops", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Log more (repeat for debug output). Logs go to stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// The log format: `text` for people, `json` (one object per line) for log collectors.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per event, with its fields.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Render PATH into Kubernetes objects and print them.
    Render(RenderArgs),
    /// Show what a sync would change. Exits 0 when in sync, 1 when there are differences, 2 on error.
    Diff(DiffArgs),
    /// Show the ordered steps a sync would take.
    Plan(PlanArgs),
    /// Apply PATH to the target, and prune what is no longer desired with --prune.
    Sync(SyncArgs),
    /// List the revisions APP synced, newest first, from its inventory on the target.
    History(HistoryArgs),
    /// Sync PATH at an earlier revision REV and pin the application there (`--unpin` releases it).
    Rollback(RollbackArgs),
    /// Run a local, in-memory Kubernetes API server.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Inspect Git sources: resolve a revision, list a remote's references.
    #[command(subcommand)]
    Source(SourceCommand),
    /// Print the CustomResourceDefinition of `Application` (gitops.dev/v1alpha1), generated from its Rust type.
    Crd,
    /// Run the controller: reconcile `Application` resources of this replica's shard.
    Controller(ControllerArgs),
    /// Reconcile the applications of a gitops.yaml continuously (or once with --once), serving
    /// /metrics and the Git webhook receiver /hooks/git on --listen.
    Reconcile(ReconcileArgs),
}

/// How to reach a Git repository: the URL and the fetch options.
#[derive(Debug, Args)]
pub(crate) struct GitArgs {
    /// The repository: a local path (read in place) or a URL (`https://`, `http://`, `git://`,
    /// `ssh://`, `user@host:path`, `file://`), fetched into the cache.
    #[arg(long, value_name = "URL")]
    pub(crate) repo: Option<String>,
    /// The revision: a branch, tag, `refs/...` name or commit, or a semver range over tags
    /// (`>=1.0.0 <2.0.0`, `~1.2`, `^1`, `1.x`, or `semver:RANGE`). Default: the default branch.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub(crate) rev: String,
    /// Fetch only this many commits of history (needs a server speaking Git protocol v2).
    #[arg(long, value_name = "N")]
    pub(crate) depth: Option<u32>,
    /// The cache of mirrored repositories. Default: $GITOPS_CACHE_DIR, else
    /// $XDG_CACHE_HOME/gitops/git, else ~/.cache/gitops/git.
    #[arg(long, value_name = "DIR")]
    pub(crate) cache: Option<PathBuf>,
    /// PEM bundle of the CAs to trust for HTTPS, instead of the system's.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_file: Option<PathBuf>,
    /// SSH private key file.
    #[arg(long, value_name = "FILE")]
    pub(crate) ssh_key: Option<PathBuf>,
    /// SSH known_hosts file; host keys are checked strictly against it.
    #[arg(long, value_name = "FILE")]
    pub(crate) known_hosts: Option<PathBuf>,
    /// The longest wait for the Git remote: to connect, and for each read or write (60s when not
    /// given). Applies to http(s), git:// and ssh.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) fetch_timeout: Option<std::time::Duration>,
    /// Verify the revision's signature against the keys in FILE (repeatable): armored OpenPGP
    /// public keys (`gpg --export --armor`), or SSH public keys in authorized_keys or
    /// allowed_signers form. An unsigned or badly signed revision, or one signed by another key,
    /// is refused before anything is read from it.
    #[arg(long, value_name = "FILE")]
    pub(crate) verify_key: Vec<PathBuf>,
    /// What --verify-key checks: the commit (head), the annotated tag --rev names (tag), or both
    /// (tag-and-head), as Flux's spec.verify.mode.
    #[arg(long, value_name = "MODE", default_value = "head", value_parser = parse_verify_mode)]
    pub(crate) verify_mode: gitops_source::VerifyMode,
}

fn parse_verify_mode(text: &str) -> Result<gitops_source::VerifyMode, String> {
    text.parse()
}

/// `gitops source …`
#[derive(Debug, Subcommand)]
pub(crate) enum SourceCommand {
    /// Fetch the repository and resolve --rev to a commit, with its metadata.
    /// HTTPS credentials come from GITOPS_GIT_TOKEN, or GITOPS_GIT_USERNAME and GITOPS_GIT_PASSWORD.
    Resolve(ResolveArgs),
    /// List the remote's HEAD, branches and tags without fetching, like `git ls-remote`.
    LsRemote(LsRemoteArgs),
}

/// `gitops source … -o` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SourceFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ResolveArgs {
    #[command(flatten)]
    pub(crate) git: GitArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub(crate) output: SourceFormat,
}

#[derive(Debug, Args)]
pub(crate) struct LsRemoteArgs {
    #[command(flatten)]
    pub(crate) git: GitArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub(crate) output: SourceFormat,
}

/// Where the manifests come from.
#[derive(Debug, Args)]
pub(crate) struct SourceArgs {
    /// The path to render: a directory of YAML/JSON files or one file. With --repo it is
    /// relative to the repository root; otherwise a local path.
    #[arg(default_value = ".")]
    pub(crate) path: String,
    /// With --repo, PATH is read from that Git repository at --rev, without a checkout.
    #[command(flatten)]
    pub(crate) git: GitArgs,
    /// Which files a kustomization may read, as `kubectl kustomize --load-restrictor`.
    #[arg(long, value_enum, value_name = "R", default_value = "LoadRestrictionsRootOnly")]
    pub(crate) load_restrictor: LoadRestrictorFlag,
}

/// `--load-restrictor` values, spelled as kubectl spells them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LoadRestrictorFlag {
    /// Files must be in or below the kustomization's folder.
    #[value(name = "LoadRestrictionsRootOnly")]
    RootOnly,
    /// Any file in the tree.
    #[value(name = "LoadRestrictionsNone")]
    None,
}

/// Where objects are applied.
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
    /// The target: `embedded` (a local cluster under ./.gitops), `dir:PATH` (hydrated manifests) or `memory`.
    #[arg(long, value_name = "T", default_value = "embedded", conflicts_with = "kube")]
    pub(crate) target: String,
    /// Target a real cluster from kubeconfig ($KUBECONFIG or ~/.kube/config, else in-cluster).
    #[arg(long)]
    pub(crate) kube: bool,
    /// The kubeconfig context to use (implies --kube).
    #[arg(long, value_name = "NAME")]
    pub(crate) context: Option<String>,
    /// The kubeconfig file to use (implies --kube).
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// Act as this user on the cluster (impersonation, as kubectl's --as).
    #[arg(long = "as", value_name = "USER")]
    pub(crate) as_user: Option<String>,
    /// Act as this service account, `NAMESPACE/NAME` or `NAME` (as Flux's serviceAccountName).
    #[arg(long, value_name = "SA")]
    pub(crate) service_account: Option<String>,
    /// The field manager that owns what is applied.
    #[arg(long, value_name = "NAME", default_value = "gitops")]
    pub(crate) field_manager: String,
    /// The application name, which names its inventory. Defaults to the last component of PATH.
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// The namespace for namespaced objects that have none.
    #[arg(long, short = 'n', value_name = "NS", default_value = "default")]
    pub(crate) namespace: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RenderFormat {
    Yaml,
    Json,
}

/// `gitops plan -o` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum PlanFormat {
    /// Steps grouped by wave, with what each waits for and why, and the counts.
    Text,
    /// The plan artifact, for review and `gitops sync --plan FILE` (Secret values masked).
    Json,
    /// A Graphviz digraph of the waves and dependencies.
    Dot,
    /// A Mermaid flowchart of the waves and dependencies.
    Mermaid,
}

/// Pruning and its guard.
#[derive(Debug, Args)]
pub(crate) struct PruneArgs {
    /// Delete owned objects that are no longer desired.
    #[arg(long)]
    pub(crate) prune: bool,
    /// Refuse to delete more than this share (0.0 to 1.0) of the owned objects.
    #[arg(long, value_name = "SHARE", value_parser = parse_share)]
    pub(crate) max_prune_share: Option<f64>,
    /// Allow deleting any number of objects, every owned object included (otherwise refused).
    #[arg(long)]
    pub(crate) allow_mass_prune: bool,
}

fn parse_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{text:?} is not a share between 0.0 and 1.0")),
    }
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "yaml")]
    pub(crate) output: RenderFormat,
    /// Set this namespace on namespaced objects that have none (for a Helm chart: the release
    /// namespace, as `helm template --namespace`).
    #[arg(long, short = 'n', value_name = "NS")]
    pub(crate) namespace: Option<String>,
    #[command(flatten)]
    pub(crate) helm: HelmArgs,
}

/// Helm chart options, as `helm template` spells them. A PATH holding `Chart.yaml` is a chart;
/// with `-o yaml` (the default) the output is exactly what `helm template` prints.
#[derive(Debug, Args)]
pub(crate) struct HelmArgs {
    /// Values file (repeatable; later files win).
    #[arg(long = "values", short = 'f', value_name = "FILE")]
    pub(crate) values: Vec<PathBuf>,
    /// Set a value: `a.b=1,c[0]=x` (repeatable).
    #[arg(long, value_name = "K=V")]
    pub(crate) set: Vec<String>,
    /// Set a value as a string (repeatable).
    #[arg(long, value_name = "K=V")]
    pub(crate) set_string: Vec<String>,
    /// Set a value to a file's contents: `key=path` (repeatable).
    #[arg(long, value_name = "K=FILE")]
    pub(crate) set_file: Vec<String>,
    /// Set a value to JSON: `a={"b":1}` (repeatable).
    #[arg(long, value_name = "K=JSON")]
    pub(crate) set_json: Vec<String>,
    /// The release name (`.Release.Name`).
    #[arg(long, value_name = "NAME", default_value = "release-name")]
    pub(crate) release: String,
    /// Print the chart's CRDs (`crds/`) first.
    #[arg(long)]
    pub(crate) include_crds: bool,
    /// Leave out test hooks.
    #[arg(long)]
    pub(crate) skip_tests: bool,
    /// Render as an upgrade (`.Release.IsUpgrade`).
    #[arg(long)]
    pub(crate) is_upgrade: bool,
    /// Skip `values.schema.json` validation.
    #[arg(long)]
    pub(crate) skip_schema_validation: bool,
    /// The Kubernetes version `.Capabilities.KubeVersion` reports.
    #[arg(long, value_name = "VERSION")]
    pub(crate) kube_version: Option<String>,
    /// API versions `.Capabilities.APIVersions` has, besides Helm's defaults (repeatable,
    /// comma-separated).
    #[arg(long, short = 'a', value_name = "GROUP/VERSION")]
    pub(crate) api_versions: Vec<String>,
}

/// `gitops diff --diff-format` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum DiffFormat {
    /// Each object to change, with its changed field paths.
    Names,
    /// A unified YAML diff of each object to change (coloured on a terminal unless NO_COLOR is set).
    Unified,
    /// Each changed field with its values (`spec.replicas: 2 -> 3`), and drift.
    Summary,
    /// JSON for tools: actions, changes, drift and patches.
    Json,
    /// RFC 6902 JSON Patches that turn each live object into the desired one.
    Patch,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// How to show the differences: a unified YAML diff by default, as `kubectl diff` prints.
    /// Secret values are masked in every format.
    #[arg(long, value_enum, value_name = "F", default_value = "unified")]
    pub(crate) diff_format: DiffFormat,
    /// Compare with what the target would store: each object applied in a server-side dry run.
    #[arg(long)]
    pub(crate) server_side: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    #[command(flatten)]
    pub(crate) prune: PruneArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub(crate) output: PlanFormat,
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    #[command(flatten)]
    pub(crate) prune: PruneArgs,
    /// Run exactly this saved plan (`gitops plan -o json > FILE`), refusing if the target or
    /// the rendered objects changed since it was made. PATH and the target must be the same.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["prune", "max_prune_share", "allow_mass_prune"])]
    pub(crate) plan: Option<PathBuf>,
    /// Write nothing: `client` shows the plan's changes, `server` also has the target check
    /// every write (a server-side dry run). `--dry-run` alone is `client`.
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, default_missing_value = "client")]
    pub(crate) dry_run: Option<DryRun>,
    /// The longest the sync may take, health waits included (`90s`, `5m`, `1h`; `0` for no limit).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub(crate) timeout: std::time::Duration,
    /// How many objects of a wave are applied at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub(crate) concurrency: usize,
    /// Do not wait for objects to become healthy between waves (hooks are still awaited).
    #[arg(long)]
    pub(crate) no_wait: bool,
    /// Take over fields that another field manager owns.
    #[arg(long)]
    pub(crate) force_conflicts: bool,
    /// Keep applying after a failure, and report every failure at the end.
    #[arg(long)]
    pub(crate) continue_on_error: bool,
    /// Sync even though a rollback pinned the application, and release the pin.
    #[arg(long)]
    pub(crate) unpin: bool,
}

/// `gitops history -o` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum HistoryFormat {
    /// One revision a line, newest first, the current and pinned ones marked.
    Text,
    /// `{"name", "revision", "pinned", "history"}`.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The application: its PATH (named after the last component, as `sync` names it) or, with
    /// --name, anything.
    #[arg(value_name = "APP", default_value = ".")]
    pub(crate) app: String,
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub(crate) output: HistoryFormat,
}

#[derive(Debug, Args)]
pub(crate) struct RollbackArgs {
    #[command(flatten)]
    pub(crate) sync: SyncArgs,
    /// The revision to go back to: as `gitops history` prints it (`main@sha1:<hex>`), or any
    /// form `--rev` takes (a commit, a tag, `main~1`). It must resolve in --repo.
    #[arg(value_name = "REV", required_unless_present = "unpin")]
    pub(crate) to: Option<String>,
}

/// `gitops sync --dry-run` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DryRun {
    /// Show the plan's changes without contacting the target for writes.
    Client,
    /// Send every write as a dry run: the target validates it and stores nothing.
    Server,
}

/// Parses `90s`, `5m`, `1h`, `250ms` or a number of seconds.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration (like 90s, 5m, 1h)"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (use ms, s, m or h)")),
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

/// `gitops cluster …`
#[derive(Debug, Subcommand)]
pub(crate) enum ClusterCommand {
    /// Serve the embedded Kubernetes API server until interrupted. kubectl and kube-rs can use it.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub(crate) listen: std::net::SocketAddr,
    /// Write a kubeconfig that points at the server to FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// Keep the objects in DIR, so that they survive restarts (in memory only when absent).
    #[arg(long, value_name = "DIR")]
    pub(crate) state: Option<PathBuf>,
    /// Delay every request by this long (`5ms`), as a distant API server would (benchmarks).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) latency: Option<std::time::Duration>,
}

/// `gitops controller`.
#[derive(Debug, Args)]
pub(crate) struct ControllerArgs {
    /// The kubeconfig to use (default: in-cluster, else $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// Watch `Application`s in this namespace only (default: all namespaces).
    #[arg(long, value_name = "NS")]
    pub(crate) watch_namespace: Option<String>,
    /// The namespace of the shard Leases.
    #[arg(long, value_name = "NS", default_value = "default")]
    pub(crate) lease_namespace: String,
    /// This replica's identity (default: $POD_NAME, else the host name and process id).
    #[arg(long, value_name = "ID")]
    pub(crate) identity: Option<String>,
    /// One leader reconciles everything instead of sharding by application name.
    #[arg(long)]
    pub(crate) leader_election: bool,
    /// How long a replica's Lease lives without renewal.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub(crate) lease_duration: std::time::Duration,
    /// How often the Lease is renewed.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub(crate) renew_interval: std::time::Duration,
    /// Relative `repoURL`s are resolved against this folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) repo_root: PathBuf,
    /// Append one JSON line per reconcile start and end (with this replica's identity) to FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) journal: Option<PathBuf>,
    /// Reconcile at most this many applications at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub(crate) concurrency: u16,
}

/// `gitops reconcile`.
#[derive(Debug, Args)]
pub(crate) struct ReconcileArgs {
    /// The file listing the applications.
    #[arg(value_name = "FILE", default_value = "gitops.yaml")]
    pub(crate) file: PathBuf,
    /// Reconcile every application once, in dependency order, and exit (1 when one failed).
    #[arg(long)]
    pub(crate) once: bool,
    /// Serve `GET /metrics` (Prometheus text) and `POST /hooks/git` (GitHub and GitLab pushes) here.
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<std::net::SocketAddr>,
    /// The webhook secret (GitHub's HMAC key, GitLab's token), read from FILE; default
    /// $GITOPS_WEBHOOK_SECRET. Without one, webhook deliveries are refused.
    #[arg(long, value_name = "FILE")]
    pub(crate) webhook_secret_file: Option<PathBuf>,
    /// Where each application's status is written (one JSON file per application).
    #[arg(long, value_name = "DIR", default_value = ".gitops/status")]
    pub(crate) state: PathBuf,
    /// The cache of mirrored repositories for remote `repoURL`s (default as `--cache` elsewhere).
    #[arg(long, value_name = "DIR")]
    pub(crate) cache: Option<PathBuf>,
    /// The kubeconfig for applications whose destination is a cluster.
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// The field manager of the applies.
    #[arg(long, value_name = "NAME", default_value = "gitops")]
    pub(crate) field_manager: String,
}
