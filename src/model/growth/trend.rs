//! A robust trend with weekday (and, over two years, month-of-year) factors.
//!
//! value(t) = T(t) · w[weekday] · y[month], where T is flat (c), linear (a + b·t) or compound
//! (e^(a + b·t)). Fitted by iteratively reweighted least squares with Huber weights on residuals
//! scaled by the MAD, so that spikes (a launch day, a news day) and dips pull the trend little;
//! the weights that end under ½ are reported as down-weighted days.

use serde::{Deserialize, Serialize};

use crate::calendar::civil_from_days;
use schemars::JsonSchema;

/// The trend family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Flat,
    Linear,
    Compound,
}

impl Trend {
    /// Every family, in order of complexity.
    pub const ALL: [Trend; 3] = [Trend::Flat, Trend::Linear, Trend::Compound];
}

/// One observation: a day number and a positive value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Obs {
    pub day: i64,
    pub value: f64,
}

/// A fitted trend with its factors and the weight it gave each observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub trend: Trend,
    /// Day number that t = 0 stands for.
    pub origin: i64,
    pub a: f64,
    pub b: f64,
    /// Weekday factors, Monday first; geometric mean 1.
    pub weekday: [f64; 7],
    /// Month-of-year factors, January first; `None` under two years of data.
    pub yearly: Option<[f64; 12]>,
    /// Final Huber weight of each observation, in input order.
    pub weights: Vec<f64>,
    /// The least a linear trend may fall to: 1% of the median level, so that a steep line
    /// extrapolated backwards or forwards never predicts zero or negative traffic.
    pub floor: f64,
}

const HUBER_K: f64 = 1.345;

fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

