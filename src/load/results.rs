//! `results.json`: what a run measured, as a contract users script against. Percentiles come
//! from the HdrHistograms (microseconds); the histograms themselves travel as base64 V2 so that
//! runs and shards merge losslessly.

use std::path::{Path, PathBuf};

use super::collector::StepRun;
use super::departures;
use super::recorder::{answered, Record};
use crate::analysis::delivery::{self, Figures};
use crate::analysis::littles::{self, Occupied};
use crate::artefact::results::LatencyHistograms;
pub use crate::artefact::results::{
    decode, encode, Encoded, Percentiles, RequestResult, Second, StepResult, ThresholdResult,
};
use crate::artefact::results::{Delivery, LittlesCheck};
use crate::plan::profile::Step;

/// A step's results, and the records they were summarised from (for its thresholds).
pub struct Measured {
    pub result: StepResult,
    /// Every request of the step in one record.
    pub merged: Record,
    /// One record per request name.
    pub records: Vec<Record>,
}

impl Measured {
    /// Summarises a step from what its phase produced, on a machine of `cores` cores.
    pub fn new(step: &Step, names: &[String], run: StepRun, cores: usize) -> Measured {
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
        // A shard offers its share of the schedule.
        let share = run.share;
        let offered = step.load.mean_rps(step.duration_s).map(|o| o * share);
        let delivery = judge_delivery(step, &run, (&units, &unit_departures), journeys, (cpu_share, cores));
        let littles_law = littles_check(&run, &units);
        let littles_law_note =
            littles_law.filter(|c| c.alarm).map(|c| littles::littles_cause(&c, run.occupied_s, cpu_share));
        let per_request = per_request(&run.records, names, per_answer);
        let result = StepResult {
            name: step.name.clone(),
            role: step.role,
            target_rps: step.load.target_rps().map(|t| t * share).filter(|_| !journeys),
            offered_rps: offered.filter(|_| !journeys),
            users: step.load.users(),
            duration_s: run.elapsed_s,
            window_s: window.window_s,
            scheduled: offered.map(|_| (step.load.count(step.duration_s) as f64 * share).round() as u64),
            requests: merged.requests,
            unsent: run.unsent,
            achieved_rps,
            error_rate: if merged.requests > 0 { merged.errors.total() as f64 / merged.requests as f64 } else { 0.0 },
            in_flight_limit: run.workers,
            mean_in_flight: run.occupancy.in_flight,
            mean_in_system: run.occupancy.in_system,
            generator_cpu: cpu_share,
            utilization: None,
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
                departures: encode(&run.departures),
            },
            series: run
                .series
                .into_iter()
                .map(|mut p| {
                    p.offered_rps = p.offered_rps.map(|o| o * share);
                    p
                })
                .collect(),
            journeys: run.journeys,
        };
        Measured { result, merged, records: run.records }
    }
}

/// How the step's delivered units compare with what it offered.
fn judge_delivery(
    step: &Step,
    run: &StepRun,
    (units, unit_departures): (&Record, &hdrhistogram::Histogram<u64>),
    journeys: bool,
    (cpu_share, cores): (Option<f64>, usize),
) -> Delivery {
    let fastest = if units.latency.is_empty() { 0 } else { units.latency.min() };
    delivery::delivery(&Figures {
        unit: if journeys { "journeys/s" } else { "RPS" },
        offered: step.load.mean_rps(step.duration_s).map(|o| o * run.share),
        delivered: departures::window(step, unit_departures, fastest, run).rate(),
        started: units.requests,
        answered: answered(units),
        failed: units.errors.connect + units.errors.io + units.errors.protocol,
        late: units.late_starts,
        late_at_limit: units.late_at_limit,
        lagging: units.lagging,
        unsent: run.unsent,
        limit: run.workers,
        cpu_share,
        cores,
        lag_p99_us: (!units.lag.is_empty()).then(|| units.lag.value_at_quantile(0.99)),
    })
}

/// Little's Law over the step's window, when what was never sent is known and no stop cut it.
fn littles_check(run: &StepRun, units: &Record) -> Option<LittlesCheck> {
    let unsent_wait_s = run.unsent_wait_s.or((run.unsent == 0).then_some(0.0)).filter(|_| !run.stopped_early)?;
    littles::littles(&Occupied {
        window_s: run.occupied_s,
        departures: units.requests + run.unsent,
        time_in_system_s: units.sojourn_us as f64 / 1e6 + unsent_wait_s,
        measured: run.occupancy.in_system,
        measured_se: run.occupancy.in_system_se,
        samples: run.occupancy.samples,
    })
}

/// Each request name's figures, its rate its answered share of the step's.
fn per_request(records: &[Record], names: &[String], per_answer: f64) -> Vec<RequestResult> {
    records
        .iter()
        .zip(names)
        .map(|(r, name)| RequestResult {
            name: name.clone(),
            requests: r.requests,
            achieved_rps: answered(r) as f64 * per_answer,
            latency_us: Percentiles::of(&r.latency),
            service_time_us: Percentiles::of(&r.service),
            errors: r.errors,
            histograms: LatencyHistograms { latency: encode(&r.latency), service_time: encode(&r.service) },
        })
        .collect()
}

/// Writes step `index` (1-based) of `results` as an HdrHistogram interval log beside
/// results.json (see [`crate::artefact::hlog`]).
pub fn write_hlog(dir: &Path, index: usize, results: &crate::artefact::results::Results) -> anyhow::Result<()> {
    let Some(step) = results.steps.get(index - 1) else { return Ok(()) };
    let path = dir.join(crate::artefact::hlog::file_name(index, step));
    let version = &results.environment.headroom_version;
    crate::files::write_atomic(&path, |w| Ok(crate::artefact::hlog::write(step, version, w)?))
}

/// Writes `results` as `dir/results.json` through a temporary file and a rename, so that a
/// reader never sees half a file, even when the run is interrupted.
pub fn write_atomic(dir: &Path, results: &crate::artefact::results::Results) -> anyhow::Result<PathBuf> {
    crate::artefact::ready(dir, "results.json")?;
    let path = dir.join(crate::artefact::results::FILE_NAME);
    crate::artefact::write(results, &path)?;
    Ok(path)
}
