//! The verbs on resources: get, list, create, update, patch (apply, merge, JSON, strategic) and delete.

use std::sync::Arc;

use gitops_core::Gvk;
use gitops_core::patch::{MergeOptions, strategic_merge};
use gitops_core::schema::{Node, Schema};
use serde_json::{Map, Value, json};

use crate::admission;
use crate::clock::{UidSource, rfc3339};
use crate::error::{ApiError, Cause};
use crate::lifecycle;
use crate::registry::{Registry, Resource};
use crate::request::{NameRule, Query, invalid_name, json_object, json_patch, merge_patch, validate_name, yaml_object};
use crate::ssa::{self, Writer};
use crate::store::{Key, Store, meta_str, set_meta, spec_changed};
use crate::stored::Stored;
use crate::subresource;

/// The namespaces every server starts with.
pub(crate) const SYSTEM_NAMESPACES: [&str; 4] = ["default", "kube-node-lease", "kube-public", "kube-system"];

/// Everything behind the server's lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) store: Store,
    pub(crate) registry: Registry,
    /// The schema table: built-ins plus the kinds of the registered CRDs.
    pub(crate) schema: Schema,
    /// Whether writes get the API server's defaults (see `defaults`).
    pub(crate) defaulting: bool,
}

/// What a write needs besides the state: the time and the uid source.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env<'a> {
    pub(crate) now: u64,
    pub(crate) uids: &'a UidSource,
}

/// The resource (and object) a request is about.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) resource: Resource,
    pub(crate) namespace: Option<String>,
    pub(crate) name: Option<String>,
    /// `status` or `scale` for a subresource request.
    pub(crate) subresource: Option<String>,
    /// The schema table (built-ins plus the registered CRDs).
    pub(crate) schema: Schema,
}

/// What the request says besides its path.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) query: &'a Query,
    pub(crate) content_type: &'a str,
    pub(crate) user_agent: &'a str,
    pub(crate) body: &'a [u8],
}

/// A reply: HTTP code and JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) code: u16,
    pub(crate) body: Body,
}

impl Reply {
    pub(crate) fn ok(body: impl Into<Body>) -> Reply {
        Reply { code: 200, body: body.into() }
    }
}

/// An object a LIST answers with, and its key.
type Listed<'a> = (&'a Key, &'a Arc<Stored>);

/// A reply body: a JSON document, or a stored object, served as stored without serializing it
/// again.
#[derive(Debug)]
pub(crate) enum Body {
    Value(Value),
    Stored(Arc<Stored>),
}

impl Body {
    /// The body as a JSON value (parsed, for a stored object).
    pub(crate) fn into_value(self) -> Value {
        match self {
            Body::Value(value) => value,
            Body::Stored(stored) => stored.value(),
        }
    }

    /// The `metadata.name` of the body, when it is an object (a create names it there).
    pub(crate) fn name(&self) -> Option<String> {
        match self {
            Body::Value(value) => meta_str(value, "name").map(str::to_owned),
            Body::Stored(stored) => Some(stored.meta().name.to_string()).filter(|name| !name.is_empty()),
        }
    }

    /// The body as JSON text; a stored object's text is shared, not copied.
    pub(crate) fn into_bytes(self) -> bytes::Bytes {
        match self {
            // Serializing a JSON value into memory cannot fail.
            Body::Value(value) => serde_json::to_vec(&value).unwrap_or_default().into(),
            Body::Stored(stored) => bytes::Bytes::from_owner(StoredText(stored)),
        }
    }
}

/// A stored object's text, owned by a response body.
struct StoredText(Arc<Stored>);

impl AsRef<[u8]> for StoredText {
    fn as_ref(&self) -> &[u8] {
        self.0.json().as_bytes()
    }
}

impl From<Value> for Body {
    fn from(value: Value) -> Body {
        Body::Value(value)
    }
}

impl From<Arc<Stored>> for Body {
    fn from(stored: Arc<Stored>) -> Body {
        Body::Stored(stored)
    }
}

impl Target {
    pub(crate) fn key(&self, name: &str) -> Key {
        Key::new(&self.resource.group, &self.resource.plural, self.namespace.as_deref().unwrap_or(""), name)
    }

