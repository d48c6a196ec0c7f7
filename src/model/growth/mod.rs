//! Growth forecasting: the monthly mean and monthly peak RPS, with prediction intervals.
//!
//! Candidates (flat, linear or compound trend; peak from the peak-to-mean ratio or from the
//! peak series) are scored by a rolling-origin backtest on 30-day windows and the best peak
//! error wins. Intervals come from that model's backtest errors: ln(actual / forecast) has a
//! root mean square s over n origins, and month h's band is forecast · e^(±t·s·√(d/d₀)), with
//! Student's t at n − 1 degrees of freedom and d the distance from the end of the history to the
//! middle of the month against d₀, half a backtest window.

pub mod backtest;
pub mod holt_winters;
pub mod model;
pub mod trend;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::calendar::{civil_from_days, YearMonth};
use backtest::Scored;
pub use model::{Candidate, DayObs, Fitted, Model, PeakModel, Spec, Training};
use schemars::JsonSchema;
pub use trend::Trend;

/// What the forecaster was asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// The first month to forecast.
    pub first_month: YearMonth,
    /// How many months.
    pub horizon: usize,
    /// An explicit worst-case monthly growth instead of the upper 95% bound.
    pub worst_growth: Option<f64>,
}

/// The chosen forecaster, in terms a reviewer can check. For the median of all models, the
/// figures below are those of the model whose peak forecast for the first month is the median.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelSummary {
    pub name: String,
    pub candidate: Candidate,
    /// Why this one: the backtest's pick, or the median for want of origins.
    pub reason: String,
    /// The single model described by the figures below.
    pub described: String,
    pub trend: Trend,
    pub peak_model: PeakModel,
    pub training: Training,
    /// Growth of the mean trend per 30 days at the end of the history.
    pub monthly_growth: f64,
    /// Mean traffic by weekday relative to the week, Monday first; `null` under two weeks.
    pub weekday_factors: Option<[f64; 7]>,
    /// Month-of-year factors, January first; `null` under two years.
    pub yearly_factors: Option<[f64; 12]>,
    /// The typical daily peak over its base (the peak-to-mean ratio for the ratio model).
    pub typical_peak_factor: f64,
    /// Robust σ of ln(daily peak / base): how much peaks vary from day to day.
    pub peak_spread: f64,
}

/// How the model was chosen and how wrong it was in the past.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BacktestSummary {
    pub origins: usize,
    pub window_days: usize,
    pub peak_mape: f64,
    pub mean_mape: f64,
    /// Root mean square of ln(actual / forecast) of the window peak.
    pub peak_log_rmse: f64,
    pub interval_degrees_of_freedom: usize,
    pub candidates: Vec<Scored>,
}

/// One forecast month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PeriodForecast {
    pub month: YearMonth,
    pub mean_rps: f64,
    pub peak_rps: f64,
    pub peak_rps_lo80: f64,
    pub peak_rps_hi80: f64,
    pub peak_rps_lo95: f64,
    pub peak_rps_hi95: f64,
    /// The worst case: the upper 95% bound, or compound growth at the explicit worst-case rate.
    pub peak_rps_worst: f64,
}

/// A day the robust fit gave under half weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DownWeighted {
    pub date: String,
    pub series: String,
    /// Actual over fitted.
    pub ratio: f64,
}

/// A forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Forecast {
    pub model: ModelSummary,
    pub backtest: BacktestSummary,
    pub periods: Vec<PeriodForecast>,
    pub down_weighted: Vec<DownWeighted>,
}

/// Why no forecast could be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ForecastError {
    #[error(
        "{usable} usable days of history: a forecast needs at least 21 (a backtest of 7 days after 14 of training)"
    )]
    TooShort { usable: usize },
}

/// The date of a day number, `YYYY-MM-DD`.
pub fn date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Forecasts from contiguous daily observations (unusable days included, in order).
pub fn forecast(days: &[DayObs], opts: Options) -> Result<Forecast, ForecastError> {
    let usable = days.iter().filter(|d| d.usable()).count();
    let too_short = ForecastError::TooShort { usable };
    let window = backtest::window_days(days.len()).filter(|_| usable >= 21).ok_or(too_short)?;
    let origins = backtest::origins(days.len(), window);
    let candidates: Vec<Scored> =
        Candidate::all().into_iter().filter_map(|c| backtest::run(days, window, &origins, c)).collect();
    let chosen = backtest::choose(&candidates).ok_or(ForecastError::TooShort { usable })?;
    let fitted = model::fit_candidate(days, chosen.candidate).ok_or(ForecastError::TooShort { usable })?;
    let e = &chosen.peak_log_errors;
    let rmse = (e.iter().map(|x| x * x).sum::<f64>() / e.len() as f64).sqrt();
    let dof = e.len().saturating_sub(1).max(1);
    let t = StudentsT::new(0.0, 1.0, dof as f64).expect("positive degrees of freedom");
    let (t80, t95) = (t.inverse_cdf(0.90), t.inverse_cdf(0.975));
    let last_day = days.last().map_or(0, |d| d.day);
    let recent: Vec<i64> = (last_day - 29..=last_day).collect();
    let base_peak = fitted.peak_over(&recent);
    let bands = Bands { rmse, window, t80, t95 };
    let periods = (0..opts.horizon).map(|h| month_forecast(&fitted, &opts, h, (last_day, base_peak), &bands)).collect();
    let first: Vec<i64> = (opts.first_month.first_day()..opts.first_month.plus(1).first_day()).collect();
    let model = described(&fitted, &first);
    let reason = reason(chosen);
    let mut down: Vec<DownWeighted> = model
        .down_weighted()
        .into_iter()
        .map(|(series, day, ratio)| DownWeighted { date: date(day), series: series.to_string(), ratio })
        .collect();
    down.sort_by(|a, b| b.ratio.ln().abs().total_cmp(&a.ratio.ln().abs()));
    Ok(Forecast {
        model: ModelSummary {
            name: chosen.name.clone(),
            candidate: chosen.candidate,
            reason,
            described: model.spec.name(),
            trend: model.spec.trend,
            peak_model: model.spec.peak_model,
            training: model.spec.training,
            monthly_growth: model.mean_fit.monthly_growth(last_day),
            weekday_factors: (model.mean_fit.weekday != [1.0; 7]).then_some(model.mean_fit.weekday),
            yearly_factors: model.mean_fit.yearly,
            typical_peak_factor: model.excess_mu.exp(),
            peak_spread: model.excess_sigma,
        },
        backtest: BacktestSummary {
            origins: e.len(),
            window_days: window,
            peak_mape: chosen.peak_mape,
            mean_mape: chosen.mean_mape,
            peak_log_rmse: rmse,
            interval_degrees_of_freedom: dof,
            candidates: candidates.clone(),
        },
        periods,
        down_weighted: down,
    })
}

