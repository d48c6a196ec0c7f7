//! One capacity per instance from a load test of one instance, reconciled: the highest measured
//! throughput that met every SLO without saturating, the Utilization Law's throughput at the
//! target utilization, and a concurrency sweep's USL peak X(N*) times the target utilization.
//! A plan can rely only on the smallest; the summary names what binds and what the others
//! would allow.

use crate::analysis::stress::step_failure;
use crate::artefact::fit::FitReport;
use crate::artefact::plan::{CapacityFigure, CapacityRule, Reconciled};
use crate::artefact::results::Results;
use crate::units::{percent, sig};

/// What the reconciliation reads.
pub struct Measured<'a> {
    pub results: &'a Results,
    /// How the results file is named in sources.
    pub results_file: &'a str,
    /// A fit of the same instance's concurrency sweep, and its file.
    pub fit: Option<(&'a FitReport, &'a str)>,
    pub target_utilization: f64,
}

/// The highest measured throughput that met every SLO without saturating, and what stopped
/// the next step; `None` when no step did.
fn slo_bound(results: &Results, file: &str) -> Option<CapacityFigure> {
    let passing = results
        .steps
        .iter()
        .filter(|s| s.requests > 0 && step_failure(s).is_none())
        .max_by(|a, b| a.achieved_rps.total_cmp(&b.achieved_rps))?;
    let best = passing.achieved_rps;
    // The lightest step past it that failed: what binds.
    let failed = results
        .steps
        .iter()
        .filter(|s| {
            s.offered_rps.unwrap_or(s.achieved_rps) > best || s.users.zip(passing.users).is_some_and(|(u, p)| u > p)
        })
        .filter_map(|s| step_failure(s).map(|why| (s, why)))
        .min_by(|a, b| {
            a.0.offered_rps.unwrap_or(a.0.achieved_rps).total_cmp(&b.0.offered_rps.unwrap_or(b.0.achieved_rps))
        });
    let detail = match failed {
        Some((s, why)) => format!("{why} at {}", s.name),
        None => "no step failed: the instance may take more than was offered".to_string(),
    };
    Some(CapacityFigure {
        rule: CapacityRule::Slo,
        rps: best,
        source: format!("{file}, step '{}'", passing.name),
        detail,
    })
}

/// A list of steps, the first and last of a long one: "steps 100 rps to 370 rps (10)".
fn steps_named(steps: &[String]) -> String {
    match steps {
        [one] => format!("step '{one}'"),
        [first, .., last] if steps.len() > 3 => format!("steps '{first}' to '{last}' ({})", steps.len()),
        _ => format!("steps {}", steps.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")),
    }
}

/// Every figure the measurements give, the binding (smallest) one first in the summary.
pub fn reconcile(m: &Measured) -> Result<Reconciled, String> {
    let u = m.target_utilization;
    let mut figures = Vec::new();
    figures.extend(slo_bound(m.results, m.results_file));
    // The law's line speaks for the load it was fitted on. Past it, where the steps measured the
    // target utilization, the throughput there is read between those steps; past every step,
    // there is no figure (utilization may stop growing in proportion: contention, a saturated
    // resource it does not see).
    let mut unsaid = None;
    if let Some(law) = &m.results.utilization_law {
        let rps = law.rps_at(u);
        let mut read: Vec<(f64, f64, &str)> = m
            .results
            .steps
            .iter()
            .filter(|s| s.valid)
            .filter_map(|s| s.utilization.map(|x| (s.achieved_rps, x, s.name.as_str())))
            .collect();
        // In order of utilization, which grows with the load even where throughput falls back.
        read.sort_by(|a, b| a.1.total_cmp(&b.1));
        let crossing = read.windows(2).find(|w| w[0].1 <= u && w[1].1 >= u);
        let figure = if rps > 0.0 && rps.is_finite() && rps <= law.linear_until_rps {
            Some((
                rps,
                format!("{}, {}", m.results_file, steps_named(&law.steps)),
                format!("utilization {} at D = {} ms per request", percent(u, 3), sig(law.demand_s * 1e3, 4)),
            ))
        } else if let Some(w) = crossing {
            let x = w[0].0 + (u - w[0].1) / (w[1].1 - w[0].1).max(1e-12) * (w[1].0 - w[0].0);
            Some((
                x,
                format!("{}, steps '{}' and '{}'", m.results_file, w[0].2, w[1].2),
                format!(
                    "utilization {} read between those steps ({} and {}): past {} RPS it leaves the law's line",
                    percent(u, 3),
                    percent(w[0].1, 3),
                    percent(w[1].1, 3),
                    sig(law.linear_until_rps, 4)
                ),
            ))
        } else {
            let highest = read.iter().map(|r| r.1).fold(0.0, f64::max);
            unsaid = Some(format!(
                "utilization reached {} at most, so the {} target was not measured (the law's line would put it at {} RPS)",
                percent(highest, 3),
                percent(u, 3),
                sig(rps, 4)
            ));
            None
        };
        if let Some((rps, source, detail)) = figure {
            figures.push(CapacityFigure { rule: CapacityRule::UtilizationLaw, rps, source, detail });
        }
    }
    if let Some((fit, file)) = m.fit {
        if let Some(peak) = fit.usl.peak_throughput {
            figures.push(CapacityFigure {
                rule: CapacityRule::UslPeak,
                rps: peak * u,
                source: file.to_string(),
                detail: format!("USL peak X(N*) = {} RPS × {} target", sig(peak, 4), percent(u, 3)),
            });
        }
    }
    let binding = figures.iter().min_by(|a, b| a.rps.total_cmp(&b.rps)).cloned().ok_or_else(|| {
        "no step met every SLO without saturating, and no utilization or fit gives a capacity: nothing to plan on"
            .to_string()
    })?;
    let phrase = |f: &CapacityFigure, first: bool| {
        let rps = sig(f.rps, 4);
        match (f.rule, first) {
            (CapacityRule::Slo, true) => format!("the SLOs bind at {rps} RPS ({})", f.detail),
            (CapacityRule::Slo, false) => format!("the SLOs held up to {rps} RPS"),
            (CapacityRule::UtilizationLaw, true) => format!("utilization {} binds at {rps} RPS", percent(u, 3)),
            (CapacityRule::UtilizationLaw, false) => format!("utilization {} would allow {rps} RPS", percent(u, 3)),
            (CapacityRule::UslPeak, true) => format!("the USL peak × {} binds at {rps} RPS", percent(u, 3)),
            (CapacityRule::UslPeak, false) => format!("the USL peak × {} would allow {rps} RPS", percent(u, 3)),
        }
    };
    let mut parts = vec![phrase(&binding, true)];
    parts.extend(figures.iter().filter(|f| f.rule != binding.rule).map(|f| phrase(f, false)));
    parts.extend(unsaid);
    let mut summary = parts.join("; ");
    if let Some(first) = summary.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    Ok(Reconciled { rps_per_instance: binding.rps, binding: binding.rule, summary, figures })
}
