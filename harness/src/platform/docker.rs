//! The docker platform: each node is a container of the repository's `docker-compose.yml`.
//!
//! The containers run a long-lived pid 1 and the system under test is started by `docker exec`
//! under `setsid`, so a node (container, network namespace) and its process are separate, as in
//! Jepsen: a kill never stops the container. Faults come from this machine and are the same as on
//! the local platform: nft runs in the container's network namespace through `nsenter` (Docker's
//! own `nat` table there is never touched: ferret adds and deletes only its own table), signals go
//! to the daemon's process group by its host pid, and the clock agent patches that host pid.
//! Everything carries the label `ferret.run=<run id>` and is removed by it.

use super::{
    free_subnet, host, host_combined, host_command, image, log_files, which, Daemon, DiskPlace,
    Node, Platform, Registry, SharedRegistry,
};
use crate::config::Config;
use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::process::Command;

/// The compose file, as shipped at the repository root.
pub const COMPOSE_FILE: &str = include_str!("../../../docker-compose.yml");

/// Where a node keeps its data, inside its container.
const DATA_DIR: &str = "/var/lib/ferret/data";

/// With the fault file system: where every container sees the run's shared directory of this
/// machine, each node's data directory `n<i>` in it, a fault file system mounted there on this
/// machine and propagated into the containers (`rslave`).
const NODES_DIR: &str = "/var/lib/ferret/nodes";

struct Container {
    id: String,
    /// Host pid of the container's pid 1: its namespaces are reached through /proc/<pid>/ns.
    init: u32,
}

pub struct DockerPlatform {
    run_id: String,
    nodes: Vec<Node>,
    containers: Vec<Container>,
    registry: SharedRegistry,
    starts: AtomicU64,
    /// With the fault file system: the run's directory on this machine (`disk/` holds the
    /// backing trees, `nodes/` the mount points the containers see).
    shared: Option<PathBuf>,
}

/// `docker-compose` (v1) where installed, else `docker compose` (v2).
async fn compose_command() -> Result<Vec<&'static str>> {
    if which("docker-compose").is_some() {
        return Ok(vec!["docker-compose"]);
    }
    if host(&["docker", "compose", "version"]).await.is_ok() {
        return Ok(vec!["docker", "compose"]);
    }
    bail!("neither `docker-compose` nor `docker compose` is installed (apt-get install -y docker-compose)")
}

