//! Fixing name references after renames (Kustomize's name-reference transformer).
//!
//! After prefixes, suffixes and hashes rename objects, fields that refer to them by name (a
//! Deployment's `configMapRef`, a RoleBinding's `roleRef` and `subjects`, ...) still hold the old
//! names. For every referrer field the configuration lists, the old name is looked up among the
//! objects of the target kind that once had it, narrowed the way Kustomize narrows: by kind, by
//! the `roleRef`'s kind, by namespace, then by having been renamed in the same context (the same
//! prefixes and suffixes). A unique candidate gives the new name; several different ones are an
//! error; none leaves the field alone.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::config::NameReference;
use super::fieldspec::{apply, selects};
use super::resource::{ResId, ResMap, Resource};
use super::types::FieldSpec;

/// Runs every name-reference rule over every resource.
pub(crate) fn fix_references(resources: &mut ResMap, rules: &[NameReference]) -> Result<(), String> {
    for index in 0..resources.resources.len() {
        let referrer = resources.resources[index].clone();
        let org_id = referrer.org_id();
        let candidates = reachable_from(resources, &referrer);
        let mut map = std::mem::take(&mut resources.resources[index].map);
        let mut result = Ok(());
        'rules: for rule in rules {
            for spec in rule.referrers.iter().filter(|s| selects(s, &org_id)) {
                let context = Context {
                    referrer: &referrer,
                    target: &rule.target,
                    spec,
                    candidates: &candidates,
                    all: resources,
                };
                let plain = FieldSpec { create: false, ..spec.clone() };
                if let Err(e) = apply(&mut map, &plain, None, &mut |node| context.set(node)) {
                    result = Err(format!(
                        "updating name reference in '{}' field of '{}': {e}",
                        spec.path,
                        referrer.cur_id()
                    ));
                    break 'rules;
                }
            }
        }
        resources.resources[index].map = map;
        result?;
    }
    Ok(())
}

/// Indexes of the resources the referrer may refer to: cluster-scoped ones, ones in its
/// namespace, and, for a RoleBinding, ones in its subjects' namespaces.
fn reachable_from(resources: &ResMap, referrer: &Resource) -> Vec<usize> {
    let referrer_id = referrer.cur_id();
    let mut binding_namespaces = BTreeSet::new();
    if referrer.kind() == "RoleBinding"
        && let Some(Value::Array(subjects)) = referrer.map.get("subjects")
    {
        for subject in subjects {
            if let Some(ns) = subject.get("namespace").and_then(Value::as_str) {
                binding_namespaces.insert(ns.to_owned());
            }
        }
    }
    resources
        .resources
        .iter()
        .enumerate()
        .filter(|(_, candidate)| {
            if referrer_id.is_cluster_scoped() {
                return true;
            }
            let id = candidate.cur_id();
            id.is_cluster_scoped() || id.ns_equals(&referrer_id) || binding_namespaces.contains(candidate.namespace())
        })
        .map(|(i, _)| i)
        .collect()
}

struct Context<'a> {
    referrer: &'a Resource,
    target: &'a FieldSpec,
    spec: &'a FieldSpec,
    candidates: &'a [usize],
    all: &'a ResMap,
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

    fn resources(&self, indexes: &[usize]) -> Vec<&Resource> {
        indexes.iter().map(|&i| &self.all.resources[i]).collect()
    }

    fn set_scalar(&self, node: &mut Value) -> Result<(), String> {
        let Value::String(old) = node else { return Ok(()) };
        let candidates = self.resources(self.candidates);
        if let Some(referral) = self.select(old, candidates, false)? {
            *node = Value::String(referral.name().to_owned());
        }
        Ok(())
    }

    fn set_mapping(&self, map: &mut Map<String, Value>) -> Result<(), String> {
        let Some(old) = map.get("name").and_then(Value::as_str).map(str::to_owned) else {
            return Err("path config error; no 'name' field in node".to_owned());
        };
        let candidates = match map.get("namespace").and_then(Value::as_str) {
            None => self.resources(self.candidates),
            Some(ns) => {
                let all = self.resources(self.candidates);
                let by_original: Vec<&Resource> = all.iter().copied().filter(|r| r.org_id().namespace == ns).collect();
                if by_original.is_empty() {
                    all.into_iter().filter(|r| r.namespace() == ns).collect()
                } else {
                    by_original
                }
            }
        };
        let Some(referral) = self.select(&old, candidates, true)? else { return Ok(()) };
        if referral.name() == old && referral.namespace().is_empty() {
            return Ok(());
        }
        map.insert("name".into(), Value::String(referral.name().to_owned()));
        if !referral.namespace().is_empty() {
            map.insert("namespace".into(), Value::String(referral.namespace().to_owned()));
        }
        Ok(())
    }

    fn role_ref_kind(&self) -> Option<(String, String)> {
        if !self.spec.path.ends_with("roleRef/name") {
            return None;
        }
        let role_ref = self.referrer.map.get("roleRef")?;
        let group = role_ref.get("apiGroup")?.as_str()?.to_owned();
        let kind = role_ref.get("kind")?.as_str()?.to_owned();
        Some((group, kind))
    }

    fn select<'r>(
        &self,
        old: &str,
        candidates: Vec<&'r Resource>,
        with_namespace: bool,
    ) -> Result<Option<&'r Resource>, String> {
        let target = self.target;
        let role_ref = self.role_ref_kind();
        let referrer_id = self.referrer.cur_id();
        let sieved: Vec<&Resource> = candidates
            .into_iter()
            .filter(|r| r.previous_name_matches(old))
            .filter(|r| r.prev_ids.iter().any(|id| id.selected_by(&target.group, &target.version, &target.kind)))
            .filter(|r| match &role_ref {
                Some((group, kind)) => r.prev_ids.iter().any(|id| id.selected_by(group, "", kind)),
                None => true,
            })
            .filter(|r| {
                referrer_id.is_cluster_scoped() || {
                    let id: ResId = r.cur_id();
                    id.is_cluster_scoped() || r.kind() == "ServiceAccount" || referrer_id.ns_equals(&id)
                }
            })
            .collect();
        if sieved.len() == 1 {
            return Ok(Some(sieved[0]));
        }
        let mut narrowed: Vec<&Resource> =
            sieved.into_iter().filter(|r| r.affixes_match(self.referrer, true)).collect();
        if narrowed.len() > 1 {
            narrowed.retain(|r| r.affixes_match(self.referrer, false));
        }
        match narrowed.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            [first, rest @ ..] => {
                let same = rest
                    .iter()
                    .all(|r| r.name() == first.name() && (!with_namespace || r.namespace() == first.namespace()));
                if same {
                    Ok(Some(first))
                } else {
                    let ids: Vec<String> = narrowed.iter().map(|r| r.cur_id().to_string()).collect();
                    Err(format!("found multiple possible referrals: {}", ids.join(", ")))
                }
            }
        }
    }
}
