//! The plan's vocabulary: [`Plan`], [`Step`], [`Phase`], [`Stage`], [`Hook`], [`Dependency`].

use std::fmt;

use gitops_core::{Action, Object, ObjectRef};
use serde::{Deserialize, Serialize};

use crate::artifact::LiveVersion;

/// When a step runs in a sync, in the order the phases run.
///
/// Argo CD's phases, with the prunes in a phase of their own after every apply. `SyncFail` steps
/// run only when an earlier phase failed, and then instead of what is left of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Phase {
    /// Hooks that run before anything is applied (`PreSync`, Helm `pre-install`/`pre-upgrade`).
    PreSync,
    /// The objects themselves, and `Sync` hooks.
    Sync,
    /// Hooks that run after every object of the sync phase is applied and healthy (`PostSync`,
    /// Helm `post-install`/`post-upgrade`).
    PostSync,
    /// Deletion of owned objects that are no longer desired.
    Prune,
    /// Hooks that run only when the sync failed (`SyncFail`).
    SyncFail,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::PreSync => "PreSync",
            Phase::Sync => "Sync",
            Phase::PostSync => "PostSync",
            Phase::Prune => "Prune",
            Phase::SyncFail => "SyncFail",
        })
    }
}

/// Flux's apply stages: definitions are applied (and waited on) before classes, classes before
/// everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Stage {
    /// CustomResourceDefinitions, Namespaces and ClusterRoles (waited on: Established, Active).
    Definitions,
    /// Any kind whose name ends in `Class` (StorageClass, IngressClass, PriorityClass, ...).
    Classes,
    /// Everything else.
    Resources,
}

impl Stage {
    /// The stage of a kind (`group` is the kind's API group).
    ///
    /// ```
    /// use gitops_plan::Stage;
    /// assert_eq!(Stage::of("apiextensions.k8s.io", "CustomResourceDefinition"), Stage::Definitions);
    /// assert_eq!(Stage::of("storage.k8s.io", "StorageClass"), Stage::Classes);
    /// assert_eq!(Stage::of("apps", "Deployment"), Stage::Resources);
    /// ```
    pub fn of(group: &str, kind: &str) -> Stage {
        match (group, kind) {
            ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("", "Namespace")
            | ("rbac.authorization.k8s.io", "ClusterRole") => Stage::Definitions,
            (_, kind) if kind.ends_with("Class") => Stage::Classes,
            _ => Stage::Resources,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Definitions => "definitions",
            Stage::Classes => "classes",
            Stage::Resources => "resources",
        })
    }
}

/// Which tool's annotations declared a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum HookOrigin {
    /// `argocd.argoproj.io/hook`.
    Argo,
    /// `helm.sh/hook`.
    Helm,
}

/// A hook event as declared, spelled as in the annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum HookEvent {
    /// Argo CD `PreSync`.
    PreSync,
    /// Argo CD `Sync`.
    Sync,
    /// Argo CD `PostSync`.
    PostSync,
    /// Argo CD `SyncFail`.
    SyncFail,
    /// Argo CD `Skip`: never applied.
    Skip,
    /// Argo CD `PreDelete`: runs only when the application is deleted.
    PreDelete,
    /// Argo CD `PostDelete`: runs only when the application is deleted.
    PostDelete,
    /// Helm `pre-install`.
    #[serde(rename = "pre-install")]
    PreInstall,
    /// Helm `post-install`.
    #[serde(rename = "post-install")]
    PostInstall,
    /// Helm `pre-upgrade`.
    #[serde(rename = "pre-upgrade")]
    PreUpgrade,
    /// Helm `post-upgrade`.
    #[serde(rename = "post-upgrade")]
    PostUpgrade,
    /// Helm `pre-delete`.
    #[serde(rename = "pre-delete")]
    HelmPreDelete,
    /// Helm `post-delete`.
    #[serde(rename = "post-delete")]
    HelmPostDelete,
    /// Helm `pre-rollback`.
    #[serde(rename = "pre-rollback")]
    PreRollback,
    /// Helm `post-rollback`.
    #[serde(rename = "post-rollback")]
    PostRollback,
    /// Helm `test`.
    #[serde(rename = "test")]
    Test,
}

