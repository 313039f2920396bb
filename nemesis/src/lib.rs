//! The nemesis: faults as data, the topology maths behind partitions, and the commands a fault
//! turns into on each node. Knows nothing of how commands reach a node, or of the CLI.

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod clock;
pub mod membership;
pub mod network;
pub mod proc;

pub use network::{NetworkParams, Span};

use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// Who drops traffic from whom: node → the nodes whose packets it drops.
pub type Grudge = BTreeMap<String, BTreeSet<String>>;

/// The faults ferret knows, as named in configs and on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The nodes split into two fixed halves: a minority and a majority.
    PartitionHalves,
    /// Two halves chosen at random each time.
    PartitionRandomHalves,
    /// One random node cut off from all others.
    PartitionIsolateOne,
    /// The current leader cut off from all others.
    PartitionIsolateLeader,
    /// Every node sees a majority, but no two nodes see the same one.
    PartitionMajoritiesRing,
    /// Two halves joined by one node that sees both.
    PartitionBridge,
    /// One random node's traffic cut in one direction only: it hears nobody, or nobody hears it.
    PartitionOneWay,
    /// Random halves cut and joined again every `nemesis.network.flap_period_ms`.
    PartitionFlapping,
    /// A member that is not the leader cut off until the others' log has moved
    /// `nemesis.snapshot_gap` entries past it: it must catch up by snapshot.
    PartitionUntilSnapshot,
    /// The targets' links delayed by `nemesis.network.delay_ms ± jitter_ms` each way.
    NetworkDelay,
    /// The targets' links lose `nemesis.network.loss_pct` of their packets each way.
    NetworkLoss,
    /// Delay and loss together.
    NetworkSlow,
    /// What the targets send limited to `nemesis.network.rate_kbit`.
    NetworkBandwidth,
    /// Take a member out of the cluster (`shrink`); its data is kept until it is added back.
    MemberRemove,
    /// Add a node that is out back as a new member, its data wiped (`grow`).
    MemberAdd,
    /// Remove a member, wipe its data, add it back as a new member.
    MemberReplace,
    /// SIGKILL a minority of nodes; restart them at heal.
    Kill,
    /// SIGSTOP a minority of nodes; SIGCONT at heal.
    Pause,
    /// Jump the targets' clocks by ±N ms; stays until clock-reset or the end of the run.
    ClockBump,
    /// Flip the targets' clocks between their offset and +N ms every P ms, for the fault's duration.
    ClockStrobe,
    /// Let the targets' clock offset grow at R ms per second for the fault's duration; it stays.
    ClockDrift,
    /// Every node's clocks back to real time.
    ClockReset,
    /// SIGKILL a minority, drop every write and directory change they had not made durable;
    /// restart them at heal. Needs the fault file system.
    LoseUnfsynced,
    /// The same on every node at once: a whole-cluster power cut.
    PowerLoss,
    /// As lose-unfsynced, but each file keeps a seeded page-aligned prefix of its last
    /// un-synced writes.
    TornWrite,
    /// The next fsync on a minority fails with EIO; its data stays un-synced.
    FsyncError,
    /// SIGKILL a minority, flip bits in one block of a file matching `nemesis.disk.corrupt`;
    /// restart them at heal.
    Corrupt,
    /// Writes on a minority fail with ENOSPC for the fault's duration.
    DiskFull,
}