/// How wide the bands are: the backtest's RMSE of log peaks over `window` days, and Student's t
/// quantiles.
struct Bands {
    rmse: f64,
    window: usize,
    t80: f64,
    t95: f64,
}

/// The forecast of month `h` of the horizon, its band widening with the distance from the last
/// day of history.
fn month_forecast(
    fitted: &model::Fitted,
    opts: &Options,
    h: usize,
    (last_day, base_peak): (i64, f64),
    b: &Bands,
) -> PeriodForecast {
    let month = opts.first_month.plus(h as i64);
    let span: Vec<i64> = (month.first_day()..month.first_day() + month.days()).collect();
    let peak = fitted.peak_over(&span);
    let distance = (month.first_day() as f64 + month.days() as f64 / 2.0 - last_day as f64).max(1.0);
    let s = b.rmse * (distance / (b.window as f64 / 2.0)).max(1.0).sqrt();
    let hi95 = peak * (b.t95 * s).exp();
    let worst = match opts.worst_growth {
        // An explicit growth rate replaces the band: a planner's answer to a history too
        // short or erratic for a usable one. It never falls below the point forecast.
        Some(g) => peak.max(base_peak * (1.0 + g).powi(h as i32 + 1)),
        None => hi95,
    };
    PeriodForecast {
        month,
        mean_rps: fitted.mean_over(&span),
        peak_rps: peak,
        peak_rps_lo80: peak * (-b.t80 * s).exp(),
        peak_rps_hi80: peak * (b.t80 * s).exp(),
        peak_rps_lo95: peak * (-b.t95 * s).exp(),
        peak_rps_hi95: hi95,
        peak_rps_worst: worst,
    }
}

/// Why the chosen candidate was chosen.
fn reason(chosen: &Scored) -> String {
    if chosen.candidate == Candidate::Median && chosen.peak_log_errors.len() < backtest::MIN_ORIGINS_TO_SELECT {
        format!(
            "{} backtest origin(s) are too few to pick one model reliably (at least {} are needed): the median of all is used",
            chosen.peak_log_errors.len(),
            backtest::MIN_ORIGINS_TO_SELECT
        )
    } else {
        "the simplest candidate within one standard error of the best backtest peak error".into()
    }
}

/// The member whose first-month peak forecast is the median (the model itself when single).
fn described<'a>(fitted: &'a Fitted, first_month: &[i64]) -> &'a Model {
    let mut by_peak: Vec<&Model> = fitted.members.iter().collect();
    by_peak.sort_by(|a, b| a.peak_over(first_month).total_cmp(&b.peak_over(first_month)));
    by_peak[(by_peak.len() - 1) / 2]
}

/// A held-out month: what happened, what headroom forecast, what the Holt-Winters baseline did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Holdout {
    pub month: YearMonth,
    pub actual_peak_rps: f64,
    pub actual_mean_rps: f64,
    pub forecast: PeriodForecast,
    pub model: String,
    /// The baseline's monthly peak: the largest of its daily-peak forecasts in the month.
    pub holt_winters_peak_rps: Option<f64>,
}

/// Forecasts `month` from the days before it and compares it with the days in it.
pub fn holdout(days: &[DayObs], month: YearMonth) -> Result<Option<Holdout>, ForecastError> {
    let cut = days.iter().position(|d| d.day >= month.first_day()).unwrap_or(days.len());
    let end = days.iter().position(|d| d.day >= month.plus(1).first_day()).unwrap_or(days.len());
    let Some((actual_mean_rps, actual_peak_rps)) = backtest::actual(&days[cut..end]) else { return Ok(None) };
    let train = &days[..cut];
    let f = forecast(train, Options { first_month: month, horizon: 1, worst_growth: None })?;
    let peaks: Vec<Option<f64>> = train.iter().map(|d| d.usable().then_some(d.peak_rps)).collect();
    let gap = (month.first_day() - train.last().map_or(month.first_day(), |d| d.day)) as usize;
    let holt_winters_peak_rps = holt_winters::fit(&holt_winters::fill(&peaks))
        .map(|hw| (gap..gap + month.days() as usize).map(|h| hw.forecast(h)).fold(0.0, f64::max));
    Ok(Some(Holdout {
        month,
        actual_peak_rps,
        actual_mean_rps,
        forecast: f.periods[0].clone(),
        model: f.model.name,
        holt_winters_peak_rps,
    }))
}
