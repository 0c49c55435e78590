//! The kubectl ApplySet protocol (KEP-3659) as far as an inventory needs it: the parent's id,
//! the labels and annotations kubectl reads, and the ownership rule for members.
//!
//! ```
//! use gitops_apply::applyset;
//! // The example of kubectl's `--applyset=myset -n default`.
//! assert_eq!(
//!     applyset::id("myset", "default", "Secret", ""),
//!     "applyset-51uXdjs_k8zt9KVdAtPaWnW_O9B-EVzd2Bkztfa9DSA-v1"
//! );
//! ```

use std::collections::BTreeSet;

use base64::Engine;
use gitops_core::{Inventory, Object};
use sha2::{Digest, Sha256};

/// The label on the parent that holds the set's id.
pub const ID_LABEL: &str = "applyset.kubernetes.io/id";
/// The label every member carries, valued with the set's id.
pub const PART_OF_LABEL: &str = "applyset.kubernetes.io/part-of";
/// The annotation naming the tool that manages the set (`gitops/v0.1.0`).
pub const TOOLING_ANNOTATION: &str = "applyset.kubernetes.io/tooling";
/// The annotation listing the members' group-kinds (`ConfigMap,Deployment.apps`).
pub const GROUP_KINDS_ANNOTATION: &str = "applyset.kubernetes.io/contains-group-kinds";
/// The annotation listing namespaces, other than the parent's, that hold members.
pub const NAMESPACES_ANNOTATION: &str = "applyset.kubernetes.io/additional-namespaces";

/// This tool's `tooling` value.
pub const TOOLING: &str = concat!("gitops/v", env!("CARGO_PKG_VERSION"));

/// The id of the set whose parent is `kind.group` `namespace/name`, as kubectl computes it:
/// `applyset-` + unpadded URL-safe base64 of SHA-256 of `name.namespace.kind.group` + `-v1`.
pub fn id(name: &str, namespace: &str, kind: &str, group: &str) -> String {
    let digest = Sha256::digest(format!("{name}.{namespace}.{kind}.{group}"));
    format!("applyset-{}-v1", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
}

/// The `contains-group-kinds` value for an inventory: its members' `Kind.group` (`Kind` for the
/// core group), sorted and comma-separated.
pub fn group_kinds(inventory: &Inventory) -> String {
    let kinds: BTreeSet<String> = inventory.objects.keys().map(gitops_core::ObjectRef::group_kind).collect();
    kinds.into_iter().collect::<Vec<_>>().join(",")
}

/// The `additional-namespaces` value: namespaces with members other than `parent_namespace`,
/// sorted and comma-separated.
pub fn additional_namespaces(inventory: &Inventory, parent_namespace: &str) -> String {
    let namespaces: BTreeSet<&str> =
        inventory.objects.keys().filter_map(|r| r.namespace.as_deref()).filter(|ns| *ns != parent_namespace).collect();
    namespaces.into_iter().collect::<Vec<_>>().join(",")
}

/// Splits a comma-separated annotation value, skipping empty items.
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Splits a `Kind.group` item into group and kind.
pub fn parse_group_kind(item: &str) -> (&str, &str) {
    match item.split_once('.') {
        Some((kind, group)) => (group, kind),
        None => ("", item),
    }
}

/// The set a live object belongs to, by its `part-of` label.
pub fn owner(object: &Object) -> Option<&str> {
    object.label(PART_OF_LABEL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_core::ObjectRef;

    #[test]
    fn annotations_follow_kubectl() {
        let mut inventory = Inventory::default();
        inventory.insert(ObjectRef::new("apps", "Deployment", Some("shop"), "web"), "apps/v1");
        inventory.insert(ObjectRef::new("", "ConfigMap", Some("default"), "cfg"), "v1");
        inventory.insert(ObjectRef::new("", "ConfigMap", Some("shop"), "cfg"), "v1");
        inventory.insert(ObjectRef::new("", "Namespace", None, "shop"), "v1");
        assert_eq!(group_kinds(&inventory), "ConfigMap,Deployment.apps,Namespace");
        assert_eq!(additional_namespaces(&inventory, "default"), "shop");
        assert_eq!(parse_group_kind("Deployment.apps"), ("apps", "Deployment"));
        assert_eq!(
            parse_group_kind("ClusterRole.rbac.authorization.k8s.io"),
            ("rbac.authorization.k8s.io", "ClusterRole")
        );
        assert_eq!(split_list(" a,,b ").collect::<Vec<_>>(), ["a", "b"]);
        assert!(TOOLING.starts_with("gitops/v"));
    }
}
