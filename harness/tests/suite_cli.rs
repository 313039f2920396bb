//! `ferret suite`, the store's index.html and `ferret serve`: a suite with one expectation wrong
//! on purpose exits 1 and names it in junit.xml; the index lists every run folder, made by a
//! suite or not (Chromium's DOM); the server answers with the index and a report.

mod common;

use common::{chromium_dom_url, ferret, local_leftovers, repo, require, ETCD_TOOLS};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Two entries: a valid register run, and etcd's serializable reads expected — wrongly — valid.
fn smoke_suite(dir: &Path) -> PathBuf {
    let file = dir.join("smoke.yaml");
    let configs = repo().join("configs");
    std::fs::write(
        &file,
        format!(
            "name: smoke\nentries:\n  - name: register-valid\n    config: {}\n    time_limit: 8\n    \
             nemesis: none\n    expect: valid\n  - name: serializable-wrongly-valid\n    config: {}\n    \
             time_limit: 20\n    expect: valid\n",
            configs.join("etcd.yaml").display(),
            configs.join("etcd-serializable.yaml").display()
        ),
    )
    .unwrap();
    file
}

struct Made {
    _tmp: tempfile::TempDir,
    store: PathBuf,
    /// The first suite run's folder, its exit code and output.
    first: (PathBuf, Option<i32>, String),
    /// The second (the valid entry alone), compared with the first.
    second: PathBuf,
}

fn suite(args: &[&str]) -> (Option<i32>, String) {
    let out = ferret().arg("suite").args(args).output().unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// The suite folder a suite's output names.
fn suite_dir(out: &str) -> PathBuf {
    let line = out
        .lines()
        .find(|l| l.starts_with("suite: "))
        .unwrap_or_else(|| panic!("no suite: line in\n{out}"));
    let page = line["suite: ".len()..].split(' ').next().unwrap();
    PathBuf::from(page).parent().unwrap().to_path_buf()
}

/// Held while a test's clusters run: the interrupt test's "nothing left behind" must not see
/// another test's cluster.
static CLUSTERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// One store for the tests below: the smoke suite, the same suite's valid entry alone, and a run
/// made without a suite.
fn made() -> &'static Made {
    static MADE: OnceLock<Made> = OnceLock::new();
    MADE.get_or_init(|| {
        require(&ETCD_TOOLS);
        let _one_at_a_time = CLUSTERS.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join("store");
        let file = smoke_suite(tmp.path());
        let s = store.to_str().unwrap();
        let f = file.to_str().unwrap();
        let (code, out) = suite(&[f, "--store", s]);
        let first = (suite_dir(&out), code, out);
        let (code, out) = suite(&[f, "--store", s, "--only", "register-valid"]);
        assert_eq!(code, Some(0), "{out}");
        let second = suite_dir(&out);
        common::run_to_end(
            &[
                "configs/etcd.yaml",
                "--time-limit",
                "5",
                "--nemesis",
                "none",
                "--seed",
                "3",
            ],
            &store,
            &[0],
        );
        Made {
            _tmp: tmp,
            store,
            first,
            second,
        }
    })
}

#[test]
fn a_wrong_expectation_exits_1_and_is_named_in_junit() {
    let m = made();
    let (dir, code, out) = &m.first;
    assert_eq!(*code, Some(1), "{out}");
    assert!(out.contains("SURPRISE serializable-wrongly-valid"), "{out}");
    assert!(out.contains("1 of 2 entries as expected"), "{out}");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let doc = well_formed(&junit);
    assert!(
        doc.contains("tests=\"2\" failures=\"1\" errors=\"0\""),
        "{junit}"
    );
    let case = junit
        .split("<testcase ")
        .find(|c| c.contains("name=\"serializable-wrongly-valid\""))
        .unwrap_or_else(|| panic!("{junit}"));
    assert!(
        case.contains("<failure message=\"serializable-wrongly-valid: expected valid, got invalid (nonlinearizable)\""),
        "{case}"
    );
    let valid_case = junit
        .split("<testcase ")
        .find(|c| c.contains("name=\"register-valid\""))
        .unwrap();
    assert!(!valid_case.contains("<failure"), "{valid_case}");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("suite.json")).unwrap()).unwrap();
    assert_eq!(record["as_expected"], false);
    assert_eq!(record["entries"][1]["runs"][0]["got"]["verdict"], "invalid");
    // Each run's folder is a real run's, with its report.
    for e in record["entries"].as_array().unwrap() {
        let run = PathBuf::from(e["runs"][0]["dir"].as_str().unwrap());
        assert!(run.join("report.html").is_file(), "{}", run.display());
    }
    let page = chromium_dom_url(
        &format!("file://{}", dir.join("suite.html").display()),
        &m.store.parent().unwrap().join("suite-page"),
    );
    assert!(page.contains("1 of 2 entries as expected"), "{page}");
    assert!(page.contains("SURPRISE") && page.contains("as expected"));
}