impl FaultKind {
    pub const ALL: [FaultKind; 28] = [
        FaultKind::PartitionHalves,
        FaultKind::PartitionRandomHalves,
        FaultKind::PartitionIsolateOne,
        FaultKind::PartitionIsolateLeader,
        FaultKind::PartitionMajoritiesRing,
        FaultKind::PartitionBridge,
        FaultKind::PartitionOneWay,
        FaultKind::PartitionFlapping,
        FaultKind::PartitionUntilSnapshot,
        FaultKind::NetworkDelay,
        FaultKind::NetworkLoss,
        FaultKind::NetworkSlow,
        FaultKind::NetworkBandwidth,
        FaultKind::MemberRemove,
        FaultKind::MemberAdd,
        FaultKind::MemberReplace,
        FaultKind::Kill,
        FaultKind::Pause,
        FaultKind::ClockBump,
        FaultKind::ClockStrobe,
        FaultKind::ClockDrift,
        FaultKind::ClockReset,
        FaultKind::LoseUnfsynced,
        FaultKind::PowerLoss,
        FaultKind::TornWrite,
        FaultKind::FsyncError,
        FaultKind::Corrupt,
        FaultKind::DiskFull,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::PartitionHalves => "partition-halves",
            FaultKind::PartitionRandomHalves => "partition-random-halves",
            FaultKind::PartitionIsolateOne => "partition-isolate-one",
            FaultKind::PartitionIsolateLeader => "partition-isolate-leader",
            FaultKind::PartitionMajoritiesRing => "partition-majorities-ring",
            FaultKind::PartitionBridge => "partition-bridge",
            FaultKind::PartitionOneWay => "partition-one-way",
            FaultKind::PartitionFlapping => "partition-flapping",
            FaultKind::PartitionUntilSnapshot => "partition-until-snapshot",
            FaultKind::NetworkDelay => "network-delay",
            FaultKind::NetworkLoss => "network-loss",
            FaultKind::NetworkSlow => "network-slow",
            FaultKind::NetworkBandwidth => "network-bandwidth",
            FaultKind::MemberRemove => "member-remove",
            FaultKind::MemberAdd => "member-add",
            FaultKind::MemberReplace => "member-replace",
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::ClockBump => "clock-bump",
            FaultKind::ClockStrobe => "clock-strobe",
            FaultKind::ClockDrift => "clock-drift",
            FaultKind::ClockReset => "clock-reset",
            FaultKind::LoseUnfsynced => "lose-unfsynced",
            FaultKind::PowerLoss => "power-loss",
            FaultKind::TornWrite => "torn-write",
            FaultKind::FsyncError => "fsync-error",
            FaultKind::Corrupt => "corrupt",
            FaultKind::DiskFull => "disk-full",
        }
    }

    /// The fewest nodes the fault means anything on: a partition needs two sides; a ring of
    /// distinct majorities or a bridge needs three nodes.
    pub fn min_nodes(self) -> usize {
        match self {
            FaultKind::PartitionMajoritiesRing | FaultKind::PartitionBridge => 3,
            k if k.is_partition() || k.is_network() => 2,
            _ => 1,
        }
    }

    pub fn is_partition(self) -> bool {
        self.name().starts_with("partition-")
    }

    /// A degraded link: delay, loss, bandwidth.
    pub fn is_network(self) -> bool {
        self.name().starts_with("network-")
    }

    /// A change of the cluster's membership.
    pub fn is_membership(self) -> bool {
        self.name().starts_with("member-")
    }

    pub fn is_clock(self) -> bool {
        self.name().starts_with("clock-")
    }

    /// A fault of the node's disk: it needs the fault file system under the data directory.
    pub fn is_disk(self) -> bool {
        matches!(
            self,
            FaultKind::LoseUnfsynced
                | FaultKind::PowerLoss
                | FaultKind::TornWrite
                | FaultKind::FsyncError
                | FaultKind::Corrupt
                | FaultKind::DiskFull
        )
    }

    /// A disk fault that crashes its nodes (killed at the start, restarted at heal).
    pub fn crashes(self) -> bool {
        matches!(
            self,
            FaultKind::LoseUnfsynced
                | FaultKind::PowerLoss
                | FaultKind::TornWrite
                | FaultKind::Corrupt
        )
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault name the nemesis does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault {0:?}; expected one of {names}", names = FaultKind::ALL.map(|k| k.name()).join(", "))]
pub struct UnknownFault(pub String);

impl FromStr for FaultKind {
    type Err = UnknownFault;
    fn from_str(s: &str) -> Result<Self, UnknownFault> {
        // The cluster's size, as Jepsen's etcd test names its changes.
        match s {
            "grow" => return Ok(FaultKind::MemberAdd),
            "shrink" => return Ok(FaultKind::MemberRemove),
            _ => {}
        }
        FaultKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownFault(s.to_string()))
    }
}

