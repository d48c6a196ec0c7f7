//! `headroom demo`: the whole pipeline against the simulated service, in about a minute.
//!
//! It starts `serve-sim` on 127.0.0.1, runs a concurrency sweep and a spike against it, fits
//! the USL to the sweep, forecasts from the nine years of Capital Bikeshare trips shipped in `models/history/`,
//! sizes one instance from the fit, plans 12 months and writes the capacity review. Every step
//! is an ordinary headroom command, and each is printed so that it can be run again by hand.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use super::fit::FitArgs;
use super::forecast::ForecastArgs;
use super::history::HistoryInput;
use super::plan::PlanArgs;
use super::report::ReportArgs;
use crate::output::Format;
use tokio::sync::watch;

use crate::load::runner;
use crate::model::capacity::{Fleet, Needed, Scaling};
use crate::plan;
use crate::plan::utilization::{CapacitySpec, UtilizationSpec};
use crate::present::review::inputs::{self, Artefact};
use crate::sim::{self, Distribution, SimConfig};

const SWEEP: &str = include_str!("../../loadplans/sweep.toml");
const SPIKE: &str = include_str!("../../loadplans/demo-spike.toml");
const HISTORY: &str = "models/history/bikeshare_dc_hourly.csv";
/// The utilization each instance is planned to run at, at the peak.
const TARGET_UTILIZATION: f64 = 0.6;
/// The requests of the planned service each trip stands for: the planner's assumption (a bike in
/// use reporting once a second through a trip of about 17 minutes), stated wherever it is used.
const REQUESTS_PER_TRIP: f64 = 1000.0;

/// Arguments of `headroom demo`.
#[derive(Debug, Args)]
#[command(after_help = "Run from the repository's root (it reads models/history/):\n  cargo run --release -- demo")]
pub struct DemoArgs {
    /// Folder for the review and every file behind it (git ignores the default; the sample
    /// committed in reports/demo/ is `--out reports/demo`)
    #[arg(long, default_value = "reports/demo-run", value_name = "DIR")]
    pub out: PathBuf,
}

/// Each step's line, bold on a terminal unless `NO_COLOR` is set (no-color.org).
fn say(text: &str) {
    use std::io::IsTerminal;
    let plain = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if std::io::stderr().is_terminal() && !plain {
        eprintln!("\x1b[1m==>\x1b[0m {text}");
    } else {
        eprintln!("==> {text}");
    }
}

/// Says the command line that does what the next step does, so it can be run again by hand.
fn shown(args: &[&str], to: Option<&Path>) {
    match to {
        Some(path) => say(&format!("headroom {} > {}", args.join(" "), path.display())),
        None => say(&format!("headroom {}", args.join(" "))),
    }
}

/// Runs a command function, its answer written atomically to `to`.
fn into(to: &Path, run: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    crate::files::write_atomic(to, run)
}

/// Runs `headroom demo`.
pub fn run(args: DemoArgs, out: &mut dyn Write) -> Result<()> {
    if crate::files::is_stdout(&args.out) {
        anyhow::bail!(crate::error::InputError::Usage(
            "--out -: the demo writes a folder (the review and every file behind it), not one stream; give a folder, e.g. --out /tmp/demo"
                .into()
        ));
    }
    if !Path::new(HISTORY).exists() {
        anyhow::bail!(crate::error::InputError::BadFile {
            file: HISTORY.into(),
            message: "not found: run `headroom demo` from the root of the headroom repository".into(),
        });
    }
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let interrupted = measure(dir)?;
    if interrupted {
        anyhow::bail!("interrupted: the results measured so far are in {}", dir.display());
    }
    let path = |name: &str| dir.join(name).display().to_string();
    model(dir)?;
    let sources = [
        path("spike/results.json"),
        path("sweep/results.json"),
        path("fit.json"),
        path("forecast.json"),
        path("plan.json"),
    ];
    let (html, md) = (path("report.html"), path("report.md"));
    review(&sources, &html, &md)?;
    writeln!(out, "The capacity review is in {html} (open it in a browser) and {md}.")?;
    Ok(())
}

