//! The store as a site: `index.html` at its top, listing every run and suite, and `ferret serve`,
//! which serves the store over HTTP. Pages link to each other by relative paths, so the same
//! pages work from `file://` and through the server.
//!
//! - index.rs: the store's index.html
//! - serve.rs: `ferret serve`

pub mod index;
pub mod serve;

use std::path::{Component, Path, PathBuf};

/// What a link to a run opens: its report.html, or its folder when it has none (a run that could
/// not run, or is still running).
pub fn run_page(dir: &Path) -> PathBuf {
    let report = dir.join("report.html");
    if report.is_file() {
        report
    } else {
        dir.to_path_buf()
    }
}

/// A path made absolute (against the working directory) with `.` and `..` resolved by their
/// text, not the file system: the targets of a link may not exist yet.
fn absolute(p: &Path) -> PathBuf {
    let full = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in full.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// The link from a page in folder `from` to `target`, relative, with `/` separators.
pub fn relative_link(from: &Path, target: &Path) -> String {
    let (from, target) = (absolute(from), absolute(target));
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = target.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); f.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::relative_link;
    use std::path::Path;

    #[test]
    fn links_are_relative() {
        assert_eq!(
            relative_link(
                Path::new("/s/suites/x/1"),
                Path::new("/s/etcd/2/report.html")
            ),
            "../../../etcd/2/report.html"
        );
        assert_eq!(
            relative_link(
                Path::new("/s/suites/x/1"),
                Path::new("/s/suites/x/1/../../../index.html")
            ),
            "../../../index.html"
        );
        assert_eq!(relative_link(Path::new("/s"), Path::new("/s/a/b")), "a/b");
    }
}
