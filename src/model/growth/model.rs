//! One forecasting model: a mean trend and a way to get from it to a window's peak.
//!
//! The peak of a window of D days is the median of the largest daily peak in it, when each
//! day's peak is its base (the fitted mean times the typical peak-to-mean ratio, or the fitted
//! peak series) times a lognormal excess whose centre and spread are robust (median, MAD), so
//! one flash crowd in the history does not become every month's peak.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::trend::{self, robust_location_scale, Fit, Obs, Trend};
use schemars::JsonSchema;

/// One day of history as the forecaster sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DayObs {
    /// Days since 1970-01-01.
    pub day: i64,
    pub mean_rps: f64,
    pub peak_rps: f64,
    /// Share of the day's native intervals with a reading that counts.
    pub coverage: f64,
}

impl DayObs {
    /// Days under half covered, or with no traffic at all, are left out of fits.
    pub fn usable(&self) -> bool {
        self.coverage >= 0.5 && self.mean_rps > 0.0 && self.peak_rps > 0.0
    }
}

/// How a month's peak is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeakModel {
    /// Peak = fitted mean × the peak-to-mean ratio.
    Ratio,
    /// Peak = the daily-peak series' own fitted trend.
    Series,
}

impl PeakModel {
    pub const ALL: [PeakModel; 2] = [PeakModel::Ratio, PeakModel::Series];
}

/// Which days a model is fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Training {
    /// The whole history.
    All,
    /// The last 28 days only: follows a level that has moved, as exponential smoothing does.
    Recent,
}

impl Training {
    pub const ALL: [Training; 2] = [Training::All, Training::Recent];
    /// Days in a recent window.
    pub const RECENT_DAYS: usize = 28;
}

/// One point of the model space: trend family, peak model and training window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Spec {
    pub trend: Trend,
    pub peak_model: PeakModel,
    pub training: Training,
}

impl Spec {
    /// Every model the backtest chooses from, simplest first. A recent window only estimates a
    /// level: four weeks are too few to tell a growth rate from a passing surge.
    pub fn all() -> Vec<Spec> {
        let mut out = Vec::new();
        for (trend, training) in [
            (Trend::Flat, Training::All),
            (Trend::Flat, Training::Recent),
            (Trend::Linear, Training::All),
            (Trend::Compound, Training::All),
        ] {
            for peak_model in PeakModel::ALL {
                out.push(Spec { trend, peak_model, training });
            }
        }
        out
    }

    /// A short name: `compound trend, peak-to-mean ratio, last 28 days`.
    pub fn name(&self) -> String {
        let t = match self.trend {
            Trend::Flat => "flat",
            Trend::Linear => "linear trend",
            Trend::Compound => "compound trend",
        };
        let p = match self.peak_model {
            PeakModel::Ratio => "peak-to-mean ratio",
            PeakModel::Series => "peak series",
        };
        let w = match self.training {
            Training::All => "whole history",
            Training::Recent => "last 28 days",
        };
        format!("{t}, {p}, {w}")
    }
}

/// What the backtest chooses between: one model, or the median of all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Candidate {
    /// The median of every single model's forecast: robust to any one model's failure.
    Median,
    Single(Spec),
}

impl Candidate {
    /// The combination first, then the single models, simplest first.
    pub fn all() -> Vec<Candidate> {
        std::iter::once(Candidate::Median).chain(Spec::all().into_iter().map(Candidate::Single)).collect()
    }

    /// A short name.
    pub fn name(&self) -> String {
        match self {
            Candidate::Median => "median of all models".into(),
            Candidate::Single(s) => s.name(),
        }
    }
}

/// A fitted candidate: one model, or every model for the median.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub candidate: Candidate,
    pub members: Vec<Model>,
}

/// Fits a candidate; `None` when no model can be fitted.
pub fn fit_candidate(days: &[DayObs], candidate: Candidate) -> Option<Fitted> {
    let members: Vec<Model> = match candidate {
        Candidate::Median => Spec::all().into_iter().filter_map(|s| fit(days, s)).collect(),
        Candidate::Single(s) => fit(days, s).into_iter().collect(),
    };
    (!members.is_empty()).then_some(Fitted { candidate, members })
}

