//! `results.json`: what a run measured, as a contract users script against. Percentiles come
//! from the HdrHistograms (microseconds); the histograms themselves travel as base64 V2 so that
//! runs and shards merge losslessly.

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::Serialize;

use super::journey::summary::JourneysResult;
use super::profile::{Load, Role, Step};
use super::recorder::{ErrorCounts, Record};

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Percentiles {
    /// From a histogram; `None` when it is empty.
    pub fn of(h: &Histogram<u64>) -> Option<Percentiles> {
        (!h.is_empty()).then(|| Percentiles {
            count: h.len(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p95: h.value_at_quantile(0.95),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        })
    }

    /// The value at quantile `q` of `h`, or the mean for `None`.
    pub fn at(h: &Histogram<u64>, q: Option<f64>) -> f64 {
        match q {
            Some(q) => h.value_at_quantile(q) as f64,
            None => h.mean(),
        }
    }
}

/// One second of a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Second {
    /// Seconds from the start of the step to the start of this interval.
    pub t_s: f64,
    pub duration_s: f64,
    /// Arrivals due per second by the schedule; `null` for a closed step.
    pub offered_rps: Option<f64>,
    /// Requests finished in the interval, whatever their outcome.
    pub requests: u64,
    /// Responses received per second.
    pub achieved_rps: f64,
    pub in_flight: f64,
    pub late_starts: u64,
    pub p50_us: Option<u64>,
    pub p90_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub max_us: Option<u64>,
    pub errors: ErrorCounts,
    /// The second's latency histogram, kept only where an analysis needs it (spike recovery).
    #[serde(skip)]
    pub histogram: Option<Histogram<u64>>,
}

impl Second {
    /// Summarises one interval from `t0` to `t1` seconds into `step`.
    pub fn from_interval(r: &Record, step: &Step, t0: f64, t1: f64, in_flight: f64) -> Second {
        let d = (t1 - t0).max(1e-9);
        let q = |p: f64| (!r.latency.is_empty()).then(|| r.latency.value_at_quantile(p));
        Second {
            t_s: t0,
            duration_s: t1 - t0,
            // Nothing is due after the step's window, while its backlog drains.
            offered_rps: match step.load {
                Load::Open { .. } => {
                    let due = |t: f64| step.load.due_by(t.min(step.duration_s), step.duration_s);
                    Some((due(t1) - due(t0)) / d)
                }
                Load::Closed { .. } => None,
            },
            requests: r.requests,
            achieved_rps: answered(r) as f64 / d,
            in_flight,
            late_starts: r.late_starts,
            p50_us: q(0.5),
            p90_us: q(0.9),
            p99_us: q(0.99),
            max_us: (!r.latency.is_empty()).then(|| r.latency.max()),
            errors: r.errors,
            histogram: (step.role == Role::Recovery).then(|| r.latency.clone()),
        }
    }
}

/// Requests that got an HTTP response (of any status).
pub fn answered(r: &Record) -> u64 {
    r.requests - r.errors.connect - r.errors.io - r.errors.timeout
}

/// Little's Law on a step: measured requests in flight against throughput × service time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LittlesCheck {
    pub throughput_rps: f64,
    pub mean_service_time_s: f64,
    /// L = X·W.
    pub predicted_in_flight: f64,
    pub measured_in_flight: f64,
    /// (measured − predicted) / predicted.
    pub relative_disagreement: f64,
}

/// The histograms of a step, base64 HdrHistogram V2.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Encoded {
    pub latency: String,
    pub service_time: String,
    pub schedule_lag: String,
}

/// One request name within a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestResult {
    pub name: String,
    pub requests: u64,
    pub latency_us: Option<Percentiles>,
    pub service_time_us: Option<Percentiles>,
    pub errors: ErrorCounts,
}

/// An SLO threshold checked against a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdResult {
    pub threshold: String,
    /// `overall` or a request name.
    pub scope: String,
    pub value: f64,
    pub limit: f64,
    pub passed: bool,
}

/// One step's results.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub name: String,
    pub role: Role,
    pub target_rps: Option<f64>,
    pub users: Option<usize>,
    pub duration_s: f64,
    pub requests: u64,
    pub achieved_rps: f64,
    pub error_rate: f64,
    pub mean_in_flight: f64,
    pub littles_law: LittlesCheck,
    /// From each request's intended send time (corrected for coordinated omission).
    pub latency_us: Option<Percentiles>,
    /// From the actual send time (raw).
    pub service_time_us: Option<Percentiles>,
    pub schedule_lag_us: Option<Percentiles>,
    pub errors: ErrorCounts,
    pub late_starts: u64,
    pub reconnects: u64,
    pub per_request: Vec<RequestResult>,
    pub slo: Vec<ThresholdResult>,
    /// `false` when the step missed its target rate (or reached nothing).
    pub valid: bool,
    pub invalid_reason: Option<String>,
    pub histograms: Encoded,
    pub series: Vec<Second>,
    /// Journey runs: what each journey did. The fields above count their requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journeys: Option<JourneysResult>,
    #[serde(skip)]
    pub merged: Option<Record>,
}

