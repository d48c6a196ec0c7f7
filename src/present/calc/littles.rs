//! The `calc littles` worksheet as a document.

use crate::model::littles::Solved;
use crate::present::Present;
use crate::units::{human_duration, sig};
use crate::view::{Document, Table};
use serde::Serialize;

/// The worksheet's answer.
#[derive(Debug, Serialize)]
pub struct Answer {
    pub worksheet: &'static str,
    pub formula: &'static str,
    pub solved_for: Solved,
    pub in_flight: f64,
    pub throughput_rps: f64,
    pub latency_s: f64,
}

impl Present for Answer {
    /// Its fields with plain numbers, no units.
    fn csv(&self) -> Option<Table> {
        Some(crate::present::fields(self))
    }

    fn view(&self) -> Document {
        let how =
            |s: Solved, formula: &str| if s == self.solved_for { format!("solved: {formula}") } else { "given".into() };
        let s = Table::new("", &["quantity", "value", ""])
            .row(["L (in flight)".into(), sig(self.in_flight, 5), how(Solved::InFlight, "L = λ·W")])
            .row([
                "λ (throughput)".into(),
                format!("{} req/s", sig(self.throughput_rps, 5)),
                how(Solved::Throughput, "λ = L/W"),
            ])
            .row(["W (latency)".into(), human_duration(self.latency_s), how(Solved::Latency, "W = L/λ")]);
        Document::tables("Little's Law: L = λ·W", vec![s])
    }
}
