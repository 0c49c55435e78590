//! Deletion: DeleteOptions, finalizers and `deletionTimestamp`, garbage collection through
//! `ownerReferences` (Background, Foreground, Orphan) and the namespace cascade.
//!
//! The API server defers a deletion while an object has finalizers: it sets
//! `deletionTimestamp` and keeps the object until a later write removes the last finalizer.
//! The garbage collector, a background controller upstream, runs here synchronously after every
//! deleting write ([`State::collect_garbage`]) until nothing more changes:
//!
//! - an object whose owners (by uid) are all gone is deleted;
//! - an owner deleted in the foreground carries the `foregroundDeletion` finalizer until its
//!   dependents are gone; its dependents are deleted first (in the foreground when they have
//!   `blockOwnerDeletion`);
//! - `Orphan` strips the owner's references from its dependents before the owner goes;
//! - a terminating namespace has its contents deleted, and goes once it is empty.

use http::Method;
use serde_json::{Map, Value, json};

use crate::clock::rfc3339;
use crate::crd;
use crate::error::{ApiError, Cause};
use crate::request::json_object;
use crate::ssa;
use crate::store::{Key, meta_str, set_meta};
use crate::verbs::{Body, Call, Env, Reply, State, Target};

/// The finalizer of an owner deleted in the foreground.
pub(crate) const FOREGROUND: &str = "foregroundDeletion";
/// The manager of the writes the garbage collector makes.
const GC_MANAGER: &str = "kube-controller-manager";

/// How dependents are treated when their owner is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Propagation {
    /// Delete the owner now and its dependents afterwards.
    Background,
    /// Delete the dependents first; the owner waits with the `foregroundDeletion` finalizer.
    Foreground,
    /// Keep the dependents, without their references to the owner.
    Orphan,
}

/// What a delete asks for: the `DeleteOptions` body merged with the query.
#[derive(Debug)]
struct Options {
    dry_run: bool,
    propagation: Propagation,
    uid: Option<String>,
    resource_version: Option<String>,
}

fn options(call: &Call<'_>) -> Result<Options, ApiError> {
    let body = if call.body.iter().all(u8::is_ascii_whitespace) { json!({}) } else { json_object(call.body)? };
    let dry_run = call.query.dry_run()?
        || body.get("dryRun").and_then(Value::as_array).is_some_and(|v| v.iter().any(|x| x == "All"));
    let policy = body
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .or_else(|| call.query.get("propagationPolicy"))
        .map(str::to_owned);
    let orphan = body
        .get("orphanDependents")
        .and_then(Value::as_bool)
        .or_else(|| call.query.get("orphanDependents").map(|v| v == "true"));
    let propagation = match policy.as_deref() {
        Some("Foreground") => Propagation::Foreground,
        Some("Orphan") => Propagation::Orphan,
        None if orphan == Some(true) => Propagation::Orphan,
        Some("Background") | None => Propagation::Background,
        Some(other) => {
            return Err(ApiError::Invalid {
                kind: "DeleteOptions".into(),
                group: "meta.k8s.io".into(),
                name: String::new(),
                causes: vec![Cause {
                    reason: "FieldValueNotSupported".into(),
                    message: format!(
                        "Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
                    ),
                    field: "propagationPolicy".into(),
                }],
            });
        }
    };
    let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    Ok(Options {
        dry_run,
        propagation,
        uid: text("/preconditions/uid"),
        resource_version: text("/preconditions/resourceVersion"),
    })
}

