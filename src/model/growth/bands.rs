//! Prediction bands from the backtest's own errors: at each horizon, the empirical quantiles of
//! ln(actual / forecast) over the rolling origins. Where a horizon has too few origins, the
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
    /// Quantiles of this horizon's backtest errors, over `errors` origins.
    Empirical { errors: usize },
    /// The quantiles at horizon `from_h` (with `errors` origins), widened by √(h / from_h).
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

/// The q-quantile of sorted values, interpolated linearly (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    if i + 1 < sorted.len() {
        sorted[i] + frac * (sorted[i + 1] - sorted[i])
    } else {
        sorted[i]
    }
}

/// The band of a sample of errors: split-conformal order statistics (the ⌊(n+1)·a⌋-th and
/// ⌈(n+1)·(1−a)⌉-th smallest, for a tail share a), which cover at least their level out of
/// sample when the errors are exchangeable; quantiles interpolated within the sample would
/// cover less than they say when the sample is small. Past the sample's ends, the extreme
/// error is stretched by the share the ranks fall beyond it.
fn empirical(mut errors: Vec<f64>) -> Option<Offsets> {
    if errors.len() < MIN_ERRORS {
        return None;
    }
    errors.sort_by(f64::total_cmp);
    let n = errors.len();
    let rank = |r: f64| -> f64 {
        let r = r.clamp(1.0, n as f64);
        quantile(&errors, (r - 1.0) / (n - 1) as f64)
    };
    let tails = |a: f64| {
        let lo = ((n + 1) as f64 * a).floor();
        let hi = ((n + 1) as f64 * (1.0 - a)).ceil();
        let (mut l, mut h) = (rank(lo), rank(hi));
        if lo < 1.0 {
            l -= (errors[n - 1] - errors[0]) / n as f64;
        }
        if hi > n as f64 {
            h += (errors[n - 1] - errors[0]) / n as f64;
        }
        (l, h)
    };
    let ((lo80, hi80), (lo95, hi95)) = (tails(0.10), tails(0.025));
    Some(Offsets([lo80, hi80, lo95, hi95]))
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
    fn quantiles_interpolate_as_numpy_does() {
        let v: Vec<f64> = (0..11).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.1), 1.0);
        assert!((quantile(&v, 0.975) - 9.75).abs() < 1e-12);
    }

    #[test]
    fn too_few_errors_fall_back_to_the_model() {
        let (o, s) = offsets(&[], mean_of, 3, |h| 0.1 * h as f64);
        assert_eq!(s, Source::Model);
        assert!((o.0[3] - Z95 * 0.3).abs() < 1e-12);
    }
}
