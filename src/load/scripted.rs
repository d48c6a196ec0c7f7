//! The virtual engine: the request-level pacing core of every real run, against a scripted
//! service instead of a socket. With tokio's clock paused, a run of minutes takes milliseconds
//! and gives the same results every time, so the schedule, recording and analysis of every
//! profile can be tested exactly (as hyperfine's tests run a mock executor).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

use super::collector::Clock;
use super::engine::{self, Engine, Pacing, Running, StepRun, Unreachable, Wire};
use super::recorder::{ErrorClass, Exchanged};
use crate::artefact::results::Second;
use crate::plan::profile::Step;

/// One request as the scripted service sees it when it starts serving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// Requests the service started before this one.
    pub n: u64,
    /// Time since the engine was made.
    pub at: Duration,
    /// Which request of the mix.
    pub request: usize,
}

/// What the service does with a request: how long it takes, and how it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    pub service: Duration,
    pub outcome: Result<(), ErrorClass>,
}

impl Served {
    /// An answer after `service`.
    pub fn ok(service: Duration) -> Served {
        Served { service, outcome: Ok(()) }
    }
}

/// A scripted service: `servers` requests served at once (the rest wait for one, as at a real
/// server's workers), each as `serve` says.
pub struct Script {
    pub servers: usize,
    pub serve: Box<dyn Fn(Call) -> Served + Send + Sync>,
}

impl Script {
    /// `servers` workers that each take `service` per request and always answer: a capacity of
    /// servers / service requests per second.
    pub fn constant(servers: usize, service: Duration) -> Script {
        Script { servers, serve: Box::new(move |_| Served::ok(service)) }
    }
}

/// The service side of the virtual engine.
struct Service {
    script: Script,
    workers: Semaphore,
    started: AtomicU64,
    epoch: Instant,
    timeout: Duration,
}

impl Wire for Service {
    type Link = ();

    async fn open(&self) {}

    async fn send(&self, _: &mut (), request: usize, _: &AtomicU64, deadline: Instant) -> Exchanged {
        let limit = self.timeout.min(deadline.saturating_duration_since(Instant::now()));
        let served = async {
            let _worker = self.workers.acquire().await.expect("the semaphore is never closed");
            let n = self.started.fetch_add(1, Ordering::Relaxed);
            let s = (self.script.serve)(Call { n, at: self.epoch.elapsed(), request });
            tokio::time::sleep(s.service).await;
            s.outcome
        };
        let outcome = tokio::time::timeout(limit, served).await.unwrap_or(Err(ErrorClass::Timeout));
        Exchanged { outcome, bytes: 0 }
    }
}

/// The request-level engine on a scripted service and tokio's clock.
pub struct VirtualEngine {
    service: Arc<Service>,
    pacing: Arc<Pacing>,
}

impl VirtualEngine {
    /// An engine that paces as `pacing` says and is served as `script` says.
    pub fn new(script: Script, pacing: Pacing) -> VirtualEngine {
        let service = Service {
            workers: Semaphore::new(script.servers.max(1)),
            script,
            started: AtomicU64::new(0),
            epoch: Instant::now(),
            timeout: pacing.timeout,
        };
        VirtualEngine { service: Arc::new(service), pacing: Arc::new(Pacing { clock: Clock::Virtual, ..pacing }) }
    }
}

impl Engine for VirtualEngine {
    fn probe(&self) -> Running<'_, Result<(), Unreachable>> {
        Box::pin(async { Ok(()) })
    }

    fn run_phase<'a>(
        &'a self,
        steps: &'a [Step],
        start: Option<Instant>,
        stop: watch::Receiver<bool>,
        tick: &'a mut dyn FnMut(usize, &Second),
    ) -> Running<'a, Result<Vec<StepRun>, String>> {
        Box::pin(async move { Ok(engine::run_phase(&self.service, &self.pacing, steps, start, stop, tick).await) })
    }
}
