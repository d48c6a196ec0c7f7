//! The series a forecast is fitted to: calendar months, or for a short history the days, with
//! gaps filled and spikes clipped, and how a month's figure is read off a fitted method.

use serde::{Deserialize, Serialize};

use super::method::{Forecaster, Method};
use super::series::{self, Adjusted, DayObs, MonthObs};
use super::ForecastError;
use crate::calendar::{civil_from_days, YearMonth};
use schemars::JsonSchema;

/// The step the methods are fitted at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The monthly mean series, forecast directly.
    Monthly,
    /// The daily series with weekly factors (histories under two years), averaged per month.
    Daily,
}

/// Months of history from which the monthly series is used, with its yearly season.
pub const SEASONAL_MONTHS: usize = 24;
/// Months of history a monthly series without a season needs (rows coarser than a day).
pub const MIN_MONTHS: usize = 4;
/// Days of history the daily series needs.
pub const MIN_DAYS: usize = 21;

/// A history ready for the methods.
#[derive(Debug, Clone)]
pub struct Frame {
    pub resolution: Resolution,
    /// Month index 0.
    pub first_month: YearMonth,
    /// The months' actual figures (for scoring), from `first_month` on.
    pub months: Vec<MonthObs>,
    /// The series fitted, at the resolution's step: filled and clipped means.
    pub means: Vec<f64>,
    /// The same for peaks, where the data has them (the baselines forecast peaks directly).
    pub peaks: Option<Vec<f64>>,
    /// For the daily resolution, the day number of step 0.
    pub first_day: i64,
    /// Season length in steps (12, 7, or 0 for none).
    pub season: usize,
    pub adjusted: Vec<Adjusted>,
}

fn month_label(m: YearMonth) -> String {
    m.to_string()
}

