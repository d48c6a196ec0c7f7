//! `headroom calc budget`.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use crate::error::InputError;
use crate::model::budget::Slo;
use crate::output::Format;
use crate::present::calc::budget::*;
use crate::units::{Amount, Fraction, Span};

/// Arguments of `calc budget`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  headroom calc budget --slo 99.9% --window 30d\n  headroom calc budget --slo 99.9% --window 30d --burn-rate 14.4"
)]
pub struct BudgetArgs {
    /// The SLO objective: the share of good requests (e.g. 99.9%)
    #[arg(long, allow_hyphen_values = true, value_name = "PERCENT")]
    pub slo: Fraction,
    /// The SLO window (e.g. 30d, 4w, 90d)
    #[arg(long, allow_hyphen_values = true, value_name = "DURATION", default_value = "30d")]
    pub window: Span,
    /// The observed share of bad requests (e.g. 1.44%); gives the burn rate
    #[arg(long, allow_hyphen_values = true, value_name = "PERCENT", conflicts_with = "burn_rate")]
    pub error_rate: Option<Fraction>,
    /// A burn rate to evaluate (1 spends the budget exactly over the window)
    #[arg(long, allow_hyphen_values = true, value_name = "RATE")]
    pub burn_rate: Option<Amount>,
    /// The share of the budget still left
    #[arg(long, allow_hyphen_values = true, value_name = "PERCENT", default_value = "100%")]
    pub remaining: Fraction,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: BudgetArgs, out: &mut dyn Write) -> Result<()> {
    if args.slo.0 >= 1.0 || args.window.secs() <= 0.0 {
        return Err(InputError::Usage(
            "--slo must be below 100% and --window above zero: a 100% SLO has no budget".into(),
        )
        .into());
    }
    let slo = Slo { objective: args.slo.0, window_s: args.window.secs() };
    let burn_rate = args.burn_rate.map(|b| b.0).or(args.error_rate.map(|e| slo.burn_rate(e.0)));
    let answer = Answer {
        worksheet: "budget",
        formula: "budget = (1 − SLO)·window; burn = bad fraction / (1 − SLO); exhaustion = remaining·window / burn",
        slo,
        allowed_bad_fraction: slo.allowed_bad_fraction(),
        budget_s: slo.budget_s(),
        burn_rate,
        remaining: args.remaining.0,
        time_to_exhaustion_s: burn_rate.and_then(|b| slo.time_to_exhaustion_s(b, args.remaining.0)),
        alert_pairs: slo.alert_pairs(),
    };
    crate::cmd::emit(&answer, args.format, out, None)?;
    Ok(())
}
