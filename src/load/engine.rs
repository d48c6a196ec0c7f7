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
use super::profile::{Load, Step};
use super::recorder::{ErrorClass, Sample};
use super::results::Second;
pub use super::timeline::LATE_US;
use super::timeline::{rotation, stripes, Phase};

/// The engine for one run.
pub struct Engine {
    pub target: Target,
    pub requests: Vec<Prepared>,
    /// Request index for each position of the weighted rotation.
    rotation: Vec<usize>,
    pub timeout: Duration,
    pub max_in_flight: usize,
    /// TLS settings for an https target.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Engine {
    /// An engine for `requests` (weights become a smooth rotation).
    pub fn new(target: Target, requests: Vec<Prepared>, timeout: Duration, max_in_flight: usize) -> Self {
        let rotation = rotation(&requests.iter().map(|r| r.weight).collect::<Vec<_>>());
        Engine { target, requests, rotation, timeout, max_in_flight: max_in_flight.max(1), tls: None }
    }

    /// Checks that the target accepts a TCP connection.
    pub async fn probe(&self) -> std::io::Result<()> {
        let addr = (self.target.host.as_str(), self.target.port);
        tokio::time::timeout(self.timeout, TcpStream::connect(addr))
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
        for h in opening {
            conns.push(h.await.ok().flatten());
        }
        let phase = Arc::new(Phase::new(steps, Instant::now() + Duration::from_millis(5)));
        let shared = Arc::new(Shared::new(steps, workers, stripes(workers), self.requests.len()));
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
        let (busy, claimed) = (shared.busy(), Instant::now());
        let Some((step, intended)) = phase.turn(k, &mut stop).await else { break };
        let request = engine.rotation[(k % engine.rotation.len() as u64) as usize];
        let counters = &shared.counters[step];
        let sent = Instant::now();
        counters.started.fetch_add(1, Ordering::Relaxed);
        let outcome = send(engine, &mut link, request, &shared.reconnects[step]).await;
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
            at_limit: shared.at_limit(busy, claimed, intended),
            sojourn_us,
            error: outcome.err(),
        };
        shared.recorders[step].record(w, sample, done);
        if closed && !measured {
            // A closed loop against a refusing target would otherwise spin on connect.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
