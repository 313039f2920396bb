//! What an entry is expected to give, and whether its runs gave it: a verdict, the anomaly kinds
//! an invalid one must show, and for which versions of the system.

use ferret_checkers::VerdictName;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One expectation as written: `versions` (a range of the system's version, e.g. `< 3.5`;
/// absent: any), `verdict`, `anomaly` (one kind or several: any of them counts), `runs`
/// (`every` run as expected, the default, or `any` one of them).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<String>,
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly: Option<Kinds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Kinds {
    One(String),
    Many(Vec<String>),
}

impl Rule {
    pub fn verdict_only(verdict: &str) -> Result<Rule, String> {
        let r = Rule {
            versions: None,
            verdict: verdict.to_string(),
            anomaly: None,
            runs: None,
        };
        Checked::of(&r)?;
        Ok(r)
    }
}

/// A key whose linearizability search failed: it has an explanation, not anomalies.
pub const NONLINEARIZABLE: &str = "nonlinearizable";
/// Any cycle of transactions (G0, G1c, G-single, … and their process and real-time forms).
pub const CYCLE: &str = "cycle";
/// A node that did not come back after a heal (the harness's own anomaly).
pub const RECOVERY_FAILURE: &str = "recovery-failure";

/// Every kind an expectation may name.
pub fn known_kinds() -> Vec<String> {
    let mut k: Vec<String> = [NONLINEARIZABLE, CYCLE, RECOVERY_FAILURE]
        .iter()
        .chain(ferret_checkers::anomalies::KINDS)
        .map(|s| s.to_string())
        .collect();
    k.extend(
        ferret_checkers::txn::AnomalyKind::ALL
            .iter()
            .map(|a| a.name().to_string()),
    );
    k
}

/// Kind names as the checkers spell them: lower case, hyphens (`lost add` → `lost-add`), except
/// the transactional ones (`G-single`), matched case-insensitively.
fn normal(kind: &str) -> String {
    kind.trim().to_lowercase().replace([' ', '_'], "-")
}

#[derive(Clone, Debug)]
struct Checked {
    rule: Rule,
    versions: Option<semver::VersionReq>,
    verdict: VerdictName,
    /// Normalised, for matching.
    kinds: BTreeSet<String>,
    /// As written, for the page.
    names: Vec<String>,
    any_run: bool,
}

impl Checked {
    fn of(r: &Rule) -> Result<Checked, String> {
        let verdict = match r.verdict.trim() {
            "valid" => VerdictName::Valid,
            "invalid" => VerdictName::Invalid,
            "unknown" => VerdictName::Unknown,
            v => return Err(format!("verdict {v:?}: expected valid, invalid or unknown")),
        };
        let versions = r
            .versions
            .as_deref()
            .map(|v| {
                semver::VersionReq::parse(v).map_err(|e| {
                    format!("versions {v:?}: {e} (expected a range such as \"< 3.5\" or \">= 3.4.0, < 3.4.26\")")
                })
            })
            .transpose()?;
        let named: Vec<String> = match &r.anomaly {
            None => Vec::new(),
            Some(Kinds::One(k)) => vec![k.clone()],
            Some(Kinds::Many(k)) => k.clone(),
        };
        let known: BTreeSet<String> = known_kinds().iter().map(|k| normal(k)).collect();
        let mut kinds = BTreeSet::new();
        for k in &named {
            let n = normal(k);
            if !known.contains(&n) {
                return Err(format!(
                    "anomaly {k:?} is not a kind ferret reports; expected one of: {}",
                    known_kinds().join(", ")
                ));
            }
            kinds.insert(n);
        }
        if !kinds.is_empty() && verdict != VerdictName::Invalid {
            return Err("an anomaly is expected only with verdict invalid".into());
        }
        let any_run = match r.runs.as_deref() {
            None | Some("every") => false,
            Some("any") => true,
            Some(v) => return Err(format!("runs {v:?}: expected every or any")),
        };
        Ok(Checked {
            rule: r.clone(),
            versions,
            verdict,
            kinds,
            names: named,
            any_run,
        })
    }

    fn describe(&self) -> String {
        let mut s = self.verdict.as_str().to_string();
        if !self.names.is_empty() {
            s += &format!(" ({})", self.names.join(" or "));
        }
        if self.any_run {
            s += " in any run";
        }
        if let Some(v) = &self.rule.versions {
            s += &format!(" for versions {v}");
        }
        s
    }
}

/// An entry's expectation: its rules, the first whose versions hold applying.
#[derive(Clone, Debug)]
pub struct Expectation {
    rules: Vec<Checked>,
}

/// What one run gave, as far as the expectation cares.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Got {
    /// None when the run could not run (exit 3) or left no results.
    pub verdict: Option<VerdictName>,
    /// Anomaly kinds found, as the checkers spell them; `nonlinearizable` for a failed search.
    pub kinds: BTreeSet<String>,
    /// What `db.version` printed.
    pub version: Option<String>,
}

