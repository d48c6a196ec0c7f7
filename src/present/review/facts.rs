//! The summary and assumption lines, and the tables, of each kind of artefact.

use crate::units::{human_duration, micros, percent, readable, sig, thousands};

use super::inputs::{Delivery, Fit, Forecast, Plan, Run};
use super::Review;
use crate::view::{Fact, Status};

fn rps(v: f64) -> String {
    format!("{} RPS", readable(v))
}

/// What a run was, for headings: "Spike test", "Concurrency sweep".
pub fn run_title(run: &Run) -> String {
    match run.profile.name() {
        "closed" => "Concurrency sweep".to_string(),
        p => format!("{}{} test", p[..1].to_uppercase(), &p[1..]),
    }
}

pub fn run(run: &Run, r: &mut Review) {
    let requests: u64 = run.steps.iter().map(|s| s.requests).sum();
    let what = run_title(run);
    r.summary.push(Fact::new(
        &what,
        format!(
            "against {}{}, {} → {} ({} steps, {} requests)",
            run.target,
            run.protocol.as_deref().filter(|p| *p != "HTTP/1.1").map_or(String::new(), |p| format!(" over {p}")),
            run.environment.start,
            run.environment.end,
            run.steps.len(),
            thousands(requests as f64)
        ),
    ));
    r.summary.push(validity(run, &format!("{what}: validity")));
    if let Some(b) = &run.analysis.breaking_point {
        // In a stress run the failing step is the result: the SLO line is the breaking point.
        let pass = b.last_passing_rps.map_or("no step passed".into(), |v| format!("held {} (measured)", rps(v)));
        let fail = match (b.first_failing_rps, &b.reason) {
            (Some(v), Some(why)) => format!("first failing step offered {}: {why}", rps(v)),
            _ => "no step failed: the breaking point is above the highest rate tried".into(),
        };
        let status = if run.slo_passed { Status::Pass } else { Status::Fail };
        r.summary.push(Fact::new("Breaking point", format!("{pass}; {fail}")).status(status));
    } else {
        slo_fact(run, &what, r);
    }
    if let Some(e) = &run.analysis.expected {
        let measured = e.measured_rps.map_or("no step held".into(), |m| format!("{} measured", rps(m)));
        let (verdict, status) = if e.passed { ("met", Status::Pass) } else { ("not met", Status::Fail) };
        r.summary.push(
            Fact::new("Expected capacity", format!("at least {}; {measured}: {verdict}", rps(e.min_rps)))
                .status(status),
        );
    }
    profile_facts(run, r);
    r.assumptions.push(Fact::new(
        "Load generator",
        format!(
            "headroom {} on {} cores; latency from each request's intended send time (coordinated omission corrected), service time beside it",
            run.environment.headroom_version, run.environment.cores
        ),
    ));
}

/// What a spike or a soak found.
fn profile_facts(run: &Run, r: &mut Review) {
    if let Some(s) = &run.analysis.spike {
        let opt = |v: Option<u64>| v.map_or("—".into(), |v| micros(v as f64));
        let recovery = s.recovery_s.map_or("did not recover within the recovery step".into(), |t| {
            format!("back within 10% of the baseline p99 after {}", human_duration(t))
        });
        r.summary.push(Fact::new(
            "Spike",
            format!(
                "baseline p99 {}, burst p99 {} with {} errors ({}); {recovery}",
                opt(s.baseline_p99_us),
                opt(s.burst_p99_us),
                s.burst_errors,
                percent(s.burst_error_rate, 3)
            ),
        ));
    }
    if let Some(s) = &run.analysis.soak {
        let opt = |v: Option<f64>| v.map_or("—".into(), micros);
        r.summary.push(Fact::new(
            "Soak drift",
            format!(
                "p99 {} in the first window, {} in the last; {} connection errors, {} reconnects",
                opt(s.p99_first_window_us),
                opt(s.p99_last_window_us),
                s.connection_errors,
                s.reconnects
            ),
        ));
    }
}

/// Whether the run can be trusted, and what its steps delivered against what they offered.
fn validity(run: &Run, label: &str) -> Fact {
    if run.interrupted {
        return Fact::new(label, "interrupted: the results cover only the steps that ran").status(Status::Warn);
    }
    if let Some(why) = &run.aborted {
        return Fact::new(label, format!("aborted: {why}")).status(Status::Fail);
    }
    if !run.valid {
        return Fact::new(label, format!("invalid: {}", run.invalid_reasons.join("; "))).status(Status::Fail);
    }
    let open = run.steps.iter().any(|s| s.offered_rps.is_some());
    let mut value = if open {
        "valid: the generator kept to its schedule".to_string()
    } else {
        "valid: every step was answered".to_string()
    };
    // Saturation that is the run's result (a breaking point, a burst) is said as such.
    let saturated: Vec<String> = run
        .steps
        .iter()
        .filter_map(|s| match &s.delivery {
            Delivery::Saturated { reason } => Some(format!("{}: {reason}", s.name)),
            _ => None,
        })
        .collect();
    if saturated.is_empty() && open {
        value.push_str(", and every step delivered at least 95% of its offered load");
    } else if !saturated.is_empty() {
        value.push_str(&format!("; {}", saturated.join("; ")));
    }
    Fact::new(label, value).status(Status::Pass)
}

