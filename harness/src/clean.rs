//! `ferret clean`: remove what runs left behind when the harness itself was killed.

use crate::platform::{clean_registry, image, process_start, Registry, REGISTRY_DIR};
use anyhow::Result;
use clap::Args;
use std::path::Path;

/// Remove what killed runs left behind: their processes, network namespaces, links, containers,
/// Docker networks and volumes, and data.
///
/// Reads the registry each run keeps under /run/ferret/ and removes exactly what it lists (for the
/// docker platform: what carries the run's label `ferret.run=<run id>`), and nothing else. A run whose harness is still alive is left alone unless --force is given.
#[derive(Args, Debug)]
pub struct CleanArgs {
    /// Also clean runs whose harness is still running.
    #[arg(long)]
    force: bool,
}

pub fn run(args: CleanArgs) -> Result<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let registries = Registry::load_all();
    if registries.is_empty() {
        remove_stale_partial_writes(&rt);
        remove_stale_image_builds();
        let _ = std::fs::remove_dir(REGISTRY_DIR);
        println!("nothing to clean (no runs registered in {REGISTRY_DIR})");
        return Ok(crate::exit::VALID);
    }
    for (path, reg) in registries {
        let reg = match reg {
            Ok(r) => r,
            Err(e) => {
                eprintln!("ferret: {}: unreadable, left alone: {e}", path.display());
                continue;
            }
        };
        let alive = process_start(reg.harness_pid) == Some(reg.harness_start);
        if alive && !args.force {
            println!(
                "run {}: its harness (pid {}) is still running; left alone (use --force)",
                reg.run_id, reg.harness_pid
            );
            continue;
        }
        let removed = rt.block_on(clean_registry(&reg));
        let _ = std::fs::remove_file(&path);
        if removed.is_empty() {
            println!("run {}: nothing was left", reg.run_id);
        } else {
            println!("run {}: removed {}", reg.run_id, removed.join(", "));
        }
    }
    remove_stale_partial_writes(&rt);
    remove_stale_image_builds();
    let _ = std::fs::remove_dir(REGISTRY_DIR);
    Ok(crate::exit::VALID)
}

/// Node image builds cut off with their harness leave a debootstrap folder in /var/tmp.
fn remove_stale_image_builds() {
    for dir in image::stale_build_dirs() {
        image::remove_build_dir(&dir);
        println!("removed the unfinished node image build {}", dir.display());
    }
}

/// A harness killed while saving its registry leaves `<run>.<pid>.tmp`. When that pid is gone,
/// the file is removed, and if it parses, what it lists is cleaned first (nothing is made before
/// a save completes, so a file cut mid-write lists nothing that exists).
fn remove_stale_partial_writes(rt: &tokio::runtime::Runtime) {
    let Ok(dir) = std::fs::read_dir(REGISTRY_DIR) else {
        return;
    };
    for path in dir.filter_map(|e| e.ok()).map(|e| e.path()) {
        if path.extension().is_none_or(|x| x != "tmp") {
            continue;
        }
        let writer: Option<u32> = path
            .file_stem()
            .and_then(|stem| Path::new(stem).extension())
            .and_then(|pid| pid.to_str()?.parse().ok());
        if writer.is_some_and(|pid| process_start(pid).is_some()) {
            continue; // a live harness's save in progress
        }
        let parsed: Option<Registry> = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(reg) = parsed {
            let removed = rt.block_on(clean_registry(&reg));
            if !removed.is_empty() {
                println!("run {}: removed {}", reg.run_id, removed.join(", "));
            }
        }
        let _ = std::fs::remove_file(&path);
    }
}
