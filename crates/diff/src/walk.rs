//! The three-way walk: desired, live and last-applied values side by side, following the schema.
//!
//! At every position the walk asks the same question: does a sync change this field? A field
//! changes when desired sets it to a different value than live has, or when desired no longer
//! sets it but it was set last time (a removal). A field only live has, which was not set last
//! time, belongs to someone else (the API server's defaults, another controller) and stays.
//!
//! How values are matched follows the schema's server-side-apply semantics: structs and maps key
//! by key, keyed lists (`list-type: map`) item by item by their key fields whatever the order,
//! sets by value whatever the order, atomic lists whole (position by position when the length is
//! unchanged, so defaults the server fills into their items are not changes), atomic maps whole
//! (everything live has in them counts as set by us). Scalars compare by value (see `scalar`),
//! and an empty map, list or string where the API drops empties equals an absent field.
//!
//! The same walk, run with `build`, also produces the object after the sync, which renderings and
//! the JSON Patch use. The walk records changes only when not building, and builds only when
//! asked, so diffing an unchanged object allocates nothing but the walk's path.

use gitops_core::schema::{ListType, MapType, Node, Shape};
use serde_json::{Map, Value};

use crate::diffset::{ChangeKind, FieldChange};
use crate::keys::ItemIndex;
use crate::path::{Step, to_path};
use crate::scalar::scalars_equal;
use crate::text::{text_equal, values_equal};

/// Metadata fields the API server sets and owns; never a difference.
pub(crate) const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The annotation `kubectl apply` (client-side) keeps its last-applied object in.
pub(crate) const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Nodes the walk needs besides the object's own schema.
#[derive(Clone, Copy)]
pub(crate) struct Nodes<'a> {
    /// `ObjectMeta`, for the metadata of kinds the schema does not know.
    pub(crate) metadata: Node<'a>,
    /// A node nothing is known about, for fields the schema does not declare.
    pub(crate) deduced: Node<'a>,
}

/// One walk over one object.
pub(crate) struct Walk<'a> {
    pub(crate) changes: Vec<FieldChange>,
    /// Whether the last-applied object mirrors desired everywhere the walk looked: then the
    /// drift (last applied against live) is exactly the changes, and needs no walk of its own.
    pub(crate) mirror: bool,
    steps: Vec<Step<'a>>,
    build: bool,
    nodes: Nodes<'a>,
}

/// Which positions of a list were matched: a bit set, on the heap only past 64 items.
enum Matched {
    Bits(u64),
    Heap(Vec<bool>),
}

impl Matched {
    fn new(len: usize) -> Matched {
        if len <= 64 { Matched::Bits(0) } else { Matched::Heap(vec![false; len]) }
    }

    fn set(&mut self, at: usize) {
        match self {
            Matched::Bits(bits) => *bits |= 1 << at,
            Matched::Heap(flags) => flags[at] = true,
        }
    }

    fn get(&self, at: usize) -> bool {
        match self {
            Matched::Bits(bits) => bits & (1 << at) != 0,
            Matched::Heap(flags) => flags[at],
        }
    }
}

/// Maps up to this size are searched by scanning, larger ones by hashing.
const SEEK_LIMIT: usize = 32;

/// A map lookup. Maps of an object's size are scanned: comparing a few keys' lengths is
/// cheaper than hashing one and reading the hash table.
pub(crate) fn lookup<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    if map.len() <= SEEK_LIMIT { map.iter().find_map(|(k, v)| text_equal(k, key).then_some(v)) } else { map.get(key) }
}

/// A place in a map, to find keys in the order they come. Objects written by the same hand keep
/// their keys in the same order, so the next key sought is usually the next one there.
struct Cursor<'m> {
    map: &'m Map<String, Value>,
    /// The entries after the last one found, and the position of the first of them.
    rest: serde_json::map::Iter<'m>,
    at: usize,
}

