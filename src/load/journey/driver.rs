//! The journey engine. Each phase builds a `GooseAttack` in code (never from the process's
//! argv): one scenario per journey, whose one transaction is a closure that runs that journey
//! for as long as the phase lasts. Users share headroom's timeline: open steps hand out one
//! ticket per scheduled journey arrival (each journey has its own stream of tickets, cut from
//! the one weighted schedule), closed steps run journeys back to back. Each user keeps its own
//! cookies and keep-alive connection (`request`, on the request mix's HTTP/1.1 client); every
//! latency goes to headroom's HdrHistograms in microseconds.
//!
//! A step's latency runs from its intended start: the journey's ticket time for the first step,
//! and for later ones the moment the previous step ended plus its think time. A journey's
//! end-to-end latency runs from its ticket time, so a stalled target is charged for the
//! journeys it delayed. A journey stops at its first failed step.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goose::config::GooseConfiguration;
use goose::prelude::*;
use tokio::sync::watch;
use tokio::time::Instant;

use super::request::{mute_stdout, send, Bounds, UserClient};
use super::summary::Tally;
use super::Journey;
use crate::artefact::results::Second;
use crate::clock::Alarm;
use crate::load::collector::{collect, Clock, Shared};
use crate::load::departures;
use crate::load::engine::{Engine, Running, StepRun, Unreachable};
use crate::load::mix::RequestMix;
use crate::load::recorder::{ErrorClass, Sample};
use crate::load::timeline::{rotation, stripes, Phase, LATE_US};
use crate::plan::profile::Step;

/// The journeys of a plan and the target they run against.
pub struct JourneyEngine {
    /// The target, timeout, TLS settings and `max_in_flight` (journeys in flight at most).
    pub base: Arc<RequestMix>,
    pub journeys: Vec<Journey>,
    /// Each journey's positions in one cycle of the weighted schedule.
    slots: Vec<Vec<u64>>,
    cycle: u64,
    /// Index of each journey's first step among all steps.
    offsets: Vec<usize>,
    insecure: bool,
    /// Every value the journeys take from the environment, redacted from reasons.
    secrets: Vec<String>,
    /// The target's root URL (`None` when its host makes no URL: every step then fails).
    root: Option<url::Url>,
    /// Each step's URL (by index among all steps) when its path is fixed, parsed once.
    urls: Vec<Option<url::Url>>,
}

impl JourneyEngine {
    pub fn new(base: Arc<RequestMix>, journeys: Vec<Journey>, insecure: bool) -> Self {
        let cycle = rotation(&journeys.iter().map(|j| j.weight).collect::<Vec<_>>());
        let mut slots = vec![Vec::new(); journeys.len()];
        for (k, j) in cycle.iter().enumerate() {
            slots[*j].push(k as u64);
        }
        let offsets = journeys
            .iter()
            .scan(0, |n, j| {
                *n += j.steps.len();
                Some(*n - j.steps.len())
            })
            .collect();
        let secrets = journeys.iter().flat_map(Journey::secrets).collect();
        let t = &base.http.target;
        let root = url::Url::parse(&format!("{}/", t.origin())).ok();
        let urls = journeys
            .iter()
            .flat_map(|j| &j.steps)
            .map(|s| root.as_ref().filter(|_| s.path.is_fixed()).and_then(|r| r.join(&s.path.render(&[])).ok()))
            .collect();
        JourneyEngine { base, journeys, slots, cycle: cycle.len() as u64, offsets, insecure, secrets, root, urls }
    }

    /// The names samples are recorded under: `journey/step`, for every step of every journey.
    pub fn names(&self) -> Vec<String> {
        self.journeys.iter().flat_map(|j| j.steps.iter().map(|s| s.name.clone())).collect()
    }

    /// The schedule's ticket for journey `j`'s `m`-th arrival.
    pub(crate) fn ticket(&self, j: usize, m: u64) -> u64 {
        let s = &self.slots[j];
        (m / s.len() as u64) * self.cycle + s[(m % s.len() as u64) as usize]
    }