impl Got {
    pub fn describe(&self) -> String {
        match self.verdict {
            None => "could not run".into(),
            Some(v) if self.kinds.is_empty() => v.as_str().into(),
            Some(v) => {
                let k: Vec<&str> = self.kinds.iter().map(String::as_str).collect();
                format!("{} ({})", v.as_str(), k.join(", "))
            }
        }
    }

    /// The anomaly kinds a report shows, with `cycle` for any transactional cycle.
    pub fn kinds_of(report: &ferret_checkers::Report) -> BTreeSet<String> {
        let mut kinds = BTreeSet::new();
        for k in &report.keys {
            if k.explanation.is_some() {
                kinds.insert(NONLINEARIZABLE.to_string());
            }
            for a in &k.anomalies {
                kinds.insert(a.kind.clone());
                let cycle = ferret_checkers::txn::AnomalyKind::ALL
                    .iter()
                    .any(|t| t.is_cycle() && t.name() == a.kind);
                if cycle {
                    kinds.insert(CYCLE.to_string());
                }
            }
        }
        kinds
    }
}

/// The judgement on an entry's runs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Judgement {
    pub as_expected: bool,
    /// The rule that applied, in words (or why none did).
    pub expected: String,
    /// Why not, when not.
    pub why: Option<String>,
}