    pub(crate) fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    pub(crate) fn not_found(&self, name: &str) -> ApiError {
        ApiError::NotFound { resource: self.resource.qualified(), name: name.into() }
    }

    pub(crate) fn schema(&self) -> Node<'_> {
        self.schema.root_or_deduced(&Gvk::new(
            self.resource.group.as_str(),
            self.resource.version.as_str(),
            self.resource.kind.as_str(),
        ))
    }

    /// A writer for this target's kind and subresource.
    pub(crate) fn writer<'a>(&'a self, manager: &'a str, api_version: &'a str, now: &'a str) -> Writer<'a> {
        Writer { node: self.schema(), manager, api_version, now, subresource: self.subresource.as_deref() }
    }
}

impl State {
    pub(crate) fn new(registry: Registry, env: Env<'_>) -> State {
        let mut state = State { store: Store::default(), registry, schema: Schema::new(), defaulting: false };
        for name in SYSTEM_NAMESPACES {
            let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            if let Some(resource) = state.registry.by_kind("", "Namespace").cloned() {
                let target = Target {
                    resource,
                    namespace: None,
                    name: Some(name.into()),
                    subresource: None,
                    schema: state.schema.clone(),
                };
                state.commit_create(env, &target, object, false);
            }
        }
        state
    }

    pub(crate) fn object_count(&self) -> usize {
        self.store.len()
    }