/// One fault, decided: what happens to which nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "fault", rename_all = "kebab-case")]
pub enum Fault {
    Partition {
        kind: FaultKind,
        /// The groups of nodes that can still talk among themselves (for reports).
        components: Vec<Vec<String>>,
        grudge: Grudge,
    },
    Kill {
        nodes: Vec<String>,
    },
    Pause {
        nodes: Vec<String>,
    },
    Clock {
        kind: FaultKind,
        nodes: Vec<String>,
        /// `realtime`, `monotonic` or `both`.
        clocks: String,
        /// Bump: the jump. Strobe: the second offset, relative. Drift: ms per second. Reset: 0.
        ms: i64,
        /// Strobe: the flip period.
        #[serde(skip_serializing_if = "Option::is_none")]
        period_ms: Option<u64>,
    },
    Disk {
        kind: FaultKind,
        nodes: Vec<String>,
        /// Chooses torn prefixes and corrupted bits.
        seed: u64,
    },
    /// A membership change, decided by the nemesis's [`membership::Membership`].
    Member {
        kind: FaultKind,
        #[serde(flatten)]
        change: membership::Change,
        /// `remove n4 (5 → 4 members)`.
        describe: String,
    },
    Network {
        kind: FaultKind,
        /// Whose links are degraded.
        nodes: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        delay_ms: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        jitter_ms: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        loss_pct: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        rate_kbit: Option<u64>,
        /// Seeds each held packet's jitter.
        seed: u64,
    },
}

/// Which nodes a clock fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Targets {
    One,
    #[default]
    Minority,
    All,
    /// The current leader (a random node when none is known).
    Leader,
}

/// Which way bumps and drifts go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Forward or backward at random.
    #[default]
    Both,
    Forward,
    Backward,
}

/// How big clock faults are.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClockParams {
    pub targets: Targets,
    /// `realtime`, `monotonic` or `both`.
    pub clocks: String,
    pub direction: Direction,
    pub bump_ms: i64,
    pub strobe_ms: i64,
    pub strobe_period_ms: u64,
    pub drift_ms_per_s: i64,
}

impl Default for ClockParams {
    fn default() -> Self {
        ClockParams {
            targets: Targets::Minority,
            clocks: "both".into(),
            direction: Direction::Both,
            bump_ms: 5000,
            strobe_ms: 2000,
            strobe_period_ms: 100,
            drift_ms_per_s: 500,
        }
    }
}

