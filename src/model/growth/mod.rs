//! Growth forecasting: the monthly mean and peak RPS with prediction bands a reviewer can buy
//! servers by.
//!
//! With two years of months (or rows coarser than a day) the monthly mean series is forecast
//! directly by the mean of two simple, different methods (damped-trend ETS with a yearly
//! season, Theta on the seasonally adjusted series); shorter
//! histories are forecast on the daily series with weekly factors by damped-trend ETS and
//! averaged per month. A month's peak is its mean forecast times a peak-to-mean ratio (the same
//! calendar month's in past years, the trailing 12 months' median, or a given ratio), not a fit
//! of the noisy peak series. Bands are
//! split-conformal bounds from the rolling-origin backtest's errors at each horizon (see [`bands`]).

pub mod backtest;
pub mod bands;
pub mod ets;
pub mod frame;
pub mod method;
pub mod naive;
pub mod series;
pub mod theta;

use serde::{Deserialize, Serialize};

use crate::calendar::YearMonth;
use backtest::{mape, peak_from_mean, Record};
use bands::{Coverage, Offsets, Replay, Source};
pub use frame::{Frame, Resolution};
pub use method::Method;
use schemars::JsonSchema;
pub use series::{Adjusted, DayObs, MonthObs};

/// Where a month's peak comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PeakBasis {
    /// The rows' own peaks (the largest row of each month, or a peak column).
    Observed,
    /// A given peak-to-mean ratio.
    Ratio(f64),
    /// None: the rows are coarser than the peaks capacity needs; the mean only.
    None,
}

/// What the forecaster was asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// The first month to forecast: the month after the last of the history given.
    pub first_month: YearMonth,
    pub horizon: usize,
    /// An explicit worst-case monthly growth instead of the upper 95% bound.
    pub worst_growth: Option<f64>,
    pub peak: PeakBasis,
}

/// One member's forecast of the first month's mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Member {
    pub method: Method,
    pub first_month_mean_rps: Option<f64>,
}

/// The forecaster, in terms a reviewer can check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelSummary {
    pub name: String,
    pub resolution: Resolution,
    /// Season length in steps of the resolution (12 months, 7 days, or 0).
    pub season_steps: usize,
    pub members: Vec<Member>,
    /// The peak-to-mean ratio applied to the first month's mean; `null` for a mean-only forecast.
    pub peak_to_mean: Option<f64>,
    /// Growth per month implied by the first 12 forecast months against the last 12 of history.
    pub growth_per_month: Option<f64>,
    /// Months or days filled or clipped before fitting.
    pub adjusted: Vec<Adjusted>,
}

/// Backtest errors of the combination and the baselines over a set of forecasts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Scores {
    /// Forecasts scored.
    pub forecasts: usize,
    pub mean_mape: Option<f64>,
    pub peak_mape: Option<f64>,
    pub holt_winters_mean_mape: Option<f64>,
    pub holt_winters_peak_mape: Option<f64>,
    pub seasonal_naive_mean_mape: Option<f64>,
    pub seasonal_naive_peak_mape: Option<f64>,
    /// Out of sample: these forecasts against the bands from the errors known at their origins.
    #[serde(default)]
    pub mean_coverage: Coverage,
    /// The same for peaks; `null` for a mean-only forecast.
    #[serde(default)]
    pub peak_coverage: Option<Coverage>,
}

impl Scores {
    /// The coverage of the figure the plan buys by: the peak's, or the mean's for a mean-only
    /// forecast.
    pub fn judged_coverage(&self) -> &Coverage {
        self.peak_coverage.as_ref().unwrap_or(&self.mean_coverage)
    }
}

/// The scores at one horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HorizonScores {
    /// Months ahead (1 = the month right after the training history).
    pub h: usize,
    #[serde(flatten)]
    pub scores: Scores,
}

/// How wrong the forecaster and its baselines were on rolling origins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BacktestSummary {
    /// Months forecast from (each fitted on the history before it).
    pub origins: usize,
    pub first_origin: Option<YearMonth>,
    /// Pooled over 1 to 6 months ahead.
    pub ahead_1_to_6: Scores,
    /// Pooled over 7 to 12 months ahead; `null` when the backtest did not reach 7 months.
    #[serde(default)]
    pub ahead_7_to_12: Option<Scores>,
    pub horizons: Vec<HorizonScores>,
    /// Out of sample, over every horizon backtested: each forecast against the band from the
    /// errors known at its origin.
    pub mean_coverage: Coverage,
    pub peak_coverage: Option<Coverage>,
}

