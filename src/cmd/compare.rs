//! `headroom compare BASE NEW`: a run against a baseline run, with its regressions named and an
//! exit code a CI pipeline can gate on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::analysis::compare::{self, Comparison, Limits};
use crate::artefact::{self, fit::FitReport, results::Results, Any};
use crate::error::InputError;
use crate::output::junit::{self, Case};
use crate::output::Format;
use crate::plan::profile::ProfileKind;
use crate::units::Fraction;

/// Arguments of `headroom compare`.
#[derive(Debug, Args)]
#[command(
    after_help = "A regression is a change past a limit that is also beyond what sampling explains: percentiles \
by their 95% order-statistic intervals (not overlapping), throughput and error rates at three standard errors.\n\n\
Exit codes: 0 no regression, 1 a regression (each is named), 2 bad input.\n\n\
Examples:\n  headroom compare baseline/results.json reports/run/results.json\n  \
headroom compare baseline reports/run --max-p99-increase 5% --junit compare.xml"
)]
pub struct CompareArgs {
    /// The baseline: a results.json from `headroom run` (or the folder holding one), or a fit
    /// from `headroom fit --format json`
    pub base: PathBuf,
    /// The run (or fit) to judge against it. Two runs compare step by step, and two sweeps or
    /// stress runs their fitted capacity too; a run against a fit is fitted first
    pub new: PathBuf,
    /// The largest p99 increase allowed
    #[arg(long, default_value = "10%", value_name = "PCT")]
    pub max_p99_increase: Fraction,
    /// The largest p50 increase allowed (default: the p50 is shown, not judged)
    #[arg(long, value_name = "PCT")]
    pub max_p50_increase: Option<Fraction>,
    /// The largest drop in achieved throughput allowed
    #[arg(long, default_value = "5%", value_name = "PCT")]
    pub max_throughput_drop: Fraction,
    /// The largest rise in the error rate allowed, in percentage points of all requests
    #[arg(long, default_value = "1%", value_name = "PCT")]
    pub max_error_rate_increase: Fraction,
    /// The largest drop in fitted capacity allowed (the USL's X(N*), or Amdahl's ceiling), when
    /// fits are compared
    #[arg(long, default_value = "5%", value_name = "PCT")]
    pub max_capacity_drop: Fraction,
    /// Also write the checks as JUnit XML to this file, one test case a judged measure (`-`:
    /// standard output, the comparison then on standard error)
    #[arg(long, value_name = "FILE.xml")]
    pub junit: Option<PathBuf>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

/// One side of a comparison: a run, or a fit.
enum Side {
    Run(Box<Results>),
    Fit(Box<FitReport>),
}

/// A results.json (or the one in a folder) or a fit, with the file and its name.
fn side(path: &Path) -> Result<(Side, PathBuf, String)> {
    let file = crate::artefact::results::file_in(path);
    let name = crate::input::name(&file);
    match artefact::read_any(&file)? {
        Any::Results(r) => Ok((Side::Run(r), file, name)),
        Any::Fit(f) => Ok((Side::Fit(f), file, name)),
        _ => Err(InputError::BadFile {
            file: name,
            message: "compare reads a results.json from `headroom run` or a fit from `headroom fit --format json`; \
                      a forecast or a plan is neither"
                .into(),
        }
        .into()),
    }
}

/// The fit of one side: itself, or its run's steps fitted.
fn fitted(side: &Side, file: &Path) -> Result<FitReport> {
    match side {
        Side::Fit(f) => Ok((**f).clone()),
        Side::Run(_) => super::fit::fit_path(file),
    }
}

/// A run whose steps a fit is made of: a closed sweep or a stress run.
fn sweep(side: &Side) -> bool {
    matches!(side, Side::Run(r) if matches!(r.profile, ProfileKind::Closed | ProfileKind::Stress))
}

/// Runs `headroom compare`: 1 when there is a regression.
pub fn run(args: CompareArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let (base, base_file, base_name) = side(&args.base)?;
    let (new, new_file, new_name) = side(&args.new)?;
    let limits = Limits {
        max_p99_increase: args.max_p99_increase.0,
        max_p50_increase: args.max_p50_increase.map(|f| f.0),
        max_throughput_drop: args.max_throughput_drop.0,
        max_error_rate_increase: args.max_error_rate_increase.0,
        max_capacity_drop: args.max_capacity_drop.0,
    };
    let both_runs = matches!((&base, &new), (Side::Run(_), Side::Run(_)));
    let mut c = match (&base, &new) {
        (Side::Run(b), Side::Run(n)) => {
            let c = compare::compare(b, &base_name, n, &new_name, limits);
            if c.steps.is_empty() {
                return Err(InputError::BadFile {
                    file: new_name,
                    message: format!("no step of it has the name of a step in {base_name}: nothing to compare"),
                }
                .into());
            }
            c
        }
        _ => Comparison::empty(&base_name, &new_name, limits),
    };
    // Fits are compared when either side is one, or when both runs are sweeps a fit is made of.
    if !both_runs || (sweep(&base) && sweep(&new)) {
        match (fitted(&base, &base_file), fitted(&new, &new_file)) {
            (Ok(b), Ok(n)) => c.steps.push(compare::compare_fits(&b, &n, &limits)),
            (Err(e), _) | (_, Err(e)) if !both_runs => return Err(e),
            (Err(e), _) | (_, Err(e)) => c.warnings.push(format!("no fitted capacity compared: {e:#}")),
        }
        c.judge();
    }
    match &args.junit {
        // JUnit on standard output; the comparison beside it, on standard error.
        Some(path) if crate::files::is_stdout(path) => {
            write_junit(&c, out)?;
            super::emit(&c, args.format, &mut std::io::stderr().lock(), None)?;
        }
        Some(path) => {
            crate::files::write_atomic(path, |w| Ok(write_junit(&c, w)?))?;
            super::emit(&c, args.format, out, None)?;
        }
        None => super::emit(&c, args.format, out, None)?,
    }
    step_summary(&c)?;
    for r in &c.regressions {
        eprintln!("regression: {r}");
    }
    Ok(if c.regressions.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// In a GitHub Actions job (`GITHUB_STEP_SUMMARY` set), appends the comparison as Markdown to
/// the job's summary page.
fn step_summary(c: &Comparison) -> Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else { return Ok(()) };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("GITHUB_STEP_SUMMARY ({}): {e}", Path::new(&path).display()))?;
    let mut doc = crate::present::Present::view(c);
    doc.csv = None;
    crate::output::render(&doc, Format::Md, &mut file, None)
}

/// The comparison as JUnit XML: one test suite, one test case per judged measure of each step
/// and request, a failure for each regression.
pub fn write_junit(c: &Comparison, out: &mut dyn Write) -> std::io::Result<()> {
    let cases: Vec<Case> = c
        .steps
        .iter()
        .flat_map(|s| {
            let class = match &s.request {
                Some(r) => format!("{}.{r}", s.step),
                None => s.step.clone(),
            };
            s.changes.iter().filter(|ch| ch.limit.is_some()).map(move |ch| Case {
                class: class.clone(),
                name: ch.measure.clone(),
                failure: ch.regression.then(|| compare::describe(ch)),
            })
        })
        .collect();
    junit::write("headroom compare", &format!("{} against {}", c.new, c.base), &cases, out)
}
