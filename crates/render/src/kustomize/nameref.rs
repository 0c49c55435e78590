//! Fixing name references after renames (Kustomize's name-reference transformer).
//!
//! After prefixes, suffixes and hashes rename objects, fields that refer to them by name (a
//! Deployment's `configMapRef`, a RoleBinding's `roleRef` and `subjects`, ...) still hold the old
//! names. For every referrer field the configuration lists, the old name is looked up among the
//! objects of the target kind that once had it, narrowed the way Kustomize narrows: by kind, by
//! the `roleRef`'s kind, by namespace, then by having been renamed in the same context (the same
//! prefixes and suffixes). A unique candidate gives the new name; several different ones are an
//! error; none leaves the field alone.
//!
//! Candidates are found through an index from every previous name to the objects that had it, so
//! the pass costs time in proportion to the references, not to references × objects.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::config::NameReference;
use super::fieldspec::{apply, selects};
use super::resource::{ResId, ResMap, Resource};
use super::types::FieldSpec;

/// What the pass needs to know of every resource, computed once.
struct Known {
    cur: ResId,
    cluster: bool,
}

/// The referrer's facts, taken before its fields are rewritten.
struct Referrer {
    index: usize,
    cur: ResId,
    cluster: bool,
    binding_namespaces: BTreeSet<String>,
    role_ref: Option<(String, String)>,
}

/// Runs every name-reference rule over every resource.
pub(crate) fn fix_references(resources: &mut ResMap, rules: &[NameReference]) -> Result<(), String> {
    let known: Vec<Known> = resources
        .resources
        .iter()
        .map(|r| {
            let cur = r.cur_id();
            Known { cluster: cur.is_cluster_scoped(), cur }
        })
        .collect();
    let mut by_previous_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (index, resource) in resources.resources.iter().enumerate() {
        let names: BTreeSet<&str> = resource.prev_ids.iter().map(|id| id.name.as_str()).collect();
        for name in names {
            by_previous_name.entry(name.to_owned()).or_default().push(index);
        }
    }
    // Referrer specs by the kind they select; specs without a kind apply to every kind.
    let mut by_kind: HashMap<&str, Vec<(&FieldSpec, &FieldSpec)>> = HashMap::new();
    let mut any_kind: Vec<(&FieldSpec, &FieldSpec)> = Vec::new();
    for rule in rules {
        for spec in &rule.referrers {
            if spec.kind.is_empty() {
                any_kind.push((&rule.target, spec));
            } else {
                by_kind.entry(spec.kind.as_str()).or_default().push((&rule.target, spec));
            }
        }
    }
    for index in 0..resources.resources.len() {
        let org = resources.resources[index].org_id();
        let specs: Vec<(&FieldSpec, &FieldSpec)> = by_kind
            .get(org.kind.as_str())
            .into_iter()
            .flatten()
            .chain(&any_kind)
            .filter(|(_, spec)| selects(spec, &org))
            .copied()
            .collect();
        if specs.is_empty() {
            continue;
        }
        let referrer = referrer_facts(&resources.resources[index], index, &known);
        let mut map = std::mem::take(&mut resources.resources[index].map);
        let mut result = Ok(());
        for (target, spec) in specs {
            let context = Context {
                referrer: &referrer,
                affixes: &resources.resources[index],
                target,
                spec,
                all: resources,
                known: &known,
                by_previous_name: &by_previous_name,
            };
            let plain = FieldSpec { create: false, ..spec.clone() };
            if let Err(e) = apply(&mut map, &plain, None, &mut |node| context.set(node)) {
                result = Err(format!("updating name reference in '{}' field of '{}': {e}", spec.path, referrer.cur));
                break;
            }
        }
        resources.resources[index].map = map;
        result?;
    }
    Ok(())
}

fn referrer_facts(resource: &Resource, index: usize, known: &[Known]) -> Referrer {
    let mut binding_namespaces = BTreeSet::new();
    if resource.kind() == "RoleBinding"
        && let Some(Value::Array(subjects)) = resource.map.get("subjects")
    {
        for subject in subjects {
            if let Some(ns) = subject.get("namespace").and_then(Value::as_str) {
                binding_namespaces.insert(ns.to_owned());
            }
        }
    }
    let role_ref = resource
        .map
        .get("roleRef")
        .and_then(|r| Some((r.get("apiGroup")?.as_str()?.to_owned(), r.get("kind")?.as_str()?.to_owned())));
    Referrer { index, cur: known[index].cur.clone(), cluster: known[index].cluster, binding_namespaces, role_ref }
}

