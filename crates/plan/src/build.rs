//! Building a plan: classify the diff, read ordering annotations, find references, layer waves.

use std::borrow::Cow;
use std::collections::HashMap;

use gitops_core::{Action, ManifestSet, Object};
use gitops_diff::{DiffSet, ObjectDiff};
use serde_json::Value;

use crate::annotations::{self, ChangeRule, Ordering};
use crate::error::PlanError;
use crate::graph::{self, Edge};
use crate::hash::FastMap;
use crate::model::{Dependency, Phase, Plan, Reason, Skipped, Stage, Step, Warning};
use crate::order::kind_rank;
use crate::refs::{self, Key, Reference};

/// Options for [`plan`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Delete owned objects that are no longer desired.
    pub prune: bool,
    /// Refuse a plan that deletes more than this share (0.0 to 1.0) of the objects the
    /// application owns. `None`: only a plan that deletes every object is refused.
    pub max_prune_share: Option<f64>,
    /// Allow any number of deletes, every object included.
    pub allow_mass_prune: bool,
}

impl PlanOptions {
    /// Sets whether owned objects that are no longer desired are deleted.
    #[must_use]
    pub fn prune(mut self, prune: bool) -> Self {
        self.prune = prune;
        self
    }

    /// Sets the largest share of owned objects a plan may delete (see [`PlanOptions::max_prune_share`]).
    #[must_use]
    pub fn max_prune_share(mut self, share: Option<f64>) -> Self {
        self.max_prune_share = share;
        self
    }

    /// Sets whether the prune guard is lifted.
    #[must_use]
    pub fn allow_mass_prune(mut self, allow: bool) -> Self {
        self.allow_mass_prune = allow;
        self
    }
}

/// Where a node sits before references are considered: phase, declared wave, stage. For prunes
/// the wave and stage are reversed (highest wave, then resources, deleted first).
type GroupKey = (Phase, i64, u8);

/// One object of the plan while it is built.
struct Node<'a> {
    step: Step,
    /// The object read for annotations and references: the desired one for applies, the live
    /// one for prunes; `None` for unchanged objects the diff did not copy (and no desired set
    /// was given).
    object: Option<Cow<'a, Object>>,
    /// Whether `object` is the diff's desired object, which the step carries once built.
    apply: bool,
    group: GroupKey,
}

impl Node<'_> {
    fn is_prune(&self) -> bool {
        self.step.phase == Phase::Prune
    }
}

fn stage_rank(stage: Stage) -> u8 {
    match stage {
        Stage::Definitions => 0,
        Stage::Classes => 1,
        _ => 2,
    }
}

/// Builds the plan for a diff; see the crate documentation for the rules.
///
/// The plan copies the objects to apply out of the diff; [`plan_with_desired`] moves them
/// instead. An unchanged object the inventory already records carries no desired object in the
/// diff (unless it has ordering annotations), so its references are not known here.
pub fn plan(diff: &DiffSet, options: &PlanOptions) -> Result<Plan, PlanError> {
    build(diff.diffs.iter().map(Cow::Borrowed), None, options)
}

/// Builds the plan for a diff of `desired`, consuming the diff (its objects move into the
/// plan: no copies, which matters for large sets). The references of unchanged objects are
/// read from `desired`, so a prune of a ConfigMap that an unchanged Deployment still mounts is
/// a warning, and cycles among unchanged objects are found.
pub fn plan_with_desired(diff: DiffSet, desired: &ManifestSet, options: &PlanOptions) -> Result<Plan, PlanError> {
    build(diff.diffs.into_iter().map(Cow::Owned), Some(desired), options)
}

/// The parts of one diff the planner uses, borrowed or moved.
struct Parts<'a> {
    object: gitops_core::ObjectRef,
    action: Action,
    api_version: String,
    fields: Vec<String>,
    desired: Option<Cow<'a, Object>>,
    live: Option<Object>,
}

