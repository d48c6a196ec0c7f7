//! Per-day accumulators and the hour, day and month roll-ups built from them.

use serde::Serialize;

use super::Quality;
pub use crate::artefact::forecast::Period;
use crate::calendar::{YearMonth, DAY_S};

/// Hours in a week: the slots of the weekly profile, Monday 00:00 UTC first.
pub const WEEK_SLOTS: usize = 168;

/// One UTC day (or hour) of history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Day {
    /// Σ rate over the day's rows that count (outage rows removed).
    pub sum_rps: f64,
    pub rows: u32,
    /// The largest native-interval rate of the day.
    pub peak_rps: f64,
    pub outage_rows: u32,
    pub cpu_sum: f64,
    pub cpu_rows: u32,
    pub instances_max: f64,
}

/// The interval of a history's rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Native {
    /// A fixed interval under a day, in seconds.
    Seconds(f64),
    Day,
    Week,
    /// Calendar months: each row spans its own month's 28 to 31 days.
    Month,
}

impl Native {
    /// The kind of rows spaced `interval_s` apart (at least: the smallest spacing seen). Days
    /// may be 23 or 25 hours apart across a daylight-saving change, months 28 to 31 days.
    pub fn of(interval_s: f64) -> Native {
        let day = DAY_S as f64;
        if (interval_s - 7.0 * day).abs() <= 3600.0 {
            Native::Week
        } else if (28.0 * day - 3600.0..=31.0 * day + 3600.0).contains(&interval_s) {
            Native::Month
        } else if (interval_s - day).abs() <= 3600.0 {
            Native::Day
        } else {
            Native::Seconds(interval_s)
        }
    }

    /// A short name: `1-minute`, `hourly`, `daily`, `weekly`, `monthly`.
    pub fn label(&self) -> String {
        match *self {
            Native::Seconds(3600.0) => "hourly".into(),
            Native::Seconds(s) => crate::units::human_duration(s),
            Native::Day => "daily".into(),
            Native::Week => "weekly".into(),
            Native::Month => "monthly".into(),
        }
    }

    /// The seconds one accumulator row stands for: the interval, or a day for coarser rows
    /// (which are spread over their days).
    pub fn step_s(&self) -> f64 {
        match *self {
            Native::Seconds(s) => s,
            _ => DAY_S as f64,
        }
    }

    /// For rows of a day or more, the first day and the number of days the row at `ts` spans.
    pub fn days_spanned(&self, ts: f64) -> Option<(i64, i64)> {
        // Round to the nearest day: a row written in a zone east or west of UTC starts a few
        // hours off midnight UTC.
        let first = (ts / DAY_S as f64).round() as i64;
        match self {
            Native::Seconds(_) => None,
            Native::Day => Some((first, 1)),
            Native::Week => Some((first, 7)),
            Native::Month => Some((first, YearMonth::of_day(first).days())),
        }
    }

    /// Rows missing between rows at `from_s` and `to_s`.
    pub fn missing_between(&self, from_s: f64, to_s: f64) -> u64 {
        let day = DAY_S as f64;
        let steps = match *self {
            Native::Month => {
                let (a, b) = ((from_s / day).round() as i64, (to_s / day).round() as i64);
                YearMonth::of_day(b).index() - YearMonth::of_day(a).index()
            }
            Native::Week => ((to_s - from_s) / (7.0 * day)).round() as i64,
            Native::Day => ((to_s - from_s) / day).round() as i64,
            Native::Seconds(s) => ((to_s - from_s) / s).round() as i64,
        };
        (steps - 1).max(0) as u64
    }
}

impl Day {
    /// Adds one row's rate (and the peak it stands for) to the accumulator.
    pub(crate) fn add_rate(&mut self, rps: f64, peak: f64, cpu: Option<f64>, instances: Option<f64>) {
        self.sum_rps += rps;
        self.rows += 1;
        self.peak_rps = self.peak_rps.max(peak);
        if let Some(c) = cpu {
            self.cpu_sum += c;
            self.cpu_rows += 1;
        }
        if let Some(i) = instances {
            self.instances_max = self.instances_max.max(i);
        }
    }
}

/// A history read from a CSV: its days, its weekly profile and its data quality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    pub source: String,
    /// Rows read (duplicates and skipped bad rows included).
    pub rows: u64,
    /// The native interval between rows, in seconds (the shortest seen, for months).
    pub interval_s: f64,
    pub native: Native,
    /// Requests each counted event stands for, when the counts were scaled to requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_count: Option<f64>,
    pub first_s: f64,
    pub last_s: f64,
    /// Day number (days since 1970-01-01) of `days[0]`.
    pub first_day: i64,
    pub days: Vec<Day>,
    /// (Σ rate, rows) per hour of the week.
    #[serde(skip)]
    pub week: Vec<(f64, u64)>,
    /// Hour number (hours since the epoch) of `hours[0]`.
    pub first_hour: i64,
    /// Per-hour accumulators, kept only when asked for (they grow with the history's span).
    #[serde(skip)]
    pub hours: Option<Vec<Day>>,
    pub quality: Quality,
}

/// The accumulator at period number `at` in `list` (whose first is `first`), growing the list at
/// either end so that late and early rows find their period.
fn slot<'a>(list: &'a mut Vec<Day>, first: &mut i64, at: i64) -> &'a mut Day {
    if list.is_empty() {
        *first = at;
    }
    if at < *first {
        list.splice(0..0, std::iter::repeat_n(Day::default(), (*first - at) as usize));
        *first = at;
    }
    let idx = (at - *first) as usize;
    if idx >= list.len() {
        list.resize(idx + 1, Day::default());
    }
    &mut list[idx]
}

