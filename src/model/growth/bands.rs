//! Prediction bands from the backtest's own errors: at each horizon, split-conformal bounds on
//! |ln(actual / forecast)| over the most recent rolling origins, times a scale that tracks how
//! the bands have been doing lately (the quantile tracking of conformal PID control,
//! Angelopoulos, Candès and Tibshirani 2023): each month whose outcome becomes known moves the
//! scale by how many of the forecasts of it (one per horizon) missed their 80% band, up when
//! more than one in five did and down when fewer, so that misses settle at one in five. A
//! forecaster's errors drift as a series changes (a level shift, a new season), and the past
//! errors alone then describe the future too narrowly or too widely for a while.
//!
//! Where a horizon has too few origins, the longest horizon that has enough is widened by
//! √(h / h′); with none, the damped-trend model's own standard error is used. Coverage is
//! measured out of sample: the backtest is replayed in time order and each forecast is judged
//! against the band built only from what was known at its origin, scale included.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::backtest::{Pair, Record};
use schemars::JsonSchema;

/// Errors needed at a horizon for an empirical band.
pub const MIN_ERRORS: usize = 10;
/// A 95% band wider than this ratio (hi / lo) cannot be bought against.
pub const UNUSABLE_RATIO: f64 = 10.0;

const Z80: f64 = 1.281_551_565_5;
const Z95: f64 = 1.959_963_985;

/// How far one month's known outcome moves the log of the scale: this times the share of its
/// forecasts that missed their 80% band, less 0.2.
pub const ADAPT_RATE: f64 = 0.3;
/// The bounds of the scale: the bands never shrink below half or grow past four times what
/// the errors alone give.
pub const SCALE_BOUNDS: (f64, f64) = (0.5, 4.0);
/// The share of outcomes the 80% band is meant to miss.
const MISS_TARGET: f64 = 0.2;

fn one() -> f64 {
    1.0
}