fn parts(diff: Cow<'_, ObjectDiff>) -> Parts<'_> {
    let live = |before: Option<serde_json::Value>| before.and_then(|v| Object::from_value(v).ok());
    match diff {
        Cow::Borrowed(d) => Parts {
            object: d.object.clone(),
            action: d.action,
            api_version: d.api_version.clone(),
            fields: d.fields.clone(),
            desired: d.desired.as_ref().map(Cow::Borrowed),
            live: if d.action == Action::Delete { live(d.before.clone()) } else { None },
        },
        Cow::Owned(d) => Parts {
            live: if d.action == Action::Delete { live(d.before) } else { None },
            object: d.object,
            action: d.action,
            api_version: d.api_version,
            fields: d.fields,
            desired: d.desired.map(Cow::Owned),
        },
    }
}

fn build<'a>(
    diffs: impl ExactSizeIterator<Item = Cow<'a, ObjectDiff>>,
    desired: Option<&'a ManifestSet>,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let mut warnings = Vec::new();
    let mut nodes: Vec<Node<'a>> = Vec::with_capacity(diffs.len());
    let mut orphans = Vec::new();
    let mut skipped = Vec::new();
    let mut desired_count = 0usize;
    for d in diffs {
        let d = parts(d);
        match d.action {
            Action::Excluded => {}
            Action::Delete if !options.prune => orphans.push(d.object),
            Action::Delete => {
                if let Some(reason) = d.live.as_ref().and_then(annotations::prune_opt_out) {
                    skipped.push(Skipped { object: d.object, reason });
                    continue;
                }
                let sync_wave = match &d.live {
                    Some(live) => annotations::ordering(live, &mut Vec::new()).map_or(0, |o| o.sync_wave),
                    None => 0,
                };
                let mut step = Step::new(d.object, d.action, d.api_version);
                step.phase = Phase::Prune;
                step.sync_wave = sync_wave;
                let group = (Phase::Prune, sync_wave.saturating_neg(), 2 - stage_rank(step.stage));
                nodes.push(Node { step, object: d.live.map(Cow::Owned), apply: false, group });
            }
            _ => {
                desired_count += 1;
                let apply = d.desired.is_some();
                let object =
                    d.desired.or_else(|| desired.and_then(|set| set.get(&d.object)).map(|m| Cow::Borrowed(&m.object)));
                let ordering = match &object {
                    Some(o) => match annotations::ordering(o, &mut warnings) {
                        Ok(ordering) => ordering,
                        Err(reason) => {
                            skipped.push(Skipped { object: d.object, reason });
                            continue;
                        }
                    },
                    None => Ordering { phase: Phase::Sync, sync_wave: 0, hook: None },
                };
                let mut step = Step::new(d.object, d.action, d.api_version);
                step.phase = ordering.phase;
                step.sync_wave = ordering.sync_wave;
                step.hook = ordering.hook;
                step.fields = d.fields;
                let group = (step.phase, step.sync_wave, stage_rank(step.stage));
                nodes.push(Node { step, object, apply, group });
            }
        }
    }
    orphans.sort();
    skipped.sort();
    guard(&nodes, desired_count, options)?;

    let edges = edges(&nodes, &mut warnings);
    pull_definitions(&mut nodes, &edges);
    let layering = graph::layer(nodes.len(), &edges, |i| nodes[i].group, |i| &nodes[i].step.object)?;
    for overridden in &layering.overridden {
        let e = &edges[*overridden];
        let (from, to) = e.referrer_and_referred();
        let (from, to) = (nodes[from].step.object.clone(), nodes[to].step.object.clone());
        warnings.push(Warning::Overridden { from, to, reason: e.reason.clone() });
    }

    let mut steps: Vec<Step> = Vec::with_capacity(nodes.len());
    let mut depends: Vec<Vec<Dependency>> = vec![Vec::new(); nodes.len()];
    for &i in &layering.kept {
        let e = &edges[i];
        depends[e.dependent]
            .push(Dependency { object: nodes[e.dependency].step.object.clone(), reason: e.reason.clone() });
    }
    for ((mut node, wave), mut depends_on) in nodes.into_iter().zip(layering.waves).zip(depends) {
        depends_on.sort();
        depends_on.dedup();
        node.step.wave = wave;
        node.step.depends_on = depends_on;
        if node.apply {
            node.step.desired = node.object.map(Cow::into_owned);
        }
        steps.push(node.step);
    }
    // Helm's install order of kinds within a wave (its reverse for prunes); unknown kinds share
    // one rank and go by kind name, as Helm sorts them. Sorting positions, not the (large) steps.
    let ranks: Vec<(usize, usize)> = steps
        .iter()
        .map(|s| {
            let r = kind_rank(&s.object.kind);
            (s.wave, if s.phase == Phase::Prune { usize::MAX - r } else { r })
        })
        .collect();
    let mut order: Vec<usize> = (0..steps.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        let (x, y) = (&steps[a].object, &steps[b].object);
        (ranks[a], &x.kind, x).cmp(&(ranks[b], &y.kind, y))
    });
    let mut slots: Vec<Option<Step>> = steps.into_iter().map(Some).collect();
    let steps: Vec<Step> = order.into_iter().filter_map(|i| slots[i].take()).collect();
    warnings.sort();
    warnings.dedup();
    Ok(Plan { steps, orphans, skipped, warnings })
}