impl DockerPlatform {
    /// Bring up the run's compose project. On error, whatever was made is removed.
    pub async fn create(run_id: &str, count: usize, config: &Config) -> Result<DockerPlatform> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            bail!("the docker platform needs root: faults enter the containers' namespaces from this machine");
        }
        for (tool, package) in [
            ("docker", "docker.io"),
            ("nsenter", "util-linux"),
            ("nft", "nftables"),
        ] {
            if which(tool).is_none() {
                bail!("`{tool}` is not installed (apt-get install -y {package})");
            }
        }
        host(&["docker", "version", "--format", "{{.Server.Version}}"])
            .await
            .context("the Docker engine does not answer")?;
        let compose = compose_command().await?;
        let image = match &config.platform.image {
            Some(image) => {
                if host(&["docker", "image", "inspect", "--format", "{{.Id}}", image])
                    .await
                    .is_err()
                {
                    bail!("the node image {image} is not on this machine (no registry can be reached: build it with `ferret image build`, or docker import your own)");
                }
                image.clone()
            }
            None => image::ensure(&config.db.packages).await?,
        };
        let prefix = free_subnet(run_id, 214).await?;
        let project = format!("ferret-{run_id}");
        let root = PathBuf::from(format!("/var/tmp/ferret-{run_id}"));
        let shared = config.uses_faultfs().then(|| root.join("nodes"));
        // Registered before anything exists, so a crash halfway is still cleanable by its label.
        let registry = SharedRegistry::new(Registry {
            docker_project: Some(project.clone()),
            mounts: shared.iter().cloned().collect(),
            dirs: shared.iter().map(|_| root.clone()).collect(),
            ..Registry::new(run_id)
        })?;
        let made = async {
            if let Some(dir) = &shared {
                super::share(dir).await?;
            }
            Self::up(
                &compose,
                &project,
                run_id,
                &image,
                &prefix,
                count,
                shared.as_deref(),
            )
            .await
        }
        .await;
        let containers = match made {
            Ok(c) => c,
            Err(e) => {
                let reg = registry.snapshot();
                super::clean_registry(&reg).await;
                reg.remove();
                return Err(e.context("cannot bring up the run's containers"));
            }
        };
        let nodes = containers
            .iter()
            .enumerate()
            .map(|(i, (_, ip))| Node {
                name: format!("n{}", i + 1),
                ip: ip.clone(),
                data_dir: match &shared {
                    Some(_) => Path::new(NODES_DIR).join(format!("n{}", i + 1)),
                    None => PathBuf::from(DATA_DIR),
                },
            })
            .collect();
        Ok(DockerPlatform {
            run_id: run_id.to_string(),
            nodes,
            containers: containers.into_iter().map(|(c, _)| c).collect(),
            registry,
            starts: AtomicU64::new(0),
            shared,
        })
    }

    async fn up(
        compose: &[&str],
        project: &str,
        run_id: &str,
        image: &str,
        prefix: &str,
        count: usize,
        shared: Option<&Path>,
    ) -> Result<Vec<(Container, String)>> {
        let file = std::env::temp_dir().join(format!("ferret-{run_id}-compose.yml"));
        std::fs::write(&file, compose_file(shared)?)?;
        let scale = format!("node={count}");
        let file_arg = file.display().to_string();
        let mut args: Vec<&str> = compose.to_vec();
        args.extend([
            "-p",
            project,
            "-f",
            &file_arg,
            "up",
            "-d",
            "--no-color",
            "--scale",
            &scale,
        ]);
        let out = Command::new(args[0])
            .args(&args[1..])
            .env("FERRET_IMAGE", image)
            .env("FERRET_RUN_ID", run_id)
            .env("FERRET_SUBNET", format!("{prefix}0/24"))
            .stdin(Stdio::null())
            .output()
            .await
            .context("cannot run docker-compose")?;
        let _ = std::fs::remove_file(&file);
        if !out.status.success() {
            bail!(
                "`{}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let listing = host(&[
            "docker",
            "ps",
            "-a",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
            "--format",
            "{{.ID}} {{.Label \"com.docker.compose.container-number\"}}",
        ])
        .await?;
        let mut numbered: Vec<(usize, String)> = listing
            .lines()
            .filter_map(|l| {
                let (id, n) = l.split_once(' ')?;
                Some((n.trim().parse().ok()?, id.to_string()))
            })
            .collect();
        numbered.sort();
        if numbered.len() != count {
            bail!(
                "expected {count} containers in {project}, found {}",
                numbered.len()
            );
        }
        let mut containers = Vec::new();
        for (_, id) in numbered {
            let inspect = host(&[
                "docker",
                "inspect",
                "-f",
                "{{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                &id,
            ])
            .await?;
            let (pid, ip) = inspect
                .trim()
                .split_once(' ')
                .ok_or_else(|| anyhow!("container {id}: no pid and address in {inspect:?}"))?;
            let init: u32 = pid
                .parse()
                .map_err(|_| anyhow!("container {id} is not running (pid {pid:?})"))?;
            if init == 0 || ip.is_empty() {
                bail!("container {id} is not running on the run's network");
            }
            containers.push((Container { id, init }, ip.to_string()));
        }
        Ok(containers)
    }

    fn container(&self, node: &Node) -> Result<&Container> {
        self.nodes
            .iter()
            .position(|n| n.name == node.name)
            .map(|i| &self.containers[i])
            .ok_or_else(|| anyhow!("no node {}", node.name))
    }

    /// The host pid of the process a container knows as `pid`.
    fn host_pid(&self, c: &Container, pid: u32) -> Option<u32> {
        let ns = std::fs::read_link(format!("/proc/{}/ns/pid", c.init)).ok()?;
        std::fs::read_dir("/proc").ok()?.find_map(|e| {
            let host: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            if std::fs::read_link(format!("/proc/{host}/ns/pid")).ok()? != ns {
                return None;
            }
            let status = std::fs::read_to_string(format!("/proc/{host}/status")).ok()?;
            let nspid = status.lines().find(|l| l.starts_with("NSpid:"))?;
            (nspid.split_whitespace().last()?.parse::<u32>().ok()? == pid).then_some(host)
        })
    }
}

