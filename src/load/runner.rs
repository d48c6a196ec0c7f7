//! Running a plan: resolve it, run its steps, judge them and keep `results.json` current.

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;

use super::collector::StepRun;
use super::recorder::{answered, Record};
use crate::process::cpu_seconds;
use std::sync::Arc;

use super::engine::Unreachable;
pub use super::resolve::RunOptions;
use super::resolve::{redacted, resolve, Resolved};
use super::results::{self, Measured, StepResult};
use super::scripted::{Script, VirtualEngine};
use super::utilization::Sampler;
use crate::analysis::{self, slo};
use crate::artefact::results::Delivery;
pub use crate::artefact::results::{Analysis, Environment, Results};
use crate::plan::profile::{ProfileKind, Role, Step};
use crate::plan::{AbortRule, LoadPlan};
use crate::signals;
use crate::units::sig;
use std::time::Duration;
use tokio::time::Instant;

/// A run that measured something but cannot be trusted (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RunInvalid(pub String);

fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    crate::calendar::rfc3339(secs)
}

/// Runs `plan` (from `file`) until done, stopped through `stop`, or aborted by its rule.
pub async fn execute(plan: &LoadPlan, file: &str, opts: &RunOptions, stop_tx: watch::Sender<bool>) -> Result<Results> {
    run(resolve(plan, file, opts)?, plan, opts, stop_tx).await
}

/// Runs `plan` against the scripted service of `script` on tokio's clock instead of its
/// target: the same schedule, recording, analysis and results. On a paused clock (a
/// current-thread runtime) it takes milliseconds and gives the same results every time.
pub async fn execute_virtual(
    plan: &LoadPlan,
    file: &str,
    opts: &RunOptions,
    stop_tx: watch::Sender<bool>,
    script: Script,
) -> Result<Results> {
    let mut r = resolve(plan, file, opts)?;
    r.engine = Arc::new(VirtualEngine::new(script, (*r.pacing).clone()));
    run(r, plan, opts, stop_tx).await
}

async fn run(r: Resolved, plan: &LoadPlan, opts: &RunOptions, stop_tx: watch::Sender<bool>) -> Result<Results> {
    let cpu0 = cpu_seconds();
    let mut results = Results::started(plan, &r, &opts.overrides);
    // A signal during the probe stops the run as it would any step: nothing measured, said so.
    let mut stop = stop_tx.subscribe();
    let probed = tokio::select! {
        biased;
        _ = signals::stopped(&mut stop) => Ok(()),
        p = probe(&r) => p,
    };
    if let Err(e) = probed {
        // Unreachable: the results say so too, for a script that reads them.
        results.valid = false;
        results.invalid_reasons = vec![format!("{e:#}")];
        results.environment.end = now_rfc3339();
        save(opts, &results, false)?;
        return Err(e);
    }
    // Read once before any load, so that a wrong endpoint or series stops the run here.
    let sampler = match &r.utilization {
        Some(spec) => Some(Sampler::start(spec.clone())?),
        None => None,
    };
    if let Some(shard) = opts.shard {
        for step in r.profile.steps.iter().filter(|s| s.load.users() == Some(0)) {
            eprintln!(
                "warning: {} has fewer users than the {} shards: shard {} runs none of them",
                step.name, shard.slice.count, shard.slice.index
            );
        }
    }
    let mut watch = Watch::new(&r, opts, stop_tx);
    let phases: Vec<&[Step]> =
        if r.profile.continuous { vec![&r.profile.steps[..]] } else { r.profile.steps.chunks(1).collect() };
    let mut starts = opts.shard.map(|s| Starts::new(s, r.pacing.timeout));
    let mut begun = 0;
    'phases: for steps in phases {
        let stop = watch.stop_tx.subscribe();
        let start = starts.as_ref().map(|s| s.next_start(begun, &r.profile.steps));
        begun += steps.len();
        let runs = r
            .engine
            .run_phase(steps, start, stop, &mut |i, s| watch.tick(steps, i, s))
            .await
            .map_err(anyhow::Error::msg)?;
        watch.done_s += steps.iter().map(|s| s.duration_s).sum::<f64>();
        if let Some(s) = starts.as_mut() {
            if let Some(lag) = runs.first().and_then(|x| x.start_lag) {
                s.began(lag);
            }
            results.shard = Some(s.record(&results));
        }
        for (step, run) in steps.iter().zip(runs) {
            let started = run.started;
            if step.role == Role::Warmup && !run.stopped_early {
                continue;
            }
            // A step the stop cut short before it began measured nothing worth keeping.
            if run.stopped_early && run.records.iter().all(|x| x.requests == 0) {
                break 'phases;
            }
            let stopped = run.stopped_early;
            let mut s = judge(&r, step, run);
            if let Some(sampler) = &sampler {
                read_utilization(sampler, started, &mut s);
            }
            let failed = analysis::stress::step_failure(&s).is_some();
            results.steps.push(s);
            results.interrupted = stopped && watch.abort_reason.is_none();
            results.aborted = watch.abort_reason.clone();
            results.protocol = r.engine.protocol();
            finish(&mut results, &r, cpu0);
            save(opts, &results, true)?;
            if r.profile.stop_on_slo_failure && failed {
                break 'phases;
            }
        }
        if *watch.stop_tx.borrow() {
            break;
        }
    }
    watch.bar.finish_and_clear();
    results.utilization_source = sampler.map(Sampler::finish);
    results.aborted = watch.abort_reason.clone();
    results.interrupted = *watch.stop_tx.borrow() && results.aborted.is_none();
    results.signal = results.interrupted.then(signals::received).flatten().map(|s| s.name().to_string());
    results.protocol = r.engine.protocol();
    finish(&mut results, &r, cpu0);
    save(opts, &results, false)?;
    Ok(results)
}

