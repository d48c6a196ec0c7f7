//! Running a plan: resolve it, run its steps, analyse them and keep `results.json` current.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio::sync::watch;

use super::analysis::{self, BreakingPoint, SoakAnalysis, SpikeAnalysis};
use super::engine::{Engine, Prepared, Target};
use super::journey::{self, driver::JourneyEngine};
use super::plan::{self, AbortRule, LoadPlan, Threshold};
use super::profile::{self, Role};
use super::results::{self, StepResult};
use crate::error::InputError;
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
    pub spike: Option<SpikeAnalysis>,
    pub soak: Option<SoakAnalysis>,
}

/// `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// The plan as given, header values other than `${VAR}` references redacted.
    pub plan: LoadPlan,
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

/// CPU seconds of this process from /proc (Linux); `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

trait FilterReset {
    fn filter_reset(self) -> Self;
}

impl FilterReset for std::io::Result<()> {
    fn filter_reset(self) -> Self {
        match self {
            Err(e)
                if matches!(e.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted) =>
            {
                Ok(())
            }
            other => other,
        }
    }
}

/// Expands `${VAR}` from the environment.
fn expand(value: &str, key: &str, file: &str) -> Result<String, InputError> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').ok_or_else(|| InputError::BadFile {
            file: file.into(),
            message: format!("{key}: unclosed ${{ in '{value}'"),
        })?;
        let var = &rest[i + 2..i + end];
        let v = std::env::var(var).map_err(|_| InputError::BadFile {
            file: file.into(),
            message: format!("{key}: the environment variable {var} is not set: export it before the run"),
        })?;
        out.push_str(&v);
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A threshold on one request of the mix: (request index, text, threshold).
type RequestThreshold = (usize, String, Threshold);

fn prepare(plan: &LoadPlan, target: &Target, file: &str) -> Result<(Vec<Prepared>, Vec<RequestThreshold>), InputError> {
    let mut requests = Vec::new();
    let mut thresholds = Vec::new();
    for (i, r) in plan.requests.iter().enumerate() {
        let key = |k: &str| format!("requests[{i}].{k}");
        let method = Method::from_bytes(r.method.to_uppercase().as_bytes()).map_err(|_| InputError::BadFile {
            file: file.into(),
            message: format!("{}: '{}' is not an HTTP method", key("method"), r.method),
        })?;
        if !r.path.starts_with('/') {
            return Err(InputError::BadFile {
                file: file.into(),
                message: format!("{}: '{}' must start with /", key("path"), r.path),
            });
        }
        let mut headers = Vec::new();
        for (name, value) in &r.headers {
            let hk = key(&format!("headers.{name}"));
            let bad = |what: &str| InputError::BadFile { file: file.into(), message: format!("{hk}: {what}") };
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("not a valid header name"))?;
            let v = HeaderValue::from_str(&expand(value, &hk, file)?).map_err(|_| bad("not a valid header value"))?;
            headers.push((n, v));
        }
        for text in &r.slo {
            thresholds.push((i, text.clone(), plan::field::<Threshold>(file, &key("slo"), text)?));
        }
        requests.push(Prepared {
            name: r.name.clone(),
            method,
            path: format!("{}{}", target.base, r.path),
            headers,
            body: Bytes::from(r.body.clone().unwrap_or_default()),
            expect: r.expect_status,
            weight: r.weight,
        });
    }
    Ok((requests, thresholds))
}

fn redacted(plan: &LoadPlan) -> LoadPlan {
    let mut p = plan.clone();
    let journey_headers = p.journeys.iter_mut().flat_map(|j| j.steps.iter_mut().map(|s| &mut s.headers));
    for headers in p.requests.iter_mut().map(|r| &mut r.headers).chain(journey_headers) {
        for v in headers.values_mut() {
            if !(v.starts_with("${") && v.ends_with('}')) {
                *v = "<redacted>".into();
            }
        }
    }
    p
}

/// A plan resolved against its environment: everything a run needs, checked.
struct Resolved {
    url: String,
    engine: Arc<Engine>,
    /// Journey plans run on goose; the engine above then only holds the target and limits.
    journeys: Option<Arc<JourneyEngine>>,
    names: Vec<String>,
    overall: Vec<(String, Threshold)>,
    per_request: Vec<RequestThreshold>,
    profile: profile::Profile,
    abort: Option<AbortRule>,
}

