//! What a check is asked: the model, the budgets, and how to read tools' conventions.

use crate::history::Call;
use crate::models::model::ModelOptions;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The models `ferret check --model` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    Register,
    CasRegister,
    StringKv,
    Txn,
    Set,
    FifoQueue,
    UnorderedQueue,
    Mutex,
    /// Not a sequential model: the lease checker (crate::lease).
    Lease,
    /// Not a sequential model: the lock-set checker (crate::lockset), which uses `Mutex`.
    LockSet,
    /// Not a sequential model: the watch checker (crate::watch).
    Watch,
    /// Not a sequential model: Elle's list-append, checked by dependency cycles (crate::txn).
    ListAppend,
    /// Not a sequential model: Elle's read-write registers, checked by dependency cycles.
    RwRegister,
}

impl ModelName {
    pub const ALL: [(ModelName, &'static str, &'static str); 13] = [
        (ModelName::Register, "register", "read / write"),
        (
            ModelName::CasRegister,
            "cas-register",
            "read / write / cas [from to]",
        ),
        (
            ModelName::StringKv,
            "string-kv",
            "get / put / append on strings (Porcupine's kv)",
        ),
        (
            ModelName::Txn,
            "txn",
            "txn of [:read k v] / [:write k v] (Knossos's multi-register)",
        ),
        (
            ModelName::Set,
            "set",
            "add x / read returning every element",
        ),
        (
            ModelName::FifoQueue,
            "fifo-queue",
            "enqueue x / dequeue returning the oldest",
        ),
        (
            ModelName::UnorderedQueue,
            "unordered-queue",
            "enqueue x / dequeue returning any",
        ),
        (ModelName::Mutex, "mutex", "acquire / release"),
        (
            ModelName::Lease,
            "lease",
            "grant / put / keepalive / revoke / read with times: no key gone while its lease is \
             provably alive, none left after its revoke",
        ),
        (
            ModelName::LockSet,
            "lock-set",
            "acquire / add / release / read of a lock-protected set: no acknowledged add lost, \
             acquire/release linearizable as a mutex whose lease can expire",
        ),
        (
            ModelName::Watch,
            "watch",
            "write / watch / read-revision: every watcher sees each change once, in revision \
             order, without gaps, as the others and the writes and reads say",
        ),
        (
            ModelName::ListAppend,
            "list-append",
            "txn of [append k v] / [r k list] (Elle's): no dependency cycle or other anomaly \
             the --consistency model forbids",
        ),
        (
            ModelName::RwRegister,
            "rw-register",
            "txn of [w k v] / [r k v] with unique writes (Elle's): no dependency cycle or other \
             anomaly the --consistency model forbids",
        ),
    ];

    pub fn name(self) -> &'static str {
        ModelName::ALL
            .iter()
            .find(|m| m.0 == self)
            .map_or("?", |m| m.1)
    }

    /// Guess the model from the functions a history uses.
    pub fn infer(calls: &[Call]) -> Option<ModelName> {
        let has = |f: &str| calls.iter().any(|c| c.f == f);
        if has("watch") {
            Some(ModelName::Watch)
        } else if has("grant") || has("keepalive") {
            Some(ModelName::Lease)
        } else if has("acquire") && has("add") {
            Some(ModelName::LockSet)
        } else if has("get") || has("put") || has("append") {
            Some(ModelName::StringKv)
        } else if has("txn") {
            Some(match crate::txn::parse::infer(calls) {
                Some(crate::txn::Datatype::ListAppend) => ModelName::ListAppend,
                Some(crate::txn::Datatype::RwRegister) => ModelName::RwRegister,
                // Reads alone: Elle's registers if they say `r`, else Knossos's multi-register.
                None if crate::txn::parse::is_elle(calls) => ModelName::RwRegister,
                None => ModelName::Txn,
            })
        } else if has("enqueue") || has("dequeue") {
            Some(ModelName::FifoQueue)
        } else if has("acquire") || has("release") {
            Some(ModelName::Mutex)
        } else if has("add") {
            Some(ModelName::Set)
        } else if has("read") || has("write") || has("cas") {
            Some(ModelName::CasRegister)
        } else {
            None
        }
    }
}

