//! Every shipped config, with each of its values (and each section) replaced by something hostile —
//! huge, tiny, negative, NaN, infinite, the wrong type — is either still a valid config or exit 3
//! with a message naming the file. Never a panic, and `--dry-run` starts and creates nothing.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use yaml_serde::Value;

fn configs() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    assert!(v.len() >= 3, "configs/ has the shipped configs");
    v
}

/// Paths to every node below the root: mapping keys and sequence indices.
fn paths(v: &Value, here: Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                let mut p = here.clone();
                p.push(k.clone());
                out.push(p.clone());
                paths(child, p, out);
            }
        }
        Value::Sequence(items) => {
            for (i, child) in items.iter().enumerate() {
                let mut p = here.clone();
                p.push(Value::Number((i as u64).into()));
                out.push(p.clone());
                paths(child, p, out);
            }
        }
        _ => {}
    }
}

fn replace(root: &mut Value, path: &[Value], with: Value) {
    let mut node = root;
    for step in path {
        node = match (node, step) {
            (Value::Mapping(m), k) => m.get_mut(k).unwrap(),
            (Value::Sequence(items), Value::Number(i)) => &mut items[i.as_u64().unwrap() as usize],
            _ => unreachable!(),
        };
    }
    *node = with;
}

/// Hostile values as YAML text; each replaces a node of the config's tree.
fn hostile() -> Vec<&'static str> {
    vec![
        "1e20",
        "-1e20",
        "-1",
        "0",
        "1e-30",
        ".nan",
        ".inf",
        "-.inf",
        "18446744073709551616",
        "-9223372036854775809",
        "4294967297",
        "text",
        "true",
        "null",
        "[]",
        "{}",
        "[1, [2, {a: b}]]",
    ]
}

/// Stands in for the hostile text in the tree, since a YAML value cannot hold every number.
const MARK: &str = "ferret-fuzz-mark";

fn dry_run(dir: &Path, file: &Path) -> (i32, String) {
    let out = Command::cargo_bin("ferret")
        .unwrap()
        .current_dir(dir)
        .args(["run", "--dry-run"])
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.code().expect("exited, not killed by a signal"),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn hostile_values_in_every_config_exit_3_with_a_message_and_start_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fuzzed.yaml");
    let (mut tried, mut rejected) = (0, 0);
    for config in configs() {
        let text = std::fs::read_to_string(&config).unwrap();
        let root: Value = yaml_serde::from_str(&text).unwrap();
        let (code, err) = dry_run(dir.path(), &config);
        assert_eq!(code, 0, "{} as shipped: {err}", config.display());
        let mut all = Vec::new();
        paths(&root, Vec::new(), &mut all);
        for path in &all {
            for with in hostile() {
                let mut mutated = root.clone();
                replace(&mut mutated, path, Value::String(MARK.into()));
                let text = yaml_serde::to_string(&mutated).unwrap().replace(MARK, with);
                std::fs::write(&file, text).unwrap();
                let (code, err) = dry_run(dir.path(), &file);
                let what = format!("{} with {path:?} = {with:?}", config.display());
                assert!(code == 0 || code == 3, "{what}: exit {code}: {err}");
                assert!(!err.contains("panicked"), "{what}: {err}");
                if code == 3 {
                    assert!(
                        err.starts_with("ferret: ") && err.contains("fuzzed.yaml"),
                        "{what}: {err}"
                    );
                    rejected += 1;
                }
                tried += 1;
            }
        }
    }
    // Nothing was created beside the config: no store, no run folder.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("fuzzed.yaml")]);
    // Most hostile values must be refused; a fuzzer that accepts everything tests nothing.
    assert!(rejected * 10 > tried * 7, "{rejected} of {tried} rejected");
}

#[test]
fn flags_beyond_their_bounds_exit_3_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs/etcd.yaml");
    for flags in [
        &["--time-limit", "1e20"][..],
        &["--rate", "1e-30"],
        &["--rate=-5"],
        &["--time-limit", "NaN"],
        &["--concurrency", "0"],
        &["--nodes", "0"],
        &["--nodes", "1", "--nemesis", "partition-halves"],
        &["--nodes", "2", "--nemesis", "partition-majorities-ring"],
        &["--nemesis", "partition-sideways"],
    ] {
        // Without --dry-run: a bound must stop the run before anything exists.
        let out = Command::cargo_bin("ferret")
            .unwrap()
            .current_dir(dir.path())
            .arg("run")
            .arg(&config)
            .args(flags)
            .args(["--store", "store"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{flags:?}: {err}");
        assert!(err.starts_with("ferret: "), "{flags:?}: {err}");
        assert!(!dir.path().join("store").exists(), "{flags:?} made a store");
    }
    // The rate's message speaks of ops per second, not seconds.
    let out = Command::cargo_bin("ferret")
        .unwrap()
        .arg("run")
        .arg(&config)
        .arg("--rate=-5")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ops per second") && err.contains("-5"),
        "{err}"
    );
}

/// An http op naming an unknown template variable, or with a malformed rule, fails at load with
/// the file, line and column of the mistake, before any node exists.
#[test]
fn http_op_mistakes_point_at_their_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs/dqlite.yaml"),
    )
    .unwrap();
    let cases = [
        (
            "url: \"http://{ip}:8001/{key}\"",
            "url: \"http://{ip}:8001/{kye}\"",
            "{kye}",
        ),
        (
            "{body: \"^Error\", outcome: fail}",
            "{body: \"^Error(\", outcome: fail}",
            "regex",
        ),
        (
            "{status: 200, body: \"^done\", outcome: ok}",
            "{status: 700, body: \"^done\", outcome: ok}",
            "700",
        ),
        (
            "{body: \"^Error\", outcome: info}",
            "{body: \"^Error\", outcome: maybe}",
            "maybe",
        ),
    ];
    for (from, to, says) in cases {
        assert!(shipped.contains(from), "{from}");
        let text = shipped.replacen(from, to, 1);
        let want_line = text
            .lines()
            .position(|l| l.contains(to))
            .map(|i| i + 1)
            .unwrap();
        let file = dir.path().join("dq.yaml");
        std::fs::write(&file, &text).unwrap();
        let out = Command::cargo_bin("ferret")
            .unwrap()
            .current_dir(dir.path())
            .args(["run", "--store", "store"])
            .arg(&file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{to}: {err}");
        assert!(
            err.contains(&format!("dq.yaml:{want_line}:")) && err.contains(says),
            "{to}: want line {want_line}: {err}"
        );
        assert!(!dir.path().join("store").exists());
    }
    // A cas the service does not have: refused at load, with the reason.
    let text = shipped.replace("cas: 0}", "cas: 0.2}");
    let file = dir.path().join("dq.yaml");
    std::fs::write(&file, &text).unwrap();
    let out = Command::cargo_bin("ferret")
        .unwrap()
        .args(["run", "--dry-run"])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("not a cas"), "{err}");
}
