//! A stress run's breaking point, and the capacity a run showed against `expect.min_rps`.

use crate::artefact::results::{BreakingPoint, Expected, StepResult};

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
