//! Table output: what GET answers when the client asks for `as=Table` (`kubectl get` does).
//!
//! A `meta.k8s.io` `Table` has column definitions and one row per object; each row holds its
//! cells and, as `includeObject` asks (`Metadata` by default), the object's
//! `PartialObjectMetadata`, the whole object, or nothing. Columns follow the API server's
//! printers for the common built-in kinds (ConfigMap, Secret, Namespace, Deployment, Service,
//! ServiceAccount), a CRD's `additionalPrinterColumns` for its kinds (with `Age` when it declares
//! none), and `Name`, `Age` for every other kind. Ages are rendered on the server, as
//! Kubernetes' `HumanDuration` does (`42s`, `5m10s`, `3h`, `2d4h`).

use serde_json::{Map, Value, json};

use crate::clock::parse_rfc3339;
use crate::crd;
use crate::error::ApiError;
use crate::store::{Key, meta_str};
use crate::verbs::{State, Target};

const NAME_DOC: &str = "Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created.";

/// Which Table version the `Accept` header asks for (`v1` or `v1beta1`), if any.
pub(crate) fn requested(accept: &str) -> Option<&'static str> {
    accept.split(',').find_map(|media| {
        let mut parts = media.split(';').map(str::trim);
        if parts.next() != Some("application/json") {
            return None;
        }
        let (mut table, mut group, mut version) = (false, false, None);
        for parameter in parts {
            match parameter.split_once('=') {
                Some(("as", "Table")) => table = true,
                Some(("g", "meta.k8s.io")) => group = true,
                Some(("v", "v1")) => version = Some("meta.k8s.io/v1"),
                Some(("v", "v1beta1")) => version = Some("meta.k8s.io/v1beta1"),
                _ => {}
            }
        }
        if table && group { version } else { None }
    })
}

/// One column: its definition and how a cell is computed.
struct Column {
    name: String,
    kind: String,
    format: String,
    description: String,
    priority: i64,
    cell: Cell,
}

enum Cell {
    Name,
    Age,
    /// A value at a simple JSONPath (`.spec.replicas`, `.status.conditions[0].type`), rendered as
    /// the column's type asks (a `date` as an age).
    Path(String),
    /// A built-in printer's computed cell.
    Computed(fn(&Value) -> Value),
}

impl Column {
    fn new(name: &str, kind: &str, description: &str, cell: Cell) -> Column {
        let format = if matches!(cell, Cell::Name) { "name" } else { "" };
        Column {
            name: name.into(),
            kind: kind.into(),
            format: format.into(),
            description: description.into(),
            priority: 0,
            cell,
        }
    }

    fn definition(&self) -> Value {
        json!({"name": self.name, "type": self.kind, "format": self.format, "description": self.description, "priority": self.priority})
    }

    fn value(&self, object: &Value, now: u64) -> Value {
        match &self.cell {
            Cell::Name => json!(meta_str(object, "name").unwrap_or("")),
            Cell::Age => json!(age(object, now)),
            Cell::Computed(compute) => compute(object),
            Cell::Path(path) => match (lookup(object, path), self.kind.as_str()) {
                (Some(Value::String(time)), "date") => {
                    json!(parse_rfc3339(time).map_or_else(|| "<invalid>".to_owned(), |t| human_duration(now, t)))
                }
                (Some(value), _) => value.clone(),
                (None, _) => Value::Null,
            },
        }
    }
}

