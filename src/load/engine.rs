//! The seam every engine shares, and the pacing core of the request-level ones.
//!
//! [`Engine`] is what the runner drives: a probe, then phases of steps. Three engines implement
//! it: the request mix on headroom's HTTP/1.1 client or hyper's HTTP/2 ([`super::mix::RequestMix`]), journeys on goose
//! ([`super::journey::driver::JourneyEngine`]) and a scripted service on tokio's clock
//! ([`super::scripted::VirtualEngine`]).
//!
//! The request mix and the virtual engine share [`run_phase`]: in an open step every worker
//! claims the next ticket k from a shared counter (no channel, no lock), sleeps until its
//! intended send time from the schedule, sends, and records latency from that intended time, so
//! a server that stalls is charged for every request it delayed (coordinated omission).
//! `max_in_flight` workers bound the requests in flight; when all are busy, the next request
//! starts late and that lag is recorded on its own. Closed steps: N workers send back to back.
//! A gauge samples requests in flight and queued at jittered moments, and a collector closes
//! each second's interval. What differs between them is the [`Wire`]: how one request is sent.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

pub use super::collector::StepRun;
use super::collector::{collect, Clock, Shared};
use super::recorder::{ErrorClass, Exchanged, Sample};
pub use super::timeline::Slice;
pub use super::timeline::LATE_US;
use super::timeline::{rotation, stripes, Phase};
use crate::artefact::results::Second;
use crate::clock::Alarm;
use crate::plan::profile::Step;

/// A future an engine returns, borrowed from it.
pub type Running<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Why the target could not be used before the first step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// No TCP connection: refused, timed out, no route.
    Connect(String),
    /// TCP connected but TLS failed.
    Tls(String),
}

/// A way of putting load on the target, as the runner drives it.
pub trait Engine {
    /// Checks that the target can be reached (and speaks TLS when it should) before any step.
    fn probe(&self) -> Running<'_, Result<(), Unreachable>>;

    /// Runs consecutive open steps on one timeline, or a single closed step, until the end or
    /// until `stop` turns true; `tick` sees each second of each step. The clock starts at
    /// `start` when given and not yet past (a shard's agreed instant), else as soon as the
    /// connections are open. An error is a run that could not go on (journeys whose engine failed).
    fn run_phase<'a>(
        &'a self,
        steps: &'a [Step],
        start: Option<Instant>,
        stop: watch::Receiver<bool>,
        tick: &'a mut dyn FnMut(usize, &Second),
    ) -> Running<'a, Result<Vec<StepRun>, String>>;

    /// The HTTP its connections spoke so far (`HTTP/1.1`, `HTTP/2`), when it opened any.
    fn protocol(&self) -> Option<String> {
        None
    }

    /// What a step's schedule counts, after a rate: `""` for requests, `" journeys/s"`.
    fn unit(&self) -> &'static str {
        ""
    }
}

/// How one worker sends one request: the only part of the request-level engines that differs.
pub trait Wire: Send + Sync + 'static {
    /// A worker's connection, or whatever stands for it.
    type Link: Send + 'static;

    /// Opens a worker's link before the clock starts (connections are not part of any request's
    /// latency).
    fn open(&self) -> impl Future<Output = Self::Link> + Send;

    /// Sends request `index` on `link`, giving up at the request timeout or at `deadline`;
    /// `reconnects` counts links opened again.
    fn send(
        &self,
        link: &mut Self::Link,
        index: usize,
        reconnects: &AtomicU64,
        deadline: Instant,
    ) -> impl Future<Output = Exchanged> + Send;
}

/// What the pacing core needs besides the wire: the request rotation and the run's bounds.
#[derive(Debug, Clone)]
pub struct Pacing {
    /// Request index for each position of the weighted rotation.
    pub rotation: Vec<usize>,
    pub timeout: Duration,
    /// Requests per second at most, over every step and engine (`--max-rps`).
    pub max_rps: Option<f64>,
    pub max_in_flight: usize,
    /// Real time (a thread samples occupancy, /proc gives the CPU), or tokio's clock alone.
    pub clock: Clock,
    /// The tickets of the schedule this generator sends (all of them unless it is a shard).
    pub slice: Slice,
}

