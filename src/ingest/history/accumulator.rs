//! The per-row accumulation of a history: each row into its day (and hour), with gaps, duplicates,
//! out-of-order rows and outages found as they pass.

use super::quality::{Gap, Outage, Quality};
use super::rollup::{week_slot, History, Native};
use crate::calendar::DAY_S;
use crate::error::InputError;

struct ZeroRun {
    from_s: f64,
    last_s: f64,
    rows: u64,
    line: u64,
    /// (hour, rows) so that an outage can be taken back out of the roll-ups.
    segments: Vec<(i64, u32)>,
}

/// One row as read: its time, its value (a rate or a count) and the optional columns.
pub(super) struct Row {
    pub(super) ts: f64,
    pub(super) value: f64,
    pub(super) instances: Option<f64>,
    pub(super) cpu: Option<f64>,
    pub(super) peak: Option<f64>,
    pub(super) line: u64,
}

/// How rows are to be accumulated: what the reader's options and the file's header said.
pub(super) struct Setup {
    /// The native interval; inferred from the first rows when `None`.
    pub(super) interval_s: Option<f64>,
    pub(super) hourly: bool,
    pub(super) outage_after_s: f64,
    /// Values are counts per row, not rates.
    pub(super) is_count: bool,
    /// A peak column was named.
    pub(super) has_peak: bool,
}

pub(super) struct Accumulator {
    h: History,
    is_count: bool,
    has_peak: bool,
    prev_s: f64,
    max_s: f64,
    zero: Option<ZeroRun>,
    outage_after_s: f64,
}

impl Accumulator {
    pub(super) fn start(source: &str, opts: &Setup, first: Vec<Row>) -> Result<Self, InputError> {
        let interval_s =
            match opts.interval_s {
                Some(i) => i,
                None => first.windows(2).map(|w| w[1].ts - w[0].ts).filter(|d| *d > 0.0).reduce(f64::min).ok_or_else(
                    || InputError::BadFile {
                        file: source.into(),
                        message: "cannot tell the interval between rows from the first rows: pass --interval (e.g. 1m)"
                            .into(),
                    },
                )?,
            };
        let mut h = History::new(source, Native::of(interval_s), first[0].ts);
        if opts.hourly {
            h.hours = Some(Vec::new());
        }
        let mut acc = Accumulator {
            h,
            is_count: opts.is_count,
            has_peak: opts.has_peak,
            prev_s: f64::NAN,
            max_s: f64::NEG_INFINITY,
            zero: None,
            outage_after_s: opts.outage_after_s,
        };
        for row in first {
            acc.push(row);
        }
        Ok(acc)
    }

    pub(super) fn push(&mut self, row: Row) {
        let interval = self.h.interval_s;
        let q = &mut self.h.quality;
        if row.ts == self.prev_s {
            q.duplicates += 1;
            Quality::push_line(&mut q.duplicate_lines, row.line);
            return;
        }
        if row.ts < self.max_s {
            q.out_of_order += 1;
            Quality::push_line(&mut q.out_of_order_lines, row.line);
        } else if self.max_s.is_finite() && row.ts - self.max_s > 1.5 * interval {
            let missing = self.h.native.missing_between(self.max_s, row.ts);
            q.gap_count += 1;
            q.missing_rows += missing;
            if q.gaps.len() < 100 {
                q.gaps.push(Gap { from_s: self.max_s + interval, to_s: row.ts, missing_rows: missing, line: row.line });
            }
        }
        self.prev_s = row.ts;
        self.max_s = self.max_s.max(row.ts);
        self.h.first_s = self.h.first_s.min(row.ts);
        self.h.last_s = self.h.last_s.max(row.ts);
        if let Some(days) = self.h.native.days_spanned(row.ts) {
            return self.push_coarse(&row, days);
        }
        let rps = if self.is_count { row.value / interval } else { row.value };
        let day_no = row.ts.div_euclid(DAY_S as f64) as i64;
        let slot = week_slot(row.ts);
        let peak = if self.has_peak { row.peak.unwrap_or(0.0) } else { rps };
        self.h.day_mut(day_no).add_rate(rps, peak, row.cpu, row.instances);
        self.h.week[slot].0 += rps;
        self.h.week[slot].1 += 1;
        let hour = row.ts.div_euclid(3600.0) as i64;
        if let Some(h) = self.h.hour_mut(hour) {
            h.add_rate(rps, peak, row.cpu, row.instances);
        }
        self.track_zero(rps, row.ts, row.line, hour);
    }

    /// A row of a day or more (a day, a week, a calendar month): its rate (a count divided by
    /// the row's own span) is each of its days' mean.
    fn push_coarse(&mut self, row: &Row, (first_day, days): (i64, i64)) {
        let rps = if self.is_count { row.value / (days * DAY_S) as f64 } else { row.value };
        let peak = if self.has_peak { row.peak.unwrap_or(0.0) } else { rps };
        for d in first_day..first_day + days {
            self.h.day_mut(d).add_rate(rps, peak, row.cpu, row.instances);
        }
    }

    fn track_zero(&mut self, rps: f64, ts: f64, line: u64, hour: i64) {
        if rps > 0.0 {
            self.end_zero_run();
            return;
        }
        let run = self.zero.get_or_insert(ZeroRun { from_s: ts, last_s: ts, rows: 0, line, segments: Vec::new() });
        run.rows += 1;
        run.last_s = ts;
        match run.segments.last_mut() {
            Some((h, n)) if *h == hour => *n += 1,
            _ => run.segments.push((hour, 1)),
        }
    }

    fn end_zero_run(&mut self) {
        let Some(run) = self.zero.take() else { return };
        let to_s = run.last_s + self.h.interval_s;
        let q = &mut self.h.quality;
        if to_s - run.from_s < self.outage_after_s {
            q.isolated_zero_rows += run.rows;
            return;
        }
        q.outage_rows += run.rows;
        q.outages.push(Outage { from_s: run.from_s, to_s, rows: run.rows, line: run.line });
        let take_out = |bucket: &mut super::Day, n: u32| {
            bucket.rows -= n;
            bucket.outage_rows += n;
        };
        for (hour, n) in run.segments {
            take_out(self.h.day_mut(hour.div_euclid(24)), n);
            if let Some(h) = self.h.hour_mut(hour) {
                take_out(h, n);
            }
            self.h.week[week_slot(hour as f64 * 3600.0)].1 -= n as u64;
        }
    }

    pub(super) fn finish(mut self) -> History {
        self.end_zero_run();
        self.h
    }
}