    /// Runs consecutive open steps on one timeline, or one closed step, on goose; ends early
    /// when `stop` turns true. goose's own Ctrl-C handler never takes the signal: `headroom run`
    /// installs its handler first, through the same crate, and goose's then stands aside.
    pub async fn run_phase(
        self: &Arc<Self>,
        steps: &[Step],
        start_at: Option<Instant>,
        stop: watch::Receiver<bool>,
        tick: &mut dyn FnMut(usize, &Second),
    ) -> Result<Vec<StepRun>, String> {
        if *stop.borrow() {
            return Ok(Vec::new());
        }
        let total: u64 = steps.iter().map(|s| s.load.count(s.duration_s)).sum();
        let slice = self.base.pacing.slice;
        let wanted = steps[0].load.workers(self.base.pacing.max_in_flight, slice.below(total));
        let per_journey = apportion(wanted, &self.journeys.iter().map(|j| j.weight).collect::<Vec<_>>());
        let users: usize = per_journey.iter().sum();
        // All users are launched within 50 ms; the clock starts once they are.
        let hatch = (users as f64 * 20.0).max(100.0);
        let hatched = Instant::now() + Duration::from_secs_f64(users as f64 / hatch) + Duration::from_millis(250);
        // A shard's agreed instant, unless its users cannot all be hatched by then.
        let start = start_at.map_or(hatched, |at| at.max(hatched));
        let start_lag = start_at.map(|at| hatched.saturating_duration_since(at));
        let stripes = stripes(users);
        let flat = self.offsets.last().map_or(0, |o| o + self.journeys.last().map_or(0, |j| j.steps.len()));
        let run = Arc::new(PhaseRun {
            engine: self.clone(),
            phase: Arc::new(Phase::new(steps, start, slice)),
            shared: Shared::new(steps, users, stripes, flat, self.base.pacing.max_rps),
            tallies: steps.iter().map(|_| Tally::new(stripes, self.journeys.len(), flat)).collect(),
            counters: self.journeys.iter().map(|_| AtomicU64::new(0)).collect(),
            user_ids: AtomicUsize::new(0),
            stop: stop.clone(),
        });
        let attack = self.attack(&run, &per_journey, users, hatch).map_err(|e| format!("goose: {e}"))?;
        let drive = async {
            let muted = mute_stdout();
            let outcome = attack.execute().await;
            drop(muted);
            // Users that goose never started, or that ended abnormally, are done too.
            run.shared.done_workers.store(users, Ordering::Release);
            outcome
        };
        let (outcome, collected) = tokio::join!(drive, collect(&run.shared, &run.phase, tick, Clock::Real));
        outcome.map_err(|e| format!("goose: {e}"))?;
        let mut runs = run.shared.step_runs(&run.phase, collected, *stop.borrow(), false);
        if let Some(first) = runs.first_mut() {
            first.start_lag = start_lag;
        }
        for (i, (r, step)) in runs.iter_mut().zip(steps).enumerate() {
            // The schedule is in journeys; the series counts requests, so it names no target.
            for s in &mut r.series {
                s.offered_rps = None;
            }
            let (units, done) = (run.tallies[i].merged(), run.tallies[i].departures());
            let fastest = if units.latency.is_empty() { 0 } else { units.latency.min() };
            let window = departures::window(step, &done, fastest, r);
            // Per second of the window, counted as the responses in it were.
            let per_s = window.rate() / done.len().max(1) as f64;
            let target = step.load.mean_rps(step.duration_s).map(|t| t * r.share);
            let mut summary = run.tallies[i].summarise(&self.journeys, per_s, target);
            summary.departures = crate::artefact::results::encode(&done);
            r.journeys = Some(summary);
            r.units = Some((units, done));
        }
        Ok(runs)
    }

    /// The attack: one scenario per journey with users, quiet, without goose's own metrics,
    /// each user running its transaction once (for the whole phase).
    fn attack(
        &self,
        run: &Arc<PhaseRun>,
        per_journey: &[usize],
        users: usize,
        hatch: f64,
    ) -> Result<Box<GooseAttack>, GooseError> {
        let t = &self.base.http.target;
        let host = t.origin();
        let timeout_s = self.base.http.timeout.as_secs_f64().ceil().max(1.0);
        // Set on the configuration itself: goose 0.18 prefers the configuration's 0 to a default.
        let mut config = GooseConfiguration::default();
        config.iterations = 1;
        let mut attack = GooseAttack::initialize_with_config(config)?;
        for (j, &n) in per_journey.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let r = run.clone();
            // goose runs the user; its requests go on the user's own client, not goose's.
            let journey: TransactionFunction = Arc::new(move |_| {
                let r = r.clone();
                Box::pin(async move {
                    r.user(j).await;
                    Ok(())
                })
            });
            let name = &self.journeys[j].name;
            attack = attack.register_scenario(
                Scenario::new(name).set_weight(n)?.register_transaction(Transaction::new(journey).set_name(name)),
            );
        }
        attack
            .set_default(GooseDefault::Host, host.as_str())?
            .set_default(GooseDefault::Users, users)?
            .set_default(GooseDefault::HatchRate, hatch.to_string().as_str())?
            .set_default(GooseDefault::Timeout, timeout_s.to_string().as_str())?
            .set_default(GooseDefault::AcceptInvalidCerts, self.insecure)?
            .set_default(GooseDefault::NoMetrics, true)?
            .set_default(GooseDefault::NoPrintMetrics, true)?
            .set_default(GooseDefault::NoErrorSummary, true)?
            .set_default(GooseDefault::NoTelnet, true)?
            .set_default(GooseDefault::NoWebSocket, true)?
            .set_default(GooseDefault::Quiet, 1)
    }
}