/// Starts the simulated service and runs the sweep and the spike against it; `true` when a
/// Ctrl-C stopped them.
fn measure(dir: &Path) -> Result<bool> {
    let cfg = SimConfig {
        workers: 64,
        service_time: Duration::from_millis(20),
        distribution: Distribution::Constant,
        sigma: 0.05,
        kappa: 0.002,
        ..SimConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let sweep_dir = dir.join("sweep");
    let spike_dir = dir.join("spike");
    let interrupted = runtime.block_on(async {
        let sim = sim::spawn("127.0.0.1:0".parse().expect("a loopback address"), cfg).await?;
        say(&format!(
            "headroom serve-sim --addr {} --workers 64 --service-time 20ms --distribution constant --sigma 0.05 --kappa 0.002",
            sim.url().trim_start_matches("http://")
        ));
        let (stop_tx, _) = watch::channel(false);
        let on_ctrl_c = stop_tx.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = on_ctrl_c.send(true);
            }
        });
        for (text, file, to) in [(SWEEP, "loadplans/sweep.toml", &sweep_dir), (SPIKE, "loadplans/demo-spike.toml", &spike_dir)]
        {
            let mut plan = plan::parse(text, file)?;
            // The sweep reads the simulated service's busy workers as it goes, for the
            // Utilization Law: what `--utilization-*` would say on the command line.
            let reads = if file.ends_with("sweep.toml") {
                plan.utilization = Some(UtilizationSpec {
                    scrape: Some(format!("{}/metrics", sim.url())),
                    metric: Some("headroom_sim_busy_seconds_total".parse().map_err(anyhow::Error::msg)?),
                    capacity: Some(CapacitySpec::Metric("headroom_sim_workers".parse().map_err(anyhow::Error::msg)?)),
                    interval: Some("500ms".parse().map_err(anyhow::Error::msg)?),
                    ..UtilizationSpec::default()
                });
                format!(
                    " --utilization-scrape {}/metrics --utilization-metric headroom_sim_busy_seconds_total --utilization-capacity headroom_sim_workers --utilization-interval 500ms",
                    sim.url()
                )
            } else {
                String::new()
            };
            say(&format!("headroom run {file} --target {}{reads} --out {}", sim.url(), to.display()));
            let opts = runner::RunOptions {
                target: Some(sim.url()),
                max_rps: None,
                out: Some(to.clone()),
                progress: true,
                insecure: false,
                overrides: Vec::new(),
        shard: None,
            };
            let results = runner::execute(&plan, file, &opts, stop_tx.clone()).await?;
            if results.interrupted {
                return Ok::<bool, anyhow::Error>(true);
            }
        }
        sim.stop();
        Ok(false)
    })?;
    runtime.shutdown_background();
    Ok(interrupted)
}

/// Fits the sweep, forecasts the trace, sizes the service from both and plans its fleet.
fn model(dir: &Path) -> Result<()> {
    let path = |name: &str| dir.join(name).display().to_string();
    let sweep = path("sweep/results.json");
    let (fit, forecast, service, plan) =
        (dir.join("fit.json"), dir.join("forecast.json"), dir.join("service.toml"), dir.join("plan.json"));
    shown(&["fit", &sweep, "--format", "json"], Some(&fit));
    into(&fit, |w| {
        let args = FitArgs {
            file: sweep.clone().into(),
            concurrency_column: "concurrency".into(),
            throughput_column: "throughput".into(),
            at: Vec::new(),
            target: None,
            plot: None,
            format: Format::Json,
        };
        super::fit::run(args, w)
    })?;
    shown(
        &[
            "forecast",
            HISTORY,
            "--count-column",
            "trips",
            "--requests-per-count",
            "1000",
            "--timezone",
            "-05:00",
            "--format",
            "json",
        ],
        Some(&forecast),
    );
    into(&forecast, |w| {
        let args = ForecastArgs {
            input: history_input(),
            horizon: 12,
            peak_to_mean: None,
            worst_growth: None,
            holdout: None,
            format: Format::Json,
        };
        super::forecast::run(args, w)
    })?;
    write_service(&fit, &forecast, &service)?;
    let (forecast_s, service_s) = (path("forecast.json"), path("service.toml"));
    let fit_s = path("fit.json");
    let sweep_dir = path("sweep");
    shown(
        &["plan", &service_s, "--forecast", &forecast_s, "--results", &sweep_dir, "--fit", &fit_s, "--format", "json"],
        Some(&plan),
    );
    into(&plan, |w| {
        let args = PlanArgs {
            model: service.clone(),
            forecast: Some(forecast.clone()),
            // The sweep's own instance: its capacity reconciled from the sweep and its fit.
            fit: Some(fit.clone()),
            results: Some(dir.join("sweep")),
            months: 12,
            start: None,
            worst_growth: None,
            format: Format::Json,
        };
        super::plan::run(args, w)
    })?;
    Ok(())
}

