//! The simulated service: an HTTP server on loopback whose latency and throughput follow known
//! laws, so that headroom's measurements can be checked against theory.
//!
//! A request waits for one of `workers` permits (so queueing happens), then needs S of work,
//! drawn from the configured distribution, which is done at the rate 1 / (1 + σ(n − 1) +
//! κn(n − 1)) while n requests are in service (processor sharing): a closed-loop sweep of N
//! users with N ≤ workers then measures X(N) = (1/S)·N / (1 + σ(N − 1) + κN(N − 1)), the USL. During a stall every
//! request waits for the stall to end, as behind a garbage-collection pause.

mod session;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

use crate::clock::{Alarm, Clock};

/// Worker-seconds spent serving, integrated exactly: every change in the number of busy workers
/// first adds the time the old number held for. `/metrics` reads it as a counter, so that a
/// scraper's utilization over any window is its increase over the window and the workers.
struct Busy(std::sync::Mutex<(std::time::Instant, usize, f64)>);

impl Busy {
    fn new() -> Busy {
        Busy(std::sync::Mutex::new((std::time::Instant::now(), 0, 0.0)))
    }

    /// Adds `delta` busy workers; the seconds so far and the number now busy.
    fn change(&self, delta: isize) -> (f64, usize) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        g.2 += g.1 as f64 * now.duration_since(g.0).as_secs_f64();
        g.0 = now;
        g.1 = g.1.saturating_add_signed(delta);
        (g.2, g.1)
    }

    /// A worker busy until the guard drops (however the request ends, cancelled included).
    fn enter(&self) -> BusyGuard<'_> {
        self.change(1);
        BusyGuard(self)
    }
}

struct BusyGuard<'a>(&'a Busy);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.change(-1);
    }
}

/// The longest sleep before the number in service is read again.
const SLICE_S: f64 = 0.005;

/// How service times are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Every request takes the mean.
    Constant,
    /// Exponential with the given mean (an M/M/c server).
    Exponential,
}

/// The simulated service's behaviour.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimConfig {
    /// Requests served at once; the rest queue.
    pub workers: usize,
    /// Mean service time of one request alone.
    pub service_time: Duration,
    pub distribution: Distribution,
    /// σ: contention between requests in service.
    pub sigma: f64,
    /// κ: coherency cost between requests in service.
    pub kappa: f64,
    /// Share of requests answered 500.
    pub error_rate: f64,
    /// Every `stall_every`, nothing is served for `stall_for`.
    pub stall_every: Option<Duration>,
    pub stall_for: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            workers: 64,
            service_time: Duration::from_millis(5),
            distribution: Distribution::Exponential,
            sigma: 0.0,
            kappa: 0.0,
            error_rate: 0.0,
            stall_every: None,
            stall_for: Duration::ZERO,
        }
    }
}

