//! `Node`: a position in a schema, and the arena of node data it points into.
//!
//! A schema is a graph of nodes stored in an [`Arena`]. A node has a *body* — the type at that
//! position (struct, map, list, scalar or deduced) — and the *attributes* of the position: list
//! type and keys, patch strategy and merge key, map type. Bodies are separate from nodes because
//! one definition (say `Container`) is used at many positions, and the attributes belong to the
//! property that holds it, not to the definition: `DeploymentSpec.strategy` is `retainKeys`,
//! `PersistentVolumeSpec.claimRef` overrides `ObjectReference`'s atomic map type.
//!
//! Nodes refer to each other by index, so recursive definitions (JSONSchemaProps) need nothing
//! special. A CRD's arena refers to built-in nodes (ObjectMeta, the plain scalars, the deduced
//! node) with [`BUILTIN`] set on the index; [`Node`] follows such an index into the built-in arena.

use std::fmt;

use super::builtin;

/// Set on a node index stored in a CRD's arena when it points into the built-in arena.
pub(crate) const BUILTIN: u32 = 1 << 31;
/// The built-in deduced node.
pub(crate) const DEDUCED: u32 = 0;
/// The built-in plain scalar nodes, in order: string, integer, number, boolean.
pub(crate) const SCALARS: [(u32, ScalarType); 4] =
    [(1, ScalarType::String), (2, ScalarType::Integer), (3, ScalarType::Number), (4, ScalarType::Boolean)];
/// A body index for a node whose body is not known yet.
const PENDING: u32 = u32::MAX;

/// Node data, indexed by node ids.
#[derive(Debug)]
pub(crate) struct Arena {
    nodes: Vec<NodeData>,
    bodies: Vec<Body>,
    /// `attrs[0]` is the default (no attribute declared).
    attrs: Vec<Attrs>,
}

#[derive(Debug, Clone, Copy)]
struct NodeData {
    body: u32,
    attrs: u32,
}

/// The type at a node: shared by every node that uses the same definition.
#[derive(Debug)]
pub(crate) struct Body {
    /// The definition name, such as `io.k8s.api.core.v1.PodSpec`; `None` when anonymous.
    pub(crate) name: Option<Box<str>>,
    pub(crate) shape: BodyShape,
    /// The definition's own `x-kubernetes-map-type`.
    pub(crate) map_type: Option<MapType>,
}

/// The shape of a body, with its children's node ids.
#[derive(Debug)]
pub(crate) enum BodyShape {
    /// Declared fields sorted by name, and whether unknown fields are kept.
    Struct {
        fields: Fields,
        preserve_unknown: bool,
    },
    Map(u32),
    List(u32),
    Scalar(ScalarType),
    Deduced,
}

/// The attributes of a position (the property that holds a value).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Attrs {
    pub(crate) list_type: Option<ListType>,
    pub(crate) list_map_keys: Vec<String>,
    pub(crate) merge_key: Option<String>,
    pub(crate) strategy: PatchStrategy,
    pub(crate) map_type: Option<MapType>,
}

/// A struct's fields and their node ids, sorted by name, with a hash table to find a field by
/// name: a diff looks up every field of every object it compares, and a binary search over
/// a few dozen names costs a handful of unpredictable branches each time.
#[derive(Debug)]
pub(crate) struct Fields {
    sorted: Box<[(Box<str>, u32)]>,
    /// Positions in `sorted` plus one (zero: empty), at the top bits of the name's hash,
    /// probed linearly. Empty when there are too many fields to number in 16 bits.
    table: Box<[u16]>,
    /// The bits of a `usize` minus the table's size in bits: the hash's top bits index the table.
    shift: u32,
}

impl Fields {
    pub(crate) fn new(sorted: Box<[(Box<str>, u32)]>) -> Fields {
        let size = (sorted.len() * 2).next_power_of_two().max(2);
        if sorted.len() >= usize::from(u16::MAX) {
            return Fields { sorted, table: Box::new([]), shift: 0 };
        }
        let shift = usize::BITS - size.trailing_zeros();
        let mut table = vec![0u16; size].into_boxed_slice();
        for (position, (name, _)) in (1u16..).zip(sorted.iter()) {
            let mut at = name_hash(name) >> shift;
            while table[at] != 0 {
                at = (at + 1) & (size - 1);
            }
            table[at] = position;
        }
        Fields { sorted, table, shift }
    }

