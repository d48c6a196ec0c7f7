//! Typed quantities parsed at the edge: `1.5k`, `120ms`, `30d`, `99.9%`, `p99`.
//!
//! Flags and file fields become these types once; nothing deeper sees a string.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

/// Why a quantity could not be parsed; clap prefixes it with the flag and the value.
#[derive(Debug, Error, PartialEq)]
#[error("{0}")]
pub struct UnitError(String);

fn err(msg: impl Into<String>) -> UnitError {
    UnitError(crate::error::clip(&msg.into()))
}

/// Parses a finite number with an optional SI suffix (`k` = 10³, `M` = 10⁶, `G` = 10⁹).
fn parse_si(text: &str) -> Result<f64, UnitError> {
    let t = text.trim().replace('_', "");
    let (digits, scale) = match t.chars().last() {
        Some('k') | Some('K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('G') => (&t[..t.len() - 1], 1e9),
        _ => (t.as_str(), 1.0),
    };
    let value: f64 =
        digits.parse().map_err(|_| err(format!("expected a number such as 1500 or 1.5k, found '{text}'")))?;
    if !value.is_finite() {
        return Err(err(format!("expected a finite number, found '{text}'")));
    }
    Ok(value * scale)
}

/// The highest rate a flag or plan may give: far past any generator, short of overflowing a
/// step's request count.
const MAX_RATE: f64 = 1e9;
/// The largest count or amount: far past any fleet, concurrency or coefficient, short of
/// numbers that print as 300 digits.
const MAX_AMOUNT: f64 = 1e12;
/// The longest span: 100 years.
const MAX_SPAN_S: f64 = 100.0 * 365.25 * 86_400.0;

/// A size in bytes: `4MiB`, `512KB`, `1GB`, or a plain count; at most 1 TiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let scale: f64 = match unit.trim() {
            "" | "B" => 1.0,
            "KB" | "kB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "KiB" => 1024.0,
            "MiB" => 1_048_576.0,
            "GiB" => 1_073_741_824.0,
            u => return Err(err(format!("unknown size unit '{u}' in '{s}': use B, KB, MB, GB, KiB, MiB or GiB"))),
        };
        let v: f64 =
            num.trim().parse().map_err(|_| err(format!("expected a size such as 4MiB or 512KB, found '{s}'")))?;
        let bytes = v * scale;
        if !(1.0..=1_099_511_627_776.0).contains(&bytes) {
            return Err(err(format!("a size must be from 1 byte to 1 TiB, found '{s}'")));
        }
        Ok(ByteSize(bytes as u64))
    }
}

/// A non-negative count or amount with an optional SI suffix (`50`, `1.5k`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Amount(pub f64);

impl FromStr for Amount {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v = parse_si(s)?;
        if v < 0.0 {
            return Err(err(format!("must not be negative, found '{s}'")));
        }
        if v > MAX_AMOUNT {
            return Err(err(format!("must be at most 1e12, found '{s}'")));
        }
        Ok(Amount(v))
    }
}

/// A rate in events per second (`1500`, `1.5k`, `2k/s`, `300rps`); never negative.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate(pub f64);

impl Rate {
    /// Events per second.
    pub fn per_sec(self) -> f64 {
        self.0
    }
}

