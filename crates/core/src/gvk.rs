//! Group, version and kind: what `apiVersion` and `kind` say about an object's type.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The group, version and kind of an object, parsed from `apiVersion` and `kind`.
///
/// The core group is the empty string: `apiVersion: v1` has group `""` and version `v1`,
/// `apiVersion: apps/v1` has group `apps` and version `v1`.
///
/// ```
/// use gitops_core::Gvk;
/// let gvk = Gvk::from_api_version("apps/v1", "Deployment");
/// assert_eq!(gvk.group, "apps");
/// assert_eq!(gvk.version, "v1");
/// assert_eq!(gvk.api_version(), "apps/v1");
/// assert_eq!(Gvk::from_api_version("v1", "ConfigMap").group, "");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Gvk {
    /// The API group; empty for the core group.
    pub group: String,
    /// The version within the group, such as `v1` or `v1beta1`.
    pub version: String,
    /// The kind, such as `Deployment`.
    pub kind: String,
}

impl Gvk {
    /// Builds a `Gvk` from its three parts.
    pub fn new(group: impl Into<String>, version: impl Into<String>, kind: impl Into<String>) -> Self {
        Gvk { group: group.into(), version: version.into(), kind: kind.into() }
    }

    /// Parses `apiVersion` (`group/version` or `version`) and pairs it with `kind`.
    pub fn from_api_version(api_version: &str, kind: &str) -> Self {
        let (group, version) = split_api_version(api_version);
        Gvk::new(group, version, kind)
    }

    /// The `apiVersion` string: `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }
}

impl fmt::Display for Gvk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}/{}", self.version, self.kind)
        } else {
            write!(f, "{}/{}/{}", self.group, self.version, self.kind)
        }
    }
}

/// Splits an `apiVersion` into group and version. `v1` gives `("", "v1")`.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}
