//! Reading the ordering annotations of Argo CD, Helm, kapp, Flux and our own.

use gitops_core::{Object, ObjectRef};

use crate::model::{DeletePolicy, Hook, HookEvent, HookOrigin, Phase, SkipReason, Warning};

/// `argocd.argoproj.io/sync-wave`.
pub(crate) const ARGO_WAVE: &str = "argocd.argoproj.io/sync-wave";
/// `argocd.argoproj.io/hook`.
pub(crate) const ARGO_HOOK: &str = "argocd.argoproj.io/hook";
/// `argocd.argoproj.io/hook-delete-policy`.
pub(crate) const ARGO_HOOK_DELETE: &str = "argocd.argoproj.io/hook-delete-policy";
/// `argocd.argoproj.io/sync-options`.
pub(crate) const ARGO_SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";
/// `helm.sh/hook`.
pub(crate) const HELM_HOOK: &str = "helm.sh/hook";
/// `helm.sh/hook-weight`.
pub(crate) const HELM_WEIGHT: &str = "helm.sh/hook-weight";
/// `helm.sh/hook-delete-policy`.
pub(crate) const HELM_HOOK_DELETE: &str = "helm.sh/hook-delete-policy";
/// `helm.sh/resource-policy`.
pub(crate) const HELM_RESOURCE_POLICY: &str = "helm.sh/resource-policy";
/// `kustomize.toolkit.fluxcd.io/prune`.
pub(crate) const FLUX_PRUNE: &str = "kustomize.toolkit.fluxcd.io/prune";
/// `gitops.dev/depends-on`.
pub(crate) const DEPENDS_ON: &str = "gitops.dev/depends-on";
/// `kapp.k14s.io/change-group`, also with a `.x` suffix.
pub(crate) const KAPP_GROUP: &str = "kapp.k14s.io/change-group";
/// `kapp.k14s.io/change-rule`, also with a `.x` suffix.
pub(crate) const KAPP_RULE: &str = "kapp.k14s.io/change-rule";

/// Where an object sits in time, as its annotations say.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ordering {
    pub(crate) phase: Phase,
    pub(crate) sync_wave: i64,
    pub(crate) hook: Option<Hook>,
}

/// What the annotations make of an object to apply: a step, or a reason to leave it out.
pub(crate) fn ordering(object: &Object, warnings: &mut Vec<Warning>) -> Result<Ordering, SkipReason> {
    let annotated = object.metadata().get("annotations").and_then(serde_json::Value::as_object);
    if annotated.is_none_or(serde_json::Map::is_empty) {
        return Ok(Ordering { phase: Phase::Sync, sync_wave: 0, hook: None });
    }
    let bad = |key: &str, message: String| Warning::BadAnnotation {
        object: object.object_ref(),
        key: key.to_owned(),
        message,
    };
    let mut hook = None;
    let mut phase = Phase::Sync;
    if let Some(text) = object.annotation(ARGO_HOOK) {
        let mut events = Vec::new();
        for item in csv(text) {
            match argo_event(item) {
                Some(event) => events.push(event),
                None => warnings.push(bad(ARGO_HOOK, format!("unknown hook {item:?}"))),
            }
        }
        if events.contains(&HookEvent::Skip) {
            return Err(SkipReason::SkipHook);
        }
        if !events.is_empty() {
            phase = first_phase(&events, object, ARGO_HOOK, warnings)?;
            let policy = object
                .annotation(ARGO_HOOK_DELETE)
                .map(|t| (ARGO_HOOK_DELETE, t))
                .or_else(|| object.annotation(HELM_HOOK_DELETE).map(|t| (HELM_HOOK_DELETE, t)));
            hook = Some(Hook::new(HookOrigin::Argo, events, delete_policies(policy, object, warnings)));
        }
    } else if let Some(text) = object.annotation(HELM_HOOK) {
        let mut events = Vec::new();
        for item in csv(text) {
            match helm_event(item) {
                Some(event) => events.push(event),
                None => warnings.push(bad(HELM_HOOK, format!("unknown hook {item:?}"))),
            }
        }
        if !events.is_empty() {
            phase = first_phase(&events, object, HELM_HOOK, warnings)?;
            let policy = object.annotation(HELM_HOOK_DELETE).map(|t| (HELM_HOOK_DELETE, t));
            hook = Some(Hook::new(HookOrigin::Helm, events, delete_policies(policy, object, warnings)));
        }
    }
    let sync_wave = match object.annotation(ARGO_WAVE).map(|t| (ARGO_WAVE, t)).or_else(|| {
        // Argo CD falls back to the Helm hook weight for any object.
        object.annotation(HELM_WEIGHT).map(|t| (HELM_WEIGHT, t))
    }) {
        None => 0,
        Some((key, text)) => text.trim().parse::<i64>().unwrap_or_else(|_| {
            warnings.push(bad(key, format!("{text:?} is not an integer; using 0")));
            0
        }),
    };
    Ok(Ordering { phase, sync_wave, hook })
}

