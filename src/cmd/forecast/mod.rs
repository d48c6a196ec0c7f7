//! `headroom forecast HISTORY.csv`: monthly mean and peak RPS from a request-rate history.

use std::io::Write;

use anyhow::Result;
use clap::Args;

pub use crate::artefact::forecast::{DayJson, ForecastReport, HoldoutReport, Source};
use crate::calendar::{rfc3339, YearMonth, DAY_S};
use crate::cmd::history::HistoryInput;
use crate::error::InputError;
use crate::ingest::history::{History, Native};
use crate::ingest::service::Growth;
use crate::model::growth::{self, backtest::mape, bands::Coverage, DayObs, MonthObs, PeakBasis, Scores};
use crate::output::Format;
use crate::units::{percent, sig};

/// Arguments of `headroom forecast`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  headroom forecast models/history/bikeshare_dc_hourly.csv --count-column trips\n  \
headroom forecast models/history/enwiki_monthly.csv --count-column requests --peak-to-mean 1.9\n  \
headroom forecast traffic.csv --count-column requests --interval 5m --format json > forecast.json\n  \
headroom forecast models/history/wc98_requests_1min.csv --holdout 2\n  \
headroom forecast --prometheus http://127.0.0.1:9090 --query 'sum(rate(http_requests_total[5m]))' --range 400d"
)]
pub struct ForecastArgs {
    #[command(flatten)]
    pub input: HistoryInput,
    /// Months to forecast after the last month of history
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub horizon: u32,
    /// The peak capacity needs over the month's mean (e.g. 1.9), for rows coarser than that peak
    /// (daily, weekly or monthly rows); without it, or --peak-column, such rows forecast the mean only
    #[arg(long, value_name = "R", value_parser = parse_ratio, conflicts_with = "peak_column")]
    pub peak_to_mean: Option<f64>,
    /// Worst case from this monthly growth (e.g. 15%/month) instead of the upper 95% bound, for
    /// a history too short or erratic to give a usable band
    #[arg(long, allow_hyphen_values = true, value_name = "RATE")]
    pub worst_growth: Option<Growth>,
    /// Also show how each of the last N months was forecast from the months before it, beside
    /// the Holt-Winters and seasonal naive baselines
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=24))]
    pub holdout: Option<u32>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 1.0 => Ok(r),
        _ => Err(format!("expected a peak-to-mean ratio of at least 1 (e.g. 1.9), found '{text}'")),
    }
}

/// Runs `headroom forecast`.
pub fn run(args: ForecastArgs, out: &mut dyn Write) -> Result<()> {
    let history = args.input.read(false)?;
    let file = history.source.clone();
    let periods = history.monthly();
    let last_month =
        periods.iter().rev().find(|m| m.coverage >= 0.5).and_then(|m| m.label.parse::<YearMonth>().ok()).ok_or_else(
            || InputError::BadFile {
                file: file.clone(),
                message: "no month is at least half covered: a forecast needs a month of history or more".into(),
            },
        )?;
    let months = month_obs(&periods, last_month);
    let days = day_obs(&history, last_month.plus(1).first_day());
    let fine = !matches!(history.native, Native::Week | Native::Month);
    let (basis, peak_means) = peak_basis(&history, &args);
    let bad = |e: growth::ForecastError| InputError::BadFile { file: file.clone(), message: e.to_string() };
    let opts = growth::Options {
        first_month: last_month.plus(1),
        horizon: args.horizon as usize,
        worst_growth: args.worst_growth.map(|g| g.0),
        peak: basis,
    };
    let held = args.holdout.unwrap_or(0) as usize;
    let (forecast, held) = growth::forecast_with_holdout(months, fine.then_some(&days[..]), opts, held).map_err(bad)?;
    let holdout = args.holdout.map(|_| holdout_report(held));
    let report = ForecastReport {
        source: Source {
            file,
            rows: history.rows,
            interval_s: history.interval_s,
            interval: history.native.label(),
            first: rfc3339(history.first_s),
            last: rfc3339(history.last_s),
            requests_per_count: history.requests_per_count,
            last_month,
        },
        treatments: history.quality.treatments(),
        quality: history.quality.clone(),
        history: periods,
        days: days
            .iter()
            .zip(&history.days)
            .filter(|(_, d)| d.rows > 0)
            .map(|(o, d)| DayJson {
                day: o.day,
                date: rfc3339(o.day as f64 * DAY_S as f64)[..10].to_string(),
                mean_rps: d.sum_rps / d.rows as f64,
                peak_rps: d.peak_rps,
                coverage: (d.rows as f64 * history.native.step_s() / DAY_S as f64).min(1.0),
            })
            .collect(),
        forecast,
        holdout,
        peak_means,
        worst_case: match args.worst_growth {
            Some(g) => {
                format!("compound growth of {}/month from the last month's peak (--worst-growth)", percent(g.0, 3))
            }
            None => "the upper 95% bound of the peak".into(),
        },
    };
    super::emit(&report, args.format, out, None)?;
    Ok(())
}

