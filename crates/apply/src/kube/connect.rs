//! Building a client: kubeconfig and context, `KUBECONFIG`, in-cluster config, impersonation.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::target::{TargetError, TargetErrorKind};

/// Where a [`KubeTarget`](super::KubeTarget) finds its cluster and credentials.
///
/// With nothing set, the client is inferred as kubectl does: `$KUBECONFIG` (or
/// `~/.kube/config`) and its current context, else the in-cluster service account.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// A kubeconfig file instead of `$KUBECONFIG` / `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// The context to use instead of the current one.
    pub context: Option<String>,
    /// Use the in-cluster service account, ignoring kubeconfig files.
    pub in_cluster: bool,
    /// Act as this user (kubectl's `--as`).
    pub impersonate: Option<String>,
    /// Act with these groups (kubectl's `--as-group`).
    pub impersonate_groups: Vec<String>,
    /// Act as this service account, `namespace/name` or `name` in the default namespace (Flux's
    /// `serviceAccountName`): impersonates `system:serviceaccount:<namespace>:<name>`.
    pub service_account: Option<String>,
    /// The namespace for namespaced objects that name none, instead of the context's.
    pub namespace: Option<String>,
}

impl ConnectOptions {
    /// Sets the kubeconfig file.
    #[must_use]
    pub fn kubeconfig(mut self, path: impl Into<PathBuf>) -> Self {
        self.kubeconfig = Some(path.into());
        self
    }

    /// Sets the context.
    #[must_use]
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }

    /// Sets the user to impersonate.
    #[must_use]
    pub fn impersonate(mut self, user: impl Into<String>) -> Self {
        self.impersonate = Some(user.into());
        self
    }

    /// Sets the service account to impersonate.
    #[must_use]
    pub fn service_account(mut self, account: impl Into<String>) -> Self {
        self.service_account = Some(account.into());
        self
    }

    /// Sets the default namespace.
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The client configuration these options describe.
    pub async fn config(&self) -> Result<Config, TargetError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            TargetError::new(TargetErrorKind::Invalid, None, format!("{what}: {e}"))
        };
        let kube_options = KubeConfigOptions { context: self.context.clone(), ..KubeConfigOptions::default() };
        let mut config = if self.in_cluster {
            Config::incluster().map_err(|e| fail("cannot use the in-cluster configuration", &e))?
        } else if let Some(path) = &self.kubeconfig {
            let file = Kubeconfig::read_from(path).map_err(|e| fail(&format!("cannot read {}", path.display()), &e))?;
            Config::from_custom_kubeconfig(file, &kube_options)
                .await
                .map_err(|e| fail(&format!("cannot use {}", path.display()), &e))?
        } else if self.context.is_some() {
            Config::from_kubeconfig(&kube_options).await.map_err(|e| fail("cannot use the kubeconfig", &e))?
        } else {
            Config::infer().await.map_err(|e| fail("cannot find a cluster (kubeconfig or in-cluster)", &e))?
        };
        if let Some(namespace) = &self.namespace {
            config.default_namespace.clone_from(namespace);
        }
        if let Some(account) = &self.service_account {
            let (namespace, name) = account.split_once('/').unwrap_or((&config.default_namespace, account));
            config.auth_info.impersonate = Some(format!("system:serviceaccount:{namespace}:{name}"));
        }
        if let Some(user) = &self.impersonate {
            config.auth_info.impersonate = Some(user.clone());
        }
        if !self.impersonate_groups.is_empty() {
            config.auth_info.impersonate_groups = Some(self.impersonate_groups.clone());
        }
        Ok(config)
    }

    /// A client for these options, and a description of the cluster (`cluster <url>`).
    pub async fn client(&self) -> Result<(Client, String), TargetError> {
        let config = self.config().await?;
        let describe = format!("cluster {}", config.cluster_url);
        let client = Client::try_from(config)
            .map_err(|e| TargetError::new(TargetErrorKind::Invalid, None, format!("cannot build a client: {e}")))?;
        Ok((client, describe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\ncurrent-context: one\nclusters:\n\
        - name: a\n  cluster: {server: 'https://a.example:6443'}\n- name: b\n  cluster: {server: 'https://b.example:6443'}\n\
        users:\n- name: u\n  user: {token: abc}\ncontexts:\n\
        - name: one\n  context: {cluster: a, user: u, namespace: team}\n- name: two\n  context: {cluster: b, user: u}\n";

    #[tokio::test]
    async fn contexts_namespaces_and_impersonation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(&path, KUBECONFIG).expect("write");
        let config = ConnectOptions::default().kubeconfig(&path).config().await.expect("current context");
        assert_eq!(config.cluster_url.to_string(), "https://a.example:6443/");
        assert_eq!(config.default_namespace, "team");

        let config = ConnectOptions::default().kubeconfig(&path).context("two").service_account("deployer");
        let config = config.config().await.expect("context two");
        assert_eq!(config.cluster_url.host(), Some("b.example"));
        assert_eq!(config.auth_info.impersonate.as_deref(), Some("system:serviceaccount:default:deployer"));

        let config = ConnectOptions::default().kubeconfig(&path).impersonate("jane").namespace("x");
        let config = config.config().await.expect("impersonate");
        assert_eq!((config.auth_info.impersonate.as_deref(), config.default_namespace.as_str()), (Some("jane"), "x"));

        let err =
            ConnectOptions::default().kubeconfig(&path).context("three").config().await.expect_err("no such context");
        assert!(err.to_string().contains("three"), "{err}");
    }
}
