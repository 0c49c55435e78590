//! Watching an inventory's members: one watch per kind, across namespaces, selected by the
//! ApplySet `part-of` label, so only our objects travel (never whole kinds).

use futures::StreamExt;
use gitops_core::{ObjectRef, split_api_version};
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};

use super::KubeTarget;
use crate::applyset;
use crate::target::{MemberChange, MemberChanges, TargetError, TargetErrorKind};

impl KubeTarget {
    pub(super) async fn watch_members(
        &self,
        inventory: &str,
        kinds: &[(String, String)],
    ) -> Result<Option<MemberChanges>, TargetError> {
        let selector = format!("{}={}", applyset::PART_OF_LABEL, self.applyset_id(inventory));
        let mut streams = Vec::new();
        for (api_version, kind) in kinds {
            let (group, version) = split_api_version(api_version);
            // A kind the cluster does not serve (any more) has nothing to watch.
            let Some(served) = self.discovery.gvk(group, version, kind).await? else { continue };
            let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &served.resource);
            let config = watcher::Config::default().labels(&selector);
            let (group, kind) = (group.to_owned(), kind.clone());
            let mut listed = false;
            let stream = watcher(api, config).default_backoff().filter_map(move |event| {
                let reference = |object: &DynamicObject| {
                    ObjectRef::new(
                        &group,
                        &kind,
                        object.metadata.namespace.as_deref(),
                        object.metadata.name.as_deref().unwrap_or_default(),
                    )
                };
                let change = match event {
                    Ok(watcher::Event::Apply(object)) => Some(Ok(MemberChange::Changed(reference(&object)))),
                    Ok(watcher::Event::Delete(object)) => Some(Ok(MemberChange::Deleted(reference(&object)))),
                    // The first listing is the state the caller starts from; a later one follows a gap.
                    Ok(watcher::Event::InitDone) => {
                        std::mem::replace(&mut listed, true).then_some(Ok(MemberChange::Resynced))
                    }
                    Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => None,
                    Err(e) => {
                        Some(Err(TargetError::new(TargetErrorKind::Transient, None, format!("watch failed: {e}"))))
                    }
                };
                std::future::ready(change)
            });
            streams.push(stream.boxed());
        }
        Ok(Some(futures::stream::select_all(streams).boxed()))
    }
}
