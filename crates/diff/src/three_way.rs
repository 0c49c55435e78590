//! `ThreeWayDiff`: the options of a diff, and the diff of whole sets and single objects.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use gitops_core::schema::{Node, Schema};
use gitops_core::{Action, Gvk, Inventory, ManifestSet, Object, ObjectRef};
use serde_json::{Map, Value};

use crate::diffset::{DiffSet, Exclusion, FieldChange, LastAppliedSource, ObjectDiff};
use crate::fields;
use crate::ignore::IgnoreRule;
use crate::index::Index;
use crate::last_applied::{last_applied_from_annotation, last_applied_from_managed_fields};
use crate::managed::{field_sets, remove_owned};
use crate::mask::Masker;
use crate::normalize::{Normalizer, Side, fold_string_data, is_secret, strip_server_fields};
use crate::walk::{Nodes, Walk, identical_maps};

/// The object a diff is about, how to address it, and whether the inventory records it at
/// that `apiVersion` already.
struct Target {
    object: ObjectRef,
    api_version: String,
    owned: bool,
}

/// The schema roots of the kinds seen so far: most sets have a few kinds and many objects.
struct Roots<'s> {
    schema: &'s Schema,
    known: Vec<(String, String, Node<'s>)>,
}

impl<'s> Roots<'s> {
    fn new(schema: &'s Schema) -> Roots<'s> {
        Roots { schema, known: Vec::new() }
    }

    fn get(&mut self, object: &Object) -> Node<'s> {
        let (api_version, kind) = (fields::api_version(object), fields::kind(object));
        if let Some((_, _, root)) = self.known.iter().find(|(v, k, _)| v == api_version && k == kind) {
            return *root;
        }
        let root = self.schema.root_or_deduced(&Gvk::from_api_version(api_version, kind));
        self.known.push((api_version.to_owned(), kind.to_owned(), root));
        root
    }
}

/// Desired, live and last applied, as maps.
type Sides<'m> = (&'m Map<String, Value>, &'m Map<String, Value>, Option<&'m Map<String, Value>>);

/// Flux's per-object apply policy annotation.
const FLUX_SSA: &str = "kustomize.toolkit.fluxcd.io/ssa";
/// Argo CD's per-object comparison options annotation.
const ARGO_COMPARE_OPTIONS: &str = "argocd.argoproj.io/compare-options";

/// What to compare: the desired set, the live objects, what was applied last, and the inventory.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Inputs<'a> {
    /// The objects rendered from Git.
    pub desired: &'a ManifestSet,
    /// The target's copies of the desired and owned objects (missing objects are absent).
    pub live: &'a BTreeMap<ObjectRef, Object>,
    /// What this engine applied last, per object, when the caller keeps a record of it.
    pub last_applied: Option<&'a BTreeMap<ObjectRef, Object>>,
    /// The objects the application owns: those no longer desired are prune candidates.
    pub inventory: &'a Inventory,
}

impl<'a> Inputs<'a> {
    /// Inputs without a last-applied record.
    pub fn new(
        desired: &'a ManifestSet,
        live: &'a BTreeMap<ObjectRef, Object>,
        inventory: &'a Inventory,
    ) -> Inputs<'a> {
        Inputs { desired, live, last_applied: None, inventory }
    }

    /// The record of what was applied last. A target that stores exactly what was applied (a
    /// directory, memory) can pass its live objects: every live field was then set by us, and
    /// the diff is a two-way comparison.
    #[must_use]
    pub fn last_applied(mut self, last_applied: &'a BTreeMap<ObjectRef, Object>) -> Inputs<'a> {
        self.last_applied = Some(last_applied);
        self
    }
}

