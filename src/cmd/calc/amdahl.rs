//! `headroom calc amdahl`.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::model::amdahl::Amdahl;
use crate::output::{self, Doc, Format, Render, Section};
use crate::units::{count_needed, percent, sig, Amount, Fraction};

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

#[derive(Debug, Serialize)]
struct Row {
    n: f64,
    speedup: f64,
    efficiency: f64,
}

#[derive(Debug, Serialize)]
struct Answer {
    worksheet: &'static str,
    formula: &'static str,
    sigma: f64,
    ceiling: Option<f64>,
    rows: Vec<Row>,
    target_speedup: Option<f64>,
    /// `null` when the target is at or past the ceiling.
    n_for_target: Option<f64>,
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
    output::emit(&answer, args.format, out)?;
    Ok(())
}

impl Render for Answer {
    fn doc(&self) -> Doc {
        let mut table = Section::new("", &["N", "speedup S(N)", "efficiency S(N)/N"]);
        for r in &self.rows {
            table = table.row([sig(r.n, 6), sig(r.speedup, 4), percent(r.efficiency, 3)]);
        }
        let mut facts = Section::new("", &["", "value", "formula"])
            .row(["σ".into(), sig(self.sigma, 4), "given".into()])
            .row(["ceiling".into(), self.ceiling.map_or("none (σ = 0)".into(), |c| sig(c, 4)), "1/σ".into()]);
        if let Some(t) = self.target_speedup {
            let n = self.n_for_target.map_or("unreachable: at or past the ceiling".into(), count_needed);
            facts = facts.row([format!("N for speedup {}", sig(t, 4)), n, "S(1−σ) / (1 − Sσ)".into()]);
        }
        Doc { title: format!("Amdahl's law: {}", self.formula), sections: vec![facts, table] }
    }
}