    /// The position of field `name`.
    fn find(&self, name: &str) -> Option<usize> {
        if self.table.is_empty() {
            return self.sorted.binary_search_by(|(field, _)| compare_names(field, name)).ok();
        }
        let mut at = name_hash(name) >> self.shift;
        loop {
            let position = usize::from(*self.table.get(at)?).checked_sub(1)?;
            if self.sorted.get(position).is_some_and(|(field, _)| **field == *name) {
                return Some(position);
            }
            at = (at + 1) & (self.table.len() - 1);
        }
    }
}

impl std::ops::Deref for Fields {
    type Target = [(Box<str>, u32)];

    fn deref(&self) -> &Self::Target {
        &self.sorted
    }
}

impl FromIterator<(Box<str>, u32)> for Fields {
    fn from_iter<I: IntoIterator<Item = (Box<str>, u32)>>(iter: I) -> Fields {
        Fields::new(iter.into_iter().collect())
    }
}

/// A hash of a field name from its length and its first and last (up to) eight bytes, spread
/// over the top bits; `usize` so that shifting it gives a table position.
fn name_hash(name: &str) -> usize {
    const MIX: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes = name.as_bytes();
    let (head, tail) = match (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        (Some(head), Some(tail)) => (u64::from_le_bytes(*head), u64::from_le_bytes(*tail)),
        _ => (bytes.iter().fold(0u64, |word, &b| (word << 8) | u64::from(b)), 0),
    };
    let hash = ((bytes.len() as u64) ^ head.wrapping_mul(MIX) ^ tail.rotate_left(29)).wrapping_mul(MIX);
    // The top bits are used: on 32-bit targets keep those.
    #[allow(clippy::cast_possible_truncation)] // shifted to fit
    let hash = (hash >> (64 - usize::BITS)) as usize;
    hash
}

impl Default for Arena {
    fn default() -> Arena {
        Arena { nodes: Vec::new(), bodies: Vec::new(), attrs: vec![Attrs::default()] }
    }
}

impl Arena {
    /// Adds a node with its own body; returns its id.
    pub(crate) fn push(&mut self, body: Body, attrs: Attrs) -> u32 {
        let body_id = index(self.bodies.len());
        self.bodies.push(body);
        self.push_node(body_id, attrs)
    }

    fn push_node(&mut self, body: u32, attrs: Attrs) -> u32 {
        let attrs = self.push_attrs(attrs);
        self.nodes.push(NodeData { body, attrs });
        index(self.nodes.len() - 1)
    }

    fn push_attrs(&mut self, attrs: Attrs) -> u32 {
        if attrs == Attrs::default() {
            0
        } else {
            self.attrs.push(attrs);
            index(self.attrs.len() - 1)
        }
    }

    /// Adds a node whose body [`Arena::set_ref`] provides later; returns its id.
    pub(crate) fn push_pending(&mut self) -> u32 {
        self.nodes.push(NodeData { body: PENDING, attrs: 0 });
        index(self.nodes.len() - 1)
    }

    /// Gives pending node `id` the body of node `target` and its own attributes.
    pub(crate) fn set_ref(&mut self, id: u32, target: u32, attrs: Attrs) -> Result<(), &'static str> {
        let body = self.nodes.get(target as usize).map_or(PENDING, |node| node.body);
        if body == PENDING {
            return Err("a ref must name a node with its own body");
        }
        let attrs = self.push_attrs(attrs);
        self.nodes[id as usize] = NodeData { body, attrs };
        Ok(())
    }

    /// The number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The body of node `id` (in this arena).
    pub(crate) fn body(&self, id: u32) -> &Body {
        &self.bodies[self.nodes[id as usize].body as usize]
    }

    /// The body of node `id` (in this arena), to rewrite it.
    pub(crate) fn body_mut(&mut self, id: u32) -> &mut Body {
        &mut self.bodies[self.nodes[id as usize].body as usize]
    }
}

/// A vector length or position as a node id.
pub(crate) fn index(len: usize) -> u32 {
    let id = u32::try_from(len).expect("a schema has fewer than 2^31 nodes");
    assert!(id & BUILTIN == 0, "a schema has fewer than 2^31 nodes");
    id
}