/// The weekly-profile slot of a Unix time: hour of the week from Monday 00:00 UTC.
pub fn week_slot(ts: f64) -> usize {
    let secs = ts.floor() as i64;
    // 1970-01-01 was a Thursday: day 0 is weekday 3 when Monday is 0.
    let weekday = (secs.div_euclid(DAY_S) + 3).rem_euclid(7);
    (weekday * 24 + secs.rem_euclid(DAY_S) / 3600) as usize
}

impl History {
    /// An empty history for `source`.
    pub fn new(source: &str, native: Native, first_s: f64) -> Self {
        let interval_s = match native {
            Native::Seconds(s) => s,
            Native::Day => DAY_S as f64,
            Native::Week => 7.0 * DAY_S as f64,
            Native::Month => 28.0 * DAY_S as f64,
        };
        History {
            source: source.into(),
            rows: 0,
            interval_s,
            native,
            requests_per_count: None,
            first_s,
            last_s: first_s,
            first_day: first_s.div_euclid(DAY_S as f64) as i64,
            days: Vec::new(),
            week: vec![(0.0, 0); WEEK_SLOTS],
            first_hour: first_s.div_euclid(3600.0) as i64,
            hours: None,
            quality: Quality::default(),
        }
    }

    /// The accumulator of day number `day`, growing the day list at either end.
    pub fn day_mut(&mut self, day: i64) -> &mut Day {
        slot(&mut self.days, &mut self.first_day, day)
    }

    /// The accumulator of hour number `hour`, when hours are kept.
    pub fn hour_mut(&mut self, hour: i64) -> Option<&mut Day> {
        let hours = self.hours.as_mut()?;
        Some(slot(hours, &mut self.first_hour, hour))
    }

    fn period(&self, label: String, start_s: f64, end_s: f64, days: &[Day]) -> Period {
        let rows: u64 = days.iter().map(|d| d.rows as u64).sum();
        let sum: f64 = days.iter().map(|d| d.sum_rps).sum();
        let mean = (rows > 0).then(|| sum / rows as f64);
        let peak = days.iter().filter(|d| d.rows > 0).map(|d| d.peak_rps).reduce(f64::max);
        let cpu_rows: u64 = days.iter().map(|d| d.cpu_rows as u64).sum();
        let expected = (end_s - start_s) / self.native.step_s();
        Period {
            label,
            start_s,
            mean_rps: mean,
            peak_rps: peak,
            peak_to_mean: mean.zip(peak).filter(|(m, _)| *m > 0.0).map(|(m, p)| p / m),
            coverage: if expected > 0.0 { (rows as f64 / expected).min(1.0) } else { 0.0 },
            outage_rows: days.iter().map(|d| d.outage_rows as u64).sum(),
            cpu_mean: (cpu_rows > 0).then(|| days.iter().map(|d| d.cpu_sum).sum::<f64>() / cpu_rows as f64),
            instances_max: days.iter().map(|d| d.instances_max).reduce(f64::max).filter(|m| *m > 0.0),
        }
    }

    /// One period per UTC day from the first row's day to the last's.
    pub fn daily(&self) -> Vec<Period> {
        (0..self.days.len())
            .map(|i| {
                let day = self.first_day + i as i64;
                let (y, m, d) = crate::calendar::civil_from_days(day);
                let start = (day * DAY_S) as f64;
                self.period(format!("{y:04}-{m:02}-{d:02}"), start, start + DAY_S as f64, &self.days[i..=i])
            })
            .collect()
    }

    /// One period per UTC hour; empty unless the history was read with hours kept.
    pub fn hourly(&self) -> Vec<Period> {
        let Some(hours) = &self.hours else { return Vec::new() };
        hours
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let start = ((self.first_hour + i as i64) * 3600) as f64;
                let label = crate::calendar::rfc3339(start)[..13].to_string() + ":00Z";
                self.period(label, start, start + 3600.0, std::slice::from_ref(h))
            })
            .collect()
    }

    /// One period per calendar month (UTC).
    pub fn monthly(&self) -> Vec<Period> {
        if self.days.is_empty() {
            return Vec::new();
        }
        let first = YearMonth::of_day(self.first_day);
        let last = YearMonth::of_day(self.first_day + self.days.len() as i64 - 1);
        (0..=last.index() - first.index())
            .map(|k| {
                let m = first.plus(k);
                let lo = (m.first_day() - self.first_day).max(0) as usize;
                let hi = ((m.plus(1).first_day() - self.first_day) as usize).min(self.days.len());
                let start = (m.first_day() * DAY_S) as f64;
                self.period(m.to_string(), start, start + (m.days() * DAY_S) as f64, &self.days[lo..hi])
            })
            .collect()
    }

    /// Mean rate in each hour of the week (Monday 00:00 UTC first); `None` where no row fell.
    pub fn week_profile(&self) -> Vec<Option<f64>> {
        self.week.iter().map(|&(sum, n)| (n > 0).then(|| sum / n as f64)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_slots_start_on_monday() {
        // 1998-06-15 was a Monday.
        let monday = (crate::calendar::days_from_civil(1998, 6, 15) * DAY_S) as f64;
        assert_eq!(week_slot(monday), 0);
        assert_eq!(week_slot(monday + 3600.0 * 25.0), 25);
        assert_eq!(week_slot(monday - 1.0), 167);
    }
}
