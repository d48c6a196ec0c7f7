//! `headroom calc usl`.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use crate::model::usl::Usl;
use crate::output::Format;
use crate::present::calc::usl::*;
use crate::units::{Amount, Fraction, Rate};

/// Arguments of `calc usl`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  headroom calc usl --lambda 90 --sigma 0.0277 --kappa 0.000104 --n 32,64,128 --target-throughput 1.8k"
)]
pub struct UslArgs {
    /// λ: throughput of one unit at N = 1, requests per second
    #[arg(long, allow_hyphen_values = true, value_name = "RATE")]
    pub lambda: Rate,
    /// σ: contention, the share of the work that serialises, from 0 to 1 (0.05 or 5%)
    #[arg(long, allow_hyphen_values = true, value_name = "SIGMA")]
    pub sigma: Fraction,
    /// κ: coherency (≥ 0)
    #[arg(long, allow_hyphen_values = true, value_name = "KAPPA")]
    pub kappa: Amount,
    /// Concurrencies at which to show X(N)
    #[arg(long, allow_hyphen_values = true, value_name = "N", value_delimiter = ',', default_values = ["1", "2", "4", "8", "16", "32", "64", "128"])]
    pub n: Vec<Amount>,
    /// Find the smallest N that reaches this throughput
    #[arg(long, allow_hyphen_values = true, value_name = "RATE")]
    pub target_throughput: Option<Rate>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: UslArgs, out: &mut dyn Write) -> Result<()> {
    let curve = Usl { lambda: args.lambda.0, sigma: args.sigma.0, kappa: args.kappa.0 };
    let rows = args
        .n
        .iter()
        .filter(|n| n.0 > 0.0)
        .map(|n| Row { n: n.0, throughput_rps: curve.throughput(n.0), latency_s: curve.latency_s(n.0) })
        .collect();
    let answer = Answer {
        worksheet: "usl",
        formula: "X(N) = λN / (1 + σ(N−1) + κN(N−1))",
        curve,
        peak: curve.peak(),
        rows,
        target_throughput_rps: args.target_throughput.map(|t| t.0),
        n_for_target: args.target_throughput.and_then(|t| curve.n_for_throughput(t.0)),
    };
    crate::cmd::emit(&answer, args.format, out, None)?;
    Ok(())
}
