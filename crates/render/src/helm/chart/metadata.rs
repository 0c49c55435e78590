//! `Chart.yaml`: Helm's `Metadata`, read as `sigs.k8s.io/yaml` reads it into Go's struct, and
//! exposed to templates as `.Chart` with Go's field names.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::version;
use crate::helm::template::Value;

/// A chart maintainer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Maintainer {
    /// `name`.
    pub name: String,
    /// `email`.
    pub email: String,
    /// `url`.
    pub url: String,
}

/// One entry of `dependencies` (or `requirements.yaml` for apiVersion v1).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Dependency {
    /// `name` (replaced by the alias once dependencies are processed, as Helm does).
    pub name: String,
    /// `version`: a semver constraint on the subchart's version.
    pub version: String,
    /// `repository`.
    pub repository: String,
    /// `condition`: comma-separated value paths; the first boolean found decides.
    pub condition: String,
    /// `tags`.
    pub tags: Vec<String>,
    /// `enabled` (set while processing).
    pub enabled: bool,
    /// `import-values`: strings (`exports.X`) or `{child, parent}` maps.
    pub import_values: Vec<Json>,
    /// `alias`.
    pub alias: String,
}

/// `Chart.yaml`.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
#[allow(missing_docs)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub icon: String,
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    pub app_version: String,
    pub deprecated: bool,
    pub annotations: BTreeMap<String, String>,
    pub kube_version: String,
    pub dependencies: Vec<Dependency>,
    /// `type`: empty, `application` or `library`.
    pub chart_type: String,
}

impl Metadata {
    /// Reads `Chart.yaml` (already parsed); errors name the field.
    pub(crate) fn from_json(json: &Json) -> Result<Metadata, String> {
        let mut md = Metadata::default();
        let Some(map) = json.as_object() else {
            if json.is_null() {
                return Ok(md);
            }
            return Err("cannot unmarshal into Go value of type chart.Metadata: not a mapping".to_owned());
        };
        md.merge_json(map)?;
        Ok(md)
    }

