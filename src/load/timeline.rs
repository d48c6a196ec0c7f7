//! The timeline both engines share: consecutive steps on one clock with a ticket per scheduled
//! arrival, the counters workers update, and the collector that closes each second.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::journey::summary::JourneysResult;
use super::profile::{Load, Step};
use super::recorder::{Record, Recorder};
use super::results::Second;
use super::series::SeriesBuilder;

/// Requests that start this long after their intended time count as late starts (tokio's timer
/// has 1 ms granularity, so up to about 1 ms of lag is the pacer, not a busy generator).
pub const LATE_US: u64 = 2_000;

/// Consecutive steps on one timeline: a step's arrivals start on schedule even while the
/// previous step's backlog drains, and each request belongs to the step of its intended time.
pub(crate) struct Phase {
    pub steps: Vec<Step>,
    pub starts: Vec<Instant>,
    pub ends: Vec<Instant>,
    /// Index of each step's first ticket; the last entry is the total.
    first: Vec<u64>,
}

impl Phase {
    pub fn new(steps: &[Step], start: Instant) -> Phase {
        let (mut starts, mut ends, mut first) = (Vec::new(), Vec::new(), vec![0u64]);
        let mut at = start;
        for s in steps {
            starts.push(at);
            at += Duration::from_secs_f64(s.duration_s);
            ends.push(at);
            first.push(first.last().copied().unwrap_or(0) + s.load.count(s.duration_s));
        }
        Phase { steps: steps.to_vec(), starts, ends, first }
    }

    pub fn total(&self) -> u64 {
        *self.first.last().unwrap_or(&0)
    }

    /// The step of ticket `k` and its intended send time.
    pub fn locate(&self, k: u64) -> (usize, Instant) {
        let i = self.first.partition_point(|&f| f <= k) - 1;
        let s = &self.steps[i];
        (i, self.starts[i] + Duration::from_secs_f64(s.load.offset_s(k - self.first[i], s.duration_s)))
    }

    /// Waits for a worker's next turn: in an open phase, ticket `k`'s intended time (every
    /// arrival due is served, however late, but none after the phase's end plus one `timeout`,
    /// so that a stalled target cannot keep the run going without bound); in a closed phase,
    /// now, from the phase's start to its end. `None` when the phase is over or `stop` turned.
    pub async fn turn(&self, k: u64, timeout: Duration, stop: &mut watch::Receiver<bool>) -> Option<(usize, Instant)> {
        let last_end = *self.ends.last().expect("a phase has steps");
        if let Load::Closed { .. } = self.steps[0].load {
            if Instant::now() < self.starts[0] {
                tokio::time::sleep_until(self.starts[0]).await;
            }
            return (Instant::now() < last_end && !*stop.borrow()).then(|| (0, Instant::now()));
        }
        if k >= self.total() || Instant::now() > last_end + timeout {
            return None;
        }
        let (step, at) = self.locate(k);
        if at > Instant::now() {
            tokio::select! {
                _ = tokio::time::sleep_until(at) => {}
                _ = stop.changed() => return None,
            }
        }
        Some((step, at))
    }

    /// The step whose scheduled window holds `t` (the last one after the end).
    pub fn at(&self, t: Instant) -> usize {
        self.ends.iter().position(|e| t < *e).unwrap_or(self.steps.len() - 1)
    }
}

/// What the workers of one phase update and the collector reads.
pub(crate) struct Shared {
    /// One recorder per step.
    pub recorders: Vec<Recorder>,
    /// The next ticket of the schedule.
    pub next: AtomicU64,
    pub in_flight: AtomicUsize,
    pub reconnects: Vec<AtomicU64>,
    pub done_workers: AtomicUsize,
}

impl Shared {
    /// Counters for `steps`, each step recording `names` names over `stripes` shards.
    pub fn new(steps: &[Step], stripes: usize, names: usize) -> Shared {
        Shared {
            recorders: steps.iter().map(|_| Recorder::new(stripes, names)).collect(),
            next: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            reconnects: steps.iter().map(|_| AtomicU64::new(0)).collect(),
            done_workers: AtomicUsize::new(0),
        }
    }
}

/// What a step produced.
pub struct StepRun {
    pub records: Vec<Record>,
    pub series: Vec<Second>,
    pub elapsed_s: f64,
    pub mean_in_flight: f64,
    pub reconnects: u64,
    pub stopped_early: bool,
    /// What the journeys did, when the step ran journeys.
    pub journeys: Option<JourneysResult>,
}

