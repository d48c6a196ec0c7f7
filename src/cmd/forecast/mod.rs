//! `headroom forecast HISTORY.csv`: monthly mean and peak RPS from a request-rate history.

use std::io::Write;

use anyhow::Result;
use clap::Args;

pub use crate::artefact::forecast::{DayJson, ForecastReport, HoldoutReport, Source};
use crate::calendar::{rfc3339, YearMonth, DAY_S};
use crate::cmd::history::HistoryInput;
use crate::error::InputError;
use crate::ingest::history::History;
use crate::ingest::service::Growth;
use crate::model::growth::{self, DayObs};
use crate::output::Format;
use crate::units::percent;

/// Arguments of `headroom forecast`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  headroom forecast models/history/nasa_ksc_requests_1min.csv\n  \
headroom forecast traffic.csv --count-column requests --interval 5m --format json > forecast.json\n  \
headroom forecast models/history/wc98_requests_1min.csv --holdout 2")]
pub struct ForecastArgs {
    #[command(flatten)]
    pub input: HistoryInput,
    /// Months to forecast after the last month of history
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub horizon: u32,
    /// Worst case from this monthly growth (e.g. 15%/month) instead of the upper 95% bound, for
    /// a history too short or erratic to give a usable band
    #[arg(long, allow_hyphen_values = true, value_name = "RATE")]
    pub worst_growth: Option<Growth>,
    /// Also forecast each of the last N months of history from the months before it, and
    /// compare with what happened and with a Holt-Winters baseline
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=24))]
    pub holdout: Option<u32>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

/// Runs `headroom forecast`.
pub fn run(args: ForecastArgs, out: &mut dyn Write) -> Result<()> {
    let history = args.input.read(false)?;
    let file = history.source.clone();
    let months = history.monthly();
    let last_month =
        months.iter().rev().find(|m| m.coverage >= 0.5).and_then(|m| m.label.parse::<YearMonth>().ok()).ok_or_else(
            || InputError::BadFile {
                file: file.clone(),
                message: "no month is at least half covered: a forecast needs a month of history or more".into(),
            },
        )?;
    let days = day_obs(&history, last_month.plus(1).first_day());
    let bad = |e: growth::ForecastError| InputError::BadFile { file: file.clone(), message: e.to_string() };
    let forecast = growth::forecast(
        &days,
        growth::Options {
            first_month: last_month.plus(1),
            horizon: args.horizon as usize,
            worst_growth: args.worst_growth.map(|g| g.0),
        },
    )
    .map_err(bad)?;
    let holdout = args.holdout.map(|n| holdouts(&days, last_month, n)).transpose()?;
    let report = ForecastReport {
        source: Source {
            file,
            rows: history.rows,
            interval_s: history.interval_s,
            first: rfc3339(history.first_s),
            last: rfc3339(history.last_s),
            last_month,
        },
        treatments: history.quality.treatments(),
        quality: history.quality.clone(),
        history: months,
        days: days
            .iter()
            .filter(|d| d.coverage > 0.0)
            .map(|d| DayJson {
                day: d.day,
                date: rfc3339(d.day as f64 * DAY_S as f64)[..10].to_string(),
                mean_rps: d.mean_rps,
                peak_rps: d.peak_rps,
                coverage: d.coverage,
            })
            .collect(),
        forecast,
        holdout,
        worst_case: match args.worst_growth {
            Some(g) => {
                format!("compound growth of {}/month from the last 30 days' peak (--worst-growth)", percent(g.0, 3))
            }
            None => "the upper 95% bound".into(),
        },
    };
    super::emit(&report, args.format, out, None)?;
    Ok(())
}

/// The days of the history before `end_day`, as the forecaster sees them.
fn day_obs(h: &History, end_day: i64) -> Vec<DayObs> {
    let per_day = DAY_S as f64 / h.interval_s;
    h.days
        .iter()
        .enumerate()
        .map(|(i, d)| DayObs {
            day: h.first_day + i as i64,
            mean_rps: if d.rows > 0 { d.sum_rps / d.rows as f64 } else { 0.0 },
            peak_rps: d.peak_rps,
            coverage: (d.rows as f64 / per_day).min(1.0),
        })
        .filter(|d| d.day < end_day)
        .collect()
}

fn holdouts(days: &[DayObs], last_month: YearMonth, n: u32) -> Result<HoldoutReport> {
    let mut months = Vec::new();
    for k in (0..n as i64).rev() {
        // A month without enough history before it is skipped, not an error.
        if let Ok(Some(h)) = growth::holdout(days, last_month.plus(-k)) {
            months.push(h);
        }
    }
    let ape = |f: f64, a: f64| 100.0 * (f - a).abs() / a;
    let mape = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    Ok(HoldoutReport {
        peak_mape: mape(months.iter().map(|h| ape(h.forecast.peak_rps, h.actual_peak_rps)).collect()),
        holt_winters_peak_mape: mape(
            months.iter().filter_map(|h| h.holt_winters_peak_rps.map(|p| ape(p, h.actual_peak_rps))).collect(),
        ),
        inside_95: months
            .iter()
            .filter(|h| (h.forecast.peak_rps_lo95..=h.forecast.peak_rps_hi95).contains(&h.actual_peak_rps))
            .count(),
        months,
    })
}
