//! One file per command: typed arguments → core → output.

pub mod calc;
pub mod demo;
pub mod fit;
pub mod forecast;
pub mod history;
pub mod plan;
pub mod report;
pub mod run;
pub mod serve_sim;