impl Fault {
    /// Decide a fault of `kind` over `nodes`. `leader` is the current leader, for the faults that
    /// target it (and that a membership change removes last); without one, isolate-leader
    /// isolates a random node. None when no such change is allowed now (a membership change
    /// that would leave less than a majority, an addition with nothing to add).
    pub fn choose(
        kind: FaultKind,
        nodes: &[String],
        leader: Option<&str>,
        clock: &ClockParams,
        net: &NetworkParams,
        members: &membership::Membership,
        rng: &mut impl Rng,
    ) -> Option<Fault> {
        let mut shuffled = nodes.to_vec();
        shuffled.shuffle(rng);
        let minority = (nodes.len().saturating_sub(1)) / 2;
        let partition = |components: Vec<Vec<String>>, grudge: Grudge| Fault::Partition {
            kind,
            components,
            grudge,
        };
        if kind.is_membership() {
            let change = members.propose(
                kind == FaultKind::MemberAdd,
                kind == FaultKind::MemberReplace,
                leader,
                rng,
            )?;
            return Some(Fault::Member {
                kind,
                describe: members.describe(&change),
                change,
            });
        }
        Some(match kind {
            FaultKind::PartitionHalves => {
                let (a, b) = nodes.split_at(nodes.len() / 2);
                let c = vec![a.to_vec(), b.to_vec()];
                partition(c.clone(), complete_grudge(&c))
            }
            FaultKind::PartitionRandomHalves => {
                let (a, b) = shuffled.split_at(nodes.len() / 2);
                let c = vec![a.to_vec(), b.to_vec()];
                partition(c.clone(), complete_grudge(&c))
            }
            FaultKind::PartitionIsolateOne
            | FaultKind::PartitionIsolateLeader
            | FaultKind::PartitionUntilSnapshot => {
                let target = match (kind, leader) {
                    (FaultKind::PartitionIsolateLeader, Some(l))
                        if nodes.iter().any(|n| n == l) =>
                    {
                        l.to_string()
                    }
                    // A follower: the others must go on committing without it.
                    (FaultKind::PartitionUntilSnapshot, Some(l)) => shuffled
                        .iter()
                        .find(|n| *n != l)
                        .unwrap_or(&shuffled[0])
                        .clone(),
                    _ => shuffled[0].clone(),
                };
                let rest: Vec<String> = nodes.iter().filter(|n| **n != target).cloned().collect();
                let c = vec![vec![target], rest];
                partition(c.clone(), complete_grudge(&c))
            }
            FaultKind::PartitionMajoritiesRing => {
                let g = majorities_ring(&shuffled);
                let components = shuffled
                    .iter()
                    .map(|n| {
                        let mut seen: Vec<String> = shuffled
                            .iter()
                            .filter(|m| *m == n || !g[n].contains(*m))
                            .cloned()
                            .collect();
                        seen.sort();
                        seen
                    })
                    .collect();
                partition(components, g)
            }
            FaultKind::PartitionBridge => {
                let (g, components) = bridge(&shuffled);
                partition(components, g)
            }
            FaultKind::PartitionOneWay => {
                let x = shuffled[0].clone();
                let rest: Vec<String> = nodes.iter().filter(|n| **n != x).cloned().collect();
                let deaf = rng.random_bool(0.5);
                let g = nodes
                    .iter()
                    .map(|n| {
                        let drops: BTreeSet<String> = if deaf && *n == x {
                            rest.iter().cloned().collect()
                        } else if !deaf && *n != x {
                            BTreeSet::from([x.clone()])
                        } else {
                            BTreeSet::new()
                        };
                        (n.clone(), drops)
                    })
                    .collect();
                partition(vec![vec![x], rest], g)
            }
            FaultKind::PartitionFlapping => {
                let (a, b) = shuffled.split_at(nodes.len() / 2);
                let c = vec![sorted(a.to_vec()), sorted(b.to_vec())];
                partition(c.clone(), complete_grudge(&c))
            }
            FaultKind::NetworkDelay
            | FaultKind::NetworkLoss
            | FaultKind::NetworkSlow
            | FaultKind::NetworkBandwidth => {
                let targets = pick(net.targets, &shuffled, nodes, leader);
                let delays = matches!(kind, FaultKind::NetworkDelay | FaultKind::NetworkSlow);
                let loses = matches!(kind, FaultKind::NetworkLoss | FaultKind::NetworkSlow);
                let within = |s: Span, rng: &mut dyn rand::Rng| rng.random_range(s.lo()..=s.hi());
                let delay_ms = delays.then(|| within(net.delay_ms, rng));
                Fault::Network {
                    kind,
                    nodes: sorted(targets),
                    delay_ms,
                    jitter_ms: delay_ms.map(|_| net.jitter_ms),
                    loss_pct: loses.then(|| within(net.loss_pct, rng)),
                    rate_kbit: (kind == FaultKind::NetworkBandwidth).then_some(net.rate_kbit),
                    seed: rng.random(),
                }
            }
            FaultKind::Kill => Fault::Kill {
                nodes: sorted(shuffled[..minority.max(1)].to_vec()),
            },
            FaultKind::Pause => Fault::Pause {
                nodes: sorted(shuffled[..minority.max(1)].to_vec()),
            },
            FaultKind::PowerLoss => Fault::Disk {
                kind,
                nodes: sorted(nodes.to_vec()),
                seed: rng.random(),
            },
            FaultKind::LoseUnfsynced
            | FaultKind::TornWrite
            | FaultKind::FsyncError
            | FaultKind::Corrupt
            | FaultKind::DiskFull => Fault::Disk {
                kind,
                nodes: sorted(shuffled[..minority.max(1)].to_vec()),
                seed: rng.random(),
            },
            FaultKind::ClockReset => Fault::Clock {
                kind,
                nodes: sorted(nodes.to_vec()),
                clocks: clock.clocks.clone(),
                ms: 0,
                period_ms: None,
            },
            FaultKind::ClockBump | FaultKind::ClockStrobe | FaultKind::ClockDrift => {
                let targets = pick(clock.targets, &shuffled, nodes, leader);
                let sign = match clock.direction {
                    Direction::Forward => 1,
                    Direction::Backward => -1,
                    Direction::Both if rng.random_bool(0.5) => 1,
                    Direction::Both => -1,
                };
                let (ms, period_ms) = match kind {
                    FaultKind::ClockBump => (sign * clock.bump_ms, None),
                    FaultKind::ClockStrobe => (clock.strobe_ms, Some(clock.strobe_period_ms)),
                    _ => (sign * clock.drift_ms_per_s, None),
                };
                Fault::Clock {
                    kind,
                    nodes: sorted(targets),
                    clocks: clock.clocks.clone(),
                    ms,
                    period_ms,
                }
            }
            k => unreachable!("{k} is a membership change, decided above"),
        })
    }
}

