//! Seasonal naive forecasts: the same slot of the last season, plain (a baseline) or with a
//! damped drift (a member of the combination). The drift is the median year-on-year (or, without
//! a season, step-on-step) log change over the last season, damped by φ per step beyond the
//! last observation, so that a growth rate is carried forward but not compounded for ever.

/// A seasonal naive model on the log scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Naive {
    logs: Vec<f64>,
    /// Season length; 1 without a season (plain naive).
    m: usize,
    /// Log change per step.
    drift: f64,
    phi: f64,
}

/// The damping of the drift per step beyond the last observation.
pub const PHI: f64 = 0.9;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Fits to a positive series with season length `m` (0 for none); `drift` adds the damped
/// drift. `None` when shorter than one season plus one step.
pub fn fit(y: &[f64], m: usize, drift: bool) -> Option<Naive> {
    let m = m.max(1);
    if y.len() <= m || y.iter().any(|v| !v.is_finite() || *v <= 0.0) {
        return None;
    }
    let logs: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let n = logs.len();
    let d = if drift {
        let changes: Vec<f64> = (n.saturating_sub(12.max(m)).max(m)..n).map(|t| logs[t] - logs[t - m]).collect();
        median(changes) / m as f64
    } else {
        0.0
    };
    Some(Naive { logs, m, drift: d, phi: PHI })
}

impl Naive {
    /// The forecast h ≥ 1 steps after the last observation.
    pub fn forecast(&self, h: usize) -> f64 {
        let n = self.logs.len();
        let k = (h - 1) / self.m + 1;
        let base = n + h - 1 - k * self.m;
        // Observed growth from the base to the end, then damped growth over the horizon.
        let ahead: f64 = (1..=h).map(|i| self.phi.powi(i as i32)).sum();
        (self.logs[base] + self.drift * ((n - 1 - base) as f64 + ahead)).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_the_last_season() {
        let y: Vec<f64> = (0..24).map(|t| 10.0 + (t % 12) as f64).collect();
        let f = fit(&y, 12, false).unwrap();
        assert!((f.forecast(1) - 10.0).abs() < 1e-9 && (f.forecast(14) - 11.0).abs() < 1e-9);
    }

    #[test]
    fn carries_growth_damped() {
        let y: Vec<f64> = (0..36).map(|t| 100.0 * 1.01f64.powi(t) * if t % 12 == 11 { 1.5 } else { 1.0 }).collect();
        let f = fit(&y, 12, true).unwrap();
        // December a year on: 12 months of observed growth from its base, then damped growth.
        let truth = y[35] * 1.01f64.powi(0);
        assert!(f.forecast(12) > truth && f.forecast(12) < truth * 1.01f64.powi(12), "{}", f.forecast(12));
    }
}
