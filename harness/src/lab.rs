//! `ferret lab up N` / `ferret lab down`: N namespace "machines" on this one, each running
//! Debian's OpenSSH server with generated host keys, a generated client key, and a known_hosts
//! file, so the SSH platform can be tried — and tested — against real sshd, real key
//! authentication and real nft over SSH without other machines. The nodes file it writes,
//! `/run/ferret/lab/nodes.yaml`, is what `--nodes-file` reads.
//!
//! The lab outlives the command that made it (it is a fixture, not a run): `ferret lab down`
//! removes it, and `ferret clean` leaves it alone.

use crate::platform::host;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const LAB_DIR: &str = "/run/ferret/lab";
const SUBNET: &str = "10.212.77.";

#[derive(Args, Debug)]
#[command(
    about = "Make or remove N namespace machines running sshd, to try the SSH platform on one machine",
    after_help = "Examples:\n  ferret lab up 5        # prints the nodes file, /run/ferret/lab/nodes.yaml\n  \
ferret run configs/etcd-ssh.yaml --time-limit 30\n  ferret lab down"
)]
pub struct LabArgs {
    #[command(subcommand)]
    verb: LabVerb,
}

#[derive(Subcommand, Debug)]
enum LabVerb {
    /// Make N machines (1 to 9); replaces a lab already up.
    Up {
        count: usize,
        /// A machine whose logins find no nft (its PATH lacks /usr/sbin and /sbin), to see
        /// `ferret doctor` name what a node lacks; may be given more than once (e.g. n3).
        #[arg(long, value_name = "NODE")]
        without_nft: Vec<String>,
    },
    /// Remove the lab: its sshd processes, namespaces, links and files.
    Down,
    /// Print the nodes file of the lab that is up.
    Status,
}

/// What `lab up` made, for `lab down`.
#[derive(Serialize, Deserialize, Default)]
struct LabState {
    netns: Vec<String>,
    bridge_ns: String,
    host_link: String,
    /// sshd pids with their start times (so a recycled pid is never killed).
    sshd: Vec<(u32, u64)>,
}

/// The nodes file: what the SSH platform reads with `--nodes-file`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct NodesFile {
    pub user: String,
    pub port: u16,
    pub key: PathBuf,
    pub known_hosts: PathBuf,
    pub hosts: Vec<HostEntry>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct HostEntry {
    pub name: String,
    pub host: String,
}

pub fn run(args: LabArgs) -> Result<u8> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        match args.verb {
            LabVerb::Up { count, without_nft } => {
                if !(1..=9).contains(&count) {
                    bail!("a lab has 1 to 9 machines, not {count}");
                }
                down().await?;
                let nodes = up(count, &without_nft).await.inspect_err(|_| {
                    eprintln!("ferret: the lab could not be made; removing what was");
                });
                if nodes.is_err() {
                    down().await?;
                }
                print!("{}", std::fs::read_to_string(nodes?)?);
            }
            LabVerb::Down => down().await?,
            LabVerb::Status => {
                let p = Path::new(LAB_DIR).join("nodes.yaml");
                print!(
                    "{}",
                    std::fs::read_to_string(&p).context("no lab is up (ferret lab up N)")?
                );
            }
        }
        Ok(crate::exit::VALID)
    })
}

fn state_path() -> PathBuf {
    Path::new(LAB_DIR).join("state.json")
}

fn save(state: &LabState) -> Result<()> {
    std::fs::write(state_path(), serde_json::to_vec_pretty(state)?)?;
    Ok(())
}

