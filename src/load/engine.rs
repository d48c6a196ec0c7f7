//! The request-mix engine: hyper HTTP/1.1, one keep-alive connection per worker.
//!
//! Open steps: every worker claims the next ticket k from a shared counter (no channel, no
//! lock), sleeps until its intended send time from the schedule, sends, and records latency
//! from that intended time, so a server that stalls is charged for every request it delayed
//! (coordinated omission). `max_in_flight` workers bound the requests in flight; when all are
//! busy, the next request starts late and that lag is recorded on its own. Closed steps: N
//! workers send back to back. A collector samples requests in flight every 10 ms and closes
//! each second's interval.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use super::http::{connect, send, Conn};
pub use super::http::{Prepared, Target};
use super::profile::{Load, Step};
use super::recorder::{ErrorClass, Record, Recorder, Sample};
use super::results::Second;
use super::series::SeriesBuilder;

/// Requests that start this long after their intended time count as late starts (tokio's timer
/// has 1 ms granularity, so up to about 1 ms of lag is the pacer, not a busy generator).
pub const LATE_US: u64 = 2_000;

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

/// What a step produced.
pub struct StepRun {
    pub records: Vec<Record>,
    pub series: Vec<Second>,
    pub elapsed_s: f64,
    pub mean_in_flight: f64,
    pub reconnects: u64,
    pub stopped_early: bool,
}

/// Consecutive steps on one timeline: a step's arrivals start on schedule even while the
/// previous step's backlog drains, and each request belongs to the step of its intended time.
struct Phase {
    steps: Vec<Step>,
    starts: Vec<Instant>,
    ends: Vec<Instant>,
    /// Index of each step's first ticket; the last entry is the total.
    first: Vec<u64>,
}

impl Phase {
    fn new(steps: &[Step], start: Instant) -> Phase {
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

    fn total(&self) -> u64 {
        *self.first.last().unwrap_or(&0)
    }

    /// The step of ticket `k` and its intended send time.
    fn locate(&self, k: u64) -> (usize, Instant) {
        let i = self.first.partition_point(|&f| f <= k) - 1;
        let s = &self.steps[i];
        (i, self.starts[i] + Duration::from_secs_f64(s.load.offset_s(k - self.first[i], s.duration_s)))
    }

    /// The step whose scheduled window holds `t` (the last one after the end).
    fn at(&self, t: Instant) -> usize {
        self.ends.iter().position(|e| t < *e).unwrap_or(self.steps.len() - 1)
    }
}

struct Shared {
    engine: Arc<Engine>,
    recorders: Vec<Recorder>,
    next: AtomicU64,
    in_flight: AtomicUsize,
    reconnects: Vec<AtomicU64>,
    done_workers: AtomicUsize,
}

impl Engine {
    /// An engine for `requests` (weights become a smooth rotation).
    pub fn new(target: Target, requests: Vec<Prepared>, timeout: Duration, max_in_flight: usize) -> Self {
        let total: u32 = requests.iter().map(|r| r.weight.max(1)).sum();
        // Smooth weighted round robin: each slot goes to the request furthest behind its share.
        let mut credit = vec![0i64; requests.len()];
        let rotation = (0..total)
            .map(|_| {
                for (c, r) in credit.iter_mut().zip(&requests) {
                    *c += r.weight.max(1) as i64;
                }
                let best = (0..credit.len()).max_by_key(|&i| (credit[i], std::cmp::Reverse(i))).unwrap_or(0);
                credit[best] -= total as i64;
                best
            })
            .collect();
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
        let stripes = (2 * std::thread::available_parallelism().map_or(2, |n| n.get())).min(workers).max(1);
        let shared = Arc::new(Shared {
            engine: self.clone(),
            recorders: steps.iter().map(|_| Recorder::new(stripes, self.requests.len())).collect(),
            next: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            reconnects: steps.iter().map(|_| AtomicU64::new(0)).collect(),
            done_workers: AtomicUsize::new(0),
        });
        let handles: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(w, conn)| {
                let (shared, phase, stop) = (shared.clone(), phase.clone(), stop.clone());
                tokio::spawn(async move {
                    worker(&shared, w, conn, &phase, stop).await;
                    shared.done_workers.fetch_add(1, Ordering::Release);
                })
            })
            .collect();
        let (series, in_flight) = collect(&shared, &phase, workers, tick).await;
        for h in handles {
            let _ = h.await;
        }
        let stopped = *stop.borrow();
        let now = Instant::now();
        series
            .into_iter()
            .zip(in_flight)
            .enumerate()
            .map(|(i, (series, mean_in_flight))| StepRun {
                records: shared.recorders[i].totals(),
                series,
                elapsed_s: now.saturating_duration_since(phase.starts[i]).as_secs_f64().min(steps[i].duration_s),
                mean_in_flight,
                reconnects: shared.reconnects[i].load(Ordering::Relaxed),
                stopped_early: stopped,
            })
            .collect()
    }
}

