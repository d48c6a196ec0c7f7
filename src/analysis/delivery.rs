//! Whether a step delivered the load it offered, and if not, whether the target or the generator
//! set the pace. A pure function over plain figures.

use crate::artefact::results::Delivery;
use crate::units::{percent, readable, thousands};

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
    // Short by 5%, and by more than one answer in the window (which holds about 80% of them):
    // a step of 20 journeys is not saturated because one of its 16 in the window came late.
    let one_more = f.delivered / (0.8 * f.answered as f64).max(1.0);
    let short = f.delivered + one_more < DELIVERED_SHARE * offered;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_answer_short_in_a_small_step_is_not_saturation() {
        // 20 journeys in 2 s, measured at 9.46/s: one answer more in the window reaches 95%.
        let small = Figures { offered: Some(10.0), delivered: 9.46, started: 20, answered: 20, ..figures() };
        assert_eq!(delivery(&small), Delivery::Delivered);
        // The same share short over 4,000 answers is.
        let large = Figures { offered: Some(800.0), delivered: 0.946 * 800.0, ..figures() };
        assert!(matches!(delivery(&large), Delivery::Saturated { .. }));
    }

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
}
