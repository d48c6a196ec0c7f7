//! The `calc budget` worksheet as a document.

use crate::model::budget::{AlertPair, Slo};
use crate::present::Present;
use crate::units::{human_duration, percent, sig};
use crate::view::{Document, Table};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Answer {
    pub worksheet: &'static str,
    pub formula: &'static str,
    pub slo: Slo,
    pub allowed_bad_fraction: f64,
    pub budget_s: f64,
    pub burn_rate: Option<f64>,
    pub remaining: f64,
    pub time_to_exhaustion_s: Option<f64>,
    pub alert_pairs: Vec<AlertPair>,
}

/// The budget in minutes, and in a larger unit too when it reads better there.
pub(crate) fn minutes(secs: f64) -> String {
    let min = format!("{} min", sig(secs / 60.0, 5));
    let human = human_duration(secs);
    if human == min {
        min
    } else {
        format!("{human} ({min})")
    }
}

impl Present for Answer {
    /// Its fields with plain numbers, no units.
    fn csv(&self) -> Option<Table> {
        Some(crate::present::fields(self))
    }

    fn view(&self) -> Document {
        let mut facts = Table::new("", &["", "value", "formula"])
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
        let mut alerts = Table::new(
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
        Document::tables("SLO error budget", vec![facts, alerts])
    }
}
