//! The seasonal naive baseline: each month is the same month of the last season (without a
//! season, the last value). Any forecaster worth its name must beat it.

/// A seasonal naive model.
#[derive(Debug, Clone, PartialEq)]
pub struct Naive {
    values: Vec<f64>,
    /// Season length; 1 without a season.
    m: usize,
}

/// Fits to a positive series with season length `m` (0 for none); `None` when shorter than
/// one season.
pub fn fit(y: &[f64], m: usize) -> Option<Naive> {
    let m = m.max(1);
    if y.len() < m || y.iter().any(|v| !v.is_finite() || *v <= 0.0) {
        return None;
    }
    Some(Naive { values: y.to_vec(), m })
}

impl Naive {
    /// The forecast h ≥ 1 steps after the last observation.
    pub fn forecast(&self, h: usize) -> f64 {
        let n = self.values.len();
        let k = (h - 1) / self.m + 1;
        self.values[n + h - 1 - k * self.m]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_the_last_season() {
        let y: Vec<f64> = (0..24).map(|t| 10.0 + (t % 12) as f64).collect();
        let f = fit(&y, 12).unwrap();
        assert!((f.forecast(1) - 10.0).abs() < 1e-9 && (f.forecast(14) - 11.0).abs() < 1e-9);
        assert_eq!(fit(&[3.0, 4.0], 0).unwrap().forecast(5), 4.0);
    }
}
