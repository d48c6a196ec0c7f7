//! What the workers of a phase share (recorders and counters per step) and the collector that
//! closes each second, reads the generator's CPU, and sums each step up when the phase ends.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use super::gauge::{Counters, Gauge, Occupancy};
use super::limiter::Limiter;
use super::recorder::{Record, Recorder};
use super::series::SeriesBuilder;
use super::timeline::Phase;
use crate::artefact::results::JourneysResult;
use crate::artefact::results::Second;
pub use crate::clock::Clock;
use crate::plan::profile::Step;
use crate::process::cpu_seconds;

/// What the workers of one phase update and the collector reads.
pub(crate) struct Shared {
    /// One recorder per step.
    pub recorders: Vec<Recorder>,
    /// Units of the schedule (requests, or journeys) started and finished, per step.
    pub counters: Arc<Vec<Counters>>,
    /// The next ticket of the schedule.
    pub next: AtomicU64,
    pub reconnects: Vec<AtomicU64>,
    pub done_workers: AtomicUsize,
    /// The workers of the phase: the in-flight limit that applies.
    pub workers: usize,
    /// `--max-rps`, when set: every request waits for its slot.
    pub limiter: Option<Limiter>,
}

impl Shared {
    /// Counters for `steps` run by `workers`, each step recording `names` names over `stripes`
    /// shards.
    pub fn new(steps: &[Step], workers: usize, stripes: usize, names: usize, max_rps: Option<f64>) -> Shared {
        Shared {
            limiter: max_rps.map(Limiter::new),
            recorders: steps.iter().map(|_| Recorder::new(stripes, names)).collect(),
            counters: Arc::new(steps.iter().map(|_| Counters::default()).collect()),
            next: AtomicU64::new(0),
            reconnects: steps.iter().map(|_| AtomicU64::new(0)).collect(),
            done_workers: AtomicUsize::new(0),
            workers,
        }
    }
}

/// What a step produced.
pub struct StepRun {
    pub records: Vec<Record>,
    pub series: Vec<Second>,
    /// Seconds the step scheduled arrivals: its duration, or less when a stop cut it short.
    pub elapsed_s: f64,
    /// Seconds from the step's start until its last unit left the system (or its end, or the
    /// stop, whichever is later): the window the gauge sampled.
    pub occupied_s: f64,
    pub occupancy: Occupancy,
    /// The phase's workers: the in-flight limit that applied.
    pub workers: usize,
    /// Units due before the phase was cut that were never sent.
    pub unsent: u64,
    /// Their total wait until the cut, seconds; `None` when not known (journeys).
    pub unsent_wait_s: Option<f64>,
    /// CPU seconds the generator used in the seconds attributed to the step, and how long
    /// those seconds were.
    pub generator_cpu: Option<(f64, f64)>,
    /// When the step began: its series' times are seconds after it.
    pub started: Instant,
    pub reconnects: u64,
    pub stopped_early: bool,
    /// What the journeys did, when the step ran journeys.
    pub journeys: Option<JourneysResult>,
    /// When each answered request finished, µs after the step's start.
    pub departures: Histogram<u64>,
    /// This generator's share of the step's schedule: 1, or a shard's part of it.
    pub share: f64,
    /// How long after its agreed instant the step's phase began, when one was given (shards).
    pub start_lag: Option<Duration>,
    /// The journeys merged into one record, and when those answered finished, when the step ran
    /// journeys: the units of its schedule.
    pub units: Option<(Record, Histogram<u64>)>,
}

/// What the collector gathered over a phase.
pub(crate) struct Collected {
    pub series: Vec<Vec<Second>>,
    pub occupancy: Vec<Occupancy>,
    /// CPU seconds and wall seconds per step.
    pub cpu: Vec<Option<(f64, f64)>>,
}