/// Where a band came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// From this horizon's backtest errors, over `errors` origins, times `scale`.
    Empirical {
        errors: usize,
        #[serde(default = "one")]
        scale: f64,
    },
    /// The band at horizon `from_h` (with `errors` origins), widened by √(h / from_h), times `scale`.
    Widened {
        from_h: usize,
        errors: usize,
        #[serde(default = "one")]
        scale: f64,
    },
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

    /// Whether a log error lies inside the 80% and the 95% band.
    pub fn holds(&self, e: f64) -> [bool; 2] {
        [(self.0[0]..=self.0[1]).contains(&e), (self.0[2]..=self.0[3]).contains(&e)]
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

/// The backtest replayed in time order for one of a record's pairs: the band each record had at
/// its origin, and the scale when the history ends.
#[derive(Debug, Clone)]
pub struct Replay {
    /// Per record (in the order given): its band at its origin, `None` with too few errors then.
    bands: Vec<Option<Offsets>>,
    /// The scale once every outcome of the history is known.
    pub scale: f64,
}

/// The log scale moved by one month's outcome (the share of its forecasts that missed), within
/// [`SCALE_BOUNDS`].
fn adapt(theta: f64, missed: f64) -> f64 {
    let (lo, hi) = SCALE_BOUNDS;
    (theta + ADAPT_RATE * (missed - MISS_TARGET)).clamp(lo.ln(), hi.ln())
}

/// The errors at horizon `h` of the months wholly before month `before`, oldest first.
fn errors_before(records: &[Record], pick: Pick, h: usize, before: usize) -> Vec<f64> {
    records.iter().filter(|o| o.h == h && o.target() < before).filter_map(|o| pick(o).map(|p| p.log_error())).collect()
}

/// Forecasts judged and not yet known, by month: (missed, judged).
type Pending = BTreeMap<usize, (usize, usize)>;

/// Moves the log scale by every pending month before `before`, oldest first.
fn learn(theta: &mut f64, pending: &mut Pending, before: usize) {
    while let Some(first) = pending.first_entry().filter(|e| *e.key() < before) {
        let (missed, judged) = first.remove();
        *theta = adapt(*theta, missed as f64 / judged as f64);
    }
}

/// Replays `records` (origin by origin, as the backtest made them): each record's band is the
/// conformal band of the errors known at its origin times the scale then, and its month's
/// outcome moves the scale once the month is past.
pub fn replay(records: &[Record], pick: Pick) -> Replay {
    let mut theta = 0.0;
    let mut pending = Pending::new();
    let mut bands = Vec::with_capacity(records.len());
    for r in records {
        learn(&mut theta, &mut pending, r.origin);
        let band = empirical(errors_before(records, pick, r.h, r.origin)).map(|o| o.scaled(theta.exp()));
        if let (Some(b), Some(p)) = (band, pick(r)) {
            let e = p.log_error();
            let month = pending.entry(r.target()).or_default();
            month.0 += usize::from(!b.holds(e)[0]);
            month.1 += 1;
        }
        bands.push(band);
    }
    learn(&mut theta, &mut pending, usize::MAX);
    Replay { bands, scale: theta.exp() }
}

impl Replay {
    /// The band record `i` had at its origin.
    pub fn band(&self, i: usize) -> Option<Offsets> {
        self.bands[i]
    }

    /// The band offsets at horizon `h` of a forecast from the end of the history, and where they
    /// came from; `sigma(h)` is the model's standard error, for want of origins.
    pub fn offsets(&self, records: &[Record], pick: Pick, h: usize, sigma: impl Fn(usize) -> f64) -> (Offsets, Source) {
        let errors = |h: usize| errors_before(records, pick, h, usize::MAX);
        let here = errors(h);
        let n = here.len();
        if let Some(o) = empirical(here) {
            return (o.scaled(self.scale), Source::Empirical { errors: n, scale: self.scale });
        }
        for from in (1..h).rev() {
            let e = errors(from);
            let n = e.len();
            if let Some(o) = empirical(e) {
                let widened = o.scaled((h as f64 / from as f64).sqrt() * self.scale);
                return (widened, Source::Widened { from_h: from, errors: n, scale: self.scale });
            }
        }
        (Offsets::from_sigma(sigma(h)), Source::Model)
    }

    /// Out-of-sample coverage over the records `which` picks that had a band at their origin.
    pub fn coverage(&self, records: &[Record], pick: Pick, which: impl Fn(&Record) -> bool) -> Coverage {
        let mut c = Coverage::default();
        for (r, band) in records.iter().zip(&self.bands) {
            let (true, Some(p), Some(o)) = (which(r), pick(r), band) else { continue };
            let [in80, in95] = o.holds(p.log_error());
            c.checked += 1;
            c.inside_80 += usize::from(in80);
            c.inside_95 += usize::from(in95);
        }
        c
    }
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
        let (o, s) = replay(&[], mean_of).offsets(&[], mean_of, 3, |h| 0.1 * h as f64);
        assert_eq!(s, Source::Model);
        assert!((o.0[3] - Z95 * 0.3).abs() < 1e-12);
    }

    fn record(origin: usize, error: f64) -> Record {
        Record {
            origin,
            h: 1,
            mean: Pair { forecast: 100.0, actual: 100.0 * error.exp() },
            peak: None,
            baselines: Vec::new(),
        }
    }

    #[test]
    fn the_scale_grows_after_misses_and_shrinks_after_hits_within_its_bounds() {
        // Forty months of errors of 0.1% to 1%, then errors of 10%: the bands from past errors
        // miss them, and the scale grows.
        let small = |t: usize| 0.001 * ((t * 7) % 10 + 1) as f64 * if t.is_multiple_of(2) { 1.0 } else { -1.0 };
        let mut records: Vec<Record> = (0..40).map(|t| record(t, small(t))).collect();
        let quiet = replay(&records, mean_of).scale;
        assert!((0.7..1.4).contains(&quiet), "errors alike: the scale stays near 1 ({quiet})");
        records.extend((40..45).map(|t| record(t, 0.1)));
        let r = replay(&records, mean_of);
        assert!(r.scale > quiet * 2.0, "five months missed raise the scale: {quiet} → {}", r.scale);
        // Record 41's band was made knowing record 40's miss, and the 80% rank of its errors is
        // unmoved by one large error: one step up.
        let (before, after) = (r.band(40).unwrap().0[1], r.band(41).unwrap().0[1]);
        assert!((after / before - (ADAPT_RATE * 0.8).exp()).abs() < 1e-9, "{before} → {after}");
        let c = r.coverage(&records, mean_of, |r| r.origin >= 40);
        assert_eq!((c.checked, c.inside_80), (5, 0), "{c:?}");
        let (lo, hi) = SCALE_BOUNDS;
        assert_eq!((0..100).fold(0.0, |t, _| adapt(t, 1.0)), hi.ln());
        assert_eq!((0..1000).fold(0.0, |t, _| adapt(t, 0.0)), lo.ln());
        assert_eq!(adapt(0.1, 0.2), 0.1, "one in five missed leaves the scale as it is");
    }
}