/// A position in a schema: the root of a kind, or a field, list item or map value below it.
///
/// Nodes are cheap to copy and every lookup is allocation-free; [`Node::field`] is a binary
/// search over the struct's sorted field names. Follow them from [`Schema::root`]:
///
/// ```
/// use gitops_core::Gvk;
/// use gitops_core::schema::{ListType, Schema, Shape};
///
/// let schema = Schema::builtin();
/// let deployment = schema.root(&Gvk::new("apps", "v1", "Deployment")).expect("built-in kind");
/// let containers = ["spec", "template", "spec", "containers"]
///     .iter()
///     .try_fold(deployment, |node, name| node.field(name))
///     .expect("declared fields");
/// assert_eq!(containers.shape(), Shape::List);
/// assert_eq!(containers.list_type(), ListType::Map);
/// assert_eq!(containers.patch_merge_key(), Some("name"));
/// ```
///
/// [`Schema::root`]: super::Schema::root
#[derive(Clone, Copy)]
pub struct Node<'s> {
    arena: &'s Arena,
    id: u32,
}

/// The kind of value at a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Shape {
    /// An object with declared fields.
    Struct,
    /// An object whose keys are free and whose values share one type.
    Map,
    /// A list.
    List,
    /// A scalar of the given type.
    Scalar(ScalarType),
    /// Nothing is known about the value: an unknown kind, an untyped or preserved field. Its maps
    /// merge key by key and its lists are atomic, as Kustomize and the API server treat them.
    Deduced,
}

/// The type of a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScalarType {
    /// A string (also dates and times, and base64 bytes).
    String,
    /// An integer.
    Integer,
    /// A floating-point number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An integer or a string (`IntOrString`, `x-kubernetes-int-or-string`).
    IntOrString,
    /// A resource quantity such as `500m` or `2Gi`, written as a string or a number.
    Quantity,
    /// A scalar of no single type.
    Any,
}

/// How a list merges (`x-kubernetes-list-type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListType {
    /// The list is replaced as a whole; the default.
    #[default]
    Atomic,
    /// The list is a set of scalars, merged by value.
    Set,
    /// The list is a map of objects keyed by [`Node::list_map_keys`].
    Map,
}

/// How an object merges (`x-kubernetes-map-type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MapType {
    /// Fields merge one by one; the default.
    #[default]
    Granular,
    /// The object is replaced as a whole.
    Atomic,
}

/// The strategic-merge-patch strategy of a position (`x-kubernetes-patch-strategy`).
///
/// All flags false means no strategy is declared: lists are then replaced, maps merged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PatchStrategy {
    /// `merge`: list items merge by [`Node::patch_merge_key`] (or by value for scalar lists).
    pub merge: bool,
    /// `retainKeys`: fields absent from the patch are cleared (union types such as volumes).
    pub retain_keys: bool,
    /// `replace`: the value is replaced as a whole.
    pub replace: bool,
}

impl PatchStrategy {
    /// Whether any strategy is declared.
    pub fn is_declared(&self) -> bool {
        self.merge || self.retain_keys || self.replace
    }

    /// Parses a comma-separated `x-kubernetes-patch-strategy` such as `merge,retainKeys`.
    pub(crate) fn parse(text: &str) -> Option<PatchStrategy> {
        let mut strategy = PatchStrategy::default();
        for part in text.split(',') {
            match part.trim() {
                "merge" => strategy.merge = true,
                "retainKeys" => strategy.retain_keys = true,
                "replace" => strategy.replace = true,
                _ => return None,
            }
        }
        Some(strategy)
    }
}

impl ListType {
    pub(crate) fn parse(text: &str) -> Option<ListType> {
        match text {
            "atomic" => Some(ListType::Atomic),
            "set" => Some(ListType::Set),
            "map" => Some(ListType::Map),
            _ => None,
        }
    }
}

impl MapType {
    pub(crate) fn parse(text: &str) -> Option<MapType> {
        match text {
            "granular" => Some(MapType::Granular),
            "atomic" => Some(MapType::Atomic),
            _ => None,
        }
    }
}

impl<'s> Node<'s> {
    /// The node `id` of `arena`, following [`BUILTIN`] into the built-in arena.
    pub(crate) fn new(arena: &'s Arena, id: u32) -> Node<'s> {
        if id & BUILTIN == 0 { Node { arena, id } } else { Node { arena: builtin::arena(), id: id & !BUILTIN } }
    }

    /// The shared deduced node.
    pub(crate) fn deduced() -> Node<'s> {
        Node { arena: builtin::arena(), id: DEDUCED }
    }