/// Checks every key of the plan (target, caps, thresholds, requests, profile) before a request
/// is sent; each error names the key.
fn resolve(plan: &LoadPlan, file: &str, opts: &RunOptions) -> Result<Resolved> {
    let url = opts.target.clone().or(plan.target.clone()).ok_or_else(|| {
        InputError::Usage(format!(
            "{file}: no target: pass --target http://HOST:PORT or set target = \"...\" in the plan"
        ))
    })?;
    let target = Target::parse(&url)?;
    let timeout = plan::secs(file, "timeout", &plan.timeout)?;
    let plan_cap = plan.safety.max_rps.as_deref().map(|m| plan::rate(file, "safety.max_rps", m)).transpose()?;
    let cap = match (plan_cap, opts.max_rps) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let abort = plan.safety.abort.as_deref().map(|a| plan::field::<AbortRule>(file, "safety.abort", a)).transpose()?;
    let overall: Vec<(String, Threshold)> = plan
        .slo
        .iter()
        .map(|t| Ok((t.clone(), plan::field::<Threshold>(file, "slo", t)?)))
        .collect::<Result<_, InputError>>()?;
    let (requests, per_request) = prepare(plan, &target, file)?;
    let journeys = journey::prepare(&plan.journeys, &target.base, file)?;
    let mut names: Vec<String> = requests.iter().map(|r| r.name.clone()).collect();
    let profile = profile::build(&plan.profile, file, cap)?;
    let mut engine = Engine::new(target, requests, Duration::from_secs_f64(timeout), plan.safety.max_in_flight);
    let insecure = opts.insecure || plan.insecure;
    if engine.target.tls {
        engine.tls = Some(super::http::tls_config(insecure));
    }
    let engine = Arc::new(engine);
    let journeys = (!journeys.is_empty()).then(|| Arc::new(JourneyEngine::new(engine.clone(), journeys, insecure)));
    if let Some(j) = &journeys {
        names = j.names();
    }
    Ok(Resolved { url, engine, journeys, names, overall, per_request, profile, abort })
}

