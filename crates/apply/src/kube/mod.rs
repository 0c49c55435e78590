//! `KubeTarget`: a Kubernetes cluster over kube-rs (feature `kube`).
//!
//! Objects are written with server-side apply under the caller's field manager, without
//! forcing conflicts unless asked; the inventory is a kubectl-compatible ApplySet parent Secret
//! (see [`crate::applyset`]) whose members carry the `part-of` label.

mod connect;
mod discovery;
mod error;
mod inventory;
mod watch;

use std::collections::BTreeMap;

use async_trait::async_trait;
use gitops_core::{Object, ObjectRef, split_api_version};
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PropagationPolicy};

pub use connect::ConnectOptions;
use discovery::{DiscoveryCache, Served};

use crate::applyset;
use crate::target::{
    ApplyOptions, DeleteOptions, KindInfo, MemberChanges, Propagation, Target, TargetError, TargetErrorKind,
};

/// A Kubernetes cluster as a [`Target`].
///
/// Build one from a kubeconfig ([`KubeTarget::connect`]) or from any `kube::Client`
/// ([`KubeTarget::new`]), such as one over an in-process API server:
///
/// ```
/// use gitops_apply::{KubeTarget, Target};
/// use gitops_apiserver::ApiServer;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let client = kube::Client::new(ApiServer::default(), "default");
/// let target = KubeTarget::new(client, "embedded");
/// let info = target.discover("apps/v1", "Deployment").await?.expect("served");
/// assert!(info.namespaced);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct KubeTarget {
    client: Client,
    describe: String,
    discovery: DiscoveryCache,
    inventory_namespace: String,
}

impl std::fmt::Debug for KubeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeTarget")
            .field("describe", &self.describe)
            .field("inventory_namespace", &self.inventory_namespace)
            .finish_non_exhaustive()
    }
}

impl KubeTarget {
    /// A target over `client`, described as `describe` in messages. Inventories live in the
    /// client's default namespace unless [`KubeTarget::inventory_namespace`] says otherwise.
    pub fn new(client: Client, describe: impl Into<String>) -> Self {
        let inventory_namespace = client.default_namespace().to_owned();
        KubeTarget {
            discovery: DiscoveryCache::new(client.clone()),
            client,
            describe: describe.into(),
            inventory_namespace,
        }
    }

    /// A target for the cluster `options` describe (kubeconfig, context, impersonation).
    pub async fn connect(options: &ConnectOptions) -> Result<Self, TargetError> {
        let (client, describe) = options.client().await?;
        Ok(KubeTarget::new(client, describe))
    }

    /// Keeps inventories (ApplySet parents) in `namespace`.
    #[must_use]
    pub fn inventory_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.inventory_namespace = namespace.into();
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The ApplySet id of the named inventory.
    pub fn applyset_id(&self, inventory: &str) -> String {
        applyset::id(inventory, &self.inventory_namespace, "Secret", "")
    }

    fn api(&self, served: &Served, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(ns) if served.namespaced => Api::namespaced_with(self.client.clone(), ns, &served.resource),
            _ => Api::all_with(self.client.clone(), &served.resource),
        }
    }

    /// The namespace to address the object in: its own, the default one for a namespaced object
    /// that names none; a cluster-scoped object that names one is an error.
    fn namespace_for<'o>(&'o self, served: &Served, object: &'o ObjectRef) -> Result<Option<&'o str>, TargetError> {
        match (served.namespaced, object.namespace.as_deref()) {
            (true, Some(ns)) => Ok(Some(ns)),
            (true, None) => Ok(Some(self.client.default_namespace())),
            (false, None) => Ok(None),
            (false, Some(ns)) => Err(TargetError::new(
                TargetErrorKind::Invalid,
                Some(object),
                format!("metadata.namespace: {} is cluster-scoped and cannot be in namespace {ns:?}", object.kind),
            )),
        }
    }

    async fn served(&self, api_version: &str, kind: &str, object: &ObjectRef) -> Result<Served, TargetError> {
        let (group, version) = split_api_version(api_version);
        self.discovery.gvk(group, version, kind).await?.ok_or_else(|| unknown_kind(object, api_version))
    }

    async fn served_kind(&self, object: &ObjectRef) -> Result<Option<Served>, TargetError> {
        self.discovery.group_kind(&object.group, &object.kind).await
    }
}

