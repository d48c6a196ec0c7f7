//! Rolling-origin backtest: fit on the days before an origin, forecast the window after it,
//! and compare with what happened.

use serde::{Deserialize, Serialize};

use super::model::{self, Candidate, DayObs};
use schemars::JsonSchema;

/// Days of training a backtest origin needs at least.
pub const MIN_TRAIN_DAYS: usize = 14;
/// Days between successive origins.
pub const STEP_DAYS: usize = 7;
/// Most origins tried, newest first.
pub const MAX_ORIGINS: usize = 12;
/// Origins needed before the backtest may pick a single model over the median of all.
pub const MIN_ORIGINS_TO_SELECT: usize = 8;

/// What happened in a window: mean over its readings and its largest daily peak.
pub fn actual(window: &[DayObs]) -> Option<(f64, f64)> {
    let usable: Vec<&DayObs> = window.iter().filter(|d| d.usable()).collect();
    if usable.len() * 2 < window.len() {
        return None;
    }
    let weight: f64 = usable.iter().map(|d| d.coverage).sum();
    let mean = usable.iter().map(|d| d.mean_rps * d.coverage).sum::<f64>() / weight;
    let peak = usable.iter().map(|d| d.peak_rps).fold(0.0, f64::max);
    Some((mean, peak))
}

/// One candidate's backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Scored {
    pub candidate: Candidate,
    pub name: String,
    /// Mean absolute percentage error of the window peak, in percent.
    pub peak_mape: f64,
    pub mean_mape: f64,
    /// ln(actual / forecast) of the window peak at each origin.
    #[serde(skip)]
    pub peak_log_errors: Vec<f64>,
    #[serde(skip)]
    pub mean_log_errors: Vec<f64>,
}

/// The window length: 30 days, or less when the history is short; `None` under 7.
pub fn window_days(days: usize) -> Option<usize> {
    let w = days.saturating_sub(MIN_TRAIN_DAYS).min(30);
    (w >= 7).then_some(w)
}

/// The origins (indices into `days`) to backtest from, newest first.
pub fn origins(days: usize, window: usize) -> Vec<usize> {
    (0..MAX_ORIGINS)
        .map(|j| days as i64 - window as i64 - (j * STEP_DAYS) as i64)
        .take_while(|&o| o >= MIN_TRAIN_DAYS as i64)
        .map(|o| o as usize)
        .collect()
}

/// Backtests one model over the given origins; `None` when no origin could be scored.
pub fn run(days: &[DayObs], window: usize, origins: &[usize], candidate: Candidate) -> Option<Scored> {
    let (mut pe, mut me) = (Vec::new(), Vec::new());
    for &o in origins {
        let test = &days[o..o + window];
        let (Some(m), Some((mean, peak_rps))) = (model::fit_candidate(&days[..o], candidate), actual(test)) else {
            continue;
        };
        let span: Vec<i64> = test.iter().map(|d| d.day).collect();
        let (fm, fp) = (m.mean_over(&span), m.peak_over(&span));
        if fm > 0.0 && fp > 0.0 && fm.is_finite() && fp.is_finite() {
            pe.push((peak_rps / fp).ln());
            me.push((mean / fm).ln());
        }
    }
    if pe.is_empty() {
        return None;
    }
    let mape = |e: &[f64]| 100.0 * e.iter().map(|l| (1.0 - (-l).exp()).abs()).sum::<f64>() / e.len() as f64;
    Some(Scored {
        candidate,
        name: candidate.name(),
        peak_mape: mape(&pe),
        mean_mape: mape(&me),
        peak_log_errors: pe,
        mean_log_errors: me,
    })
}

fn mean_abs(e: &[f64]) -> f64 {
    e.iter().map(|x| x.abs()).sum::<f64>() / e.len() as f64
}

/// The forecaster to use. Under [`MIN_ORIGINS_TO_SELECT`] origins, the median of all models:
/// a few overlapping windows cannot tell models apart, and picking the luckiest of many
/// overfits (a surge in every window rewards the steepest extrapolation). With enough origins,
/// the one-standard-error rule: the first candidate (the median, then single models simplest
/// first) whose mean |ln(actual / forecast)| of the peak is within one standard error of the
/// best candidate's, that error taken over the best candidate's origins.
pub fn choose(candidates: &[Scored]) -> Option<&Scored> {
    let median = candidates.iter().find(|c| c.candidate == Candidate::Median);
    if candidates.first().is_some_and(|c| c.peak_log_errors.len() < MIN_ORIGINS_TO_SELECT) && median.is_some() {
        return median;
    }
    let best =
        candidates.iter().min_by(|a, b| mean_abs(&a.peak_log_errors).total_cmp(&mean_abs(&b.peak_log_errors)))?;
    let abs: Vec<f64> = best.peak_log_errors.iter().map(|e| e.abs()).collect();
    let n = abs.len() as f64;
    let mean = abs.iter().sum::<f64>() / n;
    let se =
        if abs.len() > 1 { (abs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt() } else { 0.0 };
    candidates.iter().find(|c| mean_abs(&c.peak_log_errors) <= mean + se)
}
