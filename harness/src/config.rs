//! `ferret run`'s configuration: a YAML file, checked before anything starts.

use anyhow::{bail, Result};
use ferret_nemesis::FaultKind;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Names the run's folder in the store.
    pub name: String,
    /// Seeds the whole schedule of ops and faults; random (and printed) when absent.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Seconds of workload, before the final heal and reads.
    #[serde(default = "default_time_limit")]
    pub time_limit: f64,
    /// Where runs are stored: `<store>/<name>/<time>/`.
    #[serde(default = "default_store")]
    pub store: PathBuf,
    pub platform: PlatformConfig,
    pub db: DbConfig,
    #[serde(default)]
    pub client: ClientConfig,
    #[serde(default)]
    pub workload: WorkloadConfig,
    #[serde(default)]
    pub nemesis: NemesisConfig,
    #[serde(default)]
    pub checker: CheckerConfig,
}

fn default_time_limit() -> f64 {
    60.0
}
fn default_store() -> PathBuf {
    PathBuf::from("store")
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    /// `local`: each node a network namespace on this machine (needs root). `docker`: each node a
    /// container of docker-compose.yml.
    #[serde(default = "default_platform")]
    pub kind: String,
    pub nodes: usize,
    /// Docker: the node image to use instead of ferret's own (which is built from
    /// `db.packages`). ferret needs nothing inside it but the system under test and a shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Put each node's data directory on ferret's fault file system (always so when a disk
    /// fault is listed): what was not fsynced can then be lost.
    #[serde(default)]
    pub faultfs: bool,
    /// SSH: how to reach the machines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshConfig>,
}

/// `platform.ssh`: the machines and how to log in; each host may override the defaults.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SshConfig {
    /// A nodes file (as `ferret lab up` writes) read when `hosts` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// A private key file; without one, ssh-agent and ssh's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// Host keys are checked against this file (default: ~/.ssh/known_hosts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_hosts: Option<PathBuf>,
    /// Trust and record the host key of a host seen for the first time (never a changed one).
    #[serde(default)]
    pub accept_new_host_keys: bool,
    #[serde(default)]
    pub hosts: Vec<SshHost>,
}

/// One machine.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SshHost {
    /// The node's name (default n1, n2 … in order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Address or host name: what the system's members and clients use too.
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
}

impl SshConfig {
    /// The nodes file's settings under these (the config's own win where both say).
    pub fn with_file(&self) -> Result<SshConfig> {
        let Some(path) = &self.nodes_file else {
            return Ok(self.clone());
        };
        if !self.hosts.is_empty() {
            return Ok(self.clone());
        }
        let text = anyhow::Context::with_context(std::fs::read_to_string(path), || {
            format!(
                "cannot read the nodes file {} (ferret lab up N makes one)",
                path.display()
            )
        })?;
        let file: SshConfig =
            yaml_serde::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(SshConfig {
            nodes_file: self.nodes_file.clone(),
            user: self.user.clone().or(file.user),
            port: self.port.or(file.port),
            key: self.key.clone().or(file.key),
            known_hosts: self.known_hosts.clone().or(file.known_hosts),
            accept_new_host_keys: self.accept_new_host_keys || file.accept_new_host_keys,
            hosts: file.hosts,
        })
    }

    /// Each node's target, the first `count` hosts.
    pub fn targets(&self, count: usize) -> Result<Vec<crate::platform::ssh::Target>> {
        let c = self.with_file()?;
        if c.hosts.len() < count {
            bail!(
                "platform.nodes is {count} but platform.ssh lists {} host{}",
                c.hosts.len(),
                if c.hosts.len() == 1 { "" } else { "s" }
            );
        }
        Ok(c.hosts
            .iter()
            .take(count)
            .enumerate()
            .map(|(i, h)| crate::platform::ssh::Target {
                name: h.name.clone().unwrap_or_else(|| format!("n{}", i + 1)),
                host: h.host.clone(),
                user: h
                    .user
                    .clone()
                    .or(c.user.clone())
                    .unwrap_or_else(|| "root".into()),
                port: h.port.or(c.port).unwrap_or(22),
                key: h.key.clone().or(c.key.clone()),
                known_hosts: c.known_hosts.clone(),
                accept_new_host_keys: c.accept_new_host_keys,
            })
            .collect())
    }
}

/// The platforms `platform.kind` and `--platform` name.
pub const PLATFORM_KINDS: [&str; 3] = ["local", "docker", "ssh"];

