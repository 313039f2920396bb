//! The local platform: each node is a network namespace on this machine.
//!
//! The nodes' veths meet on a bridge that lives in a namespace of its own, and the harness reaches
//! that bridge through one veth from the root namespace. So no firewall rule is ever added to the
//! root namespace (where Docker's FORWARD policy might drop bridged traffic), and partitions are
//! nft rules inside each node's own namespace.
//!
//! Everything created is named after the run and written to a registry file under
//! `/run/ferret/` before it is made, so `ferret clean` can remove exactly that after a crash.

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;
use tokio::process::{Child, Command};

pub const REGISTRY_DIR: &str = "/run/ferret";

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub ip: String,
    pub netns: String,
}

/// What a run has created, kept on disk so it can be removed even if the harness dies.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Registry {
    pub run_id: String,
    pub harness_pid: u32,
    pub harness_start: u64,
    pub netns: Vec<String>,
    /// Links in the root namespace.
    pub links: Vec<String>,
    pub processes: Vec<RegisteredProcess>,
    /// Directories to delete (nodes' data).
    pub dirs: Vec<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RegisteredProcess {
    pub pid: u32,
    /// Start time from /proc/<pid>/stat: a recycled pid never matches it.
    pub start: u64,
}

impl Registry {
    pub fn path(run_id: &str) -> PathBuf {
        Path::new(REGISTRY_DIR).join(format!("{run_id}.json"))
    }

    pub fn save(&self) -> Result<()> {
        std::fs::create_dir_all(REGISTRY_DIR).context("cannot create /run/ferret")?;
        let path = Self::path(&self.run_id);
        // Named with the harness's pid, so `ferret clean` can tell a dead harness's partial write.
        let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }

    pub fn load_all() -> Vec<(PathBuf, Result<Registry>)> {
        let Ok(dir) = std::fs::read_dir(REGISTRY_DIR) else {
            return Vec::new();
        };
        dir.filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                let r = std::fs::read(&p)
                    .map_err(anyhow::Error::from)
                    .and_then(|b| serde_json::from_slice(&b).map_err(anyhow::Error::from));
                (p, r)
            })
            .collect()
    }
}

pub use ferret_nemesis::proc::start_time as process_start;

pub fn signal(pid: u32, sig: i32) -> bool {
    // SAFETY: kill(2) with a pid we started and verified; no memory is involved.
    unsafe { libc::kill(pid as i32, sig) == 0 }
}

/// Signal a whole process group: a daemon is a shell line and everything it started.
pub fn signal_group(pgid: u32, sig: i32) -> bool {
    // SAFETY: killpg(2) on a group whose leader we started; no memory is involved.
    unsafe { libc::killpg(pgid as i32, sig) == 0 }
}

/// Kill a registered daemon's process group if its leader is still the one we started.
pub fn kill_registered(p: &RegisteredProcess) -> bool {
    if process_start(p.pid) == Some(p.start) {
        signal_group(p.pid, libc::SIGCONT);
        return signal_group(p.pid, libc::SIGKILL);
    }
    false
}

/// A daemon's output as safe to print on a terminal: control characters (escape sequences that
/// could retitle or garble the user's terminal) are shown as `\xNN`, tabs and newlines kept.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

pub struct LocalPlatform {
    pub run_id: String,
    pub nodes: Vec<Node>,
    bridge_ns: String,
    host_link: String,
    registry: Mutex<Registry>,
}

