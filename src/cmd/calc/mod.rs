//! `headroom calc`: worksheets that state their inputs, formula and answer.

mod amdahl;
mod budget;
mod littles;
mod queue;
mod usl;

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;

/// The worksheets.
#[derive(Debug, Subcommand)]
pub enum CalcCommand {
    /// Little's Law L = λ·W: give any two of in-flight, throughput and latency
    Littles(littles::LittlesArgs),
    /// Amdahl's law S(N) = N / (1 + σ(N−1)): speedup, efficiency, ceiling
    Amdahl(amdahl::AmdahlArgs),
    /// Universal Scalability Law: X(N), the peak N*, the N for a target throughput
    Usl(usl::UslArgs),
    /// M/M/c (Erlang C) queue: waiting, latency percentiles and the utilization cliff
    Queue(queue::QueueArgs),
    /// SLO error budget: allowed downtime, burn rate, time to exhaustion, alert pairs
    Budget(budget::BudgetArgs),
}

/// Runs one worksheet.
pub fn run(cmd: CalcCommand, out: &mut dyn Write) -> Result<()> {
    match cmd {
        CalcCommand::Littles(a) => littles::run(a, out),
        CalcCommand::Amdahl(a) => amdahl::run(a, out),
        CalcCommand::Usl(a) => usl::run(a, out),
        CalcCommand::Queue(a) => queue::run(a, out),
        CalcCommand::Budget(a) => budget::run(a, out),
    }
}
