//! Reading `gitops.yaml`: one or more applications, checked field by field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gitops_core::yaml::{PathSegment, ReadOptions, Schema, locate, parse_documents, path_of};
use gitops_diff::IgnoreRule;
use serde::Deserialize;
use serde_json::Value;

use crate::application::{Application, Destination, Health, TargetKind};
use crate::parse_duration;
use crate::spec::ApplicationSpec;

/// An application definition that cannot be used: the file, the line when known, the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {field}{}{message}", line.map(|l| format!(":{l}")).unwrap_or_default(), if field.is_empty() { "" } else { ": " })]
#[non_exhaustive]
pub struct DefinitionError {
    /// The file, as given.
    pub file: String,
    /// The 1-based line of the field, when it can be found.
    pub line: Option<usize>,
    /// The field, as a path (`applications[1].syncPolicy.retry.limit`); empty for the whole file.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// The applications of one `gitops.yaml`, in file order, with unique names and acyclic `dependsOn`.
#[derive(Debug, Clone, PartialEq)]
pub struct Applications {
    /// The file they were read from.
    pub file: PathBuf,
    /// The applications, in file order.
    pub applications: Vec<Application>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawFile {
    applications: Vec<serde_json::Map<String, Value>>,
}

/// Builds errors about one file, finding each field's line in its text.
struct Errors<'a> {
    file: &'a str,
    text: &'a str,
}

impl Errors<'_> {
    fn at(&self, path: &[PathSegment], message: impl Into<String>) -> DefinitionError {
        let field = path
            .iter()
            .map(|segment| match segment {
                PathSegment::Key(key) => format!(".{key}"),
                PathSegment::Index(index) => format!("[{index}]"),
            })
            .collect::<String>();
        DefinitionError {
            file: self.file.to_owned(),
            line: locate(self.text, 0, path).map(|(line, _)| line),
            field: field.trim_start_matches('.').to_owned(),
            message: message.into(),
        }
    }
}

fn app_path(index: usize, fields: &[&str]) -> Vec<PathSegment> {
    let mut path = vec![PathSegment::from("applications"), PathSegment::Index(index)];
    path.extend(fields.iter().map(|f| PathSegment::from(*f)));
    path
}

/// Where an application's fields are, for errors: the path of its spec and of its name.
struct At<'e, 'a> {
    errors: &'e Errors<'a>,
    spec: Vec<PathSegment>,
    name: Vec<PathSegment>,
}

impl At<'_, '_> {
    fn spec(&self, fields: &[&str]) -> Vec<PathSegment> {
        let mut path = self.spec.clone();
        path.extend(fields.iter().map(|f| PathSegment::from(*f)));
        path
    }

    fn error(&self, fields: &[&str], message: impl Into<String>) -> DefinitionError {
        self.errors.at(&self.spec(fields), message)
    }
}

impl Application {
    /// Checks the spec of an `Application` resource named `name`; `what` names the resource in
    /// errors (`Application shop/web`), whose fields are given as `spec.…` paths.
    ///
    /// ```
    /// use gitops_reconcile::{Application, ApplicationSpec};
    /// let spec: ApplicationSpec = serde_json::from_value(serde_json::json!(
    ///     {"source": {"repoURL": ".", "path": "apps/web"}, "interval": "1m"}))?;
    /// let app = Application::from_spec("web", &spec, "Application shop/web")?;
    /// assert_eq!(app.interval, std::time::Duration::from_secs(60));
    /// let bad: ApplicationSpec = serde_json::from_value(serde_json::json!(
    ///     {"source": {"repoURL": "."}, "interval": "soon"}))?;
    /// let error = Application::from_spec("web", &bad, "Application shop/web").unwrap_err();
    /// assert!(error.to_string().starts_with("Application shop/web: spec.interval: "), "{error}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_spec(name: &str, spec: &ApplicationSpec, what: &str) -> Result<Application, DefinitionError> {
        let errors = Errors { file: what, text: "" };
        let at = At {
            errors: &errors,
            spec: vec![PathSegment::from("spec")],
            name: vec![PathSegment::from("metadata"), PathSegment::from("name")],
        };
        check(name.to_owned(), spec.clone(), &at)
    }
}

