//! `ferret`: black-box fault injection and linearizability checking for distributed systems.

mod check;
mod clean;
mod clock;
mod config;
mod db;
mod disk;
mod doctor;
mod exit;
mod faultfs;
mod lab;
mod netdelay;
mod platform;
mod probe;
mod report;
mod run;
mod site;
mod store;
mod suite;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ferret",
    version,
    about = "Black-box fault injection and linearizability checking for distributed systems",
    after_help = "Exit codes: 0 valid, 1 invalid, 2 unknown (a budget ran out), 3 could not run."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(run::RunArgs),
    Check(check::CheckArgs),
    Report(report::again::ReportArgs),
    Compare(report::compare::CompareArgs),
    Suite(suite::SuiteArgs),
    Serve(site::serve::ServeArgs),
    Clean(clean::CleanArgs),
    Clock(clock::ClockArgs),
    Image(platform::image::ImageArgs),
    Faultfs(faultfs::FaultfsArgs),
    Probe(probe::ProbeArgs),
    Netdelay(netdelay::NetdelayArgs),
    Doctor(doctor::DoctorArgs),
    Lab(lab::LabArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are not failures; a usage error must not look like "unknown" (2).
            return ExitCode::from(if e.use_stderr() {
                exit::COULD_NOT_RUN
            } else {
                exit::VALID
            });
        }
    };
    let code = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::run(args),
        Command::Report(args) => report::again::run(args),
        Command::Compare(args) => report::compare::run(args),
        Command::Suite(args) => suite::run(args),
        Command::Serve(args) => site::serve::run(args),
        Command::Clean(args) => clean::run(args),
        Command::Clock(args) => clock::run(args),
        Command::Image(args) => platform::image::run(args),
        Command::Faultfs(args) => faultfs::run(args),
        Command::Probe(args) => probe::run(args),
        Command::Netdelay(args) => netdelay::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Lab(args) => lab::run(args),
    };
    match code {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("ferret: {e:#}");
            ExitCode::from(exit::COULD_NOT_RUN)
        }
    }
}
