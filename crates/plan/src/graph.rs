//! The dependency graph (petgraph, private): layering into waves and finding cycles.

use std::collections::{BTreeMap, HashMap, VecDeque};

use gitops_core::ObjectRef;
use petgraph::Direction;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::error::{CycleEdge, PlanError};
use crate::model::Reason;

/// `dependent` goes after `dependency`. For applies the dependent is the object that refers;
/// for prunes it is the object referred to (deleted after whatever refers to it).
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub(crate) dependent: usize,
    pub(crate) dependency: usize,
    pub(crate) reason: Reason,
    reversed: bool,
}

impl Edge {
    /// The edge for "`referrer` refers to `referred`", reversed for prunes.
    pub(crate) fn new(referrer: usize, referred: usize, reason: Reason, prune: bool) -> Edge {
        if prune {
            Edge { dependent: referred, dependency: referrer, reason, reversed: true }
        } else {
            Edge { dependent: referrer, dependency: referred, reason, reversed: false }
        }
    }

    /// The referring and the referred node indexes.
    fn ends(&self) -> (usize, usize) {
        if self.reversed { (self.dependency, self.dependent) } else { (self.dependent, self.dependency) }
    }

    /// The referring and the referred node indexes.
    pub(crate) fn referrer_and_referred(&self) -> (usize, usize) {
        self.ends()
    }
}

/// The outcome of layering.
pub(crate) struct Layering {
    /// Each node's wave ordinal.
    pub(crate) waves: Vec<usize>,
    /// The edges kept as dependencies (each one's dependency in an earlier wave).
    pub(crate) kept: Vec<usize>,
    /// The edges that explicit ordering (phase, wave) contradicts, dropped.
    pub(crate) overridden: Vec<usize>,
}

/// Layers `n` nodes into waves: nodes are grouped by `group` (ordered), and within a group an
/// edge puts its dependent one wave after its dependency (longest path). Edges to a later group
/// are dropped as overridden; edges within a group that close a cycle are an error.
pub(crate) fn layer<'a, K: Ord + Copy + std::hash::Hash>(
    n: usize,
    edges: &[Edge],
    group: impl Fn(usize) -> K,
    name: impl Fn(usize) -> &'a ObjectRef,
) -> Result<Layering, PlanError> {
    let mut graph: DiGraph<(), usize, u32> = DiGraph::with_capacity(n, edges.len());
    for _ in 0..n {
        graph.add_node(());
    }
    let mut kept = Vec::with_capacity(edges.len());
    let mut overridden = Vec::new();
    for (i, e) in edges.iter().enumerate() {
        let (dependent, dependency) = (group(e.dependent), group(e.dependency));
        match dependency.cmp(&dependent) {
            std::cmp::Ordering::Less => kept.push(i),
            std::cmp::Ordering::Equal => {
                kept.push(i);
                graph.add_edge(NodeIndex::new(e.dependency), NodeIndex::new(e.dependent), i);
            }
            std::cmp::Ordering::Greater => overridden.push(i),
        }
    }
    let order = toposort(&graph, None).map_err(|_| cycle(&graph, edges, &name))?;
    let mut level = vec![0usize; n];
    for node in order {
        let l = graph.neighbors_directed(node, Direction::Incoming).map(|d| level[d.index()] + 1).max().unwrap_or(0);
        level[node.index()] = l;
    }
    let mut ordinal: BTreeMap<(K, usize), usize> = BTreeMap::new();
    let mut per_node = Vec::with_capacity(n);
    for (i, l) in level.iter().enumerate() {
        let key = (group(i), *l);
        ordinal.entry(key).or_insert(0);
        per_node.push(key);
    }
    for (i, value) in ordinal.values_mut().enumerate() {
        *value = i;
    }
    let waves = per_node.iter().map(|k| ordinal[k]).collect();
    Ok(Layering { waves, kept, overridden })
}

/// Whether the cycle's edges are prune edges, whose references run against the path.
fn path_reversed(edges: &[Edge], cycle: &[CycleEdge]) -> bool {
    !cycle.is_empty() && edges.iter().any(|e| e.reversed) && cycle.windows(2).any(|w| w[0].to != w[1].from)
}

/// The cycle error: the strongly connected component holding the smallest object, and the
/// shortest cycle through that object, each edge with its reason.
fn cycle<'a>(graph: &DiGraph<(), usize, u32>, edges: &[Edge], name: &impl Fn(usize) -> &'a ObjectRef) -> PlanError {
    let components = tarjan_scc(graph);
    let cyclic = components.iter().filter(|c| c.len() > 1);
    let Some(component) = cyclic.min_by_key(|c| c.iter().map(|n| name(n.index())).min()) else {
        return PlanError::Cycle { edges: Vec::new() };
    };
    let Some(&start) = component.iter().min_by_key(|n| name(n.index())) else {
        return PlanError::Cycle { edges: Vec::new() };
    };
    let members: std::collections::HashSet<NodeIndex> = component.iter().copied().collect();
    // Breadth-first from `start` along "goes after" (dependency -> dependent) until back at it.
    let mut previous: HashMap<NodeIndex, (NodeIndex, usize)> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    'search: while let Some(node) = queue.pop_front() {
        let mut next: Vec<(NodeIndex, usize)> =
            graph.edges(node).map(|e| (petgraph::visit::EdgeRef::target(&e), *e.weight())).collect();
        next.sort_by_key(|(n, _)| name(n.index()));
        for (target, edge) in next {
            if !members.contains(&target) || previous.contains_key(&target) {
                continue;
            }
            previous.insert(target, (node, edge));
            if target == start {
                break 'search;
            }
            queue.push_back(target);
        }
    }
    let mut path = Vec::new();
    let mut at = start;
    while let Some(&(from, edge)) = previous.get(&at) {
        path.push(edge);
        at = from;
        if at == start || path.len() > members.len() {
            break;
        }
    }
    // Collected backwards, the path reads "start goes after a, a goes after b, ...".
    let mut cycle: Vec<CycleEdge> = path
        .into_iter()
        .map(|i| {
            let (from, to) = edges[i].ends();
            CycleEdge { from: name(from).clone(), to: name(to).clone(), reason: edges[i].reason.clone() }
        })
        .collect();
    if path_reversed(edges, &cycle) {
        cycle.reverse();
    }
    PlanError::Cycle { edges: cycle }
}