impl Pacing {
    /// Pacing for requests of these `weights` (a smooth rotation), on real time.
    pub fn new(weights: &[u32], timeout: Duration, max_in_flight: usize) -> Pacing {
        Pacing {
            rotation: rotation(weights),
            timeout,
            max_rps: None,
            max_in_flight: max_in_flight.max(1),
            clock: Clock::Real,
            slice: Slice::default(),
        }
    }
}

/// Runs `steps` as one phase on `wire`, from `start` when given; see the module's notes.
pub async fn run_phase<W: Wire>(
    wire: &Arc<W>,
    pacing: &Arc<Pacing>,
    steps: &[Step],
    start: Option<Instant>,
    stop: watch::Receiver<bool>,
    tick: &mut dyn FnMut(usize, &Second),
) -> Vec<StepRun> {
    let total: u64 = steps.iter().map(|s| s.load.count(s.duration_s)).sum();
    let workers = steps[0].load.workers(pacing.max_in_flight, pacing.slice.below(total));
    let Some(links) = open_links(wire, workers, stop.clone()).await else { return Vec::new() };
    let (at, start_lag) = start_at(start, pacing.clock, stop.clone()).await;
    let phase = Arc::new(Phase::new(steps, at, pacing.slice));
    let names = pacing.rotation.iter().max().map_or(1, |m| m + 1);
    let shared = Arc::new(Shared::new(steps, workers, stripes(workers), names, pacing.max_rps));
    let handles: Vec<_> = links
        .into_iter()
        .enumerate()
        .map(|(w, link)| {
            let (wire, pacing, shared, phase, stop) =
                (wire.clone(), pacing.clone(), shared.clone(), phase.clone(), stop.clone());
            tokio::spawn(async move {
                worker(&*wire, &pacing, &shared, w, link, &phase, stop).await;
                shared.done_workers.fetch_add(1, Ordering::Release);
            })
        })
        .collect();
    let collected = collect(&shared, &phase, tick, pacing.clock).await;
    for h in handles {
        let _ = h.await;
    }
    let mut runs = shared.step_runs(&phase, collected, *stop.borrow(), true);
    if let Some(first) = runs.first_mut() {
        first.start_lag = start_lag;
    }
    runs
}

/// When a phase's clock starts: at `start` when it is given and still ahead (waiting for it
/// here, so that how late the wait ended is measured), else 5 ms from now. The lateness is
/// `Some` only for a given start: how long after it the phase began.
pub(crate) async fn start_at(
    start: Option<Instant>,
    clock: Clock,
    mut stop: watch::Receiver<bool>,
) -> (Instant, Option<Duration>) {
    let Some(at) = start else { return (Instant::now() + Duration::from_millis(5), None) };
    if at > Instant::now() {
        let mut alarm = Alarm::new(clock);
        tokio::select! {
            _ = alarm.until(at) => {}
            // Stopped before it began: nothing starts, and no lateness is measured.
            _ = crate::signals::stopped(&mut stop) => return (Instant::now(), None),
        }
    }
    let now = Instant::now();
    (at.max(now), Some(now.saturating_duration_since(at)))
}

/// Opens every worker's link before the clock starts, as a load tool's connections do, so that
/// no request's latency includes a handshake the next thousand will not pay. `None` when a stop
/// came first.
async fn open_links<W: Wire>(wire: &Arc<W>, workers: usize, mut stop: watch::Receiver<bool>) -> Option<Vec<W::Link>> {
    let opening: Vec<_> = (0..workers)
        .map(|_| {
            let wire = wire.clone();
            tokio::spawn(async move { wire.open().await })
        })
        .collect();
    let aborts: Vec<_> = opening.iter().map(|h| h.abort_handle()).collect();
    let mut links = Vec::with_capacity(workers);
    for h in opening {
        tokio::select! {
            biased;
            _ = crate::signals::stopped(&mut stop) => {
                aborts.iter().for_each(|a| a.abort());
                return None;
            }
            link = h => match link {
                Ok(link) => links.push(link),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => return None,
            },
        }
    }
    Some(links)
}

