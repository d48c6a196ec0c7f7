//! What a phase measures besides its requests: how many of each step's requests are in flight
//! and how many are due but not yet sent (queued behind the in-flight limit), and the
//! generator's own CPU (crate::process::cpu_seconds).
//!
//! The occupancy is sampled from a thread of its own at jittered moments (1 to 3 ms apart,
//! drawn to the microsecond). The pacer's alarms fire on a grid (50 µs on Linux, tokio's 1 ms
//! ticks elsewhere) and send a grid point's arrivals at once: a sampler on the same grid sees
//! every burst just after it leaves and overstates the mean in flight at low latency. Moments
//! drawn independently of the grid make the sample mean an unbiased estimate of the time average.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::timeline::Phase;

/// Samples per batch for the standard error: about 0.2 s, longer than most requests take, so
/// that batch means are close to independent.
const BATCH: u64 = 100;

/// One step's counters, updated by the workers: units of the schedule (requests, or journeys)
/// started and finished. On a line of their own, apart from the other steps'.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct Counters {
    pub started: AtomicU64,
    pub finished: AtomicU64,
}

impl Counters {
    /// Started and not finished.
    pub fn in_flight(&self) -> u64 {
        // Read finished first: a unit that finishes between the two reads is then counted once.
        let finished = self.finished.load(Ordering::Relaxed);
        self.started.load(Ordering::Relaxed).saturating_sub(finished)
    }
}

/// A running sum of occupancy samples.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    n: u64,
    in_flight: f64,
    in_system: f64,
}

impl Sums {
    fn add(&mut self, in_flight: f64, in_system: f64) {
        self.n += 1;
        self.in_flight += in_flight;
        self.in_system += in_system;
    }
}

/// Welford's running mean and variance.
#[derive(Debug, Clone, Copy, Default)]
struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }
}

#[derive(Debug, Default)]
struct StepGauge {
    total: Sums,
    second: Sums,
    batch: Sums,
    batches: Welford,
}

/// What the gauge saw of one step while it was active (from its start until its last unit
/// left the system).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Occupancy {
    pub samples: u64,
    /// Mean units in flight (sent, not finished).
    pub in_flight: f64,
    /// Mean units in the system: in flight plus due but not yet sent.
    pub in_system: f64,
    /// Standard error of `in_system`, from the means of batches of samples; `None` with fewer
    /// than five batches.
    pub in_system_se: Option<f64>,
}

/// The occupancy sampler of one phase; it stops when dropped.
pub(crate) struct Gauge {
    steps: Arc<Mutex<Vec<StepGauge>>>,
    done: Arc<AtomicBool>,
}

impl Gauge {
    /// Starts sampling `counters` (one per step of `phase`) on a thread of its own, on real time.
    pub fn start(phase: Arc<Phase>, counters: Arc<Vec<Counters>>) -> Gauge {
        let (gauge, mut sampler) = Gauge::new(phase, counters, clock_seed());
        let spawned = std::thread::Builder::new().name("headroom-gauge".into()).spawn(move || {
            while let Some(pause) = sampler.pause() {
                std::thread::sleep(pause);
                sampler.sample();
            }
        });
        // Without the thread the occupancy is simply not measured; the run itself goes on.
        if spawned.is_err() {
            gauge.done.store(true, Ordering::Relaxed);
        }
        gauge
    }

    /// Starts sampling as a task on tokio's clock, from a fixed seed: on a paused clock the
    /// samples fall at the same moments every run.
    pub fn start_virtual(phase: Arc<Phase>, counters: Arc<Vec<Counters>>) -> Gauge {
        let (gauge, mut sampler) = Gauge::new(phase, counters, 0x9e37_79b9_7f4a_7c15);
        tokio::spawn(async move {
            while let Some(pause) = sampler.pause() {
                tokio::time::sleep(pause).await;
                sampler.sample();
            }
        });
        gauge
    }

    fn new(phase: Arc<Phase>, counters: Arc<Vec<Counters>>, seed: u64) -> (Gauge, Sampler) {
        let steps = Arc::new(Mutex::new((0..phase.steps.len()).map(|_| StepGauge::default()).collect()));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = Sampler { phase, counters, steps: steps.clone(), done: done.clone(), seed: seed | 1 };
        (Gauge { steps, done }, sampler)
    }

