//! The streaming CSV reader: one pass, constant memory per row.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result};
use csv::ByteRecord;

use super::accumulator::{Accumulator, Row, Setup};
use super::quality::Quality;
use super::rollup::History;
use crate::calendar::{parse_timestamp_with, TimeRead, Written};
use crate::error::InputError;

/// Which columns hold what. `count` switches from a rate column to a count per interval.
#[derive(Debug, Clone)]
pub struct Columns {
    pub time: String,
    pub rate: String,
    pub count: Option<String>,
    /// Read when present; named explicitly, they must be present.
    pub instances: Option<String>,
    pub cpu: Option<String>,
    /// A column with each row's peak rate (for rows coarser than the peak capacity needs).
    pub peak: Option<String>,
}

impl Default for Columns {
    fn default() -> Self {
        Columns { time: "timestamp".into(), rate: "rps".into(), count: None, instances: None, cpu: None, peak: None }
    }
}

/// How to read a history.
#[derive(Debug, Clone)]
pub struct Options {
    pub columns: Columns,
    /// The native interval; inferred from the first rows when `None`.
    pub interval_s: Option<f64>,
    /// Count and report unreadable rows instead of stopping at the first.
    pub skip_bad_rows: bool,
    /// A run of zero rates at least this long is an outage.
    pub outage_after_s: f64,
    /// Keep per-hour roll-ups too (memory then grows with the history's span in hours).
    pub hourly: bool,
    /// The zone of timestamps without an offset, and the unit of numeric ones.
    pub time: TimeRead,
    /// Requests each counted event stands for (a count column only): counts and peaks are
    /// multiplied by it, so that the history is in requests of the service being planned.
    pub requests_per_count: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            columns: Columns::default(),
            interval_s: None,
            skip_bad_rows: false,
            outage_after_s: 15.0 * 60.0,
            hourly: false,
            time: TimeRead::default(),
            requests_per_count: None,
        }
    }
}

/// Reads a history from `path` (`-` for standard input): a CSV, or the JSON of a Prometheus
/// range query.
pub fn read(path: &Path, opts: &Options) -> Result<History> {
    if crate::files::is_stdout(path) {
        return Ok(read_either(BufReader::with_capacity(1 << 18, io::stdin().lock()), "<stdin>", opts)?);
    }
    let name = path.display().to_string();
    let file = File::open(path).with_context(|| format!("cannot open the history {name}"))?;
    Ok(read_either(BufReader::with_capacity(1 << 18, file), &name, opts)?)
}

/// How rows are accumulated: the reader's options, and what the file holds.
pub(super) fn setup(opts: &Options, is_count: bool, has_peak: bool) -> Setup {
    Setup { interval_s: opts.interval_s, hourly: opts.hourly, outage_after_s: opts.outage_after_s, is_count, has_peak }
}

/// A CSV streamed, or JSON (which starts with `{`) read whole.
fn read_either<R: BufRead>(mut input: R, source: &str, opts: &Options) -> Result<History, InputError> {
    let unreadable =
        |e: io::Error| InputError::BadFile { file: source.into(), message: format!("cannot read it: {e}") };
    if super::prometheus::is_json(input.fill_buf().map_err(unreadable)?) {
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes).map_err(unreadable)?;
        let text = crate::input::utf8(bytes, source)?;
        // A range query's values are rates, and it has no peak column.
        return super::prometheus::read(&text, source, &setup(opts, false, false));
    }
    read_from(input, source, opts)
}

struct Layout {
    time: usize,
    /// How the file writes its numeric timestamps, once its first row has said.
    unix: std::cell::Cell<Option<Written>>,
    value: usize,
    value_name: String,
    time_name: String,
    is_count: bool,
    instances: Option<usize>,
    cpu: Option<usize>,
    peak: Option<usize>,
    read: TimeRead,
    /// What each value and peak is multiplied by: requests per counted event, or 1.
    scale: f64,
    /// Whether any timestamp had no offset and was read in `time`'s zone.
    zoned: std::cell::Cell<bool>,
}

/// Reads a history from any reader; `source` names it in messages.
pub fn read_from<R: Read>(input: R, source: &str, opts: &Options) -> Result<History, InputError> {
    let mut rdr =
        csv::ReaderBuilder::new().flexible(true).comment(Some(b'#')).buffer_capacity(1 << 18).from_reader(input);
    let header =
        rdr.byte_headers().map_err(|e| InputError::BadFile { file: source.into(), message: e.to_string() })?.clone();
    let mut layout = layout(&header, source, &opts.columns, opts.time.clone())?;
    let scale = match (opts.requests_per_count, layout.is_count) {
        (Some(n), true) => Some(n),
        (Some(_), false) => {
            return Err(InputError::Usage(
                "--requests-per-count scales a count column: name it with --count-column".into(),
            ))
        }
        (None, _) => None,
    };
    layout.scale = scale.unwrap_or(1.0);
    let setup = setup(opts, layout.is_count, layout.peak.is_some());
    let mut record = ByteRecord::new();
    let mut pending: Vec<Row> = Vec::new();
    let mut acc: Option<Accumulator> = None;
    let mut bad = Quality::default();
    let mut rows = 0u64;
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                rows += 1;
                let line = e.position().map_or(0, |p| p.line());
                skip_or_fail(&mut bad, opts, InputError::BadRow { file: source.into(), line, message: e.to_string() })?;
                continue;
            }
        }
        rows += 1;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            rows -= 1;
            continue;
        }
        let row = match parse_row(&record, &layout, source, line) {
            Ok(r) => r,
            Err(e) => {
                skip_or_fail(&mut bad, opts, e)?;
                continue;
            }
        };
        match acc.as_mut() {
            Some(a) => a.push(row),
            None => {
                pending.push(row);
                if pending.len() >= 64 {
                    acc = Some(Accumulator::start(source, &setup, std::mem::take(&mut pending))?);
                }
            }
        }
    }
    let acc = match acc {
        Some(a) => a,
        None if pending.is_empty() => {
            return Err(InputError::BadFile { file: source.into(), message: "no data rows after the header".into() })
        }
        None => Accumulator::start(source, &setup, pending)?,
    };
    let mut history = acc.finish();
    history.quality.unix_millis = layout.unix.get() == Some(Written::UnixMillis);
    history.quality.zone = layout.zoned.get().then(|| opts.time.zone.name());
    history.rows = rows;
    history.requests_per_count = scale;
    history.quality.bad_rows = bad.bad_rows;
    history.quality.bad_row_examples = bad.bad_row_examples;
    Ok(history)
}

