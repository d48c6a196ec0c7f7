//! `headroom calc usl`.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::model::usl::{Peak, Usl};
use crate::output::{self, Doc, Format, Render, Section};
use crate::units::{count_needed, sig, Amount, Fraction, Rate};

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

#[derive(Debug, Serialize)]
struct Row {
    n: f64,
    throughput_rps: f64,
    latency_s: f64,
}

#[derive(Debug, Serialize)]
struct Answer {
    worksheet: &'static str,
    formula: &'static str,
    curve: Usl,
    peak: Option<Peak>,
    rows: Vec<Row>,
    target_throughput_rps: Option<f64>,
    /// `null` when the target is past the curve's peak or ceiling.
    n_for_target: Option<f64>,
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
    output::emit(&answer, args.format, out)?;
    Ok(())
}

impl Render for Answer {
    fn doc(&self) -> Doc {
        let c = &self.curve;
        let mut facts = Section::new("", &["", "value", "formula"]).row([
            "λ, σ, κ".into(),
            format!("{}, {}, {}", sig(c.lambda, 5), sig(c.sigma, 4), sig(c.kappa, 4)),
            "given".into(),
        ]);
        facts = match self.peak {
            Some(p) => facts
                .row([
                    "peak N*".into(),
                    format!("{} (best whole N = {})", sig(p.concurrency, 4), p.whole_concurrency),
                    "√((1−σ)/κ)".into(),
                ])
                .row(["X(N*)".into(), format!("{} req/s", sig(p.throughput, 5)), "".into()]),
            None => facts.row([
                "peak".into(),
                c.asymptote().map_or("none".into(), |a| format!("none; X → λ/σ = {} req/s", sig(a, 5))),
                "κ = 0".into(),
            ]),
        };
        if let Some(t) = self.target_throughput_rps {
            let n = self.n_for_target.map_or("unreachable: past the peak".into(), count_needed);
            facts = facts.row([
                format!("N for {} req/s", sig(t, 6)),
                n,
                "smaller root of κX·N² + (σX − κX − λ)N + X(1−σ) = 0".into(),
            ]);
        }
        let mut table = Section::new("", &["N", "X(N) req/s", "latency N/X (Little)"]);
        for r in &self.rows {
            table = table.row([sig(r.n, 6), sig(r.throughput_rps, 5), crate::units::human_duration(r.latency_s)]);
        }
        Doc { title: format!("Universal Scalability Law: {}", self.formula), sections: vec![facts, table] }
    }
}