#[test]
fn the_next_suite_run_compares_with_the_previous() {
    let m = made();
    let page = std::fs::read_to_string(m.second.join("suite.html")).unwrap();
    assert!(
        page.contains("Compared with an earlier run of this suite"),
        "{page}"
    );
    // The valid entry ran in both: a summary row, and its rows, verdict and system version among
    // them.
    assert!(page.contains("<table id=\"compared\">"), "{page}");
    assert!(page.contains("href=\"#compare-register-valid\""), "{page}");
    assert!(
        page.contains("<details id=\"compare-register-valid\">"),
        "{page}"
    );
    assert!(page.contains("etcd Version: 3.4"), "{page}");
    assert!(page.contains("ok/fail/unknown"), "{page}");
}

/// Every run folder in the store: `<config>/<time>/` holding a run's config, links such as
/// `latest` aside.
fn run_folders(store: &Path) -> Vec<String> {
    let mut runs = Vec::new();
    for c in std::fs::read_dir(store).unwrap() {
        let c = c.unwrap();
        if c.file_name() == "suites" || !c.file_type().unwrap().is_dir() {
            continue;
        }
        for r in std::fs::read_dir(c.path()).unwrap() {
            let r = r.unwrap();
            if r.file_type().unwrap().is_dir() && r.path().join("config.yaml").is_file() {
                runs.push(format!(
                    "{}/{}",
                    c.file_name().to_string_lossy(),
                    r.file_name().to_string_lossy()
                ));
            }
        }
    }
    runs
}

#[test]
fn the_index_lists_every_run_folder_with_and_without_suites() {
    let m = made();
    let runs = run_folders(&m.store);
    assert_eq!(runs.len(), 4, "{runs:?}");
    // Chromium's profile goes beside the store, not in it.
    let dom = chromium_dom_url(
        &format!("file://{}", m.store.join("index.html").display()),
        &m.store.parent().unwrap().join("index-page"),
    );
    assert!(
        dom.contains("data-script=\"ran\""),
        "the page's script did not run"
    );
    for r in &runs {
        assert!(
            dom.contains(&format!("data-run=\"{r}\"")),
            "{r} missing from\n{dom}"
        );
    }
    // Three runs from suites, one without: its suite cell says so.
    let rows: Vec<&str> = dom.split("<tr data-verdict=").skip(1).collect();
    assert_eq!(rows.len(), 4);
    let in_suite = rows
        .iter()
        .filter(|r| r.contains("suite.html\">smoke</a>"))
        .count();
    assert_eq!(in_suite, 3, "{dom}");
    assert!(rows.iter().any(|r| r.contains(">invalid<")));
    // Both suite runs are listed, with links to their pages.
    for d in [&m.first.0, &m.second] {
        let stamp = d.file_name().unwrap().to_string_lossy();
        let link = format!("href=\"suites/smoke/{stamp}/suite.html\">suites/smoke/{stamp}<");
        assert!(dom.contains(&link), "{link} missing from\n{dom}");
    }
}

