//! The nodes' fault file systems: one `ferret faultfs mount` process per node, on this machine,
//! mounted over the node's data directory before the system starts and asked, through its
//! control socket, to crash, fail fsyncs, fill up or flip bits.

use crate::platform::{
    is_mounted, share, spawn_host_daemon, wait_group_gone, Daemon, Node, Platform,
};
use anyhow::{anyhow, bail, Context, Result};
use ferret_faultfs::{Reply, Request};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

struct FaultDisk {
    daemon: Daemon,
    control: PathBuf,
    mountpoint: PathBuf,
    log: PathBuf,
}

pub struct Disks {
    disks: Mutex<BTreeMap<String, FaultDisk>>,
}

/// How long a mount may take to appear.
const MOUNT_WAIT: Duration = Duration::from_secs(10);

impl Disks {
    /// Mount a fault file system over every node's data directory. On error, what was mounted
    /// is left to the platform's teardown (every process and mount is registered first).
    pub async fn mount(
        platform: &dyn Platform,
        nodes_dir: &Path,
        params: &crate::config::DiskParams,
    ) -> Result<Disks> {
        if !Path::new("/dev/fuse").exists() {
            bail!(
                "the fault file system needs /dev/fuse (modprobe fuse; apt-get install -y fuse3)"
            );
        }
        let exe = std::env::current_exe().context("cannot find the ferret binary")?;
        let mut disks = BTreeMap::new();
        for node in platform.nodes() {
            let place = platform.disk_place(node)?;
            // The directory the mount points are in must be a shared mount: otherwise every
            // other node's namespace keeps a copy of this node's mount, and an unmount for a
            // crash would leave the file system serving those copies.
            if let Some(parent) = place.mountpoint.parent() {
                if !is_mounted(parent) {
                    platform
                        .registry()
                        .update(|r| r.mounts.push(parent.to_path_buf()))?;
                    share(parent).await?;
                }
            }
            std::fs::create_dir_all(&place.backing)?;
            std::fs::create_dir_all(&place.mountpoint)?;
            let dir = nodes_dir.join(&node.name);
            std::fs::create_dir_all(&dir)?;
            let log = dir.join("faultfs.log");
            platform
                .registry()
                .update(|r| r.mounts.push(place.mountpoint.clone()))?;
            let mut args: Vec<String> = vec![
                exe.display().to_string(),
                "faultfs".into(),
                "mount".into(),
                place.backing.display().to_string(),
                place.mountpoint.display().to_string(),
                "--control".into(),
                place.control.display().to_string(),
                "--metadata".into(),
                match params.metadata {
                    ferret_faultfs::Metadata::Strict => "strict".into(),
                    ferret_faultfs::Metadata::Journaled => "journaled".into(),
                },
            ];
            if params.sync_through {
                args.push("--sync-through".into());
            }
            let daemon = spawn_host_daemon(platform.registry(), &args, &log).await?;
            disks.insert(
                node.name.clone(),
                FaultDisk {
                    daemon,
                    control: place.control,
                    mountpoint: place.mountpoint,
                    log,
                },
            );
        }
        let d = Disks {
            disks: Mutex::new(disks),
        };
        for node in platform.nodes() {
            d.wait_mounted(node).await?;
        }
        Ok(d)
    }

    async fn wait_mounted(&self, node: &Node) -> Result<()> {
        let deadline = Instant::now() + MOUNT_WAIT;
        loop {
            let (mounted, exited, log, mountpoint) = {
                let mut g = self.disks.lock().await;
                let d = g
                    .get_mut(&node.name)
                    .ok_or_else(|| anyhow!("no fault file system on {}", node.name))?;
                (
                    is_mounted(&d.mountpoint),
                    d.daemon.launcher.try_wait()?.map(|s| s.to_string()),
                    d.log.clone(),
                    d.mountpoint.clone(),
                )
            };
            if mounted && self.ask(&node.name, Request::Status).await.is_ok() {
                return Ok(());
            }
            if let Some(status) = exited {
                bail!(
                    "the fault file system on {} exited ({status}): {}",
                    node.name,
                    std::fs::read_to_string(&log).unwrap_or_default().trim()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "the fault file system on {} was not mounted on {} after {} s",
                    node.name,
                    mountpoint.display(),
                    MOUNT_WAIT.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Ask a node's file system (off the async threads: a crash takes a moment).
    pub async fn ask(&self, node: &str, request: Request) -> Result<Reply> {
        let control = self
            .disks
            .lock()
            .await
            .get(node)
            .map(|d| d.control.clone())
            .ok_or_else(|| anyhow!("no fault file system on {node}"))?;
        let r = tokio::task::spawn_blocking(move || ferret_faultfs::ask(&control, &request))
            .await
            .map_err(|e| anyhow!("{e}"))?;
        r.with_context(|| format!("on {node}"))
    }

    /// Make everything written so far durable on every node (the setup: a fault then takes
    /// only what the workload wrote).
    pub async fn settle(&self) -> Result<()> {
        let names: Vec<String> = self.disks.lock().await.keys().cloned().collect();
        for name in names {
            self.ask(&name, Request::Settle).await?;
        }
        Ok(())
    }

    /// Unmount every node's file system and wait for its process (the nodes' systems must be
    /// gone). Whatever does not end is left to the platform's teardown.
    pub async fn unmount_all(&self) {
        let names: Vec<String> = self.disks.lock().await.keys().cloned().collect();
        for name in names {
            let _ = self.ask(&name, Request::Exit).await;
            if let Some(mut d) = self.disks.lock().await.remove(&name) {
                let ended =
                    tokio::time::timeout(Duration::from_secs(10), d.daemon.launcher.wait()).await;
                if ended.is_err() {
                    let _ = d.daemon.launcher.start_kill();
                }
                wait_group_gone(d.daemon.group, Duration::from_secs(10)).await;
            }
        }
    }
}