fn day_label(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Fills and clips one series, noting what was changed under `label(t)`.
fn prepare(
    values: &[Option<f64>],
    m: usize,
    window: usize,
    label: impl Fn(usize) -> String,
    notes: &mut Vec<Adjusted>,
) -> Option<Vec<f64>> {
    let filled = series::fill(values, m)?;
    // Spikes are judged against the series without its season, so that every December's dip
    // is not taken for one.
    let season = series::seasonal_indices(&filled, m).unwrap_or_default();
    let s = |t: usize| if season.is_empty() { 1.0 } else { season[t % m] };
    let adjusted: Vec<f64> = filled.iter().enumerate().map(|(t, v)| v / s(t)).collect();
    let (clipped, which) = series::clip(&adjusted, window);
    let clipped: Vec<f64> = clipped.iter().enumerate().map(|(t, v)| v * s(t)).collect();
    for (t, v) in values.iter().enumerate() {
        if v.is_none() {
            notes.push(Adjusted { period: label(t), action: "filled".into(), ratio: None });
        }
    }
    for (t, ratio) in which.into_iter().filter(|(t, _)| values[*t].is_some()) {
        notes.push(Adjusted { period: label(t), action: "clipped".into(), ratio: Some(ratio) });
    }
    Some(clipped)
}

impl Frame {
    /// The monthly series when there are two years of months or the rows are coarser than a
    /// day (`days` is `None`); otherwise the daily series.
    pub fn build(months: Vec<MonthObs>, days: Option<&[DayObs]>, peaks: bool) -> Result<Frame, ForecastError> {
        let first_month = months.first().ok_or(ForecastError::TooShort { what: "no month".into() })?.month;
        let usable_months = months.iter().filter(|m| m.mean_rps.is_some()).count();
        let mut adjusted = Vec::new();
        let monthly = days.is_none() || months.len() >= SEASONAL_MONTHS;
        if monthly {
            if usable_months < MIN_MONTHS {
                return Err(ForecastError::TooShort {
                    what: format!("{usable_months} usable month(s): monthly rows need at least {MIN_MONTHS}"),
                });
            }
            let season = if months.len() >= SEASONAL_MONTHS { 12 } else { 0 };
            let label = |t: usize| month_label(first_month.plus(t as i64));
            let mean_values: Vec<Option<f64>> = months.iter().map(|m| m.mean_rps).collect();
            let means = prepare(&mean_values, season, 5, label, &mut adjusted).expect("months are usable");
            let peak_values: Vec<Option<f64>> = months.iter().map(|m| m.peak_rps).collect();
            let peaks = peaks.then(|| prepare(&peak_values, season, 5, label, &mut Vec::new())).flatten();
            let first_day = first_month.first_day();
            return Ok(Frame {
                resolution: Resolution::Monthly,
                first_month,
                months,
                means,
                peaks,
                first_day,
                season,
                adjusted,
            });
        }
        let days = days.unwrap_or_default();
        let usable_days = days.iter().filter(|d| d.mean_rps.is_some()).count();
        if usable_days < MIN_DAYS {
            return Err(ForecastError::TooShort {
                what: format!("{usable_days} usable day(s) of history: a forecast needs at least {MIN_DAYS}"),
            });
        }
        let first_day = days[0].day;
        let label = |t: usize| day_label(first_day + t as i64);
        let mean_values: Vec<Option<f64>> = days.iter().map(|d| d.mean_rps).collect();
        let means = prepare(&mean_values, 7, 7, label, &mut adjusted).expect("days are usable");
        let peak_values: Vec<Option<f64>> = days.iter().map(|d| d.peak_rps).collect();
        let peaks = peaks.then(|| prepare(&peak_values, 7, 7, label, &mut Vec::new())).flatten();
        Ok(Frame { resolution: Resolution::Daily, first_month, months, means, peaks, first_day, season: 7, adjusted })
    }

    /// Steps of the fitted series before month index `k`.
    pub fn steps_before(&self, k: usize) -> usize {
        match self.resolution {
            Resolution::Monthly => k.min(self.means.len()),
            Resolution::Daily => {
                let d = self.first_month.plus(k as i64).first_day() - self.first_day;
                (d.max(0) as usize).min(self.means.len())
            }
        }
    }

    /// The first month index a backtest may forecast from: enough history before it for the
    /// methods and their season.
    pub fn first_origin(&self) -> usize {
        let need = match (self.resolution, self.season) {
            (Resolution::Monthly, 12) => SEASONAL_MONTHS,
            (Resolution::Monthly, _) => MIN_MONTHS,
            (Resolution::Daily, _) => 28,
        };
        (1..self.months.len()).find(|&k| self.steps_before(k) >= need).unwrap_or(self.months.len())
    }

    /// Month `k`'s mean (or, with `peak`, its peak) from a method fitted to the first `n` steps:
    /// the month's step, or the mean (peak: the largest) of its days' forecasts.
    pub fn month_value(&self, f: &dyn Forecaster, n: usize, k: usize, peak: bool) -> f64 {
        match self.resolution {
            Resolution::Monthly => f.forecast(k + 1 - n),
            Resolution::Daily => {
                let month = self.first_month.plus(k as i64);
                let start = (month.first_day() - self.first_day) as usize;
                let values = (start..start + month.days() as usize).map(|d| f.forecast(d + 1 - n));
                if peak {
                    values.fold(0.0, f64::max)
                } else {
                    values.sum::<f64>() / month.days() as f64
                }
            }
        }
    }

    /// The methods whose median is the forecast: the three members on months, damped-trend ETS
    /// alone on days (a seasonal naive of one week and a Theta line are no forecasts of months).
    pub fn members(&self) -> &'static [Method] {
        match self.resolution {
            Resolution::Monthly => &Method::MEMBERS,
            Resolution::Daily => &[Method::DampedEts],
        }
    }

    /// Fits `method` to the first `n` steps of the means (or peaks).
    pub fn fit(&self, method: Method, n: usize, peak: bool) -> Option<Box<dyn Forecaster>> {
        let y = if peak { self.peaks.as_ref()? } else { &self.means };
        method.fit(&y[..n], self.season)
    }

    /// The peak-to-mean ratio for month `target` as known before month `origin`: with a yearly
    /// season, the median of the same calendar month's ratios in the last three years when two
    /// are known (peaks are more seasonal than means: a summer's busiest hour stands further
    /// above its month than a winter's); otherwise the median of the last 12 months' ratios.
    pub fn ratio(&self, target: usize, origin: usize) -> Option<f64> {
        let known = |m: &MonthObs| m.mean_rps.zip(m.peak_rps).filter(|(mean, _)| *mean > 0.0).map(|(mean, p)| p / mean);
        let before = &self.months[..origin.min(self.months.len())];
        if self.season == 12 && self.resolution == Resolution::Monthly {
            let same: Vec<f64> = (1..=3)
                .filter_map(|y| target.checked_sub(12 * y))
                .filter_map(|k| before.get(k).and_then(known))
                .collect();
            if same.len() >= 2 {
                return Some(series::median(same));
            }
        }
        let ratios: Vec<f64> = before.iter().rev().filter_map(known).take(12).collect();
        (!ratios.is_empty()).then(|| series::median(ratios))
    }
}