impl HookEvent {
    /// The annotation value.
    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::PreSync => "PreSync",
            HookEvent::Sync => "Sync",
            HookEvent::PostSync => "PostSync",
            HookEvent::SyncFail => "SyncFail",
            HookEvent::Skip => "Skip",
            HookEvent::PreDelete => "PreDelete",
            HookEvent::PostDelete => "PostDelete",
            HookEvent::PreInstall => "pre-install",
            HookEvent::PostInstall => "post-install",
            HookEvent::PreUpgrade => "pre-upgrade",
            HookEvent::PostUpgrade => "post-upgrade",
            HookEvent::HelmPreDelete => "pre-delete",
            HookEvent::HelmPostDelete => "post-delete",
            HookEvent::PreRollback => "pre-rollback",
            HookEvent::PostRollback => "post-rollback",
            HookEvent::Test => "test",
        }
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a hook object is deleted (Argo CD's names; Helm's are mapped onto them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DeletePolicy {
    /// Delete the previous copy before creating the hook (the default when none is given).
    BeforeHookCreation,
    /// Delete the hook once it succeeded.
    HookSucceeded,
    /// Delete the hook once it failed.
    HookFailed,
}

impl fmt::Display for DeletePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeletePolicy::BeforeHookCreation => "BeforeHookCreation",
            DeletePolicy::HookSucceeded => "HookSucceeded",
            DeletePolicy::HookFailed => "HookFailed",
        })
    }
}

/// A hook: an object run on every sync in its phase (typically a Job), rather than kept in sync.
///
/// An applier runs a hook step whatever its [`Step::action`] (a hook that is unchanged still runs),
/// after deleting the previous copy when [`DeletePolicy::BeforeHookCreation`] is among
/// [`Hook::delete_policies`], and deletes it after it completes as the other policies say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hook {
    /// Which annotations declared it.
    pub origin: HookOrigin,
    /// The events it was declared for, as written.
    pub events: Vec<HookEvent>,
    /// When it is deleted, sorted; never empty (`BeforeHookCreation` by default).
    pub delete_policies: Vec<DeletePolicy>,
}

impl Hook {
    /// A hook declared by `origin` for `events`, deleted as `delete_policies` say (or before the
    /// next creation, when empty).
    pub fn new(origin: HookOrigin, events: Vec<HookEvent>, mut delete_policies: Vec<DeletePolicy>) -> Hook {
        if delete_policies.is_empty() {
            delete_policies.push(DeletePolicy::BeforeHookCreation);
        }
        delete_policies.sort_unstable();
        delete_policies.dedup();
        Hook { origin, events, delete_policies }
    }
}

/// Why one object goes after another.
///
/// `Display` is the verb between the two objects: `Deployment/app mounts ConfigMap/cfg`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Reason {
    /// A custom resource and its CustomResourceDefinition.
    InstanceOf,
    /// A namespaced object and its Namespace.
    InNamespace,
    /// A pod template's volume (ConfigMap, Secret, PersistentVolumeClaim, projected sources).
    Mounts,
    /// A pod template's `env[].valueFrom` or `envFrom`.
    ReadsEnv,
    /// A pod template's `serviceAccountName`.
    RunsAs,
    /// A pod template's `imagePullSecrets`.
    PullsWith,
    /// A pod template's `priorityClassName`.
    HasPriority,
    /// A RoleBinding or ClusterRoleBinding and its role.
    Binds,
    /// A RoleBinding or ClusterRoleBinding and a ServiceAccount among its subjects.
    GrantsTo,
    /// An Ingress and a backend Service.
    RoutesTo,
    /// An object and its class (`ingressClassName`, `storageClassName`, ...).
    UsesClass,
    /// A HorizontalPodAutoscaler and its `scaleTargetRef`.
    Scales,
    /// A PodDisruptionBudget and the workloads its selector matches.
    Protects,
    /// A webhook configuration or APIService and the Service it calls.
    Calls,
    /// `gitops.dev/depends-on`.
    DependsOn,
    /// A kapp `change-rule` (`upsert after upserting <group>`), as written.
    ChangeRule(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::InstanceOf => f.write_str("is an instance of"),
            Reason::InNamespace => f.write_str("lives in"),
            Reason::Mounts => f.write_str("mounts"),
            Reason::ReadsEnv => f.write_str("reads environment from"),
            Reason::RunsAs => f.write_str("runs as"),
            Reason::PullsWith => f.write_str("pulls images with"),
            Reason::HasPriority => f.write_str("takes its priority from"),
            Reason::Binds => f.write_str("binds"),
            Reason::GrantsTo => f.write_str("grants to"),
            Reason::RoutesTo => f.write_str("routes to"),
            Reason::UsesClass => f.write_str("uses"),
            Reason::Scales => f.write_str("scales"),
            Reason::Protects => f.write_str("protects"),
            Reason::Calls => f.write_str("calls"),
            Reason::DependsOn => f.write_str("depends on"),
            Reason::ChangeRule(rule) => write!(f, "goes after, by kapp.k14s.io/change-rule \"{rule}\","),
        }
    }
}

