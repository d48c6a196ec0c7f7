//! Fitting USL and Amdahl curves to measured (concurrency, throughput) points.
//!
//! Bounded nonlinear least squares: σ ≥ 0, κ ≥ 0, λ free (pinning λ to X(1) biases σ and κ, and
//! many sweeps have no N = 1 row). The bounded minimum lies in the interior or on a face of the
//! feasible set, so each face (σ and κ free, one of them held at 0, both at 0) is solved without
//! bounds from a grid start, infeasible answers are dropped, and the best survivor is kept; when
//! a face with more coefficients at 0 fits as well, the simpler curve wins. Uncertainty comes from
//! the Jacobian at the optimum: cov = s²(JᵀJ)⁻¹ with s² = SSR/(n − p), intervals from Student's t.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::nls::{self, Problem, MAX_P};
use super::usl::{Peak, Usl};
use schemars::JsonSchema;

/// One measurement: throughput X (requests per second) at concurrency N.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Point {
    pub n: f64,
    pub x: f64,
}

/// A fitted coefficient with its standard error and two-sided 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    /// `None` when the data cannot determine it (a singular Jacobian).
    pub std_error: Option<f64>,
    /// value ± t(0.975, n − p)·SE, cut at 0 for coefficients bounded below by 0.
    pub ci95: Option<[f64; 2]>,
    /// True when the uncut interval reaches 0 or below: the data cannot tell it from 0.
    pub indistinguishable_from_zero: bool,
}

/// Goodness of fit shared by both curves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quality {
    pub r_squared: f64,
    /// √(SSR / (n − p)), requests per second.
    pub residual_std_error: f64,
    pub degrees_of_freedom: usize,
    /// Observed − fitted, in input order.
    pub residuals: Vec<f64>,
}

/// A USL fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UslFit {
    pub curve: Usl,
    pub lambda: Estimate,
    pub sigma: Estimate,
    pub kappa: Estimate,
    pub quality: Quality,
    /// `None` when κ = 0 or σ ≥ 1.
    pub peak: Option<Peak>,
    /// The largest N measured; predictions past twice this are extrapolations.
    pub max_measured_n: f64,
    pub warnings: Vec<String>,
    /// Covariance of (λ, σ, κ) and the t quantile of the 95% intervals, for [`UslFit::band95`].
    #[serde(skip)]
    pub covariance: Option<([[f64; 3]; 3], f64)>,
}

/// An Amdahl fit: the USL with κ held at 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AmdahlFit {
    pub lambda: Estimate,
    pub sigma: Estimate,
    pub quality: Quality,
    /// λ/σ: the throughput no concurrency can pass; `None` when σ = 0.
    pub ceiling_throughput: Option<f64>,
}

/// Why a fit could not be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FitError {
    #[error("need at least 4 points to fit 3 coefficients with an error estimate, got {0}")]
    TooFewPoints(usize),
    #[error("need at least 3 distinct concurrency levels, got {0}: measure more values of N")]
    TooFewLevels(usize),
    #[error("point {index} (N = {n}, X = {x}): concurrency and throughput must be positive and finite")]
    NotPositive { index: usize, n: f64, x: f64 },
    #[error("the fit did not converge: the data do not look like a scalability curve")]
    NoFit,
}

/// A prediction X(N) with a flag for N past twice the measured range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prediction {
    pub n: f64,
    pub throughput: f64,
    pub extrapolated: bool,
}

struct Data<'a>(&'a [Point]);

impl Problem for Data<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn residuals(&self, t: &[f64; MAX_P], out: &mut [f64]) -> bool {
        let u = Usl { lambda: t[0], sigma: t[1], kappa: t[2] };
        for (o, p) in out.iter_mut().zip(self.0) {
            let d = u.slowdown(p.n);
            if d <= 0.0 || !d.is_finite() {
                return false;
            }
            *o = p.x - t[0] * p.n / d;
        }
        true
    }
    fn jacobian(&self, t: &[f64; MAX_P], out: &mut [[f64; MAX_P]]) {
        let u = Usl { lambda: t[0], sigma: t[1], kappa: t[2] };
        for (row, p) in out.iter_mut().zip(self.0) {
            let d = u.slowdown(p.n);
            let n = p.n;
            // r = x − λN/D, so ∂r/∂λ = −N/D, ∂r/∂σ = λN(N−1)/D², ∂r/∂κ = λN²(N−1)/D².
            *row = [-n / d, t[0] * n * (n - 1.0) / (d * d), t[0] * n * n * (n - 1.0) / (d * d)];
        }
    }
}