/// A model name `--model` does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown model {0:?}; expected one of {names}", names = ModelName::ALL.map(|m| m.1).join(", "))]
pub struct UnknownModel(pub String);

impl FromStr for ModelName {
    type Err = UnknownModel;
    fn from_str(s: &str) -> Result<Self, UnknownModel> {
        let s = match s {
            "kv" | "cas" => "cas-register",
            "multi-register" => "txn",
            "queue" => "fifo-queue",
            "lock" => "mutex",
            other => other,
        };
        ModelName::ALL
            .iter()
            .find(|m| m.1 == s)
            .map(|m| m.0)
            .ok_or_else(|| UnknownModel(s.to_string()))
    }
}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How Jepsen's `[key value]` tuples (jepsen.independent) are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Independent {
    /// Split when every client op's value is a `[key value]` tuple and the model's values cannot be
    /// mistaken for one.
    #[default]
    Auto,
    Yes,
    No,
}

/// What a `fail` cas means. Tools differ: Knossos (and so Jepsen's EDN) treats every `:fail` as
/// "did not happen" and drops it; Porcupine's etcd logs write `:fail :cas` for a compare that
/// failed, an observation that the register did not hold `from`. ferret's own histories write a
/// failed compare as `ok` with the value `false`, so their `fail` always means "not applied".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FailedCas {
    /// A `fail` cas did not happen and constrains nothing.
    #[default]
    Drop,
    /// A `fail` cas is a compare that failed: the register did not hold `from` at some moment
    /// between its invocation and its completion.
    Observe,
}

/// Default shrink budgets: a few hundredths of a second per key and a third of a second in all on this project's
/// machine (the search takes a few million steps a second).
pub const DEFAULT_SHRINK_STEPS: u64 = 100_000;
pub const DEFAULT_SHRINK_TOTAL_STEPS: u64 = 1_000_000;

#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub model: Option<ModelName>,
    pub failed_cas: FailedCas,
    pub model_options: ModelOptions,
    pub independent: Independent,
    /// Per key.
    pub budget: Budget,
    /// Search steps for shrinking one invalid key's counterexample (0: do not shrink). Steps, not
    /// seconds: the counterexample is the same however busy the machine is.
    pub shrink_steps: u64,
    /// Search steps for shrinking all invalid keys together; each key gets an equal share, up to
    /// `shrink_steps`.
    pub shrink_total_steps: u64,
    /// Threads for keys; 0 = all cores.
    pub threads: usize,
    /// What transactional models (list-append, rw-register) are checked against.
    pub consistency: crate::txn::Consistency,
    /// Edge visits the transactional cycle search may make.
    pub cycle_search_steps: u64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            model: None,
            failed_cas: FailedCas::Drop,
            model_options: ModelOptions::default(),
            independent: Independent::Auto,
            budget: Budget::default(),
            shrink_steps: DEFAULT_SHRINK_STEPS,
            shrink_total_steps: DEFAULT_SHRINK_TOTAL_STEPS,
            threads: 0,
            consistency: crate::txn::Consistency::default(),
            cycle_search_steps: crate::txn::DEFAULT_SEARCH_STEPS,
        }
    }
}

/// Limits after which a search gives up and says `Unknown`.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub time: Duration,
    /// Bytes held by the cache and the interned states.
    pub memory: usize,
    /// Search steps (calls tried, backtracks): a measure of work that does not depend on how
    /// busy the machine is, so a verdict bounded by it is the same on every run.
    pub steps: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            time: Duration::from_secs(60),
            memory: 1 << 30,
            steps: u64::MAX,
        }
    }
}
