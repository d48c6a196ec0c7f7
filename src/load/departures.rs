//! The window a step's throughput is measured over, from when its responses arrived.
//!
//! A constant-rate or closed step is measured over its steady middle: from the moment 10% of
//! its responses had arrived to the moment 90% had, and the rate is the responses between the
//! two over the time between them. That is free of the step's first latency (nothing can
//! finish before one request's time has passed) and of its last (a slow last request, or a
//! stall as the step ends, says nothing about the rate it sustained), while a saturated step,
//! whose responses keep coming at the target's pace long after the schedule ends, is measured at
//! that pace. A ramp, whose rate changes along the step, a spike's burst and recovery (a queue
//! that builds, or drains), and a step of fewer than 20 responses are measured from the step's
//! start plus its fastest response (the earliest any could finish) to its last response, or to
//! its end when that is later.

use hdrhistogram::Histogram;

use super::collector::StepRun;
use crate::plan::profile::{Role, Step};

/// Responses a step needs for its middle to be measured apart from its edges.
const MIN_TRIMMED: u64 = 20;
/// The share of responses left out at each edge.
const EDGE: f64 = 0.1;

/// The window, and the responses counted in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub window_s: f64,
    /// Responses that arrived within the window.
    pub counted: u64,
    /// The window runs from one response to another (the steady middle), so its responses
    /// span one interval fewer than their count.
    pub between_responses: bool,
}

impl Window {
    /// Responses per second of the window.
    pub fn rate(&self) -> f64 {
        let intervals = if self.between_responses { self.counted.saturating_sub(1) } else { self.counted };
        intervals as f64 / self.window_s.max(1e-9)
    }
}

/// The window of `step`, whose answered units finished at `departures` (µs after its start),
/// the fastest of them in `fastest_us`.
pub fn window(step: &Step, departures: &Histogram<u64>, fastest_us: u64, run: &StepRun) -> Window {
    window_of(steady(step.role, step.load.is_constant()), departures, fastest_us, run.elapsed_s)
}

/// Whether a step of this role and rate is measured over its steady middle.
pub fn steady(role: Role, constant: bool) -> bool {
    !matches!(role, Role::Ramp | Role::Burst | Role::Recovery) && constant
}

/// The window of a step that scheduled for `elapsed_s` seconds, `steady` or not (see
/// [`steady`]), whose answered units finished at `departures`.
pub fn window_of(steady: bool, departures: &Histogram<u64>, fastest_us: u64, elapsed_s: f64) -> Window {
    let n = departures.len();
    if steady && n >= MIN_TRIMMED {
        let (lo, hi) = (departures.value_at_quantile(EDGE), departures.value_at_quantile(1.0 - EDGE));
        if hi > lo {
            let counted = departures.count_between(lo, hi);
            return Window { window_s: (hi - lo) as f64 / 1e6, counted, between_responses: true };
        }
    }
    if n == 0 {
        return Window { window_s: elapsed_s.max(1e-9), counted: 0, between_responses: false };
    }
    let end = (departures.max() as f64 / 1e6).max(elapsed_s);
    let first = (fastest_us.min(departures.min()) as f64 / 1e6).min(end);
    Window { window_s: (end - first).max(1e-9), counted: n, between_responses: false }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::gauge::Occupancy;
    use crate::load::recorder::{histogram, Record};
    use crate::plan::profile::Load;

    fn run(elapsed_s: f64) -> StepRun {
        StepRun {
            records: vec![Record::default()],
            series: Vec::new(),
            elapsed_s,
            occupied_s: elapsed_s,
            occupancy: Occupancy::default(),
            workers: 1,
            unsent: 0,
            unsent_wait_s: Some(0.0),
            generator_cpu: None,
            started: tokio::time::Instant::now(),
            reconnects: 0,
            stopped_early: false,
            journeys: None,
            departures: histogram(),
            share: 1.0,
            start_lag: None,
            units: None,
        }
    }

    fn step(load: Load, role: Role) -> Step {
        Step { name: "s".into(), load, duration_s: 10.0, role }
    }

    fn times(us: impl Iterator<Item = u64>) -> Histogram<u64> {
        let mut h = histogram();
        for t in us {
            h.record(t).unwrap();
        }
        h
    }

    #[test]
    fn a_steady_step_is_measured_over_its_middle_whatever_its_edges() {
        let open = step(Load::ramp(100.0, 100.0), Role::Measure);
        // 1,000 responses 10 ms apart from 20 ms on, the last 30 held 600 ms by a stall.
        let mut t: Vec<u64> = (0..1000u64).map(|k| 20_000 + k * 10_000).collect();
        for x in t.iter_mut().skip(970) {
            *x = 10_300_000;
        }
        let w = window(&open, &times(t.into_iter()), 20_000, &run(10.0));
        assert!((w.rate() / 100.0 - 1.0).abs() < 0.005, "{w:?}: {}", w.rate());
        // Saturated: 400/s long after the schedule's 10 s.
        let w = window(&open, &times((0..6000u64).map(|k| 20_000 + k * 2_500)), 20_000, &run(10.0));
        assert!((w.rate() / 400.0 - 1.0).abs() < 0.005, "{}", w.rate());
    }

    #[test]
    fn a_recovery_step_is_measured_from_its_start_plus_its_fastest_response() {
        let recovery = step(Load::ramp(100.0, 100.0), Role::Recovery);
        // 1,000 responses: the first 200 held behind a backlog until 2 s, the rest on time.
        let t = (0..1000u64).map(|k| if k < 200 { 2_000_000 } else { 20_000 + k * 10_000 });
        let w = window(&recovery, &times(t), 20_000, &run(10.0));
        assert!((w.rate() / 100.0 - 1.0).abs() < 0.01, "{}", w.rate());
    }
}
