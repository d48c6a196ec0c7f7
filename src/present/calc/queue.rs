//! The `calc queue` worksheet as a document.

use crate::model::queue::{Latency, MMc};
use crate::present::Present;
use crate::units::{human_duration, percent, sig, Percentile};
use crate::view::{Document, Table};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Step {
    pub utilization: f64,
    pub arrival_rps: f64,
    pub wait_probability: f64,
    pub percentile_s: f64,
}

#[derive(Debug, Serialize)]
pub struct Answer {
    pub worksheet: &'static str,
    pub formula: &'static str,
    pub queue: MMc,
    pub of: Latency,
    pub percentile: f64,
    pub utilization: f64,
    pub wait_probability: f64,
    pub mean_wait_s: f64,
    pub mean_response_s: f64,
    pub percentile_s: f64,
    pub cliff: Vec<Step>,
    pub bound_s: Option<f64>,
    pub max_arrival_rps: Option<f64>,
    pub max_utilization: Option<f64>,
}

impl Present for Answer {
    /// Its fields with plain numbers, no units.
    fn csv(&self) -> Option<Table> {
        Some(crate::present::fields(self))
    }

    fn view(&self) -> Document {
        let p = Percentile(self.percentile).to_string();
        let of = match self.of {
            Latency::Wait => "wait",
            Latency::Response => "response",
        };
        let m = &self.queue;
        let mut facts = Table::new("", &["", "value", "formula"])
            .row([
                "λ, S, c".into(),
                format!("{} req/s, {}, {}", sig(m.arrival_rps, 5), human_duration(m.service_s), m.servers),
                "given".into(),
            ])
            .row(["utilization ρ".into(), percent(self.utilization, 4), "λS / c".into()])
            .row(["P(wait)".into(), percent(self.wait_probability, 4), "Erlang C".into()])
            .row(["mean wait".into(), human_duration(self.mean_wait_s), "C / (c/S − λ)".into()])
            .row(["mean response".into(), human_duration(self.mean_response_s), "Wq + S".into()])
            .row([
                format!("{p} {of}"),
                human_duration(self.percentile_s),
                "from the M/M/c latency distribution".into(),
            ]);
        if let Some(b) = self.bound_s {
            let v = match (self.max_arrival_rps, self.max_utilization) {
                (Some(r), Some(u)) => format!("{} req/s ({}% utilization)", sig(r, 5), sig(u * 100.0, 3)),
                _ => "none: even an idle queue misses it".into(),
            };
            facts = facts.row([format!("max λ with {p} {of} ≤ {}", human_duration(b)), v, "bisection on λ".into()]);
        }
        let mut cliff = Table::new(
            &format!("The cliff: {p} {of} as utilization rises"),
            &["utilization", "λ req/s", "P(wait)", &format!("{p} {of}")],
        );
        for st in &self.cliff {
            cliff = cliff.row([
                percent(st.utilization, 3),
                sig(st.arrival_rps, 5),
                percent(st.wait_probability, 3),
                human_duration(st.percentile_s),
            ]);
        }
        Document::tables("M/M/c queue (Erlang C)", vec![facts, cliff])
    }
}
