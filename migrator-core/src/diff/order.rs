//! Ordering a set of tables by their foreign keys.
//!
//! Tables that reference each other in a cycle cannot be created (or dropped)
//! one after the other with their foreign keys inline. The foreign keys that
//! close a cycle are exactly those between two different tables of the same
//! strongly connected component of the reference graph; leaving them out makes
//! the graph acyclic, and the remaining order is a topological sort with ties
//! broken by name, so it is deterministic. Self-references never constrain the
//! order: a table can reference itself inline.

use std::collections::{BTreeMap, BTreeSet};

use crate::schema::Table;

/// The tables in creation order (referenced first), and the foreign keys,
/// as (table, foreign key name), that close a cycle.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct FkOrder {
    pub order: Vec<String>,
    pub cyclic: BTreeSet<(String, String)>,
}

/// Orders `tables` (name -> table); only references between members count.
pub(super) fn fk_order(tables: &BTreeMap<&str, &Table>) -> FkOrder {
    // deps[t]: the other members t references.
    let deps: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|(&name, t)| {
            let refs = t
                .foreign_keys
                .iter()
                .map(|fk| fk.ref_table.as_str())
                .filter(|r| *r != name && tables.contains_key(r))
                .collect();
            (name, refs)
        })
        .collect();
    let component = strongly_connected(&deps);

    let mut cyclic = BTreeSet::new();
    for (&name, t) in tables {
        for fk in &t.foreign_keys {
            let r = fk.ref_table.as_str();
            if r != name && tables.contains_key(r) && component[r] == component[name] {
                cyclic.insert((name.to_string(), fk.name.clone()));
            }
        }
    }

    // Kahn's algorithm over the edges that do not close a cycle.
    let mut waiting: BTreeMap<&str, BTreeSet<&str>> = deps
        .iter()
        .map(|(&t, refs)| {
            let acyclic = refs
                .iter()
                .copied()
                .filter(|r| component[r] != component[t])
                .collect();
            (t, acyclic)
        })
        .collect();
    let mut ready: BTreeSet<&str> = waiting
        .iter()
        .filter(|(_, refs)| refs.is_empty())
        .map(|(&t, _)| t)
        .collect();
    let mut order = Vec::with_capacity(tables.len());
    while let Some(t) = ready.pop_first() {
        waiting.remove(t);
        order.push(t.to_string());
        for (&other, refs) in waiting.iter_mut() {
            if refs.remove(t) && refs.is_empty() {
                ready.insert(other);
            }
        }
    }
    debug_assert!(waiting.is_empty(), "the condensed graph is acyclic");
    FkOrder { order, cyclic }
}

/// Tarjan's algorithm: maps each node to the id of its strongly connected
/// component. Recursion depth is bounded by the number of tables.
fn strongly_connected<'a>(deps: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> BTreeMap<&'a str, usize> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        component: BTreeMap<&'a str, usize>,
        next_component: usize,
    }

    fn visit<'a>(v: &'a str, deps: &BTreeMap<&'a str, BTreeSet<&'a str>>, s: &mut State<'a>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in &deps[v] {
            if !s.index.contains_key(w) {
                visit(w, deps, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                s.component.insert(w, s.next_component);
                if w == v {
                    break;
                }
            }
            s.next_component += 1;
        }
    }

    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        component: BTreeMap::new(),
        next_component: 0,
    };
    for &v in deps.keys() {
        if !s.index.contains_key(v) {
            visit(v, deps, &mut s);
        }
    }
    s.component
}