/// Samples requests in flight every 10 ms (for the step whose window holds the moment) and
/// closes each second's interval of every step it overlaps, until every worker is done.
async fn collect(
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
        let finished = shared.done_workers.load(Ordering::Acquire) == workers;
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

async fn worker(shared: &Shared, w: usize, mut conn: Option<Conn>, phase: &Phase, mut stop: watch::Receiver<bool>) {
    let engine = &shared.engine;
    let closed = matches!(phase.steps[0].load, Load::Closed { .. });
    let last_end = *phase.ends.last().expect("a phase has steps");
    let mut own = w as u64;
    loop {
        if *stop.borrow() {
            break;
        }
        let (k, step, intended) = if closed {
            if Instant::now() < phase.starts[0] {
                tokio::time::sleep_until(phase.starts[0]).await;
            }
            if Instant::now() >= last_end {
                break;
            }
            own += 1;
            (own, 0, Instant::now())
        } else {
            let k = shared.next.fetch_add(1, Ordering::Relaxed);
            // Every request due is sent, however late, but none after the phase's end plus one
            // timeout: a stalled target cannot keep the run going without bound.
            if k >= phase.total() || Instant::now() > last_end + engine.timeout {
                break;
            }
            let (step, at) = phase.locate(k);
            if at > Instant::now() {
                tokio::select! {
                    _ = tokio::time::sleep_until(at) => {}
                    _ = stop.changed() => break,
                }
            }
            (k, step, at)
        };
        let request = engine.rotation[(k % engine.rotation.len() as u64) as usize];
        let sent = Instant::now();
        shared.in_flight.fetch_add(1, Ordering::Relaxed);
        let outcome = send(engine, &mut conn, request, &shared.reconnects[step]).await;
        shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        let done = Instant::now();
        let lag_us = sent.saturating_duration_since(intended).as_micros() as u64;
        let measured = !matches!(outcome, Err(ErrorClass::Connect));
        let latency_us = measured.then(|| done.saturating_duration_since(intended).as_micros() as u64);
        let service_us = measured.then(|| done.saturating_duration_since(sent).as_micros() as u64);
        let sample = Sample { request, latency_us, service_us, lag_us, late: lag_us > LATE_US, error: outcome.err() };
        shared.recorders[step].record(w, sample);
        if closed && !measured {
            // A closed loop against a refusing target would otherwise spin on connect.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use hyper::Method;

    use super::*;

    fn prepared(name: &str, weight: u32) -> Prepared {
        Prepared {
            name: name.into(),
            method: Method::GET,
            path: "/".into(),
            headers: vec![],
            body: Bytes::new(),
            expect: None,
            weight,
        }
    }

    #[test]
    fn weights_rotate_smoothly() {
        let e = Engine::new(
            Target::parse("http://h:1").unwrap(),
            vec![prepared("a", 3), prepared("b", 1)],
            Duration::from_secs(1),
            4,
        );
        // nginx's smooth weighted round robin: b sits between the a's, never after three of them.
        assert_eq!(e.rotation, [0, 0, 1, 0]);
    }
}