fn unknown_kind(object: &ObjectRef, api_version: &str) -> TargetError {
    TargetError::new(
        TargetErrorKind::NotFound,
        Some(object),
        format!("the cluster does not serve kind {} in {api_version} (is its CRD installed?)", object.kind),
    )
}

fn to_object(dynamic: DynamicObject, object: &ObjectRef) -> Result<Object, TargetError> {
    Object::try_from(dynamic).map_err(|e| {
        TargetError::new(TargetErrorKind::Other, Some(object), "the server returned an invalid object").with_source(e)
    })
}

#[async_trait]
impl Target for KubeTarget {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn discover(&self, api_version: &str, kind: &str) -> Result<Option<KindInfo>, TargetError> {
        let (group, version) = split_api_version(api_version);
        Ok(self.discovery.gvk(group, version, kind).await?.map(|served| KindInfo {
            api_version: served.resource.api_version.clone(),
            kind: served.resource.kind.clone(),
            plural: Some(served.resource.plural.clone()),
            namespaced: served.namespaced,
        }))
    }

    async fn get(&self, object: &ObjectRef) -> Result<Option<Object>, TargetError> {
        // A kind the cluster does not serve has no objects (yet: its CRD may come in this sync).
        let Some(served) = self.served_kind(object).await? else { return Ok(None) };
        let namespace = self.namespace_for(&served, object)?;
        let found = self.api(&served, namespace).get_opt(&object.name).await;
        match found.map_err(|e| error::map(e, Some(object), "get failed"))? {
            Some(dynamic) => to_object(dynamic, object).map(Some),
            None => Ok(None),
        }
    }

    async fn list_labelled(
        &self,
        like: &ObjectRef,
        labels: &BTreeMap<String, String>,
    ) -> Result<Option<Vec<Object>>, TargetError> {
        // A kind the cluster does not serve has no objects.
        let Some(served) = self.served_kind(like).await? else { return Ok(Some(Vec::new())) };
        let namespace = self.namespace_for(&served, like)?;
        let selector: Vec<String> = labels.iter().map(|(key, value)| format!("{key}={value}")).collect();
        let params = ListParams::default().labels(&selector.join(","));
        let list = self.api(&served, namespace).list(&params).await;
        let list = list.map_err(|e| error::map(e, Some(like), "list failed"))?;
        let items = list.items.into_iter().map(|mut item| {
            // List items may leave out their kind and apiVersion: they are the list's.
            item.types.get_or_insert_with(|| kube::core::TypeMeta {
                api_version: served.resource.api_version.clone(),
                kind: served.resource.kind.clone(),
            });
            let name = item.metadata.name.as_deref().unwrap_or_default();
            let found = ObjectRef::new(&like.group, &like.kind, item.metadata.namespace.as_deref(), name);
            to_object(item, &found)
        });
        items.collect::<Result<Vec<_>, _>>().map(Some)
    }

    async fn list_inventory(&self, name: &str) -> Result<Vec<(ObjectRef, String)>, TargetError> {
        self.list_members(name).await
    }

    async fn watch(&self, inventory: &str, kinds: &[(String, String)]) -> Result<Option<MemberChanges>, TargetError> {
        self.watch_members(inventory, kinds).await
    }

