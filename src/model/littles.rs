//! Little's Law: L = λ·W.
//!
//! L is the mean number in the system (requests in flight), λ the throughput in requests per
//! second, W the mean time in the system in seconds. Any two give the third.

use serde::Serialize;

/// The three quantities of Little's Law, all known.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Littles {
    /// L: mean requests in flight.
    pub in_flight: f64,
    /// λ: throughput in requests per second.
    pub throughput_rps: f64,
    /// W: mean time in the system, in seconds.
    pub latency_s: f64,
}

/// Which of the three was derived from the other two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Solved {
    InFlight,
    Throughput,
    Latency,
}

/// Why Little's Law could not be applied.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LittlesError {
    #[error("give exactly two of in-flight, throughput and latency (got {0})")]
    NeedTwo(usize),
    #[error("cannot divide by a zero {0}")]
    Zero(&'static str),
}

/// Completes L = λ·W from any two of its terms: L = λW, λ = L/W, W = L/λ.
pub fn solve(
    in_flight: Option<f64>,
    throughput_rps: Option<f64>,
    latency_s: Option<f64>,
) -> Result<(Littles, Solved), LittlesError> {
    match (in_flight, throughput_rps, latency_s) {
        (None, Some(x), Some(w)) => {
            Ok((Littles { in_flight: x * w, throughput_rps: x, latency_s: w }, Solved::InFlight))
        }
        (Some(l), None, Some(w)) => {
            if w == 0.0 {
                return Err(LittlesError::Zero("latency"));
            }
            Ok((Littles { in_flight: l, throughput_rps: l / w, latency_s: w }, Solved::Throughput))
        }
        (Some(l), Some(x), None) => {
            if x == 0.0 {
                return Err(LittlesError::Zero("throughput"));
            }
            Ok((Littles { in_flight: l, throughput_rps: x, latency_s: l / x }, Solved::Latency))
        }
        (l, x, w) => Err(LittlesError::NeedTwo([l.is_some(), x.is_some(), w.is_some()].iter().filter(|b| **b).count())),
    }
}

/// How far a measured in-flight figure is from λ·W, as (measured − λW) / λW.
///
/// Used to check a load-test step: a large disagreement means the generator or the
/// measurement is wrong, not the law.
pub fn relative_disagreement(measured_in_flight: f64, throughput_rps: f64, latency_s: f64) -> f64 {
    let predicted = throughput_rps * latency_s;
    if predicted == 0.0 {
        return if measured_in_flight == 0.0 { 0.0 } else { f64::INFINITY };
    }
    (measured_in_flight - predicted) / predicted
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_example() {
        let (l, solved) = solve(None, Some(1500.0), Some(0.120)).unwrap();
        assert_eq!(solved, Solved::InFlight);
        assert!((l.in_flight - 180.0).abs() < 1e-9);
    }

    #[test]
    fn needs_exactly_two() {
        assert_eq!(solve(Some(1.0), None, None), Err(LittlesError::NeedTwo(1)));
        assert_eq!(solve(Some(1.0), Some(2.0), Some(3.0)), Err(LittlesError::NeedTwo(3)));
        assert_eq!(solve(Some(1.0), Some(0.0), None), Err(LittlesError::Zero("throughput")));
    }

    proptest! {
        #[test]
        fn round_trips(x in 0.001f64..1e6, w in 1e-6f64..100.0) {
            let (a, _) = solve(None, Some(x), Some(w)).unwrap();
            let (b, _) = solve(Some(a.in_flight), None, Some(w)).unwrap();
            let (c, _) = solve(Some(a.in_flight), Some(x), None).unwrap();
            prop_assert!((b.throughput_rps - x).abs() <= 1e-9 * x);
            prop_assert!((c.latency_s - w).abs() <= 1e-9 * w);
            prop_assert!(relative_disagreement(a.in_flight, x, w).abs() < 1e-12);
        }
    }
}