/// The phase a hook runs in: that of its first event a sync runs, as Argo CD maps Helm's.
fn first_phase(
    events: &[HookEvent],
    object: &Object,
    key: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Phase, SkipReason> {
    let phases: Vec<Phase> = events.iter().filter_map(|e| sync_phase(*e)).collect();
    let Some(&first) = phases.iter().min() else {
        return Err(SkipReason::NotASyncHook);
    };
    if phases.iter().any(|p| *p != first) {
        warnings.push(Warning::BadAnnotation {
            object: object.object_ref(),
            key: key.to_owned(),
            message: format!("a hook of several phases runs once, in {first}"),
        });
    }
    Ok(first)
}

fn sync_phase(event: HookEvent) -> Option<Phase> {
    match event {
        HookEvent::PreSync | HookEvent::PreInstall | HookEvent::PreUpgrade => Some(Phase::PreSync),
        HookEvent::Sync => Some(Phase::Sync),
        HookEvent::PostSync | HookEvent::PostInstall | HookEvent::PostUpgrade => Some(Phase::PostSync),
        HookEvent::SyncFail => Some(Phase::SyncFail),
        _ => None,
    }
}

fn argo_event(text: &str) -> Option<HookEvent> {
    Some(match text {
        "PreSync" => HookEvent::PreSync,
        "Sync" => HookEvent::Sync,
        "PostSync" => HookEvent::PostSync,
        "SyncFail" => HookEvent::SyncFail,
        "Skip" => HookEvent::Skip,
        "PreDelete" => HookEvent::PreDelete,
        "PostDelete" => HookEvent::PostDelete,
        _ => return None,
    })
}

/// A Helm hook event; Helm compares them in lower case (`Post-Install` is `post-install`).
fn helm_event(text: &str) -> Option<HookEvent> {
    Some(match text.to_ascii_lowercase().as_str() {
        "pre-install" => HookEvent::PreInstall,
        "post-install" => HookEvent::PostInstall,
        "pre-upgrade" => HookEvent::PreUpgrade,
        "post-upgrade" => HookEvent::PostUpgrade,
        "pre-delete" => HookEvent::HelmPreDelete,
        "post-delete" => HookEvent::HelmPostDelete,
        "pre-rollback" => HookEvent::PreRollback,
        "post-rollback" => HookEvent::PostRollback,
        "test" | "test-success" => HookEvent::Test,
        _ => return None,
    })
}

fn delete_policies(policy: Option<(&str, &str)>, object: &Object, warnings: &mut Vec<Warning>) -> Vec<DeletePolicy> {
    let Some((key, text)) = policy else { return Vec::new() };
    let mut out = Vec::new();
    for item in csv(text) {
        match item {
            "BeforeHookCreation" | "before-hook-creation" => out.push(DeletePolicy::BeforeHookCreation),
            "HookSucceeded" | "hook-succeeded" => out.push(DeletePolicy::HookSucceeded),
            "HookFailed" | "hook-failed" => out.push(DeletePolicy::HookFailed),
            other => warnings.push(Warning::BadAnnotation {
                object: object.object_ref(),
                key: key.to_owned(),
                message: format!("unknown delete policy {other:?}"),
            }),
        }
    }
    out
}

/// Why a live object must not be pruned, if it says so.
pub(crate) fn prune_opt_out(live: &Object) -> Option<SkipReason> {
    if live.annotation(ARGO_SYNC_OPTIONS).is_some_and(|t| csv(t).any(|o| o.eq_ignore_ascii_case("Prune=false"))) {
        return Some(SkipReason::PruneDisabledArgo);
    }
    let flux = live.annotation(FLUX_PRUNE).or_else(|| live.label(FLUX_PRUNE));
    if flux.is_some_and(|v| v.eq_ignore_ascii_case("disabled")) {
        return Some(SkipReason::PruneDisabledFlux);
    }
    if live.annotation(HELM_RESOURCE_POLICY).is_some_and(|v| v.trim() == "keep") {
        return Some(SkipReason::HelmKeep);
    }
    None
}

/// The comma-separated items of an annotation, trimmed, empty ones dropped.
pub(crate) fn csv(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// A `gitops.dev/depends-on` item: `Kind/name`, `Kind/namespace/name`, where Kind may carry its
/// group as `Kind.group`. Without a namespace, a namespaced object's own namespace is meant
/// when the kind is namespaced; the caller tries both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DependsOn {
    pub(crate) group: Option<String>,
    pub(crate) kind: String,
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
}

impl DependsOn {
    /// The reference as written, for messages, with the group when given.
    pub(crate) fn as_ref(&self) -> ObjectRef {
        ObjectRef::new(self.group.clone().unwrap_or_default(), &self.kind, self.namespace.as_deref(), &self.name)
    }
}

/// Parses `gitops.dev/depends-on`.
pub(crate) fn depends_on(text: &str) -> Result<Vec<DependsOn>, String> {
    csv(text)
        .map(|item| {
            let parts: Vec<&str> = item.split('/').map(str::trim).collect();
            let (kind, namespace, name) = match parts.as_slice() {
                [kind, name] => (*kind, None, *name),
                [kind, ns, name] => (*kind, Some((*ns).to_owned()), *name),
                _ => return Err(format!("{item:?} is not Kind/name or Kind/namespace/name")),
            };
            if kind.is_empty() || name.is_empty() || namespace.as_deref() == Some("") {
                return Err(format!("{item:?} is not Kind/name or Kind/namespace/name"));
            }
            let (kind, group) = match kind.split_once('.') {
                Some((kind, group)) => (kind, Some(group.to_owned())),
                None => (kind, None),
            };
            Ok(DependsOn { group, kind: kind.to_owned(), namespace, name: name.to_owned() })
        })
        .collect()
}

/// What a kapp change rule says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangeRule {
    /// `upsert` (true) or `delete`.
    pub(crate) upsert: bool,
    /// `after` (true) or `before`.
    pub(crate) after: bool,
    /// `upserting` (true) or `deleting`.
    pub(crate) of_upserts: bool,
    /// The change group, placeholders filled in.
    pub(crate) group: String,
    /// The rule as written.
    pub(crate) text: String,
}

