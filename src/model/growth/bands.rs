//! Prediction bands from the backtest's own errors: at each horizon, split-conformal bounds on
//! |ln(actual / forecast)| over the most recent rolling origins. Where a horizon has too few origins, the
//! longest horizon that has enough is widened by √(h / h′); with none, the damped-trend model's
//! own standard error is used. Coverage is measured out of sample: each backtest forecast is
//! judged against the band built only from errors known at its origin.

use serde::{Deserialize, Serialize};

use super::backtest::{Pair, Record};
use schemars::JsonSchema;

/// Errors needed at a horizon for an empirical band.
pub const MIN_ERRORS: usize = 10;
/// A 95% band wider than this ratio (hi / lo) cannot be bought against.
pub const UNUSABLE_RATIO: f64 = 10.0;

const Z80: f64 = 1.281_551_565_5;
const Z95: f64 = 1.959_963_985;

/// Where a band came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// From this horizon's backtest errors, over `errors` origins.
    Empirical { errors: usize },
    /// The band at horizon `from_h` (with `errors` origins), widened by √(h / from_h).
    Widened { from_h: usize, errors: usize },
    /// The damped-trend model's standard error: too few backtest origins.
    Model,
}

/// Log-scale offsets of a band: (lo80, hi80, lo95, hi95).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Offsets(pub [f64; 4]);

impl Offsets {
    fn from_sigma(s: f64) -> Self {
        Offsets([-Z80 * s, Z80 * s, -Z95 * s, Z95 * s])
    }

    fn scaled(self, k: f64) -> Self {
        Offsets(self.0.map(|q| q * k))
    }

    /// The band around `point`: (lo80, hi80, lo95, hi95).
    pub fn around(self, point: f64) -> [f64; 4] {
        self.0.map(|q| point * q.exp())
    }
}

/// Errors of the most recent origins a band is built from: the errors of a forecaster drift
/// as the series changes (a level shift, a new season), and old ones stop describing it.
pub const RECENT_ERRORS: usize = 36;

/// The band of a sample of errors (oldest first): split-conformal, from the most recent
/// [`RECENT_ERRORS`] absolute log errors. The half-width of the band at level L is the
/// ⌈(n+1)·L⌉-th smallest |error|, which covers at least L out of sample when the errors are
/// exchangeable, where quantiles interpolated within a small sample cover less than they say.
/// Past the sample's end the largest error is stretched by 1/n.
fn empirical(errors: Vec<f64>) -> Option<Offsets> {
    if errors.len() < MIN_ERRORS {
        return None;
    }
    let mut a: Vec<f64> = errors[errors.len().saturating_sub(RECENT_ERRORS)..].iter().map(|e| e.abs()).collect();
    a.sort_by(f64::total_cmp);
    let n = a.len();
    let half = |level: f64| {
        let rank = ((n + 1) as f64 * level).ceil() as usize;
        if rank > n {
            a[n - 1] * (1.0 + 1.0 / n as f64)
        } else {
            a[rank - 1]
        }
    };
    let (w80, w95) = (half(0.80), half(0.95));
    Some(Offsets([-w80, w80, -w95, w95]))
}

/// Which of a record's pairs a band is for.
pub type Pick = fn(&Record) -> Option<Pair>;

/// The band offsets at horizon `h` and where they came from; `sigma(h)` is the model's
/// standard error, for want of origins.
pub fn offsets(records: &[Record], pick: Pick, h: usize, sigma: impl Fn(usize) -> f64) -> (Offsets, Source) {
    let errors = |h: usize| -> Vec<f64> {
        records.iter().filter(|r| r.h == h).filter_map(|r| pick(r).map(|p| p.log_error())).collect()
    };
    let here = errors(h);
    let n = here.len();
    if let Some(o) = empirical(here) {
        return (o, Source::Empirical { errors: n });
    }
    for from in (1..h).rev() {
        let e = errors(from);
        let n = e.len();
        if let Some(o) = empirical(e) {
            return (o.scaled((h as f64 / from as f64).sqrt()), Source::Widened { from_h: from, errors: n });
        }
    }
    (Offsets::from_sigma(sigma(h)), Source::Model)
}

/// How often the actual fell inside the band, judged out of sample.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Coverage {
    /// Backtest forecasts that had a band from errors known at their origin.
    pub checked: usize,
    pub inside_80: usize,
    pub inside_95: usize,
}

impl Coverage {
    /// The share inside the 80% band.
    pub fn share_80(&self) -> Option<f64> {
        (self.checked > 0).then(|| self.inside_80 as f64 / self.checked as f64)
    }

    /// The share inside the 95% band.
    pub fn share_95(&self) -> Option<f64> {
        (self.checked > 0).then(|| self.inside_95 as f64 / self.checked as f64)
    }
}

/// The band each record would have had from the errors at its horizon of months wholly before
/// its origin, when there were enough; `None` otherwise.
pub fn band_at_origin(records: &[Record], pick: Pick, r: &Record) -> Option<Offsets> {
    empirical(
        records
            .iter()
            .filter(|o| o.h == r.h && o.target() < r.origin)
            .filter_map(|o| pick(o).map(|p| p.log_error()))
            .collect(),
    )
}

/// Out-of-sample coverage over all records with a band at their origin.
pub fn coverage(records: &[Record], pick: Pick) -> Coverage {
    let mut c = Coverage::default();
    for r in records {
        let (Some(p), Some(o)) = (pick(r), band_at_origin(records, pick, r)) else { continue };
        let e = p.log_error();
        c.checked += 1;
        c.inside_80 += usize::from((o.0[0]..=o.0[1]).contains(&e));
        c.inside_95 += usize::from((o.0[2]..=o.0[3]).contains(&e));
    }
    c
}

/// The mean's pair of a record.
pub fn mean_of(r: &Record) -> Option<Pair> {
    Some(r.mean)
}

/// The peak's pair of a record.
pub fn peak_of(r: &Record) -> Option<Pair> {
    r.peak
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conformal_ranks_and_the_most_recent_errors() {
        let e: Vec<f64> = (1..=10).map(|i| if i % 2 == 0 { 0.1 * i as f64 } else { -0.1 * i as f64 }).collect();
        let o = empirical(e).unwrap();
        // n = 10: the 80% half-width is the ⌈8.8⌉ = 9th smallest |e|; the 95% rank 11 is past
        // the end, so the largest is stretched by 1/10.
        assert!((o.0[1] - 0.9).abs() < 1e-12 && (o.0[0] + 0.9).abs() < 1e-12, "{o:?}");
        assert!((o.0[3] - 1.1).abs() < 1e-12, "{o:?}");
        let mut old_and_new = vec![5.0; 100];
        old_and_new.extend(vec![0.01; RECENT_ERRORS]);
        assert!(empirical(old_and_new).unwrap().0[3] < 0.02, "old errors are forgotten");
    }

    #[test]
    fn too_few_errors_fall_back_to_the_model() {
        let (o, s) = offsets(&[], mean_of, 3, |h| 0.1 * h as f64);
        assert_eq!(s, Source::Model);
        assert!((o.0[3] - Z95 * 0.3).abs() < 1e-12);
    }
}
