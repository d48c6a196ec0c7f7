//! Calendar arithmetic in UTC: months (`YYYY-MM`), days since the Unix epoch, RFC 3339.
//!
//! Small and allocation-free because the history reader calls it once per row.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Seconds in a day.
pub const DAY_S: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct YearMonth {
    pub year: i32,
    /// 1..=12
    pub month: u32,
}

impl YearMonth {
    /// The month holding day number `day`.
    pub fn of_day(day: i64) -> Self {
        let (y, m, _) = civil_from_days(day);
        YearMonth { year: y as i32, month: m }
    }

    /// The month `k` months later (or earlier when negative).
    pub fn plus(self, k: i64) -> Self {
        let idx = self.index() + k;
        YearMonth { year: idx.div_euclid(12) as i32, month: (idx.rem_euclid(12) + 1) as u32 }
    }

    /// Months since year 0, for differences.
    pub fn index(self) -> i64 {
        self.year as i64 * 12 + self.month as i64 - 1
    }

    /// The day number of the month's first day.
    pub fn first_day(self) -> i64 {
        days_from_civil(self.year as i64, self.month, 1)
    }

    /// Days in the month.
    pub fn days(self) -> i64 {
        self.plus(1).first_day() - self.first_day()
    }
}

impl schemars::JsonSchema for YearMonth {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "YearMonth".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$" })
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected a month as YYYY-MM (e.g. 2026-01), found '{s}'");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if y.len() != 4 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(YearMonth { year, month })
    }
}

impl TryFrom<String> for YearMonth {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<YearMonth> for String {
    fn from(m: YearMonth) -> String {
        m.to_string()
    }
}

/// Unix seconds as RFC 3339 in UTC, to the second: `1995-07-01T04:00:00Z`.
pub fn rfc3339(secs: f64) -> String {
    let s = secs.floor() as i64;
    let (y, m, d) = civil_from_days(s.div_euclid(DAY_S));
    let r = s.rem_euclid(DAY_S);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", r / 3600, r % 3600 / 60, r % 60)
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64))
}

/// The earliest instant a history may hold: 1970-01-01T00:00:00Z.
pub const EARLIEST_S: f64 = 0.0;
/// The end of the latest year a history may hold: 2200-01-01T00:00:00Z. Later is a typo or a
/// unit mistake, and would make per-day accumulators span centuries.
pub const LATEST_S: f64 = 7_258_118_400.0;

/// How a timestamp was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// A date and time with its offset (`Z`, `+02:00`, `+0200`).
    Rfc3339,
    /// A date and time without an offset, read in the given zone.
    Local,
    /// `YYYY-MM-DD`: midnight in the given zone.
    Date,
    /// `YYYY-MM`: the month's first midnight in the given zone.
    Month,
    UnixSeconds,
    /// Told from seconds by magnitude (11 to 13 digits is 1973–2199 in milliseconds, and no
    /// year before 2200 in seconds) or chosen with a flag.
    UnixMillis,
}

/// How numeric timestamps count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Epoch {
    /// Seconds or milliseconds, told by magnitude (and said in the report).
    #[default]
    Auto,
    #[value(name = "s")]
    Seconds,
    #[value(name = "ms")]
    Millis,
}

/// The zone that timestamps without an offset are read in.
#[derive(Debug, Clone, PartialEq)]
pub enum Zone {
    /// A fixed offset, seconds east of UTC.
    Fixed(i64),
    /// An IANA zone (`America/New_York`), with its daylight-saving rules from the time zone
    /// database built into headroom. A local time that occurs twice is read as the first; one
    /// that a change skips, as the instant it would have been without it.
    Named(jiff::tz::TimeZone),
}

impl Default for Zone {
    fn default() -> Self {
        Zone::Fixed(0)
    }
}

