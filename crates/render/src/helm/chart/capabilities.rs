//! `.Capabilities`: the Kubernetes and Helm versions and API versions a render assumes. With
//! no cluster (`helm template`), Helm reports Kubernetes v1.37.0 (its client-go version) and
//! the API versions its client knows; `--kube-version` and `--api-versions` change them.

use std::sync::Arc;

use crate::helm::template::{TemplateObject, Value};

/// The API versions `helm template` (v4.3.1) reports without `--api-versions`, in its order.
const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "lifecycle.k8s.io/v1alpha1",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// The Helm build `.Capabilities.HelmVersion` reports (the reference helm).
const HELM_VERSION: [(&str, &str); 5] = [
    ("Version", "v4.3.1"),
    ("GitCommit", "c0d08d0d6d9424d4a14febb5e8a3e51b0dd00dff"),
    ("GitTreeState", "clean"),
    ("GoVersion", "go1.27.2"),
    ("KubeClientVersion", "v1.37"),
];

/// `.Capabilities.KubeVersion`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KubeVersion {
    /// The version as given, with a `v` (`v1.28.4-gke.100`); `GitVersion` and `Version`.
    pub version: String,
    /// `Major`.
    pub major: String,
    /// `Minor`.
    pub minor: String,
    /// The numeric part (`v1.28.4`), what `{{ .Capabilities.KubeVersion }}` prints and
    /// `kubeVersion` constraints are checked against.
    normalized: String,
}

impl Default for KubeVersion {
    fn default() -> Self {
        KubeVersion {
            version: "v1.37.0".to_owned(),
            major: "1".to_owned(),
            minor: "37".to_owned(),
            normalized: "v1.37.0".to_owned(),
        }
    }
}

impl KubeVersion {
    /// Parses `--kube-version` as Helm (`k8s.io/apimachinery`'s `ParseGeneric`): an optional
    /// `v`, major and minor, an optional patch, then anything after `-` or `+`.
    ///
    /// # Errors
    ///
    /// Helm's message when the text is not a version.
    pub fn parse(text: &str) -> Result<KubeVersion, String> {
        let bad = || format!("invalid kube version '{text}': could not parse {text:?} as version");
        let trimmed = text.trim();
        let body = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let numeric_end = body.find(['-', '+']).unwrap_or(body.len());
        let parts: Vec<&str> = body[..numeric_end].split('.').collect();
        if parts.len() < 2 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
            return Err(bad());
        }
        let nums: Vec<u64> = parts.iter().map(|p| p.parse::<u64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
        let normalized = format!("v{}", nums.iter().map(u64::to_string).collect::<Vec<_>>().join("."));
        let version = if text.starts_with('v') { text.to_owned() } else { format!("v{text}") };
        Ok(KubeVersion { version, major: nums[0].to_string(), minor: nums[1].to_string(), normalized })
    }

    /// The numeric version (`v1.28.4`).
    #[must_use]
    pub fn normalized(&self) -> String {
        self.normalized.clone()
    }
}

/// `.Capabilities`: what the render assumes about the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// `.Capabilities.KubeVersion` (`--kube-version`).
    pub kube_version: KubeVersion,
    /// `.Capabilities.APIVersions`: Helm's defaults, then the `--api-versions` given.
    pub api_versions: Vec<String>,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            kube_version: KubeVersion::default(),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl Capabilities {
    /// Sets the Kubernetes version.
    #[must_use]
    pub fn kube_version(mut self, version: KubeVersion) -> Self {
        self.kube_version = version;
        self
    }

    /// Adds API versions (`--api-versions`, each entry possibly comma-separated), after
    /// Helm's defaults.
    #[must_use]
    pub fn api_versions<S: AsRef<str>>(mut self, versions: impl IntoIterator<Item = S>) -> Self {
        for v in versions {
            self.api_versions.extend(v.as_ref().split(',').filter(|s| !s.is_empty()).map(str::to_owned));
        }
        self
    }

    pub(crate) fn to_value(&self) -> Value {
        Value::Object(Arc::new(CapabilitiesObject {
            kube: Arc::new(KubeObject(self.kube_version.clone())),
            apis: Arc::new(ApiVersions(self.api_versions.clone())),
            helm: Arc::new(HelmVersion),
        }))
    }
}

#[derive(Debug)]
struct CapabilitiesObject {
    kube: Arc<KubeObject>,
    apis: Arc<ApiVersions>,
    helm: Arc<HelmVersion>,
}

impl TemplateObject for CapabilitiesObject {
    fn type_name(&self) -> &'static str {
        "*common.Capabilities"
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::Object(self.kube.clone())),
            "APIVersions" => Some(Value::Object(self.apis.clone())),
            "HelmVersion" => Some(Value::Object(self.helm.clone())),
            _ => None,
        }
    }

    fn display(&self) -> String {
        format!("{{{} {} {}}}", self.kube.display(), self.apis.display(), self.helm.display())
    }
}

#[derive(Debug)]
struct KubeObject(KubeVersion);

impl TemplateObject for KubeObject {
    fn type_name(&self) -> &'static str {
        "common.KubeVersion"
    }

    fn field(&self, name: &str) -> Option<Value> {
        let k = &self.0;
        Some(Value::from(match name {
            "Version" | "GitVersion" => k.version.as_str(),
            "Major" => k.major.as_str(),
            "Minor" => k.minor.as_str(),
            "String" => k.normalized.as_str(),
            _ => return None,
        }))
    }

    fn display(&self) -> String {
        let k = &self.0;
        format!("{{{} {} {} {}}}", k.version, k.normalized, k.major, k.minor)
    }

    fn print(&self) -> String {
        self.0.normalized.clone()
    }
}

#[derive(Debug)]
struct ApiVersions(Vec<String>);

impl TemplateObject for ApiVersions {
    fn type_name(&self) -> &'static str {
        "common.VersionSet"
    }

    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        (name == "Has").then(|| match args {
            [Value::String(s)] => Ok(Value::Bool(self.0.iter().any(|v| v == s.as_ref()))),
            [other] => Err(format!("wrong type for value; expected string; got {}", other.type_name())),
            _ => Err(format!("wrong number of args for Has: want 1 got {}", args.len())),
        })
    }

    fn display(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
}

#[derive(Debug)]
struct HelmVersion;

impl TemplateObject for HelmVersion {
    fn type_name(&self) -> &'static str {
        "version.BuildInfo"
    }

    fn field(&self, name: &str) -> Option<Value> {
        HELM_VERSION.iter().find(|(k, _)| *k == name).map(|(_, v)| Value::from(*v))
    }

    fn display(&self) -> String {
        format!("{{{}}}", HELM_VERSION.iter().map(|(_, v)| *v).collect::<Vec<_>>().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_versions_parse_as_helm() {
        let k = KubeVersion::parse("1.28.4-gke.100").expect("valid");
        assert_eq!(
            (k.version.as_str(), k.normalized().as_str(), k.minor.as_str()),
            ("v1.28.4-gke.100", "v1.28.4", "28")
        );
        assert_eq!(KubeVersion::parse("v1.30").expect("valid").normalized(), "v1.30");
        assert_eq!(
            KubeVersion::parse("abc").expect_err("invalid"),
            "invalid kube version 'abc': could not parse \"abc\" as version"
        );
        let caps = Capabilities::default().api_versions(["a/v1,b/v2"]);
        assert_eq!(caps.api_versions.iter().rev().take(2).collect::<Vec<_>>(), ["b/v2", "a/v1"]);
    }
}
