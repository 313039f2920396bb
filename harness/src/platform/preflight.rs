//! What a run needs, checked before anything is started: one `Check` per check and node, each
//! failure with what is wrong and how to fix it. `ferret doctor` prints them; `ferret run` stops
//! on a failure before it starts anything (on the ssh platform, whose machines ferret did not
//! make).

use super::ssh::{quote, Conn, Target};
use super::{host_status, which};
use crate::config::Config;
use anyhow::Result;
use std::path::PathBuf;

/// One check's outcome.
pub struct Check {
    pub node: String,
    pub what: &'static str,
    /// `None` when it passed; else what is wrong and how to fix it.
    pub problem: Option<String>,
    pub detail: String,
}

impl Check {
    pub fn line(&self) -> String {
        match &self.problem {
            None => format!("  ok    {:<6} {:<10} {}", self.node, self.what, self.detail),
            Some(p) => format!("  FAIL  {:<6} {:<10} {p}", self.node, self.what),
        }
    }
}

/// Every check for the config's platform.
pub async fn checks(config: &Config) -> Result<Vec<Check>> {
    match config.platform.kind.as_str() {
        "ssh" => {
            let targets = config
                .platform
                .ssh
                .clone()
                .unwrap_or_default()
                .targets(config.platform.nodes)?;
            let dir = PathBuf::from(crate::platform::REGISTRY_DIR)
                .join(format!("doctor-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let all = futures::future::join_all(
                targets
                    .into_iter()
                    .map(|t| ssh_node(config, t, dir.clone())),
            )
            .await;
            let _ = std::fs::remove_dir_all(&dir);
            Ok(all.into_iter().flatten().collect())
        }
        kind => Ok(this_machine(config, kind).await),
    }
}

fn pass(node: &str, what: &'static str, detail: impl Into<String>) -> Check {
    Check {
        node: node.into(),
        what,
        problem: None,
        detail: detail.into(),
    }
}

fn fail(node: &str, what: &'static str, problem: impl Into<String>) -> Check {
    Check {
        node: node.into(),
        what,
        problem: Some(problem.into()),
        detail: String::new(),
    }
}

/// Local and docker: this machine has what they need.
async fn this_machine(config: &Config, kind: &str) -> Vec<Check> {
    let mut out = Vec::new();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    out.push(if root {
        pass("here", "root", "running as root")
    } else {
        fail(
            "here",
            "root",
            "not root: namespaces, nft and ptrace need it (run ferret as root)",
        )
    });
    let tools: &[(&str, &str)] = if kind == "docker" {
        &[("docker", "docker.io"), ("nsenter", "util-linux")]
    } else {
        &[("ip", "iproute2"), ("nft", "nftables")]
    };
    for (tool, package) in tools {
        out.push(match which(tool) {
            Some(p) => pass("here", "tool", format!("{tool}: {}", p.display())),
            None => fail(
                "here",
                "tool",
                format!("{tool} is missing (apt-get install -y {package})"),
            ),
        });
    }
    if kind == "local" {
        if let Some(inst) = &config.db.install {
            let ok = host_status(&["sh", "-c", &inst.check], None, true)
                .await
                .is_ok_and(|r| r.0);
            out.push(if ok {
                pass(
                    "here",
                    "system",
                    format!("{}: `{}` passes", config.db.name, inst.check),
                )
            } else {
                pass(
                    "here",
                    "system",
                    format!(
                        "{} is not installed; ferret run will run `{}`",
                        config.db.name, inst.run
                    ),
                )
            });
        }
    }
    out
}

/// What ssh's error output says went wrong, and how to fix it.
fn ssh_problem(t: &Target, err: &str) -> String {
    let at = format!("{}@{}:{}", t.user, t.host, t.port);
    if err.contains("Permission denied") {
        format!(
            "authentication refused at {at}: the key{} is not in the user's authorized_keys (or the \
             user is wrong); install the public key or pass --ssh-key",
            t.key
                .as_ref()
                .map(|k| format!(" {}", k.display()))
                .unwrap_or_default()
        )
    } else if err.contains("Host key verification failed")
        || err.contains("No ED25519 host key")
        || err.contains("host key for")
    {
        format!(
            "the host key of {at} is not known{}: check it and add it (ssh-keyscan -p {} {} >> \
             known_hosts), or set platform.ssh.accept_new_host_keys to trust a first-seen key",
            t.known_hosts
                .as_ref()
                .map(|k| format!(" in {}", k.display()))
                .unwrap_or_default(),
            t.port,
            t.host
        )
    } else if err.contains("Connection refused") {
        format!(
            "{at} refused the connection: is sshd running and listening on port {}?",
            t.port
        )
    } else if err.contains("timed out") || err.contains("No route") {
        format!(
            "{at} is unreachable ({}): check the address and the network",
            err.trim()
        )
    } else {
        format!("cannot log in to {at}: {}", err.trim())
    }
}

async fn ssh_node(config: &Config, t: Target, dir: PathBuf) -> Vec<Check> {
    let n = t.name.clone();
    let conn = Conn::new(t.clone(), &dir);
    let mut out = Vec::new();
    let first = conn.run("id -u", None).await;
    let (ok, text, err) = match first {
        Ok(r) => r,
        Err(e) => {
            out.push(fail(&n, "reach", format!("{e:#}")));
            return out;
        }
    };
    if !ok {
        let problem = ssh_problem(&t, &err);
        let what = if problem.starts_with("authentication") {
            "auth"
        } else if problem.contains("host key") {
            "host key"
        } else {
            "reach"
        };
        out.push(fail(&n, what, problem));
        return out;
    }
    out.push(pass(&n, "reach", format!("{}:{}", t.host, t.port)));
    out.push(pass(&n, "auth", format!("as {}", t.user)));
    let uid = text.trim().to_string();
    // The clock read over the open connection, three times; the quickest round trip is the
    // most exact (the offset is within half of it).
    let secs = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    };
    let mut best: Option<(f64, f64)> = None;
    for _ in 0..3 {
        let before = std::time::SystemTime::now();
        let reply = conn.run("date +%s.%N", None).await;
        let after = std::time::SystemTime::now();
        if let Ok((true, t, _)) = reply {
            if let Ok(remote) = t.trim().parse::<f64>() {
                let rtt = secs(after) - secs(before);
                let offset = remote - (secs(before) + secs(after)) / 2.0;
                if best.is_none_or(|b| rtt < b.0) {
                    best = Some((rtt, offset));
                }
            }
        }
    }
    let (rtt, offset) = best.unwrap_or((0.0, f64::NAN));
    let offset_ms = offset * 1000.0;
    out.push(if t.user == "root" || uid == "0" {
        pass(&n, "root", "logged in as root")
    } else {
        // The command above already ran through `sudo -n`: it ran, so sudo needs no password.
        pass(&n, "root", format!("{} through sudo -n", t.user))
    });
    let script = "command -v nft >/dev/null && echo nft; \
                  cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0; \
                  df -Pk /var/tmp | tail -1";
    match conn.run(script, None).await {
        Ok((_, o, _)) => {
            let mut l = o.lines();
            let first = l.next().unwrap_or("");
            let (nft, scope) = if first == "nft" {
                (true, l.next().unwrap_or("0"))
            } else {
                (false, first)
            };
            out.push(if nft {
                pass(&n, "nft", "nft is installed")
            } else {
                fail(
                    &n,
                    "nft",
                    "nft is missing: partitions need it (apt-get install -y nftables)",
                )
            });
            out.push(if scope.trim() == "3" {
                fail(
                    &n,
                    "ptrace",
                    "ptrace is disabled (kernel.yama.ptrace_scope = 3): clock faults need it",
                )
            } else {
                pass(&n, "ptrace", format!("ptrace_scope {}", scope.trim()))
            });
            let free_kb: u64 = l
                .next()
                .and_then(|d| d.split_whitespace().nth(3))
                .and_then(|f| f.parse().ok())
                .unwrap_or(0);
            out.push(if free_kb >= 1 << 20 {
                pass(
                    &n,
                    "disk",
                    format!("{} MiB free in /var/tmp", free_kb / 1024),
                )
            } else {
                fail(
                    &n,
                    "disk",
                    format!(
                        "only {} MiB free in /var/tmp; a run needs 1 GiB",
                        free_kb / 1024
                    ),
                )
            });
        }
        Err(e) => out.push(fail(&n, "tools", format!("{e:#}"))),
    }
    if let Some(inst) = &config.db.install {
        let version = config.db.version.clone().unwrap_or_else(|| "true".into());
        let script = format!(
            "{} >/dev/null 2>&1 && ({}) 2>&1 | head -1",
            inst.check, version
        );
        out.push(match conn.run(&script, None).await {
            Ok((true, v, _)) => pass(&n, "system", format!("{}: {}", config.db.name, v.trim())),
            _ => fail(
                &n,
                "system",
                format!(
                    "{} is not installed (`{}` fails): install it on the node ({})",
                    config.db.name,
                    inst.check,
                    quote(&inst.run)
                ),
            ),
        });
    }
    out.push(if offset_ms.abs() < 1000.0 {
        pass(
            &n,
            "clock",
            format!(
                "{offset_ms:+.1} ms from this machine (± {:.1} ms)",
                rtt * 500.0
            ),
        )
    } else {
        fail(
            &n,
            "clock",
            format!("{offset_ms:+.0} ms from this machine: synchronise the clocks (NTP) first"),
        )
    });
    conn.close().await;
    out
}
