//! `headroom history HISTORY.csv`: roll-ups by hour, day or month and the data-quality report,
//! without a forecast. Also home of the history flags that `forecast` shares.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use indicatif::{ProgressBar, ProgressStyle};

use crate::calendar::{Epoch, TimeRead, Zone};
use crate::error::InputError;
use crate::ingest::history::query::Query;
use crate::ingest::history::By;
use crate::ingest::history::{self, Columns, History, Options};
use crate::output::Format;
use crate::present::history::HistoryReport;
use crate::units::Span;

/// Where a history comes from and how to read it (shared by `history` and `forecast`).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["history", "prometheus"])))]
pub struct HistoryInput {
    /// CSV with a header row, a timestamp column and a rate (or count) column, or the JSON of a
    /// Prometheus range query (/api/v1/query_range; its series summed, as requests per second);
    /// `-` reads stdin. Not needed with --prometheus
    pub history: Option<PathBuf>,
    /// Column with the time: RFC 3339 (any offset), `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD`,
    /// `YYYY-MM`, or Unix seconds or milliseconds
    #[arg(long, default_value = "timestamp", value_name = "NAME")]
    pub time_column: String,
    /// The zone of timestamps written without an offset: UTC, a fixed offset such as +05:30, or
    /// a zone name such as America/New_York (daylight saving followed)
    #[arg(long, default_value = "UTC", value_name = "ZONE", value_parser = Zone::parse, allow_hyphen_values = true)]
    pub timezone: Zone,
    /// Unit of numeric timestamps: told by magnitude (auto), seconds or milliseconds
    #[arg(long, value_enum, default_value_t, value_name = "UNIT")]
    pub epoch: Epoch,
    /// Column with the rate in requests per second
    #[arg(long, default_value = "rps", value_name = "NAME")]
    pub rate_column: String,
    /// Read a count per interval from this column instead of a rate
    #[arg(long, value_name = "NAME")]
    pub count_column: Option<String>,
    /// Requests of the service each counted event stands for (with --count-column): e.g. 1000
    /// API requests per trip. Counts and peaks are multiplied by it, and the forecast says so
    #[arg(long, value_name = "N", requires = "count_column", value_parser = positive)]
    pub requests_per_count: Option<f64>,
    /// Column with the instance count (optional; used when present)
    #[arg(long, value_name = "NAME")]
    pub instances_column: Option<String>,
    /// Column with CPU utilization (optional; used when present)
    #[arg(long, value_name = "NAME")]
    pub cpu_column: Option<String>,
    /// Column with each row's peak rate (requests per second), for rows coarser than the peak
    /// that capacity needs (daily or monthly exports with their busiest minute)
    #[arg(long, value_name = "NAME")]
    pub peak_column: Option<String>,
    /// The interval each row covers (default: the smallest spacing of the first rows)
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<Span>,
    /// A run of zero rate at least this long is an outage, not a quiet spell
    #[arg(long, default_value = "15m", value_name = "DURATION")]
    pub outage_after: Span,
    /// Count and report unreadable rows instead of stopping at the first
    #[arg(long)]
    pub skip_bad_rows: bool,
    #[command(flatten)]
    pub prometheus: PrometheusInput,
}

const PROMETHEUS: &str = "Query Prometheus instead of reading a file";

/// A Prometheus server to query instead of reading a file.
#[derive(Debug, Args)]
pub struct PrometheusInput {
    /// The server's base URL (e.g. http://127.0.0.1:9090): the history is queried from its
    /// /api/v1/query_range, in requests of at most 10,000 steps
    #[arg(help_heading = PROMETHEUS, long, value_name = "URL", requires = "query")]
    pub prometheus: Option<String>,
    /// PromQL whose series, summed, are requests per second (e.g. 'sum(rate(http_requests_total[5m]))')
    #[arg(help_heading = PROMETHEUS, long, value_name = "PROMQL", requires = "prometheus")]
    pub query: Option<String>,
    /// How far back from --end to query
    #[arg(help_heading = PROMETHEUS, long, default_value = "400d", value_name = "DURATION")]
    pub range: Span,
    /// The query's resolution: one point per step
    #[arg(help_heading = PROMETHEUS, long, default_value = "5m", value_name = "DURATION")]
    pub step: Span,
    /// The end of the range: RFC 3339 (2026-11-30T00:00:00Z) or YYYY-MM-DD, UTC (default: now)
    #[arg(help_heading = PROMETHEUS, long, value_name = "TIME", value_parser = parse_end)]
    pub end: Option<f64>,
}

