//! The request-mix engine: hyper HTTP/1.1, one keep-alive connection per worker.
//!
//! Open steps: every worker claims the next ticket k from a shared counter (no channel, no
//! lock), sleeps until its intended send time from the schedule, sends, and records latency
//! from that intended time, so a server that stalls is charged for every request it delayed
//! (coordinated omission). `max_in_flight` workers bound the requests in flight; when all are
//! busy, the next request starts late and that lag is recorded on its own. Closed steps: N
//! workers send back to back. A gauge samples requests in flight and queued at jittered moments,
//! and a collector closes each second's interval.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

pub use super::collector::StepRun;
use super::collector::{collect, Shared};
use super::http::{connect, send, Conn, Link};
pub use super::http::{Prepared, Target};
use super::recorder::{ErrorClass, Sample};
use super::results::Second;
pub use super::timeline::LATE_US;
use super::timeline::{rotation, stripes, Phase};
use crate::plan::profile::{Load, Step};

/// The connect timeout unless a plan sets one (never above the request timeout).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest response body read unless a plan sets it: 4 MiB.
pub const DEFAULT_MAX_BODY: u64 = 4 * 1024 * 1024;

/// The engine for one run.
pub struct Engine {
    pub target: Target,
    pub requests: Vec<Prepared>,
    /// Request index for each position of the weighted rotation.
    rotation: Vec<usize>,
    pub timeout: Duration,
    /// How long opening a connection (TCP, TLS and the HTTP handshake) may take.
    pub connect_timeout: Duration,
    /// Response bodies past this many bytes are not read: `body_too_large`.
    pub max_body: u64,
    /// Follow redirects to the target's own origin (never elsewhere).
    pub follow_redirects: bool,
    /// Requests per second at most, over every step and engine (`--max-rps`).
    pub max_rps: Option<f64>,
    pub max_in_flight: usize,
    /// TLS settings for an https target.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Engine {
    /// An engine for `requests` (weights become a smooth rotation).
    pub fn new(target: Target, requests: Vec<Prepared>, timeout: Duration, max_in_flight: usize) -> Self {
        let rotation = rotation(&requests.iter().map(|r| r.weight).collect::<Vec<_>>());
        Engine {
            target,
            requests,
            rotation,
            timeout,
            connect_timeout: timeout.min(DEFAULT_CONNECT_TIMEOUT),
            max_body: DEFAULT_MAX_BODY,
            follow_redirects: false,
            max_rps: None,
            max_in_flight: max_in_flight.max(1),
            tls: None,
        }
    }

    /// Checks that the target accepts a TCP connection.
    pub async fn probe(&self) -> std::io::Result<()> {
        let addr = (self.target.host.as_str(), self.target.port);
        tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))?
            .map(|_| ())
    }

    /// Checks that a TLS handshake with an https target succeeds; `None` when it does or the
    /// target is plain HTTP.
    pub async fn probe_tls(&self) -> Option<String> {
        if !self.target.tls {
            return None;
        }
        match tokio::time::timeout(self.timeout, super::http::open(self)).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some("the TLS handshake timed out".into()),
        }
    }

    /// Runs consecutive open steps on one timeline, or a single closed step, until the end or
    /// until `stop` turns true; `tick` sees each second of each step.
    pub async fn run_phase(
        self: &Arc<Self>,
        steps: &[Step],
        stop: watch::Receiver<bool>,
        tick: &mut dyn FnMut(usize, &Second),
    ) -> Vec<StepRun> {
        let total: u64 = steps.iter().map(|s| s.load.count(s.duration_s)).sum();
        let workers = match steps[0].load {
            Load::Open { .. } => self.max_in_flight.min(total.max(1) as usize),
            Load::Closed { users } => users.min(self.max_in_flight),
        };
        // Connections open before the clock starts, as a load tool's connections do, so that no
        // request's latency includes a handshake the next thousand will not pay.
        let opening: Vec<_> = (0..workers)
            .map(|_| {
                let engine = self.clone();
                tokio::spawn(async move { connect(&engine).await.ok() })
            })
            .collect();
        let mut conns = Vec::with_capacity(workers);
        let aborts: Vec<_> = opening.iter().map(|h| h.abort_handle()).collect();
        let mut halt = stop.clone();
        for h in opening {
            tokio::select! {
                biased;
                // A stop while connections open ends the phase before its clock starts.
                _ = crate::signals::stopped(&mut halt) => {
                    aborts.iter().for_each(|a| a.abort());
                    return Vec::new();
                }
                c = h => conns.push(c.ok().flatten()),
            }
        }
        let phase = Arc::new(Phase::new(steps, Instant::now() + Duration::from_millis(5)));
        let shared = Arc::new(Shared::new(steps, workers, stripes(workers), self.requests.len(), self.max_rps));
        let handles: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(w, conn)| {
                let (engine, shared, phase, stop) = (self.clone(), shared.clone(), phase.clone(), stop.clone());
                tokio::spawn(async move {
                    worker(&engine, &shared, w, conn, &phase, stop).await;
                    shared.done_workers.fetch_add(1, Ordering::Release);
                })
            })
            .collect();
        let collected = collect(&shared, &phase, tick).await;
        for h in handles {
            let _ = h.await;
        }
        shared.step_runs(&phase, collected, *stop.borrow(), true)
    }
}

async fn worker(
    engine: &Engine,
    shared: &Shared,
    w: usize,
    conn: Option<Conn>,
    phase: &Phase,
    mut stop: watch::Receiver<bool>,
) {
    let closed = matches!(phase.steps[0].load, Load::Closed { .. });
    let mut link = Link::new(conn);
    let mut own = w as u64;
    let deadline = phase.hard_end(engine.timeout);
    let mut backoff = Backoff::default();
    loop {
        if *stop.borrow() {
            phase.close(Instant::now());
            break;
        }
        let k = if closed {
            own += 1;
            own
        } else {
            shared.next.fetch_add(1, Ordering::Relaxed)
        };
        let claimed = Instant::now();
        let Some((step, mut intended)) = phase.turn(k, &mut stop).await else { break };
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
        let request = engine.rotation[(k % engine.rotation.len() as u64) as usize];
        let counters = &shared.counters[step];
        let sent = Instant::now();
        counters.started.fetch_add(1, Ordering::Relaxed);
        let exchanged = send(engine, &mut link, request, &shared.reconnects[step], deadline).await;
        let outcome = exchanged.outcome;
        let done = Instant::now();
        counters.finished.fetch_add(1, Ordering::Relaxed);
        let lag_us = sent.saturating_duration_since(intended).as_micros() as u64;
        let sojourn_us = done.saturating_duration_since(intended).as_micros() as u64;
        let measured = !matches!(outcome, Err(ErrorClass::Connect));
        let sample = Sample {
            request,
            latency_us: measured.then_some(sojourn_us),
            service_us: measured.then(|| done.saturating_duration_since(sent).as_micros() as u64),
            lag_us,
            late: lag_us > LATE_US,
            // Already due when this worker's turn came: no worker was free at its time.
            at_limit: intended < claimed,
            sojourn_us,
            bytes: exchanged.bytes,
            done_us: done.saturating_duration_since(phase.starts[step]).as_micros() as u64,
            error: outcome.err(),
        };
        shared.recorders[step].record(w, sample, done);
        if closed {
            // A closed loop against a target that refuses or drops every connection would
            // otherwise open connections as fast as the machine can.
            if let Some(pause) = backoff.after(outcome) {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => {}
                }
            }
        }
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