/// The SLO thresholds: passed, or which failed where.
fn slo_fact(run: &Run, what: &str, r: &mut Review) {
    let failed: Vec<String> = run
        .steps
        .iter()
        .flat_map(|s| s.slo.iter().filter(|t| !t.passed).map(move |t| (s, t)))
        .map(|(s, t)| format!("{} ({}) in {}: {}", t.threshold, t.scope, s.name, t.unit.show(t.value)))
        .collect();
    let thresholds: Vec<&str> =
        run.steps.first().map(|s| s.slo.iter().map(|t| t.threshold.as_str()).collect()).unwrap_or_default();
    let (requests, errors) =
        run.steps.iter().fold((0.0, 0.0), |(n, e), s| (n + s.requests as f64, e + s.error_rate * s.requests as f64));
    if thresholds.is_empty() && errors > 0.0 {
        let share = percent(errors / requests.max(1.0), 3);
        r.summary.push(
            Fact::new(
                &format!("{what}: errors"),
                format!("{share} of requests failed; no SLO was given to judge them"),
            )
            .status(Status::Warn),
        );
    }
    if !thresholds.is_empty() {
        r.summary.push(if failed.is_empty() {
            Fact::new(&format!("{what}: SLO"), format!("passed: {}", thresholds.join(", "))).status(Status::Pass)
        } else {
            Fact::new(&format!("{what}: SLO"), format!("failed: {}", failed.join("; "))).status(Status::Fail)
        });
    }
}

pub fn fit(fit: &Fit, r: &mut Review) {
    let u = &fit.usl;
    let ci =
        |v: Option<[f64; 2]>| v.map_or(String::new(), |[lo, hi]| format!(" (95% CI {} – {})", sig(lo, 3), sig(hi, 3)));
    let peak = match (u.peak_concurrency, u.peak_throughput) {
        (Some(n), Some(x)) => format!("peak N* = {} at {}", sig(n, 3), rps(x)),
        _ => "no peak: κ = 0, throughput levels off".into(),
    };
    r.summary.push(Fact::new(
        "Scalability (USL)",
        format!(
            "σ = {}{}, κ = {}{}, λ = {}; {peak}; R² {}",
            sig(u.sigma, 3),
            ci(u.sigma_ci),
            sig(u.kappa, 3),
            ci(u.kappa_ci),
            rps(u.lambda),
            sig(u.r_squared, 4)
        ),
    ));
    if let Some(c) = fit.amdahl.ceiling_throughput {
        r.assumptions.push(Fact::new(
            "Scalability model",
            format!(
                "USL fitted to {} points of {}; Amdahl (κ = 0) for comparison: ceiling {}",
                fit.input.points.len(),
                fit.input.file,
                rps(c)
            ),
        ));
    }
    r.warnings.extend(fit.warnings.iter().map(|w| format!("fit: {w}")));
}