    /// Reads the fields present in `map` over `self` (`requirements.yaml` adds dependencies).
    pub(crate) fn merge_json(&mut self, map: &serde_json::Map<String, Json>) -> Result<(), String> {
        for (key, v) in map {
            match key.as_str() {
                "name" => self.name = string(v, key)?,
                "home" => self.home = string(v, key)?,
                "sources" => self.sources = strings(v, key)?,
                "version" => self.version = string(v, key)?,
                "description" => self.description = string(v, key)?,
                "keywords" => self.keywords = strings(v, key)?,
                "maintainers" => {
                    self.maintainers = list(v, key)?
                        .iter()
                        .map(|m| {
                            let m = m.as_object().ok_or("maintainers must not contain empty or null nodes")?;
                            Ok(Maintainer { name: field(m, "name")?, email: field(m, "email")?, url: field(m, "url")? })
                        })
                        .collect::<Result<_, String>>()?;
                }
                "icon" => self.icon = string(v, key)?,
                "apiVersion" => self.api_version = string(v, key)?,
                "condition" => self.condition = string(v, key)?,
                "tags" => self.tags = string(v, key)?,
                "appVersion" => self.app_version = string(v, key)?,
                "deprecated" => self.deprecated = boolean(v, key)?,
                "annotations" => {
                    self.annotations = match v {
                        Json::Null => BTreeMap::new(),
                        Json::Object(m) => {
                            m.iter().map(|(k, v)| Ok((k.clone(), string(v, k)?))).collect::<Result<_, String>>()?
                        }
                        _ => return Err(format!("{key}: expected a mapping of strings")),
                    };
                }
                "kubeVersion" => self.kube_version = string(v, key)?,
                "dependencies" => {
                    self.dependencies = list(v, key)?
                        .iter()
                        .map(|d| {
                            let d = d.as_object().ok_or("dependencies must not contain empty or null nodes")?;
                            Dependency::from_map(d)
                        })
                        .collect::<Result<_, String>>()?;
                }
                "type" => self.chart_type = string(v, key)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Helm's `Metadata.Validate`; the message is Helm's (`validation: ...`).
    pub(crate) fn validate(&mut self) -> Result<(), String> {
        let fail = |m: String| Err(format!("validation: {m}"));
        for s in [
            &mut self.name,
            &mut self.description,
            &mut self.home,
            &mut self.icon,
            &mut self.condition,
            &mut self.tags,
            &mut self.app_version,
            &mut self.kube_version,
        ] {
            *s = sanitize(s);
        }
        if self.api_version.is_empty() {
            return fail("chart.metadata.apiVersion is required".to_owned());
        }
        if self.name.is_empty() {
            return fail("chart.metadata.name is required".to_owned());
        }
        if self.name == "." || self.name == ".." {
            return fail(format!("chart.metadata.name {:?} is not allowed", self.name));
        }
        if self.name.contains('/') {
            return fail(format!("chart.metadata.name {:?} is invalid", self.name));
        }
        if self.version.is_empty() {
            return fail("chart.metadata.version is required".to_owned());
        }
        if version::parse(&self.version).is_none() {
            return fail(format!("chart.metadata.version {:?} is invalid", self.version));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return fail("chart.metadata.type must be application or library".to_owned());
        }
        let mut seen = std::collections::BTreeSet::new();
        for d in &mut self.dependencies {
            d.name = sanitize(&d.name);
            d.version = sanitize(&d.version);
            d.repository = sanitize(&d.repository);
            d.condition = sanitize(&d.condition);
            if !d.alias.is_empty() && !d.alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return fail(format!("dependency {:?} has disallowed characters in the alias", d.name));
            }
            let key = if d.alias.is_empty() { &d.name } else { &d.alias };
            if !seen.insert(key.clone()) {
                return fail(format!("more than one dependency with name or alias {key:?}"));
            }
        }
        Ok(())
    }

    /// Whether this is a library chart (`type: library`, any case).
    #[must_use]
    pub fn is_library(&self) -> bool {
        self.chart_type.eq_ignore_ascii_case("library")
    }

    /// `.Chart` as templates see it: Helm's `structToMap` of the metadata (Go field names),
    /// plus `IsRoot`.
    pub(crate) fn to_value(&self, is_root: bool) -> Value {
        let s = |v: &str| Value::from(v);
        let list = |v: &[String]| Value::list(v.iter().map(|x| Value::from(x.as_str())).collect());
        let mut m = BTreeMap::new();
        m.insert("Name".to_owned(), s(&self.name));
        m.insert("Home".to_owned(), s(&self.home));
        m.insert("Sources".to_owned(), list(&self.sources));
        m.insert("Version".to_owned(), s(&self.version));
        m.insert("Description".to_owned(), s(&self.description));
        m.insert("Keywords".to_owned(), list(&self.keywords));
        m.insert(
            "Maintainers".to_owned(),
            Value::list(
                self.maintainers
                    .iter()
                    .map(|x| {
                        Value::map(BTreeMap::from([
                            ("Name".to_owned(), s(&x.name)),
                            ("Email".to_owned(), s(&x.email)),
                            ("URL".to_owned(), s(&x.url)),
                        ]))
                    })
                    .collect(),
            ),
        );
        m.insert("Icon".to_owned(), s(&self.icon));
        m.insert("APIVersion".to_owned(), s(&self.api_version));
        m.insert("Condition".to_owned(), s(&self.condition));
        m.insert("Tags".to_owned(), s(&self.tags));
        m.insert("AppVersion".to_owned(), s(&self.app_version));
        m.insert("Deprecated".to_owned(), Value::Bool(self.deprecated));
        m.insert(
            "Annotations".to_owned(),
            Value::map(self.annotations.iter().map(|(k, v)| (k.clone(), s(v))).collect()),
        );
        m.insert("KubeVersion".to_owned(), s(&self.kube_version));
        m.insert("Dependencies".to_owned(), Value::list(self.dependencies.iter().map(Dependency::to_value).collect()));
        m.insert("Type".to_owned(), s(&self.chart_type));
        m.insert("IsRoot".to_owned(), Value::Bool(is_root));
        Value::map(m)
    }
}

impl Dependency {
    fn from_map(m: &serde_json::Map<String, Json>) -> Result<Dependency, String> {
        Ok(Dependency {
            name: field(m, "name")?,
            version: field(m, "version")?,
            repository: field(m, "repository")?,
            condition: field(m, "condition")?,
            tags: m.get("tags").map_or(Ok(Vec::new()), |v| strings(v, "tags"))?,
            enabled: m.get("enabled").map_or(Ok(false), |v| boolean(v, "enabled"))?,
            import_values: m.get("import-values").map_or(Ok(Vec::new()), |v| list(v, "import-values"))?,
            alias: field(m, "alias")?,
        })
    }

    fn to_value(&self) -> Value {
        let s = |v: &str| Value::from(v);
        Value::map(BTreeMap::from([
            ("Name".to_owned(), s(&self.name)),
            ("Version".to_owned(), s(&self.version)),
            ("Repository".to_owned(), s(&self.repository)),
            ("Condition".to_owned(), s(&self.condition)),
            ("Tags".to_owned(), Value::list(self.tags.iter().map(|t| s(t)).collect())),
            ("Enabled".to_owned(), Value::Bool(self.enabled)),
            ("ImportValues".to_owned(), Value::list(self.import_values.iter().map(super::values::to_value).collect())),
            ("Alias".to_owned(), s(&self.alias)),
        ]))
    }
}

/// Helm's `sanitizeString`: whitespace becomes a space, other unprintable characters go.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

fn field(m: &serde_json::Map<String, Json>, key: &str) -> Result<String, String> {
    m.get(key).map_or(Ok(String::new()), |v| string(v, key))
}

/// A scalar read into a Go `string` field: `sigs.k8s.io/yaml` turns numbers and booleans into
/// their text (floats as `strconv.FormatFloat(f, 'g', -1, 32)`, so `1.0` becomes `1`).
fn string(v: &Json, key: &str) -> Result<String, String> {
    match v {
        Json::Null => Ok(String::new()),
        Json::String(s) => Ok(s.clone()),
        Json::Bool(b) => Ok(b.to_string()),
        Json::Number(n) => Ok(match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => format_float32(n.as_f64().unwrap_or(0.0)),
        }),
        Json::Array(_) => Err(format!("cannot unmarshal array into field {key} of type string")),
        Json::Object(_) => Err(format!("cannot unmarshal object into field {key} of type string")),
    }
}

fn strings(v: &Json, key: &str) -> Result<Vec<String>, String> {
    list(v, key)?.iter().map(|x| string(x, key)).collect()
}

fn list(v: &Json, key: &str) -> Result<Vec<Json>, String> {
    match v {
        Json::Null => Ok(Vec::new()),
        Json::Array(items) => Ok(items.clone()),
        _ => Err(format!("cannot unmarshal into field {key}: expected a list")),
    }
}

fn boolean(v: &Json, key: &str) -> Result<bool, String> {
    match v {
        Json::Null => Ok(false),
        Json::Bool(b) => Ok(*b),
        _ => Err(format!("cannot unmarshal into field {key} of type bool")),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`.
fn format_float32(f: f64) -> String {
    #[allow(clippy::cast_possible_truncation)]
    let f = f as f32;
    if f == 0.0 {
        return "0".to_owned();
    }
    let exp = f.abs().log10().floor();
    if (-4.0..21.0).contains(&exp) && !(6.0..21.0).contains(&exp) {
        return format!("{f}");
    }
    // Exponent form with the shortest mantissa: Rust's `{:e}` gives `1.5e7`; Go writes `1.5e+07`.
    let text = format!("{f:e}");
    let (mantissa, e) = text.split_once('e').unwrap_or((&text, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{mantissa}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_float32() {
        assert_eq!(format_float32(1.0), "1");
        assert_eq!(format_float32(1.1), "1.1");
        assert_eq!(format_float32(1.5e7), "1.5e+07");
        assert_eq!(format_float32(0.0001), "0.0001");
    }

    #[test]
    fn validation_messages_are_helms() {
        let mut md = Metadata::from_json(&serde_json::json!({"apiVersion": "v2", "name": "x"})).expect("valid");
        assert_eq!(md.validate(), Err("validation: chart.metadata.version is required".to_owned()));
        let mut md = Metadata::from_json(&serde_json::json!({"apiVersion": "v2", "name": "x", "version": "1.0.0",
            "dependencies": [{"name": "a"}, {"name": "b", "alias": "a"}]}))
        .expect("valid");
        assert_eq!(md.validate(), Err("validation: more than one dependency with name or alias \"a\"".to_owned()));
    }
}
