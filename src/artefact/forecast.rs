//! The JSON of `headroom forecast`: the history as read (its periods, days and data quality)
//! and the monthly forecast with its bands, read back by `plan --forecast` and `report`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Contract, Kind};
use crate::calendar::YearMonth;
use crate::model::growth::{Forecast, Holdout, Scores};

/// Where the history came from and what span it covers.
#[derive(Debug, Serialize, Clone, Deserialize, JsonSchema)]
pub struct Source {
    pub file: String,
    pub rows: u64,
    pub interval_s: f64,
    /// The rows' kind: `1m`, `hourly`, `daily`, `weekly`, `monthly`, ….
    pub interval: String,
    pub first: String,
    pub last: String,
    /// Requests each counted event was taken as (`--requests-per-count`), when the counts were
    /// scaled to requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_count: Option<f64>,
    /// The last month with at least half its intervals: forecasts start after it.
    pub last_month: YearMonth,
}

/// Held-out months and the error of the forecast and the baselines on them.
#[derive(Debug, Serialize, Clone, Deserialize, JsonSchema)]
pub struct HoldoutReport {
    pub months: Vec<Holdout>,
    pub scores: Scores,
    /// Held-out months that had a band from the errors known before them.
    pub judged: usize,
    pub inside_80: usize,
    pub inside_95: usize,
}

/// The `forecast` answer; `periods` is a contract that `headroom plan --forecast` reads.
#[derive(Debug, Serialize, Clone, Deserialize, JsonSchema)]
pub struct ForecastReport {
    pub source: Source,
    pub history: Vec<Period>,
    /// Each day of history as the forecaster saw it (the report's chart draws these).
    pub days: Vec<DayJson>,
    pub quality: Quality,
    /// What was done about each finding.
    pub treatments: Vec<String>,
    #[serde(flatten)]
    pub forecast: Forecast,
    pub holdout: Option<HoldoutReport>,
    /// What a month's peak is for this data.
    pub peak_means: String,
    /// What `peak_rps_worst` is: the upper 95% bound, or compound growth at `--worst-growth`.
    pub worst_case: String,
}

/// One day of history.
#[derive(Debug, Serialize, Clone, Deserialize, JsonSchema)]
pub struct DayJson {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub date: String,
    pub mean_rps: f64,
    pub peak_rps: f64,
    /// Share of the day's intervals present in the file.
    pub coverage: f64,
}

/// A rolled-up period: a day or a month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Period {
    pub label: String,
    pub start_s: f64,
    /// Mean rate over the rows that count; `None` with no such row.
    pub mean_rps: Option<f64>,
    /// The largest native-interval rate in the period.
    pub peak_rps: Option<f64>,
    pub peak_to_mean: Option<f64>,
    /// Rows that count / rows the whole period would hold at the native interval.
    pub coverage: f64,
    pub outage_rows: u64,
    pub cpu_mean: Option<f64>,
    pub instances_max: Option<f64>,
}

/// A stretch with no rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Gap {
    /// Unix seconds of the first missing row and of the row that ends the gap.
    pub from_s: f64,
    pub to_s: f64,
    pub missing_rows: u64,
    /// File line of the row after the gap.
    pub line: u64,
}

/// A run of zero rates long enough to be an outage rather than a quiet spell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outage {
    pub from_s: f64,
    /// Unix seconds of the last zero row plus one interval.
    pub to_s: f64,
    pub rows: u64,
    pub line: u64,
}

/// Everything found in the data, with examples (file lines) and counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Quality {
    pub gaps: Vec<Gap>,
    pub gap_count: u64,
    pub missing_rows: u64,
    /// Rows with the same timestamp as the row before; the first is kept.
    pub duplicates: u64,
    pub duplicate_lines: Vec<u64>,
    /// Rows earlier than a row before them; aggregated into their own periods.
    pub out_of_order: u64,
    pub out_of_order_lines: Vec<u64>,
    pub outages: Vec<Outage>,
    pub outage_rows: u64,
    /// Zero-rate rows in runs too short to be outages; kept as measured.
    pub isolated_zero_rows: u64,
    /// Rows that could not be read, with `--skip-bad-rows`; otherwise the first is an error.
    pub bad_rows: u64,
    pub bad_row_examples: Vec<String>,
    /// The timestamps are Unix milliseconds (told by their magnitude, or `--epoch ms`).
    pub unix_millis: bool,
    /// The zone that timestamps without an offset were read in (`--timezone`): `UTC`,
    /// `UTC-05:00` or an IANA name; `null` when every timestamp said its own.
    #[serde(default)]
    pub zone: Option<String>,
}

impl Contract for ForecastReport {
    const KIND: Kind = Kind::Forecast;
}