impl Applications {
    /// Reads and checks a `gitops.yaml`.
    pub fn load(path: &Path) -> Result<Applications, DefinitionError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| DefinitionError {
            file: file.clone(),
            line: None,
            field: String::new(),
            message: format!("cannot read it: {e}"),
        })?;
        let mut apps = Applications::parse(&text, &file)?;
        path.clone_into(&mut apps.file);
        Ok(apps)
    }

    /// Parses and checks the text of a `gitops.yaml`; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Applications, DefinitionError> {
        let errors = Errors { file, text };
        let mut docs = parse_documents(text, &ReadOptions::default().schema(Schema::Kustomize)).map_err(|e| {
            DefinitionError { file: file.to_owned(), line: Some(e.line), field: String::new(), message: e.to_string() }
        })?;
        let value = match docs.len() {
            1 => std::mem::take(&mut docs[0].value),
            n => return Err(errors.at(&[], format!("expected one YAML document with `applications`, found {n}"))),
        };
        let raw: RawFile = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = path_of(e.path());
            errors.at(&path, e.inner().to_string())
        })?;
        let mut applications = Vec::with_capacity(raw.applications.len());
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (index, mut entry) in raw.applications.into_iter().enumerate() {
            let name = match entry.remove("name") {
                Some(Value::String(name)) => name,
                Some(_) => return Err(errors.at(&app_path(index, &["name"]), "must be a string")),
                None => return Err(errors.at(&app_path(index, &[]), "missing field `name`")),
            };
            if let Some(first) = seen.insert(name.clone(), index) {
                return Err(errors
                    .at(&app_path(index, &["name"]), format!("duplicate name {name:?} (also applications[{first}])")));
            }
            let spec: ApplicationSpec = serde_path_to_error::deserialize(Value::Object(entry)).map_err(|e| {
                let mut path = app_path(index, &[]);
                path.extend(path_of(e.path()));
                errors.at(&path, e.inner().to_string())
            })?;
            let at = At { errors: &errors, spec: app_path(index, &[]), name: app_path(index, &["name"]) };
            applications.push(check(name, spec, &at)?);
        }
        for (index, app) in applications.iter().enumerate() {
            for (i, dependency) in app.depends_on.iter().enumerate() {
                let mut path = app_path(index, &["dependsOn"]);
                path.push(PathSegment::Index(i));
                if dependency == &app.name {
                    return Err(errors.at(&path, "an application cannot depend on itself"));
                }
                if !seen.contains_key(dependency) {
                    return Err(errors.at(&path, format!("no application is named {dependency:?}")));
                }
            }
        }
        if let Err(cycle) = order_indices(&applications) {
            let first = cycle.first().copied().unwrap_or(0);
            return Err(errors.at(&app_path(first, &["dependsOn"]), cycle_message(&applications, &cycle)));
        }
        Ok(Applications { file: PathBuf::from(file), applications })
    }

    /// The application named `name`.
    pub fn get(&self, name: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.name == name)
    }

    /// The applications with every one after those it depends on, otherwise in file order.
    /// A cycle is an error naming it (`a -> b -> a`).
    pub fn order(&self) -> Result<Vec<&Application>, DefinitionError> {
        match order_indices(&self.applications) {
            Ok(order) => Ok(order.into_iter().map(|i| &self.applications[i]).collect()),
            Err(cycle) => Err(DefinitionError {
                file: self.file.display().to_string(),
                line: None,
                field: String::new(),
                message: cycle_message(&self.applications, &cycle),
            }),
        }
    }
}

/// Indices in dependency order, else the indices of a closed chain (`[a, c, b]` for
/// `a -> c -> b -> a`).
fn order_indices(apps: &[Application]) -> Result<Vec<usize>, Vec<usize>> {
    let by_name: BTreeMap<&str, usize> = apps.iter().enumerate().map(|(i, a)| (a.name.as_str(), i)).collect();
    let deps: Vec<Vec<usize>> =
        apps.iter().map(|a| a.depends_on.iter().filter_map(|d| by_name.get(d.as_str()).copied()).collect()).collect();
    let mut done: Vec<usize> = Vec::with_capacity(apps.len());
    let mut is_done = vec![false; apps.len()];
    let mut left: Vec<usize> = (0..apps.len()).collect();
    while !left.is_empty() {
        if let Some(position) = left.iter().position(|&i| deps[i].iter().all(|&j| is_done[j])) {
            let index = left.remove(position);
            is_done[index] = true;
            done.push(index);
            continue;
        }
        // Every one left waits on another one left: follow the chain until it closes.
        let mut chain: Vec<usize> = Vec::new();
        let mut current = left[0];
        while !chain.contains(&current) {
            chain.push(current);
            match deps[current].iter().copied().find(|&j| !is_done[j]) {
                Some(next) => current = next,
                None => return Err(chain),
            }
        }
        let start = chain.iter().position(|&i| i == current).unwrap_or(0);
        return Err(chain.split_off(start));
    }
    Ok(done)
}

