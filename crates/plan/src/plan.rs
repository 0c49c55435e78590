//! The plan and how it is built.

use gitops_core::{Action, Object, ObjectRef};
use gitops_diff::DiffSet;
use serde::Serialize;

use crate::order::kind_rank;

/// Options for [`plan`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Delete owned objects that are no longer desired.
    pub prune: bool,
}

impl PlanOptions {
    /// Sets whether owned objects that are no longer desired are deleted.
    #[must_use]
    pub fn prune(mut self, prune: bool) -> Self {
        self.prune = prune;
        self
    }
}

/// One step: an action on one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// The object.
    pub object: ObjectRef,
    /// What to do: `Create`, `Update`, `Unchanged` (nothing), or `Delete`.
    pub action: Action,
    /// The `apiVersion` to address the object with.
    pub api_version: String,
    /// For updates, the differing field paths.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// The object to apply, for creates and updates; for unchanged steps, when the inventory
    /// does not record the object yet (the sync adopts it).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_masked")]
    pub desired: Option<Object>,
}

/// An ordered list of steps: applies in kind order, then prunes in reverse order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
    /// Owned objects no longer desired that are kept because pruning is off.
    pub orphans: Vec<ObjectRef>,
}

impl Plan {
    /// How many steps have this action.
    pub fn count(&self, action: Action) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }

    /// Whether any step writes to the target.
    pub fn has_writes(&self) -> bool {
        self.steps.iter().any(|s| s.action.is_write())
    }
}

/// Serializes the object to apply with Secret values replaced, so a printed or saved plan never
/// holds them (the project's rule for plans, diffs, logs and errors).
#[allow(clippy::ref_option)] // serde's `serialize_with` passes the field as `&Option<T>`
fn serialize_masked<S: serde::Serializer>(desired: &Option<Object>, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    let Some(object) = desired else { return serializer.serialize_none() };
    if object.kind() != "Secret" {
        return object.serialize(serializer);
    }
    let mut value = object.to_value();
    for field in ["data", "stringData"] {
        if let Some(serde_json::Value::Object(entries)) = value.get_mut(field) {
            for entry in entries.values_mut() {
                *entry = serde_json::Value::String("<masked>".to_owned());
            }
        }
    }
    value.serialize(serializer)
}

fn sort_key(object: &ObjectRef) -> (usize, &ObjectRef) {
    (kind_rank(&object.kind), object)
}

/// Builds the plan for a diff.
pub fn plan(diff: &DiffSet, options: &PlanOptions) -> Plan {
    let mut applies = Vec::new();
    let mut deletes = Vec::new();
    let mut orphans = Vec::new();
    for d in &diff.diffs {
        let step = Step {
            object: d.object.clone(),
            action: d.action,
            api_version: d.api_version.clone(),
            fields: d.fields.clone(),
            desired: d.desired.clone(),
        };
        match d.action {
            Action::Delete if options.prune => deletes.push(step),
            Action::Delete => orphans.push(step.object),
            Action::Excluded => {}
            _ => applies.push(step),
        }
    }
    applies.sort_by(|a, b| sort_key(&a.object).cmp(&sort_key(&b.object)));
    deletes.sort_by(|a, b| sort_key(&b.object).cmp(&sort_key(&a.object)));
    orphans.sort();
    applies.extend(deletes);
    Plan { steps: applies, orphans }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_diff::ObjectDiff;
    use proptest::prelude::*;

    fn d(kind: &str, name: &str, action: Action) -> ObjectDiff {
        let group = if kind == "Widget" { "example.com" } else { "" };
        ObjectDiff::new(ObjectRef::new(group, kind, (kind != "Namespace").then_some("n"), name), action, "v1")
    }

    #[test]
    fn namespaces_and_crds_first_prunes_last_in_reverse() {
        let diff = DiffSet {
            diffs: vec![
                d("Widget", "w", Action::Create),
                d("Deployment", "web", Action::Update),
                d("CustomResourceDefinition", "widgets", Action::Create),
                d("Namespace", "n", Action::Unchanged),
                d("ConfigMap", "old", Action::Delete),
                d("Widget", "old", Action::Delete),
                d("CustomResourceDefinition", "gadgets", Action::Delete),
            ],
        };
        let p = plan(&diff, &PlanOptions::default().prune(true));
        let order: Vec<String> = p.steps.iter().map(|s| format!("{} {}", s.action.symbol(), s.object)).collect();
        assert_eq!(
            order,
            [
                "= Namespace/n",
                "+ CustomResourceDefinition/n/widgets",
                "~ Deployment/n/web",
                "+ Widget/n/w",
                "- Widget/n/old",
                "- ConfigMap/n/old",
                "- CustomResourceDefinition/n/gadgets",
            ]
        );
        let kept = plan(&diff, &PlanOptions::default());
        assert_eq!(kept.count(Action::Delete), 0);
        assert_eq!(kept.orphans.len(), 3);
    }

    #[test]
    fn secret_values_never_reach_the_plan_output() {
        let secret = Object::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "n"},
            "data": {"password": "c2VjcmV0"}, "stringData": {"token": "hunter2"}
        }))
        .expect("valid");
        let mut diff = d("Secret", "db", Action::Create);
        diff.desired = Some(secret);
        let plan = plan(&DiffSet { diffs: vec![diff] }, &PlanOptions::default());
        let json = serde_json::to_string(&plan).expect("serializes");
        assert!(!json.contains("c2VjcmV0") && !json.contains("hunter2"), "{json}");
        assert!(json.contains("\"password\":\"<masked>\""), "{json}");
    }

    proptest! {
        /// Each object appears exactly once, prunes follow all applies, and the plan is deterministic.
        #[test]
        fn laws(items in prop::collection::vec((0usize..6, 0usize..4, "[a-d]{1,2}"), 0..30)) {
            let kinds = ["Namespace", "ConfigMap", "Deployment", "Widget", "CustomResourceDefinition", "Service"];
            let actions = [Action::Create, Action::Update, Action::Unchanged, Action::Delete];
            let mut seen = std::collections::BTreeSet::new();
            let diffs: Vec<ObjectDiff> = items
                .into_iter()
                .map(|(k, a, name)| d(kinds[k], &name, actions[a]))
                .filter(|x| seen.insert(x.object.clone()))
                .collect();
            let diff = DiffSet { diffs: diffs.clone() };
            let p = plan(&diff, &PlanOptions::default().prune(true));
            prop_assert_eq!(p.steps.len(), diffs.len());
            let first_delete = p.steps.iter().position(|s| s.action == Action::Delete).unwrap_or(p.steps.len());
            prop_assert!(p.steps[first_delete..].iter().all(|s| s.action == Action::Delete));
            prop_assert_eq!(&p, &plan(&diff, &PlanOptions::default().prune(true)));
            let mut reversed = diff.clone();
            reversed.diffs.reverse();
            prop_assert_eq!(p, plan(&reversed, &PlanOptions::default().prune(true)));
        }
    }
}