/// The options of a three-way diff, and the diff itself ([`ThreeWayDiff::diff`]).
///
/// ```
/// use gitops_diff::{IgnoreRule, ThreeWayDiff};
/// let options = ThreeWayDiff::default()
///     .field_manager("gitops")
///     .ignore(IgnoreRule::new().kind("Deployment").json_pointer("/spec/replicas")?);
/// # let _ = options;
/// # Ok::<(), gitops_diff::IgnoreRuleError>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ThreeWayDiff {
    /// The schema (with CRDs) that says how lists and maps compare; the built-in table when unset.
    pub schema: Option<Schema>,
    /// Fields to leave out of the comparison.
    pub ignore: Vec<IgnoreRule>,
    /// The user's normalizers, run after the built-in ones.
    pub normalizers: Vec<Arc<dyn Normalizer>>,
    /// This engine's field manager: when the caller has no record of an object, its
    /// `managedFields` entries with operation `Apply` stand for what was last applied.
    pub field_manager: Option<String>,
    /// Whether the `kubectl.kubernetes.io/last-applied-configuration` annotation stands for what
    /// was last applied when nothing else does (objects once applied client-side). Default on.
    pub last_applied_annotation: bool,
}

impl Default for ThreeWayDiff {
    fn default() -> ThreeWayDiff {
        ThreeWayDiff {
            schema: None,
            ignore: Vec::new(),
            normalizers: Vec::new(),
            field_manager: None,
            last_applied_annotation: true,
        }
    }
}

impl fmt::Debug for ThreeWayDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreeWayDiff")
            .field("schema", &self.schema)
            .field("ignore", &self.ignore)
            .field("normalizers", &self.normalizers.len())
            .field("field_manager", &self.field_manager)
            .field("last_applied_annotation", &self.last_applied_annotation)
            .finish()
    }
}

impl ThreeWayDiff {
    /// Uses this schema (the built-in table plus CRDs) to compare lists and maps.
    #[must_use]
    pub fn schema(mut self, schema: Schema) -> ThreeWayDiff {
        self.schema = Some(schema);
        self
    }

    /// Adds an ignore rule.
    #[must_use]
    pub fn ignore(mut self, rule: IgnoreRule) -> ThreeWayDiff {
        self.ignore.push(rule);
        self
    }

    /// Adds a normalizer, run after those added before.
    #[must_use]
    pub fn normalizer(mut self, normalizer: impl Normalizer + 'static) -> ThreeWayDiff {
        self.normalizers.push(Arc::new(normalizer));
        self
    }

    /// Sets this engine's field manager (see [`ThreeWayDiff::field_manager`]).
    #[must_use]
    pub fn field_manager(mut self, manager: impl Into<String>) -> ThreeWayDiff {
        self.field_manager = Some(manager.into());
        self
    }

    /// Sets whether the client-side-apply annotation stands for the last-applied object.
    #[must_use]
    pub fn last_applied_annotation(mut self, use_it: bool) -> ThreeWayDiff {
        self.last_applied_annotation = use_it;
        self
    }

    pub(crate) fn schema_ref(&self) -> &Schema {
        self.schema.as_ref().unwrap_or_else(|| Schema::builtin())
    }