impl Shared {
    /// What each step of `phase` produced; `stopped` when a stop ended the phase. The lowest
    /// unsent ticket is known only where tickets are claimed in order (`ordered`).
    pub fn step_runs(&self, phase: &Phase, collected: Collected, stopped: bool, ordered: bool) -> Vec<StepRun> {
        let next = phase.slice.ticket(self.next.load(Ordering::Relaxed));
        let first_unsent = phase.first_refused().unwrap_or(u64::MAX).min(next);
        let Collected { series, occupancy, cpu } = collected;
        series
            .into_iter()
            .zip(occupancy)
            .zip(cpu)
            .enumerate()
            .map(|(i, ((series, occupancy), generator_cpu))| {
                let start = phase.starts[i];
                let stopped_at = phase.stopped_at(i);
                let last = self.recorders[i].last_done().map_or(stopped_at, |d| d.max(stopped_at));
                let started = self.counters[i].started.load(Ordering::Relaxed);
                let (unsent, unsent_wait_s) = if ordered {
                    let (n, wait) = phase.unsent(i, first_unsent);
                    (n, Some(wait))
                } else {
                    (phase.due_at_cut(i).saturating_sub(started), None)
                };
                StepRun {
                    records: self.recorders[i].totals(),
                    series,
                    elapsed_s: stopped_at.saturating_duration_since(start).as_secs_f64(),
                    occupied_s: last.saturating_duration_since(start).as_secs_f64(),
                    occupancy,
                    workers: self.workers,
                    unsent,
                    unsent_wait_s,
                    generator_cpu,
                    started: start,
                    reconnects: self.reconnects[i].load(Ordering::Relaxed),
                    stopped_early: stopped,
                    journeys: None,
                    departures: self.recorders[i].departures(),
                    share: phase.share(i),
                    start_lag: None,
                    units: None,
                }
            })
            .collect()
    }
}

/// Closes each second's interval of every step it overlaps and reads the generator's CPU,
/// until every worker is done; the gauge samples occupancy meanwhile.
pub(crate) async fn collect(
    shared: &Shared,
    phase: &Arc<Phase>,
    tick: &mut dyn FnMut(usize, &Second),
    clock: Clock,
) -> Collected {
    let (gauge, cpu_seconds) = match clock {
        Clock::Real => (Gauge::start(phase.clone(), shared.counters.clone()), cpu_seconds as fn() -> Option<f64>),
        Clock::Virtual => {
            (Gauge::start_virtual(phase.clone(), shared.counters.clone()), (|| None) as fn() -> Option<f64>)
        }
    };
    let start = phase.starts[0];
    let mut clock = tokio::time::interval_at(start, Duration::from_millis(10));
    let mut series: Vec<SeriesBuilder> = phase.steps.iter().map(SeriesBuilder::new).collect();
    let mut cpu: Vec<Option<(f64, f64)>> = vec![None; phase.steps.len()];
    let (mut second_start, mut cpu_before) = (start, cpu_seconds());
    loop {
        clock.tick().await;
        let now = Instant::now();
        let finished = shared.done_workers.load(Ordering::Acquire) >= shared.workers;
        if now.duration_since(second_start) < Duration::from_secs(1) && !finished {
            continue;
        }
        let cpu_now = cpu_seconds();
        if let (Some(a), Some(b)) = (cpu_before, cpu_now) {
            let wall = now.duration_since(second_start);
            let owner = cpu[phase.at(second_start + wall / 2)].get_or_insert((0.0, 0.0));
            owner.0 += b - a;
            owner.1 += wall.as_secs_f64();
        }
        cpu_before = cpu_now;
        for (i, step) in phase.steps.iter().enumerate() {
            if now <= phase.starts[i] {
                continue;
            }
            let t0 = second_start.saturating_duration_since(phase.starts[i]).as_secs_f64();
            let t1 = now.duration_since(phase.starts[i]).as_secs_f64().max(t0);
            let interval = shared.recorders[i].take_interval();
            let in_flight = gauge.take_second(i).unwrap_or(0.0);
            if interval.requests == 0 && t0 >= step.duration_s {
                continue;
            }
            let second = Second::from_interval(&interval, step, t0, t1, in_flight);
            tick(i, &second);
            series[i].push(step, second, &interval);
        }
        second_start = now;
        if finished {
            break;
        }
    }
    let occupancy = gauge.finish();
    let series = series.into_iter().zip(&phase.steps).map(|(b, step)| b.finish(step)).collect();
    Collected { series, occupancy, cpu }
}
