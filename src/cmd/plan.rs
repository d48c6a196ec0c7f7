//! `headroom plan MODEL.toml`: the per-month instance plan.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::analysis::reconcile;
use crate::artefact;
pub use crate::artefact::plan::{Assumptions, PlanReport, Reconciled};
use crate::calendar::{YearMonth, DAY_S};
use crate::error::InputError;
use crate::ingest::service::{self, Event, EventMonth, Growth, ServiceModel};
use crate::model::capacity::{self, Fleet, MonthDemand, Scaling};
use crate::model::usl::Usl;
use crate::output::Format;
use crate::units::sig;

/// Arguments of `headroom plan`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  headroom plan models/example.toml --start 2027-01\n  \
headroom plan models/nasa.toml --forecast forecast.json --format md\n  \
headroom plan models/example.toml --results reports/stress --fit sweep-fit.json")]
pub struct PlanArgs {
    /// The service model (TOML): current fleet, target utilization, growth, resilience, events
    pub model: PathBuf,
    /// Take each month's peak (nominal and worst case) from `headroom forecast --format json`
    #[arg(long, value_name = "FILE")]
    pub forecast: Option<PathBuf>,
    /// Size the fleet from a USL fit of scale-out whose N is instances (`headroom fit --format
    /// json`); with --results, a fit of the tested instance's concurrency sweep, whose peak
    /// X(N*) times the target utilization is one of the capacities reconciled
    #[arg(long, value_name = "FILE")]
    pub fit: Option<PathBuf>,
    /// Take the capacity per instance from a load test of one instance (a results.json or its
    /// folder): the smallest of the highest throughput that met every SLO without saturating,
    /// the Utilization Law's throughput at the target utilization, and the USL peak (--fit) times
    /// it; replaces the model's [capacity]
    #[arg(long, value_name = "RUN")]
    pub results: Option<PathBuf>,
    /// Months to plan
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=240))]
    pub months: u32,
    /// The month of row 1 (default: next month); not with --forecast, whose months are used
    #[arg(long, value_name = "YYYY-MM", conflicts_with = "forecast")]
    pub start: Option<YearMonth>,
    /// Worst-case monthly growth (e.g. 15%/month); default: the model's, else the nominal
    #[arg(long, allow_hyphen_values = true, value_name = "RATE", conflicts_with = "forecast")]
    pub worst_growth: Option<Growth>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

/// Runs `headroom plan`.
pub fn run(args: PlanArgs, out: &mut dyn Write) -> Result<()> {
    let model = service::load(&args.model)?;
    let file = args.model.display().to_string();
    let reconciled = match &args.results {
        Some(path) => Some(reconciled(path, args.fit.as_deref(), model.target_utilization)?),
        None => None,
    };
    let usl = match &args.fit {
        Some(_) if reconciled.is_some() => None,
        Some(path) => {
            let u = artefact::read::<artefact::fit::FitReport>(path)?.usl;
            Some(Usl { lambda: u.lambda, sigma: u.sigma, kappa: u.kappa })
        }
        None => None,
    };
    let (months, demand_source, worst) = demand(&args, &model, &file)?;
    let mut warnings = Vec::new();
    if let (Some(_), Some(given)) = (&reconciled, model.rps_per_instance) {
        warnings.push(format!(
            "the model's rps_per_instance ({} RPS) is replaced by the capacity the load test measured",
            sig(given, 5)
        ));
    }
    let months = attach_events(months, &model.events, &mut warnings);
    let rps_at_target = reconciled.as_ref().map_or_else(|| model.rps_per_instance_at_target(), |r| r.rps_per_instance);
    let fleet = Fleet {
        current_instances: model.current_instances,
        target_utilization: model.target_utilization,
        scaling: match usl {
            Some(curve) => Scaling::Usl { curve },
            None => Scaling::Linear { rps_at_target },
        },
        failure_domains: model.failure_domains,
        spare_instances: model.spare_instances,
    };
    let capacity_source = match (&args.fit, model.rps_per_instance) {
        _ if reconciled.is_some() => reconciled.as_ref().map_or(String::new(), |r| {
            let f = r.figures.iter().find(|f| f.rule == r.binding);
            // The summary is a sentence; here it follows a colon.
            let mut summary = r.summary.clone();
            if let Some(first) = summary.get_mut(..1) {
                first.make_ascii_lowercase();
            }
            format!("measured: {summary} ({})", f.map_or(String::new(), |f| f.source.clone()))
        }),
        (Some(f), _) => format!("USL fit of scale-out in {} (N = instances)", f.display()),
        (None, Some(_)) => "given: [capacity] rps_per_instance".into(),
        (None, None) => "derived: current peak / instances / current utilization × target utilization".into(),
    };
    let report = PlanReport {
        assumptions: Assumptions {
            service: model.name.clone(),
            current_instances: model.current_instances,
            current_peak_rps: model.current_peak_rps,
            current_utilization: model.current_utilization,
            target_utilization: model.target_utilization,
            capacity_source,
            rps_per_instance_at_target: usl.is_none().then_some(rps_at_target),
            usl,
            demand_source,
            monthly_growth: args.forecast.is_none().then_some(model.monthly_growth).flatten(),
            worst_monthly_growth: worst,
            failure_domains: model.failure_domains,
            spare_instances: model.spare_instances,
            events: model.events.clone(),
            capacity: reconciled,
        },
        months: capacity::plan(&fleet, &months),
        warnings,
    };
    super::emit(&report, args.format, out, None)?;
    Ok(())
}