    pub(crate) fn nodes() -> Nodes<'static> {
        let builtin = Schema::builtin();
        let deduced = builtin.root_or_deduced(&Gvk::new("gitops.invalid", "v0", "Unknown"));
        let metadata =
            builtin.root(&Gvk::new("", "v1", "ConfigMap")).and_then(|cm| cm.field("metadata")).unwrap_or(deduced);
        Nodes { metadata, deduced }
    }

    /// Compares a whole desired set with the live objects, matched by [`ObjectRef`]. Desired
    /// objects come first, in render order; then the inventory's objects that are no longer
    /// desired (prune candidates), in [`ObjectRef`] order.
    pub fn diff(&self, inputs: &Inputs<'_>) -> DiffSet {
        let nodes = Self::nodes();
        let mut roots = Roots::new(self.schema_ref());
        let index = Index::new(inputs);
        let mut diffs = Vec::with_capacity(inputs.desired.len() + inputs.inventory.len());
        // Desired objects the inventory records: when that is all of it, nothing is pruned.
        let mut recorded = 0;
        for manifest in inputs.desired {
            let object = fields::object_ref(&manifest.object);
            let found = index.get(&object);
            let api_version = fields::api_version(&manifest.object).to_owned();
            recorded += usize::from(found.inventory.is_some());
            let owned = found.inventory.is_some_and(|v| *v == api_version);
            let target = Target { object, api_version, owned };
            diffs.push(self.object(nodes, &mut roots, target, Some(&manifest.object), found.live, found.last));
        }
        if recorded < inputs.inventory.len() {
            for (object, api_version) in &inputs.inventory.objects {
                if inputs.desired.contains(object) {
                    continue;
                }
                let target = Target { object: object.clone(), api_version: api_version.clone(), owned: true };
                diffs.push(self.object(nodes, &mut roots, target, None, index.get(object).live, None));
            }
        }
        DiffSet { diffs }
    }

    /// Compares one object. `None` when it is neither desired nor live. The action is `Create`
    /// without a live object, `Delete` without a desired one (a prune candidate).
    pub fn diff_object(
        &self,
        desired: Option<&Object>,
        live: Option<&Object>,
        last_applied: Option<&Object>,
    ) -> Option<ObjectDiff> {
        let known = desired.or(live)?;
        let target = Target {
            object: fields::object_ref(known),
            api_version: fields::api_version(known).to_owned(),
            owned: false,
        };
        Some(self.object(Self::nodes(), &mut Roots::new(self.schema_ref()), target, desired, live, last_applied))
    }

    fn object(
        &self,
        nodes: Nodes<'_>,
        roots: &mut Roots<'_>,
        target: Target,
        desired: Option<&Object>,
        live: Option<&Object>,
        record: Option<&Object>,
    ) -> ObjectDiff {
        let Target { object, api_version, owned } = target;
        if let Some(reason) = exclusion(desired, live) {
            let mut diff = ObjectDiff::new(object, Action::Excluded, api_version);
            diff.excluded = Some(reason);
            return diff;
        }
        let secret = is_secret(&object);
        match (desired, live) {
            (None, live) => {
                let mut diff = ObjectDiff::new(object, Action::Delete, api_version);
                diff.before = live.map(|live| {
                    let mut before = live.to_value();
                    strip_server_fields(&mut before);
                    if secret {
                        mask_views(&mut [&mut before]);
                    }
                    before
                });
                diff
            }
            (Some(desired), None) => {
                let mut after = desired.to_value();
                if secret {
                    fold_string_data(&mut after);
                }
                self.run_normalizers(&object, Side::Desired, &mut after);
                strip_server_fields(&mut after);
                if secret {
                    mask_views(&mut [&mut after]);
                }
                let mut diff = ObjectDiff::new(object, Action::Create, api_version).with_desired(Some(desired.clone()));
                diff.after = Some(after);
                diff
            }
            (Some(desired), Some(live)) => {
                let root = roots.get(desired);
                self.compare(nodes, root, Target { object, api_version, owned }, desired, live, record)
            }
        }
    }

    fn run_normalizers(&self, object: &ObjectRef, side: Side, value: &mut Value) {
        for normalizer in self.normalizers.iter().filter(|n| n.applies_to(object)) {
            normalizer.normalize(object, side, value);
        }
    }

    /// The last-applied object: the caller's record, else our manager's `managedFields`, else the
    /// client-side-apply annotation.
    fn last_applied<'o>(
        &self,
        record: Option<&'o Object>,
        live: &Object,
    ) -> Option<(Cow<'o, Object>, LastAppliedSource)> {
        if let Some(record) = record {
            return Some((Cow::Borrowed(record), LastAppliedSource::Record));
        }
        if let Some(last) = self.field_manager.as_deref().and_then(|m| last_applied_from_managed_fields(live, m)) {
            return Some((Cow::Owned(last), LastAppliedSource::ManagedFields));
        }
        if self.last_applied_annotation
            && let Some(last) = last_applied_from_annotation(live)
        {
            return Some((Cow::Owned(last), LastAppliedSource::Annotation));
        }
        None
    }

    fn compare(
        &self,
        nodes: Nodes<'_>,
        root: Node<'_>,
        target: Target,
        desired: &Object,
        live: &Object,
        record: Option<&Object>,
    ) -> ObjectDiff {
        let Target { object, api_version, owned: in_inventory } = target;
        let last = self.last_applied(record, live);
        let secret = is_secret(&object);
        let rules: Vec<&IgnoreRule> = self.ignore.iter().filter(|r| r.selects(&object, Some(desired))).collect();
        let rewrite = secret || !rules.is_empty() || self.normalizers.iter().any(|n| n.applies_to(&object));

        let prepared = rewrite.then(|| {
            let mut want = desired.to_value();
            let mut have = live.to_value();
            let mut owned = last.as_ref().map(|(l, _)| l.to_value());
            if secret {
                for value in [Some(&mut want), Some(&mut have), owned.as_mut()].into_iter().flatten() {
                    fold_string_data(value);
                }
            }
            self.run_normalizers(&object, Side::Desired, &mut want);
            self.run_normalizers(&object, Side::Live, &mut have);
            if let Some(owned) = owned.as_mut() {
                self.run_normalizers(&object, Side::LastApplied, owned);
            }
            let managers: Vec<&str> = rules.iter().flat_map(|r| r.managers()).map(String::as_str).collect();
            let sets = if managers.is_empty() {
                Vec::new()
            } else {
                field_sets(live.as_map(), |manager, _| managers.contains(&manager))
            };
            for value in [Some(&mut want), owned.as_mut()].into_iter().flatten() {
                for rule in &rules {
                    rule.remove_from(value);
                }
                for set in &sets {
                    remove_owned(value, set);
                }
            }
            (want, have, owned)
        });
        let empty = Map::new();
        let (want, have, owned): Sides<'_> = match &prepared {
            Some((want, have, owned)) => (
                want.as_object().unwrap_or(&empty),
                have.as_object().unwrap_or(&empty),
                owned.as_ref().map(|o| o.as_object().unwrap_or(&empty)),
            ),
            None => (desired.as_map(), live.as_map(), last.as_ref().map(|(l, _)| l.as_map())),
        };

        let (mut changes, mirrored, walked_last) = changes(nodes, root, want, have, owned, true);
        let mut drift: Vec<FieldChange> = match owned {
            None => Vec::new(),
            Some(owned) if std::ptr::eq(owned, have) => Vec::new(),
            // Last applied is desired: what drifted is exactly what the sync changes back.
            Some(_) if mirrored => changes.iter().cloned().map(invert).collect(),
            Some(owned) => drift(nodes, root, owned, have),
        };

        let (mut before, mut after) = (None, None);
        if !changes.is_empty() {
            let mut walk = Walk::new(nodes, true);
            let mut merged = walk.root(root, want, have, walked_last).unwrap_or(Value::Null);
            strip_server_fields(&mut merged);
            let mut current = Value::Object(have.clone());
            strip_server_fields(&mut current);
            before = Some(current);
            after = Some(merged);
        }
        if secret {
            let mut masker = Masker::default();
            masker.register(Some(have));
            masker.register(after.as_ref().and_then(Value::as_object).or(Some(want)));
            masker.register(owned);
            for view in [before.as_mut(), after.as_mut()].into_iter().flatten() {
                masker.mask_object(view);
            }
            for change in changes.iter_mut().chain(drift.iter_mut()) {
                masker.mask_change(change);
            }
        }

        let action = if changes.is_empty() { Action::Unchanged } else { Action::Update };
        // An unchanged object the inventory records needs nothing from a sync: no apply, no
        // adoption into the inventory. Not copying it keeps diffing large sets cheap. Hooks run
        // on every sync, and the planner reads the ordering annotations, so objects carrying
        // them are kept.
        let keep = action == Action::Update || !in_inventory || orders_sync(desired);
        let mut diff = ObjectDiff::new(object, action, api_version)
            .with_desired(keep.then(|| desired.clone()))
            .with_changes(changes);
        diff.drift = drift;
        diff.last_applied = last.map(|(_, source)| source);
        diff.before = before;
        diff.after = after;
        diff
    }
}