impl FromStr for Rate {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t.strip_suffix("/s").or_else(|| t.strip_suffix("rps")).unwrap_or(t);
        let v = parse_si(t)
            .map_err(|_| err(format!("expected a rate per second such as 1500, 1.5k or 2k/s, found '{s}'")))?;
        if v < 0.0 {
            return Err(err(format!("a rate cannot be negative, found '{s}'")));
        }
        if v > MAX_RATE {
            return Err(err(format!("a rate must be at most 1G per second, found '{s}'")));
        }
        Ok(Rate(v))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", sig(self.0, 12))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A time span with a unit (`500us`, `120ms`, `30s`, `5m`, `1.5h`, `30d`, `2w`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Span(pub Duration);

impl Span {
    /// Seconds as a float.
    pub fn secs(self) -> f64 {
        self.0.as_secs_f64()
    }
}

impl FromStr for Span {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t
            .find(|c: char| c.is_ascii_alphabetic() || c == 'µ')
            .ok_or_else(|| err(format!("'{s}' needs a unit: us, ms, s, m, h, d or w (e.g. 120ms, 30d)")))?;
        let (num, unit) = t.split_at(split);
        let value: f64 =
            num.trim().parse().map_err(|_| err(format!("expected a duration such as 120ms or 30d, found '{s}'")))?;
        let unit_secs = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            _ => return Err(err(format!("unknown unit '{unit}' in '{s}': use us, ms, s, m, h, d or w"))),
        };
        let secs = value * unit_secs;
        if secs < 0.0 {
            return Err(err(format!("a duration must not be negative, found '{s}'")));
        }
        if secs > MAX_SPAN_S || secs.is_nan() {
            return Err(err(format!("a duration must be at most 100 years (3.15 billion s), found '{s}'")));
        }
        Ok(Span(Duration::from_secs_f64(secs)))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", human_duration(self.secs()))
    }
}

/// A fraction in [0, 1], written as a percentage (`99.9%`) or a plain fraction (`0.999`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Fraction(pub f64);

impl FromStr for Fraction {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let (v, percent) = match t.strip_suffix('%') {
            Some(p) => (p.trim().parse::<f64>(), true),
            None => (t.parse::<f64>(), false),
        };
        let v = v.map_err(|_| {
            err(format!("expected a percentage such as 99.9% or a fraction such as 0.999, found '{s}'"))
        })?;
        // Round away the binary noise of v/100 (99.9% → 0.999, not 0.9990000000000001).
        let f = if percent { (v / 100.0 * 1e12).round() / 1e12 } else { v };
        if !(0.0..=1.0).contains(&f) || !f.is_finite() {
            return Err(err(format!("must be between 0% and 100% (or 0 and 1), found '{s}'")));
        }
        Ok(Fraction(f))
    }
}

/// A latency percentile such as `p50`, `p99` or `p99.9`, held as a fraction in (0, 1).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Percentile(pub f64);

impl Percentile {
    /// The quantile as a fraction in (0, 1).
    pub fn quantile(self) -> f64 {
        self.0
    }
}

impl FromStr for Percentile {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let num = t
            .strip_prefix('p')
            .or_else(|| t.strip_prefix('P'))
            .ok_or_else(|| err(format!("expected a percentile such as p50, p99 or p99.9, found '{s}'")))?;
        let v: f64 =
            num.parse().map_err(|_| err(format!("expected a percentile such as p50, p99 or p99.9, found '{s}'")))?;
        if !(v > 0.0 && v < 100.0) {
            return Err(err(format!("a percentile must be above p0 and below p100, found '{s}'")));
        }
        Ok(Percentile(v / 100.0))
    }
}

impl fmt::Display for Percentile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", trim_float(self.0 * 100.0))
    }
}

/// `N (round up to M)` for a fractional count, or just `N` when it is whole.
pub fn count_needed(n: f64) -> String {
    if (n - n.round()).abs() < 1e-9 {
        sig(n.round(), 6)
    } else {
        format!("{} (round up to {})", sig(n, 4), n.ceil())
    }
}

/// A fraction as a percentage with `digits` significant digits: `0.5857` → `58.57%`.
pub fn percent(fraction: f64, digits: i32) -> String {
    format!("{}%", sig(fraction * 100.0, digits))
}

/// A rounded whole number with thousands separators: `16,105`.
pub fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 && digits != "0" {
        out.insert(0, '-');
    }
    out
}

/// A number for CSV: every digit that means something (twelve significant), no binary noise,
/// no separators or units: `16105.1`, not `16105.100000000006`.
pub fn plain(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return v.to_string();
    }
    let scale = 10f64.powi(11 - v.abs().log10().floor() as i32);
    let rounded = (v * scale).round() / scale;
    if rounded.is_finite() {
        rounded.to_string()
    } else {
        v.to_string()
    }
}

