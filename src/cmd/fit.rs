//! `headroom fit FILE`: Amdahl and USL fits of (concurrency, throughput) measurements.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

pub use crate::artefact::fit::{AmdahlJson, CurvePoint, FitReport, Input, PredictionJson, TargetJson, UslJson};
use crate::error::InputError;
use crate::ingest::points::{self, Columns};
use crate::model::usl_fit::{self, AmdahlFit, Point, UslFit};
use crate::output::{svg, Format};
use crate::units::{sig, Amount, Rate};

/// Arguments of `headroom fit`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  headroom fit models/specsdm91.csv --concurrency-column load --at 300 --plot usl.svg"
)]
pub struct FitArgs {
    /// CSV of measurements with a header row, or a results.json of a concurrency sweep or stress
    /// run (open steps that did not deliver their load are left out, and named); `-` reads
    /// standard input
    pub file: PathBuf,
    /// Column holding the concurrency N (users, threads or instances)
    #[arg(long, default_value = "concurrency", value_name = "NAME")]
    pub concurrency_column: String,
    /// Column holding the throughput X(N), requests per second
    #[arg(long, default_value = "throughput", value_name = "NAME")]
    pub throughput_column: String,
    /// Predict throughput at these concurrencies (repeat or separate with commas)
    #[arg(long, allow_hyphen_values = true, value_name = "N", value_delimiter = ',')]
    pub at: Vec<Amount>,
    /// Find the concurrency that reaches this throughput (e.g. 1.5k)
    #[arg(long, allow_hyphen_values = true, value_name = "RATE")]
    pub target: Option<Rate>,
    /// Draw the points, both curves and the peak to this SVG file (`-`: standard output, the
    /// fit then on standard error)
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

/// Runs `headroom fit`.
pub fn run(args: FitArgs, out: &mut dyn Write) -> Result<()> {
    let cols = Columns { concurrency: args.concurrency_column.clone(), throughput: args.throughput_column.clone() };
    let report = fit_file(&args.file, &cols, &args.at, args.target)?;
    // The chart is the report's, drawn from the same JSON this command prints.
    let chart = || crate::present::review::usl_chart(&report);
    match &args.plot {
        // The SVG on standard output; the fit beside it, on standard error.
        Some(path) if crate::files::is_stdout(path) => {
            out.write_all(svg::svg(&chart())?.as_bytes())?;
            super::emit(&report, args.format, &mut std::io::stderr().lock(), None)?;
        }
        Some(path) => {
            svg::write_svg(&chart(), path)?;
            super::emit(&report, args.format, out, None)?;
        }
        None => super::emit(&report, args.format, out, None)?,
    }
    Ok(())
}

/// The fit of a run's steps (or a CSV of points) with the default columns, as `headroom fit FILE`
/// makes it: for `compare`, which judges fitted capacity.
pub fn fit_path(path: &Path) -> Result<FitReport> {
    let cols = Columns { concurrency: "concurrency".into(), throughput: "throughput".into() };
    fit_file(path, &cols, &[], None)
}

/// Reads the points of `path` and fits both laws, with the predictions asked for.
fn fit_file(path: &Path, cols: &Columns, at: &[Amount], target: Option<Rate>) -> Result<FitReport> {
    let file = points::display_name(path);
    let points::Points { points, dropped } = points::read(path, cols)?;
    // A fit refused for want of points says which steps were left out, and why.
    let refused = |e: usl_fit::FitError| {
        let left = if dropped.is_empty() { String::new() } else { format!(" ({})", dropped.join("; ")) };
        InputError::BadFile { file: file.clone(), message: format!("{e}{left}") }
    };
    let usl = usl_fit::fit_usl(&points).map_err(refused)?;
    let amdahl = usl_fit::fit_amdahl(&points).map_err(refused)?;
    let mut report = FitReport::new(file.clone(), points, &usl, &amdahl, at, target);
    report.warnings.extend(dropped);
    Ok(report)
}

impl FitReport {
    fn new(
        file: String,
        points: Vec<Point>,
        usl: &UslFit,
        amdahl: &AmdahlFit,
        at: &[Amount],
        target: Option<Rate>,
    ) -> Self {
        let amdahl_curve =
            crate::model::usl::Usl { lambda: amdahl.lambda.value, sigma: amdahl.sigma.value, kappa: 0.0 };
        let mut warnings = usl.warnings.clone();
        let predictions: Vec<PredictionJson> = at
            .iter()
            .map(|n| {
                let p = usl.predict(n.0);
                if p.extrapolated {
                    warnings.push(format!(
                        "N = {} is past twice the largest N measured ({}): X(N) there is an extrapolation",
                        sig(n.0, 6),
                        sig(usl.max_measured_n, 6)
                    ));
                }
                PredictionJson {
                    concurrency: n.0,
                    usl_throughput: p.throughput,
                    amdahl_throughput: amdahl_curve.throughput(n.0),
                    extrapolated: p.extrapolated,
                }
            })
            .collect();
        let target = target.map(|t| TargetJson {
            throughput: t.per_sec(),
            usl_concurrency: usl.curve.n_for_throughput(t.per_sec()),
            amdahl_concurrency: amdahl_curve.n_for_throughput(t.per_sec()),
        });
        FitReport {
            input: Input { file, points },
            usl: usl_json(usl),
            amdahl: amdahl_json(amdahl),
            predictions,
            target,
            curve: sample_curves(usl, amdahl),
            warnings,
        }
    }
}

/// The USL fit as the fit artefact records it.
fn usl_json(usl: &UslFit) -> UslJson {
    UslJson {
        sigma: usl.sigma.value,
        sigma_se: usl.sigma.std_error,
        sigma_ci: usl.sigma.ci95,
        kappa: usl.kappa.value,
        kappa_se: usl.kappa.std_error,
        kappa_ci: usl.kappa.ci95,
        lambda: usl.lambda.value,
        lambda_se: usl.lambda.std_error,
        lambda_ci: usl.lambda.ci95,
        peak_concurrency: usl.peak.map(|p| p.concurrency),
        peak_concurrency_whole: usl.peak.map(|p| p.whole_concurrency),
        peak_throughput: usl.peak.map(|p| p.throughput),
        r_squared: usl.quality.r_squared,
        residual_std_error: usl.quality.residual_std_error,
        degrees_of_freedom: usl.quality.degrees_of_freedom,
        residuals: usl.quality.residuals.clone(),
    }
}

/// The Amdahl fit as the fit artefact records it.
fn amdahl_json(amdahl: &AmdahlFit) -> AmdahlJson {
    AmdahlJson {
        sigma: amdahl.sigma.value,
        sigma_se: amdahl.sigma.std_error,
        sigma_ci: amdahl.sigma.ci95,
        lambda: amdahl.lambda.value,
        lambda_se: amdahl.lambda.std_error,
        lambda_ci: amdahl.lambda.ci95,
        ceiling_throughput: amdahl.ceiling_throughput,
        r_squared: amdahl.quality.r_squared,
        residual_std_error: amdahl.quality.residual_std_error,
        degrees_of_freedom: amdahl.quality.degrees_of_freedom,
    }
}

/// Both curves and the USL band from N = 0 to past the peak (at most twice the largest N measured).
fn sample_curves(usl: &UslFit, amdahl: &AmdahlFit) -> Vec<CurvePoint> {
    let n_max = usl.max_measured_n;
    let reach = usl.peak.map_or(n_max * 1.2, |p| (p.concurrency * 1.3).clamp(n_max * 1.2, n_max * 2.0));
    let amdahl_curve = crate::model::usl::Usl { lambda: amdahl.lambda.value, sigma: amdahl.sigma.value, kappa: 0.0 };
    (0..=100)
        .map(|i| {
            let n = reach * i as f64 / 100.0;
            let band = usl.band95(n);
            CurvePoint {
                n,
                usl: usl.curve.throughput(n),
                usl_lo95: band.map(|b| b[0]),
                usl_hi95: band.map(|b| b[1]),
                amdahl: amdahl_curve.throughput(n),
            }
        })
        .collect()
}