/// Whether an object carries annotations that place it in a sync (hooks, waves, dependencies),
/// which a planner needs even when the object is unchanged.
fn orders_sync(object: &Object) -> bool {
    const KEYS: &[&str] = &[
        "argocd.argoproj.io/hook",
        "argocd.argoproj.io/sync-wave",
        "helm.sh/hook",
        "helm.sh/hook-weight",
        "gitops.dev/depends-on",
        "kapp.k14s.io/change-group",
        "kapp.k14s.io/change-rule",
    ];
    fields::annotations(object).is_some_and(|annotations| {
        annotations
            .keys()
            .any(|k| KEYS.iter().any(|key| k == key || k.strip_prefix(key).is_some_and(|s| s.starts_with('.'))))
    })
}

/// A change of live towards desired, turned into drift of live away from last applied.
fn invert(change: FieldChange) -> FieldChange {
    FieldChange::new(change.path, change.kind.inverse(), change.after, change.before)
}

/// The changes a sync makes to `live`; whether last applied mirrors desired (then the drift is
/// the changes inverted); and the last-applied object the walk needs.
///
/// When last applied is identical to desired (an unchanged object: what was applied last sync
/// is what is desired now, the common case), it marks no field as ours that desired does not
/// set, and the walk can leave it out: a removal needs a field last applied has and desired
/// lacks, and a changed scalar needs them to differ. Checking that costs one cheap pass over
/// both, and saves matching every field of last applied during the walk. `shortcut: false`
/// walks all three regardless (the laws compare the two).
pub(crate) fn changes<'a>(
    nodes: Nodes<'a>,
    root: Node<'a>,
    want: &'a Map<String, Value>,
    have: &'a Map<String, Value>,
    owned: Option<&'a Map<String, Value>>,
    shortcut: bool,
) -> (Vec<FieldChange>, bool, Option<&'a Map<String, Value>>) {
    let mirror_of_desired = shortcut && owned.is_some_and(|o| std::ptr::eq(o, want) || identical_maps(want, o));
    let last = if mirror_of_desired { None } else { owned };
    let mut walk = Walk::new(nodes, false);
    walk.root(root, want, have, last);
    (walk.changes, mirror_of_desired || walk.mirror, last)
}

