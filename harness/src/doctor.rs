//! `ferret doctor CONFIG`: the platform's preflight (`platform::preflight`), one line per check
//! and node, each failure with what is wrong and how to fix it.

use crate::config::Config;
use crate::platform::preflight::checks;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    about = "Check that everything a run of CONFIG needs is there, node by node",
    after_help = "Examples:\n  ferret doctor configs/etcd.yaml\n  ferret doctor configs/etcd-ssh.yaml --ssh-key ~/.ssh/id_ed25519\n\n\
Exit codes: 0 everything a run needs is there, 3 something is missing (each failure says how to fix it)."
)]
pub struct DoctorArgs {
    config: PathBuf,
    #[command(flatten)]
    platform: crate::platform::flags::PlatformFlags,
}

pub fn run(args: DoctorArgs) -> Result<u8> {
    let mut config = Config::load(&args.config)?;
    args.platform.apply(&mut config);
    let rt = tokio::runtime::Runtime::new()?;
    let checks = rt.block_on(checks(&config))?;
    println!(
        "ferret doctor {}: platform {}, {} nodes",
        args.config.display(),
        config.platform.kind,
        config.platform.nodes
    );
    for c in &checks {
        println!("{}", c.line());
    }
    let failed = checks.iter().filter(|c| c.problem.is_some()).count();
    if failed == 0 {
        println!("everything a run needs is there");
        Ok(crate::exit::VALID)
    } else {
        println!(
            "{failed} check{} failed",
            if failed == 1 { "" } else { "s" }
        );
        Ok(crate::exit::COULD_NOT_RUN)
    }
}