    /// The mean in flight of step `i` since the last call (the second the collector closes);
    /// `None` when no sample fell in it.
    pub fn take_second(&self, i: usize) -> Option<f64> {
        let mut steps = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        let s = std::mem::take(&mut steps[i].second);
        (s.n > 0).then(|| s.in_flight / s.n as f64)
    }

    /// Stops sampling and sums each step up.
    pub fn finish(&self) -> Vec<Occupancy> {
        self.done.store(true, Ordering::Relaxed);
        let steps = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        steps
            .iter()
            .map(|g| {
                let n = g.total.n.max(1) as f64;
                let b = g.batches;
                Occupancy {
                    samples: g.total.n,
                    in_flight: g.total.in_flight / n,
                    in_system: g.total.in_system / n,
                    in_system_se: (b.n >= 5).then(|| (b.m2 / (b.n - 1) as f64 / b.n as f64).sqrt()),
                }
            })
            .collect()
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
}

/// The sampling side of a gauge: it waits a jittered pause, then samples every step.
struct Sampler {
    phase: Arc<Phase>,
    counters: Arc<Vec<Counters>>,
    steps: Arc<Mutex<Vec<StepGauge>>>,
    done: Arc<AtomicBool>,
    seed: u64,
}

impl Sampler {
    /// The pause before the next sample, 1,000 to 3,000 µs (to the phase's start, before it);
    /// `None` once the gauge is done.
    fn pause(&mut self) -> Option<Duration> {
        if self.done.load(Ordering::Relaxed) {
            return None;
        }
        // xorshift64.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let pause = Duration::from_micros(1_000 + self.seed % 2_000);
        let now = Instant::now();
        let first = self.phase.starts[0];
        Some(if now < first { (first - now).min(pause) } else { pause })
    }

    /// Adds one sample of every step that is active now.
    fn sample(&self) {
        let (phase, now) = (&self.phase, Instant::now());
        if now < phase.starts[0] {
            return;
        }
        let cut = phase.cut_happened();
        let mut gauges = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        if self.done.load(Ordering::Relaxed) {
            return;
        }
        for (i, (c, g)) in self.counters.iter().zip(gauges.iter_mut()).enumerate() {
            if now < phase.starts[i] {
                continue;
            }
            let in_flight = c.in_flight();
            // Once the phase is cut, whatever was not sent never will be: it left the system.
            let queued = if cut { 0 } else { phase.due(i, now).saturating_sub(c.started.load(Ordering::Relaxed)) };
            let in_system = in_flight + queued;
            // A step is active from its start until its last unit has left.
            if now >= phase.ends[i] && in_system == 0 {
                continue;
            }
            let (f, s) = (in_flight as f64, in_system as f64);
            g.total.add(f, s);
            g.second.add(f, s);
            g.batch.add(f, s);
            if g.batch.n >= BATCH {
                g.batches.add(g.batch.in_system / g.batch.n as f64);
                g.batch = Sums::default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::profile::{Load, Role, Step};

    #[test]
    fn tickets_are_due_from_their_intended_time() {
        let step = Step { name: "s".into(), load: Load::ramp(100.0, 100.0), duration_s: 1.0, role: Role::Measure };
        let start = Instant::now();
        let phase = Phase::new(&[step], start, Default::default());
        assert_eq!(phase.due(0, start), 1);
        assert_eq!(phase.due(0, start + Duration::from_micros(9_999)), 1);
        assert_eq!(phase.due(0, start + Duration::from_millis(10)), 2);
        assert_eq!(phase.due(0, start + Duration::from_secs(5)), 100);
    }

    #[test]
    fn batch_means_give_a_standard_error() {
        let mut w = Welford::default();
        for x in [1.0, 2.0, 3.0, 4.0, 5.0] {
            w.add(x);
        }
        assert!((w.mean - 3.0).abs() < 1e-12);
        assert!((w.m2 / 4.0 - 2.5).abs() < 1e-12);
    }
}
