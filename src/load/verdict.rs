//! What a step's numbers mean: whether it delivered the load it offered (and if not, whether the
//! target or the generator set the pace), and whether Little's Law holds on what was measured.
//! Pure functions over plain figures.

pub use crate::artefact::results::{Delivery, LittlesCheck};
use crate::units::{percent, readable, sig, thousands};

/// The share of the offered rate a step must deliver to count as a test of that rate.
pub const DELIVERED_SHARE: f64 = 0.95;
/// Starts more than 5 ms late with a connection free, as a share of all starts, beyond which
/// the latencies measure the generator's lag more than the target.
pub const LAGGED_SHARE: f64 = 0.05;
/// The generator's CPU, as a share of its cores, at which it is the bottleneck.
pub const CPU_BOUND: f64 = 0.90;

/// What the delivery verdict is judged on. Units are those of the schedule: requests, or
/// journeys.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures<'a> {
    /// "RPS" or "journeys/s".
    pub unit: &'a str,
    /// The schedule's mean rate; `None` for a closed step.
    pub offered: Option<f64>,
    /// Units answered per second of the window.
    pub delivered: f64,
    pub started: u64,
    pub answered: u64,
    /// Units that failed without an answer other than by timing out: refused or reset.
    pub failed: u64,
    pub late: u64,
    pub late_at_limit: u64,
    /// Starts more than 5 ms late with a worker free.
    pub lagging: u64,
    pub unsent: u64,
    /// The in-flight limit (workers).
    pub limit: usize,
    /// The generator's CPU as a share of its cores.
    pub cpu_share: Option<f64>,
    pub cores: usize,
    pub lag_p99_us: Option<u64>,
}

/// Judges what a step delivered. Short of 95% of the offered rate, the generator is to blame
/// when its CPU ran out or its sends were late with connections free; the target's refusals
/// and resets when they alone explain the shortfall; otherwise the target is saturated, whether
/// requests queued inside it (sent on time, answered slower than they came) or at the
/// generator's in-flight limit.
pub fn delivery(f: &Figures) -> Delivery {
    if f.answered == 0 {
        return Delivery::NoResponse {
            reason: "no request got a response: the target refused, reset or timed out every one".into(),
        };
    }
    let Some(offered) = f.offered else { return Delivery::Delivered };
    let n = |v: u64| thousands(v as f64);
    let lagging = f.lagging > 10 && f.lagging as f64 > LAGGED_SHARE * f.started.max(1) as f64;
    let lag = f.lag_p99_us.map_or(String::new(), |l| format!(", schedule lag p99 {}", crate::units::micros(l as f64)));
    let short = f.delivered < DELIVERED_SHARE * offered;
    let of = format!("{} {} of {} offered", readable(f.delivered), f.unit, readable(offered));
    if short && f.cpu_share.is_some_and(|c| c >= CPU_BOUND) {
        let cpu = percent(f.cpu_share.unwrap_or(0.0), 2);
        let reason = format!(
            "generator fell behind: delivered {of}, with the generator at {cpu} of its {} cores: it, not the target, set the pace",
            f.cores
        );
        return Delivery::GeneratorBehind { reason };
    }
    if lagging && (!short || f.lagging > f.late_at_limit) {
        let reason = format!(
            "generator fell behind: delivered {of}; {} of {} started more than 5 ms late with a connection free{lag}",
            n(f.lagging),
            n(f.started)
        );
        return Delivery::GeneratorBehind { reason };
    }
    if !short {
        return Delivery::Delivered;
    }
    let per_s = f.delivered / f.answered.max(1) as f64;
    if (f.answered + f.failed) as f64 * per_s >= DELIVERED_SHARE * offered {
        let reason = format!("only {of} were answered: {} of {} were refused or reset", n(f.failed), n(f.started));
        return Delivery::NoResponse { reason };
    }
    let mut why = Vec::new();
    if f.late_at_limit > 0 {
        why.push(format!("{} started late waiting for a connection", n(f.late_at_limit)));
    }
    if f.unsent > 0 {
        why.push(format!("{} were never sent", n(f.unsent)));
    }
    let how = if why.is_empty() {
        "requests were sent on time and queued at the target".to_string()
    } else {
        format!("in-flight limit {} reached ({})", f.limit, why.join(", "))
    };
    Delivery::Saturated { reason: format!("target saturated at {of}; {how}") }
}

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

