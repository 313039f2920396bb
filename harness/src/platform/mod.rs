//! Platforms: where nodes live, and the few verbs everything above is built on.
//!
//! A platform gives each node a shell (`exec`), a long-running daemon with its output captured
//! (`spawn_daemon`), commands in the node's network namespace run from this machine (`net_exec`,
//! for nft), and file copies in and out. The db lifecycle, the nemesis (partitions, kills,
//! pauses, clocks) and `ferret clean` use these verbs only, the way Jepsen builds everything on
//! "run this on node n3". A daemon is a process group visible from this machine, so signals and
//! the clock agent (which patches a process by its host pid) work the same on every platform.
//!
//! - `local` (local.rs): each node a network namespace on this machine.
//! - `docker` (docker.rs): each node a container of `docker-compose.yml`.

mod docker;
pub mod flags;
pub mod image;
mod local;
pub mod preflight;
pub mod ssh;

use crate::config::Config;
use anyhow::{Context, Result};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, Command};

pub use docker::{clean_labelled, DockerPlatform};
pub use local::{attach_node, LocalPlatform};

pub const REGISTRY_DIR: &str = "/run/ferret";

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    /// Where clients and peers reach the node.
    pub ip: String,
    /// The node's data directory, as the node sees it (`{data_dir}` in commands).
    pub data_dir: PathBuf,
}

/// Where a node's fault file system lives, all on this machine.
#[derive(Clone, Debug)]
pub struct DiskPlace {
    pub backing: PathBuf,
    pub mountpoint: PathBuf,
    pub control: PathBuf,
}

/// A daemon started on a node: the launcher on this machine, the process group it runs in, and
/// how that group is reached.
pub struct Daemon {
    /// Ends when the daemon ends; its exit status is the shell line's.
    pub launcher: Child,
    /// The pid of the group leader, which is also the group's id, as `processes` sees it.
    pub group: u32,
    pub processes: Arc<dyn Processes>,
}

impl Daemon {
    /// A daemon whose group is a process group of this machine.
    pub fn on_host(launcher: Child, group: u32) -> Daemon {
        Daemon {
            launcher,
            group,
            processes: Arc::new(HostProcesses),
        }
    }

    pub async fn signal(&self, sig: i32) -> bool {
        self.processes.signal(self.group, sig).await
    }

    /// Whether the whole group is gone within `most`.
    pub async fn gone(&self, most: Duration) -> bool {
        self.processes.gone(self.group, most).await
    }

    /// Each member's state letter (`R`, `S`, `T` for stopped …), in pid order.
    pub async fn states(&self) -> String {
        self.processes.states(self.group).await
    }

    /// The system's own process in the group (what the clock agent patches).
    pub async fn main_pid(&self) -> Option<u32> {
        self.processes.main_pid(self.group).await
    }
}

/// How a daemon's process group is reached: signals, whether it is gone, its members. Local
/// and docker daemons are process groups of this machine (`HostProcesses`); a platform whose
/// nodes are elsewhere reaches them there.
#[async_trait]
pub trait Processes: Send + Sync {
    async fn signal(&self, group: u32, sig: i32) -> bool;
    async fn gone(&self, group: u32, most: Duration) -> bool;
    async fn states(&self, group: u32) -> String;
    async fn main_pid(&self, group: u32) -> Option<u32>;
}

/// Process groups of this machine, read from /proc and signalled with killpg.
pub struct HostProcesses;

#[async_trait]
impl Processes for HostProcesses {
    async fn signal(&self, group: u32, sig: i32) -> bool {
        signal_group(group, sig)
    }

    async fn gone(&self, group: u32, most: Duration) -> bool {
        wait_group_gone(group, most).await
    }

    async fn states(&self, group: u32) -> String {
        ferret_nemesis::proc::group_members(group)
            .iter()
            .filter_map(|p| ferret_nemesis::proc::stat_fields(&p.to_string()))
            .filter_map(|f| f.first().cloned())
            .collect()
    }

    async fn main_pid(&self, group: u32) -> Option<u32> {
        main_process(group)
    }
}