impl Zone {
    /// Parses `UTC`, `Z`, a fixed offset such as `+05:30`, `-0800` or `+02`, or an IANA name.
    pub fn parse(text: &str) -> Result<Zone, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("gmt") {
            return Ok(Zone::Fixed(0));
        }
        if let Some(o) = offset(t.as_bytes()) {
            return Ok(Zone::Fixed(o));
        }
        jiff::tz::TimeZone::get(t).map(Zone::Named).map_err(|_| {
            format!(
                "expected UTC, a fixed offset such as +05:30, or a zone name such as America/New_York, found '{text}'"
            )
        })
    }

    /// `UTC`, `UTC-05:00` or the zone's name.
    pub fn name(&self) -> String {
        match self {
            Zone::Fixed(o) => offset_name(*o),
            Zone::Named(tz) => tz.iana_name().unwrap_or("the named zone").to_string(),
        }
    }

    /// The Unix time of a local wall-clock time, given as seconds since 1970-01-01T00:00 local.
    fn utc_of_local(&self, local_s: i64) -> Option<i64> {
        match self {
            Zone::Fixed(o) => Some(local_s - o),
            Zone::Named(tz) => {
                let civil = jiff::Timestamp::from_second(local_s).ok()?.to_zoned(jiff::tz::TimeZone::UTC).datetime();
                tz.to_ambiguous_timestamp(civil).compatible().ok().map(|t| t.as_second())
            }
        }
    }
}

/// How to read timestamps: the zone of those without an offset, and numeric ones' unit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeRead {
    pub zone: Zone,
    pub epoch: Epoch,
}