async fn up(count: usize, without_nft: &[String]) -> Result<PathBuf> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the lab needs root: it creates network namespaces");
    }
    let sshd = Path::new("/usr/sbin/sshd");
    if !sshd.exists() {
        bail!("/usr/sbin/sshd is not installed (apt-get install -y openssh-server)");
    }
    let dir = Path::new(LAB_DIR);
    std::fs::create_dir_all(dir)?;
    let mut state = LabState {
        netns: (1..=count).map(|i| format!("ferret-lab-n{i}")).collect(),
        bridge_ns: "ferret-lab-br".into(),
        host_link: "frlabh".into(),
        sshd: Vec::new(),
    };
    save(&state)?;
    let key = dir.join("id_ed25519");
    keygen(&key).await?;
    let public = std::fs::read_to_string(dir.join("id_ed25519.pub"))?;
    std::fs::write(dir.join("authorized_keys"), &public)?;
    let br = state.bridge_ns.clone();
    host(&["ip", "netns", "add", &br]).await?;
    host(&["ip", "-n", &br, "link", "set", "lo", "up"]).await?;
    host(&["ip", "-n", &br, "link", "add", "br0", "type", "bridge"]).await?;
    host(&["ip", "-n", &br, "link", "set", "br0", "up"]).await?;
    let mut hosts = Vec::new();
    let mut known = String::new();
    for (i, ns) in state.netns.clone().iter().enumerate() {
        let n = i + 1;
        let ip = format!("{SUBNET}{}", 10 + n);
        let (a, b) = (format!("frlab{n}"), format!("frlab{n}p"));
        crate::platform::attach_node(ns, &br, &a, &b, &ip).await?;
        // Each machine its own host key and sshd configuration.
        let node_dir = dir.join(format!("n{n}"));
        std::fs::create_dir_all(&node_dir)?;
        let host_key = node_dir.join("ssh_host_ed25519_key");
        keygen(&host_key).await?;
        let host_pub = std::fs::read_to_string(node_dir.join("ssh_host_ed25519_key.pub"))?;
        let mut words = host_pub.split_whitespace();
        known.push_str(&format!(
            "{ip} {} {}\n",
            words.next().unwrap_or_default(),
            words.next().unwrap_or_default()
        ));
        let config = node_dir.join("sshd_config");
        let path = if without_nft.contains(&format!("n{n}")) {
            "SetEnv PATH=/usr/local/bin:/usr/bin:/bin\n"
        } else {
            ""
        };
        std::fs::write(
            &config,
            format!(
                "{path}ListenAddress {ip}:22\nHostKey {}\nAuthorizedKeysFile {}\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
                 PidFile {}\nMaxSessions 64\nMaxStartups 64:30:128\nLogLevel ERROR\n",
                host_key.display(),
                dir.join("authorized_keys").display(),
                node_dir.join("sshd.pid").display(),
            ),
        )?;
        // sshd detaches itself; its pid file names it.
        std::fs::create_dir_all("/run/sshd")?;
        host(&[
            "ip",
            "netns",
            "exec",
            ns,
            "/usr/sbin/sshd",
            "-f",
            &config.display().to_string(),
        ])
        .await
        .with_context(|| format!("sshd did not start in {ns}"))?;
        // It forks, then writes its pid file.
        let mut pid = None;
        for _ in 0..100 {
            pid = std::fs::read_to_string(node_dir.join("sshd.pid"))
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok());
            if pid.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let pid = pid.with_context(|| format!("sshd in {ns} wrote no pid file"))?;
        let start = crate::platform::process_start(pid).unwrap_or(0);
        state.sshd.push((pid, start));
        save(&state)?;
        hosts.push(HostEntry {
            name: format!("n{n}"),
            host: ip,
        });
    }
    let (h, hp) = (state.host_link.clone(), format!("{}p", state.host_link));
    host(&[
        "ip", "link", "add", &h, "type", "veth", "peer", "name", &hp, "netns", &br,
    ])
    .await?;
    host(&["ip", "-n", &br, "link", "set", &hp, "master", "br0", "up"]).await?;
    host(&["ip", "addr", "add", &format!("{SUBNET}1/24"), "dev", &h]).await?;
    host(&["ip", "link", "set", &h, "up"]).await?;
    std::fs::write(dir.join("known_hosts"), known)?;
    let nodes = NodesFile {
        user: "root".into(),
        port: 22,
        key,
        known_hosts: dir.join("known_hosts"),
        hosts,
    };
    let path = dir.join("nodes.yaml");
    std::fs::write(
        &path,
        format!(
            "# ferret lab: {count} namespace machines running sshd (ferret lab down removes them)\n{}",
            yaml_serde::to_string(&nodes)?
        ),
    )?;
    Ok(path)
}

/// A new ed25519 key pair without a passphrase at `path` (and `path`.pub).
async fn keygen(path: &Path) -> Result<()> {
    host(&[
        "ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        "ferret-lab",
        "-f",
        &path.display().to_string(),
    ])
    .await?;
    Ok(())
}

/// Remove what the lab's state file names; nothing else.
async fn down() -> Result<()> {
    let Ok(text) = std::fs::read(state_path()) else {
        return Ok(());
    };
    let state: LabState = serde_json::from_slice(&text).context("the lab's state file")?;
    for &(pid, start) in &state.sshd {
        if crate::platform::process_start(pid) == Some(start) {
            // SAFETY: kill(2) of a process we started, checked by its start time.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
        }
    }
    for ns in state.netns.iter().chain(std::iter::once(&state.bridge_ns)) {
        if !ns.is_empty() {
            let _ = host(&["ip", "netns", "del", ns]).await;
        }
    }
    if !state.host_link.is_empty() {
        let _ = host(&["ip", "link", "del", &state.host_link]).await;
    }
    std::fs::remove_dir_all(LAB_DIR)?;
    // The registry's directory too, if the lab was all it held.
    let _ = std::fs::remove_dir(crate::platform::REGISTRY_DIR);
    Ok(())
}
