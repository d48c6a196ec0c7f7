//! SLO error budgets and burn rates.
//!
//! An SLO of objective o (e.g. 99.9%) over a window T allows a bad fraction 1 − o, that is
//! (1 − o)·T of full outage. A burn rate b = observed bad fraction / (1 − o) spends the whole
//! budget in T / b.

use serde::Serialize;

/// An SLO: the good fraction `objective` over `window_s` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Slo {
    pub objective: f64,
    pub window_s: f64,
}

/// One multi-window burn-rate alert: fire when both windows burn faster than `burn_rate`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertPair {
    pub severity: &'static str,
    /// Share of the whole budget this alert lets burn before it fires.
    pub budget_consumed: f64,
    pub long_window_s: f64,
    pub short_window_s: f64,
    /// b = consumed × T / long window.
    pub burn_rate: f64,
}

/// The alert ladder of the Google SRE workbook: page on 2% of the budget in 1 h and 5% in
/// 6 h, ticket on 10% in 3 d, each checked again over a short window of 1/12 of the long one.
const LADDER: [(&str, f64, f64); 3] =
    [("page", 0.02, 3600.0), ("page", 0.05, 6.0 * 3600.0), ("ticket", 0.10, 3.0 * 86_400.0)];

impl Slo {
    /// 1 − o: the share of requests (or time) allowed to be bad.
    pub fn allowed_bad_fraction(&self) -> f64 {
        1.0 - self.objective
    }

    /// (1 − o)·T: the budget as seconds of full outage.
    pub fn budget_s(&self) -> f64 {
        self.allowed_bad_fraction() * self.window_s
    }

    /// b = observed bad fraction / (1 − o).
    pub fn burn_rate(&self, observed_bad: f64) -> f64 {
        observed_bad / self.allowed_bad_fraction()
    }

    /// Seconds until the `remaining` share of the budget is spent at `burn`: remaining·T / b.
    /// `None` when nothing burns.
    pub fn time_to_exhaustion_s(&self, burn: f64, remaining: f64) -> Option<f64> {
        (burn > 0.0).then(|| remaining * self.window_s / burn)
    }

    /// The multi-window alert pairs whose long window fits in the SLO window.
    pub fn alert_pairs(&self) -> Vec<AlertPair> {
        LADDER
            .iter()
            .filter(|(_, _, long)| *long <= self.window_s)
            .map(|&(severity, consumed, long)| AlertPair {
                severity,
                budget_consumed: consumed,
                long_window_s: long,
                short_window_s: long / 12.0,
                burn_rate: consumed * self.window_s / long,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: f64 = 86_400.0;

    #[test]
    fn hand_computed_budgets() {
        let month = Slo { objective: 0.999, window_s: 30.0 * DAY };
        assert!((month.budget_s() / 60.0 - 43.2).abs() < 1e-9);
        let quarter = Slo { objective: 0.999, window_s: 90.0 * DAY };
        assert!((quarter.budget_s() / 60.0 - 129.6).abs() < 1e-9);
        let hours = month.time_to_exhaustion_s(14.4, 1.0).unwrap() / 3600.0;
        assert!((hours - 50.0).abs() < 1e-9);
        assert!((month.burn_rate(0.0144) - 14.4).abs() < 1e-9);
    }

    #[test]
    fn standard_ladder_for_thirty_days() {
        let pairs = Slo { objective: 0.999, window_s: 30.0 * DAY }.alert_pairs();
        let burns: Vec<f64> = pairs.iter().map(|p| p.burn_rate).collect();
        assert_eq!(pairs.len(), 3);
        for (got, want) in burns.iter().zip([14.4, 6.0, 1.0]) {
            assert!((got - want).abs() < 1e-9, "{burns:?}");
        }
        assert_eq!(pairs[0].short_window_s, 300.0);
        assert_eq!(Slo { objective: 0.99, window_s: DAY }.alert_pairs().len(), 2);
    }
}
