//! What a run's steps mean: SLO thresholds, the stress breaking point, spike recovery and soak
//! drift. Pure functions over recorded results.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::recorder::Record;
use super::results::{answered, Second, StepResult, ThresholdResult};
pub use crate::artefact::results::{BreakingPoint, Expected, SoakAnalysis, SpikeAnalysis, Trend};
use crate::plan::profile::Role;
use crate::plan::{Metric, Threshold};

/// The value a threshold compares, in its metric's unit: µs for latency, a fraction for the
/// error rate, responses per second for throughput, each answered request being worth
/// `per_answer` of the step's measured rate.
pub fn value(t: &Threshold, r: &Record, per_answer: f64) -> f64 {
    // An empty histogram reads 0 for each of these.
    match t.metric {
        Metric::Percentile(q) => r.latency.value_at_quantile(q) as f64,
        Metric::Mean => r.latency.mean(),
        Metric::Max => r.latency.max() as f64,
        Metric::ErrorRate => {
            if r.requests == 0 {
                0.0
            } else {
                r.errors.total() as f64 / r.requests as f64
            }
        }
        Metric::Throughput => answered(r) as f64 * per_answer,
    }
}

/// Checks thresholds against one record (see [`value`] for `per_answer`).
pub fn check(thresholds: &[(String, Threshold)], scope: &str, r: &Record, per_answer: f64) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|(text, t)| {
            let v = value(t, r, per_answer);
            ThresholdResult {
                threshold: text.clone(),
                scope: scope.into(),
                metric: t.metric.name(),
                op: t.op,
                unit: t.metric.unit(),
                value: v,
                limit: t.limit,
                passed: t.op.holds(v, t.limit),
            }
        })
        .collect()
}

/// Checks the capacity a run showed against `min_rps`: the breaking point's last passing step
/// when there is one (stress), else the best step that met every threshold.
pub fn expected(min_rps: f64, steps: &[StepResult], breaking: Option<&BreakingPoint>) -> Expected {
    let measured_rps = match breaking {
        Some(b) => b.last_passing_rps,
        None => steps.iter().filter(|s| step_failure(s).is_none()).map(|s| s.achieved_rps).reduce(f64::max),
    };
    Expected { min_rps, measured_rps, passed: measured_rps.is_some_and(|m| m >= min_rps) }
}

/// A step fails when a threshold fails or it did not deliver its offered load (saturated, or
/// the generator fell behind, or nothing answered).
pub fn step_failure(s: &StepResult) -> Option<String> {
    let slo =
        s.slo.iter().find(|t| !t.passed).map(|t| format!("{} ({}) was {}", t.threshold, t.scope, t.unit.show(t.value)));
    match (s.delivery.reason(), slo) {
        (Some(d), Some(t)) => Some(format!("{d}; and {t}")),
        (d, t) => d.map(str::to_string).or(t),
    }
}

/// The breaking point of a stress run's steps, in order.
pub fn breaking_point(steps: &[StepResult]) -> BreakingPoint {
    let failing = steps.iter().position(|s| step_failure(s).is_some());
    let last = match failing {
        Some(0) => None,
        Some(i) => Some(&steps[i - 1]),
        None => steps.last(),
    };
    BreakingPoint {
        last_passing: last.map(|s| s.name.clone()),
        last_passing_rps: last.map(|s| s.achieved_rps),
        first_failing: failing.map(|i| steps[i].name.clone()),
        first_failing_rps: failing.and_then(|i| steps[i].offered_rps),
        first_failing_achieved_rps: failing.map(|i| steps[i].achieved_rps),
        reason: failing.and_then(|i| step_failure(&steps[i])),
    }
}

/// Analyses the baseline, burst (ramp included) and recovery steps.
pub fn spike(steps: &[StepResult]) -> SpikeAnalysis {
    let by = |role: Role| steps.iter().filter(move |s| s.role == role);
    let baseline = by(Role::Baseline).next().and_then(|s| s.latency_us.map(|p| p.p99));
    let burst: Vec<&StepResult> = by(Role::Ramp).chain(by(Role::Burst)).collect();
    let mut latency = super::recorder::histogram();
    for h in burst.iter().filter_map(|s| s.latency()) {
        latency.add(&h).expect("auto-resizing histograms always merge");
    }
    let errors: u64 = burst.iter().map(|s| s.errors.total()).sum();
    let requests: u64 = burst.iter().map(|s| s.requests).sum();
    let recovery = by(Role::Recovery).next();
    let recovery_s = match (baseline, recovery) {
        (Some(b), Some(r)) => recovered_after(&r.series, b as f64 * 1.1),
        _ => None,
    };
    SpikeAnalysis {
        baseline_p99_us: baseline,
        burst_p99_us: (!latency.is_empty()).then(|| latency.value_at_quantile(0.99)),
        burst_errors: errors,
        burst_error_rate: if requests > 0 { errors as f64 / requests as f64 } else { 0.0 },
        recovery_s,
    }
}