/// One forecast month. Bands are `null` when unusable (see `band_note`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PeriodForecast {
    pub month: YearMonth,
    pub mean_rps: f64,
    pub mean_rps_lo80: Option<f64>,
    pub mean_rps_hi80: Option<f64>,
    pub mean_rps_lo95: Option<f64>,
    pub mean_rps_hi95: Option<f64>,
    /// `null` for a mean-only forecast.
    pub peak_rps: Option<f64>,
    pub peak_rps_lo80: Option<f64>,
    pub peak_rps_hi80: Option<f64>,
    pub peak_rps_lo95: Option<f64>,
    pub peak_rps_hi95: Option<f64>,
    /// The upper 95% bound of the peak, or compound growth at the explicit worst-case rate.
    pub peak_rps_worst: Option<f64>,
    /// Where the band of the peak (or, mean-only, of the mean) came from.
    pub band: Source,
    pub band_usable: bool,
    pub band_note: Option<String>,
}

/// A forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Forecast {
    pub model: ModelSummary,
    pub backtest: BacktestSummary,
    pub periods: Vec<PeriodForecast>,
}

/// Why no forecast could be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ForecastError {
    #[error("{what}")]
    TooShort { what: String },
}

/// The note of a band too wide to buy servers by.
pub const UNUSABLE: &str = "band unusable: history too short or too erratic";

/// Forecasts from `months` (contiguous, ending with the month before `opts.first_month`) and,
/// for rows of a day or finer, the `days` they were made of.
pub fn forecast(months: Vec<MonthObs>, days: Option<&[DayObs]>, opts: Options) -> Result<Forecast, ForecastError> {
    forecast_with_holdout(months, days, opts, 0).map(|(f, _)| f)
}

/// [`forecast`], and the last `holdout` months of history as its backtest forecast each one
/// month ahead (read off the same backtest, not run again).
pub fn forecast_with_holdout(
    months: Vec<MonthObs>,
    days: Option<&[DayObs]>,
    opts: Options,
    holdout: usize,
) -> Result<(Forecast, Vec<Holdout>), ForecastError> {
    let frame = Frame::build(months, days, opts.peak == PeakBasis::Observed)?;
    let records = backtest::run(&frame, opts.peak, opts.horizon.max(6));
    let model = method::combine(frame.members(), &frame.means, frame.season)
        .ok_or_else(|| ForecastError::TooShort { what: "no method could be fitted to the history".into() })?;
    let n = frame.means.len();
    let origin = frame.months.len();
    let sigma = model_sigma(&frame, opts.peak);
    let mean_replay = bands::replay(&records, bands::mean_of);
    let peak_replay = (opts.peak != PeakBasis::None).then(|| bands::replay(&records, bands::peak_of));
    let mut periods = Vec::with_capacity(opts.horizon);
    for h in 1..=opts.horizon {
        let mean = frame.month_value(&model, n, origin + h - 1, false);
        let peak = peak_from_mean(&frame, opts.peak, mean, origin + h - 1, origin);
        let (mean_band, mean_source) = mean_replay.offsets(&records, bands::mean_of, h, |h| sigma(h, false));
        let peak_band =
            peak.zip(peak_replay.as_ref()).map(|(_, r)| r.offsets(&records, bands::peak_of, h, |h| sigma(h, true)));
        periods.push(period(&frame, &opts, h, (mean, mean_band, mean_source), peak.zip(peak_band)));
    }
    let members = frame
        .members()
        .iter()
        .map(|&m| Member {
            method: m,
            first_month_mean_rps: model.member(m).map(|f| frame.month_value(f, n, origin, false)),
        })
        .collect();
    let peak_to_mean = match opts.peak {
        PeakBasis::Observed => frame.ratio(origin, origin),
        PeakBasis::Ratio(r) => Some(r),
        PeakBasis::None => None,
    };
    let judged = peak_replay.as_ref().map_or((&mean_replay, bands::mean_of as bands::Pick), |r| (r, bands::peak_of));
    let held = held_out(&frame, &records, judged, holdout);
    let forecast = Forecast {
        model: ModelSummary {
            name: name(frame.resolution),
            resolution: frame.resolution,
            season_steps: frame.season,
            members,
            peak_to_mean,
            growth_per_month: growth(&frame, &periods),
            adjusted: frame.adjusted.clone(),
        },
        backtest: summary(&frame, &records, &mean_replay, peak_replay.as_ref()),
        periods,
    };
    Ok((forecast, held))
}

