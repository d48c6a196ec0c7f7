//! The series the forecasters see: calendar months (and, for short histories, days) with gaps
//! filled and single spikes clipped, and the classical seasonal decomposition they share.

use serde::{Deserialize, Serialize};

use crate::calendar::YearMonth;
use schemars::JsonSchema;

/// One calendar month of history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthObs {
    pub month: YearMonth,
    /// The month's mean rate; `None` when under half of it was observed.
    pub mean_rps: Option<f64>,
    /// The month's peak rate, where the data has one.
    pub peak_rps: Option<f64>,
}

/// One day of history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayObs {
    /// Days since 1970-01-01.
    pub day: i64,
    /// The day's mean rate; `None` when under half of it was observed.
    pub mean_rps: Option<f64>,
    pub peak_rps: Option<f64>,
}

/// A value the forecaster changed before fitting, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Adjusted {
    /// The month (`YYYY-MM`) or day (`YYYY-MM-DD`).
    pub period: String,
    /// `filled` (no usable reading: interpolated for the fits, never scored) or `clipped`
    /// (an isolated spike or dip pulled back to the edge of the usual spread).
    pub action: String,
    /// Actual over the value fitted; `null` for a filled period.
    pub ratio: Option<f64>,
}

/// The classical multiplicative decomposition's seasonal factors (statsmodels'
/// `seasonal_decompose`): each slot's mean ratio to a centred moving average of one season,
/// normalised to mean 1; slot i applies to observations t ≡ i (mod m). `None` under two seasons.
pub fn seasonal_indices(y: &[f64], m: usize) -> Option<Vec<f64>> {
    if m < 2 || y.len() < 2 * m {
        return None;
    }
    let half = m / 2;
    let weights: Vec<f64> = if m.is_multiple_of(2) {
        (0..=m).map(|i| if i == 0 || i == m { 0.5 / m as f64 } else { 1.0 / m as f64 }).collect()
    } else {
        vec![1.0 / m as f64; m]
    };
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    for t in half..y.len() - (weights.len() - 1 - half) {
        let trend: f64 = weights.iter().enumerate().map(|(i, w)| w * y[t + i - half]).sum();
        sums[t % m] += y[t] / trend;
        counts[t % m] += 1;
    }
    let avg: Vec<f64> = sums.iter().zip(&counts).map(|(s, c)| s / *c as f64).collect();
    let mean = avg.iter().sum::<f64>() / m as f64;
    Some(avg.iter().map(|a| a / mean).collect())
}

/// Fills missing values by log-linear interpolation between their neighbours (the ends take
/// the nearest known value), after taking out the seasonal factors of slot t mod `m` when the
/// known values allow them; `None` when nothing is known.
pub fn fill(values: &[Option<f64>], m: usize) -> Option<Vec<f64>> {
    let plain = interpolate(values, &[])?;
    let season = seasonal_indices(&plain, m).unwrap_or_default();
    interpolate(values, &season)
}

fn interpolate(values: &[Option<f64>], season: &[f64]) -> Option<Vec<f64>> {
    let s = |t: usize| if season.is_empty() { 1.0 } else { season[t % season.len()] };
    let known: Vec<(usize, f64)> =
        values.iter().enumerate().filter_map(|(t, v)| v.filter(|v| *v > 0.0).map(|v| (t, (v / s(t)).ln()))).collect();
    let (first, last) = (*known.first()?, *known.last()?);
    let mut out = Vec::with_capacity(values.len());
    let mut next = 0;
    for t in 0..values.len() {
        while next < known.len() && known[next].0 < t {
            next += 1;
        }
        let log = match known.get(next) {
            Some(&(k, v)) if k == t => v,
            _ if t < first.0 => first.1,
            None => last.1,
            Some(&(k1, v1)) => {
                let (k0, v0) = known[next - 1];
                v0 + (v1 - v0) * (t - k0) as f64 / (k1 - k0) as f64
            }
        };
        out.push(log.exp() * s(t));
    }
    Some(out)
}

/// The robust spread beyond which one value is clipped: 3.5 MAD-σ of the log ratios to a
/// centred running median.
const CLIP_SIGMAS: f64 = 3.5;

/// Clips isolated spikes and dips: the log ratio of each value to the median of the `w` values
/// around it beyond [`CLIP_SIGMAS`] robust σ is pulled back to that edge. Returns the series and
/// (index, actual / clipped) for each clipped value. A level shift moves the running median
/// with it and is kept.
pub fn clip(y: &[f64], w: usize) -> (Vec<f64>, Vec<(usize, f64)>) {
    let n = y.len();
    if n < w + 2 {
        return (y.to_vec(), Vec::new());
    }
    let logs: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let dev: Vec<f64> = (0..n)
        .map(|t| {
            let lo = t.saturating_sub(w / 2).min(n - w);
            logs[t] - median(logs[lo..lo + w].to_vec())
        })
        .collect();
    let centre = median(dev.clone());
    let sigma = 1.4826 * median(dev.iter().map(|d| (d - centre).abs()).collect());
    let edge = CLIP_SIGMAS * sigma.max(1e-9);
    let mut out = y.to_vec();
    let mut clipped = Vec::new();
    for t in 0..n {
        let excess = dev[t] - centre;
        if excess.abs() > edge {
            out[t] = (logs[t] - excess + edge * excess.signum()).exp();
            clipped.push((t, y[t] / out[t]));
        }
    }
    (out, clipped)
}

/// The median of a list (NaN when empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_gaps_log_linearly() {
        let f = fill(&[None, Some(2.0), None, Some(8.0), None], 0).unwrap();
        let want = [2.0, 2.0, 4.0, 8.0, 8.0];
        assert!(f.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9), "{f:?}");
    }

    #[test]
    fn seasonal_factors_of_a_pure_season() {
        let shape = [1.2, 0.8, 1.0, 1.0];
        let y: Vec<f64> = (0..16).map(|t| 50.0 * shape[t % 4]).collect();
        let s = seasonal_indices(&y, 4).unwrap();
        assert!(s.iter().zip(shape).all(|(a, b)| (a - b).abs() < 1e-9), "{s:?}");
    }

    #[test]
    fn a_spike_is_clipped_and_a_level_shift_kept() {
        let mut y: Vec<f64> = (0..40).map(|t| 100.0 * (1.0 + 0.02 * ((t * 7) % 5) as f64)).collect();
        y[10] *= 6.0;
        for v in &mut y[25..] {
            *v *= 1.6;
        }
        let (out, clipped) = clip(&y, 5);
        assert_eq!(clipped.iter().map(|c| c.0).collect::<Vec<_>>(), vec![10]);
        assert!(out[10] < y[10] / 4.0 && (out[30] - y[30]).abs() < 1e-9);
    }
}
