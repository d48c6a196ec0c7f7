//! The USL and Amdahl fits against published results, generated truths and hard data.

use headroom::model::usl::Usl;
use headroom::model::usl_fit::{fit_amdahl, fit_usl, FitError, Point};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// SPEC SDM91 as shipped with the R package usl.
const SPECSDM91: [(f64, f64); 7] =
    [(1.0, 64.9), (18.0, 995.9), (36.0, 1652.4), (72.0, 1853.2), (108.0, 1828.9), (144.0, 1775.0), (216.0, 1702.2)];

fn pts(data: &[(f64, f64)]) -> Vec<Point> {
    data.iter().map(|&(n, x)| Point { n, x }).collect()
}

fn generate(u: Usl, ns: &[f64], noise: f64, seed: u64) -> Vec<Point> {
    let mut rng = SplitMix(seed);
    ns.iter().map(|&n| Point { n, x: u.throughput(n) * (1.0 + noise * rng.normal()) }).collect()
}

/// A small deterministic generator so that noisy cases are the same on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.next().max(1e-300), self.next());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs()
}

#[test]
fn reproduces_the_published_specsdm91_fit() {
    // R: usl(throughput ~ load, specsdm91): alpha 0.0277285 (SE 0.0091217), beta 0.0001044
    // (SE 0.0000199), gamma 89.9952330 (SE 14.2134894), residual standard error 82.8 on 4 df.
    let f = fit_usl(&pts(&SPECSDM91)).unwrap();
    assert!(close(f.sigma.value, 0.0277285, 1e-4), "{:?}", f.sigma);
    assert!(close(f.kappa.value, 0.0001044, 1e-3), "{:?}", f.kappa);
    assert!(close(f.lambda.value, 89.9952330, 1e-5), "{:?}", f.lambda);
    assert!(close(f.sigma.std_error.unwrap(), 0.0091217, 1e-3));
    assert!(close(f.kappa.std_error.unwrap(), 0.0000199, 1e-2));
    assert!(close(f.lambda.std_error.unwrap(), 14.2134894, 1e-3));
    assert_eq!(f.quality.degrees_of_freedom, 4);
    assert!(close(f.quality.residual_std_error, 82.8, 1e-3));
    let peak = f.peak.unwrap();
    assert!(close(peak.concurrency, ((1.0 - 0.0277285) / 0.0001044f64).sqrt(), 1e-3));
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    // Intervals are value ± t(0.975, 4)·SE with t = 2.7764.
    let [lo, hi] = f.lambda.ci95.unwrap();
    assert!(close(hi - lo, 2.0 * 2.776445 * 14.2134894, 1e-3));
}

#[test]
fn the_curve_band_follows_the_coefficients_covariance() {
    let f = fit_usl(&pts(&SPECSDM91)).unwrap();
    // At N = 1, X = λ, so the band is λ's own interval.
    let [lo, hi] = f.band95(1.0).unwrap();
    let [llo, lhi] = f.lambda.ci95.unwrap();
    assert!(close(lo, llo, 1e-9) && close(hi, lhi, 1e-9), "{lo} {hi} vs {llo} {lhi}");
    // Everywhere it holds the curve, and it is narrower inside the data than far beyond it.
    for n in [4.0, 32.0, 96.0, 200.0] {
        let [lo, hi] = f.band95(n).unwrap();
        assert!(lo < f.curve.throughput(n) && f.curve.throughput(n) < hi, "N = {n}");
    }
    let width = |n: f64| f.band95(n).map(|[lo, hi]| hi - lo).unwrap();
    assert!(width(600.0) > width(72.0), "{} vs {}", width(600.0), width(72.0));
}

#[test]
fn noise_free_amdahl_gives_zero_kappa_and_no_peak() {
    let truth = Usl { lambda: 250.0, sigma: 0.08, kappa: 0.0 };
    let data = generate(truth, &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0], 0.0, 1);
    let f = fit_usl(&data).unwrap();
    assert_eq!(f.kappa.value, 0.0);
    assert!(f.peak.is_none());
    assert!(close(f.sigma.value, 0.08, 1e-6) && close(f.lambda.value, 250.0, 1e-6), "{:?}", f.curve);
    let a = fit_amdahl(&data).unwrap();
    assert!(close(a.sigma.value, 0.08, 1e-6));
    assert!(close(a.ceiling_throughput.unwrap(), 250.0 / 0.08, 1e-6));
}

#[test]
fn coherency_only_lands_on_the_sigma_bound() {
    let truth = Usl { lambda: 100.0, sigma: 0.0, kappa: 0.001 };
    let f = fit_usl(&generate(truth, &[1.0, 4.0, 8.0, 16.0, 32.0, 48.0, 64.0], 0.0, 1)).unwrap();
    assert_eq!(f.sigma.value, 0.0);
    assert!(close(f.kappa.value, 0.001, 1e-6), "{:?}", f.curve);
}

