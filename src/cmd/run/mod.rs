//! `headroom run [PLAN]`: run a load plan, or an ad-hoc one-step plan from flags.
//!
//! Flags that a plan also sets either replace the plan's value (and the results list them under
//! `overrides`) or, where a plan has no single value for them, stop the run naming the flag.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

mod flags;
mod junit;

use crate::error::InputError;
use crate::load::runner::{self, Results, RunOptions};
use crate::output::Format;
use crate::plan::utilization::Selector;
use crate::plan::{self, Given};
use crate::signals;
use crate::units::{ByteSize, Rate, Span};

const UTILIZATION: &str = "The target's utilization, read while it is loaded";
const TLS: &str = "HTTP version, TLS and where connections go (each replaces the plan's key)";
const SHARDS: &str = "One shard of a run spread over several generators";

/// The exit code of a run that its safety rule stopped to protect the target.
pub const ABORTED: u8 = 4;

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
    pub rate: Option<Given<Rate>>,
    /// Ad hoc: this many users sending back to back (closed model)
    #[arg(long, value_name = "N", conflicts_with = "plan")]
    pub users: Option<usize>,
    /// How long to run (default 30s); with a plan, replaces a load, soak or closed profile's duration
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<Given<Span>>,
    /// Run this long first without recording; with a plan, replaces a load profile's warmup
    #[arg(long, value_name = "DURATION")]
    pub warmup: Option<Given<Span>>,
    /// Ad hoc: the HTTP method (default GET)
    #[arg(long)]
    pub method: Option<String>,
    /// A header 'Name: value' (repeatable), or @FILE of such lines; values may use ${VAR}; with a
    /// plan, set on every request
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE|@FILE")]
    pub headers: Vec<String>,
    /// Ad hoc: the request body, or @FILE to send a file's bytes
    #[arg(long, value_name = "BODY|@FILE")]
    pub body: Option<String>,
    /// Ad hoc: the request mix from a targets file ('METHOD URL' entries with headers and @body
    /// lines, or JSON lines); its URLs give the target unless --target does
    #[arg(long, value_name = "FILE", conflicts_with_all = ["method", "body"])]
    pub targets: Option<PathBuf>,
    /// Per-request timeout (default 10s); with a plan, replaces its timeout
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<Given<Span>>,
    /// An SLO threshold such as 'p99 < 300ms', 'error_rate < 1%' or 'rps > 300' (repeatable); with a
    /// plan, replaces its slo
    #[arg(long, value_name = "THRESHOLD")]
    pub slo: Vec<String>,
    /// How long opening a connection may take (default 5s); with a plan, replaces its connect_timeout
    #[arg(long, value_name = "DURATION")]
    pub connect_timeout: Option<Given<Span>>,
    /// Response bodies past this size are not read and count as body_too_large (default 4MiB);
    /// with a plan, replaces its max_body
    #[arg(long, value_name = "SIZE")]
    pub max_body: Option<Given<ByteSize>>,
    /// Follow redirects to the target's own origin (by default a redirect is the response)
    #[arg(long)]
    pub follow_redirects: bool,
    /// Requests in flight at most, also the number of connections (default 256); with a plan,
    /// replaces safety.max_in_flight
    #[arg(long, value_name = "N")]
    pub max_in_flight: Option<usize>,
    /// Scrape the target's utilization from this Prometheus text endpoint while loading it (e.g.
    /// http://127.0.0.1:8080/metrics); replaces the plan's [utilization] source
    #[arg(long, value_name = "URL", requires = "utilization_metric", conflicts_with = "utilization_prometheus", help_heading = UTILIZATION)]
    pub utilization_scrape: Option<String>,
    /// The series read from it, summed: a counter of busy seconds (process_cpu_seconds_total,
    /// 'node_cpu_seconds_total{mode!="idle"}') or a gauge
    #[arg(long, value_name = "SERIES", requires = "utilization_scrape", help_heading = UTILIZATION)]
    pub utilization_metric: Option<Given<Selector>>,
    /// Or query the utilization from this Prometheus server...
    #[arg(long, value_name = "URL", requires = "utilization_query", help_heading = UTILIZATION)]
    pub utilization_prometheus: Option<String>,
    /// ...with this PromQL, whose value now is the target's utilization (a share of 1)
    #[arg(long, value_name = "PROMQL", requires = "utilization_prometheus", help_heading = UTILIZATION)]
    pub utilization_query: Option<String>,
    /// What 100% utilization is: the target's cores or workers (a number), or a series of the
    /// scraped endpoint that says it (headroom_sim_workers)
    #[arg(long, value_name = "N|SERIES", help_heading = UTILIZATION)]
    pub utilization_capacity: Option<String>,
    /// How often to read the utilization (default 1s)
    #[arg(long, value_name = "DURATION", help_heading = UTILIZATION)]
    pub utilization_interval: Option<Given<Span>>,
    /// Cap every step's arrival rate, whatever the plan says
    #[arg(long, allow_hyphen_values = true, value_name = "RATE")]
    pub max_rps: Option<Rate>,
    /// The HTTP version: 1.1 (default), 2 (h2 by ALPN over TLS, prior knowledge over plain
    /// http) or auto (h2 when the TLS server offers it); http in a plan
    #[arg(long, value_name = "VERSION", value_enum, help_heading = TLS)]
    pub http: Option<crate::plan::HttpVersion>,
    /// Short for --http 2
    #[arg(long, conflicts_with = "http", help_heading = TLS)]
    pub http2: bool,
    /// HTTP/2 requests in flight per connection at most (default 100): --max-in-flight over
    /// this many connections; streams_per_connection
    #[arg(long, value_name = "N", help_heading = TLS)]
    pub streams: Option<usize>,
    /// Trust the CA certificates of this PEM bundle beside the public roots (an internal CA);
    /// tls.cacert in a plan
    #[arg(long, value_name = "FILE", help_heading = TLS)]
    pub cacert: Option<PathBuf>,
    /// Present this client certificate (PEM, its chain after it) to a server that requires one
    /// (mutual TLS); tls.cert
    #[arg(long, value_name = "FILE", requires = "key", help_heading = TLS)]
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM); tls.key
    #[arg(long, value_name = "FILE", requires = "cert", help_heading = TLS)]
    pub key: Option<PathBuf>,
    /// Trust the operating system's certificate store as well; tls.system_roots
    #[arg(long, help_heading = TLS)]
    pub system_roots: bool,
    /// Send this name in SNI and check the certificate against it instead of the URL's host;
    /// tls.server_name
    #[arg(long, value_name = "NAME", help_heading = TLS)]
    pub sni: Option<String>,
    /// Connect to ADDRESS whenever the URL says HOST:PORT, as curl's --resolve; the URL, the Host
    /// header and the certificate check keep the name (resolve in a plan)
    #[arg(long, value_name = "HOST:PORT:ADDRESS", help_heading = TLS)]
    pub resolve: Vec<String>,
    /// Accept any TLS certificate (certificates are checked by default; prefer --cacert)
    #[arg(long, help_heading = TLS)]
    pub insecure: bool,
    /// Run as shard I of N (0/4 … 3/4): every N-th arrival of the one schedule from the I-th, ⌊U/N⌋
    /// of a closed step's U users (one more for the first U mod N shards), 1/N of max_in_flight and
    /// max_rps; `auto` reads I and N from the launcher (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID
    /// and SLURM_ARRAY_TASK_COUNT, NOMAD_ALLOC_INDEX; HEADROOM_SHARDS for the count). Join the
    /// shards' results with headroom merge
    #[arg(long, value_name = "I/N|auto", requires = "start_at", help_heading = SHARDS)]
    pub shard: Option<String>,
    /// The instant every shard starts at, an RFC 3339 time (2026-12-03T14:00:00Z) or a span from
    /// now (+60s): each shard opens its connections first, then starts on it
    #[arg(long, value_name = "TIME|+SPAN", requires = "shard", help_heading = SHARDS)]
    pub start_at: Option<String>,
    /// The folder results.json (and a .hlog per step) goes to, rewritten as each step ends
    /// (default: a new folder under reports/). `-` writes no files: results.json goes to
    /// standard output when the run ends, and the summary to standard error
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write the run's checks as JUnit XML to this file: each step's validity and SLOs, and
    /// the expected capacity (`-`: standard output, the summary then on standard error)
    #[arg(long, value_name = "FILE.xml")]
    pub junit: Option<PathBuf>,
    /// Output format of the summary
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

