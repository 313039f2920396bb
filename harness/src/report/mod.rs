//! Reports made from a checker's result: JUnit XML for CI systems.

pub mod junit;