    pub(crate) fn require_namespace(&self, target: &Target) -> Result<(), ApiError> {
        match target.namespace.as_deref() {
            Some(namespace) if target.resource.is_namespaced() => {
                match self.store.get(&Key::new("", "namespaces", "", namespace)) {
                    Some(ns) if ns.meta().deleting => Err(ApiError::Forbidden {
                        resource: target.resource.qualified(),
                        name: target.name().into(),
                        message: format!(
                            "unable to create new content in namespace {namespace} because it is being terminated"
                        ),
                    }),
                    Some(_) => Ok(()),
                    None => Err(ApiError::NotFound { resource: "namespaces".into(), name: namespace.into() }),
                }
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn get(&self, target: &Target) -> Result<Reply, ApiError> {
        let name = target.name();
        self.store.get(&target.key(name)).cloned().map(Reply::ok).ok_or_else(|| target.not_found(name))
    }

    /// LIST as a value (for DELETE on a collection; GET answers [`State::list_json`]).
    pub(crate) fn list(&self, target: &Target, query: &Query) -> Result<Reply, ApiError> {
        let (items, metadata) = self.select(target, query)?;
        let items: Vec<Value> = items.into_iter().map(|(_, stored)| stored.value()).collect();
        let resource = &target.resource;
        Ok(Reply::ok(json!({
            "kind": format!("{}List", resource.kind),
            "apiVersion": resource.api_version(),
            "metadata": metadata,
            "items": items,
        })))
    }

    /// LIST straight to JSON bytes: the stored objects' text is spliced into the list, nothing
    /// is serialized again. What GET on a collection answers.
    pub(crate) fn list_json(&self, target: &Target, query: &Query) -> Result<Vec<u8>, ApiError> {
        let (items, metadata) = self.select(target, query)?;
        let resource = &target.resource;
        let head = json!({"kind": format!("{}List", resource.kind), "apiVersion": resource.api_version(), "metadata": metadata});
        let size: usize = items.iter().map(|(_, stored)| stored.json().len() + 1).sum();
        let mut out = Vec::with_capacity(size + 256);
        serde_json::to_writer(&mut out, &head).map_err(|e| ApiError::Internal(e.to_string()))?;
        out.pop();
        out.extend_from_slice(b",\"items\":[");
        for (at, (_, item)) in items.iter().enumerate() {
            if at > 0 {
                out.push(b',');
            }
            out.extend_from_slice(item.json().as_bytes());
        }
        out.extend_from_slice(b"]}");
        Ok(out)
    }

    /// The objects a LIST answers with, and the list's metadata (resourceVersion, continue).
    fn select<'a>(
        &'a self,
        target: &'a Target,
        query: &Query,
    ) -> Result<(Vec<Listed<'a>>, Map<String, Value>), ApiError> {
        let (labels, fields) = query.selectors()?;
        let limit = match query.get("limit") {
            Some(text) => text.parse::<usize>().map_err(|_| ApiError::BadRequest(format!("invalid limit {text:?}")))?,
            None => 0,
        };
        let position = query.get("continue").map(decode_continue).transpose()?;
        let after = position.as_ref().map(|(ns, name)| (ns.as_str(), name.as_str()));
        let resource = &target.resource;
        let matching = self.store.list(&resource.group, &resource.plural, target.namespace.as_deref(), after).filter(
            |(key, object)| {
                labels.as_ref().is_none_or(|s| s.matches_with(|label| object.label(label)))
                    && fields.as_ref().is_none_or(|s| s.matches_names(&key.name, &key.namespace))
            },
        );
        let mut items: Vec<Listed<'_>> =
            if limit == 0 { matching.collect() } else { matching.take(limit + 1).collect() };
        let mut metadata = Map::new();
        metadata.insert("resourceVersion".into(), json!(self.store.revision().to_string()));
        if limit > 0 && items.len() > limit {
            items.truncate(limit);
            if let Some((last, _)) = items.last() {
                metadata.insert("continue".into(), json!(encode_continue(&last.namespace, &last.name)));
            }
        }
        Ok((items, metadata))
    }

    pub(crate) fn create(&mut self, env: Env<'_>, target: &Target, call: &Call<'_>) -> Result<Reply, ApiError> {
        let dry_run = call.query.dry_run()?;
        let mut object = decode_body(call)?;
        check_type(&mut object, &target.resource, "")?;
        check_namespace(&mut object, target)?;
        if meta_str(&object, "name").is_none()
            && let Some(prefix) = meta_str(&object, "generateName").map(str::to_owned)
        {
            let suffix: String = env.uids.next().chars().filter(char::is_ascii_alphanumeric).rev().take(5).collect();
            set_meta(&mut object, "name", json!(format!("{prefix}{suffix}")));
        }
        let name = meta_str(&object, "name").unwrap_or("").to_owned();
        if name.is_empty() {
            let cause = Cause {
                reason: "FieldValueRequired".into(),
                message: "Required value: name or generateName is required".into(),
                field: "metadata.name".into(),
            };
            return Err(ApiError::Invalid {
                kind: target.resource.kind.clone(),
                group: target.resource.group.clone(),
                name,
                causes: vec![cause],
            });
        }
        validate(&target.resource, &name)?;
        self.require_namespace(target)?;
        let key = target.key(&name);
        if self.store.get(&key).is_some() {
            return Err(ApiError::AlreadyExists { resource: target.resource.qualified(), name });
        }
        subresource::reset_applied(target, &mut object);
        let now = rfc3339(env.now);
        let api_version = target.resource.api_version();
        let manager = manager(call);
        let writer = target.writer(&manager, &api_version, &now);
        self.default_object(target, None, &mut object);
        let object = ssa::update(None, &object, &writer).unwrap_or(object);
        admission::admit(target, &object)?;
        let object = self.commit_create(env, &Target { name: Some(name), ..target.clone() }, object, dry_run);
        Ok(Reply { code: 201, body: object })
    }

    pub(crate) fn replace(&mut self, env: Env<'_>, target: &Target, call: &Call<'_>) -> Result<Reply, ApiError> {
        let dry_run = call.query.dry_run()?;
        let mut object = decode_body(call)?;
        check_type(&mut object, &target.resource, "")?;
        check_namespace(&mut object, target)?;
        check_name(&object, target)?;
        let live = self.live(target)?;
        self.write_update(env, target, &live, object, &manager(call), dry_run)
    }

    pub(crate) fn patch(&mut self, env: Env<'_>, target: &Target, call: &Call<'_>) -> Result<Reply, ApiError> {
        let dry_run = call.query.dry_run()?;
        let media = call.content_type.split(';').next().unwrap_or("").trim();
        if media == "application/apply-patch+yaml" {
            return self.apply(env, target, call, dry_run);
        }
        if call.query.get("force").is_some() {
            let cause = Cause {
                reason: "FieldValueForbidden".into(),
                message: "Forbidden: may not be specified for non-apply patch".into(),
                field: "force".into(),
            };
            return Err(ApiError::Invalid {
                kind: "PatchOptions".into(),
                group: "meta.k8s.io".into(),
                name: String::new(),
                causes: vec![cause],
            });
        }
        let live = self.live(target)?;
        let mut object = ssa::without_managed_fields(&live);
        let bad = |error: String| ApiError::BadRequest(error);
        match media {
            "application/merge-patch+json" => merge_patch(&mut object, &json_object(call.body)?),
            "application/json-patch+json" => {
                let patch: Value =
                    serde_json::from_slice(call.body).map_err(|e| bad(format!("error decoding JSON patch: {e}")))?;
                json_patch(&mut object, &patch).map_err(bad)?;
            }
            "application/strategic-merge-patch+json" => {
                let patch = json_object(call.body)?;
                object = strategic_merge(&object, &patch, target.schema(), &MergeOptions::default())
                    .map_err(|e| bad(e.to_string()))?;
            }
            _ => {
                return Err(ApiError::UnsupportedMediaType(
                    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json".into(),
                ));
            }
        }
        check_type(&mut object, &target.resource, "")?;
        check_name(&object, target)?;
        self.write_update(env, target, &live, object, &manager(call), dry_run)
    }

    fn apply(&mut self, env: Env<'_>, target: &Target, call: &Call<'_>, dry_run: bool) -> Result<Reply, ApiError> {
        let Some(manager) = call.query.get("fieldManager") else {
            let cause = Cause {
                reason: "FieldValueRequired".into(),
                message: "Required value: is required for apply patch".into(),
                field: "fieldManager".into(),
            };
            return Err(ApiError::Invalid {
                kind: "PatchOptions".into(),
                group: "meta.k8s.io".into(),
                name: String::new(),
                causes: vec![cause],
            });
        };
        let force = call.query.flag("force");
        let mut config = yaml_object(call.body)?;
        if config.pointer("/metadata/managedFields").is_some() {
            return Err(ApiError::BadRequest("metadata.managedFields must be nil".into()));
        }
        check_type(&mut config, &target.resource, "apply")?;
        check_namespace(&mut config, target)?;
        check_name(&config, target)?;
        subresource::reset_applied(target, &mut config);
        let now = rfc3339(env.now);
        let api_version = target.resource.api_version();
        let writer = target.writer(manager, &api_version, &now);
        let name = target.name().to_owned();
        match self.store.value(&target.key(&name)) {
            None => {
                validate(&target.resource, &name)?;
                self.require_namespace(target)?;
                let mut object = ssa::apply(None, &config, &writer, force)?.unwrap_or(config);
                self.default_object(target, None, &mut object);
                admission::admit(target, &object)?;
                Ok(Reply { code: 201, body: self.commit_create(env, target, object, dry_run) })
            }
            Some(live) => {
                precondition(&config, &live, target)?;
                match ssa::apply(Some(&live), &config, &writer, force)? {
                    None => Ok(Reply::ok(self.stored_or(target, live))),
                    Some(mut object) => {
                        self.default_object(target, Some(&live), &mut object);
                        admission::admit(target, &object)?;
                        Ok(Reply::ok(self.commit_update(target, &live, object, dry_run)))
                    }
                }
            }
        }
    }

    pub(crate) fn live(&self, target: &Target) -> Result<Value, ApiError> {
        let name = target.name();
        self.store.value(&target.key(name)).ok_or_else(|| target.not_found(name))
    }

    /// The reply for a write that changed nothing: the stored object as stored, or `live`.
    fn stored_or(&self, target: &Target, live: Value) -> Body {
        self.store.get(&target.key(target.name())).map_or(Body::Value(live), |stored| Body::Stored(Arc::clone(stored)))
    }

    /// A non-apply write of `object` over `live`: preconditions, status reset, ownership, commit.
    pub(crate) fn write_update(
        &mut self,
        env: Env<'_>,
        target: &Target,
        live: &Value,
        mut object: Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<Reply, ApiError> {
        precondition(&object, live, target)?;
        for field in [
            "uid",
            "creationTimestamp",
            "generation",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            match live.pointer(&format!("/metadata/{field}")) {
                Some(value) => set_meta(&mut object, field, value.clone()),
                None => {
                    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                        metadata.remove(field);
                    }
                }
            }
        }
        subresource::reset_updated(target, live, &mut object);
        let now = rfc3339(env.now);
        let api_version = target.resource.api_version();
        let writer = target.writer(manager, &api_version, &now);
        let mut object = normalize(object);
        self.default_object(target, Some(live), &mut object);
        match ssa::update(Some(live), &object, &writer) {
            None => Ok(Reply::ok(self.stored_or(target, live.clone()))),
            Some(object) => {
                admission::admit(target, &object)?;
                Ok(Reply::ok(self.commit_update(target, live, object, dry_run)))
            }
        }
    }

    /// Stamps a new object and stores it unless `dry_run`; a dry run gets no resourceVersion.
    pub(crate) fn commit_create(&mut self, env: Env<'_>, target: &Target, mut object: Value, dry_run: bool) -> Body {
        let name = meta_str(&object, "name").unwrap_or(target.name()).to_owned();
        set_meta(&mut object, "uid", json!(env.uids.next()));
        set_meta(&mut object, "creationTimestamp", json!(rfc3339(env.now)));
        set_meta(&mut object, "generation", json!(1));
        for field in ["deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"] {
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.remove(field);
            }
        }
        if target.resource.group.is_empty() && target.resource.plural == "namespaces" {
            let labels = object.pointer("/metadata/labels").cloned().unwrap_or_else(|| json!({}));
            let mut labels = labels.as_object().cloned().unwrap_or_default();
            labels.insert("kubernetes.io/metadata.name".into(), json!(name));
            set_meta(&mut object, "labels", Value::Object(labels));
            object["spec"] = json!({"finalizers": ["kubernetes"]});
            object["status"] = json!({"phase": "Active"});
        }
        if dry_run {
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.remove("resourceVersion");
            }
            return Body::Value(normalize(object));
        }
        let revision = self.store.next_revision();
        set_meta(&mut object, "resourceVersion", json!(revision.to_string()));
        Body::Stored(self.store.put(target.key(&name), &normalize(object)))
    }

