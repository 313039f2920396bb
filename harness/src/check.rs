//! `ferret check`: run the checkers on a history file.

use crate::config::bounds::{self, seconds};
use crate::exit;
use crate::report::outputs::{self, Outputs, Page};
use crate::report::results::{self, Results};
use anyhow::Result;
use clap::{Args, ValueEnum};
use ferret_checkers::history::describe::{describe_call, describe_result, SHOWN_ITEMS};
use ferret_checkers::{
    check, check_calls, format::parse_value, read_calls, read_file, Budget, CheckError,
    CheckOptions, FailedCas, Format, History, Independent, ModelName, ModelOptions, PairedFile,
    Report, VerdictName,
};
use std::path::PathBuf;

/// Relaxed calls of a shrunk counterexample printed, when there are many more.
const SHOWN_RELAXED: usize = 10;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    /// Recognise the format from the file's first op line (within its first 64 KiB; other log
    /// lines before it, as a jepsen.log has, are passed over).
    Auto,
    /// ferret's own: one JSON object per line.
    Jsonl,
    /// Jepsen's EDN: a vector of op maps, or one map per line.
    Edn,
    /// Porcupine's Jepsen etcd log (a cas register).
    PorcupineEtcd,
    /// Porcupine's kv histories (EDN; string get/put/append per key).
    PorcupineKv,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FailedCasArg {
    /// The format's own convention: observe in Porcupine's etcd logs, drop elsewhere.
    Auto,
    /// A failed cas did not happen and constrains nothing (Knossos's convention).
    Drop,
    /// A failed cas is a compare that failed: the register did not hold its `from`.
    Observe,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum IndependentArg {
    Auto,
    Yes,
    No,
}

/// Check a history for linearizability.
///
/// Reads ferret's JSONL histories, Jepsen's EDN histories and Porcupine's logs. Independent keys
/// are checked separately and in parallel; each key gets its own verdict, and an invalid key gets
/// an explanation and a shrunk counterexample in the JSON result.
#[derive(Args, Debug)]
#[command(
    after_help = "Models:\n  register         read / write\n  cas-register     \
read / write / cas [from to] (alias: kv, checked per key)\n  string-kv        get / put / append \
on strings (Porcupine's kv)\n  txn              txn of [:read k v] / [:write k v] (Knossos's \
multi-register)\n  set              add x / read returning every element\n  fifo-queue       \
enqueue x / dequeue returning the oldest\n  unordered-queue  enqueue x / dequeue returning any\n  \
mutex            acquire / release\n  list-append      txn of [append k v] / [r k list] (Elle's), checked for \
dependency cycles\n  rw-register      txn of [w k v] / [r k v] with unique writes (Elle's)\n\n\
Consistency models (--consistency, for list-append and rw-register): strict-serializable \
(the default), serializable, snapshot-isolation, repeatable-read, read-committed, \
read-uncommitted.\n\nExamples:\n  ferret check examples/register-valid.jsonl\n  \
ferret check history.edn --model cas-register --initial 0 --json result.json\n  \
ferret check append.edn --consistency snapshot-isolation\n\nExit codes: 0 \
valid, 1 invalid, 2 unknown (a budget ran out), 3 could not run."
)]
pub struct CheckArgs {
    /// The history file.
    file: PathBuf,
    /// The file's format.
    #[arg(long, value_enum, default_value = "auto")]
    format: FormatArg,
    /// The sequential model: register, cas-register (kv), string-kv, txn, set, fifo-queue,
    /// unordered-queue, mutex; or a checker that is not a model: lease, lock-set, watch,
    /// list-append, rw-register (see docs/workloads.md and docs/transactions.md). Default: the
    /// format's usual one, else inferred from the functions and micro-ops.
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// For list-append and rw-register: the consistency model the transactions must keep.
    /// Real-time order (and each process's) counts only under strict-serializable.
    #[arg(long, value_name = "MODEL", default_value = "strict-serializable")]
    consistency: String,
    /// For list-append and rw-register: edge visits the cycle search may make looking for more
    /// kinds of cycle. A cycle the model forbids is found whatever this is; only a verdict of
    /// snapshot-isolation can turn unknown when it runs out.
    #[arg(long, value_name = "N", default_value_t = ferret_checkers::txn::DEFAULT_SEARCH_STEPS)]
    cycle_search_steps: u64,
    /// Write the full result, with explanations, as JSON to this file.
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
    /// Write a self-contained HTML report to this file: the verdict, each key's, a timeline of the
    /// calls with the faults, and each invalid key's failure stepped through.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// Write the verdict as JUnit XML to this file: a test case for the history and one per key
    /// (invalid: a failure with the explanation; unknown: an error).
    #[arg(long, value_name = "OUT")]
    junit: Option<PathBuf>,
    /// Seconds the search may spend on one key before that key is "unknown".
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    time_limit: f64,
    /// MiB of cache the search may use for one key before that key is "unknown".
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    memory_limit: usize,
    /// Search steps spent shrinking each invalid key's counterexample (0: do not shrink). Steps,
    /// not seconds, so the counterexample is the same on a busy machine; the search takes a few
    /// million a second.
    #[arg(long, value_name = "N", default_value_t = ferret_checkers::options::DEFAULT_SHRINK_STEPS)]
    shrink_steps: u64,
    /// Search steps spent shrinking all invalid keys together; each gets an equal share, up to
    /// --shrink-steps.
    #[arg(long, value_name = "N", default_value_t = ferret_checkers::options::DEFAULT_SHRINK_TOTAL_STEPS)]
    shrink_total_steps: u64,
    /// Initial value of registers, as EDN: nil (the default), 0, "x".
    #[arg(long, value_name = "VALUE", default_value = "nil")]
    initial: String,
    /// Knossos's convention: a read that returned nil constrains nothing.
    #[arg(long)]
    nil_reads_unconstrained: bool,
    /// What a cas that completed `fail` means. ferret's own histories record a compare that failed
    /// as `ok` with the value `false` (always checked), so their `fail` means "not applied". Jepsen's
    /// EDN follows Knossos, which drops every `:fail`; Porcupine's etcd logs write `:fail :cas` for
    /// a compare that failed, which it checks. `auto` keeps each tool's convention.
    #[arg(long, value_enum, default_value = "auto")]
    failed_cas: FailedCasArg,
    /// Split Jepsen's independent [key value] tuples into keys.
    #[arg(long, value_enum, default_value = "auto")]
    independent: IndependentArg,
    /// Threads checking keys in parallel (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Print every key, not only the ones that are not valid.
    #[arg(long, short)]
    verbose: bool,
}

