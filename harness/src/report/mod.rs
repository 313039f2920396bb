//! Reports made from a checker's result: JUnit XML for CI systems, a page for people.

pub mod html;
pub mod junit;
pub mod plots;