    /// Stores a changed object unless `dry_run` (which keeps the live resourceVersion).
    pub(crate) fn commit_update(&mut self, target: &Target, live: &Value, mut object: Value, dry_run: bool) -> Body {
        let generation = live.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
        let generation = if spec_changed(live, &object) { generation + 1 } else { generation };
        set_meta(&mut object, "generation", json!(generation));
        if dry_run {
            return Body::Value(normalize(object));
        }
        let revision = self.store.next_revision();
        set_meta(&mut object, "resourceVersion", json!(revision.to_string()));
        let object = normalize(object);
        let key = target.key(target.name());
        if lifecycle::is_finalized(&key, &object) {
            self.store.remove(&key);
            Body::Value(object)
        } else {
            Body::Stored(self.store.put(key, &object))
        }
    }
}

fn decode_body(call: &Call<'_>) -> Result<Value, ApiError> {
    let media = call.content_type.split(';').next().unwrap_or("").trim();
    match media {
        "" | "application/json" => json_object(call.body),
        "application/yaml" | "application/x-yaml" | "text/yaml" => yaml_object(call.body),
        _ => Err(ApiError::UnsupportedMediaType("application/json, application/yaml".into())),
    }
}

/// The manager of a non-apply write: `fieldManager`, else the User-Agent's program name.
pub(crate) fn manager(call: &Call<'_>) -> String {
    if let Some(manager) = call.query.get("fieldManager") {
        manager.to_owned()
    } else {
        let program = call.user_agent.split('/').next().unwrap_or("").trim();
        if program.is_empty() { "unknown".into() } else { program.chars().take(128).collect() }
    }
}