/// Where the peak comes from for this data, and the sentence that says so.
fn peak_basis(h: &History, args: &ForecastArgs) -> (PeakBasis, String) {
    if let Some(c) = &args.input.peak_column {
        return (PeakBasis::Observed, format!("peak = the largest value of column '{c}' in the month"));
    }
    if let Some(r) = args.peak_to_mean {
        return (PeakBasis::Ratio(r), format!("peak = the month's mean × {} (--peak-to-mean)", sig(r, 3)));
    }
    match h.native {
        Native::Seconds(s) if s < 3600.0 => (
            PeakBasis::Observed,
            format!("peak = the month's busiest {} interval (the rows' own)", h.native.label()),
        ),
        Native::Seconds(s) if s <= 3600.0 => (
            PeakBasis::Observed,
            "peak = the busiest hour of the month: the busiest minute is higher (give --peak-to-mean for it)".into(),
        ),
        _ => (
            PeakBasis::None,
            format!(
                "no peak: {} rows are coarser than the peaks capacity needs; the mean only (give --peak-to-mean R or --peak-column)",
                h.native.label()
            ),
        ),
    }
}

/// The months of history up to `last`, a month counted only when half covered.
fn month_obs(periods: &[crate::ingest::history::Period], last: YearMonth) -> Vec<MonthObs> {
    periods
        .iter()
        .filter_map(|p| {
            let month: YearMonth = p.label.parse().ok()?;
            let ok = p.coverage >= 0.5;
            (month <= last).then_some(MonthObs {
                month,
                mean_rps: p.mean_rps.filter(|_| ok),
                peak_rps: p.peak_rps.filter(|_| ok),
            })
        })
        .collect()
}

/// The days of the history before `end_day`, from the first day of its first month; a day
/// counted only when half covered.
fn day_obs(h: &History, end_day: i64) -> Vec<DayObs> {
    let per_day = DAY_S as f64 / h.native.step_s();
    h.days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let ok = d.rows as f64 >= 0.5 * per_day && d.rows > 0;
            let mean = d.sum_rps / d.rows.max(1) as f64;
            DayObs {
                day: h.first_day + i as i64,
                mean_rps: (ok && mean > 0.0).then_some(mean),
                peak_rps: (ok && d.peak_rps > 0.0).then_some(d.peak_rps),
            }
        })
        .filter(|d| d.day < end_day)
        .collect()
}

fn holdout_report(months: Vec<growth::Holdout>) -> HoldoutReport {
    let pairs = |f: fn(&growth::Holdout) -> Option<(f64, f64)>| mape(months.iter().filter_map(f));
    // The months' bands are the peak's, or the mean's for a mean-only forecast.
    let judged = Coverage {
        checked: months.iter().filter(|h| h.inside_80.is_some()).count(),
        inside_80: months.iter().filter(|h| h.inside_80 == Some(true)).count(),
        inside_95: months.iter().filter(|h| h.inside_95 == Some(true)).count(),
    };
    let peaks = months.iter().any(|h| h.peak_rps.is_some());
    let scores = Scores {
        forecasts: months.len(),
        mean_mape: pairs(|h| Some((h.mean_rps, h.actual_mean_rps))),
        peak_mape: pairs(|h| h.peak_rps.zip(h.actual_peak_rps)),
        holt_winters_mean_mape: pairs(|h| h.holt_winters_mean_rps.map(|f| (f, h.actual_mean_rps))),
        holt_winters_peak_mape: pairs(|h| h.holt_winters_peak_rps.zip(h.actual_peak_rps)),
        seasonal_naive_mean_mape: pairs(|h| h.seasonal_naive_mean_rps.map(|f| (f, h.actual_mean_rps))),
        seasonal_naive_peak_mape: pairs(|h| h.seasonal_naive_peak_rps.zip(h.actual_peak_rps)),
        mean_coverage: if peaks { Coverage::default() } else { judged },
        peak_coverage: peaks.then_some(judged),
    };
    HoldoutReport { judged: judged.checked, inside_80: judged.inside_80, inside_95: judged.inside_95, scores, months }
}
