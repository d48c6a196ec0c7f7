//! A multiplicative Holt-Winters baseline (additive trend, weekly multiplicative season) on a
//! daily series, with its smoothing constants chosen by one-step-ahead squared error.
//! headroom's own forecaster is measured against it.

/// Fitted Holt-Winters state at the end of the series.
#[derive(Debug, Clone, PartialEq)]
pub struct HoltWinters {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    level: f64,
    trend: f64,
    season: Vec<f64>,
    /// Index in `season` of the day after the series.
    next: usize,
}

const M: usize = 7;

fn run(y: &[f64], alpha: f64, beta: f64, gamma: f64) -> (f64, HoltWinters) {
    let first: f64 = y[..M].iter().sum::<f64>() / M as f64;
    let second: f64 = y[M..2 * M].iter().sum::<f64>() / M as f64;
    let mut level = first;
    let mut trend = (second - first) / M as f64;
    let mut season: Vec<f64> = y[..M].iter().map(|v| v / first).collect();
    let mut sse = 0.0;
    for (t, &obs) in y.iter().enumerate().skip(M) {
        let s = season[t % M];
        let forecast = (level + trend) * s;
        sse += (obs - forecast).powi(2);
        let new_level = alpha * obs / s + (1.0 - alpha) * (level + trend);
        trend = beta * (new_level - level) + (1.0 - beta) * trend;
        season[t % M] = gamma * obs / new_level + (1.0 - gamma) * s;
        level = new_level;
    }
    (sse, HoltWinters { alpha, beta, gamma, level, trend, season, next: y.len() % M })
}

/// Fits to a positive daily series of at least two weeks; `None` when shorter.
pub fn fit(y: &[f64]) -> Option<HoltWinters> {
    if y.len() < 2 * M || y.iter().any(|v| v.is_nan() || *v <= 0.0) {
        return None;
    }
    let grid: Vec<f64> = (0..10).map(|i| 0.05 + 0.1 * i as f64).collect();
    let mut best: Option<(f64, HoltWinters)> = None;
    for &a in &grid {
        for &b in &grid {
            for &g in &grid {
                let (sse, hw) = run(y, a, b, g);
                if sse.is_finite() && best.as_ref().is_none_or(|(s, _)| sse < *s) {
                    best = Some((sse, hw));
                }
            }
        }
    }
    best.map(|(_, hw)| hw)
}

impl HoltWinters {
    /// The forecast h ≥ 1 days after the series: (level + h·trend) · season.
    pub fn forecast(&self, h: usize) -> f64 {
        ((self.level + h as f64 * self.trend) * self.season[(self.next + h - 1) % M]).max(0.0)
    }
}

/// Fills days that cannot be used by linear interpolation between usable neighbours (the ends
/// take the nearest usable value), so that the series is regular.
pub fn fill(values: &[Option<f64>]) -> Vec<f64> {
    let known: Vec<(usize, f64)> = values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, v))).collect();
    (0..values.len())
        .map(|i| {
            let after = known.iter().position(|(k, _)| *k >= i);
            match after {
                Some(0) => known[0].1,
                Some(j) if known[j].0 == i => known[j].1,
                Some(j) => {
                    let ((i0, v0), (i1, v1)) = (known[j - 1], known[j]);
                    v0 + (v1 - v0) * (i - i0) as f64 / (i1 - i0) as f64
                }
                None => known.last().map_or(0.0, |k| k.1),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_seasonal_trend() {
        let shape = [1.2, 1.1, 1.0, 1.0, 1.0, 0.8, 0.9];
        let y: Vec<f64> = (0..56).map(|t| (100.0 + 2.0 * t as f64) * shape[t % 7]).collect();
        let hw = fit(&y).unwrap();
        for h in 1..=14 {
            let t = 55 + h;
            let truth = (100.0 + 2.0 * t as f64) * shape[t % 7];
            assert!((hw.forecast(h) / truth - 1.0).abs() < 0.05, "h={h} {} vs {truth}", hw.forecast(h));
        }
    }

    #[test]
    fn fills_gaps_linearly() {
        assert_eq!(fill(&[None, Some(2.0), None, Some(4.0), None]), vec![2.0, 2.0, 3.0, 4.0, 4.0]);
    }
}