async fn worker<W: Wire>(
    wire: &W,
    pacing: &Pacing,
    shared: &Shared,
    w: usize,
    mut link: W::Link,
    phase: &Phase,
    mut stop: watch::Receiver<bool>,
) {
    let closed = phase.steps[0].load.is_closed();
    let mut own = w as u64;
    let deadline = phase.hard_end(pacing.timeout);
    let mut backoff = Backoff::default();
    let mut alarm = Alarm::new(pacing.clock);
    loop {
        if *stop.borrow() {
            phase.close(Instant::now());
            break;
        }
        let k = if closed {
            own += 1;
            own
        } else {
            pacing.slice.ticket(shared.next.fetch_add(1, Ordering::Relaxed))
        };
        let claimed = Instant::now();
        let Some((step, mut intended)) = phase.turn(k, &mut alarm, &mut stop).await else { break };
        if let Some(limit) = &shared.limiter {
            if !limit.acquire(&mut stop).await {
                phase.close(Instant::now());
                break;
            }
            // In a closed step the cap is the pace: a request is due when its slot comes.
            if closed {
                intended = Instant::now();
            }
        }
        let request = pacing.rotation[(k % pacing.rotation.len() as u64) as usize];
        let counters = &shared.counters[step];
        let sent = Instant::now();
        counters.started.fetch_add(1, Ordering::Relaxed);
        let exchanged = wire.send(&mut link, request, &shared.reconnects[step], deadline).await;
        let done = Instant::now();
        counters.finished.fetch_add(1, Ordering::Relaxed);
        let sample = sample(request, exchanged, (claimed, intended, sent, done), phase.starts[step]);
        shared.recorders[step].record(w, sample, done);
        if closed {
            // A closed loop against a target that refuses or drops every connection would
            // otherwise open connections as fast as the machine can.
            if let Some(pause) = backoff.after(exchanged.outcome) {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

/// One request's sample from its moments: when its ticket was claimed, when it was due, sent
/// and done, and when its step started.
fn sample(
    request: usize,
    exchanged: Exchanged,
    moments: (Instant, Instant, Instant, Instant),
    start: Instant,
) -> Sample {
    let (claimed, intended, sent, done) = moments;
    let us = |a: Instant, b: Instant| b.saturating_duration_since(a).as_micros() as u64;
    let (lag_us, sojourn_us) = (us(intended, sent), us(intended, done));
    let measured = !matches!(exchanged.outcome, Err(ErrorClass::Connect));
    Sample {
        request,
        latency_us: measured.then_some(sojourn_us),
        service_us: measured.then(|| us(sent, done)),
        lag_us,
        late: lag_us > LATE_US,
        // Already due when this worker's turn came: no worker was free at its time.
        at_limit: intended < claimed,
        sojourn_us,
        bytes: exchanged.bytes,
        done_us: us(start, done),
        error: exchanged.outcome.err(),
    }
}

/// A closed worker's pause after a failed connection: 10 ms, doubling to at most 1 s, and none
/// once a request is answered again.
#[derive(Debug, Default)]
pub(crate) struct Backoff(Option<Duration>);

impl Backoff {
    /// The pause after `outcome`, if any.
    pub fn after(&mut self, outcome: Result<(), ErrorClass>) -> Option<Duration> {
        match outcome {
            Err(ErrorClass::Connect | ErrorClass::Io | ErrorClass::Protocol) => {
                let next = self.0.map_or(Duration::from_millis(10), |d| (d * 2).min(Duration::from_secs(1)));
                self.0 = Some(next);
                Some(next)
            }
            _ => {
                self.0 = None;
                None
            }
        }
    }
}