/// `UTC` or `UTC+05:30`.
pub fn offset_name(offset_s: i64) -> String {
    if offset_s == 0 {
        return "UTC".into();
    }
    let sign = if offset_s < 0 { '-' } else { '+' };
    let a = offset_s.abs();
    format!("UTC{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

fn offset(rest: &[u8]) -> Option<i64> {
    let (sign, body) = match rest.split_first()? {
        (b'+', b) => (1, b),
        (b'-', b) => (-1, b),
        (b'Z' | b'z', []) => return Some(0),
        _ => return None,
    };
    let (h, m) = match body {
        [h1, h2] => (digits(&[*h1, *h2])?, 0),
        [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
        _ => return None,
    };
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

/// Parses a timestamp as exports write them into Unix seconds from 1970 to 2199, and says
/// which way it was written: RFC 3339 (`1995-07-01T04:00:00Z`, `...+02:00`, `+0200`,
/// fractional seconds, a space for `T`), a date and time without offset, `YYYY-MM-DD` or
/// `YYYY-MM` (these three in `read`'s zone), or Unix seconds or milliseconds.
pub fn parse_timestamp_with(text: &[u8], read: &TimeRead) -> Option<(f64, Written)> {
    let t = text.trim_ascii();
    let (secs, written) = if t.len() >= 7 && t[4] == b'-' {
        parse_civil(t, &read.zone)?
    } else {
        let v = std::str::from_utf8(t).ok()?.parse::<f64>().ok().filter(|v| v.is_finite())?;
        match read.epoch {
            Epoch::Millis => (v / 1000.0, Written::UnixMillis),
            Epoch::Seconds => (v, Written::UnixSeconds),
            Epoch::Auto if v >= 1e11 => (v / 1000.0, Written::UnixMillis),
            Epoch::Auto => (v, Written::UnixSeconds),
        }
    };
    (EARLIEST_S..LATEST_S).contains(&secs).then_some((secs, written))
}

/// [`parse_timestamp_with`] in UTC, numeric units told by magnitude.
pub fn parse_timestamp_written(text: &[u8]) -> Option<(f64, Written)> {
    parse_timestamp_with(text, &TimeRead::default())
}

/// [`parse_timestamp_written`] without saying how it was written.
pub fn parse_timestamp(text: &[u8]) -> Option<f64> {
    parse_timestamp_written(text).map(|(s, _)| s)
}

fn parse_civil(t: &[u8], zone: &Zone) -> Option<(f64, Written)> {
    let (y, mo) = (digits(&t[0..4])?, digits(&t[5..7])? as u32);
    if !(1..=12).contains(&mo) {
        return None;
    }
    if t.len() == 7 {
        return Some((zone.utc_of_local(days_from_civil(y, mo, 1) * DAY_S)? as f64, Written::Month));
    }
    if t.len() < 10 || t[7] != b'-' {
        return None;
    }
    let d = digits(&t[8..10])? as u32;
    if d == 0 || d as i64 > (YearMonth { year: y as i32, month: mo }).days() {
        return None;
    }
    let day_s = days_from_civil(y, mo, d) * DAY_S;
    if t.len() == 10 {
        return Some((zone.utc_of_local(day_s)? as f64, Written::Date));
    }
    if !matches!(t[10], b'T' | b't' | b' ') || t.len() < 16 || t[13] != b':' {
        return None;
    }
    let (h, mi) = (digits(&t[11..13])?, digits(&t[14..16])?);
    let mut rest = &t[16..];
    let mut s = 0;
    if let [b':', s1, s2, more @ ..] = rest {
        s = digits(&[*s1, *s2])?;
        rest = more;
    }
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut frac = 0.0;
    if let Some(b'.') = rest.first() {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        frac = std::str::from_utf8(&rest[..n + 1]).ok()?.parse::<f64>().ok()?;
        rest = &rest[n + 1..];
    }
    let rest = rest.trim_ascii_start();
    let local = day_s + h * 3600 + mi * 60 + s;
    if rest.is_empty() {
        return Some((zone.utc_of_local(local)? as f64 + frac, Written::Local));
    }
    Some(((local - offset(rest)?) as f64 + frac, Written::Rfc3339))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse_timestamp(b"1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_timestamp(b"1995-07-01T04:00:00Z"), Some(804_571_200.0));
        assert_eq!(parse_timestamp(b"1995-07-01T06:00:00+02:00"), Some(804_571_200.0));
        assert_eq!(parse_timestamp(b"1995-07-01T00:00:00-04:00"), Some(804_571_200.0));
        assert_eq!(parse_timestamp(b"1995-07-01 04:00:00.5Z"), Some(804_571_200.5));
        assert_eq!(parse_timestamp(b"804571200"), Some(804_571_200.0));
        assert_eq!(rfc3339(804_571_200.0), "1995-07-01T04:00:00Z");
        assert_eq!(parse_timestamp(b"1995-07-01T06:00:00+0200"), Some(804_571_200.0));
        assert_eq!(parse_timestamp(b"1995-07-01 04:00:00"), Some(804_571_200.0));
        assert_eq!(parse_timestamp(b"1995-07-01"), Some(804_556_800.0));
        assert_eq!(parse_timestamp(b"1995-07"), Some(804_556_800.0));
        assert_eq!(parse_timestamp(b"804571200000"), Some(804_571_200.0));
        let plus2 = TimeRead { zone: Zone::Fixed(7200), epoch: Epoch::Auto };
        assert_eq!(parse_timestamp_with(b"1995-07-01 06:00:00", &plus2), Some((804_571_200.0, Written::Local)));
        let ms = TimeRead { zone: Zone::Fixed(0), epoch: Epoch::Millis };
        assert_eq!(parse_timestamp_with(b"804571200000", &ms).map(|t| t.0), Some(804_571_200.0));
        assert_eq!(parse_timestamp_with(b"804571200", &ms).map(|t| t.1), Some(Written::UnixMillis));
        for bad in [&b"1995-13-01T00:00:00Z"[..], b"1995-02-29T00:00:00Z", b"1995-07-01T04:00:00+2", b"yesterday", b""]
        {
            assert_eq!(parse_timestamp(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn named_zones_follow_daylight_saving() {
        let ny = TimeRead { zone: Zone::parse("America/New_York").unwrap(), epoch: Epoch::Auto };
        // 04:00 UTC is midnight in New York's summer (EDT, −4) and 23:00 the day before in winter.
        assert_eq!(parse_timestamp_with(b"1995-07-01 00:00:00", &ny).map(|t| t.0), Some(804_571_200.0));
        assert_eq!(parse_timestamp_with(b"1995-01-01", &ny).map(|t| t.0), Some(788_936_400.0));
        assert!(Zone::parse("Mars/Olympus_Mons").unwrap_err().contains("America/New_York"));
        assert_eq!(Zone::parse("-05:00").unwrap().name(), "UTC-05:00");
    }

    #[test]
    fn months() {
        let m: YearMonth = "2026-11".parse().unwrap();
        assert_eq!(m.plus(2).to_string(), "2027-01");
        assert_eq!(m.plus(-11).to_string(), "2025-12");
        assert_eq!("2024-02".parse::<YearMonth>().unwrap().days(), 29);
        assert!("2026-13".parse::<YearMonth>().is_err());
        assert!("26-01".parse::<YearMonth>().is_err());
    }

    proptest! {
        #[test]
        fn civil_round_trips(day in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(day);
            prop_assert_eq!(days_from_civil(y, m, d), day);
        }
    }
}
