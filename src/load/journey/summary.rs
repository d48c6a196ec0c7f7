//! What the journeys of a step did: counts, end-to-end percentiles from HdrHistograms in
//! microseconds, and where failed journeys stopped, with what the target said.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::Journey;
use crate::artefact::results::{encode, LatencyHistograms, Percentiles};
pub use crate::artefact::results::{JourneyResult, JourneysResult, Reason, StepFailures};
use crate::load::recorder::{Record, Recorder, Sample};

/// Distinct failure messages kept per journey step; the rest are counted under "other".
const MESSAGES: usize = 8;

/// What the workers of a phase record about journeys in one step.
pub struct Tally {
    journeys: Recorder,
    /// Per journey step (flattened): failures by reason.
    failures: Mutex<Vec<BTreeMap<String, u64>>>,
}

impl Tally {
    pub fn new(stripes: usize, journeys: usize, steps: usize) -> Tally {
        Tally { journeys: Recorder::new(stripes, journeys), failures: Mutex::new(vec![BTreeMap::new(); steps]) }
    }

    /// A journey that ended at `done`, completed or stopped.
    pub fn journey(&self, worker: usize, sample: Sample, done: tokio::time::Instant) {
        self.journeys.record(worker, sample, done);
    }

    /// When each journey that got its answers finished, µs after the step's start.
    pub fn departures(&self) -> hdrhistogram::Histogram<u64> {
        self.journeys.departures()
    }

    /// Every journey of the step in one record.
    pub fn merged(&self) -> Record {
        let mut all = Record::default();
        for r in self.journeys.totals() {
            all.merge(&r);
        }
        all
    }

    /// A journey stopped at `step` (flattened index) for `reason`.
    pub fn failure(&self, step: usize, reason: String) {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let reasons = &mut f[step];
        let key = if reasons.len() < MESSAGES || reasons.contains_key(&reason) { reason } else { "other".into() };
        *reasons.entry(key).or_default() += 1;
    }

    /// Sums the step up; `per_s` turns a count of answered journeys into a rate over the step's
    /// window (see `departures`), `target_per_s` is its scheduled rate.
    pub fn summarise(&self, journeys: &[Journey], per_s: f64, target_per_s: Option<f64>) -> JourneysResult {
        let records = self.journeys.totals();
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut flat = 0;
        let journeys: Vec<JourneyResult> = journeys
            .iter()
            .zip(&records)
            .map(|(j, r)| {
                let steps = j
                    .steps
                    .iter()
                    .map(|s| {
                        let mut reasons: Vec<Reason> =
                            failures[flat].iter().map(|(r, c)| Reason { reason: r.clone(), count: *c }).collect();
                        reasons.sort_by_key(|r| std::cmp::Reverse(r.count));
                        flat += 1;
                        StepFailures { name: s.name.clone(), failed: reasons.iter().map(|r| r.count).sum(), reasons }
                    })
                    .collect();
                summarise_one(&j.name, r, per_s, steps)
            })
            .collect();
        let started: u64 = journeys.iter().map(|j| j.started).sum();
        JourneysResult { target_per_s, started_per_s: started as f64 * per_s, journeys, departures: String::new() }
    }
}

fn summarise_one(name: &str, r: &Record, per_s: f64, steps: Vec<StepFailures>) -> JourneyResult {
    let failed = r.errors.total();
    JourneyResult {
        name: name.to_string(),
        started: r.requests,
        completed: r.requests - failed,
        failed,
        completed_per_s: (r.requests - failed) as f64 * per_s,
        latency_us: Percentiles::of(&r.latency),
        duration_us: Percentiles::of(&r.service),
        errors: r.errors,
        steps,
        histograms: LatencyHistograms { latency: encode(&r.latency), service_time: encode(&r.service) },
    }
}