#[test]
fn linear_scaling_gives_both_zero() {
    let f = fit_usl(&generate(Usl { lambda: 40.0, sigma: 0.0, kappa: 0.0 }, &[2.0, 4.0, 6.0, 8.0], 0.0, 1)).unwrap();
    assert_eq!((f.sigma.value, f.kappa.value), (0.0, 0.0));
    assert!(close(f.lambda.value, 40.0, 1e-9));
}

#[test]
fn converges_past_the_peak_and_without_n_equals_one() {
    let truth = Usl { lambda: 1200.0, sigma: 0.03, kappa: 0.0004 };
    // N* ≈ 49; measure from 8 to 400, far into the retrograde region, with no N = 1 row.
    let ns: Vec<f64> = (1..=50).map(|i| 8.0 * i as f64).collect();
    let f = fit_usl(&generate(truth, &ns, 0.01, 7)).unwrap();
    assert!((f.sigma.value - 0.03).abs() < 0.01, "{:?}", f.curve);
    assert!(close(f.kappa.value, 0.0004, 0.1), "{:?}", f.curve);
    assert!(close(f.peak.unwrap().concurrency, ((1.0 - 0.03) / 0.0004f64).sqrt(), 0.05));
}

#[test]
fn extrapolated_peak_and_predictions_are_flagged() {
    let truth = Usl { lambda: 100.0, sigma: 0.01, kappa: 0.00002 };
    let f = fit_usl(&generate(truth, &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0], 0.0, 1)).unwrap();
    assert!(f.warnings.iter().any(|w| w.contains("extrapolation")), "{:?}", f.warnings);
    assert!(!f.predict(64.0).extrapolated);
    assert!(f.predict(65.0).extrapolated);
}

#[test]
fn rejects_what_cannot_be_fitted() {
    let three = pts(&[(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]);
    assert_eq!(fit_usl(&three).unwrap_err(), FitError::TooFewPoints(3));
    let one_level = pts(&[(4.0, 1.0), (4.0, 2.0), (4.0, 3.0), (4.0, 3.0)]);
    assert_eq!(fit_usl(&one_level).unwrap_err(), FitError::TooFewLevels(1));
    let negative = pts(&[(1.0, 1.0), (2.0, -2.0), (3.0, 3.0), (4.0, 3.0)]);
    assert!(matches!(fit_usl(&negative).unwrap_err(), FitError::NotPositive { index: 1, .. }));
}

#[test]
fn noisy_data_with_falling_throughput_does_not_break_the_fit() {
    // Throughput that only falls: the best curve has σ ≥ 1 or a tiny N*, but it must not fail.
    let data = pts(&[(1.0, 100.0), (2.0, 90.0), (4.0, 70.0), (8.0, 40.0), (16.0, 20.0)]);
    let f = fit_usl(&data).unwrap();
    assert!(f.quality.r_squared > 0.9, "{:?}", f.quality);
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        rng_seed: RngSeed::Fixed(0x4ead_700d),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn recovers_noise_free_coefficients(
        lambda in 10.0f64..5000.0, sigma in 0.005f64..0.2, kappa in 1e-5f64..2e-3, first in 1usize..4
    ) {
        let ns: Vec<f64> = (first..first + 10).map(|i| (i * i) as f64).collect();
        let f = fit_usl(&generate(Usl { lambda, sigma, kappa }, &ns, 0.0, 0)).unwrap();
        prop_assert!(close(f.lambda.value, lambda, 1e-5), "λ {:?}", f.curve);
        prop_assert!(close(f.sigma.value, sigma, 1e-4), "σ {:?}", f.curve);
        prop_assert!(close(f.kappa.value, kappa, 1e-4), "κ {:?}", f.curve);
    }

    #[test]
    fn recovers_coefficients_from_one_percent_noise(
        lambda in 10.0f64..5000.0, sigma in 0.01f64..0.1, kappa in 1e-4f64..1e-3, seed in any::<u64>()
    ) {
        // 25 levels out to well past the peak, each measured with 1% Gaussian noise.
        let n_star = ((1.0 - sigma) / kappa).sqrt();
        let ns: Vec<f64> = (1..=25).map(|i| (i as f64 * 2.0 * n_star / 25.0).ceil()).collect();
        let truth = Usl { lambda, sigma, kappa };
        let f = fit_usl(&generate(truth, &ns, 0.01, seed)).unwrap();
        prop_assert!(close(f.lambda.value, lambda, 0.05), "λ {:?}", f.curve);
        prop_assert!((f.sigma.value - sigma).abs() < 0.2 * sigma + 0.003, "σ {:?}", f.curve);
        prop_assert!(close(f.kappa.value, kappa, 0.15), "κ {:?}", f.curve);
        let p = f.peak.unwrap();
        prop_assert!(close(p.throughput, truth.peak().unwrap().throughput, 0.02));
    }
}
