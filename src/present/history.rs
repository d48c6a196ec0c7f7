//! A history rolled up by hour, day or month, and its data quality, as a document.

use crate::calendar::rfc3339;
use crate::ingest::history::By;
use crate::ingest::history::{Period, Quality};
use crate::present::Present;
use crate::units::{human_duration, percent, readable, sig, thousands};
use crate::view::{Document, Table};
use serde::Serialize;

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

/// The roll-up table.
pub fn periods_section(heading: &str, periods: &[Period], interval_s: f64) -> Table {
    let mut s = Table::new(heading, &["period", "mean RPS", "peak RPS", "peak/mean", "coverage", "outage"]);
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
pub fn quality_section(q: &Quality, treatments: &[String]) -> Table {
    let mut s = Table::new("Data quality", &["finding", "where", "size"]);
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

impl Present for HistoryReport {
    fn view(&self) -> Document {
        let by = match self.by {
            By::Hour => "hour",
            By::Day => "day",
            By::Month => "month",
        };
        let mut periods = periods_section(&format!("By {by}"), &self.periods, self.interval_s);
        periods.notes.push(format!("{} rows every {}", thousands(self.rows as f64), human_duration(self.interval_s)));
        Document::tables(
            format!("History of {}", self.file),
            vec![periods, quality_section(&self.quality, &self.treatments)],
        )
    }

    fn csv(&self) -> Option<Table> {
        let mut s =
            Table::new("", &["period", "start", "mean_rps", "peak_rps", "peak_to_mean", "coverage", "outage_rows"]);
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
