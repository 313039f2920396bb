//! Degraded networks: delay with jitter, packet loss and bandwidth limits on the links of some
//! nodes, as data and as the nft rules each node gets.
//!
//! A link is slowed once per direction: a target holds what it sends to anyone and what it
//! receives from a node that is not a target (a target's packets to another target were held
//! when sent), so every link that touches a target has `delay ± jitter` each way and a round
//! trip of twice that. Loss is applied where a packet arrives — a packet dropped on its way out
//! would fail the sender's call with EPERM, which real loss never does — so each direction of
//! such a link loses `loss_pct` of its packets. Delay is done by a program holding packets
//! from an NFQUEUE (the kernel here has no netem); loss by nft's `numgen random`.

use crate::Targets;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A number, or a range `[lo, hi]` from which each fault picks one, seeded.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Span {
    One(u64),
    Range([u64; 2]),
}

impl Span {
    pub fn lo(self) -> u64 {
        match self {
            Span::One(v) => v,
            Span::Range([a, b]) => a.min(b),
        }
    }

    pub fn hi(self) -> u64 {
        match self {
            Span::One(v) => v,
            Span::Range([a, b]) => a.max(b),
        }
    }
}

/// How network faults degrade links (`nemesis.network` in a config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkParams {
    /// Whose links are degraded.
    pub targets: Targets,
    /// Added to each packet on a degraded link, each way.
    pub delay_ms: Span,
    /// Each packet's delay is uniform within ± this of the fault's delay.
    pub jitter_ms: u64,
    /// Share of packets lost on a degraded link, each way.
    pub loss_pct: Span,
    /// What a target may send, in kbit/s (`network-bandwidth`).
    pub rate_kbit: u64,
    /// How long each state of a flapping partition lasts.
    pub flap_period_ms: u64,
}

impl Default for NetworkParams {
    fn default() -> Self {
        NetworkParams {
            targets: Targets::One,
            delay_ms: Span::Range([50, 500]),
            jitter_ms: 20,
            loss_pct: Span::Range([5, 30]),
            rate_kbit: 1000,
            flap_period_ms: 1000,
        }
    }
}

/// The largest delay ferret holds a packet for: a Raft cluster past it only ever elects.
pub const MAX_DELAY_MS: u64 = 10_000;

impl NetworkParams {
    /// What is wrong with these parameters, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.delay_ms.hi() > MAX_DELAY_MS {
            return Some(format!(
                "nemesis.network.delay_ms must be at most {MAX_DELAY_MS}, not {}",
                self.delay_ms.hi()
            ));
        }
        if self.jitter_ms > self.delay_ms.lo() {
            return Some(format!(
                "nemesis.network.jitter_ms ({}) must be at most the smallest delay ({} ms): a packet cannot leave before it was sent",
                self.jitter_ms,
                self.delay_ms.lo()
            ));
        }
        if self.loss_pct.hi() > 100 {
            return Some(format!(
                "nemesis.network.loss_pct must be 0 to 100, not {}",
                self.loss_pct.hi()
            ));
        }
        if self.rate_kbit == 0 {
            return Some("nemesis.network.rate_kbit must be above 0".into());
        }
        if !(100..=60_000).contains(&self.flap_period_ms) {
            return Some(format!(
                "nemesis.network.flap_period_ms must be 100 to 60000, not {}",
                self.flap_period_ms
            ));
        }
        None
    }
}

/// The queue the delaying program reads in each node's namespace.
pub const DELAY_QUEUE: u16 = 7411;

/// What one node does to the packets of degraded links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeRules {
    /// Addresses whose packets to this node are dropped at random.
    pub lose_from: BTreeSet<String>,
    /// Loss, in packets per thousand.
    pub loss_permille: u32,
    /// Addresses whose packets this node holds on arrival.
    pub hold_from: BTreeSet<String>,
    /// Addresses whose packets from this node it holds on leaving.
    pub hold_to: BTreeSet<String>,
}

impl NodeRules {
    pub fn holds(&self) -> bool {
        !self.hold_from.is_empty() || !self.hold_to.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        !self.holds() && (self.lose_from.is_empty() || self.loss_permille == 0)
    }
}

/// Each node's rules when the links of `targets` are degraded: `ip` gives each node's
/// address; `delay` and `loss_pct` as the fault chose them.
pub fn node_rules(
    nodes: &[String],
    targets: &[String],
    ip: &dyn Fn(&str) -> String,
    delay: bool,
    loss_pct: u64,
) -> Vec<(String, NodeRules)> {
    let is_target = |n: &str| targets.iter().any(|t| t == n);
    nodes
        .iter()
        .map(|n| {
            let others = nodes.iter().filter(|m| *m != n);
            let mut r = NodeRules {
                loss_permille: (loss_pct * 10) as u32,
                ..NodeRules::default()
            };
            for m in others {
                let touched = is_target(n) || is_target(m);
                if loss_pct > 0 && touched {
                    r.lose_from.insert(ip(m));
                }
                if delay && is_target(n) {
                    r.hold_to.insert(ip(m));
                    if !is_target(m) {
                        r.hold_from.insert(ip(m));
                    }
                }
            }
            (n.clone(), r)
        })
        .collect()
}