fn default_platform() -> String {
    "local".into()
}

/// How to install, start and probe the system. Command templates may use `{node}` (n1..),
/// `{ip}`, `{first_ip}` (n1's), `{data_dir}`, `{initial_cluster}` and `{run_id}`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DbConfig {
    pub name: String,
    /// Local platform: installs the system on this machine if missing.
    #[serde(default)]
    pub install: Option<InstallConfig>,
    /// Docker platform: the Debian packages ferret's node image gets (e.g. etcd-server).
    #[serde(default)]
    pub packages: Vec<String>,
    /// Starts one node as a long-running daemon; its output goes to `nodes/<n>/<name>.log`.
    pub start: String,
    /// Starts a node again after a kill (default: `start`), e.g. without a join flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
    /// Start nodes one at a time, each ready before the next starts (systems whose members join
    /// a first one).
    #[serde(default)]
    pub start_one_by_one: bool,
    /// One node's entry in `{initial_cluster}`; entries are joined with commas.
    #[serde(default)]
    pub initial_cluster_member: String,
    /// Exits 0 once the node serves clients; run inside the node.
    pub ready: String,
    /// Prints the current leader, by node name or address, when run on a node (for
    /// `partition-isolate-leader` with clients that cannot tell, e.g. http). Nodes vote; a node
    /// that does not answer in 2 s abstains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
    /// Prints the system's version when run on a node (e.g. `etcd --version`); its first line is
    /// recorded in results.json.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Seconds to wait for every node to be ready.
    #[serde(default = "default_ready_timeout")]
    pub ready_timeout: f64,
    /// Where the etcd client connects, e.g. `http://{ip}:2379` (the http client's ops carry
    /// their own URLs).
    #[serde(default)]
    pub client_url: String,
    /// Membership faults: run on a current member (`{node}`, `{ip}` are that member's;
    /// `{target}`, `{target_ip}` the node added), it adds a member to the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_add: Option<String>,
    /// Run on a current member, it removes `{target}` (`{target_ip}`) from the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_remove: Option<String>,
    /// Run on a current member, it prints the members; a node counts as one when its address
    /// appears in the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<String>,
    /// Starts a node added by the nemesis into the running cluster, with an empty data
    /// directory (`{initial_cluster}` is then the members with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<String>,
    /// `partition-until-snapshot`: run on a node, prints the index of the last entry of its
    /// log (etcd: `raftIndex` of `etcdctl endpoint status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<String>,
}

fn default_ready_timeout() -> f64 {
    30.0
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstallConfig {
    /// Exits 0 when the system is installed.
    pub check: String,
    /// Installs it (run on this machine, as root).
    pub run: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// `etcd`: etcd's v3 JSON gateway. `http`: any HTTP service, each op described in `ops`.
    #[serde(default = "default_protocol")]
    pub protocol: String,
    /// The http protocol's ops: read, write, cas (see docs/your-system.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<ferret_workloads::clients::http::HttpOps>,
    /// Seconds before an op's outcome is declared unknown.
    #[serde(default = "default_op_timeout")]
    pub timeout: f64,
    /// Serializable reads (may be stale) instead of linearizable ones.
    #[serde(default)]
    pub serializable: bool,
    /// nats-kv: the key-value bucket the workload uses (made before it starts).
    #[serde(default = "default_bucket")]
    pub bucket: String,
    /// nats-kv: the bucket's replicas (default: every node, at most 5, JetStream's limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<usize>,
}

fn default_bucket() -> String {
    "ferret".into()
}

fn default_protocol() -> String {
    "etcd".into()
}
fn default_op_timeout() -> f64 {
    1.0
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            protocol: default_protocol(),
            timeout: default_op_timeout(),
            serializable: false,
            ops: None,
            bucket: default_bucket(),
            replicas: None,
        }
    }
}

/// The `workload:` section: what the harness reads of every workload, and the kind's own
/// settings, which the kind reads and checks (`ferret_workloads::kinds`, docs/workloads.md).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct WorkloadConfig {
    /// `register`: read / write / cas over independent keys; `lease`: grant, attach, renew,
    /// revoke; `lock`: a lock-protected shared set; `watch`: writers and watch streams (the
    /// last three etcd only).
    #[serde(default = "default_workload")]
    pub kind: String,
    /// Client processes running at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Target ops per second, all clients together.
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// The kind's own settings, kept as written (a field no kind knows is refused by the kind).
    #[serde(flatten)]
    pub settings: yaml_serde::Mapping,
}

