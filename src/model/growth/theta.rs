//! The Theta method (Assimakopoulos and Nikolopoulos; as Hyndman and Billah showed, simple
//! exponential smoothing with half the series' linear drift), on the seasonally adjusted series
//! and re-seasonalised, as statsmodels' `ThetaModel` computes it:
//!
//! ```text
//! x̂_{n+h} = ℓ_n + ½·b₀·(h − 1 + 1/α − (1 − α)ⁿ/α),   ŷ_{n+h} = x̂_{n+h} · s_{(n+h−1) mod m}
//! ```
//!
//! with b₀ the least-squares slope of the adjusted series and ℓ_n the SES level from ℓ₀ = x₀.

use super::series::seasonal_indices;

/// A fitted Theta model.
#[derive(Debug, Clone, PartialEq)]
pub struct Theta {
    pub alpha: f64,
    pub b0: f64,
    /// The SES forecast of the adjusted series one step ahead.
    level: f64,
    season: Vec<f64>,
    n: usize,
}

/// The SES level after `x` with smoothing `alpha` from ℓ₀ = x₀, and its squared one-step error.
fn ses(x: &[f64], alpha: f64) -> (f64, f64) {
    let mut level = x[0];
    let mut sse = 0.0;
    for &v in x {
        sse += (v - level).powi(2);
        level = alpha * v + (1.0 - alpha) * level;
    }
    (level, sse)
}

/// Least-squares slope of `x` on 0, 1, 2, ….
fn slope(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mt = (n - 1.0) / 2.0;
    let mx = x.iter().sum::<f64>() / n;
    let sxy: f64 = x.iter().enumerate().map(|(t, v)| (t as f64 - mt) * (v - mx)).sum();
    let sxx: f64 = (0..x.len()).map(|t| (t as f64 - mt).powi(2)).sum();
    sxy / sxx
}

/// Fits to a positive series; seasonally adjusted first when `m` > 0 and there are two full
/// seasons. `alpha` fixes the smoothing constant (for tests against a reference); otherwise it
/// is chosen by least squares. `None` under 4 observations.
pub fn fit(y: &[f64], m: usize, alpha: Option<f64>) -> Option<Theta> {
    if y.len() < 4 || y.iter().any(|v| !v.is_finite() || *v <= 0.0) {
        return None;
    }
    let season = if m > 0 { seasonal_indices(y, m).unwrap_or_default() } else { Vec::new() };
    let x: Vec<f64> =
        y.iter().enumerate().map(|(t, v)| if season.is_empty() { *v } else { v / season[t % m] }).collect();
    let alpha = alpha.unwrap_or_else(|| {
        let mut best = (f64::INFINITY, 0.5);
        for i in 1..100 {
            let a = i as f64 / 100.0;
            let s = ses(&x, a).1;
            if s < best.0 {
                best = (s, a);
            }
        }
        best.1
    });
    Some(Theta { alpha, b0: slope(&x), level: ses(&x, alpha).0, season, n: y.len() })
}

impl Theta {
    /// The forecast h ≥ 1 steps after the last observation.
    pub fn forecast(&self, h: usize) -> f64 {
        let a = self.alpha;
        let drift = 0.5 * self.b0 * (h as f64 - 1.0 + 1.0 / a - (1.0 - a).powi(self.n as i32) / a);
        let s = if self.season.is_empty() { 1.0 } else { self.season[(self.n + h - 1) % self.season.len()] };
        ((self.level + drift) * s).max(0.0)
    }
}
