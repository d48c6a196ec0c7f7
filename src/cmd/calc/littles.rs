//! `headroom calc littles`.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use crate::error::InputError;
use crate::model::littles::{self};
use crate::output::Format;
use crate::present::calc::littles::*;
use crate::units::{Amount, Rate, Span};

/// Arguments of `calc littles`: exactly two of the three.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  headroom calc littles --throughput 1.5k --latency 120ms   # 180 in flight")]
pub struct LittlesArgs {
    /// L: mean requests in flight (concurrency)
    #[arg(long, allow_hyphen_values = true, value_name = "L")]
    pub in_flight: Option<Amount>,
    /// λ: throughput, requests per second (e.g. 1.5k)
    #[arg(long, allow_hyphen_values = true, value_name = "RATE")]
    pub throughput: Option<Rate>,
    /// W: mean time in the system (e.g. 120ms)
    #[arg(long, allow_hyphen_values = true, value_name = "DURATION")]
    pub latency: Option<Span>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: LittlesArgs, out: &mut dyn Write) -> Result<()> {
    let (l, solved_for) =
        littles::solve(args.in_flight.map(|a| a.0), args.throughput.map(|r| r.0), args.latency.map(|s| s.secs()))
            .map_err(|e| InputError::Usage(format!("{e}: use two of --in-flight, --throughput, --latency")))?;
    let answer = Answer {
        worksheet: "littles",
        formula: "L = λ·W",
        solved_for,
        in_flight: l.in_flight,
        throughput_rps: l.throughput_rps,
        latency_s: l.latency_s,
    };
    crate::cmd::emit(&answer, args.format, out, None)?;
    Ok(())
}