/// The relative disagreement that alarms when sampling cannot explain it.
pub const LITTLES_ALARM: f64 = 0.2;

/// Checks L = X·W; `None` when there is nothing to check.
pub fn littles(o: &Occupied) -> Option<LittlesCheck> {
    if o.departures == 0 || o.window_s <= 0.0 || o.samples == 0 {
        return None;
    }
    let x = o.departures as f64 / o.window_s;
    let w = o.time_in_system_s / o.departures as f64;
    let predicted = x * w;
    let gap = (o.measured - predicted).abs();
    // Without batches, a binomial-like bound on the sampled mean stands in for the error.
    let se = o.measured_se.unwrap_or_else(|| (o.measured.max(predicted).max(1.0) / o.samples as f64).sqrt());
    let alarm = o.departures > 100 && gap > LITTLES_ALARM * predicted && gap > 4.0 * se && gap > 0.05;
    Some(LittlesCheck {
        throughput_rps: x,
        mean_time_in_system_s: w,
        predicted_in_system: predicted,
        measured_in_system: o.measured,
        measured_se: o.measured_se,
        relative_disagreement: (predicted > 0.0).then(|| (o.measured - predicted) / predicted),
        alarm,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> Figures<'static> {
        Figures {
            unit: "RPS",
            offered: Some(800.0),
            delivered: 790.0,
            started: 4000,
            answered: 4000,
            failed: 0,
            late: 0,
            late_at_limit: 0,
            lagging: 0,
            unsent: 0,
            limit: 256,
            cpu_share: Some(0.1),
            cores: 2,
            lag_p99_us: Some(900),
        }
    }

    #[test]
    fn a_step_that_delivers_is_delivered() {
        assert_eq!(delivery(&figures()), Delivery::Delivered);
        let closed = Figures { offered: None, delivered: 10.0, ..figures() };
        assert_eq!(delivery(&closed), Delivery::Delivered);
    }

    #[test]
    fn waiting_at_the_limit_is_saturation_and_waiting_with_connections_free_is_the_generator() {
        let saturated = Figures { delivered: 385.0, late: 3521, late_at_limit: 3500, unsent: 1744, ..figures() };
        let d = delivery(&saturated);
        let r = d.reason().unwrap();
        assert!(matches!(d, Delivery::Saturated { .. }), "{d:?}");
        assert!(r.starts_with("target saturated at 385 RPS of 800 offered; in-flight limit 256 reached"), "{r}");
        assert!(r.contains("1,744 were never sent"), "{r}");
        let behind = Figures { delivered: 385.0, late: 3521, late_at_limit: 10, lagging: 3500, ..figures() };
        assert!(matches!(delivery(&behind), Delivery::GeneratorBehind { .. }));
        // Sent on time, answered slower than they came: the target queues them itself.
        let queueing = Figures { delivered: 159.0, offered: Some(400.0), ..figures() };
        let q = delivery(&queueing);
        assert!(q.reason().unwrap().ends_with("requests were sent on time and queued at the target"), "{q:?}");
        let busy = Figures { cpu_share: Some(0.97), ..saturated };
        assert!(delivery(&busy).reason().unwrap().contains("97% of its 2 cores"));
        // On rate, but a tenth of the sends late with connections free: the latencies are the
        // generator's.
        let lagging = Figures { late: 400, late_at_limit: 0, lagging: 400, ..figures() };
        assert!(matches!(delivery(&lagging), Delivery::GeneratorBehind { .. }));
        // Starts just past 2 ms are the timer's granularity.
        let ticks = Figures { late: 400, late_at_limit: 0, lagging: 0, ..figures() };
        assert_eq!(delivery(&ticks), Delivery::Delivered);
        let none = Figures { answered: 0, ..figures() };
        assert!(matches!(delivery(&none), Delivery::NoResponse { .. }));
        // Short with every send on time: the requests refused or reset are the shortfall.
        let reset = Figures { delivered: 400.0, answered: 2000, failed: 2000, ..figures() };
        let r = delivery(&reset);
        assert!(r.reason().unwrap().contains("2,000 of 4,000 were refused or reset"), "{r:?}");
    }

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
