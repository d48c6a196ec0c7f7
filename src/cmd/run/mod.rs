//! `headroom run [PLAN]`: run a load plan, or an ad-hoc one-step plan from flags.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use tokio::sync::watch;

use crate::error::InputError;
use crate::load::plan::{self, LoadPlan, ProfileSpec, RequestSpec, Safety};
use crate::load::profile::Role;
use crate::load::runner::{self, Results, RunOptions};
use crate::output::{self, Doc, Format, Render, Section};
use crate::units::{human_duration, percent, sig, Rate, Span};

/// Arguments of `headroom run`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  headroom run loadplans/sweep.toml --target http://127.0.0.1:8080\n  \
headroom run loadplans/journeys.toml --target http://127.0.0.1:8080\n  \
headroom run --target http://127.0.0.1:8080/health --rate 2k --duration 30s\n  \
headroom run --target http://127.0.0.1:8080/ --users 50 --duration 1m --slo 'p99 < 300ms'")]
pub struct RunArgs {
    /// A load plan (TOML) of [[requests]] or [[journeys]] (see loadplans/); without one, --target with
    /// --rate or --users runs one step
    pub plan: Option<PathBuf>,
    /// The base URL, overriding the plan's; with no plan, the URL requested
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Ad hoc: a constant arrival rate (open model)
    #[arg(long, allow_hyphen_values = true, value_name = "RATE", conflicts_with_all = ["users", "plan"])]
    pub rate: Option<Rate>,
    /// Ad hoc: this many users sending back to back (closed model)
    #[arg(long, value_name = "N", conflicts_with = "plan")]
    pub users: Option<usize>,
    /// Ad hoc: how long to run
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub duration: Span,
    /// Ad hoc: run this long first without recording
    #[arg(long, value_name = "DURATION")]
    pub warmup: Option<Span>,
    /// Ad hoc: the HTTP method
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// Ad hoc: a header 'Name: value' (repeatable); values may use ${VAR}
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Ad hoc: the request body
    #[arg(long)]
    pub body: Option<String>,
    /// Ad hoc: per-request timeout
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub timeout: Span,
    /// Ad hoc: an SLO threshold such as 'p99 < 300ms' or 'error_rate < 1%' (repeatable)
    #[arg(long, value_name = "THRESHOLD")]
    pub slo: Vec<String>,
    /// Ad hoc: requests in flight at most (also the number of connections)
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_in_flight: usize,
    /// Cap every step's arrival rate, whatever the plan says
    #[arg(long, allow_hyphen_values = true, value_name = "RATE")]
    pub max_rps: Option<Rate>,
    /// Accept any TLS certificate (certificates are checked by default)
    #[arg(long)]
    pub insecure: bool,
    /// Where results.json goes (default: a new folder under reports/)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output format of the summary
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

fn ad_hoc(args: &RunArgs) -> Result<(LoadPlan, Option<String>), InputError> {
    let url = args
        .target
        .clone()
        .ok_or_else(|| InputError::Usage("give a plan, or --target URL with --rate or --users".into()))?;
    let (origin, path) = match url.find("://").map(|i| i + 3).and_then(|i| url[i..].find('/').map(|j| i + j)) {
        Some(p) => (url[..p].to_string(), url[p..].to_string()),
        None => (url.clone(), "/".to_string()),
    };
    let duration = format!("{}s", args.duration.secs());
    let profile = match (args.rate, args.users) {
        (Some(r), None) => {
            ProfileSpec::Load { rate: r.0.to_string(), duration, warmup: args.warmup.map(|w| format!("{}s", w.secs())) }
        }
        (None, Some(u)) => ProfileSpec::Closed { users: vec![u], duration },
        _ => return Err(InputError::Usage("an ad-hoc run needs --rate (open model) or --users (closed model)".into())),
    };
    let mut headers = BTreeMap::new();
    for h in &args.headers {
        let (k, v) =
            h.split_once(':').ok_or_else(|| InputError::Usage(format!("--header '{h}': write it as 'Name: value'")))?;
        headers.insert(k.trim().to_string(), v.trim().to_string());
    }
    let plan = LoadPlan {
        target: Some(origin.clone()),
        timeout: format!("{}s", args.timeout.secs()),
        insecure: args.insecure,
        requests: vec![RequestSpec {
            name: format!("{} {path}", args.method.to_uppercase()),
            method: args.method.clone(),
            path,
            weight: 1,
            headers,
            body: args.body.clone(),
            expect_status: None,
            slo: Vec::new(),
        }],
        journeys: Vec::new(),
        slo: args.slo.clone(),
        safety: Safety { max_rps: None, max_in_flight: args.max_in_flight, abort: None },
        profile,
    };
    Ok((plan, Some(origin)))
}

fn default_out() -> PathBuf {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let stamp: String = crate::calendar::rfc3339(secs).chars().filter(|c| c.is_ascii_digit()).collect();
    PathBuf::from("reports").join(format!("run-{}-{}", &stamp[..8], &stamp[8..14]))
}

/// Runs `headroom run`; the exit code says whether the SLO held and the run was valid.
pub fn run(args: RunArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let (plan, target, file) = match &args.plan {
        Some(path) => (plan::load(path)?, args.target.clone(), path.display().to_string()),
        None => {
            let (p, t) = ad_hoc(&args)?;
            (p, t, "the command line".to_string())
        }
    };
    let opts = RunOptions {
        target,
        max_rps: args.max_rps.map(|r| r.0),
        out: args.out.clone().unwrap_or_else(default_out),
        progress: true,
        insecure: args.insecure,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let results: Results = runtime.block_on(async {
        let (stop_tx, _) = watch::channel(false);
        // goose installs a Ctrl-C handler of its own when an attack starts, and SIGINT would then
        // never reach tokio's; with ours installed first through the same crate, goose's stands
        // aside and every engine stops on the same signal.
        let on_ctrl_c = stop_tx.clone();
        if ctrlc::set_handler(move || {
            let _ = on_ctrl_c.send(true);
        })
        .is_err()
        {
            let on_ctrl_c = stop_tx.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    let _ = on_ctrl_c.send(true);
                }
            });
        }
        runner::execute(&plan, &file, &opts, stop_tx).await
    })?;
    runtime.shutdown_background();
    output::emit(&results, args.format, out)?;
    out.flush()?;
    eprintln!("results: {}", opts.out.join("results.json").display());
    Ok(if results.interrupted {
        ExitCode::from(130)
    } else if !results.valid {
        ExitCode::from(3)
    } else if !results.slo_passed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn us(v: Option<u64>) -> String {
    v.map_or("—".into(), |v| crate::units::micros(v as f64))
}

/// Each journey in each step: counts and end-to-end latency, with where failed journeys stopped.
fn journeys_section(results: &Results) -> Option<Section> {
    let mut t = Section::new(
        "Journeys (end to end, think times included, from each journey's intended start; raw = from its first request)",
        &["step", "journey", "started", "completed", "failed", "completed/s", "p50", "p99", "max", "p99 raw"],
    );
    for s in &results.steps {
        for j in s.journeys.iter().flat_map(|j| &j.journeys) {
            let l = j.latency_us;
            t = t.row([
                s.name.clone(),
                j.name.clone(),
                j.started.to_string(),
                j.completed.to_string(),
                j.failed.to_string(),
                sig(j.completed_per_s, 4),
                us(l.map(|p| p.p50)),
                us(l.map(|p| p.p99)),
                us(l.map(|p| p.max)),
                us(j.duration_us.map(|p| p.p99)),
            ]);
            for f in j.steps.iter().filter(|f| f.failed > 0) {
                let why: Vec<String> = f.reasons.iter().map(|r| format!("{} ×{}", r.reason, r.count)).collect();
                t.notes.push(format!("{}: {} stopped at {}: {}", s.name, f.failed, f.name, why.join("; ")));
            }
        }
    }
    (!t.rows.is_empty()).then_some(t)
}

impl Render for Results {
    fn doc(&self) -> Doc {
        let mut steps = Section::new(
            "Steps (latency from each request's intended send time; raw = from its actual send)",
            &["step", "target", "achieved RPS", "requests", "p50", "p99", "p99.9", "max", "p99 raw", "errors", "late"],
        );
        for s in &self.steps {
            let l = s.latency_us;
            steps = steps.row([
                s.name.clone(),
                match (s.target_rps, s.journeys.as_ref().and_then(|j| j.target_per_s), s.users) {
                    (Some(t), _, _) => sig(t, 5),
                    (None, Some(t), _) => format!("{} journeys/s", sig(t, 5)),
                    (None, None, Some(u)) => format!("{u} users"),
                    _ => "—".into(),
                },
                sig(s.achieved_rps, 5),
                s.requests.to_string(),
                us(l.map(|p| p.p50)),
                us(l.map(|p| p.p99)),
                us(l.map(|p| p.p999)),
                us(l.map(|p| p.max)),
                us(s.service_time_us.map(|p| p.p99)),
                format!("{} ({}%)", s.errors.total(), sig(s.error_rate * 100.0, 3)),
                s.late_starts.to_string(),
            ]);
            // L = X·W holds in steady state; a ramp, burst or recovery is a transient by design.
            let steady = !matches!(s.role, Role::Ramp | Role::Burst | Role::Recovery);
            if steady && s.littles_law.relative_disagreement.abs() > 0.2 && s.requests > 100 {
                steps.notes.push(format!(
                    "{}: Little's Law disagrees by {}% (in flight {} measured, {} = X·W): check the generator",
                    s.name,
                    sig(s.littles_law.relative_disagreement * 100.0, 3),
                    sig(s.mean_in_flight, 4),
                    sig(s.littles_law.predicted_in_flight, 4)
                ));
            }
            for t in s.slo.iter().filter(|t| !t.passed) {
                let shown =
                    if t.threshold.starts_with("error_rate") { percent(t.value, 3) } else { us(Some(t.value as u64)) };
                steps.notes.push(format!("{}: SLO '{}' ({}) failed: {shown}", s.name, t.threshold, t.scope));
            }
        }
        for r in &self.invalid_reasons {
            steps.notes.push(format!("invalid: {r}"));
        }
        if let Some(a) = &self.aborted {
            steps.notes.push(format!("aborted by the safety rule: {a}"));
        }
        if self.interrupted {
            steps.notes.push("interrupted: the results hold what was measured until then".into());
        }
        let a = &self.analysis;
        if let Some(b) = &a.breaking_point {
            steps.notes.push(match (&b.last_passing, &b.first_failing) {
                (Some(l), Some(f)) => {
                    format!("breaking point: {l} held, {f} failed ({})", b.reason.clone().unwrap_or_default())
                }
                (None, Some(f)) => format!(
                    "breaking point: the first step, {f}, already failed ({})",
                    b.reason.clone().unwrap_or_default()
                ),
                (Some(l), None) => format!("no breaking point up to {l}"),
                _ => "no steps".into(),
            });
        }
        if let Some(sp) = &a.spike {
            steps.notes.push(format!(
                "spike: baseline p99 {}, burst p99 {} with {} errors; back within 10% of the baseline p99 after {}",
                us(sp.baseline_p99_us),
                us(sp.burst_p99_us),
                sp.burst_errors,
                sp.recovery_s.map_or("never, within the recovery step".into(), |t| human_duration(t.max(1e-3)))
            ));
        }
        if let Some(so) = &a.soak {
            let t = so.p99_trend_us.map_or("—".into(), |t| {
                format!(
                    "{} per hour (p = {})",
                    us(Some(t.slope_per_hour.abs() as u64)),
                    t.p_value.map_or("—".into(), |p| sig(p, 2))
                )
            });
            steps.notes.push(format!(
                "soak: p99 {} in the first {} window, {} in the last; trend {t}; {} connection errors, {} reconnects",
                us(so.p99_first_window_us.map(|v| v as u64)),
                human_duration(so.window_s),
                us(so.p99_last_window_us.map(|v| v as u64)),
                so.connection_errors,
                so.reconnects
            ));
        }
        let verdict = match (self.interrupted, self.valid, self.slo_passed) {
            (true, _, _) => "interrupted",
            (_, false, _) => "not valid",
            (_, _, false) => "SLO failed",
            _ => "ok",
        };
        let mut sections = vec![steps];
        sections.extend(journeys_section(self));
        Doc { title: format!("{} run against {}: {verdict}", self.profile, self.target), sections }
    }
}