fn cycle_message(apps: &[Application], cycle: &[usize]) -> String {
    let mut names: Vec<&str> = cycle.iter().map(|&i| apps[i].name.as_str()).collect();
    if let Some(&first) = names.first() {
        names.push(first);
    }
    format!("dependsOn has a cycle: {}", names.join(" -> "))
}

fn check(name: String, raw: ApplicationSpec, place: &At<'_, '_>) -> Result<Application, DefinitionError> {
    let at = |fields: &[&str], message: String| place.error(fields, message);
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !name_ok {
        return Err(place
            .errors
            .at(&place.name, format!("{name:?} is not a valid name (lowercase letters, digits, `-` and `.`)")));
    }
    let url = &raw.source.repo_url;
    if url.is_empty() {
        return Err(at(&["source", "repoURL"], "must not be empty".into()));
    }
    if crate::source::is_remote(url)
        && let Err(e) = gitops_source::RemoteUrl::parse(url)
    {
        return Err(at(&["source", "repoURL"], e.to_string()));
    }
    if let Err(e) = gitops_source::Reference::parse(&raw.source.target_revision) {
        return Err(at(&["source", "targetRevision"], e.to_string()));
    }
    let duration = |fields: &[&str], text: &str| parse_duration(text).map_err(|e| at(fields, e));
    if let Some(retry) = &raw.sync_policy.retry {
        duration(&["syncPolicy", "retry", "backoff", "duration"], &retry.backoff.duration)?;
        duration(&["syncPolicy", "retry", "backoff", "maxDuration"], &retry.backoff.max_duration)?;
        if retry.backoff.factor == 0 {
            return Err(at(&["syncPolicy", "retry", "backoff", "factor"], "must be at least 1".into()));
        }
    }
    let interval = match &raw.interval {
        Some(text) => duration(&["interval"], text)?,
        None => Duration::from_secs(300),
    };
    if interval.is_zero() {
        return Err(at(&["interval"], "must be longer than 0".into()));
    }
    let health = match &raw.health.timeout {
        Some(text) => Health { timeout: duration(&["health", "timeout"], text)? },
        None => Health::default(),
    };
    let target = match (raw.destination.target.as_deref().unwrap_or("embedded"), raw.destination.context) {
        ("kube", context) => TargetKind::Kube { context },
        (_, Some(_)) => {
            return Err(at(&["destination", "context"], "only a `kube` target has a context".into()));
        }
        ("embedded", None) => TargetKind::Embedded,
        (other, None) => match other.strip_prefix("dir:") {
            Some(path) if !path.is_empty() => TargetKind::Dir(path.to_owned()),
            _ => {
                return Err(at(
                    &["destination", "target"],
                    format!("unknown target {other:?}: use embedded, dir:PATH or kube"),
                ));
            }
        },
    };
    let mut ignore_differences = Vec::with_capacity(raw.ignore_differences.len());
    for (i, rule) in raw.ignore_differences.iter().enumerate() {
        let rule = IgnoreRule::from_argocd(rule).map_err(|e| {
            let mut path = place.spec(&["ignoreDifferences"]);
            path.push(PathSegment::Index(i));
            place.errors.at(&path, e.to_string())
        })?;
        ignore_differences.push(rule);
    }
    Ok(Application {
        name,
        source: raw.source,
        render: raw.render,
        destination: Destination {
            target,
            namespace: raw.destination.namespace.unwrap_or_else(|| "default".to_owned()),
        },
        sync_policy: raw.sync_policy,
        ignore_differences,
        health,
        depends_on: raw.depends_on,
        interval,
    })
}