    fn body(&self) -> &'s Body {
        &self.arena.bodies[self.arena.nodes[self.id as usize].body as usize]
    }

    fn attrs(&self) -> &'s Attrs {
        &self.arena.attrs[self.arena.nodes[self.id as usize].attrs as usize]
    }

    fn child(&self, id: u32) -> Node<'s> {
        Node::new(self.arena, id)
    }

    /// The kind of value at this position.
    pub fn shape(&self) -> Shape {
        match &self.body().shape {
            BodyShape::Struct { .. } => Shape::Struct,
            BodyShape::Map(_) => Shape::Map,
            BodyShape::List(_) => Shape::List,
            BodyShape::Scalar(scalar) => Shape::Scalar(*scalar),
            BodyShape::Deduced => Shape::Deduced,
        }
    }

    /// The node of field `name`: a struct's declared field, a map's value, or a deduced node
    /// below a deduced one or a struct that preserves unknown fields. `None` for a field the
    /// struct does not declare, and for lists and scalars.
    pub fn field(&self, name: &str) -> Option<Node<'s>> {
        match &self.body().shape {
            BodyShape::Struct { fields, preserve_unknown } => match fields.find(name) {
                Some(found) => Some(self.child(fields[found].1)),
                None if *preserve_unknown => Some(Node::deduced()),
                None => None,
            },
            BodyShape::Map(value) => Some(self.child(*value)),
            BodyShape::Deduced => Some(Node::deduced()),
            BodyShape::List(_) | BodyShape::Scalar(_) => None,
        }
    }

    /// A struct's declared fields and their nodes, sorted by name; empty for other shapes.
    pub fn fields(&self) -> impl Iterator<Item = (&'s str, Node<'s>)> + 's {
        let this = *self;
        let fields: &'s [(Box<str>, u32)] = match &self.body().shape {
            BodyShape::Struct { fields, .. } => fields,
            _ => &[],
        };
        fields.iter().map(move |(name, id)| (&**name, this.child(*id)))
    }

    /// The node of field `name` when this is a struct that declares it; `None` for map keys,
    /// fields a struct only preserves as unknown, and other shapes.
    pub fn declared_field(&self, name: &str) -> Option<Node<'s>> {
        match &self.body().shape {
            BodyShape::Struct { fields, .. } => fields.find(name).map(|found| self.child(fields[found].1)),
            _ => None,
        }
    }

    /// The node of a list's items; a deduced node below a deduced one; `None` otherwise.
    pub fn items(&self) -> Option<Node<'s>> {
        match &self.body().shape {
            BodyShape::List(items) => Some(self.child(*items)),
            BodyShape::Deduced => Some(Node::deduced()),
            _ => None,
        }
    }

    /// How this list merges under server-side apply; [`ListType::Atomic`] when undeclared and
    /// for anything that is not a list.
    pub fn list_type(&self) -> ListType {
        match self.body().shape {
            BodyShape::List(_) => self.attrs().list_type.unwrap_or_default(),
            _ => ListType::Atomic,
        }
    }

    /// The keys of a [`ListType::Map`] list (`x-kubernetes-list-map-keys`), used by server-side
    /// apply. They may differ from [`Node::patch_merge_key`]: `Container.ports` is keyed by
    /// `containerPort` and `protocol`, but merges by `containerPort` alone in a strategic merge.
    pub fn list_map_keys(&self) -> &'s [String] {
        &self.attrs().list_map_keys
    }

    /// The strategic-merge-patch key of this list (`x-kubernetes-patch-merge-key`).
    pub fn patch_merge_key(&self) -> Option<&'s str> {
        self.attrs().merge_key.as_deref()
    }

    /// The strategic-merge-patch strategy declared for this position.
    pub fn patch_strategy(&self) -> PatchStrategy {
        self.attrs().strategy
    }

    /// How this object merges: the position's `x-kubernetes-map-type`, else its definition's,
    /// else [`MapType::Granular`] (also for lists and scalars).
    pub fn map_type(&self) -> MapType {
        self.attrs().map_type.or(self.body().map_type).unwrap_or_default()
    }

    /// The scalar type, when this is a scalar.
    pub fn scalar(&self) -> Option<ScalarType> {
        match self.body().shape {
            BodyShape::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    /// Whether nothing is known about this position (see [`Shape::Deduced`]).
    pub fn is_deduced(&self) -> bool {
        matches!(self.body().shape, BodyShape::Deduced)
    }

    /// Whether fields that are not declared here are kept: deduced nodes and structs with
    /// `x-kubernetes-preserve-unknown-fields`. The API server prunes unknown fields elsewhere.
    pub fn preserves_unknown_fields(&self) -> bool {
        match self.body().shape {
            BodyShape::Struct { preserve_unknown, .. } => preserve_unknown,
            BodyShape::Deduced => true,
            _ => false,
        }
    }

    /// The name of the built-in definition at this position, such as
    /// `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`; `None` for anonymous and CRD types.
    pub fn type_name(&self) -> Option<&'s str> {
        self.body().name.as_deref()
    }
}

