//! The system under test's lifecycle on the nodes: install, start, wait until ready, kill,
//! restart, pause, resume.

use crate::config::DbConfig;
use crate::platform::{host, signal, LocalPlatform, Node};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::process::Child;
use tokio::sync::Mutex;

/// Fill a command template's placeholders for one node.
pub fn expand(
    template: &str,
    node: &Node,
    data_dir: &Path,
    initial_cluster: &str,
    run_id: &str,
) -> String {
    template
        .replace("{node}", &node.name)
        .replace("{ip}", &node.ip)
        .replace("{data_dir}", &data_dir.display().to_string())
        .replace("{initial_cluster}", initial_cluster)
        .replace("{run_id}", run_id)
}

/// Install the system if its check fails. Runs on this machine.
pub async fn install(db: &DbConfig) -> Result<()> {
    let Some(inst) = &db.install else {
        return Ok(());
    };
    if host(&["sh", "-c", &inst.check]).await.is_ok() {
        return Ok(());
    }
    eprintln!(
        "ferret: {} is not installed; running: {}",
        db.name, inst.run
    );
    host(&["sh", "-c", &inst.run])
        .await
        .with_context(|| format!("installing {} failed", db.name))?;
    host(&["sh", "-c", &inst.check])
        .await
        .with_context(|| format!("{} is still not installed after `{}`", db.name, inst.run))?;
    Ok(())
}

pub struct Db {
    pub config: DbConfig,
    nodes_dir: PathBuf,
    initial_cluster: String,
    run_id: String,
    /// The running daemon per node; `None` while killed.
    daemons: Mutex<BTreeMap<String, Option<Child>>>,
}

impl Db {
    pub fn new(config: DbConfig, platform: &LocalPlatform, nodes_dir: PathBuf) -> Db {
        let initial_cluster = platform
            .nodes
            .iter()
            .map(|n| {
                expand(
                    &config.initial_cluster_member,
                    n,
                    Path::new(""),
                    "",
                    &platform.run_id,
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        Db {
            config,
            nodes_dir,
            initial_cluster,
            run_id: platform.run_id.clone(),
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

    /// Node data lives outside the store (it is large and removed at teardown).
    pub fn data_dir(&self, node: &Node) -> PathBuf {
        PathBuf::from(format!("/var/tmp/ferret-{}/{}", self.run_id, node.name))
    }

    pub fn client_url(&self, node: &Node) -> String {
        expand(
            &self.config.client_url,
            node,
            Path::new(""),
            "",
            &self.run_id,
        )
    }

    pub async fn start(&self, platform: &LocalPlatform, node: &Node) -> Result<()> {
        std::fs::create_dir_all(self.node_dir(node))?;
        let data = self.data_dir(node);
        std::fs::create_dir_all(&data)
            .with_context(|| format!("cannot create {}", data.display()))?;
        let cmd = expand(
            &self.config.start,
            node,
            &data,
            &self.initial_cluster,
            &self.run_id,
        );
        let child = platform
            .spawn_daemon(node, &cmd, &self.log_path(node))
            .await?;
        self.daemons
            .lock()
            .await
            .insert(node.name.clone(), Some(child));
        Ok(())
    }

    /// Wait until every node's ready command succeeds; on timeout, name the node and show its log.
    pub async fn wait_ready(&self, platform: &LocalPlatform, nodes: &[Node]) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs_f64(self.config.ready_timeout);
        for node in nodes {
            let cmd = expand(
                &self.config.ready,
                node,
                &self.data_dir(node),
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
                        out.trim(),
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
            Some(Some(child)) => child.try_wait().ok().flatten().map(|s| s.to_string()),
            _ => None,
        }
    }

    pub fn log_tail(&self, node: &Node) -> String {
        let text = std::fs::read_to_string(self.log_path(node)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    pub async fn pid(&self, node: &Node) -> Option<u32> {
        self.daemons.lock().await.get(&node.name)?.as_ref()?.id()
    }

    /// SIGKILL the node's daemon and reap it.
    pub async fn kill(&self, node: &Node) {
        let child = self
            .daemons
            .lock()
            .await
            .get_mut(&node.name)
            .and_then(Option::take);
        if let Some(mut child) = child {
            if let Some(pid) = child.id() {
                signal(pid, libc::SIGCONT);
            }
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    pub async fn is_running(&self, node: &Node) -> bool {
        matches!(self.daemons.lock().await.get(&node.name), Some(Some(_)))
    }

    pub async fn pause(&self, node: &Node) {
        if let Some(pid) = self.pid(node).await {
            signal(pid, libc::SIGSTOP);
        }
    }

    pub async fn resume(&self, node: &Node) {
        if let Some(pid) = self.pid(node).await {
            signal(pid, libc::SIGCONT);
        }
    }

    pub async fn kill_all(&self, nodes: &[Node]) {
        for n in nodes {
            self.kill(n).await;
        }
    }
}
