//! Running a plan: resolve it, run its steps, judge them and keep `results.json` current.

use std::path::PathBuf;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio::sync::watch;

use super::analysis::{self, BreakingPoint, Expected, SoakAnalysis, SpikeAnalysis};
use super::collector::StepRun;
use super::gauge::cpu_seconds;
use super::plan::{AbortRule, LoadPlan};
use super::profile::{Role, Step};
use super::resolve::{redacted, resolve, FilterReset, Resolved};
use super::results::{self, StepResult};
use super::verdict::Delivery;
use crate::units::sig;

/// A run that measured something but cannot be trusted (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RunInvalid(pub String);

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Overrides the plan's target.
    pub target: Option<String>,
    /// Caps every step's rate, on top of the plan's own cap.
    pub max_rps: Option<f64>,
    pub out: PathBuf,
    /// Draw a live progress line on standard error.
    pub progress: bool,
    /// Accept any TLS certificate (self-signed staging servers).
    pub insecure: bool,
    /// The command-line flags that replaced the plan's values, as given; recorded in results.
    pub overrides: Vec<String>,
}

/// What the machine and the run were.
#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    pub headroom_version: &'static str,
    pub cores: usize,
    pub start: String,
    pub end: String,
    /// CPU seconds the generator used (user + system).
    pub generator_cpu_s: Option<f64>,
}

/// The profile-specific findings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Analysis {
    pub breaking_point: Option<BreakingPoint>,
    /// `expect.min_rps` against what the run showed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
    pub spike: Option<SpikeAnalysis>,
    pub soak: Option<SoakAnalysis>,
}

/// `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// The plan as run (with the command line's overrides), header values other than `${VAR}`
    /// references redacted.
    pub plan: LoadPlan,
    /// The command-line flags that replaced the plan's values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    pub target: String,
    pub profile: &'static str,
    pub environment: Environment,
    pub interrupted: bool,
    /// Why the abort rule stopped the run, when it did.
    pub aborted: Option<String>,
    pub valid: bool,
    pub invalid_reasons: Vec<String>,
    pub slo_passed: bool,
    pub steps: Vec<StepResult>,
    pub analysis: Analysis,
}

fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    crate::calendar::rfc3339(secs)
}

/// Runs `plan` (from `file`) until done, stopped through `stop`, or aborted by its rule.
pub async fn execute(plan: &LoadPlan, file: &str, opts: &RunOptions, stop_tx: watch::Sender<bool>) -> Result<Results> {
    let r = resolve(plan, file, opts)?;
    probe(&r).await?;
    let mut watch = Watch::new(&r, opts, stop_tx);
    let cpu0 = cpu_seconds();
    let mut results = Results::started(plan, &r, &opts.overrides);
    let phases: Vec<&[Step]> =
        if r.profile.continuous { vec![&r.profile.steps[..]] } else { r.profile.steps.chunks(1).collect() };
    'phases: for steps in phases {
        let stop = watch.stop_tx.subscribe();
        let runs = match &r.journeys {
            Some(j) => {
                j.run_phase(steps, stop, &mut |i, s| watch.tick(steps, i, s)).await.map_err(anyhow::Error::msg)?
            }
            None => r.engine.run_phase(steps, stop, &mut |i, s| watch.tick(steps, i, s)).await,
        };
        watch.done_s += steps.iter().map(|s| s.duration_s).sum::<f64>();
        for (step, run) in steps.iter().zip(runs) {
            if step.role == Role::Warmup && !run.stopped_early {
                continue;
            }
            // A step the stop cut short before it began measured nothing worth keeping.
            if run.stopped_early && run.records.iter().all(|x| x.requests == 0) {
                break 'phases;
            }
            let stopped = run.stopped_early;
            let s = judge(&r, step, run);
            let failed = analysis::step_failure(&s).is_some();
            results.steps.push(s);
            results.interrupted = stopped && watch.abort_reason.is_none();
            results.aborted = watch.abort_reason.clone();
            finish(&mut results, &r, cpu0);
            results::write_atomic(&opts.out, &results)?;
            if r.profile.stop_on_slo_failure && failed {
                break 'phases;
            }
        }
        if *watch.stop_tx.borrow() {
            break;
        }
    }
    watch.bar.finish_and_clear();
    results.aborted = watch.abort_reason.clone();
    results.interrupted = *watch.stop_tx.borrow() && results.aborted.is_none();
    finish(&mut results, &r, cpu0);
    results::write_atomic(&opts.out, &results)?;
    Ok(results)
}