impl Shared {
    /// What each step of `phase` produced, from the collector's series and mean in-flight
    /// gauges; `stopped` when a stop ended the phase.
    pub fn step_runs(
        &self,
        phase: &Phase,
        series: Vec<Vec<Second>>,
        in_flight: Vec<f64>,
        stopped: bool,
    ) -> Vec<StepRun> {
        let now = Instant::now();
        series
            .into_iter()
            .zip(in_flight)
            .enumerate()
            .map(|(i, (series, mean_in_flight))| StepRun {
                records: self.recorders[i].totals(),
                series,
                elapsed_s: now.saturating_duration_since(phase.starts[i]).as_secs_f64().min(phase.steps[i].duration_s),
                mean_in_flight,
                reconnects: self.reconnects[i].load(Ordering::Relaxed),
                stopped_early: stopped,
                journeys: None,
            })
            .collect()
    }
}

/// Shards for `workers` workers: a few per core, so that a lock is shared by a handful at most.
pub(crate) fn stripes(workers: usize) -> usize {
    (2 * std::thread::available_parallelism().map_or(2, |n| n.get())).min(workers).max(1)
}

/// Smooth weighted round robin (nginx's): each slot goes to the index furthest behind its
/// share, so a weight-1 item sits between the others instead of after them.
pub(crate) fn rotation(weights: &[u32]) -> Vec<usize> {
    let total: u32 = weights.iter().map(|w| (*w).max(1)).sum();
    let mut credit = vec![0i64; weights.len()];
    (0..total)
        .map(|_| {
            for (c, w) in credit.iter_mut().zip(weights) {
                *c += (*w).max(1) as i64;
            }
            let best = (0..credit.len()).max_by_key(|&i| (credit[i], std::cmp::Reverse(i))).unwrap_or(0);
            credit[best] -= total as i64;
            best
        })
        .collect()
}

/// Samples requests in flight every 10 ms (for the step whose window holds the moment) and
/// closes each second's interval of every step it overlaps, until every worker is done.
pub(crate) async fn collect(
    shared: &Shared,
    phase: &Phase,
    workers: usize,
    tick: &mut dyn FnMut(usize, &Second),
) -> (Vec<Vec<Second>>, Vec<f64>) {
    let n = phase.steps.len();
    let start = phase.starts[0];
    let mut clock = tokio::time::interval_at(start, Duration::from_millis(10));
    let mut sums = vec![(0u64, 0u64); n];
    let (mut sec_sum, mut sec_samples) = (0u64, 0u64);
    let mut series: Vec<SeriesBuilder> = phase.steps.iter().map(SeriesBuilder::new).collect();
    let mut second_start = start;
    loop {
        clock.tick().await;
        let now = Instant::now();
        let gauge = shared.in_flight.load(Ordering::Relaxed) as u64;
        let finished = shared.done_workers.load(Ordering::Acquire) >= workers;
        if now < *phase.ends.last().expect("a phase has steps") {
            let i = phase.at(now);
            sums[i].0 += gauge;
            sums[i].1 += 1;
        }
        sec_sum += gauge;
        sec_samples += 1;
        if now.duration_since(second_start) >= Duration::from_secs(1) || finished {
            let in_flight = sec_sum as f64 / sec_samples.max(1) as f64;
            for (i, step) in phase.steps.iter().enumerate() {
                if now <= phase.starts[i] {
                    continue;
                }
                let t0 = second_start.saturating_duration_since(phase.starts[i]).as_secs_f64();
                let t1 = now.duration_since(phase.starts[i]).as_secs_f64();
                let interval = shared.recorders[i].take_interval();
                if interval.requests == 0 && t0 >= step.duration_s {
                    continue;
                }
                let t1 = t1.max(t0);
                let second = Second::from_interval(&interval, step, t0, t1, in_flight);
                tick(i, &second);
                series[i].push(step, second, &interval);
            }
            second_start = now;
            sec_sum = 0;
            sec_samples = 0;
        }
        if finished {
            break;
        }
    }
    let series = series.into_iter().zip(&phase.steps).map(|(b, step)| b.finish(step)).collect();
    (series, sums.iter().map(|(s, c)| *s as f64 / (*c).max(1) as f64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_rotate_smoothly() {
        // b sits between the a's, never after three of them.
        assert_eq!(rotation(&[3, 1]), [0, 0, 1, 0]);
        assert_eq!(rotation(&[1]), [0]);
    }
}