impl State {
    /// GET of `target` (one object or a collection) as a Table of `api_version`.
    pub(crate) fn table(
        &self,
        target: &Target,
        query: &crate::request::Query,
        api_version: &str,
        now: u64,
    ) -> Result<Value, ApiError> {
        let include = match query.get("includeObject").unwrap_or("Metadata") {
            mode @ ("None" | "Metadata" | "Object") => mode,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "invalid includeObject {other:?}: supported values are None, Metadata, Object"
                )));
            }
        };
        let (objects, mut metadata) = if let Some(name) = &target.name {
            let object = self.store.value(&target.key(name)).ok_or_else(|| target.not_found(name))?;
            (vec![object], Map::new())
        } else {
            let list = self.list(target, query)?.body.into_value();
            let metadata = list.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
            let items = match list {
                Value::Object(mut map) => match map.remove("items") {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            (items, metadata)
        };
        if target.name.is_some() {
            metadata.insert("resourceVersion".into(), json!(self.store.revision().to_string()));
        }
        let columns = self.columns(target);
        let rows: Vec<Value> = objects
            .into_iter()
            .map(|object| {
                let cells: Vec<Value> = columns.iter().map(|column| column.value(&object, now)).collect();
                let mut row = Map::new();
                row.insert("cells".into(), Value::Array(cells));
                match include {
                    "Object" => {
                        row.insert("object".into(), object);
                    }
                    "Metadata" => {
                        row.insert("object".into(), partial_metadata(&object, api_version));
                    }
                    _ => {}
                }
                Value::Object(row)
            })
            .collect();
        Ok(json!({
            "kind": "Table",
            "apiVersion": api_version,
            "metadata": metadata,
            "columnDefinitions": columns.iter().map(Column::definition).collect::<Vec<_>>(),
            "rows": rows,
        }))
    }

    fn columns(&self, target: &Target) -> Vec<Column> {
        let resource = &target.resource;
        let name = || Column::new("Name", "string", NAME_DOC, Cell::Name);
        let age = || Column::new("Age", "date", AGE_DOC, Cell::Age);
        if let Some(custom) = self.registry.custom_kind(&resource.group, &resource.kind) {
            let crd = self.store.value(&Key::new(crd::GROUP, crd::PLURAL, "", &custom.crd));
            let declared = crd.as_ref().map(|crd| printer_columns(crd, &resource.version)).unwrap_or_default();
            let mut columns = vec![name()];
            if declared.is_empty() {
                columns.push(age());
            }
            columns.extend(declared);
            return columns;
        }
        let computed = |title: &str, kind: &str, doc: &str, f: fn(&Value) -> Value| {
            Column::new(title, kind, doc, Cell::Computed(f))
        };
        let middle: Vec<Column> = match (resource.group.as_str(), resource.kind.as_str()) {
            ("", "ConfigMap") => vec![computed("Data", "integer", "Number of data entries", |o| {
                json!(count(o, "/data") + count(o, "/binaryData"))
            })],
            ("", "Secret") => vec![
                computed("Type", "string", "The type of the secret", |o| {
                    json!(o.pointer("/type").and_then(Value::as_str).unwrap_or("Opaque"))
                }),
                computed("Data", "integer", "Number of data entries", |o| json!(count(o, "/data"))),
            ],
            ("", "Namespace") => vec![computed("Status", "string", "The status of the namespace", |o| {
                json!(o.pointer("/status/phase").and_then(Value::as_str).unwrap_or(""))
            })],
            ("", "ServiceAccount") => {
                vec![computed("Secrets", "string", "The number of secrets", |o| json!(count(o, "/secrets")))]
            }
            ("apps", "Deployment") => vec![
                computed("Ready", "string", "Number of the pod with ready state", |o| {
                    json!(format!("{}/{}", int(o, "/status/readyReplicas"), int(o, "/spec/replicas")))
                }),
                computed(
                    "Up-to-date",
                    "integer",
                    "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                    |o| json!(int(o, "/status/updatedReplicas")),
                ),
                computed(
                    "Available",
                    "integer",
                    "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                    |o| json!(int(o, "/status/availableReplicas")),
                ),
            ],
            ("", "Service") => vec![
                computed("Type", "string", "The type of the service", |o| {
                    json!(o.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP"))
                }),
                computed("Cluster-IP", "string", "The IP address of the service", |o| {
                    json!(o.pointer("/spec/clusterIP").and_then(Value::as_str).unwrap_or("<none>"))
                }),
                computed("External-IP", "string", "The external IP address of the service", external_ips),
                computed("Port(s)", "string", "The ports of the service", service_ports),
            ],
            _ => Vec::new(),
        };
        let mut columns = vec![name()];
        columns.extend(middle);
        columns.push(age());
        columns
    }
}

/// The CRD's `additionalPrinterColumns` for `version`.
fn printer_columns(crd: &Value, version: &str) -> Vec<Column> {
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let Some(served) = versions.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(version)) else {
        return Vec::new();
    };
    let declared = served.get("additionalPrinterColumns").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    declared
        .iter()
        .filter_map(|column| {
            let text = |key: &str| column.get(key).and_then(Value::as_str).unwrap_or("");
            let path = text("jsonPath");
            if text("name").is_empty() || path.is_empty() {
                return None;
            }
            let mut out = Column::new(text("name"), text("type"), text("description"), Cell::Path(path.into()));
            text("format").clone_into(&mut out.format);
            out.priority = column.get("priority").and_then(Value::as_i64).unwrap_or(0);
            Some(out)
        })
        .collect()
}