/// The node verbs. Everything a run does to nodes goes through these.
#[async_trait]
pub trait Platform: Send + Sync {
    fn kind(&self) -> &'static str;
    fn run_id(&self) -> &str;
    fn nodes(&self) -> &[Node];

    /// Run a shell line on a node: its exit status and combined output.
    async fn exec(&self, node: &Node, script: &str, stdin: Option<&str>) -> Result<(bool, String)>;

    /// The words that, put before a program's, run it in the node's network namespace from
    /// this machine (nft, tc and ferret's own probes need no tools or privileges inside the
    /// node this way).
    fn net_argv(&self, node: &Node) -> Result<Vec<String>>;

    /// Run a program in the node's network namespace, from this machine.
    async fn net_exec(
        &self,
        node: &Node,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<(bool, String)> {
        let mut full = self.net_argv(node)?;
        full.extend(args.iter().map(|a| a.to_string()));
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        host_combined(&full, stdin).await
    }

    /// Start a shell line on a node as a daemon, in a process group of its own, its output
    /// appended to `log` on this machine. Registered before it runs on.
    async fn spawn_daemon(&self, node: &Node, script: &str, log: &Path) -> Result<Daemon>;

    /// Copy a file from this machine into a node.
    // Nothing a run does needs copies yet (logs are captured live); they complete the verb set.
    #[allow(dead_code)]
    async fn copy_in(&self, node: &Node, local: &Path, remote: &Path) -> Result<()>;

    /// Copy a file out of a node to this machine.
    #[allow(dead_code)]
    async fn copy_out(&self, node: &Node, remote: &Path, local: &Path) -> Result<()>;

    /// Remove everything the run created. Safe to call twice; never fails, only reports.
    async fn teardown(&self);

    /// What the run has created so far, kept on disk for `ferret clean`.
    fn registry(&self) -> &SharedRegistry;

    /// Where a fault file system for `node` goes: its backing directory and mount point on
    /// this machine, and its control socket.
    fn disk_place(&self, node: &Node) -> Result<DiskPlace>;

    /// Run the clock agent (`ferret clock PID ARGS…`) against the process `pid` of `node`, to
    /// completion: its success, output and errors. By default this machine's own binary, since
    /// a local or docker node's processes are this machine's processes too.
    async fn clock_agent(
        &self,
        _node: &Node,
        pid: u32,
        args: &[String],
    ) -> Result<(bool, String, String)> {
        let agent = std::env::current_exe()
            .context("cannot find the ferret binary for the clock agent")?
            .display()
            .to_string();
        let pid = pid.to_string();
        let mut argv: Vec<&str> = vec![&agent, "clock", &pid];
        argv.extend(args.iter().map(String::as_str));
        host_status(&argv, None, true).await
    }

    /// Start the clock agent for a fault that changes clocks over time (strobe, drift): killed
    /// when the returned child is dropped or killed.
    fn clock_agent_job(&self, _node: &Node, pid: u32, args: &[String]) -> Result<Child> {
        let agent =
            std::env::current_exe().context("cannot find the ferret binary for the clock agent")?;
        Command::new(agent)
            .arg("clock")
            .arg(pid.to_string())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the clock agent")
    }

    /// The nodes' names, in order.
    fn names(&self) -> Vec<String> {
        self.nodes().iter().map(|n| n.name.clone()).collect()
    }

    fn node(&self, name: &str) -> Result<&Node> {
        self.nodes()
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| anyhow::anyhow!("no node {name}"))
    }
}

