//! Load plans (`loadplans/*.toml`): the target, a weighted request mix or weighted journeys,
//! SLO thresholds, safety limits and one profile. Parsed strictly; every error names the file,
//! the key and the fix, and inside a journey the journey and the step as well.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::units::{Fraction, Percentile, Rate, Span};

/// A load plan as written.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoadPlan {
    /// Base URL: `http://127.0.0.1:8080`. `--target` overrides it.
    #[serde(default)]
    pub target: Option<String>,
    /// Per-request timeout, e.g. `5s`.
    #[serde(default = "default_timeout")]
    pub timeout: String,
    /// How long opening a connection may take, e.g. `2s` (default 5s, never above `timeout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<String>,
    /// Response bodies past this size are not read and count as `body_too_large` (default 4MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body: Option<String>,
    /// Follow redirects to the target's own origin; by default a redirect is the response.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub follow_redirects: bool,
    /// Accept any TLS certificate (self-signed staging servers); `--insecure` too.
    #[serde(default)]
    pub insecure: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestSpec>,
    /// Stateful user flows, run on goose; a plan has either requests or journeys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub journeys: Vec<JourneySpec>,
    #[serde(default)]
    pub slo: Vec<String>,
    #[serde(default)]
    pub safety: Safety,
    /// What the run must show: the capacity a stress run or a sweep must reach.
    #[serde(default, skip_serializing_if = "Expect::is_empty")]
    pub expect: Expect,
    pub profile: ProfileSpec,
}

/// What a capacity-finding run (stress, or a closed sweep) must show.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The throughput the service must hold within its SLOs, e.g. `"300"`: a stress run's
    /// breaking point, or a sweep's best step, below it fails the run (exit 1).
    #[serde(default)]
    pub min_rps: Option<String>,
}

impl Expect {
    fn is_empty(&self) -> bool {
        self.min_rps.is_none()
    }
}

fn default_timeout() -> String {
    "10s".into()
}

/// One request of the mix.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    pub name: String,
    #[serde(default = "get")]
    pub method: String,
    pub path: String,
    #[serde(default = "one")]
    pub weight: u32,
    /// Header values may use `${VAR}` from the environment; values are never written to reports.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// The status that counts as success; any 2xx when absent.
    #[serde(default)]
    pub expect_status: Option<u16>,
    /// Thresholds for this request alone, e.g. `["p99 < 200ms"]`.
    #[serde(default)]
    pub slo: Vec<String>,
}

/// A journey: steps one user takes in order, each able to pass values to the next.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JourneySpec {
    pub name: String,
    #[serde(default = "one")]
    pub weight: u32,
    pub steps: Vec<JourneyStepSpec>,
}

/// One request of a journey. `path`, header values and `body` may use `${name}`: a value an
/// earlier step extracted, or else an environment variable.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JourneyStepSpec {
    pub name: String,
    #[serde(default = "get")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// The status that counts as success; any 2xx when absent.
    #[serde(default)]
    pub expect_status: Option<u16>,
    /// A pause after the step, before the next one, e.g. `"500ms"`.
    #[serde(default)]
    pub think: Option<String>,
    /// Values to take from the response: `{ token = { json = "/token" } }`.
    #[serde(default)]
    pub extract: BTreeMap<String, ExtractSpec>,
}

/// Where a value comes from: exactly one of a JSON pointer into the body, a response header,
/// or a regex over the body (its first group, or the whole match).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

fn get() -> String {
    "GET".into()
}

fn one() -> u32 {
    1
}

/// Limits that protect the target.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Safety {
    /// No step is driven faster than this, whatever the profile says.
    #[serde(default)]
    pub max_rps: Option<String>,
    /// Requests in flight at most (also the number of connections).
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
    /// e.g. `"error_rate > 50% for 10s"`: stop the run to protect the target.
    #[serde(default)]
    pub abort: Option<String>,
}

fn default_in_flight() -> usize {
    256
}

impl Default for Safety {
    fn default() -> Self {
        Safety { max_rps: None, max_in_flight: default_in_flight(), abort: None }
    }
}