/// The drift of `live` from `last`: the fields last applied whose live value differs.
pub(crate) fn drift<'a>(
    nodes: Nodes<'a>,
    root: Node<'a>,
    last: &'a Map<String, Value>,
    live: &'a Map<String, Value>,
) -> Vec<FieldChange> {
    let mut walk = Walk::new(nodes, false);
    walk.root(root, last, live, None);
    walk.changes.into_iter().map(invert).collect()
}

/// Masks the Secret values of whole objects, numbered together.
fn mask_views(views: &mut [&mut Value]) {
    let mut masker = Masker::default();
    for view in views.iter() {
        masker.register(view.as_object());
    }
    for view in views.iter_mut() {
        masker.mask_object(view);
    }
}

/// Whether an annotation leaves the object out of the sync.
fn exclusion(desired: Option<&Object>, live: Option<&Object>) -> Option<Exclusion> {
    let annotation = |object: Option<&Object>, key: &str| -> Option<String> {
        Some(fields::annotation(object?, key)?.trim().to_ascii_lowercase())
    };
    let (want, have) = (annotation(desired, FLUX_SSA), annotation(live, FLUX_SSA));
    let policy = |p: &str| want.as_deref() == Some(p) || have.as_deref() == Some(p);
    if policy("ignore") {
        return Some(Exclusion::SsaIgnore);
    }
    if desired.is_some() && live.is_some() && policy("ifnotpresent") {
        return Some(Exclusion::SsaIfNotPresent);
    }
    if desired.is_none()
        && annotation(live, ARGO_COMPARE_OPTIONS)
            .is_some_and(|options| options.split(',').any(|o| o.trim() == "ignoreextraneous"))
    {
        return Some(Exclusion::IgnoreExtraneous);
    }
    None
}

/// Compares `desired` with `live` (the target's copies of desired and owned objects) and with the
/// `inventory` of what was applied before, taking the live objects as what was applied last: a
/// two-way comparison, right for targets that store exactly what was applied (directories,
/// memory). Use [`ThreeWayDiff::diff`] with a last-applied record for a cluster.
pub fn diff(desired: &ManifestSet, live: &BTreeMap<ObjectRef, Object>, inventory: &Inventory) -> DiffSet {
    ThreeWayDiff::default().diff(&Inputs::new(desired, live, inventory).last_applied(live))
}
