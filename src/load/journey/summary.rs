//! What the journeys of a step did: counts, end-to-end percentiles from HdrHistograms in
//! microseconds, and where failed journeys stopped, with what the target said.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

use super::Journey;
use crate::load::recorder::{ErrorCounts, Record, Recorder, Sample};
use crate::load::results::Percentiles;

/// Distinct failure messages kept per journey step; the rest are counted under "other".
const MESSAGES: usize = 8;

/// Journeys in one step of the profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JourneysResult {
    /// Journey arrivals per second the schedule asked for (mean over the step); `null` when closed.
    pub target_per_s: Option<f64>,
    /// Journeys begun per second (those whose intended start fell in the step).
    pub started_per_s: f64,
    pub journeys: Vec<JourneyResult>,
}

/// One journey in one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JourneyResult {
    pub name: String,
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    pub completed_per_s: f64,
    /// End to end, think times included, from the intended start of the first step (corrected).
    pub latency_us: Option<Percentiles>,
    /// End to end from the actual start of the first step (raw).
    pub duration_us: Option<Percentiles>,
    /// Failed journeys by the class of the error that stopped them.
    pub errors: ErrorCounts,
    pub steps: Vec<StepFailures>,
}

/// How many journeys stopped at a step, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepFailures {
    /// `journey/step`, as in `per_request`.
    pub name: String,
    pub failed: u64,
    /// Distinct reasons, most frequent first: the status with the start of the body, or what an
    /// extraction missed.
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub reason: String,
    pub count: u64,
}

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
        JourneysResult { target_per_s, started_per_s: started as f64 * per_s, journeys }
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
    }
}
