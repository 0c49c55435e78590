//! `ObjectRef`: the identity of an object, without its version.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::gvk::split_api_version;

/// The identity of an object: group, kind, namespace and name.
///
/// The version is not part of identity: `apps/v1 Deployment` and `apps/v1beta1 Deployment` with the
/// same namespace and name are the same object, as they are to the API server. Ordering is total
/// (group, kind, namespace, name, with cluster-scoped objects before namespaced ones of the same
/// kind), so every collection of objects has one deterministic order.
///
/// `Display` is `Kind/namespace/name` for namespaced objects and `Kind/name` otherwise; every
/// message about an object uses it.
///
/// ```
/// use gitops_core::ObjectRef;
/// let r = ObjectRef::new("apps", "Deployment", Some("shop"), "web");
/// assert_eq!(r.to_string(), "Deployment/shop/web");
/// let ns = ObjectRef::new("", "Namespace", None, "shop");
/// assert_eq!(ns.to_string(), "Namespace/shop");
/// assert!(ns < r, "the core group sorts before apps");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The API group; empty for the core group.
    pub group: String,
    /// The kind.
    pub kind: String,
    /// The namespace; `None` for cluster-scoped objects (or namespaced ones not yet defaulted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

impl ObjectRef {
    /// Builds a reference from its parts. An empty namespace means none.
    pub fn new(
        group: impl Into<String>,
        kind: impl Into<String>,
        namespace: Option<&str>,
        name: impl Into<String>,
    ) -> Self {
        ObjectRef {
            group: group.into(),
            kind: kind.into(),
            namespace: namespace.filter(|ns| !ns.is_empty()).map(str::to_owned),
            name: name.into(),
        }
    }

    /// Builds a reference from an `apiVersion` (whose version is dropped), kind, namespace and name.
    pub fn from_api_version(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        let (group, _) = split_api_version(api_version);
        ObjectRef::new(group, kind, namespace, name)
    }

    /// The same reference in another namespace (`None` for cluster scope).
    #[must_use]
    pub fn with_namespace(mut self, namespace: Option<&str>) -> Self {
        self.namespace = namespace.filter(|ns| !ns.is_empty()).map(str::to_owned);
        self
    }

    /// `Kind.group` (or `Kind` for the core group), the group-kind used in messages and file names.
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() { self.kind.clone() } else { format!("{}.{}", self.kind, self.group) }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ObjectRef;
    use proptest::prelude::*;
    use std::cmp::Ordering;

    fn arb_ref() -> impl Strategy<Value = ObjectRef> {
        (
            prop::sample::select(vec!["", "apps", "batch", "example.com"]),
            prop::sample::select(vec!["ConfigMap", "Deployment", "Namespace"]),
            prop::option::of(prop::sample::select(vec!["a", "b", "kube-system"])),
            "[a-c]{1,3}",
        )
            .prop_map(|(g, k, ns, n)| ObjectRef::new(g, k, ns, n))
    }

    proptest! {
        /// The order is total and consistent with equality, so sorting is deterministic.
        #[test]
        fn ordering_is_total(a in arb_ref(), b in arb_ref(), c in arb_ref()) {
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
            prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
            if a <= b && b <= c {
                prop_assert!(a <= c);
            }
        }

        /// `Display` names the object unambiguously for a given group and kind.
        #[test]
        fn display_round_trips(a in arb_ref(), b in arb_ref()) {
            if a.group == b.group && a.kind == b.kind {
                prop_assert_eq!(a.to_string() == b.to_string(), a == b);
            }
        }
    }
}
