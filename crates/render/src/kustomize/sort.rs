//! Kustomize's output order: `legacy` (by kind ranks, then id) or `fifo` (input order).

use super::resource::{ResId, Resource};
use super::types::SortOptions;

const ORDER_FIRST: [&str; 22] = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const ORDER_LAST: [&str; 2] = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

fn or<'a>(value: &'a str, empty: &'a str) -> &'a str {
    if value.is_empty() { empty } else { value }
}

fn gvk_sort_string(id: &ResId) -> String {
    format!("{}_{}_{}", or(&id.group, "~G"), or(&id.version, "~V"), or(&id.kind, "~K"))
}

fn id_sort_string(id: &ResId) -> String {
    format!(
        "{}.{}.{}|{}|{}",
        or(&id.kind, "~K"),
        or(&id.version, "~V"),
        or(&id.group, "~G"),
        or(&id.namespace, "~X"),
        or(&id.name, "~N")
    )
}

/// Sorts resources in place as the options say (legacy by default).
pub(crate) fn sort(resources: &mut [Resource], options: Option<&SortOptions>) -> Result<(), String> {
    // No sortOptions: kubectl's default `--reorder legacy`. With sortOptions, `order` is required.
    let order = match options {
        None => "legacy",
        Some(o) => o.order.as_deref().unwrap_or(""),
    };
    let legacy = options.and_then(|o| o.legacy_sort_options.as_ref());
    match order {
        "fifo" if legacy.is_some() => {
            return Err(
                "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'"
                    .into(),
            );
        }
        "fifo" => return Ok(()),
        "legacy" => {}
        _ => return Err("the field 'sortOptions.order' must be one of [fifo, legacy]".into()),
    }
    let (first, last): (Vec<&str>, Vec<&str>) = match legacy {
        None => (ORDER_FIRST.to_vec(), ORDER_LAST.to_vec()),
        Some(l) => (
            l.order_first.iter().flatten().map(String::as_str).collect(),
            l.order_last.iter().flatten().map(String::as_str).collect(),
        ),
    };
    let rank = |kind: &str| -> i64 {
        let count = i64::try_from(first.len()).unwrap_or(i64::MAX);
        if let Some(i) = last.iter().position(|k| *k == kind) {
            return 1 + i64::try_from(i).unwrap_or(0);
        }
        first.iter().position(|k| *k == kind).map_or(0, |i| -count + i64::try_from(i).unwrap_or(0))
    };
    let mut keyed: Vec<(ResId, Resource)> = resources.iter().map(|r| (r.cur_id(), r.clone())).collect();
    keyed.sort_by(|(a, _), (b, _)| {
        let same_gvk = a.group == b.group && a.version == b.version && a.kind == b.kind;
        if same_gvk {
            return id_sort_string(a).cmp(&id_sort_string(b));
        }
        let (ra, rb) = (rank(&a.kind), rank(&b.kind));
        if ra != rb {
            return ra.cmp(&rb);
        }
        if a.kind == "Namespace" && b.kind == "Namespace" && (a.group.is_empty() || b.group.is_empty()) {
            return gvk_sort_string(b).cmp(&gvk_sort_string(a));
        }
        gvk_sort_string(a).cmp(&gvk_sort_string(b))
    });
    for (slot, (_, resource)) in resources.iter_mut().zip(keyed) {
        *slot = resource;
    }
    Ok(())
}