/// A new folder under reports/ named for the time, created here so that two runs started in
/// the same second never share one (the second gets `-2`).
fn default_out() -> Result<PathBuf> {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let stamp: String = crate::calendar::rfc3339(secs).chars().filter(|c| c.is_ascii_digit()).collect();
    let base = PathBuf::from("reports").join(format!("run-{}-{}", &stamp[..8], &stamp[8..14]));
    std::fs::create_dir_all("reports").context("cannot create the folder reports/ for results: pass --out DIR")?;
    let name = base.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
    for k in 1..1000 {
        let dir = if k == 1 { base.clone() } else { base.with_file_name(format!("{name}-{k}")) };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}: pass --out DIR", dir.display())),
        }
    }
    anyhow::bail!("{} and 998 more folders like it exist: pass --out DIR", base.display())
}

/// Whether `--out -` asked for results on standard output instead of a folder.
fn to_stdout(out: &Option<PathBuf>) -> bool {
    out.as_deref().is_some_and(crate::files::is_stdout)
}

/// The folder `--out` names, made ready (`None` for `-`): a file in its place is a usage error
/// naming it.
fn out_dir(out: &Option<PathBuf>) -> Result<Option<PathBuf>> {
    if to_stdout(out) {
        return Ok(None);
    }
    let Some(dir) = out else { return default_out().map(Some) };
    if dir.exists() && !dir.is_dir() {
        return Err(InputError::Usage(format!(
            "--out {}: is a file; results.json goes in a folder: give a folder's path",
            dir.display()
        ))
        .into());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the folder {} for --out", dir.display()))?;
    Ok(Some(dir.clone()))
}

/// `--shard` and `--start-at`, read (`auto` from the launcher's environment).
fn shard(args: &RunArgs) -> Result<Option<crate::load::shard::ShardPlan>> {
    use crate::load::shard;
    let (Some(slice), Some(start)) = (&args.shard, &args.start_at) else { return Ok(None) };
    let slice = shard::parse_slice(slice, &|k| std::env::var(k).ok())?;
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let start_at_s = shard::parse_start(start, now_s)?;
    if start_at_s < now_s - 1.0 {
        eprintln!(
            "warning: --start-at {start} passed {} ago: this shard starts now, and merge will see it late",
            crate::units::human_duration(now_s - start_at_s)
        );
    }
    Ok(Some(shard::ShardPlan { slice, start_at_s }))
}

/// Runs `headroom run`; the exit code says whether the SLO held and the run was valid.
pub fn run(args: RunArgs, out: &mut dyn Write) -> Result<ExitCode> {
    // First of all, so that no signal is lost, however early it comes.
    let stop_tx = signals::install();
    let (plan, target, file, overrides) = match &args.plan {
        Some(path) => {
            let mut plan = plan::load(path)?;
            let overrides = flags::apply(&args, &mut plan)?;
            (plan, args.target.clone(), path.display().to_string(), overrides)
        }
        None => {
            let (p, t) = flags::ad_hoc(&args)?;
            (p, t, "the command line".to_string(), Vec::new())
        }
    };
    if args.max_rps.is_some_and(|r| r.0 <= 0.0) {
        return Err(InputError::Usage("--max-rps must be above zero: it caps every step's rate".into()).into());
    }
    let junit_to_stdout = args.junit.as_deref().is_some_and(crate::files::is_stdout);
    if junit_to_stdout && args.out.as_deref().is_some_and(crate::files::is_stdout) {
        return Err(InputError::Usage(
            "-o - and --junit - both write standard output: write one of them to a file".into(),
        )
        .into());
    }
    let shard = shard(&args)?;
    let opts = RunOptions {
        target,
        max_rps: args.max_rps.map(|r| r.0),
        out: out_dir(&args.out)?,
        progress: true,
        insecure: args.insecure,
        overrides,
        shard,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let results: Results = runtime.block_on(runner::execute(&plan, &file, &opts, stop_tx)).map_err(|e| {
        // A default folder the run wrote nothing into goes again (remove_dir takes only empty ones).
        if let (None, Some(dir)) = (&args.out, &opts.out) {
            let _ = std::fs::remove_dir(dir);
        }
        // A key the plan file holds is named with its line.
        match args.plan.as_deref().map(|p| crate::input::read_text(p, "the load plan")) {
            Some(Ok(text)) => crate::input::with_line(e, &file, &text),
            _ => e,
        }
    })?;
    runtime.shutdown_background();
    if let Some(path) = args.junit.as_deref().filter(|p| !crate::files::is_stdout(p)) {
        crate::files::write_atomic(path, |w| Ok(junit::write(&results, w)?))?;
    }
    match &opts.out {
        Some(dir) if junit_to_stdout => {
            crate::cmd::emit(&results, args.format, &mut std::io::stderr().lock(), None)?;
            junit::write(&results, out)?;
            out.flush()?;
            eprintln!("results: {}", dir.join(crate::artefact::results::FILE_NAME).display());
        }
        Some(dir) => {
            crate::cmd::emit(&results, args.format, out, None)?;
            out.flush()?;
            eprintln!("results: {}", dir.join(crate::artefact::results::FILE_NAME).display());
        }
        None => {
            // results.json on standard output; the summary beside it, on standard error.
            if args.format != Format::Json {
                crate::cmd::emit(&results, args.format, &mut std::io::stderr().lock(), None)?;
            }
            crate::cmd::emit(&results, Format::Json, out, None)?;
            out.flush()?;
        }
    }
    Ok(exit_code(&results))
}

/// The exit code results call for: interrupted (130, 143), aborted (4), not valid (3), an SLO
/// failed (1), or 0.
pub fn exit_code(results: &Results) -> ExitCode {
    if results.interrupted {
        let by = results.signal.as_deref().or(signals::received().map(|s| s.name()));
        ExitCode::from(if by == Some("SIGTERM") { 143 } else { 130 })
    } else if results.aborted.is_some() {
        ExitCode::from(ABORTED)
    } else if !results.valid {
        ExitCode::from(3)
    } else if !results.slo_passed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
