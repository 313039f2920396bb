//! The anomalies a transactional history can show, named as Adya and Elle name them, and which of
//! them each consistency model proscribes.

use std::fmt;
use std::str::FromStr;

/// What kind of cycle, or of single-transaction wrong, a history shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnomalyKind {
    // Cycles of data dependencies (ww, wr, rw) only.
    G0,
    G1c,
    GSingle,
    GNonadjacent,
    G2Item,
    // The same cycles, closed by the order of one process's transactions.
    G0Process,
    G1cProcess,
    GSingleProcess,
    GNonadjacentProcess,
    G2ItemProcess,
    // The same cycles, closed by real-time order (one completed before the other began).
    G0Realtime,
    G1cRealtime,
    GSingleRealtime,
    GNonadjacentRealtime,
    G2ItemRealtime,
    // Not cycles: what one read or one transaction shows on its own.
    /// A read saw a write of a transaction that failed.
    G1a,
    /// A read saw a transaction's write that the same transaction later overwrote.
    G1b,
    /// A committed write follows a failed one in a key's version order.
    DirtyUpdate,
    /// A transaction's reads disagree with its own earlier writes or reads.
    Internal,
    /// Two reads of a key that no single order of appends can produce.
    IncompatibleOrder,
    /// A read shows one element twice.
    DuplicateElements,
    /// A read shows a value no transaction wrote.
    GarbageRead,
    /// Writes-follow-reads and the initial state order a register's versions in a cycle.
    CyclicVersions,
    /// A read saw what its own transaction wrote only later: a cycle of one (Elle's future read).
    FutureRead,
}

/// Where a cycle's non-data edges come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Data,
    Process,
    Realtime,
}

impl AnomalyKind {
    /// Every kind, for those who name one (a suite's expectation).
    pub const ALL: [AnomalyKind; 24] = {
        use AnomalyKind::*;
        [
            G0,
            G1c,
            GSingle,
            GNonadjacent,
            G2Item,
            G0Process,
            G1cProcess,
            GSingleProcess,
            GNonadjacentProcess,
            G2ItemProcess,
            G0Realtime,
            G1cRealtime,
            GSingleRealtime,
            GNonadjacentRealtime,
            G2ItemRealtime,
            G1a,
            G1b,
            DirtyUpdate,
            Internal,
            IncompatibleOrder,
            DuplicateElements,
            GarbageRead,
            CyclicVersions,
            FutureRead,
        ]
    };

    /// A cycle of transactions (data, process or real-time edges), not a single wrong read.
    pub fn is_cycle(self) -> bool {
        use AnomalyKind::*;
        !matches!(
            self,
            G1a | G1b
                | DirtyUpdate
                | Internal
                | IncompatibleOrder
                | DuplicateElements
                | GarbageRead
                | CyclicVersions
                | FutureRead
        )
    }