/// Splits `total` users over journeys by weight (largest remainder); every journey gets one
/// when there are enough users to go round.
pub fn apportion(total: usize, weights: &[u32]) -> Vec<usize> {
    let sum: f64 = weights.iter().map(|w| (*w).max(1) as f64).sum();
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * (*w).max(1) as f64 / sum).collect();
    let mut out: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    if total >= weights.len() {
        for o in out.iter_mut() {
            *o = (*o).max(1);
        }
    }
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    for &i in order.iter().cycle().take(weights.len() * 2) {
        let given: usize = out.iter().sum();
        if given >= total {
            break;
        }
        out[i] += 1;
    }
    // Minimums can overshoot; take back from the largest.
    while out.iter().sum::<usize>() > total {
        let big = (0..out.len()).max_by_key(|&i| out[i]).unwrap_or(0);
        out[big] -= 1;
    }
    out
}

/// One phase in flight: what its users share.
struct PhaseRun {
    engine: Arc<JourneyEngine>,
    phase: Arc<Phase>,
    shared: Shared,
    tallies: Vec<Tally>,
    /// The next arrival of each journey.
    counters: Vec<AtomicU64>,
    user_ids: AtomicUsize,
    stop: watch::Receiver<bool>,
}

impl PhaseRun {
    /// Journey `j`'s next ticket of this generator's slice (past the schedule when none is left).
    fn next_ticket(&self, j: usize) -> u64 {
        let slice = self.phase.slice;
        loop {
            let k = self.engine.ticket(j, self.counters[j].fetch_add(1, Ordering::Relaxed));
            if slice.owns(k) || k >= self.phase.total() {
                return k;
            }
        }
    }

    /// One goose user's life: journey `j`, again and again, until the phase ends.
    async fn user(&self, j: usize) {
        let w = self.user_ids.fetch_add(1, Ordering::Relaxed);
        let mut client = UserClient::new();
        let mut alarm = Alarm::new(Clock::Real);
        let phase = &self.phase;
        let closed = phase.steps[0].load.is_closed();
        let mut stop = self.stop.clone();
        loop {
            if *stop.borrow() {
                phase.close(Instant::now());
                break;
            }
            let k = if closed { 0 } else { self.next_ticket(j) };
            let claimed = Instant::now();
            let Some((step, intended)) = phase.turn(k, &mut alarm, &mut stop).await else { break };
            // Already due when its turn came: no user was free at its time.
            let at_limit = intended < claimed;
            let counters = &self.shared.counters[step];
            counters.started.fetch_add(1, Ordering::Relaxed);
            let outcome = self.journey(&mut client, &mut alarm, w, j, (step, intended, at_limit), &mut stop).await;
            counters.finished.fetch_add(1, Ordering::Relaxed);
            match outcome {
                None => break,
                // A closed loop against a refusing target would otherwise spin on connect.
                Some(Some(ErrorClass::Connect)) if closed => tokio::time::sleep(Duration::from_millis(10)).await,
                Some(_) => {}
            }
        }
        self.shared.done_workers.fetch_add(1, Ordering::Release);
    }

