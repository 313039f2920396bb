//! `platform: ssh`: nodes are machines reached over SSH, with OpenSSH's own `ssh` client. One
//! master connection per node (ControlMaster) carries every command as a channel of its own,
//! so a command costs a channel, not a handshake; host keys are checked against known_hosts
//! (`StrictHostKeyChecking=yes` unless `accept_new_host_keys`); keys come from the agent or
//! `key`; a user other than root runs everything through `sudo -n`. A command whose connection
//! failed (ssh's exit 255) is retried with backoff; one that ran and failed is not.
//!
//! On each node the run owns `/var/tmp/ferret-<run id>` (data directories, pid files, the clock
//! agent's binary) and nft's `inet ferret` table; a daemon is a remote process group whose
//! leader's pid and start time are registered, so `ferret clean` can remove exactly these after
//! the harness was killed.

use super::{host_status, Daemon, DiskPlace, Node, Platform, Processes, Registry, SharedRegistry};
use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Command;

/// How to reach one node.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Target {
    pub name: String,
    pub host: String,
    pub user: String,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_hosts: Option<PathBuf>,
    #[serde(default)]
    pub accept_new_host_keys: bool,
}

/// A remote process group the run started: node index, leader pid and start time.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RemoteGroup {
    pub node: usize,
    pub pid: u32,
    pub start: u64,
}

/// One node's connection: the words that run a command there through the master.
#[derive(Clone, Debug)]
pub struct Conn {
    pub target: Target,
    control: PathBuf,
}