/// The λ that minimises Σ(X − λg)² for fixed σ, κ, where g = N / D(N): λ = ΣXg / Σg².
fn best_lambda(points: &[Point], sigma: f64, kappa: f64) -> f64 {
    let u = Usl { lambda: 1.0, sigma, kappa };
    let (num, den) = points.iter().fold((0.0, 0.0), |(a, b), p| {
        let g = u.throughput(p.n);
        (a + p.x * g, b + g * g)
    });
    num / den
}

/// The best parameters on one face: σ and/or κ free, the others held at 0.
fn solve_face(points: &[Point], sigma_free: bool, kappa_free: bool) -> Option<nls::Solution> {
    let n_max = points.iter().map(|p| p.n).fold(1.0, f64::max);
    let sigmas: Vec<f64> =
        if sigma_free { (0..=20).map(|i| 10f64.powf(-4.0 + 0.2 * i as f64)).collect() } else { vec![0.0] };
    let kappas: Vec<f64> = if kappa_free {
        (0..=24).map(|i| 10f64.powf(-3.0 + 0.25 * i as f64) / (n_max * n_max)).collect()
    } else {
        vec![0.0]
    };
    let problem = Data(points);
    let mut buf = vec![0.0; points.len()];
    let mut starts: Vec<(f64, [f64; MAX_P])> = Vec::new();
    for &s in &sigmas {
        for &k in &kappas {
            let theta = [best_lambda(points, s, k), s, k];
            let cost = nls::ssr(&problem, &theta, &mut buf);
            if cost.is_finite() {
                starts.push((cost, theta));
            }
        }
    }
    starts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let free = [true, sigma_free, kappa_free];
    starts
        .iter()
        .take(3)
        .map(|(_, theta)| nls::levenberg_marquardt(&problem, *theta, free))
        .filter(|s| s.ssr.is_finite() && s.theta[1] >= 0.0 && s.theta[2] >= 0.0)
        .min_by(|a, b| a.ssr.total_cmp(&b.ssr))
}

/// Solves the faces in order of complexity and keeps the best; a simpler face is preferred
/// when it fits as well to within rounding (so noise-free Amdahl data gives exactly κ = 0).
fn best_of_faces(points: &[Point], faces: &[(bool, bool)]) -> Result<nls::Solution, FitError> {
    let sst = total_sum_of_squares(points);
    let tie = 1e-10 * sst.max(1e-300);
    let mut best: Option<nls::Solution> = None;
    for &(sf, kf) in faces {
        if let Some(s) = solve_face(points, sf, kf) {
            match best {
                Some(b) if b.ssr <= s.ssr + tie => {}
                _ => best = Some(s),
            }
        }
    }
    best.ok_or(FitError::NoFit)
}

fn total_sum_of_squares(points: &[Point]) -> f64 {
    let mean = points.iter().map(|p| p.x).sum::<f64>() / points.len() as f64;
    points.iter().map(|p| (p.x - mean).powi(2)).sum()
}

fn validate(points: &[Point]) -> Result<(), FitError> {
    for (index, p) in points.iter().enumerate() {
        if !(p.n > 0.0 && p.x > 0.0 && p.n.is_finite() && p.x.is_finite()) {
            return Err(FitError::NotPositive { index, n: p.n, x: p.x });
        }
    }
    if points.len() < 4 {
        return Err(FitError::TooFewPoints(points.len()));
    }
    let mut levels: Vec<f64> = points.iter().map(|p| p.n).collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    if levels.len() < 3 {
        return Err(FitError::TooFewLevels(levels.len()));
    }
    Ok(())
}

/// Estimates and fit quality at θ, with `params` coefficients counted against the degrees of
/// freedom; `bounded[j]` marks coefficients whose interval is cut at 0.
fn assess(points: &[Point], sol: &nls::Solution, params: usize) -> ([Estimate; MAX_P], Quality, Option<Covariance>) {
    let n = points.len();
    let dof = n - params;
    let problem = Data(points);
    let mut jac = vec![[0.0; MAX_P]; n];
    problem.jacobian(&sol.theta, &mut jac);
    let mut jtj = [[0.0; MAX_P]; MAX_P];
    for row in &jac {
        for a in 0..params {
            for b in 0..params {
                jtj[a][b] += row[a] * row[b];
            }
        }
    }
    let s2 = sol.ssr / dof as f64;
    let t = StudentsT::new(0.0, 1.0, dof as f64).map(|d| d.inverse_cdf(0.975)).unwrap_or(f64::NAN);
    let cov = nls::invert(&jtj, params);
    let mut est = [Estimate { value: 0.0, std_error: None, ci95: None, indistinguishable_from_zero: true }; MAX_P];
    for j in 0..MAX_P {
        let value = sol.theta[j];
        let se = cov.map(|c| (c[j][j] * s2).sqrt()).filter(|v| v.is_finite() && j < params);
        let raw = se.map(|se| [value - t * se, value + t * se]);
        let ci95 = raw.map(|[lo, hi]| [if j == 0 { lo } else { lo.max(0.0) }, hi]);
        let zero = raw.is_none_or(|[lo, _]| lo <= 0.0);
        est[j] = Estimate { value, std_error: se, ci95, indistinguishable_from_zero: zero };
    }
    let mut residuals = vec![0.0; n];
    problem.residuals(&sol.theta, &mut residuals);
    let sst = total_sum_of_squares(points);
    let r_squared = if sst > 0.0 { 1.0 - sol.ssr / sst } else { 1.0 };
    let quality = Quality { r_squared, residual_std_error: s2.sqrt(), degrees_of_freedom: dof, residuals };
    let covariance = cov.filter(|_| t.is_finite()).map(|c| {
        let mut out = [[0.0; 3]; 3];
        for (a, row) in out.iter_mut().enumerate().take(params) {
            for (b, v) in row.iter_mut().enumerate().take(params) {
                *v = c[a][b] * s2;
            }
        }
        (out, t)
    });
    (est, quality, covariance)
}