/// A running simulated service; dropping it (or calling `stop`) shuts it down.
pub struct SimHandle {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    served: Arc<AtomicU64>,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests answered so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Stops accepting and closes the listener.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

struct State {
    cfg: SimConfig,
    permits: Semaphore,
    in_service: AtomicUsize,
    started: Instant,
    served: Arc<AtomicU64>,
    seed: AtomicU64,
    sessions: session::Sessions,
    busy: Busy,
    /// Connections accepted, and requests that came over HTTP/2.
    connections: AtomicU64,
    http2: AtomicU64,
    /// Alarms not in use: one per request in service, kept for the next, as each is a timerfd.
    alarms: std::sync::Mutex<Vec<Alarm>>,
}

impl State {
    /// A uniform draw in (0, 1) from a shared splitmix64 sequence.
    fn uniform(&self) -> f64 {
        let mut z = self.seed.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (((z ^ (z >> 31)) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// When the current stall ends, if one is under way.
    fn stall_end(&self, now: Instant) -> Option<Instant> {
        let every = self.cfg.stall_every?;
        let since = now.duration_since(self.started);
        let phase = Duration::from_nanos((since.as_nanos() % every.as_nanos()) as u64);
        // The first stall comes one period after start, not at start.
        (since >= every && phase < self.cfg.stall_for).then(|| now + (self.cfg.stall_for - phase))
    }

    async fn serve(&self) -> StatusCode {
        let _permit = self.permits.acquire().await.expect("semaphore never closed");
        // Dropped before the permit: the worker is busy while it holds the request.
        let _busy = self.busy.enter();
        // A request cancelled mid-service drops its alarm; the pool holds at most one per worker.
        let mut alarm = self
            .alarms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
            .unwrap_or_else(|| Alarm::new(Clock::Real));
        if let Some(end) = self.stall_end(Instant::now()) {
            alarm.until(end).await;
        }
        self.in_service.fetch_add(1, Ordering::Relaxed);
        let base = self.cfg.service_time.as_secs_f64();
        let mut work = match self.cfg.distribution {
            Distribution::Constant => base,
            Distribution::Exponential => -base * self.uniform().ln(),
        };
        // Processor sharing: the remaining work drains at 1/slowdown(n), n re-read every slice, so
        // that throughput follows the USL as requests come and go; the time actually slept is
        // measured, so the timer's overshoot is charged once, not once per slice.
        // Each slice aims early by the alarm's typical lateness, so that it averages out instead
        // of always adding.
        let early = alarm.typical_lateness().as_secs_f64();
        let mut last = Instant::now();
        loop {
            let n = self.in_service.load(Ordering::Relaxed).max(1) as f64;
            let slowdown = 1.0 + self.cfg.sigma * (n - 1.0) + self.cfg.kappa * n * (n - 1.0);
            let left = work * slowdown - early;
            if left <= 0.0 {
                break;
            }
            alarm.until(Instant::now() + Duration::from_secs_f64(left.min(SLICE_S))).await;
            let now = Instant::now();
            work -= now.duration_since(last).as_secs_f64() / slowdown;
            last = now;
        }
        self.in_service.fetch_sub(1, Ordering::Relaxed);
        self.alarms.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(alarm);
        self.served.fetch_add(1, Ordering::Relaxed);
        if self.cfg.error_rate > 0.0 && self.uniform() < self.cfg.error_rate {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        }
    }
}

/// The Prometheus text exposition of the simulated service: worker-seconds busy (a counter),
/// the workers (100% of that counter's rate), those busy now, requests answered, and the
/// process's CPU.
fn metrics(state: &State) -> String {
    let (busy_s, busy_now) = state.busy.change(0);
    let mut text = format!(
        "# HELP headroom_sim_busy_seconds_total Worker-seconds spent serving requests, from taking a worker to answering.\n\
# TYPE headroom_sim_busy_seconds_total counter\n\
headroom_sim_busy_seconds_total {busy_s}\n\
# HELP headroom_sim_workers Requests served at once; the rest queue.\n\
# TYPE headroom_sim_workers gauge\n\
headroom_sim_workers {}\n\
# HELP headroom_sim_busy_workers Workers serving a request now.\n\
# TYPE headroom_sim_busy_workers gauge\n\
headroom_sim_busy_workers {busy_now}\n\
# HELP headroom_sim_requests_total Requests answered.\n\
# TYPE headroom_sim_requests_total counter\n\
headroom_sim_requests_total {}\n\
# HELP headroom_sim_http2_requests_total Requests that came over HTTP/2 (h2c).\n\
# TYPE headroom_sim_http2_requests_total counter\n\
headroom_sim_http2_requests_total {}\n\
# HELP headroom_sim_connections_total Connections accepted.\n\
# TYPE headroom_sim_connections_total counter\n\
headroom_sim_connections_total {}\n",
        state.cfg.workers.max(1),
        state.served.load(Ordering::Relaxed),
        state.http2.load(Ordering::Relaxed),
        state.connections.load(Ordering::Relaxed)
    );
    if let Some(cpu) = crate::process::cpu_seconds() {
        text.push_str(&format!(
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
# TYPE process_cpu_seconds_total counter\n\
process_cpu_seconds_total {cpu}\n"
        ));
    }
    text
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Not a request of the service: it takes no worker and is not counted.
    if req.version() == hyper::Version::HTTP_2 && req.uri().path() != "/metrics" {
        state.http2.fetch_add(1, Ordering::Relaxed);
    }
    if req.method() == hyper::Method::GET && req.uri().path() == "/metrics" {
        let mut resp = Response::new(Full::new(Bytes::from(metrics(&state))));
        resp.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        return Ok(resp);
    }
    let outcome = state.sessions.route(req.method(), req.uri().path(), req.headers());
    if let session::Outcome::Refused { status, body } = outcome {
        let mut resp = Response::new(Full::new(Bytes::from(body)));
        *resp.status_mut() = status;
        return Ok(resp);
    }
    let status = state.serve().await;
    let mut resp = match (status.is_success(), outcome) {
        (false, _) => Response::new(Full::new(Bytes::from_static(b"simulated error\n"))),
        (true, session::Outcome::Ok { body, set_cookie }) => {
            let mut resp = Response::new(Full::new(Bytes::from(body)));
            resp.headers_mut()
                .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
            if let Some(c) = set_cookie.and_then(|c| hyper::header::HeaderValue::from_str(&c).ok()) {
                resp.headers_mut().insert(hyper::header::SET_COOKIE, c);
            }
            resp
        }
        (true, _) => Response::new(Full::new(Bytes::from_static(b"ok\n"))),
    };
    *resp.status_mut() = status;
    Ok(resp)
}

/// The key of the session check digits: different on every port, so that values from one
/// server are refused by another.
fn mix_key(port: u16) -> u64 {
    0xC0FF_EE00_0000_0000 ^ (port as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Binds `addr` (port 0 picks a free port) and serves until stopped; must run inside a tokio
/// runtime.
pub async fn spawn(addr: SocketAddr, cfg: SimConfig) -> std::io::Result<SimHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(false);
    let served = Arc::new(AtomicU64::new(0));
    let state = Arc::new(State {
        permits: Semaphore::new(cfg.workers.max(1)),
        cfg,
        in_service: AtomicUsize::new(0),
        started: Instant::now(),
        served: served.clone(),
        seed: AtomicU64::new(0x5EED),
        sessions: session::Sessions::new(mix_key(addr.port())),
        busy: Busy::new(),
        connections: AtomicU64::new(0),
        alarms: std::sync::Mutex::new(Vec::new()),
        http2: AtomicU64::new(0),
    });
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stopped.changed() => break,
            };
            let Ok((stream, _)) = accepted else { continue };
            let _ = stream.set_nodelay(true);
            state.connections.fetch_add(1, Ordering::Relaxed);
            let state = state.clone();
            let mut conn_stopped = stopped.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(state.clone(), req));
                // HTTP/1.1, or HTTP/2 by prior knowledge (h2c), told apart by the preface.
                let builder = auto::Builder::new(TokioExecutor::new());
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => {}
                    _ = conn_stopped.changed() => {}
                }
            });
        }
    });
    Ok(SimHandle { addr, stop, served })
}