/// The value at a simple JSONPath: `.field` steps and `[N]` indices (with or without braces).
fn lookup<'v>(object: &'v Value, path: &str) -> Option<&'v Value> {
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    let mut value = object;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (field, indices) = part.split_once('[').map_or((part, ""), |(f, rest)| (f, rest));
        if !field.is_empty() {
            value = value.get(field)?;
        }
        for index in indices.split('[').filter(|i| !i.is_empty()) {
            value = value.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(value)
}

fn partial_metadata(object: &Value, api_version: &str) -> Value {
    let mut metadata = object.get("metadata").cloned().unwrap_or_else(|| json!({}));
    if let Some(map) = metadata.as_object_mut() {
        map.remove("managedFields");
    }
    json!({"kind": "PartialObjectMetadata", "apiVersion": api_version, "metadata": metadata})
}

fn count(object: &Value, pointer: &str) -> usize {
    match object.pointer(pointer) {
        Some(Value::Object(map)) => map.len(),
        Some(Value::Array(items)) => items.len(),
        _ => 0,
    }
}

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn external_ips(service: &Value) -> Value {
    let strings = |pointer: &str| -> Vec<String> {
        service
            .pointer(pointer)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().or_else(|| v.get("ip").and_then(Value::as_str)))
            .map(str::to_owned)
            .collect()
    };
    let mut ips = strings("/spec/externalIPs");
    ips.extend(strings("/status/loadBalancer/ingress"));
    let kind = service.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP");
    json!(match (kind, ips.is_empty()) {
        ("LoadBalancer", true) => "<pending>".to_owned(),
        (_, true) => "<none>".to_owned(),
        _ => ips.join(","),
    })
}

fn service_ports(service: &Value) -> Value {
    let ports: Vec<String> = service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|port| {
            let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
            let protocol = port.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            match port.get("nodePort").and_then(Value::as_i64) {
                Some(node) => format!("{number}:{node}/{protocol}"),
                None => format!("{number}/{protocol}"),
            }
        })
        .collect();
    json!(if ports.is_empty() { "<none>".to_owned() } else { ports.join(",") })
}

fn age(object: &Value, now: u64) -> String {
    meta_str(object, "creationTimestamp")
        .and_then(parse_rfc3339)
        .map_or_else(|| "<unknown>".to_owned(), |created| human_duration(now, created))
}

/// Kubernetes' `duration.HumanDuration` of `now - then`.
fn human_duration(now: u64, then: u64) -> String {
    let seconds = now.saturating_sub(then);
    let (minutes, hours) = (seconds / 60, seconds / 3600);
    let (days, years) = (hours / 24, hours / 24 / 365);
    let with = |big: u64, unit: &str, small: u64, small_unit: &str| {
        if small == 0 { format!("{big}{unit}") } else { format!("{big}{unit}{small}{small_unit}") }
    };
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        with(minutes, "m", seconds % 60, "s")
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        with(hours, "h", minutes % 60, "m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        with(days, "d", hours % 24, "h")
    } else if hours < 24 * 365 * 2 {
        format!("{days}d")
    } else if hours < 24 * 365 * 8 {
        with(years, "y", days % 365, "d")
    } else {
        format!("{years}y")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_and_durations() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(requested(kubectl), Some("meta.k8s.io/v1"));
        assert_eq!(requested("application/json;as=Table;v=v1beta1;g=meta.k8s.io"), Some("meta.k8s.io/v1beta1"));
        assert_eq!(requested("application/json"), None);
        assert_eq!(requested("application/json;as=Table;v=v2;g=meta.k8s.io"), None);
        for (seconds, text) in [
            (5, "5s"),
            (119, "119s"),
            (300, "5m"),
            (310, "5m10s"),
            (3000, "50m"),
            (4 * 3600 + 60, "4h1m"),
            (30 * 3600, "30h"),
        ] {
            assert_eq!(human_duration(1000 + seconds, 1000), text);
        }
        assert_eq!(human_duration(100 * 3600, 0), "4d4h");
        assert_eq!(human_duration(400 * 86_400, 0), "400d");
        assert_eq!(human_duration(3 * 365 * 86_400 + 86_400, 0), "3y1d");
    }

    #[test]
    fn simple_json_paths() {
        let object = json!({"spec": {"replicas": 3, "items": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(lookup(&object, ".spec.replicas"), Some(&json!(3)));
        assert_eq!(lookup(&object, "{.spec.items[1].name}"), Some(&json!("b")));
        assert_eq!(lookup(&object, ".spec.missing"), None);
    }
}
