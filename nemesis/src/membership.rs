//! Membership changes as a small state machine: which nodes the cluster is meant to have (the
//! intended cluster, as configured), which it has now, and which were removed and keep their
//! data until they are added back or the run ends. It never proposes a change that would leave
//! fewer members than a majority of the intended cluster, and one change is decided and done
//! before the next (the nemesis applies one fault at a time).

use rand::seq::IndexedRandom;
use rand::Rng;
use serde::Serialize;
use std::collections::BTreeSet;

/// One change to the cluster's membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// Take a member out of the cluster; its data is kept.
    Remove { node: String },
    /// Add a node that is not a member, as a new member with an empty data directory.
    Add { node: String },
    /// Remove a member, wipe its data, and add it back as a new member.
    Replace { node: String },
}

impl Change {
    pub fn node(&self) -> &str {
        match self {
            Change::Remove { node } | Change::Add { node } | Change::Replace { node } => node,
        }
    }
}

/// What the nemesis knows of the cluster's membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Membership {
    /// The cluster as configured: its majority is the floor.
    pub intended: BTreeSet<String>,
    /// Members now.
    pub members: BTreeSet<String>,
    /// Nodes that could join: removed members (data kept) and spare nodes never in the cluster.
    pub outside: BTreeSet<String>,
}

impl Membership {
    /// `intended` are the members the cluster starts with; `spares` the nodes that start
    /// outside it (for `grow`).
    pub fn new(intended: &[String], spares: &[String]) -> Membership {
        Membership {
            intended: intended.iter().cloned().collect(),
            members: intended.iter().cloned().collect(),
            outside: spares.iter().cloned().collect(),
        }
    }

    /// The fewest members allowed: a majority of the intended cluster.
    pub fn floor(&self) -> usize {
        self.intended.len() / 2 + 1
    }

    /// A removal (`add` false) or an addition, if one is allowed now; `avoid` (the leader,
    /// say) is removed only when nothing else can be.
    pub fn propose(
        &self,
        add: bool,
        replace: bool,
        avoid: Option<&str>,
        rng: &mut impl Rng,
    ) -> Option<Change> {
        if add {
            let outside: Vec<&String> = self.outside.iter().collect();
            return outside
                .choose(rng)
                .map(|n| Change::Add { node: (*n).clone() });
        }
        // A replacement leaves one member fewer while it is under way.
        if self.members.len() <= self.floor() {
            return None;
        }
        let mut candidates: Vec<&String> = self
            .members
            .iter()
            .filter(|m| Some(m.as_str()) != avoid)
            .collect();
        if candidates.is_empty() {
            candidates = self.members.iter().collect();
        }
        let node = (*candidates.choose(rng)?).clone();
        Some(if replace {
            Change::Replace { node }
        } else {
            Change::Remove { node }
        })
    }

    /// Record a change that was made.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::Remove { node } => {
                self.members.remove(node);
                self.outside.insert(node.clone());
            }
            Change::Add { node } => {
                self.outside.remove(node);
                self.members.insert(node.clone());
            }
            Change::Replace { .. } => {}
        }
    }

    /// `remove n4 (4 → 3 members)`.
    pub fn describe(&self, change: &Change) -> String {
        let n = self.members.len();
        match change {
            Change::Remove { node } => format!("remove {node} ({n} → {} members)", n - 1),
            Change::Add { node } => format!("add {node} ({n} → {} members)", n + 1),
            Change::Replace { node } => format!("replace {node} ({n} members)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn nodes(r: std::ops::RangeInclusive<usize>) -> Vec<String> {
        r.map(|i| format!("n{i}")).collect()
    }

    /// Over many random walks of removals, additions and replacements, the members never fall
    /// below a majority of the intended cluster, every node is a member or outside (never
    /// both, never lost), and additions come only from outside.
    #[test]
    fn random_walks_never_go_below_a_majority_and_lose_no_node() {
        for seed in 0..200 {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let intended = nodes(1..=(3 + seed as usize % 5));
            let spares = nodes(10..=(10 + seed as usize % 3));
            let mut m = Membership::new(&intended, &spares);
            let all: BTreeSet<String> = intended.iter().chain(&spares).cloned().collect();
            for step in 0..60 {
                let (add, replace) = match rng.random_range(0..3) {
                    0 => (true, false),
                    1 => (false, false),
                    _ => (false, true),
                };
                let before = m.clone();
                if let Some(c) = m.propose(add, replace, Some("n1"), &mut rng) {
                    match &c {
                        Change::Add { node } => assert!(before.outside.contains(node)),
                        Change::Remove { node } | Change::Replace { node } => {
                            assert!(before.members.contains(node));
                            assert!(before.members.len() > before.floor());
                            if before.members.len() > 1 {
                                assert_ne!(node, "n1", "the avoided node goes last");
                            }
                        }
                    }
                    m.apply(&c);
                }
                let what = format!("seed {seed} step {step}: {m:?}");
                assert!(m.members.len() >= m.floor(), "{what}");
                assert!(m.members.is_disjoint(&m.outside), "{what}");
                let union: BTreeSet<String> = m.members.union(&m.outside).cloned().collect();
                assert_eq!(union, all, "{what}");
            }
        }
    }

    #[test]
    fn changes_read_as_a_person_says_them() {
        let mut m = Membership::new(&nodes(1..=4), &[]);
        let c = Change::Remove { node: "n4".into() };
        assert_eq!(m.describe(&c), "remove n4 (4 → 3 members)");
        m.apply(&c);
        assert_eq!(
            m.describe(&Change::Add { node: "n4".into() }),
            "add n4 (3 → 4 members)"
        );
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        // 3 of an intended 4 is the floor: no removal, but an addition.
        assert_eq!(m.propose(false, false, None, &mut rng), None);
        assert_eq!(
            m.propose(true, false, None, &mut rng),
            Some(Change::Add { node: "n4".into() })
        );
    }
}