fn median_of(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

impl Fitted {
    /// Mean RPS over `days`: the members' median.
    pub fn mean_over(&self, days: &[i64]) -> f64 {
        median_of(self.members.iter().map(|m| m.mean_over(days)).collect())
    }

    /// The window peak: the members' median.
    pub fn peak_over(&self, days: &[i64]) -> f64 {
        median_of(self.members.iter().map(|m| m.peak_over(days)).collect())
    }
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub spec: Spec,
    pub mean_fit: Fit,
    pub peak_fit: Option<Fit>,
    /// Median and robust σ of ln(daily peak / base).
    pub excess_mu: f64,
    pub excess_sigma: f64,
    /// Usable days the model was fitted on.
    pub days: Vec<DayObs>,
}

/// Fits one model to the usable days of its training window; `None` with fewer than 7.
pub fn fit(days: &[DayObs], spec: Spec) -> Option<Model> {
    let (trend, peak_model) = (spec.trend, spec.peak_model);
    let from = match spec.training {
        Training::All => 0,
        Training::Recent => days.len().saturating_sub(Training::RECENT_DAYS),
    };
    let usable: Vec<DayObs> = days[from..].iter().filter(|d| d.usable()).copied().collect();
    if usable.len() < 7 {
        return None;
    }
    let means: Vec<Obs> = usable.iter().map(|d| Obs { day: d.day, value: d.mean_rps }).collect();
    let mean_fit = trend::fit(&means, trend);
    let peak_fit = (peak_model == PeakModel::Series)
        .then(|| trend::fit(&usable.iter().map(|d| Obs { day: d.day, value: d.peak_rps }).collect::<Vec<_>>(), trend));
    let mut m = Model { spec, mean_fit, peak_fit, excess_mu: 0.0, excess_sigma: 0.0, days: usable.clone() };
    // The ratio model's excess is the observed peak-to-mean ratio of each day, so that a trend
    // that fits the means poorly does not widen it; the series model's is the peak's own residual.
    let excess: Vec<f64> = usable
        .iter()
        .map(|d| match peak_model {
            PeakModel::Ratio => (d.peak_rps / d.mean_rps).ln(),
            PeakModel::Series => (d.peak_rps / m.base(d.day).max(1e-300)).ln(),
        })
        .collect();
    (m.excess_mu, m.excess_sigma) = robust_location_scale(&excess);
    Some(m)
}

impl Model {
    /// The base a day's peak is scaled from.
    fn base(&self, day: i64) -> f64 {
        match &self.peak_fit {
            Some(p) => p.at(day),
            None => self.mean_fit.at(day),
        }
    }

    /// Mean RPS over `days`, each day weighted alike.
    pub fn mean_over(&self, days: &[i64]) -> f64 {
        days.iter().map(|&d| self.mean_fit.at(d)).sum::<f64>() / days.len().max(1) as f64
    }

    /// The median of the largest daily peak over `days`: the x with
    /// Π_d Φ((ln x − ln base_d − μ) / σ) = ½, found by bisection.
    pub fn peak_over(&self, days: &[i64]) -> f64 {
        let logs: Vec<f64> = days.iter().map(|&d| self.base(d).max(1e-300).ln() + self.excess_mu).collect();
        let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sigma = self.excess_sigma;
        if sigma.is_nan() || sigma <= 0.0 || logs.is_empty() {
            return top.exp();
        }
        let normal = Normal::new(0.0, 1.0).expect("unit normal");
        let below = |x: f64| logs.iter().map(|l| normal.cdf((x - l) / sigma).ln()).sum::<f64>();
        let (mut lo, mut hi) = (top - 1.0 * sigma, top + 12.0 * sigma);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if below(mid) < 0.5f64.ln() {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (0.5 * (lo + hi)).exp()
    }

    /// Usable days whose final weight in a fit fell under ½: (series, day, actual / fitted).
    pub fn down_weighted(&self) -> Vec<(&'static str, i64, f64)> {
        let mut out = Vec::new();
        let fits = [("mean", Some(&self.mean_fit)), ("peak", self.peak_fit.as_ref())];
        for (series, fit) in fits {
            let Some(fit) = fit else { continue };
            for (d, w) in self.days.iter().zip(&fit.weights) {
                if *w < 0.5 {
                    let value = if series == "mean" { d.mean_rps } else { d.peak_rps };
                    out.push((series, d.day, value / fit.at(d.day)));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(trend: Trend) -> Spec {
        Spec { trend, peak_model: PeakModel::Ratio, training: Training::All }
    }

    fn days(n: i64, mean: impl Fn(i64) -> f64, ratio: f64) -> Vec<DayObs> {
        (0..n).map(|d| DayObs { day: d, mean_rps: mean(d), peak_rps: mean(d) * ratio, coverage: 1.0 }).collect()
    }

    #[test]
    fn constant_ratio_gives_exact_peaks() {
        let m = fit(&days(28, |d| 100.0 + d as f64, 3.0), spec(Trend::Linear)).unwrap();
        assert!(m.excess_sigma < 1e-9, "{} {:?} {} {}", m.excess_sigma, m.mean_fit.weekday, m.mean_fit.a, m.mean_fit.b);
        let window: Vec<i64> = (28..58).collect();
        assert!((m.peak_over(&window) - 3.0 * 157.0).abs() < 1e-6);
        assert!((m.mean_over(&window) - (128.0 + 157.0) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn longer_windows_have_higher_median_peaks_when_peaks_vary() {
        let mut d = days(56, |_| 100.0, 3.0);
        for (i, x) in d.iter_mut().enumerate() {
            x.peak_rps *= 1.0 + 0.2 * ((i * 7919) % 13) as f64 / 13.0;
        }
        let m = fit(&d, spec(Trend::Flat)).unwrap();
        let week: Vec<i64> = (56..63).collect();
        let month: Vec<i64> = (56..86).collect();
        assert!(m.peak_over(&month) > m.peak_over(&week));
        assert!(m.peak_over(&month) < 100.0 * 3.0 * 1.2 * 1.05);
    }

    #[test]
    fn unusable_days_are_left_out() {
        let mut d = days(20, |_| 10.0, 2.0);
        d[3].coverage = 0.2;
        d[4].mean_rps = 0.0;
        assert_eq!(fit(&d, spec(Trend::Flat)).unwrap().days.len(), 18);
        assert!(fit(&d[..8], spec(Trend::Flat)).is_none());
    }
}