/// One object a step waits for, and why.
///
/// For applies, `object` is applied (and healthy) first because the step's object refers to it.
/// For prunes the direction is reversed: `object` is deleted first because it refers to the
/// step's object (a Deployment goes before the ConfigMap it mounts).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dependency {
    /// The object waited for.
    pub object: ObjectRef,
    /// Why.
    pub reason: Reason,
}

/// One step: an action on one object, in a wave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Step {
    /// The object.
    pub object: ObjectRef,
    /// What to do: `Create`, `Update`, `Unchanged` (nothing, unless a hook), or `Delete`.
    pub action: Action,
    /// The `apiVersion` to address the object with.
    pub api_version: String,
    /// The ordinal of the step's wave in execution order (0 first). Steps are sorted by it;
    /// steps of one wave may run concurrently. See [`Plan::waves`].
    pub wave: usize,
    /// The sync phase.
    pub phase: Phase,
    /// The declared wave: `argocd.argoproj.io/sync-wave`, else `helm.sh/hook-weight` for Helm
    /// hooks, else 0.
    #[serde(default)]
    pub sync_wave: i64,
    /// Flux's stage of the kind.
    pub stage: Stage,
    /// Set when the object is a hook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<Hook>,
    /// What must be done before this step, and why; every one is in an earlier wave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Dependency>,
    /// For updates, the differing field paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// The object to apply, for creates, updates and hooks; for unchanged steps, when the
    /// inventory does not record the object yet (the sync adopts it). Secret values are masked
    /// when serialized.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "crate::artifact::serialize_masked")]
    pub desired: Option<Object>,
    /// The live object's version when the plan was made (see [`Plan::pin_live`]); `None` until
    /// pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveVersion>,
}

impl Step {
    /// A step in wave 0 of the sync phase, with nothing else set.
    pub fn new(object: ObjectRef, action: Action, api_version: impl Into<String>) -> Step {
        let stage = Stage::of(&object.group, &object.kind);
        Step {
            object,
            action,
            api_version: api_version.into(),
            wave: 0,
            phase: Phase::Sync,
            sync_wave: 0,
            stage,
            hook: None,
            depends_on: Vec::new(),
            fields: Vec::new(),
            desired: None,
            live: None,
        }
    }

    /// Whether the step writes to the target: a create, update or delete, or any hook.
    pub fn is_write(&self) -> bool {
        self.action.is_write() || (self.hook.is_some() && self.desired.is_some())
    }
}

/// Why a desired or owned object has no step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SkipReason {
    /// `argocd.argoproj.io/hook: Skip`.
    SkipHook,
    /// A hook for an event a sync never runs (application deletion, rollback, test).
    NotASyncHook,
    /// `argocd.argoproj.io/sync-options: Prune=false` on the live object.
    PruneDisabledArgo,
    /// `kustomize.toolkit.fluxcd.io/prune: disabled` on the live object.
    PruneDisabledFlux,
    /// `helm.sh/resource-policy: keep` on the live object.
    HelmKeep,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::SkipHook => "argocd.argoproj.io/hook: Skip",
            SkipReason::NotASyncHook => "a hook for an event a sync does not run",
            SkipReason::PruneDisabledArgo => "argocd.argoproj.io/sync-options: Prune=false",
            SkipReason::PruneDisabledFlux => "kustomize.toolkit.fluxcd.io/prune: disabled",
            SkipReason::HelmKeep => "helm.sh/resource-policy: keep",
        })
    }
}

/// An object left out of the plan on purpose.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Skipped {
    /// The object.
    pub object: ObjectRef,
    /// Why.
    pub reason: SkipReason,
}

