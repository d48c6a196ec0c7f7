//! SLO thresholds (`p99 < 300ms`, `rps > 300`) and the abort rule (`error_rate > 50% for 10s`),
//! typed: each knows its metric, its comparison and its unit.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::units::{Fraction, Percentile, Rate, Span};
use schemars::JsonSchema;

/// What an SLO threshold compares: a statistic of the latency from the intended send time, the
/// error rate, or the measured throughput.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Percentile(f64),
    Mean,
    Max,
    ErrorRate,
    Throughput,
}

/// The unit a threshold's limit and value are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Microseconds.
    Us,
    /// A share from 0 to 1.
    Fraction,
    /// Responses per second.
    Rps,
}

impl Unit {
    /// A value in this unit as a person reads it: `12.3 ms`, `0.5%`, `385 RPS`.
    pub fn show(&self, v: f64) -> String {
        match self {
            Unit::Us => crate::units::micros(v),
            Unit::Fraction => crate::units::percent(v, 3),
            Unit::Rps => format!("{} RPS", crate::units::readable(v)),
        }
    }
}

impl Metric {
    /// The unit of its values.
    pub fn unit(&self) -> Unit {
        match self {
            Metric::Percentile(_) | Metric::Mean | Metric::Max => Unit::Us,
            Metric::ErrorRate => Unit::Fraction,
            Metric::Throughput => Unit::Rps,
        }
    }

    /// Its name in results: `p99`, `p99.9`, `mean`, `max`, `error_rate` or `rps`.
    pub fn name(&self) -> String {
        match self {
            Metric::Percentile(q) => format!("p{}", crate::units::sig(q * 100.0, 6)),
            Metric::Mean => "mean".into(),
            Metric::Max => "max".into(),
            Metric::ErrorRate => "error_rate".into(),
            Metric::Throughput => "rps".into(),
        }
    }
}

/// How a threshold compares: the value must be below, at most, above or at least the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    /// Whether `value` passes against `limit`.
    pub fn holds(&self, value: f64, limit: f64) -> bool {
        match self {
            Op::Lt => value < limit,
            Op::Le => value <= limit,
            Op::Gt => value > limit,
            Op::Ge => value >= limit,
        }
    }
}

/// `p99 < 300ms`, `mean <= 50ms`, `max < 1s`, `error_rate < 1%`, `rps > 300`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Threshold {
    pub metric: Metric,
    pub op: Op,
    /// In the metric's unit: microseconds, a fraction, or responses per second.
    pub limit: f64,
}

impl FromStr for Threshold {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "'{s}' is not a threshold: write e.g. \"p99 < 300ms\", \"mean < 50ms\", \"max < 1s\", \"error_rate < 1%\" or \"rps > 300\""
            )
        };
        let at = s.find(['<', '>']).ok_or_else(bad)?;
        let (lhs, rest) = s.split_at(at);
        let (op, rhs) = match (rest.as_bytes()[0], rest.as_bytes().get(1)) {
            (b'<', Some(b'=')) => (Op::Le, &rest[2..]),
            (b'>', Some(b'=')) => (Op::Ge, &rest[2..]),
            (b'<', _) => (Op::Lt, &rest[1..]),
            _ => (Op::Gt, &rest[1..]),
        };
        let (lhs, rhs) = (lhs.trim(), rhs.trim());
        let metric = match lhs {
            "error_rate" => Metric::ErrorRate,
            "mean" => Metric::Mean,
            "max" => Metric::Max,
            "rps" | "throughput" => Metric::Throughput,
            p => Metric::Percentile(p.parse::<Percentile>().map_err(|_| bad())?.quantile()),
        };
        let limit = match metric.unit() {
            Unit::Fraction => rhs.parse::<Fraction>().map_err(|e| format!("{}: {e}", bad()))?.0,
            Unit::Rps => rhs.parse::<Rate>().map_err(|e| format!("{}: {e}", bad()))?.0,
            Unit::Us => rhs.parse::<Span>().map_err(|e| format!("{}: {e}", bad()))?.secs() * 1e6,
        };
        Ok(Threshold { metric, op, limit })
    }
}

/// `error_rate > 50% for 10s`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AbortRule {
    pub error_rate: f64,
    pub for_s: f64,
}

impl FromStr for AbortRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not an abort rule: write e.g. \"error_rate > 50% for 10s\"");
        let rest = s.trim().strip_prefix("error_rate").ok_or_else(bad)?.trim().strip_prefix('>').ok_or_else(bad)?;
        let (share, span) = rest.split_once("for").ok_or_else(bad)?;
        let error_rate = share.trim().parse::<Fraction>().map_err(|e| format!("{}: {e}", bad()))?.0;
        let for_s = span.trim().parse::<Span>().map_err(|e| format!("{}: {e}", bad()))?.secs();
        Ok(AbortRule { error_rate, for_s })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_and_abort_rules() {
        assert_eq!(
            "p99 < 300ms".parse::<Threshold>().unwrap(),
            Threshold { metric: Metric::Percentile(0.99), op: Op::Lt, limit: 300_000.0 }
        );
        assert_eq!("error_rate < 1%".parse::<Threshold>().unwrap().limit, 0.01);
        assert_eq!(
            "rps >= 1.5k".parse::<Threshold>().unwrap(),
            Threshold { metric: Metric::Throughput, op: Op::Ge, limit: 1500.0 }
        );
        let t = "mean<=1ms".parse::<Threshold>().unwrap();
        assert_eq!((t.metric, t.op, t.limit, t.metric.unit()), (Metric::Mean, Op::Le, 1000.0, Unit::Us));
        assert_eq!("p99.9 > 3ms".parse::<Threshold>().unwrap().metric.name(), "p99.9");
        assert!("max < 1s".parse::<Threshold>().unwrap().op.holds(0.5e6, 1e6));
        assert!("rps > 10ms".parse::<Threshold>().is_err());
        assert!("p99 = 3ms".parse::<Threshold>().is_err());
        assert_eq!(
            "error_rate > 50% for 10s".parse::<AbortRule>().unwrap(),
            AbortRule { error_rate: 0.5, for_s: 10.0 }
        );
        assert!("errors > 5".parse::<AbortRule>().is_err());
    }
}