/// The start of the earliest second from which the p99 of the rest of the step is at or under
/// `limit_us`. One second's p99 is close to its maximum, too noisy to judge alone; the rest of
/// the step, merged exactly from the seconds' histograms, is not.
fn recovered_after(series: &[Second], limit_us: f64) -> Option<f64> {
    let mut rest = super::recorder::histogram();
    let mut earliest = None;
    for s in series.iter().rev() {
        if let Some(h) = s.histogram() {
            rest.add(&h).expect("auto-resizing histograms always merge");
        }
        if !rest.is_empty() && rest.value_at_quantile(0.99) as f64 <= limit_us {
            earliest = Some(s.t_s);
        }
    }
    earliest
}

fn trend(points: &[(f64, f64)]) -> Option<Trend> {
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let b = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    let ssr: f64 = points.iter().map(|p| (p.1 - my - b * (p.0 - mx)).powi(2)).sum();
    let se = (ssr / (n - 2.0) / sxx).sqrt();
    let p_value = StudentsT::new(0.0, 1.0, n - 2.0).ok().map(|t| {
        if se > 0.0 {
            2.0 * (1.0 - t.cdf((b / se).abs()))
        } else if b == 0.0 {
            1.0
        } else {
            0.0
        }
    });
    Some(Trend { slope_per_hour: b * 3600.0, p_value })
}

/// Drift of p99 and of the error rate over a soak step.
pub fn soak(step: &StepResult, window_s: f64) -> SoakAnalysis {
    let s = &step.series;
    // Each second stands at its midpoint, so a window catches the seconds that lie in it even
    // when a second closes a little after one second.
    let mid = |x: &Second| x.t_s + x.duration_s / 2.0;
    let p99: Vec<(f64, f64)> = s.iter().filter_map(|x| x.p99_us.map(|p| (mid(x), p as f64))).collect();
    let rate = |x: &Second| (x.requests > 0).then(|| x.errors.total() as f64 / x.requests as f64);
    let errors: Vec<(f64, f64)> = s.iter().filter_map(|x| rate(x).map(|r| (mid(x), r))).collect();
    let end = s.last().map_or(0.0, |x| x.t_s + x.duration_s);
    let mean_in = |v: &[(f64, f64)], lo: f64, hi: f64| {
        let w: Vec<f64> = v.iter().filter(|p| p.0 >= lo && p.0 <= hi).map(|p| p.1).collect();
        (!w.is_empty()).then(|| w.iter().sum::<f64>() / w.len() as f64)
    };
    SoakAnalysis {
        window_s,
        p99_first_window_us: mean_in(&p99, 0.0, window_s),
        p99_last_window_us: mean_in(&p99, end - window_s, end),
        p99_trend_us: trend(&p99),
        error_rate_first_window: mean_in(&errors, 0.0, window_s),
        error_rate_last_window: mean_in(&errors, end - window_s, end),
        error_rate_trend: trend(&errors),
        connection_errors: step.errors.connect + step.errors.io,
        reconnects: step.reconnects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::recorder::histogram;

    fn second(t_s: f64, latencies_us: &[u64]) -> Second {
        let mut h = histogram();
        for &l in latencies_us {
            h.record(l).unwrap();
        }
        Second {
            t_s,
            duration_s: 1.0,
            offered_rps: Some(100.0),
            requests: latencies_us.len() as u64,
            achieved_rps: latencies_us.len() as f64,
            in_flight: 1.0,
            late_starts: 0,
            p50_us: None,
            p90_us: None,
            p99_us: Some(h.value_at_quantile(0.99)),
            max_us: Some(h.max()),
            errors: Default::default(),
            latency: crate::artefact::results::encode(&h),
        }
    }

    #[test]
    fn recovery_is_when_the_rest_of_the_step_is_within_ten_percent() {
        let calm = vec![10_000u64; 100];
        let mut one_slow = calm.clone();
        one_slow[0] = 40_000;
        let series = vec![
            second(0.0, &vec![500_000; 100]),
            second(1.0, &vec![30_000; 100]),
            // One slow request in a hundred sets this second's own p99, but the rest of the step
            // from here (300 requests) has its p99 at 10 ms.
            second(2.0, &one_slow),
            second(3.0, &calm),
            second(4.0, &calm),
        ];
        assert_eq!(recovered_after(&series, 11_000.0), Some(2.0));
        assert_eq!(recovered_after(&series, 9_000.0), None);
        assert_eq!(recovered_after(&series[3..], 11_000.0), Some(3.0));
    }

    #[test]
    fn trend_and_significance() {
        let flat: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, 5.0 + if i % 2 == 0 { 1.0 } else { -1.0 })).collect();
        let t = trend(&flat).unwrap();
        assert!(t.slope_per_hour.abs() < 100.0 && t.p_value.unwrap() > 0.5, "{t:?}");
        let rising: Vec<(f64, f64)> =
            (0..100).map(|i| (i as f64, i as f64 + if i % 2 == 0 { 1.0 } else { -1.0 })).collect();
        let t = trend(&rising).unwrap();
        assert!((t.slope_per_hour - 3600.0).abs() < 10.0 && t.p_value.unwrap() < 1e-6, "{t:?}");
    }
}