impl Default for PrometheusInput {
    fn default() -> Self {
        PrometheusInput {
            prometheus: None,
            query: None,
            range: "400d".parse().expect("a valid span"),
            step: "5m".parse().expect("a valid span"),
            end: None,
        }
    }
}

/// A positive, finite number.
fn positive(text: &str) -> Result<f64, String> {
    match text.trim().replace(',', "").parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("expected a positive number such as 1000, found '{text}'")),
    }
}

fn parse_end(text: &str) -> Result<f64, String> {
    crate::calendar::parse_timestamp(text.trim().as_bytes())
        .ok_or_else(|| format!("expected a time such as 2026-11-30T00:00:00Z or 2026-11-30, found '{text}'"))
}

impl HistoryInput {
    /// Reads the history in one pass; `hourly` keeps per-hour roll-ups as well.
    pub fn read(&self, hourly: bool) -> Result<History> {
        let opts = Options {
            columns: Columns {
                time: self.time_column.clone(),
                rate: self.rate_column.clone(),
                count: self.count_column.clone(),
                instances: self.instances_column.clone(),
                cpu: self.cpu_column.clone(),
                peak: self.peak_column.clone(),
            },
            interval_s: self.interval.map(|s| s.secs()).filter(|s| *s > 0.0),
            skip_bad_rows: self.skip_bad_rows,
            outage_after_s: self.outage_after.secs(),
            hourly,
            time: TimeRead { zone: self.timezone.clone(), epoch: self.epoch },
            requests_per_count: self.requests_per_count,
        };
        match (&self.prometheus.prometheus, &self.history) {
            (Some(url), _) => {
                let now =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
                let query = Query {
                    url: url.clone(),
                    promql: self.prometheus.query.clone().unwrap_or_default(),
                    range_s: self.prometheus.range.secs(),
                    step_s: self.prometheus.step.secs(),
                    end_s: self.prometheus.end.unwrap_or(now),
                };
                let bar = ProgressBar::new(0).with_style(
                    ProgressStyle::with_template("querying Prometheus: {pos}/{len} requests {wide_bar}")
                        .expect("a valid template"),
                );
                let h = history::query::read(&query, &opts, &mut |done, all| {
                    bar.set_length(all as u64);
                    bar.set_position(done as u64);
                });
                bar.finish_and_clear();
                Ok(h?)
            }
            (None, Some(path)) => history::read(path, &opts),
            (None, None) => Err(InputError::Usage(
                "name a history file (or - for stdin), or --prometheus URL --query PROMQL".into(),
            )
            .into()),
        }
    }
}

/// Arguments of `headroom history`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  headroom history models/history/nasa_ksc_requests_1min.csv --by month\n  \
headroom history traffic.csv --by hour --format csv > hourly.csv\n  \
headroom history --prometheus http://127.0.0.1:9090 --query 'sum(rate(http_requests_total[5m]))' --range 30d")]
pub struct HistoryArgs {
    #[command(flatten)]
    pub input: HistoryInput,
    /// Roll up by hour, day or month
    #[arg(long, value_enum, default_value_t = By::Day)]
    pub by: By,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

/// Runs `headroom history`.
pub fn run(args: HistoryArgs, out: &mut dyn Write) -> Result<()> {
    let h = args.input.read(args.by == By::Hour)?;
    let periods = match args.by {
        By::Hour => h.hourly(),
        By::Day => h.daily(),
        By::Month => h.monthly(),
    };
    let report = HistoryReport {
        file: h.source.clone(),
        rows: h.rows,
        interval_s: h.interval_s,
        by: args.by,
        periods,
        treatments: h.quality.treatments(),
        quality: h.quality,
    };
    super::emit(&report, args.format, out, None)?;
    Ok(())
}