/// When each phase of a shard starts: the agreed instant, and for the phases after the first
/// (steps that each run on their own), the instant plus the steps before and, for each, the
/// longest its requests may take to drain, so that every shard starts each step together.
struct Starts {
    shard: super::shard::ShardPlan,
    /// The agreed instant on this process's monotonic clock.
    at: Instant,
    timeout: Duration,
    /// The latest any phase began after its instant so far, and when the first began.
    late: Duration,
    first_late: Option<Duration>,
}

impl Starts {
    fn new(shard: super::shard::ShardPlan, timeout: Duration) -> Starts {
        let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        let ahead = shard.start_at_s - now_s;
        let now = Instant::now();
        let at = if ahead >= 0.0 {
            now + Duration::from_secs_f64(ahead)
        } else {
            now.checked_sub(Duration::from_secs_f64(-ahead)).unwrap_or(now)
        };
        Starts { shard, at, timeout, late: Duration::ZERO, first_late: None }
    }

    /// The instant of the phase whose first step is step `done` of the profile.
    fn next_start(&self, done: usize, steps: &[Step]) -> Instant {
        let before: f64 = steps[..done.min(steps.len())].iter().map(|s| s.duration_s).sum();
        let drain = (self.timeout + super::timeline::GRACE + Duration::from_secs(1)) * done as u32;
        self.at + Duration::from_secs_f64(before) + drain
    }

    fn began(&mut self, lag: Duration) {
        self.late = self.late.max(lag);
        self.first_late.get_or_insert(lag);
    }

    fn record(&self, results: &Results) -> crate::artefact::results::ShardRun {
        let s = self.shard;
        crate::artefact::results::ShardRun {
            index: s.slice.index,
            count: s.slice.count,
            start_at: super::shard::instant_text(s.start_at_s),
            started_at: self.first_late.map(|l| super::shard::instant_text(s.start_at_s + l.as_secs_f64())),
            skew_ms: self.late.as_secs_f64() * 1e3,
            host: super::shard::host(),
            plan_digest: super::shard::plan_digest(&results.plan, &results.target, &results.overrides),
        }
    }
}

