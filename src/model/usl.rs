//! The Universal Scalability Law: X(N) = λN / (1 + σ(N − 1) + κN(N − 1)).
//!
//! N is the concurrency (users, threads or instances), X(N) the throughput in requests per
//! second, λ the throughput of one unit without contention, σ the contention (serial) fraction
//! and κ the coherency (crosstalk) cost. With κ = 0 it is Amdahl's law scaled by λ.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A USL curve with known coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Usl {
    /// λ: throughput of one unit at N = 1, requests per second.
    pub lambda: f64,
    /// σ: contention, ≥ 0.
    pub sigma: f64,
    /// κ: coherency, ≥ 0.
    pub kappa: f64,
}

/// The concurrency at which throughput peaks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Peak {
    /// N* = √((1 − σ)/κ), unrounded.
    pub concurrency: f64,
    /// The whole N (≥ 1) with the highest X.
    pub whole_concurrency: u64,
    /// X(N*), requests per second.
    pub throughput: f64,
}

impl Usl {
    /// The denominator 1 + σ(N − 1) + κN(N − 1): how much slower each unit is at N.
    pub fn slowdown(&self, n: f64) -> f64 {
        1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0)
    }

    /// X(N) = λN / (1 + σ(N − 1) + κN(N − 1)), requests per second.
    pub fn throughput(&self, n: f64) -> f64 {
        self.lambda * n / self.slowdown(n)
    }

    /// Mean latency at N by Little's Law, W = N / X(N), in seconds.
    pub fn latency_s(&self, n: f64) -> f64 {
        n / self.throughput(n)
    }

    /// The peak N* = √((1 − σ)/κ) and X(N*); `None` when κ = 0 (no retrograde region) or
    /// σ ≥ 1 (throughput never rises above X(1)).
    pub fn peak(&self) -> Option<Peak> {
        if self.kappa <= 0.0 || self.sigma >= 1.0 {
            return None;
        }
        let n = ((1.0 - self.sigma) / self.kappa).sqrt();
        let lo = n.floor().max(1.0);
        let hi = n.ceil().max(1.0);
        let whole = if self.throughput(hi) > self.throughput(lo) { hi } else { lo };
        Some(Peak { concurrency: n, whole_concurrency: whole as u64, throughput: self.throughput(n) })
    }

    /// The throughput bound as N → ∞ with κ = 0, λ/σ; `None` when κ > 0 or σ = 0.
    pub fn asymptote(&self) -> Option<f64> {
        (self.kappa == 0.0 && self.sigma > 0.0).then(|| self.lambda / self.sigma)
    }

    /// The smallest N ≥ 1 with X(N) = `target` requests per second, solving
    /// κX·N² + (σX − κX − λ)·N + X(1 − σ) = 0; `None` when the target is beyond the curve.
    pub fn n_for_throughput(&self, target: f64) -> Option<f64> {
        if target <= 0.0 {
            return Some(0.0);
        }
        if target <= self.throughput(1.0) {
            return Some(target / self.lambda);
        }
        let a = self.kappa * target;
        let b = self.sigma * target - self.kappa * target - self.lambda;
        let c = target * (1.0 - self.sigma);
        if a == 0.0 {
            return (b < 0.0).then(|| -c / b);
        }
        let disc = b * b - 4.0 * a * c;
        if disc < 0.0 {
            return None;
        }
        // The smaller root, written to avoid cancellation.
        let q = -0.5 * (b - disc.sqrt());
        Some(c / q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SPEC: Usl = Usl { lambda: 89.995, sigma: 0.0277285, kappa: 0.0001044 };

    #[test]
    fn peak_of_published_fit() {
        let p = SPEC.peak().unwrap();
        // √((1 − 0.0277285)/0.0001044) = 96.50
        assert!((p.concurrency - 96.50).abs() < 0.01, "{p:?}");
        assert!(p.whole_concurrency == 96 || p.whole_concurrency == 97);
        assert!(SPEC.throughput(96.0) > SPEC.throughput(216.0));
    }

    #[test]
    fn amdahl_has_no_peak() {
        let u = Usl { lambda: 100.0, sigma: 0.1, kappa: 0.0 };
        assert!(u.peak().is_none());
        assert!((u.asymptote().unwrap() - 1000.0).abs() < 1e-9);
        assert!(u.n_for_throughput(1000.0).is_none());
    }

    #[test]
    fn beyond_peak_is_unreachable() {
        let p = SPEC.peak().unwrap();
        assert!(SPEC.n_for_throughput(p.throughput * 1.001).is_none());
    }

    proptest! {
        #[test]
        fn n_for_throughput_inverts_the_rising_side(
            sigma in 0.0f64..0.3, kappa in 0.0f64..0.01, lambda in 1.0f64..1e4, frac in 0.01f64..0.99
        ) {
            let u = Usl { lambda, sigma, kappa };
            let n_max = u.peak().map(|p| p.concurrency).unwrap_or(1e4).max(1.0);
            let n = 1.0 + frac * (n_max - 1.0);
            let x = u.throughput(n);
            let back = u.n_for_throughput(x).unwrap();
            prop_assert!((back - n).abs() <= 1e-6 * n.max(1.0), "n={} back={}", n, back);
        }
    }
}
