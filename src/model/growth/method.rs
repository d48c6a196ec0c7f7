//! The forecasting methods behind one trait: the members whose mean is headroom's forecast
//! (M4's lesson: a combination of simple, different methods beats choosing one), and the two
//! baselines it is measured against.

use serde::{Deserialize, Serialize};

use super::{ets, naive, theta};
use schemars::JsonSchema;

/// A fitted method: forecasts h ≥ 1 steps after the series it was fitted to.
pub trait Forecaster {
    fn forecast(&self, h: usize) -> f64;
}

impl Forecaster for ets::Ets {
    fn forecast(&self, h: usize) -> f64 {
        ets::Ets::forecast(self, h)
    }
}

impl Forecaster for theta::Theta {
    fn forecast(&self, h: usize) -> f64 {
        theta::Theta::forecast(self, h)
    }
}

impl Forecaster for naive::Naive {
    fn forecast(&self, h: usize) -> f64 {
        naive::Naive::forecast(self, h)
    }
}

/// A forecasting method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Exponential smoothing with a damped additive trend and a multiplicative season.
    DampedEts,
    /// The Theta method on the seasonally adjusted series.
    Theta,
    /// Baseline: multiplicative Holt-Winters (undamped additive trend).
    HoltWinters,
    /// Baseline: the last season's value.
    SeasonalNaive,
}

impl Method {
    /// The combination's members. A third, seasonal naive with the recent year-on-year growth,
    /// was measured and left out: it made the combination worse than Holt-Winters on a series
    /// with a level shift (English Wikipedia's, where it carried a one-off jump into the next
    /// year) and better on none by enough to pay for that.
    pub const MEMBERS: [Method; 2] = [Method::DampedEts, Method::Theta];
    /// What the combination is measured against.
    pub const BASELINES: [Method; 2] = [Method::HoltWinters, Method::SeasonalNaive];

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Method::DampedEts => "damped-trend ETS",
            Method::Theta => "Theta",
            Method::HoltWinters => "Holt-Winters (multiplicative)",
            Method::SeasonalNaive => "seasonal naive",
        }
    }

    /// Fits to a positive series with season length `m` (0 for none).
    pub fn fit(self, y: &[f64], m: usize) -> Option<Box<dyn Forecaster>> {
        Some(match self {
            Method::DampedEts => Box::new(ets::fit(y, m, true)?),
            Method::HoltWinters => Box::new(ets::fit(y, m, false)?),
            Method::Theta => Box::new(theta::fit(y, m, None)?),
            Method::SeasonalNaive => Box::new(naive::fit(y, m)?),
        })
    }
}

/// The mean of fitted members' forecasts, each member with the method it was fitted by.
pub struct Combined(pub Vec<(Method, Box<dyn Forecaster>)>);

impl Forecaster for Combined {
    fn forecast(&self, h: usize) -> f64 {
        self.0.iter().map(|(_, m)| m.forecast(h)).sum::<f64>() / self.0.len() as f64
    }
}

impl Combined {
    /// The fitted member of `method`, when it could be fitted.
    pub fn member(&self, method: Method) -> Option<&dyn Forecaster> {
        self.0.iter().find(|(m, _)| *m == method).map(|(_, f)| f.as_ref())
    }
}

/// Fits every method of `methods` that can be fitted; their mean, or `None` when none can.
pub fn combine(methods: &[Method], y: &[f64], m: usize) -> Option<Combined> {
    let fitted: Vec<_> = methods.iter().filter_map(|&k| Some((k, k.fit(y, m)?))).collect();
    (!fitted.is_empty()).then_some(Combined(fitted))
}