/// The load shape.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProfileSpec {
    /// A constant rate after a warm-up that is not recorded.
    Load {
        rate: String,
        duration: String,
        #[serde(default)]
        warmup: Option<String>,
    },
    /// Rate steps until an SLO threshold fails or `max` is reached.
    Stress {
        start: String,
        /// `"+500"` adds, `"x1.5"` multiplies.
        step: String,
        hold: String,
        max: String,
    },
    /// A long constant rate, analysed for drift over `window`s.
    Soak {
        rate: String,
        duration: String,
        #[serde(default)]
        window: Option<String>,
    },
    /// Baseline, a ramp to the burst, the burst held, then the baseline again.
    Spike {
        baseline: String,
        burst: String,
        #[serde(default)]
        ramp: Option<String>,
        hold: String,
        before: String,
        after: String,
    },
    /// Free steps: each ramps from the previous rate when `ramp` is true.
    Stages { stages: Vec<StageSpec> },
    /// A concurrency sweep: N users each sending back to back, for `duration` per step.
    Closed { users: Vec<usize>, duration: String },
}

/// One free stage.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    pub rate: String,
    pub duration: String,
    #[serde(default)]
    pub ramp: bool,
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// Reads a plan file.
pub fn load(path: &Path) -> Result<LoadPlan> {
    let file = path.display().to_string();
    let text = crate::input::read_text(path, "the load plan")?;
    Ok(parse(&text, &file)?)
}

/// Parses plan text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<LoadPlan, InputError> {
    let bad = |message: String| InputError::BadFile { file: file.into(), message };
    let plan: LoadPlan = toml::from_str(text).map_err(|e| {
        let within = e.span().map(|s| enclosing_journey(text, s.start)).unwrap_or_default();
        bad(format!("{within}{e}"))
    })?;
    match (plan.requests.is_empty(), plan.journeys.is_empty()) {
        (true, true) => Err(bad("no [[requests]] and no [[journeys]]: add a request with name and path (e.g. \
             name = \"home\", path = \"/\"), or a journey with name and [[journeys.steps]]"
            .into())),
        (false, false) => Err(bad("both [[requests]] and [[journeys]]: a plan runs one or the other; \
             move the single requests into a journey of one step, or into a plan of their own"
            .into())),
        _ => Ok(plan),
    }
}

/// `journey "checkout", step "login": ` when byte `at` of the plan lies inside a journey, so
/// that a parse error names the journey and the step as well as the key and line.
fn enclosing_journey(text: &str, at: usize) -> String {
    let (mut journey, mut step) = (None::<String>, None::<String>);
    let mut section = "";
    for line in text[..at.min(text.len())].lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = match line {
                "[[journeys]]" => "journey",
                "[[journeys.steps]]" => "step",
                _ if line.starts_with("[journeys.steps") || line.starts_with("[[journeys.steps.") => "step-sub",
                _ => "",
            };
            match section {
                "journey" => (journey, step) = (Some("?".into()), None),
                "step" => step = Some("?".into()),
                "" => (journey, step) = (None, None),
                _ => {}
            }
        } else if let Some(v) = line.strip_prefix("name").map(str::trim).and_then(|r| r.strip_prefix('=')) {
            let v = v.trim().trim_matches('"').to_string();
            match section {
                "journey" => journey = Some(v),
                "step" => step = Some(v),
                _ => {}
            }
        }
    }
    match (journey, step) {
        (Some(j), Some(s)) => format!("journey \"{j}\", step \"{s}\": "),
        (Some(j), None) => format!("journey \"{j}\": "),
        _ => String::new(),
    }
}

/// Parses a field with its type's parser, naming the key on failure.
pub fn field<T: FromStr>(file: &str, key: &str, value: &str) -> Result<T, InputError>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| InputError::BadFile { file: file.into(), message: format!("{key}: {e}") })
}

/// A rate field.
pub fn rate(file: &str, key: &str, value: &str) -> Result<f64, InputError> {
    field::<Rate>(file, key, value).map(|r| r.0)
}

/// A duration field in seconds.
pub fn secs(file: &str, key: &str, value: &str) -> Result<f64, InputError> {
    field::<Span>(file, key, value).map(|s| s.secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"
target = "http://127.0.0.1:8080"
[[requests]]
name = "home"
path = "/"
[profile]
kind = "load"
rate = "1k"
duration = "30s"
"#;

    #[test]
    fn parses_and_names_unknown_keys() {
        let p = parse(PLAN, "p.toml").unwrap();
        assert_eq!(p.requests[0].method, "GET");
        assert_eq!(p.safety.max_in_flight, 256);
        let e = parse(&PLAN.replace("rate = \"1k\"", "rat = \"1k\""), "p.toml").unwrap_err().to_string();
        assert!(e.starts_with("p.toml: ") && e.contains("rat"), "{e}");
        let e = parse(&PLAN.replace("kind = \"load\"", "kind = \"blast\""), "p.toml").unwrap_err().to_string();
        assert!(e.contains("blast") && e.contains("stress"), "{e}");
    }

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