/// The target's utilization over the step's middle 80% and over each point of its series.
fn read_utilization(sampler: &Sampler, start: Instant, s: &mut StepResult) {
    let at = |t: f64| start + Duration::from_secs_f64(t.max(0.0));
    s.utilization = sampler.over(at(0.1 * s.duration_s), at(0.9 * s.duration_s));
    let half = sampler.interval().as_secs_f64() / 2.0;
    let windows: Vec<(Instant, Instant)> =
        s.series.iter().map(|p| (at(p.t_s - half), at(p.t_s + p.duration_s + half))).collect();
    for (p, u) in s.series.iter_mut().zip(sampler.each(&windows)) {
        p.utilization = u;
    }
}

/// The results so far into the run's folder, if it has one; `step_ended` adds that step's .hlog.
fn save(opts: &RunOptions, results: &Results, step_ended: bool) -> Result<()> {
    let Some(dir) = &opts.out else { return Ok(()) };
    results::write_atomic(dir, results)?;
    if step_ended {
        results::write_hlog(dir, results.steps.len(), results)?;
    }
    Ok(())
}

/// Checks that the target can be reached (and speaks TLS when it should) before any step.
async fn probe(r: &Resolved) -> Result<()> {
    let url = &r.url;
    match r.engine.probe().await {
        Ok(()) => Ok(()),
        Err(Unreachable::Connect(e)) => {
            Err(RunInvalid(format!("cannot connect to {url}: {e}; is the target running and reachable?")).into())
        }
        Err(Unreachable::Tls(e)) => {
            let hint = if e.contains("not valid for name") {
                "\n  the URL's host is not a name the certificate carries: use that name with --resolve HOST:PORT:ADDRESS, or check it against one with --sni NAME"
            } else if e.contains("HTTP/2") {
                ""
            } else {
                "\n  for a certificate from your own CA pass --cacert CA.pem (tls.cacert in a plan) or --system-roots; --insecure skips the check, for a self-signed test server only"
            };
            // On a line of its own: a long certificate error is cut short, never the hint.
            Err(RunInvalid(format!("cannot talk TLS to {url}: {e}{hint}")).into())
        }
    }
}

/// A step's results, its SLO thresholds checked.
fn judge(r: &Resolved, step: &Step, run: StepRun) -> StepResult {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let Measured { result: mut s, merged, records } = Measured::new(step, &r.names, run, cores);
    if step.load.users() == Some(0) {
        // A shard of a closed step with fewer users than shards: it had none of them to run.
        s.delivery = Delivery::Delivered;
        (s.valid, s.invalid_reason) = (true, None);
    }
    // Each answered request's share of the measured rate, for a request's own rate.
    let per_answer = s.achieved_rps / answered(&merged).max(1) as f64;
    fn measure(r: &Record, per_answer: f64) -> slo::Measure<'_> {
        slo::Measure {
            latency: &r.latency,
            requests: r.requests,
            errors: r.errors,
            rps: answered(r) as f64 * per_answer,
        }
    }
    s.slo = slo::check(&r.overall, "overall", &measure(&merged, per_answer));
    for (i, text, t) in &r.per_request {
        s.slo.extend(slo::check(&[(text.clone(), *t)], &r.names[*i], &measure(&records[*i], per_answer)));
    }
    s
}

/// The live progress line and the abort rule, fed each second of each step.
struct Watch {
    bar: ProgressBar,
    total_s: f64,
    /// Seconds of the phases already run.
    done_s: f64,
    unit: &'static str,
    abort: Option<AbortWindow>,
    abort_reason: Option<String>,
    stop_tx: watch::Sender<bool>,
}

