//! The rolling-origin backtest: from every month that has enough history before it, fit on the
//! history before that month and forecast it and the months after, as far as the horizon asked
//! for and the history allow; then compare with what happened. The combination and both
//! baselines are scored on the same origins and months. Filled months are never scored.

use super::frame::Frame;
use super::method::{combine, Forecaster, Method};
use super::PeakBasis;

/// A forecast and what happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    pub forecast: f64,
    pub actual: f64,
}

impl Pair {
    /// ln(actual / forecast).
    pub fn log_error(&self) -> f64 {
        (self.actual / self.forecast).ln()
    }
}

/// One month forecast from one origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Month index of the origin: the first month not in the training history.
    pub origin: usize,
    /// Months ahead: 1 for the origin's own month.
    pub h: usize,
    pub mean: Pair,
    pub peak: Option<Pair>,
    /// The baselines' forecasts of the mean and the peak, in [`Method::BASELINES`] order.
    pub baselines: Vec<(Option<f64>, Option<f64>)>,
}

impl Record {
    /// Month index of the month forecast.
    pub fn target(&self) -> usize {
        self.origin + self.h - 1
    }
}

/// The peak of month `target` from its mean forecast, made at origin `origin`.
pub fn peak_from_mean(frame: &Frame, basis: PeakBasis, mean: f64, target: usize, origin: usize) -> Option<f64> {
    match basis {
        PeakBasis::None => None,
        PeakBasis::Ratio(r) => Some(mean * r),
        PeakBasis::Observed => frame.ratio(target, origin).map(|r| mean * r),
    }
}

fn positive(v: f64) -> Option<f64> {
    (v.is_finite() && v > 0.0).then_some(v)
}

/// A baseline fitted to the means and (where the data has them) the peaks.
type Fitted = (Option<Box<dyn Forecaster>>, Option<Box<dyn Forecaster>>);

/// Every origin's records, up to `horizon` months ahead.
pub fn run(frame: &Frame, basis: PeakBasis, horizon: usize) -> Vec<Record> {
    let mut out = Vec::new();
    for origin in frame.first_origin()..frame.months.len() {
        let n = frame.steps_before(origin);
        let Some(model) = combine(frame.members(), &frame.means[..n], frame.season) else { continue };
        let baselines: Vec<Fitted> = Method::BASELINES
            .iter()
            .map(|&b| (frame.fit(b, n, false), frame.fit(b, n, true).filter(|_| basis == PeakBasis::Observed)))
            .collect();
        for h in 1..=horizon {
            let k = origin + h - 1;
            let Some(actual) = frame.months.get(k) else { break };
            let Some(actual_mean) = actual.mean_rps else { continue };
            let Some(forecast) = positive(frame.month_value(&model, n, k, false)) else { continue };
            let peak = peak_from_mean(frame, basis, forecast, k, origin)
                .zip(actual.peak_rps)
                .map(|(forecast, actual)| Pair { forecast, actual });
            let baselines = baselines
                .iter()
                .map(|(m, p)| {
                    let mean = m.as_ref().and_then(|m| positive(frame.month_value(m.as_ref(), n, k, false)));
                    let peak = match (basis, p) {
                        (PeakBasis::Observed, Some(p)) => positive(frame.month_value(p.as_ref(), n, k, true)),
                        (PeakBasis::Ratio(r), _) => mean.map(|m| m * r),
                        _ => None,
                    };
                    (mean, peak)
                })
                .collect();
            out.push(Record { origin, h, mean: Pair { forecast, actual: actual_mean }, peak, baselines });
        }
    }
    out
}

/// Mean absolute percentage error, in percent, of forecasts against actuals.
pub fn mape(pairs: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for (forecast, actual) in pairs {
        sum += (forecast / actual - 1.0).abs();
        n += 1;
    }
    (n > 0).then(|| 100.0 * sum / n as f64)
}