/// The covariance matrix of the coefficients and the t quantile of their 95% intervals.
type Covariance = ([[f64; 3]; 3], f64);

/// Fits X(N) = λN / (1 + σ(N − 1) + κN(N − 1)) with σ, κ ≥ 0 and λ free.
pub fn fit_usl(points: &[Point]) -> Result<UslFit, FitError> {
    validate(points)?;
    let sol = best_of_faces(points, &[(false, false), (true, false), (false, true), (true, true)])?;
    let (est, quality, covariance) = assess(points, &sol, 3);
    let curve = Usl { lambda: sol.theta[0], sigma: sol.theta[1], kappa: sol.theta[2] };
    let max_measured_n = points.iter().map(|p| p.n).fold(0.0, f64::max);
    let peak = curve.peak();
    let mut warnings = Vec::new();
    if est[1].indistinguishable_from_zero {
        warnings.push("σ (contention) cannot be told from 0 at 95%: its interval includes 0".into());
    }
    if est[2].indistinguishable_from_zero {
        warnings.push("κ (coherency) cannot be told from 0 at 95%: the peak, if any, is uncertain".into());
    }
    if let Some(p) = peak.filter(|p| p.concurrency > 2.0 * max_measured_n) {
        warnings.push(format!(
            "the peak N* = {:.1} is past twice the largest N measured ({max_measured_n}): it is an extrapolation",
            p.concurrency
        ));
    }
    if curve.sigma >= 1.0 {
        warnings.push("σ ≥ 1: throughput never rises above one unit's; the system does not scale".into());
    }
    Ok(UslFit {
        curve,
        lambda: est[0],
        sigma: est[1],
        kappa: est[2],
        quality,
        peak,
        max_measured_n,
        warnings,
        covariance,
    })
}

/// Fits Amdahl's law scaled by λ: X(N) = λN / (1 + σ(N − 1)), σ ≥ 0.
pub fn fit_amdahl(points: &[Point]) -> Result<AmdahlFit, FitError> {
    validate(points)?;
    let sol = best_of_faces(points, &[(false, false), (true, false)])?;
    let (est, quality, _) = assess(points, &sol, 2);
    let ceiling_throughput = (sol.theta[1] > 0.0).then(|| sol.theta[0] / sol.theta[1]);
    Ok(AmdahlFit { lambda: est[0], sigma: est[1], quality, ceiling_throughput })
}

impl UslFit {
    /// X(N) from the fitted curve, flagged when N is past twice the largest N measured.
    pub fn predict(&self, n: f64) -> Prediction {
        Prediction { n, throughput: self.curve.throughput(n), extrapolated: n > 2.0 * self.max_measured_n }
    }

    /// The 95% confidence band of the fitted curve at `n` by the delta method: X ± t·√(gᵀCg),
    /// where g is the gradient of X(N) in (λ, σ, κ) and C their covariance. `None` when the
    /// data cannot determine the coefficients.
    pub fn band95(&self, n: f64) -> Option<[f64; 2]> {
        let (c, t) = self.covariance?;
        let u = &self.curve;
        let d = u.slowdown(n);
        let x = u.throughput(n);
        let g = [n / d, -u.lambda * n * (n - 1.0) / (d * d), -u.lambda * n * n * (n - 1.0) / (d * d)];
        let var: f64 = (0..3).flat_map(|a| (0..3).map(move |b| (a, b))).map(|(a, b)| g[a] * c[a][b] * g[b]).sum();
        let half = t * var.max(0.0).sqrt();
        half.is_finite().then(|| [(x - half).max(0.0), x + half])
    }
}
