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
    /// `local`: each node a network namespace on this machine (needs root).
    #[serde(default = "default_platform")]
    pub kind: String,
    pub nodes: usize,
}

fn default_platform() -> String {
    "local".into()
}

/// How to install, start and probe the system. Command templates may use `{node}` (n1..),
/// `{ip}`, `{data_dir}`, `{initial_cluster}` and `{run_id}`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DbConfig {
    pub name: String,
    #[serde(default)]
    pub install: Option<InstallConfig>,
    /// Starts one node as a long-running daemon; its output goes to `nodes/<n>/<name>.log`.
    pub start: String,
    /// One node's entry in `{initial_cluster}`; entries are joined with commas.
    #[serde(default)]
    pub initial_cluster_member: String,
    /// Exits 0 once the node serves clients; run inside the node.
    pub ready: String,
    /// Seconds to wait for every node to be ready.
    #[serde(default = "default_ready_timeout")]
    pub ready_timeout: f64,
    /// Where clients connect, e.g. `http://{ip}:2379`.
    pub client_url: String,
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
    /// `etcd`: etcd's v3 JSON gateway.
    #[serde(default = "default_protocol")]
    pub protocol: String,
    /// Seconds before an op's outcome is declared unknown.
    #[serde(default = "default_op_timeout")]
    pub timeout: f64,
    /// Serializable reads (may be stale) instead of linearizable ones.
    #[serde(default)]
    pub serializable: bool,
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
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadConfig {
    /// `register`: read / write / cas over independent keys.
    #[serde(default = "default_workload")]
    pub kind: String,
    #[serde(default = "default_keys")]
    pub keys: usize,
    /// Client processes running at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Target ops per second, all clients together.
    #[serde(default = "default_rate")]
    pub rate: f64,
    #[serde(default)]
    pub mix: MixConfig,
}

fn default_workload() -> String {
    "register".into()
}
fn default_keys() -> usize {
    20
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
            keys: default_keys(),
            concurrency: default_concurrency(),
            rate: default_rate(),
            mix: MixConfig::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MixConfig {
    pub read: f64,
    pub write: f64,
    pub cas: f64,
}

impl Default for MixConfig {
    fn default() -> Self {
        MixConfig {
            read: 0.5,
            write: 0.3,
            cas: 0.2,
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
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CheckerConfig {
    #[serde(default = "default_model")]
    pub model: String,
    /// Seconds the search may spend per key.
    #[serde(default = "default_check_time")]
    pub time_limit: f64,
}

fn default_model() -> String {
    "cas-register".into()
}
fn default_check_time() -> f64 {
    60.0
}

impl Default for CheckerConfig {
    fn default() -> Self {
        CheckerConfig {
            model: default_model(),
            time_limit: default_check_time(),
        }
    }
}

impl Config {
    /// Read and validate a config file; errors name the file, line and column.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
        let config: Config = yaml_serde::from_str(&text).map_err(|e| match e.location() {
            Some(l) => anyhow::anyhow!("{}:{}:{}: {e}", path.display(), l.line(), l.column()),
            None => anyhow::anyhow!("{}: {e}", path.display()),
        })?;
        config.validate().map_err(|e| {
            // Messages start with the field's dotted path: point at it in the file.
            let msg = e.to_string();
            let field = msg.split([' ', ':']).next().unwrap_or("");
            match locate(&text, field) {
                Some((line, col)) => anyhow::anyhow!("{}:{line}:{col}: {msg}", path.display()),
                None => anyhow::anyhow!("{}: {msg}", path.display()),
            }
        })?;
        Ok(config)
    }

    pub fn faults(&self) -> Result<Vec<FaultKind>> {
        self.nemesis
            .faults
            .iter()
            .map(|f| {
                f.parse()
                    .map_err(|e: String| anyhow::anyhow!("nemesis.faults: {e}"))
            })
            .collect()
    }

    pub fn validate(&self) -> Result<()> {
        let positive = |v: f64, name: &str| -> Result<()> {
            if !(v.is_finite() && v > 0.0) {
                bail!("{name} must be a positive number of seconds, not {v}");
            }
            Ok(())
        };
        if self.name.is_empty() || self.name.contains('/') || self.name.starts_with('.') {
            bail!("name must be a plain folder name, not {:?}", self.name);
        }
        positive(self.time_limit, "time_limit")?;
        positive(self.client.timeout, "client.timeout")?;
        positive(self.db.ready_timeout, "db.ready_timeout")?;
        positive(self.checker.time_limit, "checker.time_limit")?;
        positive(self.nemesis.duration, "nemesis.duration")?;
        if self.nemesis.interval < 0.0 || self.nemesis.recovery < 0.0 {
            bail!("nemesis.interval and nemesis.recovery must not be negative");
        }
        if self.platform.kind != "local" {
            bail!(
                "platform.kind {:?} is not supported yet; use local (network namespaces)",
                self.platform.kind
            );
        }
        if !(1..=32).contains(&self.platform.nodes) {
            bail!(
                "platform.nodes must be 1 to 32, not {}",
                self.platform.nodes
            );
        }
        if self.client.protocol != "etcd" {
            bail!(
                "client.protocol {:?} is not supported; use etcd",
                self.client.protocol
            );
        }
        if self.workload.kind != "register" {
            bail!(
                "workload.kind {:?} is not supported; use register",
                self.workload.kind
            );
        }
        if self.workload.keys == 0 || self.workload.concurrency == 0 {
            bail!("workload.keys and workload.concurrency must be at least 1");
        }
        positive(self.workload.rate, "workload.rate (ops per second)")?;
        self.checker
            .model
            .parse::<ferret_checkers::ModelName>()
            .map_err(|e| anyhow::anyhow!("checker.model: {e}"))?;
        let faults = self.faults()?;
        if faults.iter().any(|f| f.is_clock()) {
            ferret_nemesis::clock::ClockMask::parse(&self.nemesis.clock.clocks)
                .map_err(|e| anyhow::anyhow!("nemesis.clock.clocks: {e}"))?;
            if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
                bail!("clock faults need Linux on x86_64");
            }
        }
        Ok(())
    }
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
        let (_d, p) = write("name: x\nplatform: {nodes: 3}\ndb: {name: e, start: s, ready: r, client_url: u}\ntime_limit: -1\n");
        assert!(Config::load(&p)
            .unwrap_err()
            .to_string()
            .contains("time_limit"));
    }
}