/// Writes the capacity review of `sources` as HTML and Markdown.
fn review(sources: &[String], html: &str, md: &str) -> Result<()> {
    for (format, name, file) in [(Format::Html, "html", html), (Format::Md, "md", md)] {
        let mut line = vec!["report"];
        line.extend(sources.iter().map(|s| s.as_str()));
        line.extend(["--format", name, "-o", file]);
        shown(&line, None);
        let args = ReportArgs {
            files: sources.iter().map(PathBuf::from).collect(),
            format,
            output: Some(PathBuf::from(file)),
            baseline: None,
        };
        super::report::run(args, &mut std::io::sink())?;
    }
    Ok(())
}

/// The shipped Capital Bikeshare history: trips per hour, local time (US Eastern standard).
fn history_input() -> HistoryInput {
    HistoryInput {
        history: Some(HISTORY.into()),
        time_column: "timestamp".into(),
        timezone: crate::calendar::Zone::Fixed(-5 * 3600),
        epoch: Default::default(),
        rate_column: "rps".into(),
        count_column: Some("trips".into()),
        requests_per_count: Some(REQUESTS_PER_TRIP),
        instances_column: None,
        cpu_column: None,
        peak_column: None,
        interval: None,
        outage_after: "15m".parse().expect("a valid span"),
        skip_bad_rows: false,
        prometheus: Default::default(),
    }
}

/// The demo's service model: the bike-share's trips served by instances like the simulated one,
/// each planned at 60% of the peak throughput its sweep measured.
fn write_service(fit: &Path, forecast: &Path, to: &Path) -> Result<()> {
    let (_, artefact) = inputs::read(fit)?;
    let Artefact::Fit(fit) = artefact else { anyhow::bail!("{} is not a fit", fit.display()) };
    let (_, artefact) = inputs::read(forecast)?;
    let Artefact::Forecast(forecast) = artefact else { anyhow::bail!("{} is not a forecast", forecast.display()) };
    let busiest =
        forecast.days.iter().max_by(|a, b| a.peak_rps.total_cmp(&b.peak_rps)).context("the forecast has no days")?;
    let (current_peak, (y, m, d)) = (busiest.peak_rps, crate::calendar::civil_from_days(busiest.day));
    let peak = fit.usl.peak_throughput.or(fit.amdahl.ceiling_throughput).context("the sweep's fit has no peak")?;
    let per_instance = peak * TARGET_UTILIZATION;
    let fleet = Fleet {
        current_instances: 1,
        target_utilization: TARGET_UTILIZATION,
        scaling: Scaling::Linear { rps_at_target: per_instance },
        failure_domains: 3,
        spare_instances: 1,
    };
    let Needed::Instances(instances) = fleet.instances_needed(current_peak) else {
        anyhow::bail!("a linear fleet always reaches its demand")
    };
    let utilization = current_peak / (instances as f64 * peak);
    let text = format!(
        "# Written by `headroom demo`. The API of a bike-share: Capital Bikeshare's trips, each taken
# as {per_trip} requests (the planner's assumption: a bike in use reporting once a second through a
# trip of about 17 minutes), so the history's busiest hour is {current_peak:.0} RPS on {y}-{m:02}-{d:02};
# served by instances like the simulated service. One instance peaks at {peak:.1} RPS
# (the USL fit of the sweep); at {target:.0}% of that, {per_instance:.1} RPS, the fleet today is the
# smallest that carries that peak with one of three failure domains lost, plus one spare. The
# plan's capacity per instance is measured: `headroom plan --results sweep --fit fit.json`
# reconciles the sweep's SLO-bound throughput, its Utilization Law at the target and this peak.

[service]
name = \"bikeshare-api\"

[current]
instances = {instances}
peak_rps = {current_peak}
utilization = \"{util}%\"

[target]
utilization = \"{target:.0}%\"

[resilience]
failure_domains = 3
spare_instances = 1

# An example of a planned event: the multiplier is the planner's, not measured.
[[events]]
name = \"Cherry blossom festival\"
month = \"2020-04\"
multiplier = 1.5
",
        target = TARGET_UTILIZATION * 100.0,
        util = crate::units::sig(utilization * 100.0, 3),
        per_trip = crate::units::thousands(REQUESTS_PER_TRIP),
    );
    say(&format!(
        "wrote {} from the fit: {per_instance:.1} RPS per instance at {:.0}% sizes today's fleet",
        to.display(),
        TARGET_UTILIZATION * 100.0
    ));
    std::fs::write(to, text).with_context(|| format!("cannot write {}", to.display()))
}