/// Make ready what the platform's nodes need before any exists: the local platform installs
/// the system on this machine (its nodes share this machine's files); the docker platform
/// builds its node image once per recipe (about a minute) and then reuses it; the ssh platform
/// checks its machines (`preflight`).
pub async fn prepare(config: &mut Config) -> Result<()> {
    match config.platform.kind.as_str() {
        "local" => local::install(&config.db).await,
        "docker" if config.platform.image.is_none() => {
            config.platform.image = Some(image::ensure(&config.db.packages).await?);
            Ok(())
        }
        // Machines ferret did not make: everything a run needs, checked before anything starts.
        "ssh" => {
            let failed: Vec<String> = preflight::checks(config)
                .await?
                .into_iter()
                .filter_map(|c| c.problem.map(|p| format!("{} {}: {p}", c.node, c.what)))
                .collect();
            if failed.is_empty() {
                Ok(())
            } else {
                anyhow::bail!(
                    "the nodes are not ready (ferret doctor says more):\n  {}",
                    failed.join("\n  ")
                )
            }
        }
        _ => Ok(()),
    }
}

/// Build the nodes of the platform the config names. On error nothing is left behind.
pub async fn create(config: &Config, run_id: &str) -> Result<Box<dyn Platform>> {
    let nodes = config.platform.nodes;
    Ok(match config.platform.kind.as_str() {
        "docker" => Box::new(DockerPlatform::create(run_id, nodes, config).await?),
        "ssh" => Box::new(
            ssh::SshPlatform::create(
                run_id,
                config
                    .platform
                    .ssh
                    .clone()
                    .unwrap_or_default()
                    .targets(nodes)?,
            )
            .await?,
        ),
        _ => Box::new(LocalPlatform::create(run_id, nodes).await?),
    })
}

// ---------------------------------------------------------------------------------------------
// The registry: what a run created, on disk before it is made.

/// What a run has created, kept on disk so it can be removed even if the harness dies.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Registry {
    pub run_id: String,
    pub harness_pid: u32,
    pub harness_start: u64,
    /// Network namespaces (local platform).
    #[serde(default)]
    pub netns: Vec<String>,
    /// Links in the root namespace (local platform).
    #[serde(default)]
    pub links: Vec<String>,
    /// The compose project whose containers, networks and volumes carry `ferret.run=<run_id>`
    /// (docker platform).
    #[serde(default)]
    pub docker_project: Option<String>,
    #[serde(default)]
    pub processes: Vec<RegisteredProcess>,
    /// Fault file systems mounted on this machine, unmounted before `dirs` are deleted.
    #[serde(default)]
    pub mounts: Vec<PathBuf>,
    /// Directories to delete (nodes' data).
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
    /// Machines reached over SSH (ssh platform), and the process groups started on them.
    #[serde(default)]
    pub ssh_nodes: Vec<ssh::Target>,
    #[serde(default)]
    pub remote_groups: Vec<ssh::RemoteGroup>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RegisteredProcess {
    pub pid: u32,
    /// Start time from /proc/<pid>/stat: a recycled pid never matches it.
    pub start: u64,
}

impl Registry {
    pub fn new(run_id: &str) -> Registry {
        Registry {
            run_id: run_id.to_string(),
            harness_pid: std::process::id(),
            harness_start: process_start(std::process::id()).unwrap_or(0),
            ..Registry::default()
        }
    }

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

