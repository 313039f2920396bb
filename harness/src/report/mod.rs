//! Reports made from a checker's result: results.json for pipelines, JUnit XML for CI systems,
//! a page and plots for people, all written by `outputs::write`.

pub mod again;
pub mod compare;
pub mod cycle;
pub mod faults;
pub mod html;
pub mod junit;
pub mod outputs;
pub mod plots;
pub mod results;

use ferret_checkers::{Call, History};

/// A history's calls, for the figures and drawings of a report (a history that does not pair
/// has already failed its check, with the reason).
pub fn calls_of(history: &History) -> Vec<Call> {
    ferret_checkers::history::pair(history)
        .map(|(c, _)| c)
        .unwrap_or_default()
}