/// The server, stopped by PID when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_answers_with_the_index_and_a_report() {
    let m = made();
    let mut child = Server(
        std::process::Command::new(assert_cmd::cargo::cargo_bin!("ferret"))
            .args(["serve", "--port", "0", "--store"])
            .arg(&m.store)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let child = &mut child.0;
    let mut line = String::new();
    {
        use std::io::BufRead;
        let mut r = std::io::BufReader::new(child.stdout.as_mut().unwrap());
        r.read_line(&mut line).unwrap();
    }
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let place = m.store.parent().unwrap().join("served");
    let dom = chromium_dom_url(&url, &place);
    let runs = run_folders(&m.store);
    for r in &runs {
        assert!(
            dom.contains(&format!("data-run=\"{r}\"")),
            "{r} missing from\n{dom}"
        );
    }
    assert!(dom.contains("data-script=\"ran\""));
    let report = format!("{url}{}/report.html", runs[0]);
    let page = chromium_dom_url(&report, &m.store.parent().unwrap().join("served-report"));
    assert!(
        page.contains("data-script=\"ran\"") && page.contains("seed"),
        "{page}"
    );
    let suite_page = format!(
        "{url}suites/smoke/{}/suite.html",
        m.first.0.file_name().unwrap().to_string_lossy()
    );
    let page = chromium_dom_url(&suite_page, &m.store.parent().unwrap().join("served-suite"));
    assert!(page.contains("1 of 2 entries as expected"), "{page}");
    // SIGTERM stops it, exit 0.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// The document read through to its end by an XML parser, which refuses a malformed one.
fn well_formed(xml: &str) -> String {
    let mut r = quick_xml::Reader::from_str(xml);
    r.config_mut().check_end_names = true;
    loop {
        match r.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("junit.xml is not well formed: {e}\n{xml}"),
        }
    }
    xml.to_string()
}

#[test]
fn fail_fast_stops_after_a_surprise_and_the_rest_is_skipped() {
    // The first entry cannot run (no nodes): a surprise without starting anything.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("ff.yaml");
    std::fs::write(
        &file,
        format!(
            "name: ff\nentries:\n  - name: no-nodes\n    config: {c}\n    nodes: 0\n    expect: valid\n  \
             - name: never\n    config: {c}\n    expect: valid\n",
            c = repo().join("configs/etcd.yaml").display()
        ),
    )
    .unwrap();
    let store = tmp.path().join("store");
    let (code, out) = suite(&[
        file.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--fail-fast",
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("stopped: --fail-fast: no-nodes gave a surprise"),
        "{out}"
    );
    let dir = suite_dir(&out);
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(
        junit.contains("errors=\"1\"") && junit.contains("skipped=\"1\""),
        "{junit}"
    );
    assert!(
        junit.contains("<error message=\"no-nodes: expected valid, got could not run\""),
        "{junit}"
    );
    // The run's own error is in the report: why it could not run.
    assert!(junit.contains("platform.nodes"), "{junit}");
    assert!(store.join("index.html").is_file());
}

#[test]
fn bad_suite_files_name_the_line_and_dry_run_lists_the_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        format!(
            "entries:\n  - name: a\n    config: {}\n    expect:\n      verdict: invalid\n      anomaly: stale-read\n",
            repo().join("configs/etcd.yaml").display()
        ),
    )
    .unwrap();
    let (code, out) = suite(&[bad.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("bad.yaml:4:")
            && out.contains("stale-read")
            && out.contains("nonlinearizable"),
        "{out}"
    );
    let (code, out) = suite(&["suites/etcd-3.4.yaml", "--dry-run", "--quick"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("lock-expired-waiter: configs/etcd-lock-unverified.yaml seed 1, 20 s"),
        "{out}"
    );
    assert!(
        out.contains("append-serializable-reads") && out.contains("30 s"),
        "{out}"
    );
    for s in ["suites/dqlite.yaml", "suites/nats.yaml"] {
        let (code, out) = suite(&[s, "--dry-run"]);
        assert_eq!(code, Some(0), "{out}");
    }
}

#[test]
fn an_interrupted_suite_tears_its_run_down() {
    require(&ETCD_TOOLS);
    let _one_at_a_time = CLUSTERS.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("long.yaml");
    std::fs::write(
        &file,
        format!(
            "name: long\nentries:\n  - name: long\n    config: {}\n    time_limit: 60\n    expect: valid\n",
            repo().join("configs/etcd.yaml").display()
        ),
    )
    .unwrap();
    let store = tmp.path().join("store");
    let child = ferret()
        .args([
            "suite",
            file.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the run's cluster to be up (its history has events), then Ctrl-C the suite alone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let started = std::fs::read_dir(store.join("etcd"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .any(|e| {
                std::fs::metadata(e.path().join("history.jsonl")).is_ok_and(|m| m.len() > 1000)
            });
        if started {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("interrupted (Ctrl-C)"), "{text}");
    assert!(local_leftovers().is_empty(), "{:?}", local_leftovers());
    let dir = suite_dir(&text);
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("suite.json")).unwrap()).unwrap();
    assert_eq!(record["stopped"], "interrupted (Ctrl-C)");
    assert_eq!(record["as_expected"], false);
}