/// base64 of the V2 serialization.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2Serializer::new().serialize(h, &mut bytes).expect("serializing to memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a histogram written by [`encode`].
pub fn decode(text: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
    hdrhistogram::serialization::Deserializer::new().deserialize(&mut io::Cursor::new(bytes)).ok()
}

impl StepResult {
    /// Summarises a step from its records, series and gauges.
    pub fn new(
        step: &Step,
        names: &[String],
        records: Vec<Record>,
        series: Vec<Second>,
        elapsed_s: f64,
        mean_in_flight: f64,
        reconnects: u64,
    ) -> StepResult {
        let mut merged = Record::default();
        for r in &records {
            merged.merge(r);
        }
        let duration_s = elapsed_s.max(1e-9);
        let answered = answered(&merged);
        let achieved_rps = answered as f64 / duration_s;
        let mean_service_s = merged.service.mean() / 1e6;
        let predicted = achieved_rps * mean_service_s;
        // A ramp is judged against the arrivals its schedule asked for, not its final rate.
        let (valid, invalid_reason) = match (step.load.mean_rps(step.duration_s), answered) {
            (_, 0) => {
                (false, Some("no request got a response: the target refused, reset or timed out every one".to_string()))
            }
            (Some(t), _) if achieved_rps < 0.95 * t => {
                (false, Some(format!("achieved {:.1} RPS, under 95% of the {:.1} RPS scheduled", achieved_rps, t)))
            }
            _ => (true, None),
        };
        StepResult {
            name: step.name.clone(),
            role: step.role,
            target_rps: step.load.target_rps(),
            users: match step.load {
                Load::Closed { users } => Some(users),
                Load::Open { .. } => None,
            },
            duration_s,
            requests: merged.requests,
            achieved_rps,
            error_rate: if merged.requests > 0 { merged.errors.total() as f64 / merged.requests as f64 } else { 0.0 },
            mean_in_flight,
            littles_law: LittlesCheck {
                throughput_rps: achieved_rps,
                mean_service_time_s: mean_service_s,
                predicted_in_flight: predicted,
                measured_in_flight: mean_in_flight,
                relative_disagreement: crate::model::littles::relative_disagreement(
                    mean_in_flight,
                    achieved_rps,
                    mean_service_s,
                ),
            },
            latency_us: Percentiles::of(&merged.latency),
            service_time_us: Percentiles::of(&merged.service),
            schedule_lag_us: Percentiles::of(&merged.lag),
            errors: merged.errors,
            late_starts: merged.late_starts,
            reconnects,
            per_request: records
                .iter()
                .zip(names)
                .map(|(r, name)| RequestResult {
                    name: name.clone(),
                    requests: r.requests,
                    latency_us: Percentiles::of(&r.latency),
                    service_time_us: Percentiles::of(&r.service),
                    errors: r.errors,
                })
                .collect(),
            slo: Vec::new(),
            valid,
            invalid_reason,
            histograms: Encoded {
                latency: encode(&merged.latency),
                service_time: encode(&merged.service),
                schedule_lag: encode(&merged.lag),
            },
            series,
            journeys: None,
            merged: Some(merged),
        }
    }

    /// A step of a journey run: its rate is in journeys, so it is valid when journeys started
    /// on schedule (and something answered), and it names no request rate as its target.
    pub fn with_journeys(mut self, journeys: JourneysResult) -> StepResult {
        self.target_rps = None;
        if self.merged.as_ref().is_some_and(|m| answered(m) > 0) {
            (self.valid, self.invalid_reason) = match journeys.target_per_s {
                Some(t) if journeys.started_per_s < 0.95 * t => (
                    false,
                    Some(format!(
                        "started {:.1} journeys/s, under 95% of the {:.1} scheduled",
                        journeys.started_per_s, t
                    )),
                ),
                _ => (true, None),
            };
        }
        self.journeys = Some(journeys);
        self
    }
}

/// Writes `value` as `dir/results.json` through a temporary file and a rename, so that a reader
/// never sees half a file, even when the run is interrupted.
pub fn write_atomic<T: Serialize>(dir: &Path, value: &T) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("results.json");
    crate::output::write_atomic(&path, |w| Ok(crate::output::write_json(value, w)?))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_through_base64() {
        let mut h = super::super::recorder::histogram();
        for v in [1u64, 10, 100, 1000, 123_456] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
        assert_eq!(back.max(), h.max());
    }
}
