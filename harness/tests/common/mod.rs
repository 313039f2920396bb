//! Helpers the tests that run real clusters share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The ferret binary, run from the repository root.
pub fn ferret() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin!("ferret"));
    c.current_dir(repo());
    c
}

pub fn sh(script: &str) -> String {
    let out = Command::new("sh").args(["-c", script]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fail, loudly, unless running as root with every (tool, Debian package) installed.
pub fn require(tools: &[(&str, &str)]) {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "these tests need root");
    for (tool, package) in tools {
        assert!(
            !sh(&format!(
                "command -v {tool} || ls /usr/sbin/{tool} 2>/dev/null"
            ))
            .is_empty(),
            "`{tool}` is missing: apt-get install -y {package}"
        );
    }
}

/// Run `ferret run ARGS --store STORE` to the end; its stdout, after checking its exit code is
/// one of `codes`.
pub fn run_to_end(args: &[&str], store: &Path, codes: &[i32]) -> String {
    let out = ferret()
        .arg("run")
        .args(args)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.code().is_some_and(|c| codes.contains(&c)),
        "exit {:?}, wanted one of {codes:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A stored history's events.
pub fn events(history: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(history)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// ferret's namespaces, run-named links, registry and node data on this machine.
pub fn local_leftovers() -> Vec<String> {
    let mut left: Vec<String> = sh("ip netns list")
        .lines()
        .filter(|l| l.starts_with("ferret-"))
        .map(|l| format!("namespace {l}"))
        .collect();
    if Path::new("/run/ferret").exists() {
        left.push("/run/ferret".into());
    }
    for e in std::fs::read_dir("/var/tmp").unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("ferret-") {
            left.push(format!("/var/tmp/{name}"));
        }
    }
    left
}

/// The DOM headless Chromium builds from a page (scripts run), and a screenshot beside the page
/// (`<page>.png`). Fails, loudly, when Chromium is missing.
pub fn chromium_dom(page: &Path) -> String {
    let url = format!("file://{}", page.display());
    chromium_dom_url(&url, Path::new(&format!("{}", page.display())))
}

/// The DOM headless Chromium builds from a URL; its profile and a screenshot go beside `place`.
pub fn chromium_dom_url(url: &str, place: &Path) -> String {
    assert!(
        !sh("command -v chromium").is_empty(),
        "`chromium` is missing: apt-get install -y chromium"
    );
    let run = |extra: &[&str]| {
        Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}.profile", place.display()))
            .args(extra)
            .arg(url)
            .output()
            .expect("run chromium")
    };
    let dom = run(&["--dump-dom"]);
    assert!(dom.status.success(), "chromium failed: {:?}", dom);
    let shot = format!("--screenshot={}.png", place.display());
    let _ = run(&[&shot, "--window-size=1400,1000"]);
    String::from_utf8_lossy(&dom.stdout).into_owned()
}

/// What the etcd tests in network namespaces need: (tool, Debian package).
pub const ETCD_TOOLS: [(&str, &str); 4] = [
    ("etcd", "etcd-server"),
    ("etcdctl", "etcd-client"),
    ("nft", "nftables"),
    ("ip", "iproute2"),
];

/// The results.json of a config's newest run in `store`.
pub fn results(store: &Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(store.join(name).join("latest/results.json")).unwrap())
        .unwrap()
}