fn default_workload() -> String {
    "register".into()
}
fn default_concurrency() -> usize {
    10
}
fn default_rate() -> f64 {
    200.0
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            kind: default_workload(),
            concurrency: default_concurrency(),
            rate: default_rate(),
            settings: Default::default(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NemesisConfig {
    /// Fault kinds, applied in turn (shuffled by the seed, every kind before any repeats).
    #[serde(default)]
    pub faults: Vec<String>,
    /// Seconds of calm before each fault.
    #[serde(default = "default_interval")]
    pub interval: f64,
    /// Seconds each fault lasts before it is healed.
    #[serde(default = "default_duration")]
    pub duration: f64,
    /// Seconds to let the system recover after the final heal, before the final reads.
    #[serde(default = "default_recovery")]
    pub recovery: f64,
    /// Sizes and targets of clock faults.
    #[serde(default)]
    pub clock: ferret_nemesis::ClockParams,
    /// What disk faults hit.
    #[serde(default)]
    pub disk: DiskParams,
    /// How network faults degrade links, and how a flapping partition flaps.
    #[serde(default)]
    pub network: ferret_nemesis::NetworkParams,
    /// `partition-until-snapshot`: how far (log entries) the others must move past the member
    /// cut off before it is let back — past what the leader keeps for catch-up (etcd 3.4:
    /// `--snapshot-count` + 5,000).
    #[serde(default = "default_snapshot_gap")]
    pub snapshot_gap: u64,
}

fn default_snapshot_gap() -> u64 {
    10_000
}

/// What disk faults hit.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DiskParams {
    /// `corrupt` flips bits in a file whose path under the data directory matches this glob
    /// (e.g. `member/wal/*.wal`, `**/*.blk`).
    pub corrupt: String,
    /// When a directory change (create, rename, unlink) becomes durable: `strict`, after an
    /// fsync of its directory (the least POSIX promises); `journaled`, after any later fsync
    /// (ext4 and XFS in practice).
    pub metadata: ferret_faultfs::Metadata,
    /// Pass each fsync on to the disk under the fault file system, so an fsync takes as long
    /// as on a real disk: that wait is the window in which a power cut loses written data.
    /// Off: fsyncs return at once (faster; data is lost only between a write and its fsync).
    pub sync_through: bool,
    /// Make what the cluster wrote while starting (and preparing, e.g. a NATS bucket) durable
    /// before the workload, as if it had been up a while: faults then take only what the
    /// workload wrote. Off: a fault can take the setup too.
    pub settle_setup: bool,
}

impl Default for DiskParams {
    fn default() -> Self {
        DiskParams {
            corrupt: "**/*".into(),
            metadata: ferret_faultfs::Metadata::Strict,
            sync_through: true,
            settle_setup: true,
        }
    }
}

fn default_interval() -> f64 {
    2.0
}
fn default_duration() -> f64 {
    4.0
}
fn default_recovery() -> f64 {
    5.0
}

impl Default for NemesisConfig {
    fn default() -> Self {
        NemesisConfig {
            faults: Vec::new(),
            interval: default_interval(),
            duration: default_duration(),
            recovery: default_recovery(),
            clock: ferret_nemesis::ClockParams::default(),
            disk: DiskParams::default(),
            network: ferret_nemesis::NetworkParams::default(),
            snapshot_gap: default_snapshot_gap(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CheckerConfig {
    /// The sequential model; by default the workload's (cas-register when it uses cas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// For transactional workloads: the consistency model the history must keep
    /// (strict-serializable by default; see docs/transactions.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<String>,
    /// Seconds the search may spend per key.
    #[serde(default = "default_check_time")]
    pub time_limit: f64,
    /// A run proves nothing about a key none of whose ops succeeded: with fewer ok ops than
    /// this on some key, a valid check is reported unknown (exit 2), not valid.
    #[serde(default = "default_min_ok_per_key")]
    pub min_ok_per_key: u64,
    /// Nor when fewer than this fraction of all the workload's ops succeeded.
    #[serde(default = "default_min_ok_fraction")]
    pub min_ok_fraction: f64,
}

fn default_min_ok_per_key() -> u64 {
    1
}
fn default_min_ok_fraction() -> f64 {
    0.1
}
fn default_check_time() -> f64 {
    60.0
}

impl Default for CheckerConfig {
    fn default() -> Self {
        CheckerConfig {
            model: None,
            consistency: None,
            time_limit: default_check_time(),
            min_ok_per_key: default_min_ok_per_key(),
            min_ok_fraction: default_min_ok_fraction(),
        }
    }
}

impl Config {
    /// Read and validate a config file; errors name the file, line and column.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
        let config: Config = yaml_serde::from_str(&text).map_err(|e| match e.location() {
            Some(l) => anyhow::anyhow!(
                "{}:{}:{}: {e}{}",
                path.display(),
                l.line(),
                l.column(),
                unclosed_hint(&text, l.line())
            ),
            None => anyhow::anyhow!("{}: {e}", path.display()),
        })?;
        // The workload's own settings, read by its kind from the text: errors keep their place.
        if let Some(kind) = ferret_workloads::kinds::kind(&config.workload.kind) {
            (kind.read_text)(&text).map_err(|e| match e.location() {
                Some(l) => anyhow::anyhow!(
                    "{}:{}:{}: {e} (what a {} workload reads)",
                    path.display(),
                    l.line(),
                    l.column(),
                    kind.name
                ),
                None => anyhow::anyhow!(
                    "{}: {e} (what a {} workload reads)",
                    path.display(),
                    kind.name
                ),
            })?;
        }
        config.validate().map_err(|e| {
            // An http op's error names its field, and what in it to point at.
            if let Some(HttpSpecError(spec)) = e.downcast_ref::<HttpSpecError>() {
                let place = spec
                    .near
                    .as_deref()
                    .and_then(|near| locate_item(&text, &spec.path, near))
                    .or_else(|| locate(&text, &spec.path));
                return match place {
                    Some((line, col)) => anyhow::anyhow!("{}:{line}:{col}: {spec}", path.display()),
                    None => anyhow::anyhow!("{}: {spec}", path.display()),
                };
            }
            // Messages start with the field's dotted path: point at it in the file, or at the
            // list item the message names.
            let msg = e.to_string();
            let field = msg.split([' ', ':']).next().unwrap_or("");
            let item = config
                .nemesis
                .faults
                .iter()
                .find(|f| msg.contains(&format!("{f:?}")) || msg.contains(&format!(": {f} ")));
            let place = match (field, item) {
                ("nemesis.faults", Some(item)) => locate_item(&text, field, item),
                _ => None,
            };
            match place.or_else(|| locate(&text, field)) {
                Some((line, col)) => anyhow::anyhow!("{}:{line}:{col}: {msg}", path.display()),
                None => anyhow::anyhow!("{}: {msg}", path.display()),
            }
        })?;
        Ok(config)
    }

    /// The nats-kv bucket's replicas.
    pub fn nats_replicas(&self) -> usize {
        self.client.replicas.unwrap_or(self.platform.nodes.min(5))
    }

    /// Whether the nodes' data directories go on the fault file system.
    pub fn uses_faultfs(&self) -> bool {
        self.platform.faultfs || self.faults().is_ok_and(|f| f.iter().any(|k| k.is_disk()))
    }

    pub fn faults(&self) -> Result<Vec<FaultKind>> {
        self.nemesis
            .faults
            .iter()
            .map(|f| {
                f.parse().map_err(|e: ferret_nemesis::UnknownFault| {
                    anyhow::anyhow!("nemesis.faults: {e}")
                })
            })
            .collect()
    }

    /// The consistency model transactions are checked against: the config's, else strict
    /// serializability.
    pub fn consistency(&self) -> Result<ferret_checkers::txn::Consistency> {
        match &self.checker.consistency {
            Some(c) => c
                .parse()
                .map_err(|e| anyhow::anyhow!("checker.consistency: {e}")),
            None => Ok(Default::default()),
        }
    }

    /// The checker's model: the config's, else the workload's.
    pub fn model(&self) -> Result<ferret_checkers::ModelName> {
        let name = match &self.checker.model {
            Some(m) => m.clone(),
            None => self.workload()?.model().to_string(),
        };
        name.parse()
            .map_err(|e: ferret_checkers::options::UnknownModel| {
                anyhow::anyhow!("checker.model: {e}")
            })
    }

    /// The workload's own settings, as its kind reads them.
    pub fn settings(&self) -> Result<Box<dyn ferret_workloads::settings::Settings>> {
        let kind = ferret_workloads::kinds::kind(&self.workload.kind).ok_or_else(|| {
            anyhow::anyhow!(
                "workload.kind {:?} is not known; use one of {}",
                self.workload.kind,
                ferret_workloads::kinds::names()
            )
        })?;
        (kind.read_value)(yaml_serde::Value::Mapping(self.workload.settings.clone()))
            .map_err(|e| anyhow::anyhow!("workload ({} workload): {e}", kind.name))
    }

    /// What every workload's settings may depend on.
    pub fn common(&self) -> ferret_workloads::settings::Common {
        ferret_workloads::settings::Common {
            concurrency: self.workload.concurrency,
        }
    }

    /// The workload `workload.kind` names, its settings checked.
    pub fn workload(&self) -> Result<Box<dyn ferret_workloads::Workload>> {
        let settings = self.settings()?;
        // Checked here, before anything is sized or timed by them (a workload keeps state per
        // key); validate() gets them through this.
        settings.validate(&self.common())?;
        Ok(settings.workload(&self.common()))
    }

    /// The http client's ops, checked and compiled; `None` for the etcd protocol.
    pub fn http_spec(&self) -> Result<Option<ferret_workloads::clients::http::HttpSpec>> {
        match (self.client.protocol.as_str(), &self.client.ops) {
            ("http", Some(ops)) => {
                ferret_workloads::clients::http::HttpSpec::compile(ops, "client.ops")
                    .map(Some)
                    .map_err(|e| anyhow::anyhow!(HttpSpecError(e)))
            }
            ("http", None) => bail!(
                "client.ops must describe the service's read, write and cas for protocol http"
            ),
            ("etcd" | "nats-kv", None) => Ok(None),
            (p @ ("etcd" | "nats-kv"), Some(_)) => {
                bail!("client.ops is for protocol http; the {p} protocol knows its ops")
            }
            (other, _) => {
                bail!("client.protocol {other:?} is not known; use etcd, nats-kv or http")
            }
        }
    }

    /// Every number is checked against a named bound (see [`bounds`]) before anything exists, so
    /// nothing later can overflow, panic or leave a cluster behind.
    pub fn validate(&self) -> Result<()> {
        use bounds::*;
        if self.name.is_empty() || self.name.contains('/') || self.name.starts_with('.') {
            bail!("name must be a plain folder name, not {:?}", self.name);
        }
        seconds(self.time_limit, "time_limit", TIME_LIMIT)?;
        seconds(self.client.timeout, "client.timeout", OP_TIMEOUT)?;
        seconds(self.db.ready_timeout, "db.ready_timeout", READY_TIMEOUT)?;
        seconds(self.checker.time_limit, "checker.time_limit", CHECK_TIME)?;
        let f = self.checker.min_ok_fraction;
        if !(f.is_finite() && (0.0..=1.0).contains(&f)) {
            bail!(
                "checker.min_ok_fraction must be between 0 and 1, not {}",
                show(f)
            );
        }
        seconds(self.nemesis.duration, "nemesis.duration", FAULT_DURATION)?;
        seconds(self.nemesis.interval, "nemesis.interval", FAULT_INTERVAL)?;
        seconds(self.nemesis.recovery, "nemesis.recovery", RECOVERY)?;
        if !PLATFORM_KINDS.contains(&self.platform.kind.as_str()) {
            bail!(
                "platform.kind {:?} is not known; use local (network namespaces), docker (containers) or ssh (machines)",
                self.platform.kind
            );
        }
        if self.platform.kind == "ssh" && self.uses_faultfs() {
            bail!("disk faults and platform.faultfs need the fault file system on this machine: not supported on platform ssh yet");
        }
        if self.platform.kind == "docker"
            && self.platform.image.is_none()
            && self.db.packages.is_empty()
        {
            bail!("db.packages must name the Debian packages of the system for the docker platform's node image (or set platform.image)");
        }
        for p in &self.db.packages {
            if p.is_empty()
                || !p
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            {
                bail!("db.packages: {p:?} is not a Debian package name");
            }
        }
        count(self.platform.nodes, "platform.nodes", NODES)?;
        let http = self.http_spec()?;
        if self.client.protocol == "etcd" && self.db.client_url.is_empty() {
            bail!("db.client_url must say where the etcd client connects, e.g. http://{{ip}}:2379");
        }
        if self.client.protocol == "nats-kv" {
            if self.db.client_url.is_empty() {
                bail!("db.client_url must say where the nats-kv client connects, e.g. nats://{{ip}}:4222");
            }
            let r = self.nats_replicas();
            if !(1..=5).contains(&r) || r > self.platform.nodes {
                bail!(
                    "client.replicas must be 1 to 5 (JetStream's limit) and at most platform.nodes ({}), not {r}",
                    self.platform.nodes
                );
            }
            if self.client.bucket.is_empty()
                || !self
                    .client
                    .bucket
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                bail!(
                    "client.bucket {:?} is not a JetStream bucket name (letters, digits, _ and -)",
                    self.client.bucket
                );
            }
        }
        count(
            self.workload.concurrency,
            "workload.concurrency",
            CONCURRENCY,
        )?;
        let settings = self.settings()?;
        settings.validate(&self.common())?;
        if let Some(spec) = &http {
            settings.check_ops(&self.common(), &|f| spec.supports(f))?;
        }
        if self.client.protocol == "nats-kv" {
            settings.check_ops(&self.common(), &|f| ["read", "write", "cas"].contains(&f))?;
        }
        let (lo, hi) = RATE;
        if !(self.workload.rate.is_finite() && (lo..=hi).contains(&self.workload.rate)) {
            bail!(
                "workload.rate must be between {lo} and {hi} ops per second, not {}",
                show(self.workload.rate)
            );
        }
        self.model()?;
        self.consistency()?;
        let faults = self.faults()?;
        for f in &faults {
            if self.platform.nodes < f.min_nodes() {
                bail!(
                    "nemesis.faults: {f} needs at least {} nodes; this run has {}",
                    f.min_nodes(),
                    self.platform.nodes
                );
            }
        }
        if self.uses_faultfs() {
            glob::Pattern::new(&self.nemesis.disk.corrupt).map_err(|e| {
                anyhow::anyhow!(
                    "nemesis.disk.corrupt: {:?} is not a glob: {e}",
                    self.nemesis.disk.corrupt
                )
            })?;
        }
        if faults
            .iter()
            .any(|f| f.is_network() || *f == FaultKind::PartitionFlapping)
        {
            if let Some(p) = self.nemesis.network.problem() {
                bail!("{p}");
            }
        }
        if faults.iter().any(|f| f.is_membership()) {
            let d = &self.db;
            for (v, name, needs) in [
                (&d.member_add, "db.member_add", Some("{target_ip}")),
                (&d.member_remove, "db.member_remove", Some("{target")),
                (&d.members, "db.members", None),
                (&d.join, "db.join", None),
            ] {
                match v {
                    None => bail!(
                        "nemesis.faults: membership changes need {name} (see docs/faults.md#membership-changes)"
                    ),
                    Some(t) if needs.is_some_and(|w| !t.contains(w)) => bail!(
                        "{name} must name the node it acts on: {}",
                        if name == "db.member_add" { "{target_ip}" } else { "{target} or {target_ip}" }
                    ),
                    Some(_) => {}
                }
            }
            if self.platform.nodes < 3 {
                bail!("nemesis.faults: membership changes need at least 3 nodes (a majority must stay)");
            }
        }
        if faults.contains(&FaultKind::PartitionUntilSnapshot) && self.db.log_index.is_none() {
            bail!("nemesis.faults: partition-until-snapshot needs db.log_index, a command that prints a node's last log index");
        }
        if faults.iter().any(|f| f.is_clock()) {
            let c = &self.nemesis.clock;
            ferret_nemesis::clock::ClockMask::parse(&c.clocks)
                .map_err(|e| anyhow::anyhow!("nemesis.clock.clocks: {e}"))?;
            for (v, name) in [
                (c.bump_ms, "nemesis.clock.bump_ms"),
                (c.strobe_ms, "nemesis.clock.strobe_ms"),
            ] {
                if v.unsigned_abs() > CLOCK_OFFSET_MS {
                    bail!("{name} must be within ±{CLOCK_OFFSET_MS} ms (a day), not {v}");
                }
            }
            if c.drift_ms_per_s.unsigned_abs() > CLOCK_DRIFT_MS_PER_S {
                bail!(
                    "nemesis.clock.drift_ms_per_s must be within ±{CLOCK_DRIFT_MS_PER_S}, not {}",
                    c.drift_ms_per_s
                );
            }
            let (lo, hi) = STROBE_PERIOD_MS;
            if !(lo..=hi).contains(&c.strobe_period_ms) {
                bail!(
                    "nemesis.clock.strobe_period_ms must be {lo} to {hi} ms, not {}",
                    c.strobe_period_ms
                );
            }
            if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
                bail!("clock faults need Linux on x86_64");
            }
        }
        Ok(())
    }
}

/// An http op's description error, kept whole so the loader can point at its place.
#[derive(Debug)]
pub struct HttpSpecError(pub ferret_workloads::clients::http::SpecError);

impl std::fmt::Display for HttpSpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for HttpSpecError {}

/// The bounds every number of a config or flag is held to. Beyond them a run is a typo, and some
/// values would overflow a timer or a clock offset.
pub mod bounds {
    use anyhow::Result;
    use std::time::Duration;

    /// (least, most) seconds.
    pub const TIME_LIMIT: (f64, f64) = (0.1, 7.0 * 86_400.0);
    pub const OP_TIMEOUT: (f64, f64) = (0.001, 3_600.0);
    pub const READY_TIMEOUT: (f64, f64) = (0.1, 3_600.0);
    pub const CHECK_TIME: (f64, f64) = (0.001, 7.0 * 86_400.0);
    pub const FAULT_DURATION: (f64, f64) = (0.01, 86_400.0);
    pub const FAULT_INTERVAL: (f64, f64) = (0.0, 86_400.0);
    pub const RECOVERY: (f64, f64) = (0.0, 3_600.0);
    /// Ops per second, all clients together.
    pub const RATE: (f64, f64) = (0.01, 100_000.0);
    pub const NODES: (usize, usize) = (1, 32);
    pub const CONCURRENCY: (usize, usize) = (1, 1_024);
    pub const CLOCK_OFFSET_MS: u64 = 86_400_000;
    pub const CLOCK_DRIFT_MS_PER_S: u64 = 100_000;
    pub const STROBE_PERIOD_MS: (u64, u64) = (1, 60_000);

    pub use ferret_workloads::settings::show;

    /// `v` seconds as a duration, if within `(least, most)`.
    pub fn seconds(v: f64, name: &str, bounds: (f64, f64)) -> Result<Duration> {
        Ok(ferret_workloads::settings::seconds(v, name, bounds)?)
    }

    pub fn count(v: usize, name: &str, bounds: (usize, usize)) -> Result<()> {
        Ok(ferret_workloads::settings::count(v, name, bounds)?)
    }
}

/// A YAML error inside a flow collection left open on its line is most often a missing `}` or
/// `]`: the parser reads on into the next key and blames that.
fn unclosed_hint(text: &str, line: usize) -> String {
    let Some(body) = text.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let body = body.split(" #").next().unwrap_or("");
    let count = |c: char| body.chars().filter(|&x| x == c).count();
    for (open, close) in [('{', '}'), ('[', ']')] {
        if count(open) > count(close) {
            return format!(
                " (line {line} opens a {open:?} it does not close: a missing {close:?}?)"
            );
        }
    }
    String::new()
}

/// Line and column of `item` in the list under a dotted key (block `- item` or flow `[a, item]`).
fn locate_item(text: &str, dotted: &str, item: &str) -> Option<(usize, usize)> {
    let (key_line, _) = locate(text, dotted)?;
    text.lines()
        .enumerate()
        .skip(key_line - 1)
        .take(64)
        .find_map(|(i, line)| {
            let body = line.split('#').next().unwrap_or("");
            body.match_indices(item)
                .find(|(at, _)| {
                    let before = body[..*at].chars().last();
                    let after = body[at + item.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '-')
                        && !after.is_some_and(|c| c.is_alphanumeric() || c == '-')
                })
                .map(|(at, _)| (i + 1, body[..at].chars().count() + 1))
        })
}

/// Line and column of a dotted key (`client.timeout`) in block-style YAML; the deepest part of the
/// path that is found when the rest is not (a flow mapping, a default).
fn locate(text: &str, dotted: &str) -> Option<(usize, usize)> {
    let mut found = None;
    let mut parent_indent: Option<usize> = None;
    let mut start = 0;
    let lines: Vec<&str> = text.lines().collect();
    'parts: for part in dotted.split('.').filter(|p| !p.is_empty()) {
        for (i, line) in lines.iter().enumerate().skip(start) {
            let body = line.trim_start();
            let indent = line.len() - body.len();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            if parent_indent.is_some_and(|p| indent <= p) {
                break 'parts; // left the parent's block
            }
            if body
                .strip_prefix(part)
                .is_some_and(|rest| rest.starts_with(':'))
            {
                found = Some((i + 1, indent + 1));
                parent_indent = Some(indent);
                start = i + 1;
                continue 'parts;
            }
        }
        break;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.yaml");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn shipped_configs_load() {
        for name in ["etcd.yaml", "etcd-serializable.yaml"] {
            let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../configs")
                .join(name);
            let c = Config::load(&p).unwrap();
            assert_eq!(c.platform.nodes, 5, "{name}");
        }
    }

    #[test]
    fn unknown_field_is_named_with_line_and_column() {
        let (_d, p) = write("name: x\nplatform:\n  nodes: 3\n  nodez: 4\ndb: {name: e, start: s, ready: r, client_url: u}\n");
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("c.yaml:4:3") && e.contains("nodez"), "{e}");
    }

    #[test]
    fn bad_values_are_explained() {
        let (_d, p) = write("name: x\nplatform: {nodes: 3}\ndb: {name: e, start: s, ready: r, client_url: u}\nnemesis: {faults: [partition-sideways]}\n");
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("partition-sideways") && e.contains("partition-halves"),
            "{e}"
        );
        let err = |text: &str| {
            let (_d, p) = write(text);
            Config::load(&p).unwrap_err().to_string()
        };
        let db = "db: {name: e, start: s, ready: r, client_url: u";
        let e = err(&format!(
            "name: x\nplatform: {{nodes: 3}}\n{db}}}\nnemesis: {{faults: [grow]}}\n"
        ));
        assert!(e.contains("db.member_add"), "{e}");
        let e = err(&format!("name: x\nplatform: {{nodes: 3}}\n{db}, member_add: a, member_remove: \"r {{target}}\", members: m, join: j}}\nnemesis: {{faults: [member-add]}}\n"));
        assert!(e.contains("db.member_add must name the node"), "{e}");
        let e = err(&format!("name: x\nplatform: {{nodes: 3}}\n{db}}}\nnemesis: {{faults: [network-slow], network: {{delay_ms: [10, 100], jitter_ms: 20}}}}\n"));
        assert!(e.contains("jitter_ms"), "{e}");
        let (_d, p) = write("name: x\nplatform: {nodes: 3}\ndb: {name: e, start: s, ready: r, client_url: u}\ntime_limit: -1\n");
        assert!(Config::load(&p)
            .unwrap_err()
            .to_string()
            .contains("time_limit"));
    }

    #[test]
    fn each_workload_reads_only_its_own_settings() {
        let base =
            "name: x\nplatform: {nodes: 3}\ndb: {name: e, start: s, ready: r, client_url: u}\n";
        // A lock's field in a register workload is refused where it stands.
        let (_d, p) = write(&format!("{base}workload:\n  kind: register\n  ttl: 5\n"));
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("c.yaml:6:3") && e.contains("ttl"), "{e}");
        assert!(e.contains("register workload"), "{e}");
        // The same field is the lock workload's own.
        let (_d, p) = write(&format!("{base}workload:\n  kind: lock\n  ttl: 5\n"));
        let c = Config::load(&p).unwrap();
        assert!(c.settings().unwrap().describe().contains("lease TTL 5 s"));
        // Each kind checks its own bounds, located in the file.
        let (_d, p) = write(&format!(
            "{base}workload:\n  kind: watch\n  concurrency: 3\n  watchers: 3\n"
        ));
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("c.yaml:7:3") && e.contains("workload.watchers"),
            "{e}"
        );
    }

    #[test]
    fn a_watch_workload_is_described_as_one() {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs/etcd-watch.yaml");
        let d = Config::load(&p).unwrap().settings().unwrap().describe();
        assert_eq!(d, "watch workload over 3 keys, 3 watchers, streams of 2 s");
    }

    #[test]
    fn a_config_written_to_the_store_reads_back_the_same() {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs/etcd-lock.yaml");
        let c = Config::load(&p).unwrap();
        let (_d, again) = write(&yaml_serde::to_string(&c).unwrap());
        let c2 = Config::load(&again).unwrap();
        assert_eq!(c.workload.settings, c2.workload.settings);
        assert_eq!(
            c.settings().unwrap().describe(),
            c2.settings().unwrap().describe()
        );
        assert_eq!(
            format!("{:?}", c.settings().unwrap()),
            format!("{:?}", c2.settings().unwrap())
        );
    }
}
