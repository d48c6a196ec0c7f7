//! Amdahl's law: S(N) = N / (1 + σ(N − 1)).
//!
//! σ is the serial (contended) fraction of the work, N the number of workers or instances.
//! Speedup is bounded by the ceiling 1/σ however many workers are added.

use serde::Serialize;

/// Amdahl's law with serial fraction `sigma` (σ ≥ 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Amdahl {
    /// σ: the serial fraction.
    pub sigma: f64,
}

impl Amdahl {
    /// Speedup S(N) = N / (1 + σ(N − 1)).
    pub fn speedup(&self, n: f64) -> f64 {
        n / (1.0 + self.sigma * (n - 1.0))
    }

    /// Efficiency E(N) = S(N) / N = 1 / (1 + σ(N − 1)).
    pub fn efficiency(&self, n: f64) -> f64 {
        self.speedup(n) / n
    }

    /// The ceiling lim S(N) = 1/σ as N → ∞; `None` when σ = 0 (linear scaling, no ceiling).
    pub fn ceiling(&self) -> Option<f64> {
        (self.sigma > 0.0).then(|| 1.0 / self.sigma)
    }

    /// The N with S(N) = `target`: N = S(1 − σ) / (1 − Sσ); `None` when S ≥ 1/σ (unreachable).
    pub fn n_for_speedup(&self, target: f64) -> Option<f64> {
        let denom = 1.0 - target * self.sigma;
        (denom > 0.0).then(|| target * (1.0 - self.sigma) / denom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_computed() {
        let a = Amdahl { sigma: 0.05 };
        // 16 / (1 + 0.05·15) = 16 / 1.75
        assert!((a.speedup(16.0) - 16.0 / 1.75).abs() < 1e-12);
        assert!((a.ceiling().unwrap() - 20.0).abs() < 1e-12);
        assert!(a.n_for_speedup(20.0).is_none());
        assert!(Amdahl { sigma: 0.0 }.ceiling().is_none());
    }

    proptest! {
        #[test]
        fn inverse_of_speedup(sigma in 0.0f64..0.5, n in 1.0f64..1000.0) {
            let a = Amdahl { sigma };
            let s = a.speedup(n);
            let back = a.n_for_speedup(s).unwrap();
            prop_assert!((back - n).abs() <= 1e-6 * n);
        }
    }
}