/// The capacity per instance the load test at `results` measured (with the fit at `fit` of the
/// same instance's sweep), at the model's target utilization.
fn reconciled(results: &std::path::Path, fit: Option<&std::path::Path>, target: f64) -> Result<Reconciled> {
    let path = artefact::results::file_in(results);
    let run: artefact::results::Results = artefact::read(&path)?;
    let file = path.display().to_string();
    let fit_report = match fit {
        Some(f) => Some((artefact::read::<artefact::fit::FitReport>(f)?, f.display().to_string())),
        None => None,
    };
    let measured = reconcile::Measured {
        results: &run,
        results_file: &file,
        fit: fit_report.as_ref().map(|(r, f)| (r, f.as_str())),
        target_utilization: target,
    };
    Ok(reconcile::reconcile(&measured).map_err(|message| InputError::BadFile { file: file.clone(), message })?)
}

/// Each month's nominal and worst peak, where they came from, and the worst growth used.
fn demand(args: &PlanArgs, model: &ServiceModel, file: &str) -> Result<(Vec<MonthDemand>, String, Option<f64>)> {
    if let Some(path) = &args.forecast {
        let f: artefact::forecast::ForecastReport = artefact::read(path)?;
        let file = path.display().to_string();
        let months: Vec<MonthDemand> = f
            .forecast
            .periods
            .iter()
            .take(args.months as usize)
            .map(|p| {
                let peak_rps = p.peak_rps.ok_or_else(|| InputError::BadFile {
                    file: file.clone(),
                    message: format!("{}: the forecast has the mean only ({})", p.month, f.peak_means),
                })?;
                let peak_rps_worst = p.peak_rps_worst.ok_or_else(|| InputError::BadFile {
                    file: file.clone(),
                    message: format!(
                        "{}: the forecast has no worst case ({}); run forecast with --worst-growth RATE",
                        p.month,
                        crate::model::growth::UNUSABLE
                    ),
                })?;
                Ok(MonthDemand { month: p.month.to_string(), peak_rps, peak_rps_worst, event: None })
            })
            .collect::<Result<_, InputError>>()?;
        if months.is_empty() {
            return Err(InputError::BadFile {
                file: path.display().to_string(),
                message: "the forecast has no periods".into(),
            }
            .into());
        }
        let source = format!(
            "forecast {}: nominal is the point forecast, worst case its upper 95% bound or explicit worst growth",
            path.display()
        );
        return Ok((months, source, None));
    }
    let growth = model.monthly_growth.ok_or_else(|| InputError::BadFile {
        file: file.into(),
        message: "no [growth] monthly_rate: add one (e.g. monthly_rate = \"10%\") or pass --forecast forecast.json"
            .into(),
    })?;
    let worst = args.worst_growth.map(|g| g.0).or(model.worst_monthly_growth).unwrap_or(growth);
    let start = args.start.unwrap_or_else(next_month);
    let months = (1..=args.months as i32)
        .map(|k| MonthDemand {
            month: start.plus(k as i64 - 1).to_string(),
            peak_rps: model.current_peak_rps * (1.0 + growth).powi(k),
            peak_rps_worst: model.current_peak_rps * (1.0 + worst).powi(k),
            event: None,
        })
        .collect();
    let source = format!(
        "compound growth of {}%/month (worst case {}%/month) from the current peak; row k is k months on",
        sig(growth * 100.0, 4),
        sig(worst * 100.0, 4)
    );
    Ok((months, source, Some(worst)))
}

fn next_month() -> YearMonth {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    YearMonth::of_day(now / DAY_S).plus(1)
}

fn attach_events(mut months: Vec<MonthDemand>, events: &[Event], warnings: &mut Vec<String>) -> Vec<MonthDemand> {
    for e in events {
        let row = match &e.month {
            EventMonth::Row(k) => (*k as usize).checked_sub(1).filter(|&i| i < months.len()),
            EventMonth::Calendar(m) => months.iter().position(|d| d.month == m.to_string()),
        };
        match row {
            Some(i) => {
                let m = &mut months[i];
                let (name, f) = match m.event.take() {
                    Some((n, f)) => (format!("{n} + {}", e.name), f * e.multiplier),
                    None => (e.name.clone(), e.multiplier),
                };
                m.event = Some((name, f));
            }
            None => warnings.push(format!(
                "event '{}' falls outside the plan ({} … {}) and was not applied",
                e.name,
                months.first().map_or("", |m| m.month.as_str()),
                months.last().map_or("", |m| m.month.as_str())
            )),
        }
    }
    months
}