/// What was read: the events (to draw them too), or only the calls.
enum Input {
    Events(History),
    Calls(PairedFile),
}

pub fn run(args: CheckArgs) -> Result<u8> {
    let format = match args.format {
        FormatArg::Auto => None,
        FormatArg::Jsonl => Some(Format::Jsonl),
        FormatArg::Edn => Some(Format::Edn),
        FormatArg::PorcupineEtcd => Some(Format::PorcupineEtcd),
        FormatArg::PorcupineKv => Some(Format::PorcupineKv),
    };
    // Read straight into calls: a file of millions of calls is never held as events too. The
    // HTML report draws the events, so it reads them.
    let (input, format) = if args.html.is_some() {
        let (history, format) = read_file(&args.file, format)?;
        (Input::Events(history), format)
    } else {
        let file = read_calls(&args.file, format)?;
        let format = file.format;
        (Input::Calls(file), format)
    };
    let model = match &args.model {
        Some(name) => Some(name.parse::<ModelName>().map_err(anyhow::Error::msg)?),
        None => match format {
            Format::PorcupineEtcd => Some(ModelName::CasRegister),
            Format::PorcupineKv => Some(ModelName::StringKv),
            _ => None,
        },
    };
    let time_limit = seconds(args.time_limit, "--time-limit", bounds::CHECK_TIME)?;
    let initial = parse_value(&args.initial).map_err(|e| anyhow::anyhow!("--initial: {e}"))?;
    let failed_cas = match (args.failed_cas, format) {
        (FailedCasArg::Observe, _) | (FailedCasArg::Auto, Format::PorcupineEtcd) => {
            FailedCas::Observe
        }
        _ => FailedCas::Drop,
    };
    let opts = CheckOptions {
        model,
        failed_cas,
        model_options: ModelOptions {
            initial,
            nil_reads_unconstrained: args.nil_reads_unconstrained,
        },
        independent: match args.independent {
            IndependentArg::Auto => Independent::Auto,
            IndependentArg::Yes => Independent::Yes,
            IndependentArg::No => Independent::No,
        },
        budget: Budget {
            time: time_limit,
            memory: args.memory_limit.saturating_mul(1 << 20),
            ..Budget::default()
        },
        shrink_steps: args.shrink_steps,
        shrink_total_steps: args.shrink_total_steps,
        threads: args.threads,
        consistency: args
            .consistency
            .parse()
            .map_err(|e| anyhow::anyhow!("--consistency: {e}"))?,
        cycle_search_steps: args.cycle_search_steps,
    };
    // The figures beside the verdict (calls and latencies per function, faults), taken before
    // the calls are handed over.
    let (report, drawn, ops, faults) = match input {
        Input::Events(history) => {
            let calls = crate::report::calls_of(&history);
            let ops = results::op_stats(&calls);
            let faults = results::fault_timeline(history.nemesis_events());
            (check(&history, &opts), Some((history, calls)), ops, faults)
        }
        Input::Calls(file) => {
            let ops = if args.json.is_some() {
                results::op_stats(&file.calls)
            } else {
                Default::default()
            };
            let faults = results::fault_timeline(&file.nemesis);
            let report = check_calls(file.calls, file.warnings, file.nemesis.len(), &opts);
            (report, None, ops, faults)
        }
    };
    let report = report.map_err(|e| match e {
        CheckError::Input { line, message } => {
            anyhow::anyhow!("{}:{line}: {message}", args.file.display())
        }
        other => anyhow::anyhow!("{}: {other}", args.file.display()),
    })?;
    print_summary(&args.file, format, &report, args.verbose);
    let results = Results::new(report, ops, faults, None);
    let name = args.file.display().to_string();
    let suite = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let page = drawn.as_ref().map(|(history, calls)| Page {
        name: name.clone(),
        history,
        calls,
        facts: vec![
            ("file".to_string(), name.clone()),
            ("format".to_string(), format.name().to_string()),
            ("ferret".to_string(), env!("CARGO_PKG_VERSION").to_string()),
            (
                "command".to_string(),
                std::env::args().collect::<Vec<_>>().join(" "),
            ),
        ],
    });
    let out = Outputs {
        results: args.json.clone(),
        junit: args.junit.clone(),
        html: args.html.clone(),
        plots: None,
    };
    outputs::write(&results, &suite, page.as_ref(), &out)?;
    let report = &results.report;
    Ok(exit::for_verdict(report.verdict))
}