/// The nft script that gives a node its loss, replacing ferret's table.
pub fn nft_degrade_script(r: &NodeRules) -> String {
    let t = crate::NFT_TABLE;
    let mut s = format!("add table inet {t}\ndelete table inet {t}\ntable inet {t} {{\n");
    s.push_str("  chain input {\n    type filter hook input priority 0; policy accept;\n");
    if r.loss_permille > 0 && !r.lose_from.is_empty() {
        s.push_str(&format!(
            "    ip saddr {{ {} }} numgen random mod 1000 < {} drop\n",
            join(&r.lose_from),
            r.loss_permille
        ));
    }
    s.push_str("  }\n}\n");
    s
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The chains that send a node's packets to the delaying program.
pub const HOLD_CHAINS: [&str; 2] = ["ferret-hold-in", "ferret-hold-out"];

/// An `iptables-restore --noflush` script that sends the packets a node holds to the delaying
/// program's queue, in chains of ferret's own. iptables, not nft: kernels without nft's queue
/// expression (CONFIG_NFT_QUEUE) still have the NFQUEUE target. `--queue-bypass` lets packets
/// through should the program be gone, so a dead program shows as a delay that did not take
/// effect, not as a partition.
pub fn iptables_hold_script(r: &NodeRules) -> String {
    let [cin, cout] = HOLD_CHAINS;
    let target = format!("-j NFQUEUE --queue-num {DELAY_QUEUE} --queue-bypass");
    let mut s = format!("*filter\n:{cin} - [0:0]\n:{cout} - [0:0]\n");
    if !r.hold_from.is_empty() {
        s.push_str(&format!("-A {cin} -s {} {target}\n", comma(&r.hold_from)));
    }
    if !r.hold_to.is_empty() {
        s.push_str(&format!("-A {cout} -d {} {target}\n", comma(&r.hold_to)));
    }
    s.push_str(&format!("-I INPUT -j {cin}\n-I OUTPUT -j {cout}\nCOMMIT\n"));
    s
}

/// Undo [`iptables_hold_script`]: the jumps, then ferret's chains.
pub fn iptables_release_script() -> String {
    let [cin, cout] = HOLD_CHAINS;
    format!(
        "*filter\n-D INPUT -j {cin}\n-D OUTPUT -j {cout}\n-F {cin}\n-F {cout}\n-X {cin}\n-X {cout}\nCOMMIT\n"
    )
}

fn comma(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: &str) -> String {
        format!("10.0.0.{}", &n[1..])
    }

    fn nodes(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    /// How many times a packet from `a` to `b` is held, and whether it can be lost.
    fn path(rules: &[(String, NodeRules)], a: &str, b: &str) -> (usize, usize) {
        let ra = &rules.iter().find(|(n, _)| n == a).unwrap().1;
        let rb = &rules.iter().find(|(n, _)| n == b).unwrap().1;
        let held = ra.hold_to.contains(&ip(b)) as usize + rb.hold_from.contains(&ip(a)) as usize;
        let lost = rb.lose_from.contains(&ip(a)) as usize;
        (held, lost)
    }

    /// Every direction of every link that touches a target is held exactly once and may be
    /// lost exactly once; links between two others are untouched — for every target set.
    #[test]
    fn each_direction_of_a_degraded_link_is_held_and_lost_exactly_once() {
        for n in 2..=6 {
            let ns = nodes(n);
            for mask in 1u32..(1 << n) {
                let targets: Vec<String> = ns
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, s)| s.clone())
                    .collect();
                let rules = node_rules(&ns, &targets, &ip, true, 10);
                for a in &ns {
                    for b in ns.iter().filter(|b| *b != a) {
                        let touched = targets.contains(a) || targets.contains(b);
                        let want = if touched { (1, 1) } else { (0, 0) };
                        assert_eq!(path(&rules, a, b), want, "{a}->{b} targets {targets:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn loss_only_holds_nothing_and_scripts_say_what_they_do() {
        let ns = nodes(3);
        let rules = node_rules(&ns, &["n2".into()], &ip, false, 25);
        assert!(rules.iter().all(|(_, r)| !r.holds()));
        let n1 = nft_degrade_script(&rules[0].1);
        assert!(n1.contains("ip saddr { 10.0.0.2 } numgen random mod 1000 < 250 drop"));
        assert!(!n1.contains("queue"));
        let rules = node_rules(&ns, &["n2".into()], &ip, true, 0);
        let n2 = iptables_hold_script(&rules[1].1);
        let q = "-j NFQUEUE --queue-num 7411 --queue-bypass";
        assert!(n2.contains(&format!("-A ferret-hold-out -d 10.0.0.1,10.0.0.3 {q}")));
        assert!(n2.contains(&format!("-A ferret-hold-in -s 10.0.0.1,10.0.0.3 {q}")));
        assert!(n2.ends_with("-I INPUT -j ferret-hold-in\n-I OUTPUT -j ferret-hold-out\nCOMMIT\n"));
        assert!(!nft_degrade_script(&rules[1].1).contains("numgen"));
        assert!(rules[0].1.is_empty() && !rules[1].1.is_empty());
    }

    #[test]
    fn parameters_are_checked() {
        let ok = NetworkParams::default();
        assert_eq!(ok.problem(), None);
        let p = NetworkParams {
            jitter_ms: 60,
            ..ok.clone()
        };
        assert!(p.problem().unwrap().contains("jitter_ms"));
        let p = NetworkParams {
            loss_pct: Span::One(101),
            ..ok.clone()
        };
        assert!(p.problem().unwrap().contains("loss_pct"));
        let p: NetworkParams = serde_yaml_like(r#"{"delay_ms": 120, "loss_pct": [10, 20]}"#);
        assert_eq!((p.delay_ms.lo(), p.delay_ms.hi()), (120, 120));
        assert_eq!((p.loss_pct.lo(), p.loss_pct.hi()), (10, 20));
    }

    fn serde_yaml_like(s: &str) -> NetworkParams {
        serde_json::from_str(s).unwrap()
    }
}