pub fn forecast(f: &Forecast, r: &mut Review) {
    let show = |p: &crate::model::growth::PeriodForecast| {
        let (what, v, lo, hi) = match p.peak_rps {
            Some(v) => ("peak", v, p.peak_rps_lo95, p.peak_rps_hi95),
            None => ("mean", p.mean_rps, p.mean_rps_lo95, p.mean_rps_hi95),
        };
        let band = match lo.zip(hi) {
            Some((lo, hi)) if p.band_usable => format!("95% band {} – {}", readable(lo), readable(hi)),
            _ => crate::model::growth::UNUSABLE.into(),
        };
        format!("monthly {what} {} in {} ({band})", rps(v), p.month)
    };
    if let (Some(first), Some(last)) = (f.forecast.periods.first(), f.forecast.periods.last()) {
        let worst = last.peak_rps_worst.map_or("none".into(), rps);
        r.summary.push(Fact::new(
            "Forecast",
            format!("{} → {}; worst case {} in {}", show(first), show(last), worst, last.month),
        ));
    }
    r.assumptions.push(Fact::new(
        "Growth model",
        format!(
            "{}, from {} ({} {} rows, {} → {}); {}{}",
            f.forecast.model.name,
            f.source.file,
            thousands(f.source.rows as f64),
            f.source.interval,
            f.source.first,
            f.source.last,
            f.peak_means,
            f.source.requests_per_count.map_or(String::new(), |n| format!("; {}", crate::present::forecast::scaled(n)))
        ),
    ));
    let b = &f.forecast.backtest;
    let s = &b.ahead_1_to_6;
    let m = crate::present::forecast::mape;
    r.assumptions.push(Fact::new(
        "Forecast error",
        format!(
            "over {} rolling origins, 1–6 months ahead: mean MAPE {} (Holt-Winters {}, seasonal naive {}), peak MAPE {} (Holt-Winters {}, seasonal naive {}); the 80% band held {}{}",
            b.origins,
            m(s.mean_mape),
            m(s.holt_winters_mean_mape),
            m(s.seasonal_naive_mean_mape),
            m(s.peak_mape),
            m(s.holt_winters_peak_mape),
            m(s.seasonal_naive_peak_mape),
            s.judged_coverage().share_80().map_or("not measured (too few origins)".into(), |c| percent(c, 2)),
            b.ahead_7_to_12
                .as_ref()
                .and_then(|l| l.judged_coverage().share_80())
                .map_or(String::new(), |c| format!(" (7–12 months ahead: {})", percent(c, 2)))
        ),
    ));
    r.assumptions.push(Fact::new("Worst-case demand", format!("the forecast's worst case is {}", f.worst_case)));
    r.warnings.extend(f.treatments.iter().map(|t| format!("history: {t}")));
    let unusable = f.forecast.periods.iter().filter(|p| !p.band_usable).count();
    if unusable > 0 {
        r.warnings.push(format!(
            "forecast: {unusable} of {} months' bands are unusable (95% band over {}× wide): history too short or too erratic",
            f.forecast.periods.len(),
            crate::model::growth::bands::UNUSABLE_RATIO
        ));
    }
}

pub fn plan(plan: &Plan, r: &mut Review) {
    let a = &plan.assumptions;
    // The one number a capacity review asks for, first: measured, reconciled, explained.
    if let Some(c) = &a.capacity {
        r.summary.insert(0, Fact::new("Capacity per instance", format!("{}. {}", rps(c.rps_per_instance), c.summary)));
    }
    let actions: Vec<String> = plan
        .months
        .iter()
        .filter(|m| m.add.is_some_and(|n| n > 0))
        .map(|m| {
            format!(
                "{}: add {} (to {})",
                m.month,
                m.add.unwrap_or(0),
                m.instances.map_or("—".into(), |n| n.to_string())
            )
        })
        .collect();
    let unreachable =
        plan.months.iter().filter(|m| m.instances.is_none()).map(|m| m.month.as_str()).collect::<Vec<_>>();
    r.summary.push(if !unreachable.is_empty() {
        Fact::new(
            "Action needed",
            format!("demand beyond what the fitted curve can reach in {}", unreachable.join(", ")),
        )
        .status(Status::Fail)
    } else if actions.is_empty() {
        Fact::new("Action needed", format!("none: {} instances carry every month's nominal peak", a.current_instances))
            .status(Status::Pass)
    } else {
        Fact::new("Action needed", actions.join("; ")).status(Status::Warn)
    });
    if let Some(m) = plan.months.iter().filter(|m| m.instances_worst.is_some()).max_by_key(|m| m.instances_worst) {
        r.summary.push(Fact::new(
            "Worst case",
            format!(
                "at most {} instances, in {} (peak {}), against {} today",
                m.instances_worst.unwrap_or(0),
                m.month,
                rps(m.peak_rps_worst),
                a.current_instances
            ),
        ));
    }
    plan_assumptions(plan, r);
    r.warnings.extend(plan.warnings.iter().map(|w| format!("plan: {w}")));
}

/// What the plan assumed: the fleet, its target, its capacity, demand, resilience and events.
fn plan_assumptions(plan: &Plan, r: &mut Review) {
    let a = &plan.assumptions;
    r.assumptions.push(Fact::new(
        "Fleet today",
        format!(
            "{} instances at {} utilization for a peak of {}",
            a.current_instances,
            percent(a.current_utilization, 3),
            rps(a.current_peak_rps)
        ),
    ));
    r.assumptions
        .push(Fact::new("Headroom target", format!("{} utilization at the peak", percent(a.target_utilization, 3))));
    let per = a.rps_per_instance_at_target.map_or(String::new(), |v| format!("{} per instance at target, ", rps(v)));
    r.assumptions.push(Fact::new("Capacity per instance", format!("{per}{}", a.capacity_source)));
    r.assumptions.push(Fact::new("Demand", a.demand_source.clone()));
    r.assumptions.push(Fact::new(
        "Failure domains and spares",
        format!(
            "{} failure domain(s): the fleet carries the peak with one domain lost; {} spare instance(s)",
            a.failure_domains, a.spare_instances
        ),
    ));
    let events = if a.events.is_empty() {
        "none".into()
    } else {
        a.events
            .iter()
            .map(|e| format!("{} in {} ×{}", e.name, e.month, sig(e.multiplier, 3)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    r.assumptions.push(Fact::new("Events", events));
}
