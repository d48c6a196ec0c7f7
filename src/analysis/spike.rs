//! A spike's effect (the burst's p99 and errors) and the recovery after it, from the steps'
//! histograms.

use crate::artefact::results::{Second, SpikeAnalysis, StepResult};
use crate::plan::profile::Role;

fn histogram() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new(3).expect("3 significant digits is valid")
}

/// Analyses the baseline, burst (ramp included) and recovery steps.
pub fn spike(steps: &[StepResult]) -> SpikeAnalysis {
    let by = |role: Role| steps.iter().filter(move |s| s.role == role);
    let baseline = by(Role::Baseline).next().and_then(|s| s.latency_us.map(|p| p.p99));
    let burst: Vec<&StepResult> = by(Role::Ramp).chain(by(Role::Burst)).collect();
    let mut latency = histogram();
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
    let mut rest = histogram();
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

#[cfg(test)]
mod tests {
    use super::*;

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
            utilization: None,
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
}
