//! The `calc usl` worksheet as a document.

use crate::model::usl::{Peak, Usl};
use crate::present::Present;
use crate::units::{count_needed, sig};
use crate::view::{Document, Table};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Row {
    pub n: f64,
    pub throughput_rps: f64,
    pub latency_s: f64,
}

#[derive(Debug, Serialize)]
pub struct Answer {
    pub worksheet: &'static str,
    pub formula: &'static str,
    pub curve: Usl,
    pub peak: Option<Peak>,
    pub rows: Vec<Row>,
    pub target_throughput_rps: Option<f64>,
    /// `null` when the target is past the curve's peak or ceiling.
    pub n_for_target: Option<f64>,
}

impl Present for Answer {
    /// Its fields with plain numbers, no units.
    fn csv(&self) -> Option<Table> {
        Some(crate::present::fields(self))
    }

    fn view(&self) -> Document {
        let c = &self.curve;
        let mut facts = Table::new("", &["", "value", "formula"]).row([
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
        let mut table = Table::new("", &["N", "X(N) req/s", "latency N/X (Little)"]);
        for r in &self.rows {
            table = table.row([sig(r.n, 6), sig(r.throughput_rps, 5), crate::units::human_duration(r.latency_s)]);
        }
        Document::tables(format!("Universal Scalability Law: {}", self.formula), vec![facts, table])
    }
}