/// The kapp change groups and rules of an object (annotations with and without `.x` suffixes),
/// with `{api-group}`, `{kind}`, `{name}`, `{namespace}` filled in from the object.
pub(crate) fn kapp(object: &Object, warnings: &mut Vec<Warning>) -> (Vec<String>, Vec<ChangeRule>) {
    let mut groups = Vec::new();
    let mut rules = Vec::new();
    let annotations = object.metadata().get("annotations").and_then(serde_json::Value::as_object);
    let Some(annotations) = annotations else { return (groups, rules) };
    let r = object.object_ref();
    let fill = |text: &str| {
        text.replace("{api-group}", &r.group)
            .replace("{kind}", &r.kind)
            .replace("{name}", &r.name)
            .replace("{namespace}", r.namespace.as_deref().unwrap_or(""))
    };
    let matches = |key: &str, base: &str| key == base || key.strip_prefix(base).is_some_and(|s| s.starts_with('.'));
    for (key, value) in annotations {
        let Some(text) = value.as_str() else { continue };
        if matches(key, KAPP_GROUP) {
            groups.push(fill(text.trim()));
        } else if matches(key, KAPP_RULE) {
            match change_rule(text.trim()) {
                Some(mut rule) => {
                    rule.group = fill(&rule.group);
                    rules.push(rule);
                }
                None => warnings.push(Warning::BadAnnotation {
                    object: r.clone(),
                    key: key.clone(),
                    message: format!("{text:?} is not \"(upsert|delete) (after|before) (upserting|deleting) GROUP\""),
                }),
            }
        }
    }
    groups.sort();
    groups.dedup();
    (groups, rules)
}

fn change_rule(text: &str) -> Option<ChangeRule> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [action, when, what, group] = words.as_slice() else { return None };
    let upsert = match *action {
        "upsert" => true,
        "delete" => false,
        _ => return None,
    };
    let after = match *when {
        "after" => true,
        "before" => false,
        _ => return None,
    };
    let of_upserts = match *what {
        "upserting" => true,
        "deleting" => false,
        _ => return None,
    };
    Some(ChangeRule { upsert, after, of_upserts, group: (*group).to_owned(), text: text.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_on_items() {
        let items = depends_on("ConfigMap/cfg, Certificate.cert-manager.io/web/tls ,").expect("parses");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().to_string(), "ConfigMap/cfg");
        assert_eq!(items[1].group.as_deref(), Some("cert-manager.io"));
        assert_eq!(items[1].as_ref().to_string(), "Certificate/web/tls");
        assert!(depends_on("cfg").is_err());
        assert!(depends_on("a/b/c/d").is_err());
    }

    #[test]
    fn change_rules() {
        let rule = change_rule("upsert after upserting apps.big.co/db").expect("parses");
        assert!(rule.upsert && rule.after && rule.of_upserts);
        assert_eq!(rule.group, "apps.big.co/db");
        assert!(change_rule("upsert later upserting x").is_none());
        assert!(change_rule("upsert after upserting").is_none());
    }
}