fn validate(resource: &Resource, name: &str) -> Result<(), ApiError> {
    let errors = validate_name(name, NameRule::for_kind(&resource.group, &resource.kind));
    if errors.is_empty() { Ok(()) } else { Err(invalid_name(&resource.group, &resource.kind, name, &errors)) }
}

/// Checks (and fills in) `apiVersion` and `kind`.
fn check_type(object: &mut Value, resource: &Resource, verb: &str) -> Result<(), ApiError> {
    let expected = resource.api_version();
    let Some(map) = object.as_object_mut() else {
        return Err(ApiError::BadRequest("the body must be an object".into()));
    };
    match map.get("apiVersion").and_then(Value::as_str) {
        Some(found) if found != expected => {
            return Err(ApiError::BadRequest(if verb == "apply" {
                format!(
                    "Incorrect version specified in apply patch. Specified patch version: {found}, expected: {expected}"
                )
            } else {
                format!("the API version in the data ({found}) does not match the expected API version ({expected})")
            }));
        }
        Some(_) => {}
        None if verb == "apply" => return Err(ApiError::BadRequest("apiVersion must be set in an apply patch".into())),
        None => {
            map.insert("apiVersion".into(), json!(expected));
        }
    }
    match map.get("kind").and_then(Value::as_str) {
        Some(found) if found != resource.kind => Err(ApiError::BadRequest(format!(
            "the kind in the data ({found}) does not match the expected kind ({})",
            resource.kind
        ))),
        Some(_) => Ok(()),
        None if verb == "apply" => Err(ApiError::BadRequest("kind must be set in an apply patch".into())),
        None => {
            map.insert("kind".into(), json!(resource.kind));
            Ok(())
        }
    }
}