/// The first version number in what `db.version` printed (`etcd Version: 3.4.23 …`,
/// `go-dqlite\t1.11.5-1`), missing parts as zero.
pub fn version_number(printed: &str) -> Option<semver::Version> {
    let start = printed.find(|c: char| c.is_ascii_digit())?;
    let rest = &printed[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let mut parts = rest[..end]
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some(semver::Version::new(major, minor, patch))
}

impl Expectation {
    pub fn new(rules: Vec<Rule>) -> Result<Expectation, String> {
        if rules.is_empty() {
            return Err("no rule: expected valid, invalid, or a list of rules".into());
        }
        let rules = rules
            .iter()
            .enumerate()
            .map(|(i, r)| Checked::of(r).map_err(|e| format!("rule {}: {e}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Expectation { rules })
    }

    /// Every rule in words, for a page that shows what was expected before anything ran.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self.rules.iter().map(Checked::describe).collect();
        parts.join("; otherwise ")
    }

    /// The rule that applies to a run of this version.
    fn rule_for(&self, version: Option<&str>) -> Result<&Checked, String> {
        let number = version.and_then(version_number);
        self.rules
            .iter()
            .find(|r| match (&r.versions, &number) {
                (None, _) => true,
                (Some(req), Some(v)) => req.matches(v),
                (Some(_), None) => false,
            })
            .ok_or_else(|| match (version, &number) {
                (None, _) => "the system's version is not known (the config has no db.version), \
                              and every rule names versions"
                    .to_string(),
                (Some(p), None) => {
                    format!("no version number in what db.version printed ({p:?})")
                }
                (Some(_), Some(v)) => format!("no rule covers version {v}"),
            })
    }

    /// Whether the runs gave what was expected.
    pub fn judge(&self, runs: &[Got]) -> Judgement {
        let version = runs.iter().find_map(|g| g.version.as_deref());
        if !runs.is_empty() && runs.iter().all(|g| g.verdict.is_none()) {
            // No run got far enough to say its version: that, not the version, is the news.
            let why: Vec<String> = (1..=runs.len())
                .map(|i| format!("run {i}: could not run"))
                .collect();
            return Judgement {
                as_expected: false,
                expected: self.describe(),
                why: Some(why.join("; ")),
            };
        }
        let rule = match self.rule_for(version) {
            Ok(r) => r,
            Err(why) => {
                return Judgement {
                    as_expected: false,
                    expected: self.describe(),
                    why: Some(why),
                }
            }
        };
        let one = |g: &Got| -> Result<(), String> {
            match g.verdict {
                None => Err("could not run".into()),
                Some(v) if v != rule.verdict => Err(format!("got {}", g.describe())),
                Some(_)
                    if !rule.kinds.is_empty()
                        && !g.kinds.iter().any(|k| rule.kinds.contains(&normal(k))) =>
                {
                    Err(format!(
                        "got {}, none of the anomalies expected",
                        g.describe()
                    ))
                }
                Some(_) => Ok(()),
            }
        };
        let results: Vec<Result<(), String>> = runs.iter().map(one).collect();
        let failed: Vec<String> = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().err().map(|e| format!("run {}: {e}", i + 1)))
            .collect();
        let errored = runs.iter().any(|g| g.verdict.is_none());
        let as_expected = if runs.is_empty() {
            false
        } else if rule.any_run {
            !errored && results.iter().any(Result::is_ok)
        } else {
            failed.is_empty()
        };
        Judgement {
            as_expected,
            expected: rule.describe(),
            why: (!as_expected).then(|| {
                if runs.is_empty() {
                    "nothing ran".to_string()
                } else {
                    failed.join("; ")
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(versions: Option<&str>, verdict: &str, anomaly: Option<&str>) -> Rule {
        Rule {
            versions: versions.map(String::from),
            verdict: verdict.into(),
            anomaly: anomaly.map(|a| Kinds::One(a.into())),
            runs: None,
        }
    }

    fn got(verdict: Option<VerdictName>, kinds: &[&str], version: &str) -> Got {
        Got {
            verdict,
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            version: Some(version.into()),
        }
    }

    #[test]
    fn versions_pick_the_rule() {
        let e = Expectation::new(vec![
            rule(Some("< 3.5"), "invalid", Some("lost add")),
            rule(None, "valid", None),
        ])
        .unwrap();
        let lost = got(
            Some(VerdictName::Invalid),
            &["lost-add"],
            "etcd Version: 3.4.23\nGit SHA: x",
        );
        assert!(e.judge(std::slice::from_ref(&lost)).as_expected);
        let fixed = got(Some(VerdictName::Valid), &[], "etcd Version: 3.5.9");
        assert!(e.judge(&[fixed]).as_expected);
        // A positive control that stops failing is a surprise.
        let j = e.judge(&[got(Some(VerdictName::Valid), &[], "3.4.23")]);
        assert!(!j.as_expected && j.why.unwrap().contains("got valid"));
        // Invalid, but not for the expected reason.
        let j = e.judge(&[got(
            Some(VerdictName::Invalid),
            &["nonlinearizable"],
            "3.4.23",
        )]);
        assert!(!j.as_expected && j.why.unwrap().contains("none of the anomalies"));
        let j = e.judge(&[lost, got(None, &[], "3.4.23")]);
        assert!(!j.as_expected && j.why.unwrap().contains("run 2: could not run"));
        // No run said its version: the news is that nothing ran.
        let j = e.judge(&[Got::default()]);
        assert_eq!(j.why.as_deref(), Some("run 1: could not run"));
    }

    #[test]
    fn versions_without_a_version_are_a_surprise() {
        let e = Expectation::new(vec![rule(Some(">= 1.0"), "valid", None)]).unwrap();
        let g = Got {
            verdict: Some(VerdictName::Valid),
            ..Got::default()
        };
        let j = e.judge(&[g]);
        assert!(!j.as_expected && j.why.unwrap().contains("not known"));
        assert_eq!(
            version_number("go-dqlite\t1.11.5-1"),
            Some(semver::Version::new(1, 11, 5))
        );
        assert_eq!(version_number("v2"), Some(semver::Version::new(2, 0, 0)));
        assert_eq!(version_number("none"), None);
    }

    #[test]
    fn any_run_and_cycles() {
        let mut r = rule(None, "invalid", Some("cycle"));
        r.runs = Some("any".into());
        let e = Expectation::new(vec![r]).unwrap();
        let caught = got(
            Some(VerdictName::Invalid),
            &["g-single-realtime", "cycle"],
            "3.4.23",
        );
        let missed = got(Some(VerdictName::Valid), &[], "3.4.23");
        assert!(e.judge(&[missed.clone(), caught]).as_expected);
        assert!(!e.judge(&[missed.clone(), missed]).as_expected);
        assert!(!e.judge(&[]).as_expected);
    }

    #[test]
    fn bad_rules_are_refused() {
        assert!(Expectation::new(vec![rule(None, "maybe", None)]).is_err());
        assert!(Expectation::new(vec![rule(None, "valid", Some("lost-add"))]).is_err());
        assert!(Expectation::new(vec![rule(Some("about 3"), "valid", None)]).is_err());
        let e = Expectation::new(vec![rule(None, "invalid", Some("stale-read"))]).unwrap_err();
        assert!(e.contains("nonlinearizable"), "{e}");
        assert!(Expectation::new(vec![rule(None, "invalid", Some("G-single-realtime"))]).is_ok());
    }
}