/// Moves each Namespace and CRD to the earliest phase and wave of the objects in it or of its
/// kind (and for prunes, to the latest), as Argo CD's `adjustDeps` does: a `PreSync` hook in a
/// new Namespace, or a custom resource in wave -1, must not wait for a definition in wave 0.
fn pull_definitions(nodes: &mut [Node<'_>], edges: &[Edge]) {
    for e in edges.iter().filter(|e| matches!(e.reason, Reason::InNamespace | Reason::InstanceOf)) {
        let (target, other) =
            if nodes[e.dependent].is_prune() { (e.dependent, e.dependency) } else { (e.dependency, e.dependent) };
        if nodes[target].step.hook.is_some() {
            continue;
        }
        let (phase, wave, _) = nodes[other].group;
        let moved = (phase, wave, nodes[target].group.2);
        let earlier = moved < nodes[target].group;
        if earlier != nodes[target].is_prune() && moved != nodes[target].group {
            let node = &mut nodes[target];
            node.group = moved;
            node.step.phase = phase;
            node.step.sync_wave = if phase == Phase::Prune { wave.saturating_neg() } else { wave };
        }
    }
}

/// Refuses a plan that deletes every owned object, or more than the allowed share.
fn guard(nodes: &[Node<'_>], desired: usize, options: &PlanOptions) -> Result<(), PlanError> {
    let deletes = nodes.iter().filter(|n| n.is_prune()).count();
    if options.allow_mass_prune || deletes == 0 {
        return Ok(());
    }
    let owned = deletes + desired;
    if desired == 0 {
        return Err(PlanError::TooManyDeletes { deletes, owned, limit: None });
    }
    #[allow(clippy::cast_precision_loss)] // object counts are far below 2^52
    let share = deletes as f64 / owned as f64;
    match options.max_prune_share {
        Some(limit) if share > limit => Err(PlanError::TooManyDeletes { deletes, owned, limit: Some(limit) }),
        _ => Ok(()),
    }
}

/// Kind, namespace and name: how `gitops.dev/depends-on` names an object without its group.
type NameKey<'a> = (&'a str, Option<&'a str>, &'a str);

/// Namespaces every cluster has.
fn builtin_namespace(name: &str) -> bool {
    matches!(name, "default" | "kube-system" | "kube-public" | "kube-node-lease")
}

/// Every reference between nodes, as edges `dependent -> dependency`; references to objects
/// outside the plan become warnings.
fn edges(nodes: &[Node<'_>], warnings: &mut Vec<Warning>) -> Vec<Edge> {
    let index: FastMap<Key<'_>, usize> =
        nodes.iter().enumerate().map(|(i, n)| (refs::key(&n.step.object), i)).collect();
    let mut crds: FastMap<(&str, &str), Vec<usize>> = FastMap::default();
    let mut workloads: FastMap<&str, Vec<(usize, &Value)>> = FastMap::default();
    let mut kapp_groups: HashMap<String, Vec<usize>> = HashMap::new();
    let mut kapp_rules: Vec<(usize, ChangeRule)> = Vec::new();
    let mut by_name: Option<FastMap<NameKey<'_>, Vec<usize>>> = None;
    for (i, node) in nodes.iter().enumerate() {
        let Some(object) = &node.object else { continue };
        let r = &node.step.object;
        if r.kind == "CustomResourceDefinition" && r.group == "apiextensions.k8s.io" {
            let group = object.pointer("/spec/group").and_then(Value::as_str);
            let kind = object.pointer("/spec/names/kind").and_then(Value::as_str);
            if let (Some(group), Some(kind)) = (group, kind) {
                crds.entry((group, kind)).or_default().push(i);
            }
        }
        if let (Some(ns), Some(labels)) = (r.namespace.as_deref(), refs::pod_labels(object)) {
            workloads.entry(ns).or_default().push((i, labels));
        }
        let (groups, rules) = annotations::kapp(object, warnings);
        for group in groups {
            kapp_groups.entry(group).or_default().push(i);
        }
        kapp_rules.extend(rules.into_iter().map(|rule| (i, rule)));
    }

    let mut out = Vec::new();
    let link = |from: usize, to: usize, reason: Reason, out: &mut Vec<Edge>| {
        if from != to {
            out.push(Edge::new(from, to, reason, nodes[from].is_prune()));
        }
    };
    for (i, node) in nodes.iter().enumerate() {
        let r = &node.step.object;
        let prune = node.is_prune();
        // Resolves a reference from node i: an edge within applies or within prunes; a warning
        // for an apply that refers to a pruned or absent object.
        let resolve = |to: &Reference<'_>, out: &mut Vec<Edge>, w: &mut Vec<Warning>| {
            let reason = to.reason.clone();
            match index.get(&to.key()) {
                Some(&j) if nodes[j].is_prune() == prune => link(i, j, reason, out),
                Some(_) if prune => {}
                Some(_) => w.push(Warning::RefersToPruned { from: r.clone(), to: to.to_object_ref(), reason }),
                None if to.optional || prune => {}
                None => w.push(Warning::Unresolved { from: r.clone(), to: to.to_object_ref(), reason }),
            }
        };
        if let Some(ns) = r.namespace.as_deref() {
            let namespace = Reference {
                group: "",
                kind: "Namespace",
                namespace: None,
                name: ns,
                reason: Reason::InNamespace,
                optional: builtin_namespace(ns),
            };
            resolve(&namespace, &mut out, warnings);
        }
        for &crd in crds.get(&(r.group.as_str(), r.kind.as_str())).into_iter().flatten() {
            if nodes[crd].is_prune() == prune {
                link(i, crd, Reason::InstanceOf, &mut out);
            }
        }
        let Some(object) = &node.object else { continue };
        for reference in refs::references(object) {
            resolve(&reference, &mut out, warnings);
        }
        if r.kind == "PodDisruptionBudget"
            && let (Some(ns), Some(selector)) = (r.namespace.as_deref(), object.pointer("/spec/selector"))
        {
            for &(j, labels) in workloads.get(ns).into_iter().flatten() {
                if refs::selects(selector, labels) && nodes[j].is_prune() == prune {
                    link(i, j, Reason::Protects, &mut out);
                }
            }
        }
        if let Some(text) = object.annotation(annotations::DEPENDS_ON) {
            match annotations::depends_on(text) {
                Err(message) => warnings.push(Warning::BadAnnotation {
                    object: r.clone(),
                    key: annotations::DEPENDS_ON.to_owned(),
                    message,
                }),
                Ok(items) => {
                    let by_name = by_name.get_or_insert_with(|| {
                        let mut map: FastMap<_, Vec<usize>> = FastMap::default();
                        for (j, n) in nodes.iter().enumerate() {
                            let o = &n.step.object;
                            map.entry((o.kind.as_str(), o.namespace.as_deref(), o.name.as_str())).or_default().push(j);
                        }
                        map
                    });
                    for item in items {
                        // Without a namespace: a cluster-scoped object, else one in the same namespace.
                        let namespaces = match &item.namespace {
                            Some(ns) => vec![Some(ns.as_str())],
                            None => vec![None, r.namespace.as_deref()],
                        };
                        let found: Vec<usize> = namespaces
                            .iter()
                            .filter_map(|ns| by_name.get(&(item.kind.as_str(), *ns, item.name.as_str())))
                            .flatten()
                            .copied()
                            .filter(|&j| item.group.as_ref().is_none_or(|g| *g == nodes[j].step.object.group))
                            .collect();
                        match found.first() {
                            Some(&j) if nodes[j].is_prune() == prune => link(i, j, Reason::DependsOn, &mut out),
                            // A pruned object's references to anything else order nothing.
                            _ if prune => {}
                            Some(&j) => warnings.push(Warning::RefersToPruned {
                                from: r.clone(),
                                to: nodes[j].step.object.clone(),
                                reason: Reason::DependsOn,
                            }),
                            None => warnings.push(Warning::Unresolved {
                                from: r.clone(),
                                to: item.as_ref(),
                                reason: Reason::DependsOn,
                            }),
                        }
                    }
                }
            }
        }
    }
    for (i, rule) in &kapp_rules {
        let members = kapp_groups.get(&rule.group).map(Vec::as_slice).unwrap_or_default();
        let prune = nodes[*i].is_prune();
        for &j in members {
            if nodes[j].is_prune() != prune {
                continue;
            }
            let reason = Reason::ChangeRule(rule.text.clone());
            // "upsert after upserting G": i refers to G. Prune edges are references read
            // backwards (the referred object is deleted after the referring one), so "delete
            // after deleting G" makes G refer to i. Mixed rules (upsert after deleting, ...)
            // hold by construction: every delete follows every upsert.
            if rule.upsert != rule.of_upserts {
                continue;
            }
            if rule.upsert == rule.after {
                link(*i, j, reason, &mut out);
            } else {
                link(j, *i, reason, &mut out);
            }
        }
    }
    out
}