/// `a.cmp(b)`, deciding by the first eight bytes (or the first byte) when they differ, as most
/// comparisons of a bisection over field names do, without calling `memcmp` (diffing calls
/// [`Node::field`] for every field of every object).
fn compare_names(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match (a.first_chunk::<8>(), b.first_chunk::<8>()) {
        // Big-endian words order as their bytes do.
        (Some(x), Some(y)) if x != y => u64::from_be_bytes(*x).cmp(&u64::from_be_bytes(*y)),
        _ => match (a.first(), b.first()) {
            (Some(x), Some(y)) if x != y => x.cmp(y),
            _ => a.cmp(b),
        },
    }
}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Node");
        out.field("shape", &self.shape());
        if let Some(name) = self.type_name() {
            out.field("type", &name);
        }
        let attrs = self.attrs();
        if *attrs != Attrs::default() {
            out.field("attrs", attrs);
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_order_as_strings_do() {
        let names = [
            "",
            "a",
            "b",
            "ab",
            "abcdefgh",
            "abcdefghi",
            "abcdefgi",
            "abcdefgh0",
            "terminationGracePeriodSeconds",
            "terminationMessagePath",
            "terminationMessagePolicy",
            "tty",
            "z",
            "zz",
            "\u{e9}t\u{e9}",
            "\u{e9}",
        ];
        for a in names {
            for b in names {
                assert_eq!(compare_names(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn patch_strategy_parses_combinations() {
        let both = PatchStrategy::parse("merge,retainKeys").expect("valid");
        assert!(both.merge && both.retain_keys && !both.replace);
        assert!(PatchStrategy::parse("replace").expect("valid").replace);
        assert_eq!(PatchStrategy::parse("sideways"), None);
        assert!(!PatchStrategy::default().is_declared());
    }

    #[test]
    fn arena_shares_bodies_between_nodes() {
        let mut arena = Arena::default();
        let body = Body { name: Some("T".into()), shape: BodyShape::Scalar(ScalarType::String), map_type: None };
        let plain = arena.push(body, Attrs::default());
        let atomic = arena.push_pending();
        arena.set_ref(atomic, plain, Attrs { map_type: Some(MapType::Atomic), ..Attrs::default() }).expect("own body");
        let pending = arena.push_pending();
        assert!(arena.set_ref(plain, pending, Attrs::default()).is_err(), "a ref to a pending node");
        let (plain, atomic) = (Node::new(&arena, plain), Node::new(&arena, atomic));
        assert_eq!(plain.type_name(), Some("T"));
        assert_eq!(atomic.type_name(), Some("T"));
        assert_eq!(plain.map_type(), MapType::Granular);
        assert_eq!(atomic.map_type(), MapType::Atomic);
    }

    #[test]
    fn fields_are_found_by_name_in_every_builtin_struct() {
        let mut structs = 0;
        for body in &builtin::arena().bodies {
            let BodyShape::Struct { fields, .. } = &body.shape else { continue };
            structs += 1;
            for (at, (name, _)) in fields.iter().enumerate() {
                assert_eq!(fields.find(name), Some(at), "{name}");
                assert_eq!(fields.find(&format!("{name}x")), None);
                assert_eq!(fields.find(&name[1..]), None);
            }
            assert_eq!(fields.find(""), None);
        }
        assert!(structs > 100, "{structs} structs");
    }

    #[test]
    fn fields_beyond_the_table_are_found_by_bisection() {
        let mut names: Vec<(Box<str>, u32)> = (0..70_000u32).map(|i| (format!("f{i:05}").into(), i)).collect();
        names.sort();
        let fields = Fields::new(names.into_boxed_slice());
        assert!(fields.table.is_empty());
        assert_eq!(fields.find("f12345").map(|at| fields[at].1), Some(12_345));
        assert_eq!(fields.find("g"), None);
        let few: Fields = [("a".into(), 1), ("b".into(), 2)].into_iter().collect();
        assert_eq!(few.find("b"), Some(1));
        assert_eq!(Fields::new(Box::new([])).find("a"), None);
    }
}