fn finalizers(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Whether `object`, being deleted, has no finalizers left (for a namespace, neither in
/// `metadata` nor in `spec`), so it can go.
pub(crate) fn is_finalized(key: &Key, object: &Value) -> bool {
    let empty = |pointer: &str| object.pointer(pointer).and_then(Value::as_array).is_none_or(Vec::is_empty);
    meta_str(object, "deletionTimestamp").is_some()
        && empty("/metadata/finalizers")
        && (!is_namespace(key) || empty("/spec/finalizers"))
}

fn is_namespace(key: &Key) -> bool {
    key.group.is_empty() && key.resource == "namespaces"
}

/// What happened to an object a delete was asked for.
enum Outcome {
    /// It is gone; this was its last state.
    Removed(Value),
    /// It waits for finalizers (or its dependents); this is its state now.
    Pending(Body),
}

impl State {
    /// Removes an object from the store, bumping the resourceVersion. The one place objects
    /// leave the store.
    pub(crate) fn remove_object(&mut self, key: &Key) -> Option<Value> {
        let removed = self.store.remove(key)?;
        self.store.next_revision();
        Some(removed.value())
    }

    /// DELETE on one object.
    pub(crate) fn delete(&mut self, env: Env<'_>, target: &Target, call: &Call<'_>) -> Result<Reply, ApiError> {
        let options = options(call)?;
        let live = self.live(target)?;
        let conflict = || ApiError::Conflict { resource: target.resource.qualified(), name: target.name().into() };
        if options.uid.as_deref().is_some_and(|uid| meta_str(&live, "uid") != Some(uid)) {
            return Err(conflict());
        }
        if options.resource_version.as_deref().is_some_and(|rv| meta_str(&live, "resourceVersion") != Some(rv)) {
            return Err(conflict());
        }
        let key = target.key(target.name());
        let outcome = self.delete_object(env, &key, options.propagation, options.dry_run);
        let removed_status = |live: &Value| {
            let mut details = Map::new();
            details.insert("name".into(), json!(target.name()));
            if !target.resource.group.is_empty() {
                details.insert("group".into(), json!(target.resource.group));
            }
            details.insert("kind".into(), json!(target.resource.plural));
            details.insert("uid".into(), json!(meta_str(live, "uid").unwrap_or("")));
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
        };
        Ok(match outcome {
            Some(Outcome::Pending(object)) => Reply { code: 200, body: object },
            Some(Outcome::Removed(object)) => {
                let returns_object = target.resource.group.is_empty() && target.resource.plural == "pods";
                Reply::ok(if returns_object { object } else { removed_status(&object) })
            }
            None => return Err(target.not_found(target.name())),
        })
    }

    /// DELETE on a collection: every listed object is deleted as a single DELETE would.
    pub(crate) fn delete_collection(
        &mut self,
        env: Env<'_>,
        target: &Target,
        call: &Call<'_>,
    ) -> Result<Reply, ApiError> {
        let options = options(call)?;
        let list = self.list(target, call.query)?.body.into_value();
        let items = list.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        for item in &items {
            let key = Key::new(
                &target.resource.group,
                &target.resource.plural,
                meta_str(item, "namespace").unwrap_or(""),
                meta_str(item, "name").unwrap_or(""),
            );
            self.delete_object(env, &key, options.propagation, options.dry_run);
        }
        let mut body = list;
        body["metadata"] = json!({"resourceVersion": self.store.revision().to_string()});
        Ok(Reply::ok(body))
    }

    /// Deletes the object at `key` as the API server would; `None` when there is none.
    fn delete_object(&mut self, env: Env<'_>, key: &Key, propagation: Propagation, dry_run: bool) -> Option<Outcome> {
        let live = self.store.value(key)?;
        let target = self.target_of(key)?;
        let mut pending = finalizers(&live);
        if is_namespace(key) || propagation == Propagation::Foreground || !pending.is_empty() {
            let mut object = live.clone();
            if propagation == Propagation::Foreground && !pending.iter().any(|f| f == FOREGROUND) {
                pending.push(FOREGROUND.into());
                set_meta(&mut object, "finalizers", json!(pending));
            }
            if meta_str(&object, "deletionTimestamp").is_none() {
                set_meta(&mut object, "deletionTimestamp", json!(rfc3339(env.now)));
                set_meta(&mut object, "deletionGracePeriodSeconds", json!(0));
            }
            if is_namespace(key) {
                object["status"] = json!({"phase": "Terminating"});
            }
            if object == live {
                return Some(Outcome::Pending(Body::Value(live)));
            }
            let object = self.commit_update(&target, &live, object, dry_run);
            return Some(Outcome::Pending(object));
        }
        if dry_run {
            return Some(Outcome::Removed(live));
        }
        if propagation == Propagation::Orphan {
            self.orphan_dependents(env, meta_str(&live, "uid").unwrap_or(""));
        }
        self.remove_object(key).map(Outcome::Removed)
    }

    /// The target of the object at `key`, at the resource's first served version.
    pub(crate) fn target_of(&self, key: &Key) -> Option<Target> {
        let resource =
            self.registry.resources().iter().find(|r| r.group == key.group && r.plural == key.resource)?.clone();
        Some(Target {
            resource,
            namespace: Some(key.namespace.clone()).filter(|ns| !ns.is_empty()),
            name: Some(key.name.clone()),
            subresource: None,
            schema: self.schema.clone(),
        })
    }

    /// Removes the references to `uid` from every object that has one, as the garbage
    /// collector's `Update`.
    fn orphan_dependents(&mut self, env: Env<'_>, uid: &str) {
        let dependents: Vec<Key> =
            self.store.iter().filter(|(_, object)| object.owned_by(uid)).map(|(key, _)| key.clone()).collect();
        for key in dependents {
            let (Some(live), Some(target)) = (self.store.value(&key), self.target_of(&key)) else { continue };
            let mut object = ssa::without_managed_fields(&live);
            if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
                let kept: Vec<Value> = metadata
                    .get("ownerReferences")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|r| r.get("uid").and_then(Value::as_str) != Some(uid))
                    .cloned()
                    .collect();
                if kept.is_empty() {
                    metadata.remove("ownerReferences");
                } else {
                    metadata.insert("ownerReferences".into(), Value::Array(kept));
                }
            }
            let now = rfc3339(env.now);
            let api_version = target.resource.api_version();
            let writer = target.writer(GC_MANAGER, &api_version, &now);
            if let Some(object) = ssa::update(Some(&live), &object, &writer) {
                self.commit_update(&target, &live, object, false);
            }
        }
    }

    /// Runs the garbage collector and the namespace controller until nothing changes.
    pub(crate) fn collect_garbage(&mut self, env: Env<'_>) {
        // Every pass deletes or finalizes at least one object, so the object count bounds it.
        for _ in 0..=self.store.len() {
            if !self.collect_once(env) {
                break;
            }
        }
    }

    fn collect_once(&mut self, env: Env<'_>) -> bool {
        // The walk borrows the stored metadata: nothing is parsed or copied but the keys of work.
        let uids: std::collections::HashMap<&str, &Key> = self
            .store
            .iter()
            .map(|(key, object)| (&*object.meta().uid, key))
            .filter(|(uid, _)| !uid.is_empty())
            .collect();
        let deleting = |key: &Key| self.store.get(key).is_some_and(|o| o.meta().deleting);
        let foreground = |key: &&Key| self.store.get(key).is_some_and(|o| o.has_finalizer(FOREGROUND));
        let mut work: Vec<(Key, Propagation)> = Vec::new();
        let mut done_waiting: Vec<Key> = Vec::new();
        let mut blocked: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for (key, object) in self.store.iter() {
            let owners = &object.meta().owners;
            for (uid, block) in owners {
                if *block {
                    blocked.insert(uid);
                }
            }
            if object.meta().deleting {
                continue;
            }
            let in_terminating_namespace =
                !key.namespace.is_empty() && deleting(&Key::new("", "namespaces", "", &key.namespace));
            if in_terminating_namespace {
                work.push((key.clone(), Propagation::Background));
                continue;
            }
            if owners.is_empty() {
                continue;
            }
            let alive: Vec<&(Box<str>, bool)> = owners.iter().filter(|(uid, _)| uids.contains_key(&**uid)).collect();
            if alive.is_empty() {
                work.push((key.clone(), Propagation::Background));
            } else if alive.iter().all(|(uid, _)| uids.get(&**uid).is_some_and(&foreground)) {
                let blocking = owners.iter().any(|(_, block)| *block);
                work.push((key.clone(), if blocking { Propagation::Foreground } else { Propagation::Background }));
            }
        }
        for (key, object) in self.store.iter() {
            let meta = object.meta();
            if object.has_finalizer(FOREGROUND) && meta.deleting && !blocked.contains(&*meta.uid) {
                done_waiting.push(key.clone());
            }
            if is_namespace(key) && meta.spec_finalizers && meta.deleting && self.namespace_is_empty(&key.name) {
                done_waiting.push(key.clone());
            }
        }
        let changed = !work.is_empty() || !done_waiting.is_empty();
        for (key, propagation) in work {
            self.delete_object(env, &key, propagation, false);
        }
        for key in done_waiting {
            self.finish_waiting(&key);
        }
        changed
    }

    fn namespace_is_empty(&self, namespace: &str) -> bool {
        self.store.keys_in_namespace(namespace).is_empty()
    }

    /// Drops the server's own finalizers (`foregroundDeletion`; a namespace's `kubernetes`) from
    /// an object whose wait is over, which deletes it unless other finalizers remain.
    fn finish_waiting(&mut self, key: &Key) {
        let (Some(live), Some(target)) = (self.store.value(key), self.target_of(key)) else { return };
        let mut object = live.clone();
        let kept: Vec<String> = finalizers(&live).into_iter().filter(|f| f != FOREGROUND).collect();
        if kept.is_empty() {
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.remove("finalizers");
            }
        } else {
            set_meta(&mut object, "finalizers", json!(kept));
        }
        if is_namespace(key) {
            object["spec"] = json!({});
        }
        if object != live {
            self.commit_update(&target, &live, object, false);
        }
    }

    /// What the server does after a write on `target`: reconcile a CRD, collect garbage.
    pub(crate) fn after_write(&mut self, env: Env<'_>, method: &Method, target: &Target) {
        if *method == Method::GET {
            return;
        }
        if crd::is_crd(target)
            && let Some(name) = target.name.as_deref()
        {
            self.reconcile_crd(env, target, name);
        }
        let settled = target
            .name
            .as_deref()
            .is_some_and(|name| self.store.get(&target.key(name)).is_some_and(|o| !o.meta().deleting));
        if *method == Method::DELETE || !settled {
            self.collect_garbage(env);
        }
    }
}
