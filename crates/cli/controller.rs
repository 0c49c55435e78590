//! `gitops controller`: flags → controller options; the controller is gitops-reconcile's.

use std::process::ExitCode;

use anyhow::Context;
use gitops_reconcile::controller::{self, ControllerOptions};
use gitops_reconcile::shard::{ShardMode, ShardOptions};

use crate::flags::ControllerArgs;

pub(crate) async fn run(args: ControllerArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read the kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default()).await?
        }
        None => kube::Config::infer().await.context("no cluster: not in a pod and no kubeconfig")?,
    };
    let client = kube::Client::try_from(config).context("cannot build the Kubernetes client")?;
    let identity = args.identity.clone().or_else(|| std::env::var("POD_NAME").ok()).unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "gitops".to_owned());
        format!("{host}-{}", std::process::id())
    });
    let mode = if args.leader_election { ShardMode::Leader } else { ShardMode::Sharded };
    let shard = ShardOptions::new("gitops-controller", identity)
        .namespace(&args.lease_namespace)
        .timing(args.lease_duration, args.renew_interval)
        .mode(mode);
    let mut options = ControllerOptions::new(shard);
    options.watch_namespace.clone_from(&args.watch_namespace);
    options.repo_root.clone_from(&args.repo_root);
    options.journal.clone_from(&args.journal);
    options.concurrency = args.concurrency;
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    controller::run(client, options, stop).await.context("the controller failed")?;
    Ok(ExitCode::SUCCESS)
}