/// Checks that the target can be reached (and speaks TLS when it should) before any step.
async fn probe(r: &Resolved) -> Result<()> {
    let url = &r.url;
    // A target that resets connections is reachable and misbehaving: that is measured and
    // classified; refusal, timeouts and unreachable hosts end the run here.
    if let Err(e) = r.engine.probe().await.filter_reset() {
        return Err(RunInvalid(format!("cannot connect to {url}: {e}; is the target running and reachable?")).into());
    }
    if let Some(e) = r.engine.probe_tls().await {
        return Err(RunInvalid(format!(
            "cannot talk TLS to {url}: {e}; for a server with a self-signed certificate pass --insecure"
        ))
        .into());
    }
    Ok(())
}

/// A step's results, its SLO thresholds checked.
fn judge(r: &Resolved, step: &Step, run: StepRun) -> StepResult {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let records = run.records.clone();
    let mut s = StepResult::new(step, &r.names, run, cores);
    let merged = s.merged.clone().unwrap_or_default();
    s.slo = analysis::check(&r.overall, "overall", &merged, s.window_s);
    for (i, text, t) in &r.per_request {
        s.slo.extend(analysis::check(&[(text.clone(), *t)], &r.names[*i], &records[*i], s.window_s));
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
    abort: Option<AbortRule>,
    bad_seconds: f64,
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
        let unit = if r.journeys.is_some() { " journeys/s" } else { "" };
        Watch { bar, total_s, done_s: 0.0, unit, abort: r.abort, bad_seconds: 0.0, abort_reason: None, stop_tx }
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
        let Some(rule) = self.abort else { return };
        let rate = if s.requests > 0 { s.errors.total() as f64 / s.requests as f64 } else { 0.0 };
        self.bad_seconds = if rate > rule.error_rate { self.bad_seconds + s.duration_s } else { 0.0 };
        if self.bad_seconds >= rule.for_s && self.abort_reason.is_none() {
            self.abort_reason = Some(format!(
                "error rate over {}% for {}s in {}",
                sig(rule.error_rate * 100.0, 3),
                sig(rule.for_s, 3),
                step.name
            ));
            let _ = self.stop_tx.send(true);
        }
    }
}

impl Results {
    /// A run about to start: no steps yet.
    fn started(plan: &LoadPlan, r: &Resolved, overrides: &[String]) -> Results {
        Results {
            plan: redacted(plan),
            overrides: overrides.to_vec(),
            target: r.url.clone(),
            profile: r.profile.kind,
            environment: Environment {
                headroom_version: env!("CARGO_PKG_VERSION"),
                cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
                start: now_rfc3339(),
                end: String::new(),
                generator_cpu_s: None,
            },
            interrupted: false,
            aborted: None,
            valid: true,
            invalid_reasons: Vec::new(),
            slo_passed: true,
            steps: Vec::new(),
            analysis: Analysis::default(),
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
    let profile = &r.profile;
    let stress = profile.kind == "stress";
    results.invalid_reasons = results
        .steps
        .iter()
        .filter(|s| invalidates(s, stress))
        .map(|s| format!("{}: {}", s.name, s.invalid_reason.clone().unwrap_or_default()))
        .collect();
    results.valid = results.invalid_reasons.is_empty();
    results.environment.end = now_rfc3339();
    results.environment.generator_cpu_s = cpu_seconds().zip(cpu0).map(|(a, b)| a - b);
    let breaking_point = stress.then(|| analysis::breaking_point(&results.steps));
    let expected = r.min_rps.map(|m| analysis::expected(m, &results.steps, breaking_point.as_ref()));
    // A stress run passes when some step held (its failing step is its result); any other run
    // when every threshold held. Either fails when it fell short of its expected capacity.
    results.slo_passed = match &breaking_point {
        Some(b) => b.last_passing.is_some(),
        None => results.steps.iter().all(|s| s.slo.iter().all(|t| t.passed)),
    } && expected.as_ref().is_none_or(|e| e.passed);
    results.analysis = Analysis {
        breaking_point,
        expected,
        spike: (profile.kind == "spike").then(|| analysis::spike(&results.steps)),
        soak: profile.drift_window_s.and_then(|w| results.steps.first().map(|s| analysis::soak(s, w))),
    };
}