    pub fn name(self) -> &'static str {
        use AnomalyKind::*;
        match self {
            G0 => "G0",
            G1c => "G1c",
            GSingle => "G-single",
            GNonadjacent => "G-nonadjacent",
            G2Item => "G2-item",
            G0Process => "G0-process",
            G1cProcess => "G1c-process",
            GSingleProcess => "G-single-process",
            GNonadjacentProcess => "G-nonadjacent-process",
            G2ItemProcess => "G2-item-process",
            G0Realtime => "G0-realtime",
            G1cRealtime => "G1c-realtime",
            GSingleRealtime => "G-single-realtime",
            GNonadjacentRealtime => "G-nonadjacent-realtime",
            G2ItemRealtime => "G2-item-realtime",
            G1a => "G1a",
            G1b => "G1b",
            DirtyUpdate => "dirty-update",
            Internal => "internal",
            IncompatibleOrder => "incompatible-order",
            DuplicateElements => "duplicate-elements",
            GarbageRead => "garbage-read",
            CyclicVersions => "cyclic-versions",
            FutureRead => "future-read",
        }
    }

    /// A cycle's kind from its rw edges and where its other edges come from.
    pub fn of_cycle(wr: bool, rw: usize, rw_adjacent: bool, variant: Variant) -> AnomalyKind {
        use AnomalyKind::*;
        let base = match (rw, wr) {
            (0, false) => 0,
            (0, true) => 1,
            (1, _) => 2,
            (_, _) if !rw_adjacent => 3,
            _ => 4,
        };
        let all = [
            [G0, G1c, GSingle, GNonadjacent, G2Item],
            [
                G0Process,
                G1cProcess,
                GSingleProcess,
                GNonadjacentProcess,
                G2ItemProcess,
            ],
            [
                G0Realtime,
                G1cRealtime,
                GSingleRealtime,
                GNonadjacentRealtime,
                G2ItemRealtime,
            ],
        ];
        all[variant as usize][base]
    }

    /// For cycles: which of G0 … G2-item it is (0 … 4), whatever closed it.
    pub fn base(self) -> usize {
        self as usize % 5
    }

    fn variant(self) -> Variant {
        match self as usize / 5 {
            0 => Variant::Data,
            1 => Variant::Process,
            _ => Variant::Realtime,
        }
    }

    /// A sentence on what the anomaly is, for reports.
    pub fn meaning(self) -> &'static str {
        use AnomalyKind::*;
        match self {
            G0 | G0Process | G0Realtime => "a write cycle: transactions overwrote each other in a cycle",
            G1c | G1cProcess | G1cRealtime => {
                "circular information flow: each transaction's effects seen before the next's, in a cycle"
            }
            GSingle | GSingleProcess | GSingleRealtime => {
                "read skew: a cycle with exactly one anti-dependency (a read that missed a write)"
            }
            GNonadjacent | GNonadjacentProcess | GNonadjacentRealtime => {
                "a cycle whose anti-dependencies are never adjacent"
            }
            G2Item | G2ItemProcess | G2ItemRealtime => {
                "write skew: a cycle with adjacent anti-dependencies"
            }
            G1a => "aborted read: a read saw a write of a transaction that failed",
            G1b => "intermediate read: a read saw a write its transaction later overwrote",
            DirtyUpdate => "dirty update: a committed write built on a failed transaction's write",
            Internal => "a transaction's read disagrees with its own earlier writes or reads",
            IncompatibleOrder => "two reads of one key that no order of appends can produce",
            DuplicateElements => "a read shows one element twice",
            GarbageRead => "a read shows a value no transaction wrote",
            CyclicVersions => "the versions of a register are ordered in a cycle",
            FutureRead => "a read saw a write its own transaction made only later",
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The consistency models a transactional history is checked against, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Consistency {
    #[default]
    StrictSerializable,
    Serializable,
    SnapshotIsolation,
    RepeatableRead,
    ReadCommitted,
    ReadUncommitted,
}

impl Consistency {
    pub const ALL: [(Consistency, &'static str); 6] = [
        (Consistency::StrictSerializable, "strict-serializable"),
        (Consistency::Serializable, "serializable"),
        (Consistency::SnapshotIsolation, "snapshot-isolation"),
        (Consistency::RepeatableRead, "repeatable-read"),
        (Consistency::ReadCommitted, "read-committed"),
        (Consistency::ReadUncommitted, "read-uncommitted"),
    ];

    pub fn name(self) -> &'static str {
        Consistency::ALL
            .iter()
            .find(|c| c.0 == self)
            .map_or("?", |c| c.1)
    }

    /// Whether the model forbids the anomaly. Follows Adya's definitions as Elle reads them
    /// (PL-1 … PL-3, PL-SI, PL-SS); every rw edge here is on an item, so G-single and
    /// G-nonadjacent are G2-item too. A read of a value nobody wrote, a duplicate, or a cycle of
    /// versions is wrong under every model.
    pub fn forbids(self, a: AnomalyKind) -> bool {
        use AnomalyKind::*;
        use Consistency::*;
        match a {
            DuplicateElements | GarbageRead | CyclicVersions => true,
            G1a | G1b | DirtyUpdate | IncompatibleOrder | FutureRead => self != ReadUncommitted,
            Internal => matches!(self, StrictSerializable | Serializable | SnapshotIsolation),
            _ => {
                let data = a.variant() == Variant::Data;
                match (self, a.base()) {
                    (StrictSerializable, _) => true,
                    (_, _) if !data => false,
                    (ReadUncommitted, b) => b == 0,
                    (ReadCommitted, b) => b <= 1,
                    // Write skew (adjacent anti-dependencies) is what snapshot isolation allows.
                    (SnapshotIsolation, b) => b <= 3,
                    (RepeatableRead | Serializable, _) => true,
                }
            }
        }
    }

    /// Whether the model orders transactions by real time (and so by process).
    pub fn realtime(self) -> bool {
        self == Consistency::StrictSerializable
    }
}

/// A consistency model `--consistency` does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown consistency model {0:?}; expected one of {names}", names = Consistency::ALL.map(|c| c.1).join(", "))]
pub struct UnknownConsistency(pub String);

impl FromStr for Consistency {
    type Err = UnknownConsistency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s2 = match s {
            "strong-serializable" | "strict-1sr" => "strict-serializable",
            "si" => "snapshot-isolation",
            other => other,
        };
        Consistency::ALL
            .iter()
            .find(|c| c.1 == s2)
            .map(|c| c.0)
            .ok_or_else(|| UnknownConsistency(s.to_string()))
    }
}

impl fmt::Display for Consistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