impl<'m> Cursor<'m> {
    fn new(map: &'m Map<String, Value>) -> Cursor<'m> {
        Cursor { map, rest: map.iter(), at: 0 }
    }

    /// Finds `key` and its position, scanning on from just past the previous find, then from the
    /// start. Large maps are hashed (no position).
    fn seek(&mut self, key: &str) -> Option<(usize, &'m Value)> {
        if self.map.len() > SEEK_LIMIT {
            return self.map.get(key).map(|value| (usize::MAX, value));
        }
        let mut ahead = self.rest.clone();
        for (at, (candidate, value)) in (self.at..).zip(ahead.by_ref()) {
            if text_equal(candidate, key) {
                self.rest = ahead;
                self.at = at + 1;
                return Some((at, value));
            }
        }
        let mut ahead = self.map.iter();
        for (at, (candidate, value)) in ahead.by_ref().take(self.at).enumerate() {
            if text_equal(candidate, key) {
                self.rest = ahead;
                self.at = at + 1;
                return Some((at, value));
            }
        }
        None
    }
}

/// Whether two values are the same, exactly (`1` is not `1.0`, key order aside). Maps are read
/// in step: two copies of one object keep their keys in the same order, so each key is found
/// at the first place looked. Cheaper than any walk: no schema, no paths, one comparison per
/// node.
pub(crate) fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => identical_maps(a, b),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| identical(x, y)),
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => false,
        _ => values_equal(a, b),
    }
}

/// [`identical`] for maps.
pub(crate) fn identical_maps(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((key, value), (other_key, other))| {
            let other = if text_equal(key, other_key) { Some(other) } else { lookup(b, key) };
            other.is_some_and(|other| identical(value, other))
        })
}

/// Scalar equality for the mirror check (`1` equals `1.0`).
fn scalar_equal(a: &Value, b: &Value) -> bool {
    values_equal(a, b) || crate::scalar::numbers_equal(a, b)
}

/// Whether values at `node` merge key by key.
fn is_granular(node: Node<'_>) -> bool {
    matches!(node.shape(), Shape::Struct | Shape::Map | Shape::Deduced) && node.map_type() == MapType::Granular
}

/// The value, unless it counts as absent: null, an empty list, an empty map where the API drops
/// empty maps (anything but a struct, which Go keeps as `{}`), an empty string in a field of a
/// built-in struct (Go's `omitempty`).
pub(crate) fn present<'x>(value: Option<&'x Value>, node: Node<'_>, in_struct: bool) -> Option<&'x Value> {
    match value? {
        Value::Null => None,
        Value::Array(items) if items.is_empty() => None,
        Value::Object(map) if map.is_empty() && node.shape() != Shape::Struct => None,
        Value::String(text) if text.is_empty() && in_struct => None,
        value => Some(value),
    }
}

/// Whether fields of `node` are fields of a built-in struct (where Go drops empty strings).
fn is_builtin_struct(node: Node<'_>) -> bool {
    node.shape() == Shape::Struct && node.type_name().is_some_and(|name| name.starts_with("io.k8s."))
}