    pub fn remove(&self) {
        let _ = std::fs::remove_file(Self::path(&self.run_id));
        // Only succeeds when no other run is registered.
        let _ = std::fs::remove_dir(REGISTRY_DIR);
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

/// A registry shared by a platform's tasks, saved on every change.
pub struct SharedRegistry(std::sync::Mutex<Registry>);

impl SharedRegistry {
    pub fn new(reg: Registry) -> Result<SharedRegistry> {
        reg.save()?;
        Ok(SharedRegistry(std::sync::Mutex::new(reg)))
    }

    pub fn update(&self, f: impl FnOnce(&mut Registry)) -> Result<()> {
        let mut reg = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut reg);
        reg.save()
    }

    pub fn snapshot(&self) -> Registry {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Record a daemon's process group as soon as its leader can be seen.
    pub async fn add_remote(&self, g: ssh::RemoteGroup) -> Result<()> {
        self.update(|r| r.remote_groups.push(g))
    }

    pub async fn add_process(&self, pid: u32) -> Result<()> {
        // The start time can only be read once the process exists; retry briefly.
        for _ in 0..50 {
            if let Some(start) = process_start(pid) {
                return self.update(|r| r.processes.push(RegisteredProcess { pid, start }));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(())
    }
}

/// Remove what a registry lists: processes (only if still ours), containers, links, namespaces,
/// directories. Returns what it removed.
pub async fn clean_registry(reg: &Registry) -> Vec<String> {
    let mut removed = Vec::new();
    for p in &reg.processes {
        if kill_registered(p) {
            removed.push(format!("process {}", p.pid));
        }
    }
    // Killed processes keep their namespace (and a mount, files they hold) until they are gone:
    // wait for every process of each group, not only the registered leader.
    for p in &reg.processes {
        if !wait_group_gone(p.pid, KILL_WAIT).await {
            removed.push(format!(
                "process group {} killed, but some of it was still there after {} s",
                p.pid,
                KILL_WAIT.as_secs()
            ));
        }
    }
    // A fault file system whose process is gone leaves a dead mount ("transport endpoint is
    // not connected"); a live one would block the data's removal.
    // Newest first: a fault file system before the shared directory it is mounted in.
    for m in reg.mounts.iter().rev() {
        if unmount(m) {
            removed.push(format!("mount {}", m.display()));
        }
    }
    if reg.docker_project.is_some() {
        removed.extend(clean_labelled(&reg.run_id).await);
    }
    if !reg.ssh_nodes.is_empty() {
        removed.extend(ssh::clean_nodes(reg).await);
    }
    removed.extend(local::clean(reg).await);
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
    removed
}

// ---------------------------------------------------------------------------------------------
// Processes on this machine.

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

/// How long teardown and `ferret clean` wait for a process they killed to be gone.
pub const KILL_WAIT: Duration = Duration::from_secs(10);

/// Become the reaper of the harness's orphaned descendants (PR_SET_CHILD_SUBREAPER): when a
/// daemon's launching shell dies first, the system it started is the harness's to reap, not
/// init's, so teardown can see it gone instead of leaving a zombie for a second or more.
pub fn adopt_orphans() {
    // SAFETY: prctl(2) with integer arguments; no memory is involved.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Whether `pid` is still there in a way that matters: alive, or a zombie of the harness's own
/// (which it then reaps). A zombie of another parent holds no file, mount or port any more, and
/// is its parent's to reap (in a container, its `sleep` pid 1 never does until it is removed).
fn lingers(pid: u32) -> bool {
    let Some(f) = ferret_nemesis::proc::stat_fields(&pid.to_string()) else {
        return false;
    };
    // State is field 3, the parent field 4.
    if f.first().map(String::as_str) != Some("Z") {
        return true;
    }
    if f.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(std::process::id()) {
        // SAFETY: waitpid(2) on one zombie child of ours, with no status pointer.
        let reaped = unsafe { libc::waitpid(pid as i32, std::ptr::null_mut(), libc::WNOHANG) };
        return reaped != pid as i32;
    }
    false
}

/// Wait, up to `most`, until process group `pgid` has nothing left that lingers (see
/// `lingers`). True when it is gone.
pub async fn wait_group_gone(pgid: u32, most: Duration) -> bool {
    let deadline = std::time::Instant::now() + most;
    loop {
        let left = ferret_nemesis::proc::group_members(pgid)
            .into_iter()
            .filter(|&pid| lingers(pid))
            .count();
        if left == 0 {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Whether `path` is a mount point now (as /proc/mounts lists it, octal escapes and all).
pub fn is_mounted(path: &Path) -> bool {
    let want = path.display().to_string().replace(' ', "\\040");
    std::fs::read_to_string("/proc/mounts")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split(' ').nth(1) == Some(want.as_str()))
}

/// Make `dir` a mount point of its own whose mounts propagate (`--make-shared`): a mount made
/// below it later, and its unmount, then reach every mount namespace that copied it as a slave —
/// the other nodes' namespaces (`ip netns exec` copies this machine's mounts), or containers
/// that bind it `rslave`. Register `dir` as a mount before calling this.
pub async fn share(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let d = dir.display().to_string();
    host(&["mount", "--bind", &d, &d]).await?;
    host(&["mount", "--make-shared", &d]).await?;
    Ok(())
}

/// Detach a mount if it is there (a dead FUSE mount included). True when one was removed.
pub fn unmount(path: &Path) -> bool {
    if !is_mounted(path) {
        return false;
    }
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: a valid C string; MNT_DETACH does not block on busy files.
    unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) == 0 }
}

/// Start a program on this machine as a registered daemon in a process group of its own that
/// dies with the harness, its output appended to `log`.
pub async fn spawn_host_daemon(
    registry: &SharedRegistry,
    args: &[String],
    log: &Path,
) -> Result<Daemon> {
    let (out, err) = log_files(log)?;
    let mut cmd = Command::new(&args[0]);
    die_with_harness(&mut cmd);
    let launcher = cmd
        .args(&args[1..])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot start {}", args[0]))?;
    let group = launcher
        .id()
        .ok_or_else(|| anyhow::anyhow!("{} exited at once", args[0]))?;
    registry.add_process(group).await?;
    Ok(Daemon::on_host(launcher, group))
}

/// Kill a registered daemon's process group if its leader is still the one we started.
pub fn kill_registered(p: &RegisteredProcess) -> bool {
    if process_start(p.pid) == Some(p.start) {
        signal_group(p.pid, libc::SIGCONT);
        return signal_group(p.pid, libc::SIGKILL);
    }
    false
}

/// The system's own process in a daemon's group: the oldest member that is not a launcher or a
/// shell (`ip`, `docker`, `setsid`, `sh`).
pub fn main_process(group: u32) -> Option<u32> {
    ferret_nemesis::proc::group_members(group)
        .into_iter()
        .find(|&pid| {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            let name = exe.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.is_empty() && !["ip", "sh", "dash", "bash", "setsid", "docker"].contains(&name)
        })
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

/// Make a helper command die with the harness: one that outlived a SIGKILLed harness could
/// create a namespace or link after `ferret clean` has already looked.
pub fn die_with_harness(cmd: &mut Command) -> &mut Command {
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
/// or an image build must not be cut halfway).
pub async fn host_command(args: &[&str], tied: bool) -> Result<String> {
    let (ok, out, err) = host_status(args, None, tied).await?;
    if !ok {
        anyhow::bail!("`{}` failed: {}", args.join(" "), err.trim());
    }
    Ok(out)
}

/// Run a command on this machine with optional input: (success, stdout then stderr).
pub async fn host_combined(args: &[&str], stdin: Option<&str>) -> Result<(bool, String)> {
    let (ok, mut out, err) = host_status(args, stdin, true).await?;
    out.push_str(&err);
    Ok((ok, out))
}

/// Run a command on this machine with optional input: (success, stdout, stderr).
pub async fn host_status(
    args: &[&str],
    stdin: Option<&str>,
    tied: bool,
) -> Result<(bool, String, String)> {
    let mut cmd = Command::new(args[0]);
    if tied {
        die_with_harness(&mut cmd);
    }
    cmd.args(&args[1..])
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {}", args[0]))?;
    if let (Some(input), Some(mut w)) = (stdin, child.stdin.take()) {
        use tokio::io::AsyncWriteExt;
        w.write_all(input.as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Open a daemon's log for appending (stdout and stderr both).
pub fn log_files(log: &Path) -> Result<(std::fs::File, std::fs::File)> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    let err = out.try_clone()?;
    Ok((out, err))
}

pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// A /24 in 10.`second`.0.0/16 that no route on this machine uses.
pub async fn free_subnet(run_id: &str, second: u8) -> Result<String> {
    let routes = host(&["ip", "-4", "route", "show", "table", "all"]).await?;
    let seed = run_id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    for i in 0..256u32 {
        let third = (seed + i) % 250 + 1;
        let prefix = format!("10.{second}.{third}.");
        if !routes.contains(&prefix) {
            return Ok(prefix);
        }
    }
    anyhow::bail!("no free /24 in 10.{second}.0.0/16 for the run's nodes")
}