/// Runs `plan` (from `file`) until done, stopped through `stop`, or aborted by its rule.
pub async fn execute(plan: &LoadPlan, file: &str, opts: &RunOptions, stop_tx: watch::Sender<bool>) -> Result<Results> {
    let Resolved { url, engine, journeys, names, overall, per_request, profile, abort } = resolve(plan, file, opts)?;
    let unit = if journeys.is_some() { " journeys/s" } else { "" };
    // A target that resets connections is reachable and misbehaving: that is measured and
    // classified below; refusal, timeouts and unreachable hosts end the run here.
    if let Err(e) = engine.probe().await.filter_reset() {
        return Err(RunInvalid(format!("cannot connect to {url}: {e}; is the target running and reachable?")).into());
    }
    if let Some(e) = engine.probe_tls().await {
        return Err(RunInvalid(format!(
            "cannot talk TLS to {url}: {e}; for a server with a self-signed certificate pass --insecure"
        ))
        .into());
    }
    let total_s: f64 = profile.steps.iter().map(|s| s.duration_s).sum();
    let bar = if opts.progress { ProgressBar::new(total_s.ceil() as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len}s {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let cpu0 = cpu_seconds();
    let mut results = Results {
        plan: redacted(plan),
        target: url.clone(),
        profile: profile.kind,
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
    };
    let phases: Vec<&[profile::Step]> =
        if profile.continuous { vec![&profile.steps[..]] } else { profile.steps.chunks(1).collect() };
    let mut done_s = 0.0;
    let mut abort_reason: Option<String> = None;
    'phases: for steps in phases {
        let mut bad_seconds = 0.0;
        let mut tick = |i: usize, s: &results::Second| {
            let step = &steps[i];
            let offset: f64 = steps[..i].iter().map(|s| s.duration_s).sum();
            bar.set_position((done_s + offset + s.t_s + s.duration_s).min(total_s) as u64);
            let p99 = s.p99_us.map_or("—".into(), |p| crate::units::human_duration(p as f64 / 1e6));
            let target = s.offered_rps.map_or("closed".into(), |o| format!("target {}{unit}", sig(o, 4)));
            bar.set_message(format!(
                "{}: {target}, achieved {} RPS, p99 {p99}, errors {}",
                step.name,
                sig(s.achieved_rps, 4),
                s.errors.total()
            ));
            if let Some(rule) = abort {
                let rate = if s.requests > 0 { s.errors.total() as f64 / s.requests as f64 } else { 0.0 };
                bad_seconds = if rate > rule.error_rate { bad_seconds + s.duration_s } else { 0.0 };
                if bad_seconds >= rule.for_s && abort_reason.is_none() {
                    abort_reason = Some(format!(
                        "error rate over {}% for {}s in {}",
                        sig(rule.error_rate * 100.0, 3),
                        sig(rule.for_s, 3),
                        step.name
                    ));
                    let _ = stop_tx.send(true);
                }
            }
        };
        let runs = match &journeys {
            Some(j) => j.run_phase(steps, stop_tx.subscribe(), &mut tick).await.map_err(anyhow::Error::msg)?,
            None => engine.run_phase(steps, stop_tx.subscribe(), &mut tick).await,
        };
        done_s += steps.iter().map(|s| s.duration_s).sum::<f64>();
        for (step, run) in steps.iter().zip(runs) {
            if step.role == Role::Warmup && !run.stopped_early {
                continue;
            }
            let mut r = StepResult::new(
                step,
                &names,
                run.records.clone(),
                run.series,
                run.elapsed_s,
                run.mean_in_flight,
                run.reconnects,
            );
            if let Some(j) = run.journeys {
                r = r.with_journeys(j);
            }
            let merged = r.merged.clone().unwrap_or_default();
            r.slo = analysis::check(&overall, "overall", &merged);
            for (i, text, t) in &per_request {
                r.slo.extend(analysis::check(&[(text.clone(), *t)], &names[*i], &run.records[*i]));
            }
            let failed = analysis::step_failure(&r).is_some();
            // A step the stop cut short before it began measured nothing worth keeping.
            if run.stopped_early && r.requests == 0 {
                break 'phases;
            }
            results.steps.push(r);
            results.interrupted = run.stopped_early && abort_reason.is_none();
            results.aborted = abort_reason.clone();
            finish(&mut results, &profile, cpu0);
            results::write_atomic(&opts.out, &results)?;
            if profile.stop_on_slo_failure && failed {
                break 'phases;
            }
        }
        if *stop_tx.borrow() {
            break;
        }
    }
    bar.finish_and_clear();
    results.aborted = abort_reason;
    results.interrupted = *stop_tx.borrow() && results.aborted.is_none();
    finish(&mut results, &profile, cpu0);
    results::write_atomic(&opts.out, &results)?;
    Ok(results)
}

/// Fills in validity, SLO status, the end time and the profile's analysis.
fn finish(results: &mut Results, profile: &profile::Profile, cpu0: Option<f64>) {
    let stress = profile.kind == "stress";
    results.invalid_reasons = results
        .steps
        .iter()
        // In a stress run a step that was answered but fell short of its rate is the breaking
        // point, a result; a target that answered nothing still makes the run invalid.
        .filter(|s| !(s.valid || stress && s.requests > s.errors.connect))
        .map(|s| format!("{}: {}", s.name, s.invalid_reason.clone().unwrap_or_default()))
        .collect();
    results.valid = results.invalid_reasons.is_empty();
    results.slo_passed = stress || results.steps.iter().all(|s| s.slo.iter().all(|t| t.passed));
    results.environment.end = now_rfc3339();
    results.environment.generator_cpu_s = cpu_seconds().zip(cpu0).map(|(a, b)| a - b);
    results.analysis = Analysis {
        breaking_point: stress.then(|| analysis::breaking_point(&results.steps)),
        spike: (profile.kind == "spike").then(|| analysis::spike(&results.steps)),
        soak: profile.drift_window_s.and_then(|w| results.steps.first().map(|s| analysis::soak(s, w))),
    };
}
