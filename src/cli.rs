//! The command line: clap derive only. Each command's flags live beside its code in `cmd/`.

use clap::{Parser, Subcommand};

use crate::cmd::calc::CalcCommand;
use crate::cmd::{
    compare::CompareArgs,
    demo::DemoArgs,
    fit::FitArgs,
    forecast::ForecastArgs,
    history::HistoryArgs,
    launch::{K8sArgs, SlurmArgs},
    merge::MergeArgs,
    plan::PlanArgs,
    report::ReportArgs,
    run::RunArgs,
    serve_sim::ServeSimArgs,
    shell::{CompletionsArgs, ManArgs},
};

/// Capacity planning and load testing: honest percentiles, scalability fits and instance plans.
#[derive(Debug, Parser)]
#[command(name = "headroom", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 ok, 1 an SLO threshold failed (compare: a regression), 2 bad input or usage, 3 the run was not valid, 4 the run was aborted by its safety rule, 130 interrupted (SIGINT), 143 terminated (SIGTERM)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a load plan (or an ad-hoc one from flags) and record honest latency percentiles
    Run(Box<RunArgs>),
    /// Fit Amdahl and USL curves to (concurrency, throughput) measurements
    Fit(FitArgs),
    /// Forecast monthly mean and peak RPS from a historical request-rate CSV
    Forecast(ForecastArgs),
    /// Roll a request-rate history up by hour, day or month and report its data quality
    History(HistoryArgs),
    /// The per-month instance plan from a service model and a growth rate or forecast
    Plan(PlanArgs),
    /// A capacity review (HTML, Markdown, JSON or CSV) from results, fit, forecast and plan files
    Report(ReportArgs),
    /// A run against a baseline run: percentiles, throughput and errors side by side, each change
    /// judged for significance; exit 1 on a regression
    Compare(CompareArgs),
    /// Join the shards of one run (run --shard I/N) exactly: histograms and counts added, every
    /// verdict judged again on the merged data
    Merge(MergeArgs),
    /// Print a Kubernetes Indexed Job (and a ConfigMap with the plan) that runs a plan as N shards
    K8s(K8sArgs),
    /// Print an sbatch script of a Slurm job array that runs a plan as N shards
    Slurm(SlurmArgs),
    /// A completion script for bash, zsh, fish, elvish or PowerShell, on standard output
    Completions(CompletionsArgs),
    /// The man page (roff) of headroom, or of one command, on standard output
    Man(ManArgs),
    /// The simulated service (loopback by default), for tests and the demo
    ServeSim(ServeSimArgs),
    /// The whole pipeline against the simulated service: sweep, spike, fit, forecast, plan, report
    Demo(DemoArgs),
    /// Worksheets: Little's Law, Amdahl, USL, M/M/c queue, SLO error budget
    #[command(subcommand)]
    Calc(CalcCommand),
}
