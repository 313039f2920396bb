//! The local platform: each node is a network namespace on this machine.
//!
//! The nodes' veths meet on a bridge that lives in a namespace of its own, and the harness reaches
//! that bridge through one veth from the root namespace. So no firewall rule is ever added to the
//! root namespace (where Docker's FORWARD policy might drop bridged traffic), and partitions are
//! nft rules inside each node's own namespace.
//!
//! Everything created is named after the run and written to a registry file under
//! `/run/ferret/` before it is made, so `ferret clean` can remove exactly that after a crash.

use super::{
    free_subnet, host, host_combined, log_files, signal, which, Daemon, DiskPlace, Node, Platform,
    Registry, SharedRegistry,
};
use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

pub struct LocalPlatform {
    run_id: String,
    nodes: Vec<Node>,
    /// Each node's network namespace, by node index.
    netns: Vec<String>,
    bridge_ns: String,
    host_link: String,
    registry: SharedRegistry,
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
        let prefix = free_subnet(run_id, 213).await?;
        let short = &run_id[run_id.len().saturating_sub(6)..];
        let data_root = PathBuf::from(format!("/var/tmp/ferret-{run_id}"));
        let nodes: Vec<Node> = (1..=count)
            .map(|i| Node {
                name: format!("n{i}"),
                ip: format!("{prefix}{}", 10 + i),
                data_dir: data_root.join(format!("n{i}")),
            })
            .collect();
        let netns: Vec<String> = (1..=count)
            .map(|i| format!("ferret-{run_id}-n{i}"))
            .collect();
        let bridge_ns = format!("ferret-{run_id}-br");
        let host_link = format!("fr{short}h");
        // Registered before anything exists, so a crash halfway is still cleanable.
        let registry = SharedRegistry::new(Registry {
            netns: std::iter::once(bridge_ns.clone())
                .chain(netns.iter().cloned())
                .collect(),
            links: vec![host_link.clone()],
            dirs: vec![data_root],
            ..Registry::new(run_id)
        })?;
        let platform = LocalPlatform {
            run_id: run_id.to_string(),
            nodes,
            netns,
            bridge_ns,
            host_link,
            registry,
        };
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
        for (i, (n, ns)) in self.nodes.iter().zip(&self.netns).enumerate() {
            let (a, b) = (
                format!("fr{short}n{}", i + 1),
                format!("fr{short}n{}p", i + 1),
            );
            attach_node(ns, br, &a, &b, &n.ip).await?;
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

    fn netns(&self, node: &Node) -> Result<&str> {
        self.nodes
            .iter()
            .position(|n| n.name == node.name)
            .map(|i| self.netns[i].as_str())
            .ok_or_else(|| anyhow!("no node {}", node.name))
    }
}

#[async_trait]
impl Platform for LocalPlatform {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn run_id(&self) -> &str {
        &self.run_id
    }

    fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    async fn exec(&self, node: &Node, script: &str, stdin: Option<&str>) -> Result<(bool, String)> {
        let ns = self.netns(node)?;
        host_combined(&["ip", "netns", "exec", ns, "sh", "-c", script], stdin).await
    }

    fn net_argv(&self, node: &Node) -> Result<Vec<String>> {
        let ns = self.netns(node)?;
        Ok(["ip", "netns", "exec", ns].map(String::from).to_vec())
    }

    async fn spawn_daemon(&self, node: &Node, script: &str, log: &Path) -> Result<Daemon> {
        std::fs::create_dir_all(&node.data_dir)
            .with_context(|| format!("cannot create {}", node.data_dir.display()))?;
        let ns = self.netns(node)?;
        let (out, err) = log_files(log)?;
        let launcher = Command::new("ip")
            .args(["netns", "exec", ns, "sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group: a Ctrl-C at the terminal reaches the harness, which tears
            // down in order, not the daemons directly; and signals reach the whole shell line.
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {script} on {}", node.name))?;
        let group = launcher
            .id()
            .ok_or_else(|| anyhow!("daemon exited at once"))?;
        self.registry.add_process(group).await?;
        Ok(Daemon::on_host(launcher, group))
    }

    async fn copy_in(&self, _node: &Node, local: &Path, remote: &Path) -> Result<()> {
        // A namespace shares this machine's files.
        std::fs::copy(local, remote)
            .map(drop)
            .with_context(|| format!("cannot copy {} to {}", local.display(), remote.display()))
    }

    async fn copy_out(&self, _node: &Node, remote: &Path, local: &Path) -> Result<()> {
        std::fs::copy(remote, local)
            .map(drop)
            .with_context(|| format!("cannot copy {} to {}", remote.display(), local.display()))
    }

    async fn teardown(&self) {
        let reg = self.registry.snapshot();
        super::clean_registry(&reg).await;
        reg.remove();
    }

    fn registry(&self) -> &SharedRegistry {
        &self.registry
    }

    fn disk_place(&self, node: &Node) -> Result<DiskPlace> {
        // Beside the data directories, under the run's registered data root.
        let root = node
            .data_dir
            .parent()
            .ok_or_else(|| anyhow!("{} has no parent", node.data_dir.display()))?;
        Ok(DiskPlace {
            backing: root.join("disk").join(&node.name),
            mountpoint: node.data_dir.clone(),
            control: root.join("disk").join(format!("{}.sock", node.name)),
        })
    }
}

/// Remove a registry's namespaces and links, and anything still running inside the namespaces.
pub async fn clean(reg: &Registry) -> Vec<String> {
    let mut removed = Vec::new();
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
    // Links vanish a moment after their namespace; wait so "nothing left" is true on return.
    for _ in 0..100 {
        if !reg
            .links
            .iter()
            .any(|l| Path::new("/sys/class/net").join(l).exists())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    removed
}

/// Install the system on this machine if its check fails (the local platform's nodes share this
/// machine's files; a container image carries its own).
pub async fn install(db: &crate::config::DbConfig) -> Result<()> {
    let Some(inst) = &db.install else {
        return Ok(());
    };
    if super::host(&["sh", "-c", &inst.check]).await.is_ok() {
        return Ok(());
    }
    eprintln!(
        "ferret: {} is not installed; running: {}",
        db.name, inst.run
    );
    super::host_command(&["sh", "-c", &inst.run], false)
        .await
        .with_context(|| format!("installing {} failed", db.name))?;
    super::host(&["sh", "-c", &inst.check])
        .await
        .with_context(|| format!("{} is still not installed after `{}`", db.name, inst.run))?;
    Ok(())
}

/// Make the namespace `ns` and link it to the bridge `br0` in `br` as `eth0` with `ip`/24. Both
/// ends of the link are born inside namespaces: nothing ever sits in the root namespace, where a
/// harness killed at this moment would leave it unregistered.
pub async fn attach_node(ns: &str, br: &str, a: &str, b: &str, ip: &str) -> Result<()> {
    host(&["ip", "netns", "add", ns]).await?;
    host(&[
        "ip", "link", "add", a, "netns", ns, "type", "veth", "peer", "name", b, "netns", br,
    ])
    .await?;
    host(&["ip", "-n", br, "link", "set", b, "master", "br0", "up"]).await?;
    host(&["ip", "-n", ns, "link", "set", a, "name", "eth0"]).await?;
    host(&[
        "ip",
        "-n",
        ns,
        "addr",
        "add",
        &format!("{ip}/24"),
        "dev",
        "eth0",
    ])
    .await?;
    host(&["ip", "-n", ns, "link", "set", "eth0", "up"]).await?;
    host(&["ip", "-n", ns, "link", "set", "lo", "up"]).await?;
    Ok(())
}
