//! Historical request-rate CSVs (or a Prometheus range query's JSON): read in one streaming pass, rolled up by day, hour of week and
//! month, with every data-quality finding reported and nothing dropped or "fixed" silently.
//!
//! Memory holds one small record per day of history and a fixed 168-slot weekly profile, never
//! the rows: a year of per-second data costs the same as a year of per-hour data.

mod accumulator;
mod prometheus;
mod quality;
pub mod query;
mod reader;
mod rollup;

pub use quality::{Gap, Outage, Quality};
pub use reader::{read, read_from, Columns, Options};
pub use rollup::{Day, History, Native, Period};

/// The period of a roll-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Hour,
    Day,
    Month,
}