/// The nodes `targets` names, from the shuffled nodes.
fn pick(
    targets: Targets,
    shuffled: &[String],
    nodes: &[String],
    leader: Option<&str>,
) -> Vec<String> {
    let minority = (nodes.len().saturating_sub(1)) / 2;
    match targets {
        Targets::One => shuffled[..1].to_vec(),
        Targets::Minority => shuffled[..minority.max(1)].to_vec(),
        Targets::All => shuffled.to_vec(),
        Targets::Leader => match leader {
            Some(l) if nodes.iter().any(|n| n == l) => vec![l.to_string()],
            _ => shuffled[..1].to_vec(),
        },
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Each node drops traffic from every node outside its own component.
pub fn complete_grudge(components: &[Vec<String>]) -> Grudge {
    let mut g = Grudge::new();
    for (i, comp) in components.iter().enumerate() {
        for n in comp {
            let others: BTreeSet<String> = components
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, c)| c.iter().cloned())
                .collect();
            g.insert(n.clone(), others);
        }
    }
    g
}

/// Every node sees a majority (itself included), no two nodes see the same set, and links are
/// two-way: over TCP a one-way link is no link at all, so the grudge must be symmetric.
///
/// Each node needs `d = majority - 1` neighbours. Nodes sit in a ring and link to the `d / 2`
/// nearest on each side; when `d` is odd, each also links across the ring to the node opposite
/// (with an odd count one node is left over and links to the middle one, which then sees one more
/// than a majority). Needs 3 nodes or more; with 3 it is a line, whose middle sees both ends.
pub fn majorities_ring(ring: &[String]) -> Grudge {
    let n = ring.len();
    let d = n / 2; // majority - 1
    let mut links = vec![BTreeSet::new(); n];
    let mut link = |a: usize, b: usize| {
        if a != b {
            links[a].insert(b);
            links[b].insert(a);
        }
    };
    for i in 0..n {
        for k in 1..=d / 2 {
            link(i, (i + k) % n);
        }
    }
    if d % 2 == 1 {
        let half = n / 2;
        for i in 0..half {
            link(i, i + half);
        }
        if n % 2 == 1 {
            link(n - 1, half);
        }
    }
    ring.iter()
        .enumerate()
        .map(|(i, node)| {
            let drops = (0..n)
                .filter(|&j| j != i && !links[i].contains(&j))
                .map(|j| ring[j].clone())
                .collect();
            (node.clone(), drops)
        })
        .collect()
}

/// Two halves that share one node: the bridge sees everyone, the others only their half.
pub fn bridge(shuffled: &[String]) -> (Grudge, Vec<Vec<String>>) {
    let mid = shuffled.len() / 2;
    let left: Vec<String> = shuffled[..=mid].to_vec();
    let right: Vec<String> = shuffled[mid..].to_vec();
    let mut g = Grudge::new();
    for n in shuffled {
        let drops: BTreeSet<String> = if n == &shuffled[mid] {
            BTreeSet::new()
        } else if left.contains(n) {
            right[1..].iter().cloned().collect()
        } else {
            left[..mid].iter().cloned().collect()
        };
        g.insert(n.clone(), drops);
    }
    (g, vec![sorted(left), sorted(right)])
}

