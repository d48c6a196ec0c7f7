//! `headroom calc budget`.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::error::InputError;
use crate::model::budget::{AlertPair, Slo};
use crate::output::{self, Doc, Format, Render, Section};
use crate::units::{human_duration, percent, sig, Amount, Fraction, Span};

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

#[derive(Debug, Serialize)]
struct Answer {
    worksheet: &'static str,
    formula: &'static str,
    slo: Slo,
    allowed_bad_fraction: f64,
    budget_s: f64,
    burn_rate: Option<f64>,
    remaining: f64,
    time_to_exhaustion_s: Option<f64>,
    alert_pairs: Vec<AlertPair>,
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
    output::emit(&answer, args.format, out)?;
    Ok(())
}

/// The budget in minutes, and in a larger unit too when it reads better there.
fn minutes(secs: f64) -> String {
    let min = format!("{} min", sig(secs / 60.0, 5));
    let human = human_duration(secs);
    if human == min {
        min
    } else {
        format!("{human} ({min})")
    }
}

impl Render for Answer {
    fn doc(&self) -> Doc {
        let mut facts = Section::new("", &["", "value", "formula"])
            .row([
                "SLO, window".into(),
                format!("{} over {}", percent(self.slo.objective, 4), human_duration(self.slo.window_s)),
                "given".into(),
            ])
            .row(["allowed bad share".into(), percent(self.allowed_bad_fraction, 4), "1 − SLO".into()])
            .row(["budget".into(), minutes(self.budget_s), "(1 − SLO)·window".into()]);
        if let Some(b) = self.burn_rate {
            facts = facts.row(["burn rate".into(), sig(b, 4), "bad share / (1 − SLO)".into()]);
            let t = self.time_to_exhaustion_s.map_or("never".into(), human_duration);
            facts = facts.row([
                format!("time to spend {} of the budget", percent(self.remaining, 4)),
                t,
                "remaining·window / burn".into(),
            ]);
        }
        let mut alerts = Section::new(
            "Multi-window burn-rate alerts (fire when both windows burn faster)",
            &["severity", "budget spent", "long window", "short window", "burn rate >"],
        );
        for a in &self.alert_pairs {
            alerts = alerts.row([
                a.severity.into(),
                percent(a.budget_consumed, 4),
                human_duration(a.long_window_s),
                human_duration(a.short_window_s),
                sig(a.burn_rate, 4),
            ]);
        }
        Doc { title: "SLO error budget".into(), sections: vec![facts, alerts] }
    }
}
