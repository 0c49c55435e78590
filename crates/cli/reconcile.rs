//! `gitops reconcile`: gitops-reconcile's loop over the applications of a `gitops.yaml`, with
//! `/metrics` and the Git webhook receiver on `--listen`. The binary only wires it.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use gitops_apply::{ConnectOptions, DirTarget, KubeTarget, Target, TargetError, TargetErrorKind};
use gitops_reconcile::{
    Application, Applications, LogEvents, LoopOptions, ReconcileOptions, Reconciler, Server, ServerOptions,
    SourceOptions, Sources, StatusDir, TargetKind, WebhookSecret,
};
use tokio::sync::Mutex;

use crate::flags::ReconcileArgs;

/// The targets applications name: one embedded API server, clusters by context, folders.
struct CliTargets {
    kubeconfig: Option<std::path::PathBuf>,
    embedded: Mutex<Option<KubeTarget>>,
    clusters: Mutex<HashMap<Option<String>, KubeTarget>>,
}

fn target_error(message: String) -> TargetError {
    TargetError::new(TargetErrorKind::Other, None, message)
}

#[async_trait]
impl gitops_reconcile::Targets for CliTargets {
    async fn target(&self, app: &Application) -> Result<Arc<dyn Target>, TargetError> {
        let namespace = &app.destination.namespace;
        match &app.destination.target {
            TargetKind::Embedded => {
                let mut embedded = self.embedded.lock().await;
                if embedded.is_none() {
                    let target =
                        crate::commands::embedded_target("default").map_err(|e| target_error(format!("{e:#}")))?;
                    *embedded = Some(target);
                }
                let target = embedded.clone().ok_or_else(|| target_error("no embedded cluster".to_owned()))?;
                Ok(Arc::new(target.inventory_namespace(namespace)))
            }
            TargetKind::Kube { context } => {
                let mut clusters = self.clusters.lock().await;
                if !clusters.contains_key(context) {
                    let mut options = ConnectOptions::default().namespace(namespace);
                    options.context.clone_from(context);
                    options.kubeconfig.clone_from(&self.kubeconfig);
                    clusters.insert(context.clone(), KubeTarget::connect(&options).await?);
                }
                let target = clusters.get(context).cloned().ok_or_else(|| target_error("no cluster".to_owned()))?;
                Ok(Arc::new(target.inventory_namespace(namespace)))
            }
            TargetKind::Dir(path) => Ok(Arc::new(DirTarget::new(path))),
            other => Err(target_error(format!("application {}: the target {other:?} is not supported here", app.name))),
        }
    }
}

pub(crate) async fn run(args: ReconcileArgs) -> anyhow::Result<ExitCode> {
    let apps = Applications::load(&args.file)?;
    let ordered: Vec<Application> = apps.order()?.into_iter().cloned().collect();
    let base = args.file.parent().map_or_else(|| std::path::PathBuf::from("."), std::path::Path::to_path_buf);
    let base = if base.as_os_str().is_empty() { std::path::PathBuf::from(".") } else { base };
    let cache = args.cache.clone().or_else(gitops_source::Cache::default_root);
    let sources = Sources::new(SourceOptions::default().base(base).cache(cache));
    let targets = Arc::new(CliTargets {
        kubeconfig: args.kubeconfig.clone(),
        embedded: Mutex::default(),
        clusters: Mutex::default(),
    });
    let mut options = ReconcileOptions::default().field_manager(&args.field_manager);
    options.events = Some(Arc::new(LogEvents));
    let reconciler = Reconciler::new(ordered, targets, sources, options, LoopOptions::default())
        .status_writer(Arc::new(StatusDir::new(&args.state)));
    if args.once {
        let outcomes = reconciler.run_once().await;
        let mut failed = false;
        for outcome in &outcomes {
            let status = &outcome.status;
            match &outcome.error {
                Some(error) => {
                    failed = true;
                    eprintln!("{}: {} ({})", status.name, status.sync, crate::remote::error_chain(error));
                }
                None => println!("{}: {} ({})", status.name, status.sync, outcome.changes.summary()),
            }
        }
        return Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS });
    }
    let secret = match (&args.webhook_secret_file, std::env::var("GITOPS_WEBHOOK_SECRET")) {
        (Some(path), _) => Some(WebhookSecret::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the webhook secret {}", path.display()))?
                .trim_end(),
        )),
        (None, Ok(value)) if !value.is_empty() => Some(WebhookSecret::new(value)),
        (None, _) => None,
    };
    let server = match args.listen {
        Some(addr) => {
            let server = Server::listen(addr, reconciler.handle(), ServerOptions::default().webhook_secret(secret))
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            eprintln!("serving /metrics and /hooks/git on http://{}", server.addr());
            Some(server)
        }
        None => None,
    };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    reconciler.run(stop).await;
    drop(server);
    Ok(ExitCode::SUCCESS)
}