struct Context<'a> {
    referrer: &'a Referrer,
    /// The referrer's resource, for its prefixes and suffixes (its map is taken out meanwhile).
    affixes: &'a Resource,
    target: &'a FieldSpec,
    spec: &'a FieldSpec,
    all: &'a ResMap,
    known: &'a [Known],
    by_previous_name: &'a HashMap<String, Vec<usize>>,
}

impl Context<'_> {
    fn set(&self, node: &mut Value) -> Result<(), String> {
        match node {
            Value::Null => Ok(()),
            Value::String(_) => self.set_scalar(node),
            Value::Object(map) => self.set_mapping(map),
            Value::Array(items) => items.iter_mut().try_for_each(|item| match item {
                Value::Null => Ok(()),
                Value::String(_) => self.set_scalar(item),
                Value::Object(map) => self.set_mapping(map),
                other => Err(format!("{other} is expected to be either a string or a map of string")),
            }),
            _ => Err("node must be a scalar, sequence or map".to_owned()),
        }
    }

    /// Resources the referrer can reach that once had `name`: cluster-scoped ones, ones in its
    /// namespace, and, for a RoleBinding, ones in its subjects' namespaces.
    fn candidates(&self, name: &str) -> Vec<usize> {
        let referrer = self.referrer;
        self.by_previous_name
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| {
                let k = &self.known[i];
                referrer.cluster
                    || k.cluster
                    || k.cur.ns_equals(&referrer.cur)
                    || referrer.binding_namespaces.contains(&k.cur.namespace)
            })
            .collect()
    }

    fn set_scalar(&self, node: &mut Value) -> Result<(), String> {
        let Value::String(old) = node else { return Ok(()) };
        let candidates = self.candidates(old);
        if let Some(referral) = self.select(candidates, false)? {
            *node = Value::String(self.known[referral].cur.name.clone());
        }
        Ok(())
    }

    fn set_mapping(&self, map: &mut Map<String, Value>) -> Result<(), String> {
        let Some(old) = map.get("name").and_then(Value::as_str).map(str::to_owned) else {
            return Err("path config error; no 'name' field in node".to_owned());
        };
        let mut candidates = self.candidates(&old);
        if let Some(ns) = map.get("namespace").and_then(Value::as_str) {
            let by_original: Vec<usize> =
                candidates.iter().copied().filter(|&i| self.all.resources[i].org_id().namespace == ns).collect();
            candidates = if by_original.is_empty() {
                candidates.into_iter().filter(|&i| self.known[i].cur.namespace == ns).collect()
            } else {
                by_original
            };
        }
        let Some(referral) = self.select(candidates, true)? else { return Ok(()) };
        let id = &self.known[referral].cur;
        if id.name == old && id.namespace.is_empty() {
            return Ok(());
        }
        map.insert("name".into(), Value::String(id.name.clone()));
        if !id.namespace.is_empty() {
            map.insert("namespace".into(), Value::String(id.namespace.clone()));
        }
        Ok(())
    }

    fn select(&self, candidates: Vec<usize>, with_namespace: bool) -> Result<Option<usize>, String> {
        let target = self.target;
        let role_ref = if self.spec.path.ends_with("roleRef/name") { self.referrer.role_ref.as_ref() } else { None };
        let referrer = self.referrer;
        let sieved: Vec<usize> = candidates
            .into_iter()
            .filter(|&i| {
                let r = &self.all.resources[i];
                let k = &self.known[i];
                r.prev_ids.iter().any(|id| id.selected_by(&target.group, &target.version, &target.kind))
                    && role_ref.is_none_or(|(group, kind)| r.prev_ids.iter().any(|id| id.selected_by(group, "", kind)))
                    && (referrer.cluster
                        || k.cluster
                        || k.cur.kind == "ServiceAccount"
                        || referrer.cur.ns_equals(&k.cur))
            })
            .collect();
        if let [one] = sieved.as_slice() {
            return Ok(Some(*one));
        }
        let affix = |i: usize, allow_empty: bool| {
            let other = if i == referrer.index { self.affixes } else { &self.all.resources[i] };
            other.affixes_match(self.affixes, allow_empty)
        };
        let mut narrowed: Vec<usize> = sieved.into_iter().filter(|&i| affix(i, true)).collect();
        if narrowed.len() > 1 {
            narrowed.retain(|&i| affix(i, false));
        }
        match narrowed.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            [first, rest @ ..] => {
                let first_id = &self.known[*first].cur;
                let same = rest.iter().all(|&i| {
                    let id = &self.known[i].cur;
                    id.name == first_id.name && (!with_namespace || id.namespace == first_id.namespace)
                });
                if same {
                    Ok(Some(*first))
                } else {
                    let ids: Vec<String> = narrowed.iter().map(|&i| self.known[i].cur.to_string()).collect();
                    Err(format!("found multiple possible referrals: {}", ids.join(", ")))
                }
            }
        }
    }
}
