//! Exponential smoothing with an additive (optionally damped) trend and a multiplicative season:
//! Holt-Winters' method, and with φ < 1 the damped-trend ETS(A,Ad,M) of Gardner and McKenzie.
//! The recursions are those of statsmodels' `ExponentialSmoothing`, against which the tests hold
//! them:
//!
//! ```text
//! ŷ_t = (ℓ_{t−1} + φ·b_{t−1}) · s_{t−m}
//! ℓ_t = α·y_t / s_{t−m} + (1 − α)·(ℓ_{t−1} + φ·b_{t−1})
//! b_t = β·(ℓ_t − ℓ_{t−1}) + (1 − β)·φ·b_{t−1}
//! s_t = γ·y_t / (ℓ_{t−1} + φ·b_{t−1}) + (1 − γ)·s_{t−m}
//! ```
//!
//! The constants are chosen by least squares of the one-step errors: a coarse grid, then a
//! coordinate search, deterministic and without a general optimiser.

/// Smoothing constants. `phi` = 1 is Holt-Winters' undamped trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub phi: f64,
}

/// The state before the first observation: level, trend and one season factor per slot
/// (`season[i]` applies to observation i, i < m).
#[derive(Debug, Clone, PartialEq)]
pub struct Init {
    pub level: f64,
    pub trend: f64,
    pub season: Vec<f64>,
}

/// A fitted model: its constants and its state after the last observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Ets {
    pub params: Params,
    level: f64,
    trend: f64,
    /// Season factors by slot t mod m; empty without a season.
    season: Vec<f64>,
    /// Observations fitted.
    n: usize,
    /// Root mean square of the relative one-step errors after the first season.
    pub sigma: f64,
    /// The one-step forecasts, in order (for tests against reference implementations).
    pub fitted: Vec<f64>,
}

/// Runs the recursions over `y`; `None` when the level+trend turns non-positive (the model
/// then predicts no traffic, which no fit may choose).
pub fn run(y: &[f64], p: Params, init: &Init) -> Option<(f64, Ets)> {
    let m = init.season.len();
    let (mut level, mut trend, mut season) = (init.level, init.trend, init.season.clone());
    let mut fitted = Vec::with_capacity(y.len());
    let (mut sse, mut rel, mut rel_n) = (0.0, 0.0, 0usize);
    for (t, &obs) in y.iter().enumerate() {
        let base = level + p.phi * trend;
        if base <= 0.0 || !base.is_finite() {
            return None;
        }
        let s = if m > 0 { season[t % m] } else { 1.0 };
        let forecast = base * s;
        fitted.push(forecast);
        sse += (obs - forecast).powi(2);
        if t >= m {
            rel += ((obs - forecast) / forecast).powi(2);
            rel_n += 1;
        }
        let new_level = p.alpha * obs / s + (1.0 - p.alpha) * base;
        trend = p.beta * (new_level - level) + (1.0 - p.beta) * p.phi * trend;
        if m > 0 {
            season[t % m] = p.gamma * obs / base + (1.0 - p.gamma) * s;
        }
        level = new_level;
    }
    let sigma = if rel_n > 0 { (rel / rel_n as f64).sqrt() } else { f64::NAN };
    Some((sse, Ets { params: p, level, trend, season, n: y.len(), sigma, fitted }))
}

/// The heuristic start: the first season's mean as the level, the change to the second
/// season's mean per step as the trend, and each slot's mean ratio to its season's mean.
/// Without a season: the first value and the mean step over the first few.
pub fn initial(y: &[f64], m: usize) -> Option<Init> {
    if m == 0 {
        let k = y.len().min(6);
        if k < 2 {
            return None;
        }
        return Some(Init { level: y[0], trend: (y[k - 1] - y[0]) / (k - 1) as f64, season: Vec::new() });
    }
    if y.len() < 2 * m {
        return None;
    }
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let (first, second) = (mean(&y[..m]), mean(&y[m..2 * m]));
    let season = (0..m).map(|i| 0.5 * (y[i] / first + y[i + m] / second)).collect();
    Some(Init { level: first, trend: (second - first) / m as f64, season })
}

const ALPHAS: [f64; 5] = [0.1, 0.3, 0.5, 0.7, 0.9];
const BETAS: [f64; 3] = [0.01, 0.1, 0.3];
const GAMMAS: [f64; 3] = [0.05, 0.2, 0.5];
const PHIS: [f64; 3] = [0.85, 0.92, 0.98];