fn name(resolution: Resolution) -> String {
    match resolution {
        Resolution::Monthly => "mean of damped-trend ETS and Theta, on the monthly means".into(),
        Resolution::Daily => "damped-trend ETS with weekly factors on the daily means, averaged per month".into(),
    }
}

/// The model-based standard error of month h (for want of backtest origins): the damped-trend
/// model's at the month's middle, with the spread of the peak-to-mean ratio added for peaks.
fn model_sigma(frame: &Frame, basis: PeakBasis) -> impl Fn(usize, bool) -> f64 + '_ {
    let fitted = ets::fit(&frame.means, frame.season, true);
    let ratios: Vec<f64> = frame
        .months
        .iter()
        .rev()
        .filter_map(|m| m.mean_rps.zip(m.peak_rps).map(|(a, p)| (p / a).ln()))
        .take(12)
        .collect();
    let spread = if basis == PeakBasis::Observed && ratios.len() >= 3 {
        let c = series::median(ratios.clone());
        1.4826 * series::median(ratios.iter().map(|r| (r - c).abs()).collect())
    } else {
        0.0
    };
    move |h: usize, peak: bool| {
        let Some(e) = &fitted else { return f64::NAN };
        let steps = match frame.resolution {
            Resolution::Monthly => h,
            Resolution::Daily => {
                let month = frame.first_month.plus((frame.months.len() + h - 1) as i64);
                (month.first_day() + month.days() / 2 - frame.first_day) as usize + 1 - frame.means.len()
            }
        };
        let s = e.sigma_ahead(steps.max(1));
        if peak {
            (s * s + spread * spread).sqrt()
        } else {
            s
        }
    }
}

/// One month's figures and bands.
fn period(
    frame: &Frame,
    opts: &Options,
    h: usize,
    (mean, mean_band, mean_source): (f64, Offsets, Source),
    peak: Option<(f64, (Offsets, Source))>,
) -> PeriodForecast {
    let m = mean_band.around(mean);
    let (source, judged) = match peak {
        Some((p, (o, s))) => (s, o.around(p)),
        None => (mean_source, m),
    };
    let usable = judged.iter().all(|v| v.is_finite() && *v > 0.0) && judged[3] / judged[2] <= bands::UNUSABLE_RATIO;
    let keep = |v: f64| usable.then_some(v);
    let p = peak.map(|(p, (o, _))| (p, o.around(p)));
    let worst = match (opts.worst_growth, p) {
        // An explicit growth rate replaces the band: a planner's answer to a history too short
        // or erratic for a usable one. It never falls below the point forecast.
        (Some(g), Some((point, _))) => {
            Some(point.max(last_peak(frame, opts.peak).unwrap_or(point) * (1.0 + g).powi(h as i32)))
        }
        (None, Some((_, b))) => keep(b[3]),
        _ => None,
    };
    PeriodForecast {
        month: opts.first_month.plus(h as i64 - 1),
        mean_rps: mean,
        mean_rps_lo80: keep(m[0]),
        mean_rps_hi80: keep(m[1]),
        mean_rps_lo95: keep(m[2]),
        mean_rps_hi95: keep(m[3]),
        peak_rps: p.map(|(v, _)| v),
        peak_rps_lo80: p.and_then(|(_, b)| keep(b[0])),
        peak_rps_hi80: p.and_then(|(_, b)| keep(b[1])),
        peak_rps_lo95: p.and_then(|(_, b)| keep(b[2])),
        peak_rps_hi95: p.and_then(|(_, b)| keep(b[3])),
        peak_rps_worst: worst,
        band: source,
        band_usable: usable,
        band_note: (!usable).then(|| UNUSABLE.to_string()),
    }
}

/// The last month of history's peak (its mean times the ratio, for a given ratio).
fn last_peak(frame: &Frame, basis: PeakBasis) -> Option<f64> {
    let last = frame.months.iter().rev().find(|m| m.mean_rps.is_some())?;
    match basis {
        PeakBasis::Observed => last.peak_rps,
        PeakBasis::Ratio(r) => last.mean_rps.map(|m| m * r),
        PeakBasis::None => None,
    }
}

/// Growth per month of the first 12 forecast months' mean over the last 12 months of history.
fn growth(frame: &Frame, periods: &[PeriodForecast]) -> Option<f64> {
    let last: Vec<f64> = frame.months.iter().rev().take(12).filter_map(|m| m.mean_rps).collect();
    if last.len() < 12 || periods.len() < 12 {
        return None;
    }
    let ahead: f64 = periods[..12].iter().map(|p| p.mean_rps).sum();
    Some((ahead / last.iter().sum::<f64>()).powf(1.0 / 12.0) - 1.0)
}

