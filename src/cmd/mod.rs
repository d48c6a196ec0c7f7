//! One file per command: typed arguments → core → output.

pub mod calc;
pub mod fit;
pub mod forecast;
pub mod history;
pub mod plan;
pub mod run;
pub mod serve_sim;
