//! The system under test's lifecycle on the nodes: install, start, wait until ready, kill,
//! restart, pause, resume — all on the platform's node verbs.

use crate::config::DbConfig;
use crate::platform::{printable, Daemon, Node, Platform, KILL_WAIT};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Fill a command template's placeholders for one node.
pub fn expand(
    template: &str,
    node: &Node,
    first: &Node,
    initial_cluster: &str,
    run_id: &str,
) -> String {
    template
        .replace("{node}", &node.name)
        .replace("{ip}", &node.ip)
        .replace("{first_ip}", &first.ip)
        .replace("{data_dir}", &node.data_dir.display().to_string())
        .replace("{initial_cluster}", initial_cluster)
        .replace("{run_id}", run_id)
}

pub struct Db {
    pub config: DbConfig,
    nodes_dir: PathBuf,
    initial_cluster: String,
    run_id: String,
    /// n1, whose address `{first_ip}` names.
    first: Node,
    /// The running daemon per node; `None` while killed.
    daemons: Mutex<BTreeMap<String, Option<Daemon>>>,
}

impl Db {
    pub fn new(config: DbConfig, platform: &dyn Platform, nodes_dir: PathBuf) -> Db {
        let initial_cluster = platform
            .nodes()
            .iter()
            .map(|n| {
                expand(
                    &config.initial_cluster_member,
                    n,
                    &platform.nodes()[0],
                    "",
                    platform.run_id(),
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        Db {
            config,
            nodes_dir,
            initial_cluster,
            run_id: platform.run_id().to_string(),
            first: platform.nodes()[0].clone(),
            daemons: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn node_dir(&self, node: &Node) -> PathBuf {
        self.nodes_dir.join(&node.name)
    }

    fn log_path(&self, node: &Node) -> PathBuf {
        self.node_dir(node)
            .join(format!("{}.log", self.config.name))
    }

    /// A command template filled in for one node.
    pub fn expand(&self, template: &str, node: &Node) -> String {
        expand(
            template,
            node,
            &self.first,
            &self.initial_cluster,
            &self.run_id,
        )
    }

    pub fn client_url(&self, node: &Node) -> String {
        expand(&self.config.client_url, node, &self.first, "", &self.run_id)
    }

    /// A template for one node acting on another (`{target}`, `{target_ip}`): a membership
    /// change run on a member.
    pub fn expand_on(&self, template: &str, node: &Node, target: &Node) -> String {
        self.expand(
            &template
                .replace("{target}", &target.name)
                .replace("{target_ip}", &target.ip),
            node,
        )
    }

    /// `{initial_cluster}` for a cluster of `members`.
    pub fn initial_cluster_of(&self, members: &[&Node]) -> String {
        members
            .iter()
            .map(|n| {
                expand(
                    &self.config.initial_cluster_member,
                    n,
                    &self.first,
                    "",
                    &self.run_id,
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Start the system on a node; `again` after a kill (the `restart` line, if the config has one).
    pub async fn start(&self, platform: &dyn Platform, node: &Node, again: bool) -> Result<()> {
        let line = match (&self.config.restart, again) {
            (Some(restart), true) => restart,
            _ => &self.config.start,
        };
        let cmd = expand(line, node, &self.first, &self.initial_cluster, &self.run_id);
        self.spawn(platform, node, &cmd).await
    }

    /// Start a node the nemesis added to the running cluster of `members` (itself among them),
    /// with the `join` line.
    pub async fn join(
        &self,
        platform: &dyn Platform,
        node: &Node,
        members: &[&Node],
    ) -> Result<()> {
        let line = self
            .config
            .join
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("db.join is not set"))?;
        let cmd = expand(
            line,
            node,
            &self.first,
            &self.initial_cluster_of(members),
            &self.run_id,
        );
        self.spawn(platform, node, &cmd).await
    }

    async fn spawn(&self, platform: &dyn Platform, node: &Node, cmd: &str) -> Result<()> {
        std::fs::create_dir_all(self.node_dir(node))?;
        let daemon = platform
            .spawn_daemon(node, cmd, &self.log_path(node))
            .await?;
        self.daemons
            .lock()
            .await
            .insert(node.name.clone(), Some(daemon));
        Ok(())
    }

    /// The system's version, from the config's `version` command run on `node`: its first line.
    /// A command that fails is said out loud and leaves the version unknown.
    pub async fn version(&self, platform: &dyn Platform, node: &Node) -> Option<String> {
        let cmd = self.expand(self.config.version.as_ref()?, node);
        match platform.exec(node, &cmd, None).await {
            Ok((true, out)) => out
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| l.chars().take(200).collect()),
            Ok((false, out)) => {
                eprintln!(
                    "warning: db.version ({cmd}) failed on {}: {}",
                    node.name,
                    out.trim()
                );
                None
            }
            Err(e) => {
                eprintln!("warning: db.version ({cmd}) on {}: {e:#}", node.name);
                None
            }
        }
    }

    /// Wait until every node's ready command succeeds; on timeout, name the node and show its log.
    pub async fn wait_ready(&self, platform: &dyn Platform, nodes: &[Node]) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs_f64(self.config.ready_timeout);
        for node in nodes {
            let cmd = expand(
                &self.config.ready,
                node,
                &self.first,
                &self.initial_cluster,
                &self.run_id,
            );
            loop {
                let (ok, out) = platform.exec(node, &cmd, None).await?;
                if ok {
                    break;
                }
                if let Some(status) = self.exited(node).await {
                    bail!(
                        "{} on {} exited ({status}) before it was ready; end of its log:\n{}",
                        self.config.name,
                        node.name,
                        self.log_tail(node)
                    );
                }
                if Instant::now() > deadline {
                    bail!(
                        "{} on {} was not ready after {} s (`{cmd}` said: {}); end of its log:\n{}",
                        self.config.name,
                        node.name,
                        self.config.ready_timeout,
                        printable(out.trim()),
                        self.log_tail(node)
                    );
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }

    async fn exited(&self, node: &Node) -> Option<String> {
        let mut d = self.daemons.lock().await;
        match d.get_mut(&node.name) {
            Some(Some(daemon)) => daemon
                .launcher
                .try_wait()
                .ok()
                .flatten()
                .map(|s| s.to_string()),
            _ => None,
        }
    }

    /// The end of a node's log, safe to print.
    pub fn log_tail(&self, node: &Node) -> String {
        let bytes = std::fs::read(self.log_path(node)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        printable(&lines[lines.len().saturating_sub(15)..].join("\n"))
    }

    /// The daemon's process group (its shell line and everything it started).
    pub async fn group(&self, node: &Node) -> Option<u32> {
        Some(self.daemons.lock().await.get(&node.name)?.as_ref()?.group)
    }

    /// The system's own process, by its pid as the node's platform sees it (what the clock
    /// agent patches).
    pub async fn pid(&self, node: &Node) -> Option<u32> {
        self.daemons
            .lock()
            .await
            .get(&node.name)?
            .as_ref()?
            .main_pid()
            .await
    }

    /// The state letters of the daemon's processes (`T` when stopped); empty when none runs.
    pub async fn states(&self, node: &Node) -> String {
        match self.daemons.lock().await.get(&node.name) {
            Some(Some(d)) => d.states().await,
            _ => String::new(),
        }
    }

    /// Send `sig` to the daemon's whole group, if it runs.
    async fn signal(&self, node: &Node, sig: i32) {
        if let Some(Some(d)) = self.daemons.lock().await.get(&node.name) {
            d.signal(sig).await;
        }
    }

    /// SIGKILL the node's daemon (its whole group) and reap it.
    pub async fn kill(&self, node: &Node) {
        let daemon = self
            .daemons
            .lock()
            .await
            .get_mut(&node.name)
            .and_then(Option::take);
        if let Some(mut daemon) = daemon {
            daemon.signal(libc::SIGCONT).await;
            daemon.signal(libc::SIGKILL).await;
            let _ = daemon.launcher.start_kill();
            let _ = daemon.launcher.wait().await;
            // The system the launcher started may outlive it by a moment: a kill is done when
            // the whole group is gone (reaped, not a zombie).
            if !daemon.gone(KILL_WAIT).await {
                eprintln!(
                    "warning: {}'s process group {} was still there {} s after SIGKILL",
                    node.name,
                    daemon.group,
                    KILL_WAIT.as_secs()
                );
            }
        }
    }

    pub async fn is_running(&self, node: &Node) -> bool {
        matches!(self.daemons.lock().await.get(&node.name), Some(Some(_)))
    }

    pub async fn pause(&self, node: &Node) {
        self.signal(node, libc::SIGSTOP).await;
    }

    pub async fn resume(&self, node: &Node) {
        self.signal(node, libc::SIGCONT).await;
    }

    pub async fn kill_all(&self, nodes: &[Node]) {
        for n in nodes {
            self.kill(n).await;
        }
    }
}
