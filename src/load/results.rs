//! `results.json`: what a run measured, as a contract users script against. Percentiles come
//! from the HdrHistograms (microseconds); the histograms themselves travel as base64 V2 so that
//! runs and shards merge losslessly.

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::Serialize;

use super::collector::StepRun;
use super::departures;
use super::journey::summary::JourneysResult;
use super::recorder::{ErrorCounts, Record};
use super::verdict::{self, Delivery, Figures, LittlesCheck};
use crate::plan::profile::{Load, Role, Step};
use crate::plan::{Op, Unit};

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
    r.requests - r.errors.unanswered().min(r.requests)
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
    /// Its responses per second of the step's window.
    pub achieved_rps: f64,
    pub latency_us: Option<Percentiles>,
    pub service_time_us: Option<Percentiles>,
    pub errors: ErrorCounts,
}

/// An SLO threshold checked against a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdResult {
    /// As written in the plan.
    pub threshold: String,
    /// `overall` or a request name.
    pub scope: String,
    /// `p99`, `mean`, `max`, `error_rate` or `rps`.
    pub metric: String,
    pub op: Op,
    /// The unit of `value` and `limit`.
    pub unit: Unit,
    pub value: f64,
    pub limit: f64,
    pub passed: bool,
}

/// One step's results.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub name: String,
    pub role: Role,
    /// The arrival rate at the step's end (a ramp's last rate); `null` for closed and journey steps.
    pub target_rps: Option<f64>,
    /// The schedule's mean arrival rate over the step: the load offered.
    pub offered_rps: Option<f64>,
    pub users: Option<usize>,
    /// Seconds the step scheduled arrivals: its duration, or less when a stop cut it short.
    pub duration_s: f64,
    /// The window `achieved_rps` is measured over: for a constant-rate or closed step, from the
    /// moment 10% of its responses had arrived to the moment 90% had; for a ramp or a step of
    /// fewer than 20 responses, from its first response to its last or to its end, whichever is
    /// later.
    pub window_s: f64,
    /// Requests the schedule asked for; `null` for a closed step.
    pub scheduled: Option<u64>,
    pub requests: u64,
    /// Requests due before the run's end that were never sent: every connection was busy.
    pub unsent: u64,
    /// Responses (any status) that arrived within `window_s`, per second of it: the throughput
    /// measured.
    pub achieved_rps: f64,
    pub error_rate: f64,
    /// Requests in flight at most (the workers; users in a closed step).
    pub in_flight_limit: usize,
    /// Sampled means over the step: requests in flight, and in flight plus queued for a
    /// connection (journeys, for a journey step).
    pub mean_in_flight: f64,
    pub mean_in_system: f64,
    /// The generator's CPU over the step, as a share of all its cores.
    pub generator_cpu: Option<f64>,
    /// Whether the step delivered the load it offered, and if not, why.
    pub delivery: Delivery,
    /// Little's Law on the step; `null` when it cannot be applied (nothing departed, or a stop).
    pub littles_law: Option<LittlesCheck>,
    /// Why Little's Law disagrees, when it does beyond sampling error.
    pub littles_law_note: Option<String>,
    /// From each request's intended send time (corrected for coordinated omission).
    pub latency_us: Option<Percentiles>,
    /// From the actual send time (raw).
    pub service_time_us: Option<Percentiles>,
    pub schedule_lag_us: Option<Percentiles>,
    pub errors: ErrorCounts,
    /// Response body bytes read (each capped at `max_body`).
    pub bytes_received: u64,
    /// Requests that started more than 2 ms after their intended time...
    pub late_starts: u64,
    /// ...of which every connection was busy when their time came.
    pub late_at_limit: u64,
    /// Requests that started more than 5 ms late with a connection free: the generator's lag.
    pub lagging_starts: u64,
    pub reconnects: u64,
    pub per_request: Vec<RequestResult>,
    pub slo: Vec<ThresholdResult>,
    /// `false` when the step did not deliver its offered load (see `delivery`).
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
    /// Summarises a step from what its phase produced, on a machine of `cores` cores.
    pub fn new(step: &Step, names: &[String], run: StepRun, cores: usize) -> StepResult {
        let mut merged = Record::default();
        for r in &run.records {
            merged.merge(r);
        }
        let journeys = run.journeys.is_some();
        let (units, unit_departures) = run.units.clone().unwrap_or_else(|| (merged.clone(), run.departures.clone()));
        let fastest = |r: &Record| if r.latency.is_empty() { 0 } else { r.latency.min() };
        let window = departures::window(step, &run.departures, fastest(&merged), &run);
        let achieved_rps = window.rate();
        // Each answered request's share of the rate, for the rates of parts of the step.
        let per_answer = achieved_rps / answered(&merged).max(1) as f64;
        let cpu_share = run.generator_cpu.map(|(cpu, wall)| cpu / (wall.max(1e-9) * cores.max(1) as f64));
        let offered = step.load.mean_rps(step.duration_s);
        let delivery = verdict::delivery(&Figures {
            unit: if journeys { "journeys/s" } else { "RPS" },
            offered,
            delivered: departures::window(step, &unit_departures, fastest(&units), &run).rate(),
            started: units.requests,
            answered: answered(&units),
            failed: units.errors.connect + units.errors.io + units.errors.protocol,
            late: units.late_starts,
            late_at_limit: units.late_at_limit,
            lagging: units.lagging,
            unsent: run.unsent,
            limit: run.workers,
            cpu_share,
            cores,
            lag_p99_us: (!units.lag.is_empty()).then(|| units.lag.value_at_quantile(0.99)),
        });
        let littles_law =
            run.unsent_wait_s.or((run.unsent == 0).then_some(0.0)).filter(|_| !run.stopped_early).and_then(
                |unsent_wait_s| {
                    verdict::littles(&verdict::Occupied {
                        window_s: run.occupied_s,
                        departures: units.requests + run.unsent,
                        time_in_system_s: units.sojourn_us as f64 / 1e6 + unsent_wait_s,
                        measured: run.occupancy.in_system,
                        measured_se: run.occupancy.in_system_se,
                        samples: run.occupancy.samples,
                    })
                },
            );
        let littles_law_note =
            littles_law.filter(|c| c.alarm).map(|c| verdict::littles_cause(&c, run.occupied_s, cpu_share));
        let per_request = run
            .records
            .iter()
            .zip(names)
            .map(|(r, name)| RequestResult {
                name: name.clone(),
                requests: r.requests,
                achieved_rps: answered(r) as f64 * per_answer,
                latency_us: Percentiles::of(&r.latency),
                service_time_us: Percentiles::of(&r.service),
                errors: r.errors,
            })
            .collect();
        StepResult {
            name: step.name.clone(),
            role: step.role,
            target_rps: step.load.target_rps().filter(|_| !journeys),
            offered_rps: offered.filter(|_| !journeys),
            users: match step.load {
                Load::Closed { users } => Some(users),
                Load::Open { .. } => None,
            },
            duration_s: run.elapsed_s,
            window_s: window.window_s,
            scheduled: offered.map(|_| step.load.count(step.duration_s)),
            requests: merged.requests,
            unsent: run.unsent,
            achieved_rps,
            error_rate: if merged.requests > 0 { merged.errors.total() as f64 / merged.requests as f64 } else { 0.0 },
            in_flight_limit: run.workers,
            mean_in_flight: run.occupancy.in_flight,
            mean_in_system: run.occupancy.in_system,
            generator_cpu: cpu_share,
            valid: delivery == Delivery::Delivered,
            invalid_reason: delivery.reason().map(str::to_string),
            delivery,
            littles_law,
            littles_law_note,
            latency_us: Percentiles::of(&merged.latency),
            service_time_us: Percentiles::of(&merged.service),
            schedule_lag_us: Percentiles::of(&merged.lag),
            errors: merged.errors,
            bytes_received: merged.bytes,
            late_starts: merged.late_starts,
            late_at_limit: merged.late_at_limit,
            lagging_starts: merged.lagging,
            reconnects: run.reconnects,
            per_request,
            slo: Vec::new(),
            histograms: Encoded {
                latency: encode(&merged.latency),
                service_time: encode(&merged.service),
                schedule_lag: encode(&merged.lag),
            },
            series: run.series,
            journeys: run.journeys,
            merged: Some(merged),
        }
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