    fn member_labels(&self, inventory: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(applyset::PART_OF_LABEL.to_owned(), self.applyset_id(inventory))])
    }

    async fn apply(&self, object: &Object, options: &ApplyOptions) -> Result<Object, TargetError> {
        let r = object.object_ref();
        let served = self.served(object.api_version(), object.kind(), &r).await?;
        let namespace = self.namespace_for(&served, &r)?;
        let mut dynamic = DynamicObject::try_from(object).map_err(|e| {
            TargetError::new(TargetErrorKind::Invalid, Some(&r), "cannot encode the object").with_source(e)
        })?;
        dynamic.metadata.namespace = namespace.map(str::to_owned);
        let mut params = PatchParams::apply(&options.field_manager);
        if options.force {
            params = params.force();
        }
        if options.dry_run {
            params = params.dry_run();
        }
        let applied = self.api(&served, namespace).patch(object.name(), &params, &Patch::Apply(&dynamic)).await;
        let applied = applied.map_err(|e| error::map(e, Some(&r), "apply failed"))?;
        if !options.dry_run
            && served.resource.group == "apiextensions.k8s.io"
            && served.resource.kind == "CustomResourceDefinition"
        {
            // The CRD's kinds are served from now on; look again on the next lookup.
            self.discovery.invalidate().await;
        }
        to_object(applied, &r)
    }

    async fn delete(&self, object: &ObjectRef, api_version: &str, options: &DeleteOptions) -> Result<(), TargetError> {
        let served = match self.served(api_version, &object.kind, object).await {
            Ok(served) => served,
            // The kind is gone (its CRD was deleted): so are its objects.
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        let namespace = self.namespace_for(&served, object)?;
        let params = DeleteParams {
            dry_run: options.dry_run,
            propagation_policy: Some(match options.propagation {
                Propagation::Background => PropagationPolicy::Background,
                Propagation::Foreground => PropagationPolicy::Foreground,
                Propagation::Orphan => PropagationPolicy::Orphan,
            }),
            ..DeleteParams::default()
        };
        match self.api(&served, namespace).delete(&object.name, &params).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(e) => Err(error::map(e, Some(object), "delete failed")),
        }
    }

    async fn load_inventory(&self, name: &str) -> Result<Option<gitops_core::Inventory>, TargetError> {
        self.load_parent(name).await
    }

    async fn save_inventory(&self, name: &str, inventory: &gitops_core::Inventory) -> Result<(), TargetError> {
        self.save_parent(name, inventory).await
    }
}

impl KubeTarget {
    /// Lists the objects labelled as members of the named set, for every group-kind the parent
    /// lists, in the parent's namespace and its additional namespaces.
    async fn list_members(&self, name: &str) -> Result<Vec<(ObjectRef, String)>, TargetError> {
        let Some(parent) = self.parent(name).await? else { return Ok(Vec::new()) };
        let id = self.applyset_id(name);
        let selector = ListParams::default().labels(&format!("{}={id}", applyset::PART_OF_LABEL));
        let mut namespaces = vec![self.inventory_namespace.clone()];
        if let Some(more) = parent.annotation(applyset::NAMESPACES_ANNOTATION) {
            namespaces.extend(applyset::split_list(more).map(str::to_owned));
        }
        let mut members = Vec::new();
        for item in applyset::split_list(parent.annotation(applyset::GROUP_KINDS_ANNOTATION).unwrap_or_default()) {
            let (group, kind) = applyset::parse_group_kind(item);
            let probe = ObjectRef::new(group, kind, None, "");
            let Some(served) = self.served_kind(&probe).await? else { continue };
            let scopes: Vec<Option<&str>> =
                if served.namespaced { namespaces.iter().map(|n| Some(n.as_str())).collect() } else { vec![None] };
            for namespace in scopes {
                let list = self.api(&served, namespace).list(&selector).await;
                let list = list.map_err(|e| error::map(e, None, &format!("cannot list the members of {name}")))?;
                for item in list.items {
                    let r = ObjectRef::new(
                        group,
                        kind,
                        item.metadata.namespace.as_deref(),
                        item.metadata.name.as_deref().unwrap_or_default(),
                    );
                    members.push((r, served.resource.api_version.clone()));
                }
            }
        }
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn scope_rules() {
        let target = KubeTarget::new(Client::new(gitops_apiserver::ApiServer::default(), "team"), "test");
        let served = |namespaced| Served {
            resource: kube::core::discovery::ApiResource {
                group: String::new(),
                version: "v1".into(),
                api_version: "v1".into(),
                kind: "X".into(),
                plural: "xs".into(),
            },
            namespaced,
        };
        let cm = ObjectRef::new("", "ConfigMap", None, "a");
        assert_eq!(target.namespace_for(&served(true), &cm).expect("defaulted"), Some("team"));
        let ns = ObjectRef::new("", "Namespace", Some("team"), "a");
        let err = target.namespace_for(&served(false), &ns).expect_err("cluster-scoped with a namespace");
        assert!(err.to_string().contains("Namespace is cluster-scoped"), "{err}");
    }
}