/// Make a helper command die with the harness: one that outlived a SIGKILLed harness could
/// create a namespace or link after `ferret clean` has already looked.
fn die_with_harness(cmd: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Run a command on this machine; its output, or an error naming it and its stderr. It dies with
/// the harness.
pub async fn host(args: &[&str]) -> Result<String> {
    host_command(args, true).await
}

/// As [`host`]; `tied` false lets the command finish even if the harness dies (a package install
/// must not be cut halfway).
pub async fn host_command(args: &[&str], tied: bool) -> Result<String> {
    let mut cmd = Command::new(args[0]);
    if tied {
        die_with_harness(&mut cmd);
    }
    let out = cmd
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("cannot run {}", args[0]))?;
    if !out.status.success() {
        bail!(
            "`{}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A /24 in 10.213.0.0/16 that no route on this machine uses.
async fn free_subnet(run_id: &str) -> Result<String> {
    let routes = host(&["ip", "-4", "route", "show", "table", "all"]).await?;
    let seed = run_id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    for i in 0..256u32 {
        let third = (seed + i) % 250 + 1;
        let prefix = format!("10.213.{third}.");
        if !routes.contains(&prefix) {
            return Ok(prefix);
        }
    }
    bail!("no free /24 in 10.213.0.0/16 for the run's nodes")
}

impl LocalPlatform {
    /// Build the nodes. On error, whatever was made is removed before returning.
    pub async fn create(run_id: &str, count: usize) -> Result<LocalPlatform> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            bail!("the local platform needs root: it creates network namespaces and veth links (run ferret as root)");
        }
        for tool in ["ip", "nft"] {
            if which(tool).is_none() {
                bail!("`{tool}` is not installed (apt-get install -y iproute2 nftables)");
            }
        }
        let prefix = free_subnet(run_id).await?;
        let short = &run_id[run_id.len().saturating_sub(6)..];
        let nodes: Vec<Node> = (1..=count)
            .map(|i| Node {
                name: format!("n{i}"),
                ip: format!("{prefix}{}", 10 + i),
                netns: format!("ferret-{run_id}-n{i}"),
            })
            .collect();
        let platform = LocalPlatform {
            run_id: run_id.to_string(),
            bridge_ns: format!("ferret-{run_id}-br"),
            host_link: format!("fr{short}h"),
            registry: Mutex::new(Registry {
                run_id: run_id.to_string(),
                harness_pid: std::process::id(),
                harness_start: process_start(std::process::id()).unwrap_or(0),
                netns: std::iter::once(format!("ferret-{run_id}-br"))
                    .chain(nodes.iter().map(|n| n.netns.clone()))
                    .collect(),
                links: vec![format!("fr{short}h")],
                ..Registry::default()
            }),
            nodes,
        };
        // Registered before anything exists, so a crash halfway is still cleanable.
        platform.save_registry()?;
        if let Err(e) = platform.build(&prefix, short).await {
            platform.teardown().await;
            return Err(e.context("cannot build the run's network"));
        }
        Ok(platform)
    }

    async fn build(&self, prefix: &str, short: &str) -> Result<()> {
        let br = self.bridge_ns.as_str();
        host(&["ip", "netns", "add", br]).await?;
        host(&["ip", "-n", br, "link", "set", "lo", "up"]).await?;
        host(&["ip", "-n", br, "link", "add", "br0", "type", "bridge"]).await?;
        host(&["ip", "-n", br, "link", "set", "br0", "up"]).await?;
        for (i, n) in self.nodes.iter().enumerate() {
            let (a, b) = (
                format!("fr{short}n{}", i + 1),
                format!("fr{short}n{}p", i + 1),
            );
            host(&["ip", "netns", "add", &n.netns]).await?;
            // Both ends are born inside the run's namespaces: nothing ever sits in the root
            // namespace, where a harness killed at this moment would leave it unregistered.
            host(&[
                "ip", "link", "add", &a, "netns", &n.netns, "type", "veth", "peer", "name", &b,
                "netns", br,
            ])
            .await?;
            host(&["ip", "-n", br, "link", "set", &b, "master", "br0", "up"]).await?;
            host(&["ip", "-n", &n.netns, "link", "set", &a, "name", "eth0"]).await?;
            host(&[
                "ip",
                "-n",
                &n.netns,
                "addr",
                "add",
                &format!("{}/24", n.ip),
                "dev",
                "eth0",
            ])
            .await?;
            host(&["ip", "-n", &n.netns, "link", "set", "eth0", "up"]).await?;
            host(&["ip", "-n", &n.netns, "link", "set", "lo", "up"]).await?;
        }
        // The one link in the root namespace, registered before it is made.
        let (h, hp) = (self.host_link.clone(), format!("{}p", self.host_link));
        host(&[
            "ip", "link", "add", &h, "type", "veth", "peer", "name", &hp, "netns", br,
        ])
        .await?;
        host(&["ip", "-n", br, "link", "set", &hp, "master", "br0", "up"]).await?;
        host(&["ip", "addr", "add", &format!("{prefix}1/24"), "dev", &h]).await?;
        host(&["ip", "link", "set", &h, "up"]).await?;
        Ok(())
    }

    fn save_registry(&self) -> Result<()> {
        self.registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .save()
    }

    /// Remember a directory to delete at teardown (and by `ferret clean`).
    pub fn register_dir(&self, dir: PathBuf) -> Result<()> {
        self.registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .dirs
            .push(dir);
        self.save_registry()
    }

    pub fn node(&self, name: &str) -> Result<&Node> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| anyhow!("no node {name}"))
    }

    /// Run a shell command inside a node; exit status and combined output.
    pub async fn exec(
        &self,
        node: &Node,
        script: &str,
        stdin: Option<&str>,
    ) -> Result<(bool, String)> {
        let mut cmd = Command::new("ip");
        die_with_harness(&mut cmd);
        cmd.args(["netns", "exec", &node.netns, "sh", "-c", script])
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().context("cannot run ip netns exec")?;
        if let (Some(input), Some(mut w)) = (stdin, child.stdin.take()) {
            use tokio::io::AsyncWriteExt;
            w.write_all(input.as_bytes()).await?;
        }
        let out = child.wait_with_output().await?;
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok((out.status.success(), text))
    }

    /// Start a command inside a node without waiting; its stdout is piped, stderr inherited.
    pub fn exec_background(&self, node: &Node, script: &str) -> Result<Child> {
        Command::new("ip")
            .args(["netns", "exec", &node.netns, "sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {script} on {}", node.name))
    }

    /// Start a daemon inside a node, its output appended to `log`. Registered before it runs on.
    /// `script` is a shell line, meaning what it means in a shell (`VAR=1 cmd`, `a; b`); it runs
    /// in a process group of its own, the group the daemon's signals go to.
    pub async fn spawn_daemon(&self, node: &Node, script: &str, log: &Path) -> Result<Child> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new("ip")
            .args(["netns", "exec", &node.netns, "sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group: a Ctrl-C at the terminal reaches the harness, which tears
            // down in order, not the daemons directly.
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {} on {}", script, node.name))?;
        let pid = child.id().ok_or_else(|| anyhow!("daemon exited at once"))?;
        // The start time can only be read once the process exists; retry briefly.
        let mut start = None;
        for _ in 0..50 {
            start = process_start(pid);
            if start.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if let Some(start) = start {
            self.registry
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .processes
                .push(RegisteredProcess { pid, start });
            self.save_registry()?;
        }
        Ok(child)
    }

    /// Remove everything the run created. Safe to call twice; never fails, only reports.
    pub async fn teardown(&self) {
        let reg = self
            .registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        clean_registry(&reg).await;
        let _ = std::fs::remove_file(Registry::path(&self.run_id));
        // Only succeeds when no other run is registered.
        let _ = std::fs::remove_dir(REGISTRY_DIR);
    }
}

/// Remove what a registry lists: processes (only if still ours), links, namespaces, directories.
pub async fn clean_registry(reg: &Registry) -> Vec<String> {
    let mut removed = Vec::new();
    for p in &reg.processes {
        if kill_registered(p) {
            removed.push(format!("process {}", p.pid));
        }
    }
    // Killed processes keep their namespace until they are gone.
    for _ in 0..100 {
        if reg
            .processes
            .iter()
            .all(|p| process_start(p.pid) != Some(p.start))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Anything still running inside the run's own namespaces is the run's: a daemon started just
    // before the harness died, before its pid was registered.
    for ns in &reg.netns {
        let Ok(pids) = host(&["ip", "netns", "pids", ns]).await else {
            continue;
        };
        for pid in pids
            .split_whitespace()
            .filter_map(|p| p.parse::<u32>().ok())
        {
            signal(pid, libc::SIGCONT);
            if signal(pid, libc::SIGKILL) {
                removed.push(format!("process {pid} (in {ns})"));
            }
        }
    }
    for l in &reg.links {
        if host(&["ip", "link", "del", l]).await.is_ok() {
            removed.push(format!("link {l}"));
        }
    }
    for ns in &reg.netns {
        if host(&["ip", "netns", "del", ns]).await.is_ok() {
            removed.push(format!("namespace {ns}"));
        }
    }
    for d in &reg.dirs {
        if d.exists() && std::fs::remove_dir_all(d).is_ok() {
            removed.push(format!("directory {}", d.display()));
        }
    }
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        let n = ferret_nemesis::clock::sweep_stale();
        if n > 0 {
            removed.push(format!("{n} clock agent state file(s) of dead processes"));
        }
    }
    // Links vanish a moment after their namespace; wait so "nothing left" is true on return.
    for _ in 0..100 {
        let mut left = false;
        for l in &reg.links {
            if Path::new("/sys/class/net").join(l).exists() {
                left = true;
            }
        }
        if !left {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    removed
}

pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}