#[async_trait]
impl Platform for DockerPlatform {
    fn kind(&self) -> &'static str {
        "docker"
    }

    fn run_id(&self) -> &str {
        &self.run_id
    }

    fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    async fn exec(&self, node: &Node, script: &str, stdin: Option<&str>) -> Result<(bool, String)> {
        let c = self.container(node)?;
        let mut args = vec!["docker", "exec"];
        if stdin.is_some() {
            args.push("-i");
        }
        args.extend([c.id.as_str(), "sh", "-c", script]);
        host_combined(&args, stdin).await
    }

    fn net_argv(&self, node: &Node) -> Result<Vec<String>> {
        let c = self.container(node)?;
        Ok(vec![
            "nsenter".into(),
            format!("--net=/proc/{}/ns/net", c.init),
        ])
    }

    async fn spawn_daemon(&self, node: &Node, script: &str, log: &Path) -> Result<Daemon> {
        let c = self.container(node)?;
        let (ok, out) = self
            .exec(node, &format!("mkdir -p {}", node.data_dir.display()), None)
            .await?;
        if !ok {
            bail!(
                "cannot create {} on {}: {}",
                node.data_dir.display(),
                node.name,
                out.trim()
            );
        }
        // The shell leads a session (and so a group) of its own and says which pid it has.
        let pidfile = format!(
            "/run/ferret-daemon-{}.pid",
            self.starts.fetch_add(1, Ordering::Relaxed)
        );
        let line = format!("echo $$ > {pidfile}; {script}");
        let (out, err) = log_files(log)?;
        let mut launcher = Command::new("docker")
            .args(["exec", &c.id, "setsid", "-w", "sh", "-c", &line])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {script} on {}", node.name))?;
        let in_container = PathBuf::from(format!("/proc/{}/root{pidfile}", c.init));
        for _ in 0..500 {
            let pid = std::fs::read_to_string(&in_container)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok());
            if let Some(group) = pid.and_then(|p| self.host_pid(c, p)) {
                self.registry.add_process(group).await?;
                return Ok(Daemon::on_host(launcher, group));
            }
            if let Ok(Some(status)) = launcher.try_wait() {
                bail!("{script} on {} exited at once ({status})", node.name);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = launcher.kill().await;
        bail!("{script} on {} never reported its pid", node.name)
    }

    async fn copy_in(&self, node: &Node, local: &Path, remote: &Path) -> Result<()> {
        let c = self.container(node)?;
        let to = format!("{}:{}", c.id, remote.display());
        host(&["docker", "cp", &local.display().to_string(), &to])
            .await
            .map(drop)
    }

    async fn copy_out(&self, node: &Node, remote: &Path, local: &Path) -> Result<()> {
        let c = self.container(node)?;
        let from = format!("{}:{}", c.id, remote.display());
        host(&["docker", "cp", &from, &local.display().to_string()])
            .await
            .map(drop)
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
        let shared = self.shared.as_ref().ok_or_else(|| {
            anyhow!(
                "the containers were made without the shared directory a fault file system needs"
            )
        })?;
        let disk = shared.with_file_name("disk");
        Ok(DiskPlace {
            backing: disk.join(&node.name),
            mountpoint: shared.join(&node.name),
            control: disk.join(format!("{}.sock", node.name)),
        })
    }
}

/// The compose file as shipped, plus, with the fault file system, the run's shared directory
/// bound into every node at NODES_DIR with its later mounts propagated.
fn compose_file(shared: Option<&Path>) -> Result<String> {
    let Some(dir) = shared else {
        return Ok(COMPOSE_FILE.to_string());
    };
    let mut doc: yaml_serde::Value = yaml_serde::from_str(COMPOSE_FILE)?;
    let volume: yaml_serde::Value = yaml_serde::from_str(&format!(
        "type: bind\nsource: {}\ntarget: {NODES_DIR}\nbind:\n  propagation: rslave\n",
        dir.display()
    ))?;
    let node = doc
        .get_mut("services")
        .and_then(|s| s.get_mut("node"))
        .and_then(|n| n.as_mapping_mut())
        .ok_or_else(|| anyhow!("docker-compose.yml has no services.node"))?;
    node.insert("volumes".into(), yaml_serde::Value::Sequence(vec![volume]));
    Ok(yaml_serde::to_string(&doc)?)
}

/// Remove the containers, networks and volumes labelled as the run's. Returns what went.
pub async fn clean_labelled(run_id: &str) -> Vec<String> {
    let label = format!("label=ferret.run={run_id}");
    let mut removed = Vec::new();
    let list = |what: &'static [&'static str]| {
        let label = label.clone();
        async move {
            let mut args: Vec<&str> = what.to_vec();
            args.extend(["-q", "--filter", &label]);
            host(&args)
                .await
                .map(|out| out.split_whitespace().map(String::from).collect::<Vec<_>>())
                .unwrap_or_default()
        }
    };
    let containers = list(&["docker", "ps", "-a"]).await;
    if !containers.is_empty() {
        let mut args = vec!["docker", "rm", "-f", "-v"];
        args.extend(containers.iter().map(String::as_str));
        if host_command(&args, false).await.is_ok() {
            removed.push(format!("{} container(s)", containers.len()));
        }
    }
    let networks = list(&["docker", "network", "ls"]).await;
    for n in &networks {
        if host(&["docker", "network", "rm", n]).await.is_ok() {
            removed.push(format!("network {n}"));
        }
    }
    let volumes = list(&["docker", "volume", "ls"]).await;
    for v in &volumes {
        if host(&["docker", "volume", "rm", v]).await.is_ok() {
            removed.push(format!("volume {v}"));
        }
    }
    removed
}