/// The name of the nftables table ferret creates inside a node's namespace.
pub const NFT_TABLE: &str = "ferret";

/// An nft script that makes a node drop packets from `sources` (addresses), replacing any earlier
/// grudge. Applied inside the node's own namespace: nothing touches the host's firewall.
pub fn nft_drop_script(sources: &[String]) -> String {
    let mut s = format!("add table inet {NFT_TABLE}\ndelete table inet {NFT_TABLE}\n");
    s.push_str(&format!("table inet {NFT_TABLE} {{\n  chain input {{\n    type filter hook input priority 0; policy accept;\n"));
    if !sources.is_empty() {
        s.push_str(&format!("    ip saddr {{ {} }} drop\n", sources.join(", ")));
    }
    s.push_str("  }\n}\n");
    s
}

/// An nft script that removes ferret's table, whether or not it exists.
pub fn nft_heal_script() -> String {
    format!("add table inet {NFT_TABLE}\ndelete table inet {NFT_TABLE}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A fault decided with every node a member.
    fn decide(
        kind: FaultKind,
        ns: &[String],
        leader: Option<&str>,
        clock: &ClockParams,
        net: &NetworkParams,
        rng: &mut impl Rng,
    ) -> Fault {
        let members = membership::Membership::new(ns, &[]);
        Fault::choose(kind, ns, leader, clock, net, &members, rng).unwrap()
    }

    fn nodes(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    /// Can a and b talk both ways under the grudge?
    fn linked(g: &Grudge, a: &str, b: &str) -> bool {
        !g[a].contains(b) && !g[b].contains(a)
    }

    /// The nodes `a` can exchange packets with, itself included, checking the grudge is
    /// symmetric: a node that drops another is dropped by it.
    fn sees(g: &Grudge, ns: &[String], a: &str) -> BTreeSet<String> {
        assert!(!g[a].contains(a), "{a} drops itself");
        for b in &g[a] {
            assert!(
                g[b].contains(a),
                "{a} drops {b} but {b} does not drop {a}: one-way"
            );
        }
        ns.iter().filter(|b| !g[a].contains(*b)).cloned().collect()
    }

    /// Every partition kind, for every size it is meant for and many seeds, gives the topology its
    /// name promises, judged by who can exchange packets with whom in both directions.
    #[test]
    fn every_partition_gives_the_topology_its_name_promises() {
        for n in 1..=9 {
            let ns = nodes(n);
            let majority = n / 2 + 1;
            for kind in FaultKind::ALL
                .into_iter()
                .filter(|k| k.is_partition() && *k != FaultKind::PartitionOneWay)
            {
                if n < kind.min_nodes() {
                    continue;
                }
                for seed in 0..50 {
                    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
                    let leader = ns[seed as usize % n].clone();
                    let Fault::Partition { grudge: g, .. } = decide(
                        kind,
                        &ns,
                        Some(&leader),
                        &ClockParams::default(),
                        &NetworkParams::default(),
                        &mut rng,
                    ) else {
                        panic!("{kind} is not a partition");
                    };
                    assert_eq!(g.len(), n, "{kind} n={n}: every node has a grudge entry");
                    let views: BTreeMap<&String, BTreeSet<String>> =
                        ns.iter().map(|a| (a, sees(&g, &ns, a))).collect();
                    let what = format!("{kind} n={n} seed={seed}: {views:?}");
                    // A partition always cuts something.
                    assert!(views.values().any(|v| v.len() < n), "{what}");
                    match kind {
                        FaultKind::PartitionHalves
                        | FaultKind::PartitionRandomHalves
                        | FaultKind::PartitionFlapping => {
                            // Two cliques of floor(n/2) and ceil(n/2) nodes, nothing across.
                            let mut sizes: Vec<usize> = views.values().map(|v| v.len()).collect();
                            sizes.sort();
                            let small = n / 2;
                            let mut want = vec![small; small];
                            want.extend(vec![n - small; n - small]);
                            assert_eq!(sizes, want, "{what}");
                            for (a, v) in &views {
                                for b in v {
                                    assert_eq!(&views[b], v, "{what}: {a} and {b} differ");
                                }
                            }
                        }
                        FaultKind::PartitionIsolateOne
                        | FaultKind::PartitionIsolateLeader
                        | FaultKind::PartitionUntilSnapshot => {
                            if kind == FaultKind::PartitionUntilSnapshot && n > 2 {
                                assert_ne!(views[&leader].len(), 1, "{what}: the leader stays");
                            }
                            let alone: Vec<_> =
                                views.iter().filter(|(_, v)| v.len() == 1).collect();
                            assert_eq!(alone.len(), if n == 2 { 2 } else { 1 }, "{what}");
                            if kind == FaultKind::PartitionIsolateLeader {
                                assert_eq!(views[&leader].len(), 1, "{what}: the leader is alone");
                            }
                            for v in views.values().filter(|v| v.len() > 1) {
                                assert_eq!(v.len(), n - 1, "{what}");
                            }
                        }
                        FaultKind::PartitionMajoritiesRing => {
                            let distinct: BTreeSet<_> = views.values().collect();
                            assert_eq!(distinct.len(), n, "{what}: two nodes see the same set");
                            for v in views.values() {
                                assert!(v.len() >= majority, "{what}: a node sees no majority");
                            }
                        }
                        FaultKind::PartitionBridge => {
                            // One node sees all; the others see their own half and the bridge.
                            let bridges: Vec<_> = views
                                .iter()
                                .filter(|(_, v)| v.len() == n)
                                .map(|(a, _)| *a)
                                .collect();
                            assert_eq!(bridges.len(), 1, "{what}");
                            let b = bridges[0];
                            for (a, v) in views.iter().filter(|(a, _)| **a != b) {
                                assert!(v.contains(b), "{what}: {a} does not see the bridge");
                                for c in v.iter().filter(|c| *c != b) {
                                    assert_eq!(&views[c], v, "{what}: halves are not cliques");
                                }
                            }
                            let halves: BTreeSet<_> = views
                                .iter()
                                .filter(|(a, _)| **a != b)
                                .map(|(_, v)| v)
                                .collect();
                            assert_eq!(halves.len(), 2, "{what}");
                        }
                        _ => unreachable!(),
                    }
                }
            }
        }
    }

    /// A one-way partition cuts exactly one direction between one node and all the others,
    /// both directions occurring over seeds.
    #[test]
    fn a_one_way_partition_cuts_one_direction_of_one_node() {
        let ns = nodes(5);
        let mut kinds = BTreeSet::new();
        for seed in 0..40 {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let Fault::Partition {
                grudge, components, ..
            } = decide(
                FaultKind::PartitionOneWay,
                &ns,
                None,
                &ClockParams::default(),
                &NetworkParams::default(),
                &mut rng,
            )
            else {
                panic!("not a partition");
            };
            let x = &components[0][0];
            let rest: BTreeSet<String> = ns.iter().filter(|n| *n != x).cloned().collect();
            assert_eq!(grudge.len(), 5);
            if grudge[x].is_empty() {
                // Nobody hears x; x hears everybody.
                for r in &rest {
                    assert_eq!(grudge[r], BTreeSet::from([x.clone()]), "seed {seed}");
                }
                kinds.insert("mute");
            } else {
                assert_eq!(grudge[x], rest, "seed {seed}");
                assert!(rest.iter().all(|r| grudge[r].is_empty()), "seed {seed}");
                kinds.insert("deaf");
            }
        }
        assert_eq!(kinds.len(), 2);
    }

    #[test]
    fn network_faults_pick_values_within_their_ranges() {
        let ns = nodes(5);
        let net = NetworkParams {
            targets: Targets::Minority,
            ..NetworkParams::default()
        };
        for seed in 0..30 {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let f = decide(
                FaultKind::NetworkSlow,
                &ns,
                None,
                &ClockParams::default(),
                &net,
                &mut rng,
            );
            let Fault::Network {
                nodes,
                delay_ms: Some(d),
                jitter_ms: Some(20),
                loss_pct: Some(l),
                rate_kbit: None,
                ..
            } = f
            else {
                panic!("{f:?}");
            };
            assert_eq!(nodes.len(), 2);
            assert!((50..=500).contains(&d) && (5..=30).contains(&l), "{d} {l}");
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let f = decide(
            FaultKind::NetworkLoss,
            &ns,
            None,
            &ClockParams::default(),
            &NetworkParams::default(),
            &mut rng,
        );
        assert!(matches!(
            f,
            Fault::Network {
                delay_ms: None,
                loss_pct: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn bridge_node_sees_everyone_and_halves_do_not_meet() {
        let ns = nodes(5);
        let (g, comps) = bridge(&ns);
        assert_eq!(comps.len(), 2);
        let b = &ns[2];
        assert!(g[b].is_empty());
        assert!(linked(&g, "n1", "n3") && linked(&g, "n3", "n5"));
        assert!(!linked(&g, "n1", "n5") && !linked(&g, "n2", "n4"));
    }

    #[test]
    fn faults_target_minorities_and_leaders() {
        let ns = nodes(5);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        match decide(
            FaultKind::PartitionIsolateLeader,
            &ns,
            Some("n4"),
            &ClockParams::default(),
            &NetworkParams::default(),
            &mut rng,
        ) {
            Fault::Partition {
                components, grudge, ..
            } => {
                assert_eq!(components[0], vec!["n4".to_string()]);
                assert_eq!(grudge["n4"].len(), 4);
                assert!(grudge["n1"].contains("n4") && !grudge["n1"].contains("n2"));
            }
            f => panic!("{f:?}"),
        }
        match decide(
            FaultKind::Kill,
            &ns,
            None,
            &ClockParams::default(),
            &NetworkParams::default(),
            &mut rng,
        ) {
            Fault::Kill { nodes } => assert_eq!(nodes.len(), 2),
            f => panic!("{f:?}"),
        }
        match decide(
            FaultKind::PartitionHalves,
            &ns,
            None,
            &ClockParams::default(),
            &NetworkParams::default(),
            &mut rng,
        ) {
            Fault::Partition { components, .. } => {
                assert_eq!(
                    components,
                    vec![nodes(2), vec!["n3".into(), "n4".into(), "n5".into()]]
                )
            }
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn clock_faults_pick_targets_and_sizes() {
        let ns = nodes(5);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let p = ClockParams {
            targets: Targets::All,
            bump_ms: 250,
            ..ClockParams::default()
        };
        match decide(
            FaultKind::ClockBump,
            &ns,
            None,
            &p,
            &NetworkParams::default(),
            &mut rng,
        ) {
            Fault::Clock { nodes, ms, .. } => {
                assert_eq!(nodes.len(), 5);
                assert_eq!(ms.abs(), 250);
            }
            f => panic!("{f:?}"),
        }
        let p = ClockParams {
            targets: Targets::One,
            ..ClockParams::default()
        };
        match decide(
            FaultKind::ClockStrobe,
            &ns,
            None,
            &p,
            &NetworkParams::default(),
            &mut rng,
        ) {
            Fault::Clock {
                nodes, period_ms, ..
            } => {
                assert_eq!(nodes.len(), 1);
                assert_eq!(period_ms, Some(100));
            }
            f => panic!("{f:?}"),
        }
        assert!(FaultKind::ClockDrift.is_clock() && !FaultKind::ClockDrift.is_partition());
        assert!("clock-reset".parse::<FaultKind>().is_ok());
    }

    #[test]
    fn nft_script_names_sources() {
        let s = nft_drop_script(&["10.0.0.2".into(), "10.0.0.3".into()]);
        assert!(s.contains("ip saddr { 10.0.0.2, 10.0.0.3 } drop"));
        assert!(s.starts_with("add table inet ferret\ndelete table inet ferret\n"));
    }
}