impl Watch {
    fn new(r: &Resolved, opts: &RunOptions, stop_tx: watch::Sender<bool>) -> Watch {
        let total_s: f64 = r.profile.steps.iter().map(|s| s.duration_s).sum();
        let bar = if opts.progress { ProgressBar::new(total_s.ceil() as u64) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len}s {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        let unit = r.engine.unit();
        Watch { bar, total_s, done_s: 0.0, unit, abort: r.abort.map(AbortWindow::new), abort_reason: None, stop_tx }
    }

    fn tick(&mut self, steps: &[Step], i: usize, s: &results::Second) {
        let step = &steps[i];
        let offset: f64 = steps[..i].iter().map(|s| s.duration_s).sum();
        self.bar.set_position((self.done_s + offset + s.t_s + s.duration_s).min(self.total_s) as u64);
        let p99 = s.p99_us.map_or("—".into(), |p| crate::units::human_duration(p as f64 / 1e6));
        let target = s.offered_rps.map_or("closed".into(), |o| format!("offered {}{}", sig(o, 4), self.unit));
        self.bar.set_message(format!(
            "{}: {target}, achieved {} RPS, p99 {p99}, errors {}",
            step.name,
            sig(s.achieved_rps, 4),
            s.errors.total()
        ));
        let Some(window) = &mut self.abort else { return };
        if let (Some(rate), None) = (window.push(s), &self.abort_reason) {
            self.abort_reason = Some(format!(
                "error rate {} over the last {}s (rule: over {}% for {}s), in {}",
                crate::units::percent(rate, 3),
                sig(window.rule.for_s, 3),
                sig(window.rule.error_rate * 100.0, 3),
                sig(window.rule.for_s, 3),
                step.name
            ));
            let _ = self.stop_tx.send(true);
        }
    }
}

/// The abort rule over a window that slides across the whole run, steps and pauses between them
/// alike: the error rate of the last `for` seconds of measured seconds.
pub(crate) struct AbortWindow {
    rule: AbortRule,
    /// Recent seconds: duration, requests, errors.
    seconds: std::collections::VecDeque<(f64, u64, u64)>,
}

impl AbortWindow {
    fn new(rule: AbortRule) -> AbortWindow {
        AbortWindow { rule, seconds: Default::default() }
    }