/// A shell word, single-quoted.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Conn {
    pub fn new(target: Target, control_dir: &Path) -> Conn {
        let control = control_dir.join(format!("ssh-{}", target.name));
        Conn { target, control }
    }

    /// `ssh` and its options, up to and including the destination.
    pub fn argv(&self) -> Vec<String> {
        let t = &self.target;
        let mut a: Vec<String> = vec![
            "ssh".into(),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            format!("ControlPath={}", self.control.display()),
            "-o".into(),
            "ControlMaster=auto".into(),
            "-o".into(),
            "ControlPersist=300".into(),
            "-o".into(),
            "ConnectTimeout=5".into(),
            "-o".into(),
            "ServerAliveInterval=5".into(),
            "-o".into(),
            format!(
                "StrictHostKeyChecking={}",
                if t.accept_new_host_keys {
                    "accept-new"
                } else {
                    "yes"
                }
            ),
            "-p".into(),
            t.port.to_string(),
        ];
        if let Some(k) = &t.known_hosts {
            a.extend(["-o".into(), format!("UserKnownHostsFile={}", k.display())]);
        }
        if let Some(k) = &t.key {
            a.extend([
                "-i".into(),
                k.display().to_string(),
                "-o".into(),
                "IdentitiesOnly=yes".into(),
            ]);
        }
        a.push(format!("{}@{}", t.user, t.host));
        a
    }

    /// A shell line as the node runs it: as root, through `sudo -n` when the user is not root.
    pub fn remote_line(&self, script: &str) -> String {
        if self.target.user == "root" {
            format!("sh -c {}", quote(script))
        } else {
            format!("sudo -n sh -c {}", quote(script))
        }
    }

    /// Run a shell line on the node: success, output, errors. Retried with backoff while ssh
    /// itself fails (exit 255: no connection), never once the command ran.
    pub async fn run(&self, script: &str, stdin: Option<&str>) -> Result<(bool, String, String)> {
        let mut argv = self.argv();
        argv.push(self.remote_line(script));
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        let mut wait = Duration::from_millis(200);
        for attempt in 0..4 {
            let (ok, out, err) = host_status(&words, stdin, true).await?;
            // ssh's own complaints (it prefixes them `ssh:`) are about the connection.
            let transient = err.contains("ssh:") || ssh_failed(&err);
            if ok || attempt == 3 || !transient {
                return Ok((ok, out, err));
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        unreachable!("the last attempt returns")
    }

    /// Close the master connection.
    pub async fn close(&self) {
        let mut argv = self.argv();
        let dest = argv.pop().unwrap_or_default();
        argv.extend(["-O".into(), "exit".into(), dest]);
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        let _ = host_status(&words, None, true).await;
    }
}

/// Whether ssh's own error output says the connection, not the command, failed.
fn ssh_failed(err: &str) -> bool {
    [
        "Connection refused",
        "Connection timed out",
        "Connection reset",
        "No route to host",
        "kex_exchange_identification",
        "mux_client",
        "Control socket",
    ]
    .iter()
    .any(|m| err.contains(m))
}

pub struct SshPlatform {
    run_id: String,
    nodes: Vec<Node>,
    conns: Vec<Conn>,
    registry: SharedRegistry,
    /// The run's directory on every node.
    root: PathBuf,
    /// The nodes this machine's ferret was uploaded to (the clock agent, the probes).
    agent: tokio::sync::Mutex<std::collections::HashSet<String>>,
}

/// The run's directory on a node.
pub fn remote_root(run_id: &str) -> PathBuf {
    PathBuf::from(format!("/var/tmp/ferret-{run_id}"))
}

impl SshPlatform {
    pub async fn create(run_id: &str, targets: Vec<Target>) -> Result<SshPlatform> {
        if targets.is_empty() {
            bail!(
                "platform ssh has no nodes: list them in platform.ssh.hosts or give --nodes-file"
            );
        }
        let control_dir = PathBuf::from(super::REGISTRY_DIR).join(format!("{run_id}-ssh"));
        std::fs::create_dir_all(&control_dir)?;
        let root = remote_root(run_id);
        let registry = SharedRegistry::new(Registry {
            ssh_nodes: targets.clone(),
            ..Registry::new(run_id)
        })?;
        let conns: Vec<Conn> = targets
            .iter()
            .map(|t| Conn::new(t.clone(), &control_dir))
            .collect();
        let nodes: Vec<Node> = targets
            .iter()
            .map(|t| Node {
                name: t.name.clone(),
                ip: t.host.clone(),
                data_dir: root.join(&t.name),
            })
            .collect();
        let p = SshPlatform {
            run_id: run_id.to_string(),
            nodes,
            conns,
            registry,
            root,
            agent: Default::default(),
        };
        // Open every master connection and make the run's directory, all nodes at once.
        let made = futures::future::join_all(p.conns.iter().zip(&p.nodes).map(|(c, n)| {
            let dir = n.data_dir.display().to_string();
            async move {
                let (ok, _, err) = c.run(&format!("mkdir -p {}", quote(&dir)), None).await?;
                if ok {
                    Ok(())
                } else {
                    Err(anyhow!(
                        "{} ({}): {}",
                        c.target.name,
                        c.target.host,
                        err.trim()
                    ))
                }
            }
        }))
        .await;
        if let Some(e) = made.into_iter().find_map(Result::err) {
            p.teardown().await;
            return Err(e.context("cannot reach the nodes over SSH (try ferret doctor)"));
        }
        Ok(p)
    }

    fn conn(&self, node: &Node) -> Result<&Conn> {
        self.nodes
            .iter()
            .position(|n| n.name == node.name)
            .map(|i| &self.conns[i])
            .ok_or_else(|| anyhow!("no node {}", node.name))
    }

    /// This machine's ferret on `node`, uploaded once per run into the run's directory.
    async fn agent_on(&self, node: &Node) -> Result<String> {
        let remote = self.root.join("ferret").display().to_string();
        let mut uploaded = self.agent.lock().await;
        if uploaded.contains(&node.name) {
            return Ok(remote);
        }
        let conn = self.conn(node)?;
        let (present, _, _) = conn
            .run(&format!("test -x {}", quote(&remote)), None)
            .await?;
        if !present {
            let local = std::env::current_exe()?;
            self.copy_in(node, &local, Path::new(&remote)).await?;
            conn.run(&format!("chmod 755 {}", quote(&remote)), None)
                .await?;
        }
        uploaded.insert(node.name.clone());
        Ok(remote)
    }
}

/// A daemon's group on a node: signalled, probed and read there.
struct RemoteProcesses {
    conn: Conn,
}

#[async_trait]
impl Processes for RemoteProcesses {
    async fn signal(&self, group: u32, sig: i32) -> bool {
        self.conn
            .run(&format!("kill -{sig} -{group}"), None)
            .await
            .is_ok_and(|r| r.0)
    }

    async fn gone(&self, group: u32, most: Duration) -> bool {
        // One remote loop, not a round trip per look.
        let tenths = (most.as_millis() / 100).max(1);
        let script = format!(
            "i=0; while kill -0 -{group} 2>/dev/null; do i=$((i+1)); \
             [ $i -ge {tenths} ] && exit 1; sleep 0.1; done; exit 0"
        );
        self.conn.run(&script, None).await.is_ok_and(|r| r.0)
    }

    async fn states(&self, group: u32) -> String {
        match self
            .conn
            .run(&format!("ps -o stat= -g {group}"), None)
            .await
        {
            Ok((_, out, _)) => out
                .lines()
                .filter_map(|l| l.trim().chars().next())
                .collect(),
            Err(_) => String::new(),
        }
    }

    async fn main_pid(&self, group: u32) -> Option<u32> {
        let (_, out, _) = self
            .conn
            .run(&format!("ps -o pid=,comm= -g {group}"), None)
            .await
            .ok()?;
        out.lines().find_map(|l| {
            let mut w = l.split_whitespace();
            let pid = w.next()?.parse().ok()?;
            let comm = w.next().unwrap_or("");
            (!["sh", "dash", "bash", "setsid"].contains(&comm)).then_some(pid)
        })
    }
}

#[async_trait]
impl Platform for SshPlatform {
    fn kind(&self) -> &'static str {
        "ssh"
    }

    fn run_id(&self) -> &str {
        &self.run_id
    }

    fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    async fn exec(&self, node: &Node, script: &str, stdin: Option<&str>) -> Result<(bool, String)> {
        let (ok, out, err) = self.conn(node)?.run(script, stdin).await?;
        Ok((ok, format!("{out}{err}")))
    }

    /// Programs for the node's network namespace run on the node itself, over SSH.
    fn net_argv(&self, node: &Node) -> Result<Vec<String>> {
        let c = self.conn(node)?;
        let mut a = c.argv();
        if c.target.user != "root" {
            a.extend(["sudo".into(), "-n".into()]);
        }
        Ok(a)
    }

    async fn net_exec(
        &self,
        node: &Node,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<(bool, String)> {
        // This machine's ferret (the probes) runs as the node's uploaded copy.
        let mut words: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let local = std::env::current_exe()?.display().to_string();
        if words.first() == Some(&local) {
            words[0] = self.agent_on(node).await?;
        }
        let line = words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
        self.exec(node, &line, stdin).await
    }

    async fn spawn_daemon(&self, node: &Node, script: &str, log: &Path) -> Result<Daemon> {
        let conn = self.conn(node)?.clone();
        let pidfile = self
            .root
            .join(format!("{}.daemon.pid", node.name))
            .display()
            .to_string();
        conn.run(&format!("rm -f {}", quote(&pidfile)), None)
            .await?;
        // setsid -w: a group of its own on the node, and the ssh channel lives as long as it.
        let inner = format!(
            "echo $$ > {}; exec sh -c {}",
            quote(&pidfile),
            quote(script)
        );
        let line = format!("setsid -w sh -c {}", quote(&inner));
        let mut argv = conn.argv();
        argv.push(conn.remote_line(&line));
        let (out, err) = super::log_files(log)?;
        let mut cmd = Command::new(&argv[0]);
        super::die_with_harness(&mut cmd);
        let mut launcher = cmd
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start ssh to {}", node.name))?;
        for _ in 0..100 {
            let (ok, text, _) = conn
                .run(
                    &format!(
                        "p=$(cat {} 2>/dev/null) && [ -n \"$p\" ] && echo $p $(cut -d' ' -f22 /proc/$p/stat)",
                        quote(&pidfile)
                    ),
                    None,
                )
                .await?;
            let mut w = text.split_whitespace();
            if let (true, Some(Ok(pid)), Some(Ok(start))) = (
                ok,
                w.next().map(str::parse::<u32>),
                w.next().map(str::parse::<u64>),
            ) {
                let index = self
                    .nodes
                    .iter()
                    .position(|n| n.name == node.name)
                    .unwrap_or(0);
                self.registry
                    .add_remote(RemoteGroup {
                        node: index,
                        pid,
                        start,
                    })
                    .await?;
                return Ok(Daemon {
                    launcher,
                    group: pid,
                    processes: Arc::new(RemoteProcesses { conn }),
                });
            }
            if let Ok(Some(status)) = launcher.try_wait() {
                bail!("{script} on {} ended at once ({status})", node.name);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = launcher.start_kill();
        bail!("{} never said which process group it started", node.name)
    }

    async fn copy_in(&self, node: &Node, local: &Path, remote: &Path) -> Result<()> {
        let c = self.conn(node)?;
        let mut argv = c.argv();
        argv.push(c.remote_line(&format!("cat > {}", quote(&remote.display().to_string()))));
        let file = std::fs::File::open(local)
            .with_context(|| format!("cannot read {}", local.display()))?;
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(file)
            .stdout(Stdio::null())
            .status()
            .await?;
        if !status.success() {
            bail!(
                "cannot copy {} to {}:{}",
                local.display(),
                node.name,
                remote.display()
            );
        }
        Ok(())
    }

    async fn copy_out(&self, node: &Node, remote: &Path, local: &Path) -> Result<()> {
        let c = self.conn(node)?;
        let mut argv = c.argv();
        argv.push(c.remote_line(&format!("cat {}", quote(&remote.display().to_string()))));
        let file = std::fs::File::create(local)
            .with_context(|| format!("cannot write {}", local.display()))?;
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .stdout(file)
            .status()
            .await?;
        if !status.success() {
            bail!(
                "cannot copy {}:{} to {}",
                node.name,
                remote.display(),
                local.display()
            );
        }
        Ok(())
    }

    async fn teardown(&self) {
        let reg = self.registry.snapshot();
        for line in clean_nodes(&reg).await {
            eprintln!("ferret: {line}");
        }
        for c in &self.conns {
            c.close().await;
        }
        let _ = std::fs::remove_dir_all(
            PathBuf::from(super::REGISTRY_DIR).join(format!("{}-ssh", self.run_id)),
        );
        reg.remove();
    }

    fn registry(&self) -> &SharedRegistry {
        &self.registry
    }

    fn disk_place(&self, node: &Node) -> Result<DiskPlace> {
        bail!(
            "the fault file system runs on this machine; on platform ssh ({}) disk faults are not \
             supported yet",
            node.name
        )
    }

    async fn clock_agent(
        &self,
        node: &Node,
        pid: u32,
        args: &[String],
    ) -> Result<(bool, String, String)> {
        let agent = self.agent_on(node).await?;
        self.conn(node)?
            .run(&agent_line(&agent, pid, args), None)
            .await
    }

    fn clock_agent_job(
        &self,
        node: &Node,
        pid: u32,
        args: &[String],
    ) -> Result<tokio::process::Child> {
        // Uploaded by the fault's first step (a set), which always precedes a strobe or drift.
        let c = self.conn(node)?;
        let agent = self.root.join("ferret").display().to_string();
        let mut argv = c.argv();
        argv.push(c.remote_line(&agent_line(&agent, pid, args)));
        Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the clock agent over ssh")
    }
}

/// The clock agent's command line on a node.
fn agent_line(agent: &str, pid: u32, args: &[String]) -> String {
    let mut line = format!("{} clock {pid}", quote(agent));
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    line
}

/// Remove what a run made on its nodes: the process groups it registered (each checked by its
/// start time), nft's `inet ferret` table, the run's directory. Nothing else.
pub async fn clean_nodes(reg: &Registry) -> Vec<String> {
    let mut said = Vec::new();
    let root = remote_root(&reg.run_id).display().to_string();
    let dir = PathBuf::from(super::REGISTRY_DIR).join(format!("{}-ssh", reg.run_id));
    let _ = std::fs::create_dir_all(&dir);
    for (i, t) in reg.ssh_nodes.iter().enumerate() {
        let conn = Conn::new(t.clone(), &dir);
        let mut script = String::new();
        for g in reg.remote_groups.iter().filter(|g| g.node == i) {
            script.push_str(&format!(
                "[ \"$(cut -d' ' -f22 /proc/{p}/stat 2>/dev/null)\" = {s} ] && \
                 kill -CONT -{p} 2>/dev/null; [ \"$(cut -d' ' -f22 /proc/{p}/stat 2>/dev/null)\" = {s} ] && \
                 kill -KILL -{p} 2>/dev/null && echo killed {p}; ",
                p = g.pid,
                s = g.start
            ));
        }
        script.push_str(&format!(
            "nft delete table inet ferret 2>/dev/null; rm -rf {}; true",
            quote(&root)
        ));
        match conn.run(&script, None).await {
            Ok((_, out, _)) => {
                for l in out.lines().filter(|l| l.starts_with("killed")) {
                    said.push(format!("{} ({}): {l}", t.name, t.host));
                }
            }
            Err(e) => said.push(format!("{} ({}): not cleaned: {e:#}", t.name, t.host)),
        }
        conn.close().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    said
}
