//! The `calc amdahl` worksheet as a document.

use crate::present::Present;
use crate::units::{count_needed, percent, sig};
use crate::view::{Document, Table};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Row {
    pub n: f64,
    pub speedup: f64,
    pub efficiency: f64,
}

#[derive(Debug, Serialize)]
pub struct Answer {
    pub worksheet: &'static str,
    pub formula: &'static str,
    pub sigma: f64,
    pub ceiling: Option<f64>,
    pub rows: Vec<Row>,
    pub target_speedup: Option<f64>,
    /// `null` when the target is at or past the ceiling.
    pub n_for_target: Option<f64>,
}

impl Present for Answer {
    /// Its fields with plain numbers, no units.
    fn csv(&self) -> Option<Table> {
        Some(crate::present::fields(self))
    }

    fn view(&self) -> Document {
        let mut table = Table::new("", &["N", "speedup S(N)", "efficiency S(N)/N"]);
        for r in &self.rows {
            table = table.row([sig(r.n, 6), sig(r.speedup, 4), percent(r.efficiency, 3)]);
        }
        let mut facts = Table::new("", &["", "value", "formula"])
            .row(["σ".into(), sig(self.sigma, 4), "given".into()])
            .row(["ceiling".into(), self.ceiling.map_or("none (σ = 0)".into(), |c| sig(c, 4)), "1/σ".into()]);
        if let Some(t) = self.target_speedup {
            let n = self.n_for_target.map_or("unreachable: at or past the ceiling".into(), count_needed);
            facts = facts.row([format!("N for speedup {}", sig(t, 4)), n, "S(1−σ) / (1 − Sσ)".into()]);
        }
        Document::tables(format!("Amdahl's law: {}", self.formula), vec![facts, table])
    }
}