    /// Adds a second; the window's error rate when it covers the rule's span and is over it.
    fn push(&mut self, s: &results::Second) -> Option<f64> {
        self.seconds.push_back((s.duration_s, s.requests, s.errors.total()));
        let span = |q: &std::collections::VecDeque<(f64, u64, u64)>| q.iter().map(|x| x.0).sum::<f64>();
        while self.seconds.len() > 1 && span(&self.seconds) - self.seconds[0].0 >= self.rule.for_s {
            self.seconds.pop_front();
        }
        let (requests, errors) = self.seconds.iter().fold((0, 0), |(r, e), x| (r + x.1, e + x.2));
        let rate = errors as f64 / requests.max(1) as f64;
        (span(&self.seconds) >= self.rule.for_s - 1e-9 && requests > 0 && rate > self.rule.error_rate).then_some(rate)
    }
}

impl Results {
    /// A run about to start: no steps yet.
    fn started(plan: &LoadPlan, r: &Resolved, overrides: &[String]) -> Results {
        Results {
            plan: redacted(plan),
            overrides: overrides.to_vec(),
            target: r.url.clone(),
            protocol: None,
            profile: r.profile.kind,
            environment: Environment {
                headroom_version: env!("CARGO_PKG_VERSION").into(),
                cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
                start: now_rfc3339(),
                end: String::new(),
                generator_cpu_s: None,
            },
            interrupted: false,
            signal: None,
            aborted: None,
            valid: true,
            invalid_reasons: Vec::new(),
            slo_passed: true,
            steps: Vec::new(),
            analysis: Analysis::default(),
            utilization_source: None,
            utilization_law: None,
            shard: None,
            merged: None,
        }
    }
}

/// Whether a step's failure to deliver makes the run invalid. A saturated step is a result
/// where finding the target's limit is the point: a stress run's breaking point, a spike's
/// ramp, burst and recovery. So is a stress step the target answered only in part. A generator
/// that fell behind, or a target that answered nothing at all, leaves the run without one.
fn invalidates(s: &StepResult, stress: bool) -> bool {
    let transient = matches!(s.role, Role::Ramp | Role::Burst | Role::Recovery);
    match &s.delivery {
        Delivery::Delivered => false,
        Delivery::Saturated { .. } => !(stress || transient),
        Delivery::GeneratorBehind { .. } => true,
        Delivery::NoResponse { .. } => !stress || s.requests == s.errors.connect + s.errors.io + s.errors.timeout,
    }
}

/// Fills in validity, SLO status, the end time and the profile's analysis.
fn finish(results: &mut Results, r: &Resolved, cpu0: Option<f64>) {
    results.environment.end = now_rfc3339();
    results.environment.generator_cpu_s = cpu_seconds().zip(cpu0).map(|(a, b)| a - b);
    conclude(results, r.profile.kind, r.profile.drift_window_s, r.min_rps);
}

/// Judges a run's steps as a whole: its validity, whether its SLOs held, and the analysis of
/// its profile (`kind`; a soak's drift over `drift_window_s`; `expect.min_rps`). `merge` judges
/// merged shards with it as `run` judges one generator's steps.
pub(crate) fn conclude(results: &mut Results, kind: ProfileKind, drift_window_s: Option<f64>, min_rps: Option<f64>) {
    let stress = kind == ProfileKind::Stress;
    results.invalid_reasons = results
        .steps
        .iter()
        .filter(|s| invalidates(s, stress))
        .map(|s| format!("{}: {}", s.name, s.invalid_reason.clone().unwrap_or_default()))
        .collect();
    results.valid = results.invalid_reasons.is_empty();
    let breaking_point = stress.then(|| analysis::stress::breaking_point(&results.steps));
    let expected = min_rps.map(|m| analysis::stress::expected(m, &results.steps, breaking_point.as_ref()));
    // A stress run passes when some step held (its failing step is its result); any other run
    // when every threshold held. Either fails when it fell short of its expected capacity.
    results.slo_passed = match &breaking_point {
        Some(b) => b.last_passing.is_some(),
        None => results.steps.iter().all(|s| s.slo.iter().all(|t| t.passed)),
    } && expected.as_ref().is_none_or(|e| e.passed);
    results.analysis = Analysis {
        breaking_point,
        expected,
        spike: (kind == ProfileKind::Spike).then(|| analysis::spike::spike(&results.steps)),
        soak: drift_window_s.and_then(|w| results.steps.first().map(|s| analysis::soak::soak(s, w))),
    };
    results.utilization_law = analysis::utilization::fit(&results.steps);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::recorder::ErrorCounts;

    fn second(requests: u64, errors: u64) -> results::Second {
        results::Second {
            t_s: 0.0,
            duration_s: 1.0,
            offered_rps: None,
            requests,
            achieved_rps: requests as f64,
            in_flight: 0.0,
            late_starts: 0,
            p50_us: None,
            p90_us: None,
            p99_us: None,
            max_us: None,
            errors: ErrorCounts { http_5xx: errors, ..ErrorCounts::default() },
            latency: String::new(),
            utilization: None,
        }
    }

    #[test]
    fn the_abort_window_slides_across_steps() {
        let mut w = AbortWindow::new(AbortRule { error_rate: 0.5, for_s: 10.0 });
        // Nine bad seconds (from steps of any length) are not yet ten.
        for _ in 0..9 {
            assert_eq!(w.push(&second(100, 100)), None);
        }
        assert_eq!(w.push(&second(100, 100)), Some(1.0));
        // A window of 10 s at 40% errors holds; one at 60% aborts.
        let mut w = AbortWindow::new(AbortRule { error_rate: 0.5, for_s: 10.0 });
        for i in 0..20 {
            assert_eq!(w.push(&second(100, if i % 5 < 2 { 100 } else { 0 })), None, "second {i}");
        }
        let mut w = AbortWindow::new(AbortRule { error_rate: 0.5, for_s: 10.0 });
        let fired = (0..20).filter_map(|i| w.push(&second(100, if i % 5 < 3 { 100 } else { 0 }))).next();
        assert_eq!(fired, Some(0.6));
    }
}