fn month_of_year(day: i64) -> usize {
    civil_from_days(day).1 as usize - 1
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The median and the MAD scaled to a normal σ (1.4826·MAD).
pub fn robust_location_scale(values: &[f64]) -> (f64, f64) {
    let mut v = values.to_vec();
    let m = median(&mut v);
    let mut dev: Vec<f64> = values.iter().map(|x| (x - m).abs()).collect();
    (m, 1.4826 * median(&mut dev))
}

impl Fit {
    /// The trend alone at day `day`.
    pub fn trend_at(&self, day: i64) -> f64 {
        let t = (day - self.origin) as f64;
        match self.trend {
            Trend::Flat => self.a.exp(),
            Trend::Linear => (self.a + self.b * t).max(self.floor),
            Trend::Compound => (self.a + self.b * t).exp(),
        }
    }

    /// The weekday and month-of-year factors at day `day`.
    pub fn seasonal(&self, day: i64) -> f64 {
        self.weekday[weekday(day)] * self.yearly.map_or(1.0, |y| y[month_of_year(day)])
    }

    /// The fitted value at day `day`, factors included.
    pub fn at(&self, day: i64) -> f64 {
        self.trend_at(day) * self.seasonal(day)
    }

    /// The trend's growth per 30 days: a fraction (compound, linear at the last day) or 0.
    pub fn monthly_growth(&self, last_day: i64) -> f64 {
        match self.trend {
            Trend::Flat => 0.0,
            Trend::Compound => (self.b * 30.0).exp() - 1.0,
            Trend::Linear => {
                let now = self.trend_at(last_day);
                if now > 0.0 {
                    self.b * 30.0 / now
                } else {
                    0.0
                }
            }
        }
    }
}

/// Weighted least squares of y on (1, t): returns (a, b); b = 0 when `slope` is false.
fn wls(t: &[f64], y: &[f64], w: &[f64], slope: bool) -> (f64, f64) {
    let sw: f64 = w.iter().sum();
    let mt = t.iter().zip(w).map(|(t, w)| t * w).sum::<f64>() / sw;
    let my = y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / sw;
    if !slope {
        return (my, 0.0);
    }
    let sxx: f64 = t.iter().zip(w).map(|(t, w)| w * (t - mt).powi(2)).sum();
    let sxy: f64 = t.iter().zip(y).zip(w).map(|((t, y), w)| w * (t - mt) * (y - my)).sum();
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (my - b * mt, b)
}

/// Factors from the median log ratio of value to fit in each group, normalized to geometric
/// mean 1; groups with fewer than `min_obs` observations get 1.
fn factors<const N: usize>(obs: &[Obs], fit: &Fit, group: fn(i64) -> usize, min_obs: usize) -> [f64; N] {
    let mut logs: Vec<Vec<f64>> = vec![Vec::new(); N];
    for o in obs {
        let base = fit.trend_at(o.day) * fit.seasonal(o.day) / current_factor::<N>(fit, o.day, group);
        if base > 0.0 {
            logs[group(o.day)].push((o.value / base).ln());
        }
    }
    let mut out = [0.0; N];
    for (g, l) in logs.iter_mut().enumerate() {
        out[g] = if l.len() >= min_obs { median(l) } else { 0.0 };
    }
    let mean = out.iter().sum::<f64>() / N as f64;
    out.map(|l| (l - mean).exp())
}

fn current_factor<const N: usize>(fit: &Fit, day: i64, group: fn(i64) -> usize) -> f64 {
    if N == 7 {
        fit.weekday[group(day)]
    } else {
        fit.yearly.map_or(1.0, |y| y[group(day)])
    }
}

/// Fits `trend` to `obs` (values > 0) robustly; weekday factors need two weeks of data and
/// month-of-year factors two years.
pub fn fit(obs: &[Obs], trend: Trend) -> Fit {
    let origin = obs.first().map_or(0, |o| o.day);
    let span = obs.last().map_or(0, |o| o.day) - origin + 1;
    let mut values: Vec<f64> = obs.iter().map(|o| o.value).collect();
    let floor = 0.01 * median(&mut values);
    let mut f =
        Fit { trend, origin, a: 0.0, b: 0.0, weekday: [1.0; 7], yearly: None, weights: vec![1.0; obs.len()], floor };
    let t: Vec<f64> = obs.iter().map(|o| (o.day - origin) as f64).collect();
    for _ in 0..12 {
        let deseason: Vec<f64> = obs.iter().map(|o| o.value / f.seasonal(o.day)).collect();
        let (a, b) = match trend {
            Trend::Linear => wls(&t, &deseason, &f.weights, true),
            _ => {
                let logs: Vec<f64> = deseason.iter().map(|v| v.max(1e-300).ln()).collect();
                wls(&t, &logs, &f.weights, trend == Trend::Compound)
            }
        };
        f.a = a;
        f.b = b;
        if span >= 14 {
            f.weekday = factors::<7>(obs, &f, weekday, 2);
        }
        if span >= 730 {
            f.yearly = Some(factors::<12>(obs, &f, month_of_year, 28));
        }
        let resid: Vec<f64> = obs.iter().map(|o| residual(trend, o.value, f.at(o.day))).collect();
        // A floor on the scale keeps noise-free data from weighting rounding errors.
        let scale = robust_location_scale(&resid).1.max(1e-6);
        f.weights = resid.iter().map(|r| (HUBER_K * scale / r.abs().max(1e-300)).min(1.0)).collect();
    }
    f
}

/// The residual on the scale the fit works in: relative for linear, logarithmic otherwise.
fn residual(trend: Trend, value: f64, fitted: f64) -> f64 {
    match trend {
        Trend::Linear => (value - fitted) / fitted.abs().max(1e-300),
        _ => (value.max(1e-300) / fitted.max(1e-300)).ln(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(f: impl Fn(i64) -> f64, days: i64) -> Vec<Obs> {
        (0..days).map(|d| Obs { day: 10_000 + d, value: f(10_000 + d) }).collect()
    }

    #[test]
    fn recovers_compound_growth_and_weekday_shape() {
        let shape = [1.2, 1.1, 1.1, 1.1, 1.0, 0.7, 0.6];
        let truth = |d: i64| 100.0 * (0.01 * (d - 10_000) as f64).exp() * shape[weekday(d)];
        let f = fit(&series(truth, 70), Trend::Compound);
        assert!((f.b - 0.01).abs() < 1e-9, "{}", f.b);
        for d in 10_000..10_070 {
            assert!((f.at(d) / truth(d) - 1.0).abs() < 1e-9);
        }
        assert!((f.monthly_growth(10_069) - (0.3f64.exp() - 1.0)).abs() < 1e-9);
    }

    #[test]
    fn a_spike_is_down_weighted_and_barely_moves_the_trend() {
        let mut obs = series(|d| 50.0 + 0.5 * (d - 10_000) as f64, 42);
        obs[20].value *= 8.0;
        let f = fit(&obs, Trend::Linear);
        assert!(f.weights[20] < 0.1, "{}", f.weights[20]);
        assert!(f.weights.iter().enumerate().all(|(i, w)| i == 20 || *w > 0.9));
        assert!((f.b - 0.5).abs() < 0.01, "{}", f.b);
    }

    #[test]
    fn yearly_factors_need_two_years() {
        let truth = |d: i64| 100.0 * if month_of_year(d) == 11 { 2.0 } else { 1.0 };
        assert!(fit(&series(truth, 400), Trend::Flat).yearly.is_none());
        let f = fit(&series(truth, 800), Trend::Flat);
        let y = f.yearly.unwrap();
        assert!((y[11] / y[5] - 2.0).abs() < 1e-6, "{y:?}");
    }
}