/// Print the verdict, key by key. A reader that closed the pipe (`ferret check FILE | head`) ends
/// the printing quietly; the exit code is still the verdict's.
pub fn print_summary(file: &std::path::Path, format: Format, report: &Report, verbose: bool) {
    let out = std::io::stdout();
    match write_summary(&mut out.lock(), file, format, report, verbose) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        // stdout itself unwritable otherwise (a full disk): nothing better to tell it to.
        Err(e) => eprintln!("ferret: cannot write the summary: {e}"),
        Ok(()) => {}
    }
}

fn write_summary(
    out: &mut impl std::io::Write,
    file: &std::path::Path,
    format: Format,
    report: &Report,
    verbose: bool,
) -> std::io::Result<()> {
    let path = file.display();
    for w in &report.warnings {
        if w.line == 0 {
            eprintln!("warning: {path}: {}", w.message);
        } else {
            eprintln!("warning: {path}:{}: {}", w.line, w.message);
        }
    }
    writeln!(
        out,
        "{path}: {} format, model {}, {} calls, {} key{}",
        format.name(),
        report.model,
        report.calls,
        report.keys.len(),
        if report.keys.len() == 1 { "" } else { "s" }
    )?;
    let shown: Vec<_> = report
        .keys
        .iter()
        .filter(|k| verbose || k.verdict != VerdictName::Valid || report.keys.len() <= 20)
        .collect();
    if !shown.is_empty() {
        writeln!(
            out,
            "  {:<16} {:<8} {:>8} {:>10} {:>14}  decided by",
            "key", "verdict", "calls", "time", "configurations"
        )?;
    }
    for k in &shown {
        let key = if k.key.is_nil() && report.keys.len() == 1 {
            "-".to_string()
        } else {
            k.key.to_string()
        };
        writeln!(
            out,
            "  {:<16} {:<8} {:>8} {:>9.3}s {:>14}  {}{}",
            key,
            k.verdict.as_str(),
            k.calls,
            k.elapsed_s,
            k.configurations,
            k.method.as_str(),
            k.reason
                .as_ref()
                .map(|r| format!("  ({r})"))
                .unwrap_or_default()
        )?;
        for a in &k.anomalies {
            writeln!(out, "      {}: {}", a.kind, a.summary)?;
            for c in &a.calls {
                writeln!(
                    out,
                    "        {} -> {}",
                    describe_call(c),
                    describe_result(c)
                )?;
            }
        }
        if let Some(e) = &k.explanation {
            writeln!(out, "      {}", e.summary)?;
            if let Some(s) = &e.shrunk {
                writeln!(out, "      shrunk to {} call{}{} ({} of them relaxed to an unknown outcome, {} dropped):",
                    s.calls.len(),
                    if s.calls.len() == 1 { "" } else { "s" },
                    if s.minimal {
                        ""
                    } else {
                        ", not minimal: shrink budget spent"
                    },
                    s.relaxed,
                    s.dropped
                )?;
                // Every kept call; relaxed ones (a set read's thousands of adds) up to a few.
                let relaxed_shown = if s.relaxed > 2 * SHOWN_RELAXED {
                    SHOWN_RELAXED
                } else {
                    s.relaxed
                };
                let mut relaxed_seen = 0;
                for sc in &s.calls {
                    let c = &sc.call;
                    if sc.relaxed {
                        relaxed_seen += 1;
                        if relaxed_seen > relaxed_shown {
                            continue;
                        }
                    }
                    let request = if c.invoke_value.is_nil() {
                        String::new()
                    } else {
                        format!(" {:.SHOWN_ITEMS$}", c.invoke_value)
                    };
                    let result = if sc.relaxed {
                        "? (relaxed: may or may not have taken effect)".to_string()
                    } else {
                        describe_result(c)
                    };
                    writeln!(
                        out,
                        "        {:<12} process {:<4} {}{} -> {}{}",
                        c.place(),
                        c.process,
                        c.f,
                        request,
                        result,
                        if s.first.as_ref() == Some(c) {
                            "   <- first that cannot fit"
                        } else {
                            ""
                        }
                    )?;
                }
                if relaxed_seen > relaxed_shown {
                    writeln!(
                        out,
                        "        … and {} more relaxed calls (all of them in the JSON and HTML \
                         reports)",
                        relaxed_seen - relaxed_shown
                    )?;
                }
            }
        }
    }
    let count = |v| report.keys.iter().filter(|k| k.verdict == v).count();
    writeln!(
        out,
        "{}: {} valid, {} invalid, {} unknown keys in {:.3}s",
        report.verdict.as_str().to_uppercase(),
        count(VerdictName::Valid),
        count(VerdictName::Invalid),
        count(VerdictName::Unknown),
        report.elapsed_s
    )?;
    Ok(())
}
