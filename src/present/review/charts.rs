//! The report's charts, built from the artefacts' numbers: nothing here is estimated anew.

use crate::calendar::YearMonth;
use crate::units::sig;
use crate::view::{Chart, Layer, XAxis};

use super::inputs::{Fit, Forecast, Plan, Run};
use crate::model::capacity::MonthPlan;
use crate::model::growth::PeriodForecast;

const MS: f64 = 1_000.0;

/// Seconds shorter than this (the last, partial interval of a step) are left off the time
/// charts: a rate over a few milliseconds is noise, not a measurement of the run.
const MIN_INTERVAL_S: f64 = 0.5;

/// Every second of the run on one clock: (seconds from the run's start to the interval's end,
/// whether the interval lies inside its own step's window, the interval). Steps run back to back;
/// a step's requests that are still answered after its window (a burst's queue draining) keep
/// their own intervals, which share the clock with the next step's.
fn timeline(run: &Run) -> Vec<(f64, bool, &crate::artefact::results::Second)> {
    let mut at = 0.0;
    let mut out = Vec::new();
    for s in &run.steps {
        for p in s.series.iter().filter(|p| p.duration_s >= MIN_INTERVAL_S) {
            out.push((at + p.t_s + p.duration_s, p.t_s < s.duration_s, p));
        }
        at += s.duration_s;
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// Sums a per-interval rate over the steps whose intervals end at the same instant.
fn summed(points: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (t, v) in points {
        match out.last_mut() {
            Some(last) if (last.0 - t).abs() < 0.05 => last.1 += v,
            _ => out.push((t, v)),
        }
    }
    out
}

fn chart(id: &str, title: String, x: &str, y: &str, x_axis: XAxis, layers: Vec<Layer>) -> Chart {
    Chart { id: id.into(), title, x_label: x.into(), y_label: y.into(), x_axis, log_y: false, layers }
}

/// p50, p90 and p99 of every second (from the intended send time), with the run's latency SLOs.
pub fn latency(run: &Run) -> Chart {
    // Each instant shows the requests of the step whose window it is in.
    let steps = timeline(run);
    let line = |label: &str, pick: fn(&crate::artefact::results::Second) -> Option<f64>| Layer::Line {
        label: label.into(),
        points: steps
            .iter()
            .filter(|(_, inside, _)| *inside)
            .filter_map(|(t, _, p)| Some((*t, pick(p)? / MS)))
            .collect(),
    };
    let mut layers = vec![
        line("p50", |p| p.p50_us.map(|v| v as f64)),
        line("p90", |p| p.p90_us.map(|v| v as f64)),
        line("p99", |p| p.p99_us.map(|v| v as f64)),
    ];
    let mut seen = Vec::new();
    for t in run.steps.iter().flat_map(|s| &s.slo) {
        if t.threshold.starts_with('p') && !seen.contains(&t.threshold) {
            seen.push(t.threshold.clone());
            layers.push(Layer::Level { label: format!("SLO {} ({})", t.threshold, t.scope), y: t.limit / MS });
        }
    }
    let mut c = chart(
        "latency",
        format!("Latency over time, {} profile (from the intended send time)", run.profile),
        "seconds into the run",
        "latency (ms)",
        XAxis::Number,
        layers,
    );
    // A burst can put p99 two decades above the baseline: a log axis keeps both readable.
    let lo = steps.iter().filter_map(|(_, _, p)| p.p50_us).map(|v| v as f64).fold(f64::INFINITY, f64::min);
    let hi = steps.iter().filter_map(|(_, _, p)| p.p99_us).map(|v| v as f64).fold(0.0f64, f64::max);
    c.log_y = lo > 0.0 && hi / lo > 30.0;
    c
}

/// The rate the schedule offered against the responses received, second by second.
pub fn rate(run: &Run) -> Chart {
    let steps = timeline(run);
    let offered = summed(steps.iter().filter_map(|(t, _, p)| Some((*t, p.offered_rps?))));
    let achieved = summed(steps.iter().map(|(t, _, p)| (*t, p.achieved_rps)));
    let mut layers = Vec::new();
    // A closed run offers no rate: its chart is what its users got through.
    let title = if offered.is_empty() { "Throughput, second by second" } else { "Achieved against offered rate" };
    if !offered.is_empty() {
        layers.push(Layer::Line { label: "offered (scheduled)".into(), points: offered });
    }
    layers.push(Layer::Line { label: "achieved".into(), points: achieved });
    chart("rate", title.into(), "seconds into the run", "requests per second", XAxis::Number, layers)
}

/// Latency against throughput, one point per step, in order of throughput: where the curve
/// bends is the knee. Drawn for runs that step the load up (stress, sweeps, stages).
pub fn knee(run: &Run) -> Option<Chart> {
    let mut steps: Vec<_> = run.steps.iter().filter(|s| s.latency_us.is_some() && s.achieved_rps > 0.0).collect();
    if steps.len() < 2 || !matches!(run.profile.name(), "stress" | "closed" | "stages") {
        return None;
    }
    steps.sort_by(|a, b| a.achieved_rps.total_cmp(&b.achieved_rps));
    let at = |f: fn(&crate::artefact::results::Percentiles) -> f64| -> Vec<(f64, f64)> {
        steps.iter().filter_map(|s| Some((s.achieved_rps, f(s.latency_us.as_ref()?) / MS))).collect()
    };
    let p99 = at(|p| p.p99 as f64);
    let p50 = at(|p| p.p50 as f64);
    let mut layers = vec![
        Layer::Line { label: "p99".into(), points: p99.clone() },
        Layer::Line { label: "p50".into(), points: p50.clone() },
        Layer::Dots { label: "steps (p99)".into(), points: p99 },
    ];
    // The knee, where it was measured: the last step that held, and where utilization left its line.
    if let Some(rps) = run.analysis.breaking_point.as_ref().and_then(|b| b.last_passing_rps) {
        layers.push(Layer::Marker { label: format!("last step within SLO: {} RPS", sig(rps, 4)), x: rps });
    }
    if let Some(law) = run.utilization_law.as_ref().filter(|l| l.departs_at.is_some()) {
        layers.push(Layer::Marker {
            label: format!("utilization linear up to {} RPS", sig(law.linear_until_rps, 4)),
            x: law.linear_until_rps,
        });
    }
    Some(chart(
        "knee",
        "Latency against throughput, one point per step".into(),
        "achieved requests per second",
        "latency (ms)",
        XAxis::Number,
        layers,
    ))
}

/// The measured points, both fitted curves, the USL's 95% band and N*.
pub fn usl(fit: &Fit) -> Chart {
    let u = &fit.usl;
    let mut layers = Vec::new();
    if !fit.curve.is_empty() && fit.curve.iter().all(|c| c.usl_lo95.is_some()) {
        layers.push(Layer::Band {
            label: "USL 95% band".into(),
            points: fit.curve.iter().filter_map(|c| Some((c.n, c.usl_lo95?, c.usl_hi95?))).collect(),
        });
    }
    layers.push(Layer::Line {
        label: format!("USL σ={} κ={}", sig(u.sigma, 3), sig(u.kappa, 3)),
        points: fit.curve.iter().map(|c| (c.n, c.usl)).collect(),
    });
    layers.push(Layer::Line {
        label: format!("Amdahl σ={}", sig(fit.amdahl.sigma, 3)),
        points: fit.curve.iter().map(|c| (c.n, c.amdahl)).collect(),
    });
    layers
        .push(Layer::Dots { label: "measured".into(), points: fit.input.points.iter().map(|p| (p.n, p.x)).collect() });
    if let Some(n) = u.peak_concurrency {
        layers.push(Layer::Marker { label: format!("N* = {}", sig(n, 3)), x: n });
    }
    chart(
        "usl",
        format!("Scalability of {}", fit.input.file),
        "concurrency N",
        "throughput X (req/s)",
        XAxis::Number,
        layers,
    )
}

/// Daily peaks of the history, then each month's forecast peak (the mean, for a mean-only
/// forecast) with its 80% and 95% bands where they are usable. The chart cuts bands at three
/// times the largest peak, history or forecast, and says so.
pub fn forecast(f: &Forecast) -> Chart {
    let mid = |m: &YearMonth| (m.first_day() + m.days() / 2) as f64;
    let point = |p: &PeriodForecast| p.peak_rps.unwrap_or(p.mean_rps);
    let largest = f
        .days
        .iter()
        .map(|d| d.peak_rps)
        .chain(f.forecast.periods.iter().flat_map(|p| [point(p), p.peak_rps_worst.unwrap_or(0.0)]))
        .fold(0.0f64, f64::max);
    let cap = 3.0 * largest;
    let usable: Vec<&PeriodForecast> = f.forecast.periods.iter().filter(|p| p.band_usable).collect();
    let peaks = f.forecast.periods.iter().any(|p| p.peak_rps.is_some());
    type Pick = fn(&PeriodForecast) -> Option<f64>;
    let band = |label: &str, lo: Pick, hi: Pick| {
        let points: Vec<(f64, f64, f64)> =
            usable.iter().filter_map(|p| Some((mid(&p.month), lo(p)?, hi(p)?.min(cap)))).collect();
        let clipped = usable.iter().any(|p| hi(p).is_some_and(|h| h > cap));
        Layer::Band { label: if clipped { format!("{label} (cut at {})", sig(cap, 3)) } else { label.into() }, points }
    };
    let (b95, b80): ((Pick, Pick), (Pick, Pick)) = if peaks {
        ((|p| p.peak_rps_lo95, |p| p.peak_rps_hi95), (|p| p.peak_rps_lo80, |p| p.peak_rps_hi80))
    } else {
        ((|p| p.mean_rps_lo95, |p| p.mean_rps_hi95), (|p| p.mean_rps_lo80, |p| p.mean_rps_hi80))
    };
    let what = if peaks { "peak" } else { "mean" };
    let mut layers = vec![
        band("95% band", b95.0, b95.1),
        band("80% band", b80.0, b80.1),
        Layer::Dots {
            label: format!("daily {what} (history)"),
            points: f
                .days
                .iter()
                .map(|d| (d.day as f64, if peaks { d.peak_rps } else { d.mean_rps }))
                .filter(|d| d.1 > 0.0)
                .collect(),
        },
        Layer::Line {
            label: format!("forecast monthly {what}"),
            points: f.forecast.periods.iter().map(|p| (mid(&p.month), point(p))).collect(),
        },
    ];
    let explicit = f.forecast.periods.iter().any(|p| p.peak_rps_worst.is_some() && p.peak_rps_worst != p.peak_rps_hi95);
    if explicit {
        layers.push(Layer::Line {
            label: "worst case".into(),
            points: f.forecast.periods.iter().filter_map(|p| Some((mid(&p.month), p.peak_rps_worst?))).collect(),
        });
    }
    if let Some(first) = f.forecast.periods.first() {
        layers.push(Layer::Marker { label: "forecast starts".into(), x: first.month.first_day() as f64 });
    }
    let title = format!("{} request rate: history and forecast", if peaks { "Peak" } else { "Mean" });
    let mut c = chart("forecast", title, "date", &format!("{what} requests per second"), XAxis::Day, layers);
    if usable.len() < f.forecast.periods.len() {
        c.title.push_str(&format!(
            ", {} month(s) with an unusable band not drawn",
            f.forecast.periods.len() - usable.len()
        ));
    }
    c
}

/// Instances per month, nominal and worst case, against the fleet today.
pub fn instances(plan: &Plan) -> Chart {
    let months: Vec<String> = plan.months.iter().map(|m| m.month.clone()).collect();
    let series = |pick: fn(&MonthPlan) -> Option<u32>| {
        plan.months.iter().enumerate().filter_map(|(i, m)| Some((i as f64, pick(m)? as f64))).collect::<Vec<_>>()
    };
    chart(
        "instances",
        format!("Instances needed per month: {}", plan.assumptions.service),
        "month",
        "instances",
        XAxis::Labels(months),
        vec![
            Layer::Line { label: "nominal".into(), points: series(|m| m.instances) },
            Layer::Line { label: "worst case".into(), points: series(|m| m.instances_worst) },
            Layer::Level {
                label: format!("current fleet ({})", plan.assumptions.current_instances),
                y: plan.assumptions.current_instances as f64,
            },
        ],
    )
}