impl<'a> Walk<'a> {
    /// A walk that records changes (`build` false) or builds the object after the sync (`build` true).
    pub(crate) fn new(nodes: Nodes<'a>, build: bool) -> Walk<'a> {
        Walk { changes: Vec::new(), mirror: true, steps: Vec::with_capacity(16), build, nodes }
    }

    /// Walks whole objects; returns the object after the sync when building.
    pub(crate) fn root(
        &mut self,
        node: Node<'a>,
        desired: &'a Map<String, Value>,
        live: &'a Map<String, Value>,
        last: Option<&'a Map<String, Value>>,
    ) -> Option<Value> {
        self.merge_maps(node, desired, live, last)
    }

    fn keep(&self, live: &Value) -> Option<Value> {
        self.build.then(|| live.clone())
    }

    fn record(&mut self, kind: ChangeKind, before: Option<&Value>, after: Option<&Value>) {
        if !self.build {
            self.changes.push(FieldChange::new(to_path(&self.steps), kind, before.cloned(), after.cloned()));
        }
    }

    /// Whether `key` of the map at the current position is owned by the server.
    fn skipped(&self, key: &str) -> bool {
        server_owned(&self.steps, key)
    }

    fn child(&self, node: Node<'a>, key: &str) -> Node<'a> {
        let child = node.field(key).unwrap_or(self.nodes.deduced);
        if self.steps.is_empty() && key == "metadata" && child.is_deduced() { self.nodes.metadata } else { child }
    }

    /// Walks one field of a mapping: its schema node, with its step on the path meanwhile.
    fn walk_field(
        &mut self,
        node: Node<'a>,
        key: &'a str,
        desired: Option<&'a Value>,
        live: Option<&'a Value>,
        last: Option<&'a Value>,
        in_struct: bool,
    ) -> Option<Value> {
        let child = self.child(node, key);
        self.steps.push(Step::Field(key));
        let merged = self.walk(child, desired, live, last, in_struct);
        self.steps.pop();
        merged
    }

    fn walk(
        &mut self,
        node: Node<'a>,
        desired: Option<&'a Value>,
        live: Option<&'a Value>,
        last: Option<&'a Value>,
        in_struct: bool,
    ) -> Option<Value> {
        let raw_live = live;
        let desired = present(desired, node, in_struct);
        let live = present(live, node, in_struct);
        let last = present(last, node, in_struct);
        match (desired, live) {
            // Both absent, or empty where empty means absent: keep live's spelling.
            (None, None) => {
                self.mirror &= last.is_none();
                raw_live.and_then(|live| self.keep(live))
            }
            (None, Some(live)) => match last {
                None => self.keep(live),
                Some(last) => {
                    self.mirror = false;
                    self.remove(node, live, last)
                }
            },
            (Some(desired), None) => {
                self.mirror &= last == Some(desired);
                self.add(node, desired)
            }
            (Some(desired), Some(live)) => {
                self.mirror &= last.is_some();
                self.both(node, desired, live, last)
            }
        }
    }

    /// Desired sets a field live lacks: maps are reported field by field, anything else whole.
    fn add(&mut self, node: Node<'a>, desired: &'a Value) -> Option<Value> {
        if let Value::Object(map) = desired
            && is_granular(node)
        {
            let start = self.changes.len();
            let in_struct = is_builtin_struct(node);
            let mut out = Map::new();
            for (key, value) in map {
                if self.skipped(key) {
                    continue;
                }
                let merged = self.walk_field(node, key, Some(value), None, None, in_struct);
                if let Some(merged) = merged {
                    out.insert(key.clone(), merged);
                }
            }
            if self.changes.len() == start {
                self.record(ChangeKind::Added, None, Some(desired));
            }
            return self.build.then_some(Value::Object(out));
        }
        self.record(ChangeKind::Added, None, Some(desired));
        self.keep(desired)
    }

    /// Desired no longer sets a field that was set last time: remove what we set.
    fn remove(&mut self, node: Node<'a>, live: &'a Value, last: &'a Value) -> Option<Value> {
        match (live, last) {
            // An empty struct left behind is no value of ours to remove.
            (Value::Object(map), _) if map.is_empty() => self.keep(live),
            (Value::Object(live_map), Value::Object(last_map)) if is_granular(node) => {
                let in_struct = is_builtin_struct(node);
                let mut out = Map::new();
                for (key, value) in live_map {
                    if self.skipped(key) {
                        continue;
                    }
                    let merged = match lookup(last_map, key) {
                        Some(owned) => self.walk_field(node, key, None, Some(value), Some(owned), in_struct),
                        None => self.keep(value),
                    };
                    if let Some(merged) = merged {
                        out.insert(key.clone(), merged);
                    }
                }
                (self.build && (!out.is_empty() || node.shape() == Shape::Struct)).then_some(Value::Object(out))
            }
            (Value::Array(live_items), Value::Array(last_items)) => {
                let keys = node.list_map_keys();
                let owned = match node.list_type() {
                    ListType::Map if !keys.is_empty() => ItemIndex::keyed(last_items, keys),
                    ListType::Set => ItemIndex::set(last_items),
                    _ => None,
                };
                let Some(owned) = owned else {
                    self.record(ChangeKind::Removed, Some(live), None);
                    return None;
                };
                let is_owned: Vec<bool> = live_items.iter().map(|item| owned.find(item).is_some()).collect();
                if is_owned.iter().all(|&o| o) {
                    self.record(ChangeKind::Removed, Some(live), None);
                    return None;
                }
                let mut out = Vec::new();
                for (item, owned) in live_items.iter().zip(is_owned) {
                    if owned {
                        self.steps.push(if keys.is_empty() { Step::Item(item) } else { Step::Key(keys, item) });
                        self.record(ChangeKind::Removed, Some(item), None);
                        self.steps.pop();
                    } else if self.build {
                        out.push(item.clone());
                    }
                }
                self.build.then_some(Value::Array(out))
            }
            _ => {
                self.record(ChangeKind::Removed, Some(live), None);
                None
            }
        }
    }

    /// Both sides set the field.
    fn both(&mut self, node: Node<'a>, desired: &'a Value, live: &'a Value, last: Option<&'a Value>) -> Option<Value> {
        match (desired, live) {
            (Value::Object(desired_map), Value::Object(live_map)) => {
                let node = if matches!(node.shape(), Shape::Struct | Shape::Map | Shape::Deduced) {
                    node
                } else {
                    self.nodes.deduced
                };
                // An atomic map is replaced whole: all of it counts as set by us.
                let last = if node.map_type() == MapType::Atomic {
                    self.mirror &= last == Some(desired);
                    Some(live)
                } else {
                    last
                };
                self.merge_maps(node, desired_map, live_map, last.and_then(Value::as_object))
            }
            (Value::Array(desired_items), Value::Array(live_items)) => {
                let node = if matches!(node.shape(), Shape::List) { node } else { self.nodes.deduced };
                self.merge_lists(
                    node,
                    desired,
                    live,
                    desired_items,
                    live_items,
                    last.and_then(Value::as_array).map(Vec::as_slice),
                )
            }
            _ if last.is_some_and(|last| !scalar_equal(desired, last)) => {
                self.mirror = false;
                self.both(node, desired, live, None)
            }
            _ if scalars_equal(node.scalar(), desired, live) => self.keep(live),
            _ => {
                self.record(ChangeKind::Changed, Some(live), Some(desired));
                self.keep(desired)
            }
        }
    }

    fn merge_maps(
        &mut self,
        node: Node<'a>,
        desired: &'a Map<String, Value>,
        live: &'a Map<String, Value>,
        last: Option<&'a Map<String, Value>>,
    ) -> Option<Value> {
        let in_struct = is_builtin_struct(node);
        let mut out = Map::new();
        // Live keys desired also has, by position, so the second pass needs no lookups.
        let mut matched: u64 = 0;
        let (mut live_at, mut last_at, mut shared) = (Cursor::new(live), last.map(Cursor::new), 0);
        for (key, value) in desired {
            let owned = last_at.as_mut().and_then(|l| l.seek(key)).map(|(_, owned)| owned);
            if let Some(owned) = owned {
                shared += 1;
                if !value.is_object() && !value.is_array() && !scalar_equal(value, owned) {
                    self.mirror = false;
                }
            } else if last.is_some() {
                self.mirror = false;
            }
            let have = live_at.seek(key).map(|(at, have)| {
                if at < 64 {
                    matched |= 1 << at;
                }
                have
            });
            if self.skipped(key) {
                continue;
            }
            // Equal scalars are the common case, and need no schema: skip the walk.
            if let Some(have) = have
                && !value.is_object()
                && !value.is_array()
                && values_equal(value, have)
            {
                if self.build {
                    out.insert(key.clone(), have.clone());
                }
                continue;
            }
            let merged = self.walk_field(node, key, Some(value), have, owned, in_struct);
            if let Some(merged) = merged {
                out.insert(key.clone(), merged);
            }
        }
        // When every key of last applied is also desired, no key only live has was set by us.
        let last = last.filter(|l| l.len() != shared);
        if last.is_some() {
            self.mirror = false;
        } else if !self.build {
            // Keys only live has are not ours: nothing to compare, nothing to build.
            return None;
        }
        let indexed = live.len() <= SEEK_LIMIT;
        let mut last_at = last.map(Cursor::new);
        for (at, (key, value)) in live.iter().enumerate() {
            let in_desired = if indexed && at < 64 { matched & (1 << at) != 0 } else { lookup(desired, key).is_some() };
            if in_desired || self.skipped(key) {
                continue;
            }
            let merged = match last_at.as_mut().and_then(|l| l.seek(key)) {
                Some((_, owned)) => self.walk_field(node, key, None, Some(value), Some(owned), in_struct),
                None => self.keep(value),
            };
            if let Some(merged) = merged {
                out.insert(key.clone(), merged);
            }
        }
        self.build.then_some(Value::Object(out))
    }

    fn merge_lists(
        &mut self,
        node: Node<'a>,
        desired: &'a Value,
        live: &'a Value,
        desired_items: &'a [Value],
        live_items: &'a [Value],
        last_items: Option<&'a [Value]>,
    ) -> Option<Value> {
        let items = node.items().unwrap_or(self.nodes.deduced);
        match node.list_type() {
            ListType::Map if !node.list_map_keys().is_empty() => {
                let keys = node.list_map_keys();
                if let Some(desired_index) = ItemIndex::keyed(desired_items, keys)
                    && let Some(live_index) = ItemIndex::keyed(live_items, keys)
                {
                    self.mirror &= last_items.is_some_and(|l| l.len() == desired_items.len());
                    return self.merge_keyed(items, keys, &desired_index, &live_index, last_items);
                }
            }
            ListType::Set => {
                if let (Some(desired_index), Some(live_index)) =
                    (ItemIndex::set(desired_items), ItemIndex::set(live_items))
                {
                    let last_index = last_items.and_then(ItemIndex::set);
                    self.mirror &= last_index.as_ref().is_some_and(|last| {
                        last_items.is_some_and(|l| l.len() == desired_items.len())
                            && (0..desired_items.len()).all(|at| last.find_as(&desired_index, at).is_some())
                    });
                    return self.merge_set(&desired_index, &live_index, last_index.as_ref());
                }
            }
            _ => {}
        }
        self.mirror &= last_items.is_some_and(|l| l.len() == desired_items.len());
        if desired_items.len() != live_items.len() {
            self.mirror &= last_items.is_some_and(|l| l == desired_items);
            self.record(ChangeKind::Changed, Some(live), Some(desired));
            return self.keep(desired);
        }
        let mut out = Vec::new();
        for (i, (want, have)) in desired_items.iter().zip(live_items).enumerate() {
            self.steps.push(Step::Index(i));
            let merged = self.walk(items, Some(want), Some(have), last_items.and_then(|l| l.get(i)), false);
            self.steps.pop();
            if self.build {
                out.push(merged.unwrap_or(Value::Null));
            }
        }
        self.build.then_some(Value::Array(out))
    }

    fn merge_keyed(
        &mut self,
        items: Node<'a>,
        keys: &'a [String],
        desired_index: &ItemIndex<'a>,
        live_index: &ItemIndex<'a>,
        last_items: Option<&'a [Value]>,
    ) -> Option<Value> {
        let (desired_items, live_items) = (desired_index.items(), live_index.items());
        let last_index = last_items.and_then(|l| ItemIndex::keyed(l, keys));
        let mut matched = Matched::new(live_items.len());
        let mut merged: Vec<Option<Value>> = if self.build { vec![None; live_items.len()] } else { Vec::new() };
        let mut appended = Vec::new();
        for (i, item) in desired_items.iter().enumerate() {
            self.steps.push(Step::Key(keys, item));
            if let Some(at) = live_index.find_as(desired_index, i) {
                matched.set(at);
                let owned = last_index.as_ref().and_then(|index| index.get_as(desired_index, i));
                self.mirror &= owned.is_some();
                let result = self.walk(items, Some(item), Some(&live_items[at]), owned, false);
                if self.build {
                    merged[at] = result;
                }
            } else {
                self.mirror &= last_index.as_ref().and_then(|index| index.get_as(desired_index, i)) == Some(item);
                self.record(ChangeKind::Added, None, Some(item));
                if self.build {
                    appended.push(item.clone());
                }
            }
            self.steps.pop();
        }
        if last_index.is_none() && !self.build {
            return None;
        }
        for (at, item) in live_items.iter().enumerate() {
            if matched.get(at) {
                continue;
            }
            if last_index.as_ref().is_some_and(|index| index.find_as(live_index, at).is_some()) {
                self.steps.push(Step::Key(keys, item));
                self.record(ChangeKind::Removed, Some(item), None);
                self.steps.pop();
            } else if self.build {
                merged[at] = Some(item.clone());
            }
        }
        self.build.then(|| Value::Array(merged.into_iter().flatten().chain(appended).collect()))
    }

    fn merge_set(
        &mut self,
        desired_index: &ItemIndex<'a>,
        live_index: &ItemIndex<'a>,
        last_index: Option<&ItemIndex<'a>>,
    ) -> Option<Value> {
        let (desired_items, live_items) = (desired_index.items(), live_index.items());
        // Whether live item `at` was set by us last time and is no longer desired.
        let owned = |at: usize| {
            desired_index.find_as(live_index, at).is_none()
                && last_index.is_some_and(|i| i.find_as(live_index, at).is_some())
        };
        let mut out = Vec::new();
        for (at, item) in live_items.iter().enumerate() {
            if owned(at) {
                continue;
            }
            if self.build {
                out.push(item.clone());
            }
        }
        for (at, item) in desired_items.iter().enumerate() {
            if live_index.find_as(desired_index, at).is_none() {
                self.steps.push(Step::Item(item));
                self.record(ChangeKind::Added, None, Some(item));
                self.steps.pop();
                if self.build {
                    out.push(item.clone());
                }
            }
        }
        for (at, item) in live_items.iter().enumerate() {
            if owned(at) {
                self.steps.push(Step::Item(item));
                self.record(ChangeKind::Removed, Some(item), None);
                self.steps.pop();
            }
        }
        self.build.then_some(Value::Array(out))
    }
}

/// Whether `key`, in the map at `steps`, is a field the server owns (status, server-set metadata,
/// the client-side last-applied annotation): never a difference.
pub(crate) fn server_owned(steps: &[Step<'_>], key: &str) -> bool {
    match steps {
        [] => key == "status",
        [Step::Field("metadata")] => SERVER_METADATA.contains(&key),
        [Step::Field("metadata"), Step::Field("annotations")] => key == LAST_APPLIED_ANNOTATION,
        _ => false,
    }
}