/// Something worth telling the user that does not stop the plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
#[non_exhaustive]
pub enum Warning {
    /// `from` refers to `to`, which is not in the plan. Unless the target holds it, the step will
    /// likely fail or wait; no edge is added.
    Unresolved {
        /// The referring object.
        from: ObjectRef,
        /// The object referred to.
        to: ObjectRef,
        /// How.
        reason: Reason,
    },
    /// `from` refers to `to`, which the plan deletes.
    RefersToPruned {
        /// The referring object.
        from: ObjectRef,
        /// The object referred to, deleted by the plan.
        to: ObjectRef,
        /// How.
        reason: Reason,
    },
    /// A reference that explicit ordering (phase or wave) puts the other way round: `from`
    /// refers to `to` but runs first. The explicit ordering wins and no edge is added.
    Overridden {
        /// The referring object.
        from: ObjectRef,
        /// The object referred to, which runs later.
        to: ObjectRef,
        /// How.
        reason: Reason,
    },
    /// An annotation that could not be read; the object is planned as if it were absent.
    BadAnnotation {
        /// The object.
        object: ObjectRef,
        /// The annotation key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Unresolved { from, to, reason } => {
                write!(f, "{from} {reason} {to}, which is neither in the plan nor known to exist")
            }
            Warning::RefersToPruned { from, to, reason } => write!(f, "{from} {reason} {to}, which the plan deletes"),
            Warning::Overridden { from, to, reason } => {
                write!(f, "{from} {reason} {to}, but its phase or sync-wave puts it first")
            }
            Warning::BadAnnotation { object, key, message } => write!(f, "{object}: annotation {key}: {message}"),
        }
    }
}

/// The ordered steps of a sync, grouped in waves.
///
/// Steps are sorted by [`Step::wave`]; within a wave, by Helm's install order of kinds (its
/// reverse for prunes), then by [`ObjectRef`]. A serialized plan (`gitops plan -o json`) can be
/// read back and run (`gitops sync --plan FILE`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
    /// Owned objects no longer desired that are kept because pruning is off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orphans: Vec<ObjectRef>,
    /// Objects left out on purpose (skip hooks, prune opt-outs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// What the user should know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

impl Plan {
    /// How many steps have this action.
    pub fn count(&self, action: Action) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }

    /// Whether any step writes to the target.
    pub fn has_writes(&self) -> bool {
        self.steps.iter().any(Step::is_write)
    }

    /// The waves in execution order: each a non-empty slice of steps that may run concurrently,
    /// every dependency of which is in an earlier wave.
    ///
    /// ```
    /// use gitops_core::{parse_manifests, Inventory, ManifestSet, yaml::ReadOptions};
    /// use gitops_plan::{plan, PlanOptions};
    ///
    /// let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n\
    ///             apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n---\n\
    ///             apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: shop}\n";
    /// let desired = ManifestSet::from_manifests(parse_manifests(text, "x.yaml", &ReadOptions::default())?)?;
    /// let diff = gitops_diff::diff(&desired, &Default::default(), &Inventory::default());
    /// let plan = plan(&diff, &PlanOptions::default())?;
    /// let waves: Vec<usize> = plan.waves().map(<[_]>::len).collect();
    /// assert_eq!(waves, [1, 2], "the Namespace, then both ConfigMaps at once");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn waves(&self) -> impl Iterator<Item = &[Step]> + '_ {
        self.steps.chunk_by(|a, b| a.wave == b.wave)
    }

    /// The step of an object.
    pub fn step(&self, object: &ObjectRef) -> Option<&Step> {
        self.steps.iter().find(|s| &s.object == object)
    }
}

impl Plan {
    /// The objects referred to but not in the plan ([`Warning::Unresolved`]), each once, in
    /// order: the caller looks them up on the target and passes those found to
    /// [`Plan::resolve`].
    pub fn unresolved(&self) -> Vec<&ObjectRef> {
        let mut out: Vec<&ObjectRef> = self
            .warnings
            .iter()
            .filter_map(|w| match w {
                Warning::Unresolved { to, .. } => Some(to),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Drops the [`Warning::Unresolved`] warnings about objects the target holds.
    pub fn resolve(&mut self, existing: &std::collections::BTreeSet<ObjectRef>) {
        self.warnings.retain(|w| !matches!(w, Warning::Unresolved { to, .. } if existing.contains(to)));
    }
}
