//! The node image of the docker platform, made without a registry: `debootstrap` (minbase, this
//! machine's Debian suite and mirror, the system's packages) then `docker import`. It is tagged
//! by the content that made it — `ferret-node:<hash of the recipe>` — so it is reused while the
//! recipe is unchanged and rebuilt when it changes; `ferret-node:latest` points at the newest.

use super::{host, host_command, which};
use crate::config::Config;
use anyhow::{bail, Context, Result};
use clap::Args;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Packages every node image has, besides the system's: `ip` and `ss` for a person poking at a
/// node, `ps`, and `setsid` (util-linux) that ferret starts daemons with.
const BASE_PACKAGES: [&str; 3] = ["iproute2", "procps", "util-linux"];

/// Bumped when the recipe below changes in a way the inputs do not show.
const RECIPE_VERSION: u32 = 1;

/// What an image is made from.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub suite: String,
    pub mirror: String,
    pub packages: Vec<String>,
}

impl Recipe {
    /// This machine's suite and mirror, with the system's packages.
    pub fn for_packages(packages: &[String]) -> Recipe {
        let mut all: Vec<String> = BASE_PACKAGES
            .iter()
            .map(|p| p.to_string())
            .chain(packages.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        Recipe {
            suite: host_suite(),
            mirror: host_mirror(),
            packages: all,
        }
    }

    pub fn tag(&self) -> String {
        let mut h = Sha256::new();
        h.update(format!(
            "ferret-node recipe {RECIPE_VERSION}\n{}\n{}\n{}\n",
            self.suite,
            self.mirror,
            self.packages.join(",")
        ));
        let digest = h.finalize();
        let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        format!("ferret-node:{hex}")
    }
}

fn host_suite() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("VERSION_CODENAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "bookworm".into())
}

/// The Debian mirror this machine's apt uses (the only package source it may reach).
fn host_mirror() -> String {
    let deb822 =
        std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources").unwrap_or_default();
    let classic = std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    deb822
        .lines()
        .filter_map(|l| l.strip_prefix("URIs:"))
        .flat_map(|l| l.split_whitespace())
        .chain(
            classic
                .lines()
                .filter(|l| l.starts_with("deb "))
                .filter_map(|l| l.split_whitespace().nth(1)),
        )
        .find(|u| u.starts_with("http") && !u.contains("security"))
        .unwrap_or("http://deb.debian.org/debian")
        .trim_end_matches('/')
        .to_string()
}

async fn exists(tag: &str) -> bool {
    host(&["docker", "image", "inspect", "--format", "{{.Id}}", tag])
        .await
        .is_ok()
}

/// The image for these packages: reused if built before, else built now.
pub async fn ensure(packages: &[String]) -> Result<String> {
    let recipe = Recipe::for_packages(packages);
    let tag = recipe.tag();
    if exists(&tag).await {
        return Ok(tag);
    }
    build(&recipe).await?;
    Ok(tag)
}

/// Build the image for a recipe (whether or not it exists). Returns the seconds it took.
pub async fn build(recipe: &Recipe) -> Result<f64> {
    if which("debootstrap").is_none() {
        bail!("`debootstrap` is not installed (apt-get install -y debootstrap): it makes the node image");
    }
    let tag = recipe.tag();
    let started = Instant::now();
    eprintln!(
        "ferret: building node image {tag}: debootstrap {} with {} (about a minute, once)",
        recipe.suite,
        recipe.packages.join(" ")
    );
    // Named with this harness's pid: `ferret clean` removes it if the harness was killed; the
    // guard removes it if the build is dropped (Ctrl-C), fails or ends.
    let dir = PathBuf::from(format!("/var/tmp/ferret-image-{}", std::process::id()));
    remove_build_dir(&dir);
    struct Guard(PathBuf);
    impl Drop for Guard {
        fn drop(&mut self) {
            remove_build_dir(&self.0);
        }
    }
    let guard = Guard(dir.clone());
    let result = async {
        let include = format!("--include={}", recipe.packages.join(","));
        let root = dir.join("rootfs");
        host(&[
            "debootstrap",
            "--variant=minbase",
            &include,
            &recipe.suite,
            &root.display().to_string(),
            &recipe.mirror,
        ])
        .await
        .context("debootstrap failed")?;
        let script = format!(
            "rm -rf {r}/var/cache/apt/archives/*.deb {r}/var/lib/apt/lists/* && \
             tar -C {r} -c . | docker import --change 'CMD [\"sleep\", \"infinity\"]' \
             --change 'LABEL ferret.image=1' - {tag} && docker tag {tag} ferret-node:latest",
            r = root.display()
        );
        host(&["sh", "-c", &script])
            .await
            .context("docker import failed")?;
        Ok::<(), anyhow::Error>(())
    }
    .await;
    drop(guard);
    result?;
    let took = started.elapsed().as_secs_f64();
    eprintln!("ferret: node image {tag} built in {took:.1} s");
    Ok(took)
}

/// Remove a build folder, unmounting first whatever debootstrap left mounted inside it (a build
/// cut off mid-way can leave /proc mounted in the chroot).
pub fn remove_build_dir(dir: &Path) {
    if !dir.exists() {
        return;
    }
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mut inside: Vec<&str> = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|m| Path::new(m).starts_with(dir))
        .collect();
    inside.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in inside {
        let _ = std::process::Command::new("umount")
            .args(["-l", m])
            .status();
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Build folders of dead harnesses: what `ferret clean` sweeps.
pub fn stale_build_dirs() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/var/tmp") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let pid: u32 = name.strip_prefix("ferret-image-")?.parse().ok()?;
            (super::process_start(pid).is_none()).then(|| e.path())
        })
        .collect()
}

/// Build the docker platform's node image.
///
/// Runs debootstrap (minbase, this machine's Debian suite and mirror) with the packages a config's
/// `db.packages` names, and imports the result as `ferret-node:<hash of the recipe>`, also tagged
/// `ferret-node:latest`. `ferret run --platform docker` does this by itself when the image is
/// missing; this command builds it ahead of time, or again with --force.
#[derive(Args, Debug)]
pub struct ImageArgs {
    /// `build`: make the image (the only action).
    action: ImageAction,
    /// Take the packages from this config's db.packages.
    #[arg(long, value_name = "CONFIG")]
    config: Option<PathBuf>,
    /// A package to include (repeatable), besides the config's.
    #[arg(long = "package", value_name = "NAME")]
    packages: Vec<String>,
    /// Build even if an image of the same recipe exists.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ImageAction {
    Build,
}

pub fn run(args: ImageArgs) -> Result<u8> {
    let mut packages = args.packages.clone();
    if let Some(c) = &args.config {
        packages.extend(Config::load(c)?.db.packages);
    }
    let recipe = Recipe::for_packages(&packages);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        host_command(
            &["docker", "version", "--format", "{{.Server.Version}}"],
            true,
        )
        .await
        .context("the Docker engine does not answer")?;
        let tag = recipe.tag();
        if !args.force && exists(&tag).await {
            println!("{tag} (already built; --force to build again)");
            return Ok(crate::exit::VALID);
        }
        build(&recipe).await?;
        println!("{tag}");
        Ok(crate::exit::VALID)
    })
}
