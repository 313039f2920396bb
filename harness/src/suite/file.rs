//! A suite file: the entries to run and what each is expected to give. Errors name the file,
//! line and column, and what was expected there.

use super::expect::{Expectation, Rule};
use anyhow::{anyhow, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteText {
    /// Defaults to the file's name without `.yaml`.
    name: Option<String>,
    #[serde(default)]
    description: String,
    entries: Vec<EntryText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryText {
    name: String,
    config: PathBuf,
    #[serde(default)]
    description: String,
    /// The upstream issue the entry reproduces or guards against.
    upstream: Option<String>,
    /// The system versions the upstream issue affects, in words.
    affects: Option<String>,
    // The overrides, one by one: serde's `flatten` cannot be combined with `deny_unknown_fields`,
    // and a misspelt override must be an error, not ignored.
    nodes: Option<usize>,
    time_limit: Option<f64>,
    concurrency: Option<usize>,
    rate: Option<f64>,
    nemesis: Option<NemesisList>,
    seed: Option<u64>,
    seeds: Option<u32>,
    /// What `--quick` puts over the entry's own settings (default: one seed, at most
    /// [`QUICK_TIME_LIMIT`] seconds).
    #[serde(default)]
    quick: Overrides,
    expect: ExpectText,
}

/// What an entry changes in its config, as `ferret run`'s flags do.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub nodes: Option<usize>,
    pub time_limit: Option<f64>,
    pub concurrency: Option<usize>,
    pub rate: Option<f64>,
    /// Faults, as a list, or `none`.
    pub nemesis: Option<NemesisList>,
    /// The first seed; runs after it take the next ones.
    pub seed: Option<u64>,
    /// How many runs, seeds `seed`, `seed + 1`, …
    pub seeds: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum NemesisList {
    List(Vec<String>),
    /// `none`, or a comma-separated list.
    Text(String),
}

impl NemesisList {
    /// As `ferret run --nemesis` takes it.
    pub fn flag(&self) -> String {
        match self {
            NemesisList::List(v) if v.is_empty() => "none".into(),
            NemesisList::List(v) => v.join(","),
            NemesisList::Text(s) => s.clone(),
        }
    }
}

impl Overrides {
    /// `self`, with what `over` sets put over it.
    pub fn merged(&self, over: &Overrides) -> Overrides {
        Overrides {
            nodes: over.nodes.or(self.nodes),
            time_limit: over.time_limit.or(self.time_limit),
            concurrency: over.concurrency.or(self.concurrency),
            rate: over.rate.or(self.rate),
            nemesis: over.nemesis.clone().or_else(|| self.nemesis.clone()),
            seed: over.seed.or(self.seed),
            seeds: over.seeds.or(self.seeds),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ExpectText {
    /// `valid`, `invalid` or `unknown`.
    Verdict(String),
    One(Rule),
    /// The first rule whose `versions` hold for the run's system version applies.
    Rules(Vec<Rule>),
}

/// `--quick` runs at most this long, unless an entry's `quick:` says otherwise.
pub const QUICK_TIME_LIMIT: f64 = 20.0;
/// The first seed when an entry names none: fixed, so two builds run the same schedules.
pub const DEFAULT_SEED: u64 = 1;

#[derive(Clone, Debug)]
pub struct Suite {
    pub name: String,
    pub description: String,
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub name: String,
    /// The config, resolved against the suite file's folder.
    pub config: PathBuf,
    pub description: String,
    pub upstream: Option<String>,
    pub affects: Option<String>,
    pub overrides: Overrides,
    pub quick: Overrides,
    pub expect: Expectation,
}

impl Entry {
    /// The overrides in force, and the seeds to run.
    pub fn plan(&self, quick: bool) -> (Overrides, Vec<u64>) {
        let mut o = self.overrides.clone();
        if quick {
            let limit = o
                .time_limit
                .map_or(QUICK_TIME_LIMIT, |t| t.min(QUICK_TIME_LIMIT));
            o.time_limit = Some(limit);
            o.seeds = Some(1);
            o = o.merged(&self.quick);
        }
        let first = o.seed.unwrap_or(DEFAULT_SEED);
        let seeds = (0..o.seeds.unwrap_or(1).max(1) as u64)
            .map(|i| first + i)
            .collect();
        (o, seeds)
    }
}

/// `suites/../configs/x.yaml` as `configs/x.yaml`: `..` taken off by the text alone.
fn tidy(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match (c, out.last()) {
            (Component::CurDir, _) => {}
            (Component::ParentDir, Some(Component::Normal(_))) => {
                out.pop();
            }
            (c, _) => out.push(c),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// The line and column of an entry's field, for errors found after parsing.
fn locate(text: &str, entry: usize, field: &str) -> Option<(usize, usize)> {
    let mut seen = 0usize;
    let mut in_entry = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("- ") && line.len() - t.len() <= 2 {
            in_entry = seen == entry;
            seen += 1;
            if in_entry && t[2..].trim_start().starts_with(&format!("{field}:")) {
                return Some((i + 1, line.find(field)? + 1));
            }
            continue;
        }
        if in_entry && t.starts_with(&format!("{field}:")) {
            return Some((i + 1, line.len() - t.len() + 1));
        }
    }
    None
}

impl Suite {
    pub fn load(path: &Path) -> Result<Suite> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("{}: cannot read: {e}", path.display()))?;
        let parsed: SuiteText = yaml_serde::from_str(&text).map_err(|e| match e.location() {
            Some(l) => anyhow!(
                "{}:{}:{}: {e} (a suite is `name`, `description` and `entries`: a list of \
                 `name`, `config`, `expect`, and optionally nodes, time_limit, concurrency, \
                 rate, nemesis, seed, seeds, quick, upstream, affects, description)",
                path.display(),
                l.line(),
                l.column()
            ),
            None => anyhow!("{}: {e}", path.display()),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let name = parsed.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "suite".into())
        });
        let at = |i: usize, field: &str| match locate(&text, i, field) {
            Some((l, c)) => format!("{}:{l}:{c}", path.display()),
            None => path.display().to_string(),
        };
        if parsed.entries.is_empty() {
            return Err(anyhow!(
                "{}: `entries` is empty: nothing to run",
                path.display()
            ));
        }
        let mut entries = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for (i, e) in parsed.entries.into_iter().enumerate() {
            let bad_name = e.name.is_empty()
                || !e
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if bad_name {
                return Err(anyhow!(
                    "{}: entry name {:?}: expected letters, digits, '-', '_' or '.' (it names \
                     the entry's log files)",
                    at(i, "name"),
                    e.name
                ));
            }
            if !names.insert(e.name.clone()) {
                return Err(anyhow!(
                    "{}: entry name {:?} appears twice",
                    at(i, "name"),
                    e.name
                ));
            }
            let config = if e.config.is_absolute() {
                e.config.clone()
            } else {
                tidy(&base.join(&e.config))
            };
            if !config.is_file() {
                return Err(anyhow!(
                    "{}: entry {}: config {} not found (a path relative to the suite file's \
                     folder, or absolute)",
                    at(i, "config"),
                    e.name,
                    config.display()
                ));
            }
            let overrides = Overrides {
                nodes: e.nodes,
                time_limit: e.time_limit,
                concurrency: e.concurrency,
                rate: e.rate,
                nemesis: e.nemesis.clone(),
                seed: e.seed,
                seeds: e.seeds,
            };
            for o in [&overrides, &e.quick] {
                if o.seeds == Some(0) {
                    return Err(anyhow!(
                        "{}: entry {}: seeds must be at least 1",
                        at(i, "seeds"),
                        e.name
                    ));
                }
                if o.time_limit.is_some_and(|t| !t.is_finite() || t <= 0.0) {
                    return Err(anyhow!(
                        "{}: entry {}: time_limit must be a positive number of seconds",
                        at(i, "time_limit"),
                        e.name
                    ));
                }
            }
            let rules = match e.expect {
                ExpectText::Verdict(v) => vec![Rule::verdict_only(&v)
                    .map_err(|m| anyhow!("{}: entry {}: {m}", at(i, "expect"), e.name))?],
                ExpectText::One(r) => vec![r],
                ExpectText::Rules(r) => r,
            };
            let expect = Expectation::new(rules)
                .map_err(|m| anyhow!("{}: entry {}: expect: {m}", at(i, "expect"), e.name))?;
            entries.push(Entry {
                name: e.name,
                config,
                description: e.description,
                upstream: e.upstream,
                affects: e.affects,
                overrides,
                quick: e.quick,
                expect,
            });
        }
        Ok(Suite {
            name,
            description: parsed.description,
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Suite> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.yaml"), "name: c\n").unwrap();
        let p = dir.path().join("s.yaml");
        std::fs::write(&p, text).unwrap();
        Suite::load(&p)
    }

    #[test]
    fn entries_with_overrides_and_quick_plans() {
        let s = load(
            "name: s\nentries:\n  - name: a\n    config: c.yaml\n    seeds: 3\n    seed: 10\n    \
             nemesis: [kill]\n    expect: valid\n  - name: b\n    config: c.yaml\n    \
             time_limit: 60\n    quick: {time_limit: 30}\n    expect:\n      verdict: invalid\n      \
             anomaly: lost-add\n",
        )
        .unwrap();
        assert_eq!(s.entries.len(), 2);
        let (o, seeds) = s.entries[0].plan(false);
        assert_eq!(seeds, vec![10, 11, 12]);
        assert_eq!(o.nemesis.unwrap().flag(), "kill");
        let (o, seeds) = s.entries[0].plan(true);
        assert_eq!((seeds, o.time_limit), (vec![10], Some(QUICK_TIME_LIMIT)));
        let (o, seeds) = s.entries[1].plan(true);
        assert_eq!((seeds, o.time_limit), (vec![DEFAULT_SEED], Some(30.0)));
        assert_eq!(s.entries[1].plan(false).0.time_limit, Some(60.0));
    }

    #[test]
    fn errors_name_the_line() {
        let e = load("entries:\n  - name: a\n    config: c.yaml\n    expect: maybe\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.yaml:4:5") && e.contains("maybe"), "{e}");
        let e = load("entries:\n  - name: a\n    config: nope.yaml\n    expect: valid\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.yaml:3:5") && e.contains("not found"), "{e}");
        let e = load("entries:\n  - name: a\n    config: c.yaml\n    expect: valid\n    tme: 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.yaml:") && e.contains("tme"), "{e}");
        let e = load(
            "entries:\n  - name: a\n    config: c.yaml\n    expect: valid\n  - name: a\n    \
             config: c.yaml\n    expect: valid\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("s.yaml:5:") && e.contains("twice"), "{e}");
        let e = load(
            "entries:\n  - name: a\n    config: c.yaml\n    expect: {verdict: invalid, anomaly: lost-adds}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("lost-adds") && e.contains("lost-add"), "{e}");
    }
}
