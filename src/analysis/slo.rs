//! SLO thresholds checked against what a step (or one request of it) measured.

use hdrhistogram::Histogram;

use crate::artefact::results::{ErrorCounts, ThresholdResult};
use crate::plan::{Metric, Threshold};

/// What a threshold is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Measure<'a> {
    /// Latency from the intended send time, µs.
    pub latency: &'a Histogram<u64>,
    pub requests: u64,
    pub errors: ErrorCounts,
    /// The measured throughput, responses per second.
    pub rps: f64,
}

/// The value a threshold compares, in its metric's unit: µs for latency, a fraction for the
/// error rate, responses per second for throughput.
pub fn value(t: &Threshold, m: &Measure) -> f64 {
    // An empty histogram reads 0 for each of these.
    match t.metric {
        Metric::Percentile(q) => m.latency.value_at_quantile(q) as f64,
        Metric::Mean => m.latency.mean(),
        Metric::Max => m.latency.max() as f64,
        Metric::ErrorRate => {
            if m.requests == 0 {
                0.0
            } else {
                m.errors.total() as f64 / m.requests as f64
            }
        }
        Metric::Throughput => m.rps,
    }
}

/// Checks thresholds against one measure, in `scope` (`overall` or a request name).
pub fn check(thresholds: &[(String, Threshold)], scope: &str, m: &Measure) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|(text, t)| {
            let v = value(t, m);
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
