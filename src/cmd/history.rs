//! `headroom history HISTORY.csv`: roll-ups by hour, day or month and the data-quality report,
//! without a forecast. Also home of the history flags that `forecast` shares.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::calendar::rfc3339;
use crate::history::{self, Columns, History, Options, Period, Quality};
use crate::output::{self, Doc, Format, Render, Section};
use crate::units::{human_duration, percent, readable, sig, thousands, Span};

/// Where a history comes from and how to read it (shared by `history` and `forecast`).
#[derive(Debug, Args)]
pub struct HistoryInput {
    /// CSV with a header row, a timestamp column and a rate (or count) column; `-` reads stdin
    pub history: PathBuf,
    /// Column with the time: RFC 3339 (any offset) or Unix seconds
    #[arg(long, default_value = "timestamp", value_name = "NAME")]
    pub time_column: String,
    /// Column with the rate in requests per second
    #[arg(long, default_value = "rps", value_name = "NAME")]
    pub rate_column: String,
    /// Read a count per interval from this column instead of a rate
    #[arg(long, value_name = "NAME")]
    pub count_column: Option<String>,
    /// Column with the instance count (optional; used when present)
    #[arg(long, value_name = "NAME")]
    pub instances_column: Option<String>,
    /// Column with CPU utilization (optional; used when present)
    #[arg(long, value_name = "NAME")]
    pub cpu_column: Option<String>,
    /// The interval each row covers (default: the smallest spacing of the first rows)
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<Span>,
    /// A run of zero rate at least this long is an outage, not a quiet spell
    #[arg(long, default_value = "15m", value_name = "DURATION")]
    pub outage_after: Span,
    /// Count and report unreadable rows instead of stopping at the first
    #[arg(long)]
    pub skip_bad_rows: bool,
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
            },
            interval_s: self.interval.map(|s| s.secs()).filter(|s| *s > 0.0),
            skip_bad_rows: self.skip_bad_rows,
            outage_after_s: self.outage_after.secs(),
            hourly,
        };
        history::read(&self.history, &opts)
    }
}

/// The period of a roll-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Hour,
    Day,
    Month,
}

/// Arguments of `headroom history`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  headroom history models/history/nasa_ksc_requests_1min.csv --by month\n  \
headroom history traffic.csv --by hour --format csv > hourly.csv")]
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

/// The `history` answer.
#[derive(Debug, Serialize)]
pub struct HistoryReport {
    pub file: String,
    pub rows: u64,
    pub interval_s: f64,
    pub by: By,
    pub periods: Vec<Period>,
    pub quality: Quality,
    pub treatments: Vec<String>,
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
    output::emit(&report, args.format, out)?;
    Ok(())
}

/// The roll-up table.
pub fn periods_section(heading: &str, periods: &[Period], interval_s: f64) -> Section {
    let mut s = Section::new(heading, &["period", "mean RPS", "peak RPS", "peak/mean", "coverage", "outage"]);
    for m in periods {
        s = s.row([
            m.label.clone(),
            m.mean_rps.map_or("—".into(), readable),
            m.peak_rps.map_or("—".into(), readable),
            m.peak_to_mean.map_or("—".into(), |r| sig(r, 3)),
            percent(m.coverage, 3),
            if m.outage_rows == 0 { "—".into() } else { human_duration(m.outage_rows as f64 * interval_s) },
        ]);
    }
    s
}

/// The data-quality table: every finding with where it is, and how each kind was treated.
pub fn quality_section(q: &Quality, treatments: &[String]) -> Section {
    let mut s = Section::new("Data quality", &["finding", "where", "size"]);
    for g in &q.gaps {
        s = s.row([
            "gap".into(),
            format!("{} → {} (line {})", rfc3339(g.from_s), rfc3339(g.to_s), g.line),
            format!("{} rows", thousands(g.missing_rows as f64)),
        ]);
    }
    for o in &q.outages {
        s = s.row([
            "outage".into(),
            format!("{} → {} (line {})", rfc3339(o.from_s), rfc3339(o.to_s), o.line),
            human_duration(o.to_s - o.from_s),
        ]);
    }
    let lines = |v: &[u64]| v.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ");
    for (name, count, at) in [
        ("duplicate", q.duplicates, format!("lines {}", lines(&q.duplicate_lines))),
        ("out of order", q.out_of_order, format!("lines {}", lines(&q.out_of_order_lines))),
        ("bad row", q.bad_rows, q.bad_row_examples.join("; ")),
        ("isolated zero", q.isolated_zero_rows, String::new()),
    ] {
        if count > 0 {
            s = s.row([name.to_string(), at, format!("{count} rows")]);
        }
    }
    if q.gap_count > q.gaps.len() as u64 {
        s.notes.push(format!("{} gaps in all; the first {} are listed", q.gap_count, q.gaps.len()));
    }
    if s.rows.is_empty() {
        s = s.row(["none".to_string(), String::new(), String::new()]);
    }
    s.notes.extend(treatments.iter().cloned());
    s
}

impl Render for HistoryReport {
    fn doc(&self) -> Doc {
        let by = match self.by {
            By::Hour => "hour",
            By::Day => "day",
            By::Month => "month",
        };
        let mut periods = periods_section(&format!("By {by}"), &self.periods, self.interval_s);
        periods.notes.push(format!("{} rows every {}", thousands(self.rows as f64), human_duration(self.interval_s)));
        Doc {
            title: format!("History of {}", self.file),
            sections: vec![periods, quality_section(&self.quality, &self.treatments)],
        }
    }

    fn csv(&self) -> Option<Section> {
        let mut s =
            Section::new("", &["period", "start", "mean_rps", "peak_rps", "peak_to_mean", "coverage", "outage_rows"]);
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        for p in &self.periods {
            s = s.row([
                p.label.clone(),
                rfc3339(p.start_s),
                opt(p.mean_rps),
                opt(p.peak_rps),
                opt(p.peak_to_mean),
                format!("{:.6}", p.coverage),
                p.outage_rows.to_string(),
            ]);
        }
        Some(s)
    }
}