fn skip_or_fail(bad: &mut Quality, opts: &Options, e: InputError) -> Result<(), InputError> {
    if !opts.skip_bad_rows {
        return Err(e);
    }
    bad.bad_rows += 1;
    if bad.bad_row_examples.len() < super::quality::EXAMPLES {
        bad.bad_row_examples.push(e.to_string());
    }
    Ok(())
}

fn layout(header: &ByteRecord, file: &str, cols: &Columns, read: TimeRead) -> Result<Layout, InputError> {
    let names: Vec<String> = header.iter().map(|h| String::from_utf8_lossy(h).trim().to_string()).collect();
    let find = |want: &str| names.iter().position(|h| h.eq_ignore_ascii_case(want));
    let missing = |want: &str, flag: &str| InputError::MissingColumn {
        file: file.into(),
        column: want.into(),
        available: names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", "),
        flag: flag.into(),
    };
    let time = find(&cols.time).ok_or_else(|| missing(&cols.time, "--time-column"))?;
    let (value, value_name, is_count) = match &cols.count {
        Some(c) => (find(c).ok_or_else(|| missing(c, "--count-column"))?, c.clone(), true),
        None => (
            find(&cols.rate).ok_or_else(|| missing(&cols.rate, "--rate-column (or --count-column)"))?,
            cols.rate.clone(),
            false,
        ),
    };
    let optional = |name: &Option<String>, default: &str, flag: &str| -> Result<Option<usize>, InputError> {
        match name {
            Some(n) => find(n).map(Some).ok_or_else(|| missing(n, flag)),
            None => Ok(find(default)),
        }
    };
    Ok(Layout {
        time,
        time_name: cols.time.clone(),
        unix: std::cell::Cell::new(None),
        value,
        value_name,
        is_count,
        instances: optional(&cols.instances, "instances", "--instances-column")?,
        cpu: optional(&cols.cpu, "cpu", "--cpu-column")?,
        peak: cols.peak.as_ref().map(|n| find(n).ok_or_else(|| missing(n, "--peak-column"))).transpose()?,
        read,
        scale: 1.0,
        zoned: std::cell::Cell::new(false),
    })
}

fn number(field: &[u8]) -> Option<f64> {
    std::str::from_utf8(field).ok()?.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn parse_row(rec: &ByteRecord, l: &Layout, file: &str, line: u64) -> Result<Row, InputError> {
    let cell = |idx: usize, column: &str, expected: &str| InputError::BadCell {
        file: file.into(),
        line,
        column: column.into(),
        expected: expected.into(),
        found: crate::error::quote(&String::from_utf8_lossy(rec.get(idx).unwrap_or(b""))),
    };
    let expected = "a time such as 2026-01-31T12:00:00Z, 2026-01-31 12:00:00, 2026-01-31 or 2026-01, or Unix seconds or milliseconds, from 1970 to 2199";
    let (ts, written) = rec
        .get(l.time)
        .and_then(|t| parse_timestamp_with(t, &l.read))
        .ok_or_else(|| cell(l.time, &l.time_name, expected))?;
    if matches!(written, Written::Local | Written::Date | Written::Month) {
        l.zoned.set(true);
    } else if written != Written::Rfc3339 {
        match l.unix.get() {
            None => l.unix.set(Some(written)),
            Some(w) if w != written => {
                let (was, now) =
                    if w == Written::UnixMillis { ("milliseconds", "seconds") } else { ("seconds", "milliseconds") };
                let why = format!("Unix {was}, as the rows before it are (this one reads as Unix {now})");
                return Err(cell(l.time, &l.time_name, &why));
            }
            Some(_) => {}
        }
    }
    let value = rec.get(l.value).and_then(number).filter(|v| *v >= 0.0).ok_or_else(|| {
        cell(l.value, &l.value_name, if l.is_count { "a non-negative count" } else { "a non-negative rate" })
    })?;
    let optional = |idx: Option<usize>, name: &str, expected: &str| -> Result<Option<f64>, InputError> {
        match idx.map(|i| (i, rec.get(i).unwrap_or(b""))) {
            None => Ok(None),
            Some((_, f)) if f.iter().all(u8::is_ascii_whitespace) => Ok(None),
            Some((i, f)) => number(f).filter(|v| *v >= 0.0).map(Some).ok_or_else(|| cell(i, name, expected)),
        }
    };
    Ok(Row {
        ts,
        value: value * l.scale,
        instances: optional(l.instances, "instances", "a non-negative instance count")?,
        cpu: optional(l.cpu, "cpu", "a non-negative utilization")?,
        peak: optional(l.peak, "peak", "a non-negative peak rate")?.map(|p| p * l.scale),
        line,
    })
}