/// Prints a float without a trailing `.0` and without float noise (`99.9`, not `99.90000000000001`).
pub fn trim_float(v: f64) -> String {
    let s = format!("{:.6}", v);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A latency in microseconds (as HdrHistograms hold them), written as [`human_duration`] does.
pub fn micros(us: f64) -> String {
    human_duration(us / 1e6)
}

/// A rate or count for reading: thousands separators from 100 up, three significant digits below.
pub fn readable(v: f64) -> String {
    if v >= 100.0 {
        thousands(v)
    } else {
        sig(v, 3)
    }
}

/// A duration in the largest unit that keeps it readable: `120 ms`, `43.2 min`, `50 h`, `30 d`.
///
/// A unit is used from three of it up, or from one of it when the value is whole in it.
pub fn human_duration(secs: f64) -> String {
    const UNITS: [(f64, &str); 4] = [(86_400.0, "d"), (3600.0, "h"), (60.0, "min"), (1.0, "s")];
    for (size, unit) in UNITS {
        let v = secs / size;
        if v >= 3.0 || (v >= 1.0 && (v - v.round()).abs() < 1e-9) {
            return format!("{} {unit}", sig(v, 4));
        }
    }
    if secs >= 1e-3 {
        format!("{} ms", sig(secs * 1e3, 4))
    } else {
        format!("{} µs", sig(secs * 1e6, 4))
    }
}

/// A number with `digits` significant digits, never dropping integer digits, no float noise.
pub fn sig(v: f64, digits: i32) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    // Past a quadrillion (or below a trillionth), digits say less than an exponent.
    if !(-12..15).contains(&magnitude) {
        let s = format!("{:.*e}", (digits - 1).max(0) as usize, v);
        return match s.split_once('e') {
            Some((m, e)) if m.contains('.') => format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.')),
            _ => s,
        };
    }
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_take_si_suffixes() {
        assert_eq!("1.5k".parse::<Rate>().unwrap().0, 1500.0);
        assert_eq!("2k/s".parse::<Rate>().unwrap().0, 2000.0);
        assert_eq!("300rps".parse::<Rate>().unwrap().0, 300.0);
        assert_eq!("1M".parse::<Rate>().unwrap().0, 1e6);
        assert!("-5".parse::<Rate>().is_err());
        assert!("fast".parse::<Rate>().is_err());
    }

    #[test]
    fn spans_need_units() {
        assert_eq!("120ms".parse::<Span>().unwrap().secs(), 0.12);
        assert_eq!("30d".parse::<Span>().unwrap().secs(), 30.0 * 86_400.0);
        assert_eq!("1.5h".parse::<Span>().unwrap().secs(), 5400.0);
        assert_eq!("250us".parse::<Span>().unwrap().secs(), 250e-6);
        assert!("120".parse::<Span>().unwrap_err().0.contains("needs a unit"));
        assert!("3y".parse::<Span>().unwrap_err().0.contains("unknown unit"));
        assert!("-3s".parse::<Span>().is_err());
    }

    #[test]
    fn fractions_and_percentiles() {
        assert_eq!("99.9%".parse::<Fraction>().unwrap().0, 0.999);
        assert_eq!("0.6".parse::<Fraction>().unwrap().0, 0.6);
        assert!("120%".parse::<Fraction>().is_err());
        assert!(("p99.9".parse::<Percentile>().unwrap().0 - 0.999).abs() < 1e-12);
        assert_eq!("p50".parse::<Percentile>().unwrap().to_string(), "p50");
        assert!("p100".parse::<Percentile>().is_err());
        assert!("99".parse::<Percentile>().is_err());
    }

    #[test]
    fn significant_digits() {
        assert_eq!(sig(0.0277285, 4), "0.02773");
        assert_eq!(sig(180.0000001, 4), "180");
        assert_eq!(sig(31384.28, 4), "31384");
        assert_eq!(percent(0.5857, 4), "58.57%");
        assert_eq!(thousands(16105.1), "16,105");
        assert_eq!(thousands(999.6), "1,000");
        assert_eq!(thousands(-1234567.0), "-1,234,567");
        assert_eq!(human_duration(43.2 * 60.0), "43.2 min");
        assert_eq!(human_duration(50.0 * 3600.0), "50 h");
        assert_eq!(human_duration(3600.0), "1 h");
        assert_eq!(human_duration(5400.0), "90 min");
        assert_eq!(human_duration(0.12), "120 ms");
    }
}
