//! The README is a front page: short, and every link in it and in docs/ leads to a file of the
//! repository (or of the shared data beside it).

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Relative link targets of a Markdown file: `](target)` or `](target#anchor)`.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        let target = rest[..end].split('#').next().unwrap_or("").trim();
        if !target.is_empty() && !target.contains("://") {
            out.push(target.to_string());
        }
    }
    out
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![repo().join("README.md")];
    let docs = std::fs::read_dir(repo().join("docs")).unwrap();
    files.extend(
        docs.map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md")),
    );
    files
}

#[test]
fn every_relative_link_resolves() {
    let mut checked = 0;
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap_or(Path::new("."));
        for target in links(&text) {
            assert!(
                dir.join(&target).exists(),
                "{}: link to {target} leads nowhere",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: the scan is broken"
    );
}

#[test]
fn the_readme_is_a_front_page() {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = text.lines().count();
    assert!(
        lines < 200,
        "README.md has {lines} lines; the rest belongs in docs/"
    );
    for doc in [
        "docs/running.md",
        "docs/checking.md",
        "docs/faults.md",
        "docs/findings.md",
    ] {
        assert!(
            text.contains(&format!("]({doc})")),
            "README.md does not link {doc}"
        );
    }
}
