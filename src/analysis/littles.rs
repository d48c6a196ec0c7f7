//! Little's Law checked on a step: the sampled occupancy against throughput × time in system.

use crate::artefact::results::LittlesCheck;
use crate::units::sig;

use super::delivery::CPU_BOUND;

/// The inputs of the Little's Law check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Occupied {
    pub window_s: f64,
    /// Units that left the system, and their total time in it, seconds.
    pub departures: u64,
    pub time_in_system_s: f64,
    pub measured: f64,
    pub measured_se: Option<f64>,
    pub samples: u64,
}

/// Checks L = X·W; `None` when there is nothing to check.
pub fn littles(o: &Occupied) -> Option<LittlesCheck> {
    if o.departures == 0 || o.window_s <= 0.0 || o.samples == 0 {
        return None;
    }
    let x = o.departures as f64 / o.window_s;
    let w = o.time_in_system_s / o.departures as f64;
    let se = error_of(o.measured_se, o.measured, x * w, o.samples);
    Some(judged(x, w, (o.measured, o.measured_se, se), (o.departures, o.samples)))
}

/// The standard error of a sampled occupancy: its batch means' when known, else a
/// binomial-like bound on the sampled mean of `samples` samples.
pub fn error_of(measured_se: Option<f64>, measured: f64, predicted: f64, samples: u64) -> f64 {
    measured_se.unwrap_or_else(|| (measured.max(predicted).max(1.0) / samples.max(1) as f64).sqrt())
}

/// The check of L = X·W from throughput `x` and mean time in system `w`, against the measured
/// occupancy (its mean, its batch means' error when known, and the error judged by) over
/// `departures` units, sampled `samples` times.
pub fn judged(
    x: f64,
    w: f64,
    (measured, measured_se, se): (f64, Option<f64>, f64),
    (departures, samples): (u64, u64),
) -> LittlesCheck {
    let predicted = x * w;
    let gap = (measured - predicted).abs();
    let alarm = departures > 100 && gap > LITTLES_ALARM * predicted && gap > 4.0 * se && gap > 0.05;
    LittlesCheck {
        throughput_rps: x,
        mean_time_in_system_s: w,
        predicted_in_system: predicted,
        measured_in_system: measured,
        measured_se,
        relative_disagreement: (predicted > 0.0).then(|| (measured - predicted) / predicted),
        alarm,
        samples: Some(samples),
    }
}

/// What a Little's Law alarm means, from what else the step shows.
pub fn littles_cause(c: &LittlesCheck, window_s: f64, cpu_share: Option<f64>) -> String {
    let by = c.relative_disagreement.map_or("—".into(), |d| format!("{}%", sig(d * 100.0, 3)));
    let head = format!(
        "Little's Law disagrees by {by} ({} in the system sampled, {} = X·W)",
        sig(c.measured_in_system, 4),
        sig(c.predicted_in_system, 4)
    );
    if cpu_share.is_some_and(|s| s >= CPU_BOUND) {
        format!("{head}: the generator was CPU-bound, so its gauge and timers ran late")
    } else if window_s < 20.0 * c.mean_time_in_system_s {
        format!(
            "{head}: the step lasted only {}× its mean time in the system, too short to sample; run it longer",
            sig(window_s / c.mean_time_in_system_s.max(1e-9), 2)
        )
    } else {
        format!("{head}: the sampled occupancy and the recorded latencies disagree; check the generator")
    }
}

/// The relative disagreement that alarms when sampling cannot explain it.
pub const LITTLES_ALARM: f64 = 0.2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn littles_law_alarms_only_beyond_sampling_error() {
        // 1,000 departures of 10 ms each over 10 s: L = 1.
        let o = Occupied {
            window_s: 10.0,
            departures: 1000,
            time_in_system_s: 10.0,
            measured: 1.05,
            measured_se: Some(0.02),
            samples: 5000,
        };
        let c = littles(&o).unwrap();
        assert!((c.predicted_in_system - 1.0).abs() < 1e-12 && !c.alarm, "{c:?}");
        let off = littles(&Occupied { measured: 2.0, ..o }).unwrap();
        assert!(off.alarm && (off.relative_disagreement.unwrap() - 1.0).abs() < 1e-12);
        let noisy = littles(&Occupied { measured: 1.5, measured_se: Some(0.2), ..o }).unwrap();
        assert!(!noisy.alarm, "a 50% gap within 4 standard errors is sampling noise");
        assert!(littles(&Occupied { departures: 0, ..o }).is_none());
        assert!(littles_cause(&off, 10.0, Some(0.1)).contains("check the generator"));
        assert!(littles_cause(&off, 0.1, Some(0.1)).contains("too short"));
    }
}