/// Checks (and fills in) `metadata.namespace` against the path.
fn check_namespace(object: &mut Value, target: &Target) -> Result<(), ApiError> {
    let found = meta_str(object, "namespace").map(str::to_owned);
    match (&target.namespace, found) {
        (Some(path), Some(body)) if target.resource.is_namespaced() && *path != body => Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request".into(),
        )),
        (Some(path), None) if target.resource.is_namespaced() => {
            set_meta(object, "namespace", json!(path));
            Ok(())
        }
        _ if !target.resource.is_namespaced() => {
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.remove("namespace");
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn check_name(object: &Value, target: &Target) -> Result<(), ApiError> {
    match meta_str(object, "name") {
        Some(found) if found == target.name() => Ok(()),
        Some(found) => Err(ApiError::BadRequest(format!(
            "the name of the object ({found}) does not match the name on the URL ({})",
            target.name()
        ))),
        None => Err(ApiError::BadRequest("name is required in the body".into())),
    }
}

/// The optimistic lock: a `metadata.resourceVersion` in the body must match the live one.
pub(crate) fn precondition(object: &Value, live: &Value, target: &Target) -> Result<(), ApiError> {
    match meta_str(object, "resourceVersion") {
        Some(rv) if Some(rv) != meta_str(live, "resourceVersion") => {
            Err(ApiError::Conflict { resource: target.resource.qualified(), name: target.name().into() })
        }
        _ => Ok(()),
    }
}

/// Puts `apiVersion`, `kind`, `metadata` first and `metadata`'s fields in the API server's order.
fn normalize(object: Value) -> Value {
    const ORDER: [&str; 15] = [
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    ];
    let Value::Object(mut map) = object else { return object };
    let mut out = Map::new();
    for key in ["apiVersion", "kind"] {
        if let Some(value) = map.shift_remove(key) {
            out.insert(key.into(), value);
        }
    }
    if let Some(Value::Object(mut metadata)) = map.shift_remove("metadata") {
        let mut ordered = Map::new();
        for key in ORDER {
            if let Some(value) = metadata.shift_remove(key) {
                ordered.insert(key.into(), value);
            }
        }
        ordered.extend(metadata);
        out.insert("metadata".into(), Value::Object(ordered));
    }
    out.extend(map);
    Value::Object(out)
}

fn encode_continue(namespace: &str, name: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let raw = format!("{namespace}/{name}");
    raw.bytes().flat_map(|b| [char::from(HEX[usize::from(b >> 4)]), char::from(HEX[usize::from(b & 15)])]).collect()
}

fn decode_continue(token: &str) -> Result<(String, String), ApiError> {
    let invalid = || ApiError::BadRequest(format!("continue key is not valid: {token:?}"));
    if !token.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let bytes: Result<Vec<u8>, _> =
        (0..token.len()).step_by(2).map(|i| u8::from_str_radix(token.get(i..i + 2).unwrap_or("zz"), 16)).collect();
    let text = String::from_utf8(bytes.map_err(|_| invalid())?).map_err(|_| invalid())?;
    let (namespace, name) = text.split_once('/').ok_or_else(invalid)?;
    Ok((namespace.into(), name.into()))
}