/// The scores of the records `which` picks (coverage is judged against bands built from all
/// `records`).
fn scores(records: &[Record], replays: Replays, which: impl Fn(&Record) -> bool + Copy) -> Scores {
    let picked = || records.iter().filter(move |r| which(r));
    let baseline = |i: usize, peak: bool| {
        mape(picked().filter_map(move |r| {
            let (m, p) = r.baselines[i];
            if peak {
                p.zip(r.peak.map(|x| x.actual))
            } else {
                m.map(|m| (m, r.mean.actual))
            }
        }))
    };
    Scores {
        forecasts: picked().count(),
        mean_mape: mape(picked().map(|r| (r.mean.forecast, r.mean.actual))),
        peak_mape: mape(picked().filter_map(|r| r.peak.map(|p| (p.forecast, p.actual)))),
        holt_winters_mean_mape: baseline(0, false),
        holt_winters_peak_mape: baseline(0, true),
        seasonal_naive_mean_mape: baseline(1, false),
        seasonal_naive_peak_mape: baseline(1, true),
        mean_coverage: replays.0.coverage(records, bands::mean_of, which),
        peak_coverage: replays.1.map(|r| r.coverage(records, bands::peak_of, which)),
    }
}

/// The replayed bands of the means and (where forecast) the peaks.
type Replays<'a> = (&'a Replay, Option<&'a Replay>);

fn summary(frame: &Frame, records: &[Record], mean: &Replay, peak: Option<&Replay>) -> BacktestSummary {
    let replays = (mean, peak);
    let mut origins: Vec<usize> = records.iter().map(|r| r.origin).collect();
    origins.dedup();
    let top = records.iter().map(|r| r.h).max().unwrap_or(0).min(12);
    BacktestSummary {
        origins: origins.len(),
        first_origin: origins.first().map(|&k| frame.first_month.plus(k as i64)),
        ahead_1_to_6: scores(records, replays, |r| r.h <= 6),
        ahead_7_to_12: (top >= 7).then(|| scores(records, replays, |r| (7..=12).contains(&r.h))),
        horizons: (1..=top).map(|h| HorizonScores { h, scores: scores(records, replays, move |r| r.h == h) }).collect(),
        mean_coverage: mean.coverage(records, bands::mean_of, |_| true),
        peak_coverage: peak.map(|r| r.coverage(records, bands::peak_of, |_| true)),
    }
}

/// A held-out month: its backtest forecast from the month before, with the band the errors
/// known then gave, beside the baselines' forecasts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Holdout {
    pub month: YearMonth,
    pub actual_mean_rps: f64,
    pub actual_peak_rps: Option<f64>,
    pub mean_rps: f64,
    pub peak_rps: Option<f64>,
    /// Whether the actual (peak, or mean for a mean-only forecast) fell inside the band known
    /// at the origin; `null` with too few earlier errors for a band.
    pub inside_80: Option<bool>,
    pub inside_95: Option<bool>,
    pub holt_winters_mean_rps: Option<f64>,
    pub holt_winters_peak_rps: Option<f64>,
    pub seasonal_naive_mean_rps: Option<f64>,
    pub seasonal_naive_peak_rps: Option<f64>,
}

/// The last `n` months of history, each as the backtest forecast it one month ahead, judged by
/// the band of the replay given (the peak's, or the mean's for a mean-only forecast).
fn held_out(frame: &Frame, records: &[Record], (replay, pick): (&Replay, bands::Pick), n: usize) -> Vec<Holdout> {
    let from = frame.months.len().saturating_sub(n);
    records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.h == 1 && r.origin >= from)
        .map(|(i, r)| {
            let band = replay.band(i);
            let e = pick(r).map(|p| p.log_error());
            let holds = band.zip(e).map(|(b, e)| b.holds(e));
            Holdout {
                month: frame.first_month.plus(r.origin as i64),
                actual_mean_rps: r.mean.actual,
                actual_peak_rps: r.peak.map(|p| p.actual),
                mean_rps: r.mean.forecast,
                peak_rps: r.peak.map(|p| p.forecast),
                inside_80: holds.map(|h| h[0]),
                inside_95: holds.map(|h| h[1]),
                holt_winters_mean_rps: r.baselines[0].0,
                holt_winters_peak_rps: r.baselines[0].1,
                seasonal_naive_mean_rps: r.baselines[1].0,
                seasonal_naive_peak_rps: r.baselines[1].1,
            }
        })
        .collect()
}