    /// Runs one journey whose ticket, of profile step `step`, is due at `intended`, recording
    /// each of its steps and the whole; `None` when a stop cut it short (the steps already made
    /// stay recorded), else the class of the error that ended it, if any.
    async fn journey(
        &self,
        client: &mut UserClient,
        alarm: &mut Alarm,
        w: usize,
        j: usize,
        (step, intended, at_limit): (usize, Instant, bool),
        stop: &mut watch::Receiver<bool>,
    ) -> Option<Option<ErrorClass>> {
        let journey = &self.engine.journeys[j];
        let first = self.engine.offsets[j];
        let (recorder, tally) = (&self.shared.recorders[step], &self.tallies[step]);
        let mut vars = vec![None; journey.vars.len()];
        let mut intended = intended;
        let (mut at, mut first_sent, mut end) = (intended, None, intended);
        let closed = self.phase.steps[0].load.is_closed();
        for (s, st) in journey.steps.iter().enumerate() {
            if *stop.borrow() {
                return None;
            }
            if at > Instant::now() {
                tokio::select! {
                    _ = alarm.until(at) => {}
                    _ = stop.changed() => return None,
                }
            }
            if let Some(limit) = &self.shared.limiter {
                if !limit.acquire(stop).await {
                    return None;
                }
                // In a closed step the cap is the pace: a journey is due when its slot comes.
                if closed && s == 0 {
                    (intended, at) = (Instant::now(), Instant::now());
                }
            }
            let sent = Instant::now();
            first_sent.get_or_insert(sent);
            let bounds = Bounds {
                http: &self.engine.base.http,
                secrets: &self.engine.secrets,
                root: self.engine.root.as_ref(),
                url: self.engine.urls[first + s].as_ref(),
                reconnects: &self.shared.reconnects[step],
            };
            let (outcome, bytes) = send(client, st, &mut vars, &bounds).await;
            end = Instant::now();
            let error = outcome.as_ref().err().map(|e| e.0);
            // Only the first step waits for a turn; later ones follow the one before.
            let sample =
                step_sample(first + s, error, (at, sent, end), self.phase.starts[step], at_limit && s == 0, bytes);
            recorder.record(w, sample, end);
            if let Err((class, reason)) = outcome {
                tally.failure(first + s, reason);
                let done_us = micros(end, self.phase.starts[step]);
                tally.journey(w, journey_sample(j, intended, first_sent, (end, false, done_us), Some(class)), end);
                return Some(Some(class));
            }
            at = end + st.think.unwrap_or_default();
        }
        let done_us = micros(end, self.phase.starts[step]);
        tally.journey(w, journey_sample(j, intended, first_sent, (end, true, done_us), None), end);
        Some(None)
    }
}

fn micros(later: Instant, earlier: Instant) -> u64 {
    later.saturating_duration_since(earlier).as_micros() as u64
}

/// One journey step's sample: due `at`, sent, and done at `end`.
fn step_sample(
    request: usize,
    error: Option<ErrorClass>,
    (at, sent, end): (Instant, Instant, Instant),
    start: Instant,
    at_limit: bool,
    bytes: u64,
) -> Sample {
    let lag_us = micros(sent, at);
    let measured = !matches!(error, Some(ErrorClass::Connect));
    Sample {
        request,
        latency_us: measured.then(|| micros(end, at)),
        service_us: measured.then(|| micros(end, sent)),
        lag_us,
        late: lag_us > LATE_US,
        at_limit,
        sojourn_us: micros(end, at),
        bytes,
        done_us: micros(end, start),
        error,
    }
}

/// A journey's own sample: end to end from its ticket time (latencies only when it completed;
/// its time in the system whatever the outcome).
fn journey_sample(
    j: usize,
    intended: Instant,
    first_sent: Option<Instant>,
    (end, completed, done_us): (Instant, bool, u64),
    error: Option<ErrorClass>,
) -> Sample {
    let sent = first_sent.unwrap_or(intended);
    let lag_us = micros(sent, intended);
    Sample {
        request: j,
        latency_us: completed.then(|| micros(end, intended)),
        service_us: completed.then(|| micros(end, sent)),
        lag_us,
        late: lag_us > LATE_US,
        at_limit: false,
        sojourn_us: micros(end, intended),
        bytes: 0,
        done_us,
        error,
    }
}

/// The journey engine as the runner drives it (its phases hand the engine to goose's users).
pub struct Journeys(pub Arc<JourneyEngine>);

impl Engine for Journeys {
    /// Each user has an HTTP/1.1 connection of its own.
    fn protocol(&self) -> Option<String> {
        Some("HTTP/1.1".into())
    }

    fn probe(&self) -> Running<'_, Result<(), Unreachable>> {
        // The same target, reached the same way, as the request mix would.
        self.0.base.probe()
    }

    fn run_phase<'a>(
        &'a self,
        steps: &'a [Step],
        start: Option<Instant>,
        stop: watch::Receiver<bool>,
        tick: &'a mut dyn FnMut(usize, &Second),
    ) -> Running<'a, Result<Vec<StepRun>, String>> {
        Box::pin(self.0.run_phase(steps, start, stop, tick))
    }

    fn unit(&self) -> &'static str {
        " journeys/s"
    }
}
