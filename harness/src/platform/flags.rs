//! The command-line flags that say where nodes live, shared by `ferret run` and `ferret doctor`.

use crate::config::Config;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug, Clone, Default)]
pub struct PlatformFlags {
    /// Where nodes live: local (network namespaces on this machine), docker (containers of
    /// docker-compose.yml; the node image is built on first use) or ssh (machines listed in
    /// platform.ssh or --nodes-file).
    #[arg(long, value_name = "KIND")]
    pub platform: Option<String>,
    /// Number of nodes.
    #[arg(long)]
    pub nodes: Option<usize>,
    /// For --platform ssh: the machines, as a nodes file (what `ferret lab up` writes).
    #[arg(long, value_name = "FILE")]
    pub nodes_file: Option<PathBuf>,
    /// For --platform ssh: the private key to log in with.
    #[arg(long, value_name = "FILE")]
    pub ssh_key: Option<PathBuf>,
}

impl PlatformFlags {
    /// Put the flags given over the config's settings.
    pub fn apply(&self, c: &mut Config) {
        if let Some(p) = &self.platform {
            c.platform.kind = p.clone();
        }
        if let Some(n) = self.nodes {
            c.platform.nodes = n;
        }
        if self.nodes_file.is_some() || self.ssh_key.is_some() {
            let ssh = c.platform.ssh.get_or_insert_with(Default::default);
            if let Some(f) = &self.nodes_file {
                ssh.nodes_file = Some(f.clone());
                ssh.hosts.clear();
            }
            if let Some(k) = &self.ssh_key {
                ssh.key = Some(k.clone());
            }
        }
    }
}
