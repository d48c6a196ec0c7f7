//! `headroom calc amdahl`.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use crate::model::amdahl::Amdahl;
use crate::output::Format;
use crate::present::calc::amdahl::*;
use crate::units::{Amount, Fraction};

/// Arguments of `calc amdahl`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  headroom calc amdahl --sigma 5% --n 8,16,32 --target-speedup 10")]
pub struct AmdahlArgs {
    /// σ: the serial fraction (e.g. 5% or 0.05)
    #[arg(long, allow_hyphen_values = true, value_name = "FRACTION")]
    pub sigma: Fraction,
    /// Workers at which to show speedup and efficiency
    #[arg(long, allow_hyphen_values = true, value_name = "N", value_delimiter = ',', default_values = ["1", "2", "4", "8", "16", "32", "64"])]
    pub n: Vec<Amount>,
    /// Find the N that reaches this speedup
    #[arg(long, allow_hyphen_values = true, value_name = "S")]
    pub target_speedup: Option<Amount>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: AmdahlArgs, out: &mut dyn Write) -> Result<()> {
    let a = Amdahl { sigma: args.sigma.0 };
    let rows = args
        .n
        .iter()
        .filter(|n| n.0 >= 1.0)
        .map(|n| Row { n: n.0, speedup: a.speedup(n.0), efficiency: a.efficiency(n.0) })
        .collect();
    let answer = Answer {
        worksheet: "amdahl",
        formula: "S(N) = N / (1 + σ(N−1))",
        sigma: a.sigma,
        ceiling: a.ceiling(),
        rows,
        target_speedup: args.target_speedup.map(|s| s.0),
        n_for_target: args.target_speedup.and_then(|s| a.n_for_speedup(s.0)),
    };
    crate::cmd::emit(&answer, args.format, out, None)?;
    Ok(())
}