/// Fits to a positive series with season length `m` (0 for none); `damped` lets φ range over
/// [0.8, 0.98], otherwise φ = 1. `None` when the series is too short or not positive.
pub fn fit(y: &[f64], m: usize, damped: bool) -> Option<Ets> {
    if y.iter().any(|v| !v.is_finite() || *v <= 0.0) {
        return None;
    }
    let init = initial(y, m)?;
    let sse = |p: Params| run(y, p, &init).map_or(f64::INFINITY, |(s, _)| s);
    let phis: &[f64] = if damped { &PHIS } else { &[1.0] };
    let gammas: &[f64] = if m > 0 { &GAMMAS } else { &[0.0] };
    let mut best = (f64::INFINITY, Params { alpha: 0.5, beta: 0.1, gamma: 0.0, phi: phis[0] });
    for &alpha in &ALPHAS {
        for &beta in &BETAS {
            for &gamma in gammas {
                for &phi in phis {
                    let p = Params { alpha, beta, gamma, phi };
                    let s = sse(p);
                    if s < best.0 {
                        best = (s, p);
                    }
                }
            }
        }
    }
    let (lo_phi, hi_phi) = if damped { (0.8, 0.98) } else { (1.0, 1.0) };
    let p = refine(best, sse, m > 0, (lo_phi, hi_phi));
    run(y, p, &init).map(|(_, e)| e)
}

/// A coordinate search from the grid's best, halving the step when nothing improves.
fn refine(start: (f64, Params), sse: impl Fn(Params) -> f64, seasonal: bool, phi: (f64, f64)) -> Params {
    let (mut best_sse, mut best) = start;
    let mut step = 0.05;
    while step >= 0.005 {
        let mut improved = false;
        for coord in 0..4 {
            if (coord == 2 && !seasonal) || (coord == 3 && phi.0 == phi.1) {
                continue;
            }
            for sign in [-1.0, 1.0] {
                let mut p = best;
                let (v, lo, hi) = match coord {
                    0 => (&mut p.alpha, 0.01, 0.99),
                    1 => (&mut p.beta, 0.0, 0.99),
                    2 => (&mut p.gamma, 0.0, 0.99),
                    _ => (&mut p.phi, phi.0, phi.1),
                };
                *v = (*v + sign * step).clamp(lo, hi);
                let s = sse(p);
                if s < best_sse {
                    (best_sse, best, improved) = (s, p, true);
                }
            }
        }
        if !improved {
            step /= 2.0;
        }
    }
    best
}

impl Ets {
    /// The forecast h ≥ 1 steps after the last observation.
    pub fn forecast(&self, h: usize) -> f64 {
        let p = self.params;
        let damp: f64 = (1..=h).map(|i| p.phi.powi(i as i32)).sum();
        let s = if self.season.is_empty() { 1.0 } else { self.season[(self.n + h - 1) % self.season.len()] };
        ((self.level + damp * self.trend) * s).max(0.0)
    }

    /// The relative standard error h steps ahead, from the one-step σ and the damped-trend
    /// model's error weights c_j = α(1 + β·(φ + … + φ^j)) (Hyndman et al., class 1).
    pub fn sigma_ahead(&self, h: usize) -> f64 {
        let p = self.params;
        let mut var = 1.0;
        let mut phi_j = 0.0;
        for j in 1..h {
            phi_j += p.phi.powi(j as i32);
            var += (p.alpha * (1.0 + p.beta / p.alpha.max(1e-9) * phi_j)).powi(2);
        }
        self.sigma * var.sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_seasonal_trend() {
        let shape = [1.2, 1.1, 1.0, 1.0, 1.0, 0.8, 0.9];
        let y: Vec<f64> = (0..56).map(|t| (100.0 + 2.0 * t as f64) * shape[t % 7]).collect();
        let hw = fit(&y, 7, false).unwrap();
        for h in 1..=14 {
            let t = 55 + h;
            let truth = (100.0 + 2.0 * t as f64) * shape[t % 7];
            assert!((hw.forecast(h) / truth - 1.0).abs() < 0.05, "h={h} {} vs {truth}", hw.forecast(h));
        }
    }

    #[test]
    fn a_damped_trend_flattens() {
        let y: Vec<f64> = (0..40).map(|t| 100.0 + 5.0 * t as f64).collect();
        let e = fit(&y, 0, true).unwrap();
        let step = |h: usize| e.forecast(h + 1) - e.forecast(h);
        assert!(step(1) > 0.0 && step(100) < step(1) * 0.5, "{} {}", step(1), step(100));
        assert!(e.sigma_ahead(12) > e.sigma_ahead(1));
    }

    #[test]
    fn refuses_what_it_cannot_fit() {
        assert!(fit(&[1.0; 10], 7, true).is_none());
        assert!(fit(&[1.0, 0.0, 2.0, 3.0], 0, true).is_none());
    }
}
