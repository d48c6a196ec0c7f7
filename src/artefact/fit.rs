//! The JSON of `headroom fit`: Amdahl and USL fits of (concurrency, throughput) points, read
//! back by `plan --fit` and `report`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Contract, Kind};
use crate::model::usl_fit::Point;

/// The `fit` answer; its JSON is a contract (`usl.sigma`, `usl.sigma_ci`, `amdahl.sigma`, ...).
#[derive(Debug, Serialize, Deserialize, Clone, JsonSchema)]
pub struct FitReport {
    pub input: Input,
    pub usl: UslJson,
    pub amdahl: AmdahlJson,
    pub predictions: Vec<PredictionJson>,
    pub target: Option<TargetJson>,
    /// Both curves sampled from N = 0 to past the peak, with the USL's 95% confidence band
    /// (absent from fits written before it was added).
    #[serde(default)]
    pub curve: Vec<CurvePoint>,
    pub warnings: Vec<String>,
}

/// One point of both curves.
#[derive(Debug, Serialize, Deserialize, Clone, Copy, JsonSchema)]
pub struct CurvePoint {
    pub n: f64,
    pub usl: f64,
    /// The 95% confidence band of the USL curve (delta method); `null` when undetermined.
    pub usl_lo95: Option<f64>,
    pub usl_hi95: Option<f64>,
    pub amdahl: f64,
}

/// What was fitted: the file and its points.
#[derive(Debug, Serialize, Deserialize, Clone, JsonSchema)]
pub struct Input {
    pub file: String,
    pub points: Vec<Point>,
}

/// The USL's coefficients, with standard errors and 95% intervals, and its fit.
#[derive(Debug, Serialize, Deserialize, Clone, JsonSchema)]
pub struct UslJson {
    pub sigma: f64,
    pub sigma_se: Option<f64>,
    pub sigma_ci: Option<[f64; 2]>,
    pub kappa: f64,
    pub kappa_se: Option<f64>,
    pub kappa_ci: Option<[f64; 2]>,
    pub lambda: f64,
    pub lambda_se: Option<f64>,
    pub lambda_ci: Option<[f64; 2]>,
    /// Unrounded N*; `null` when κ = 0.
    pub peak_concurrency: Option<f64>,
    pub peak_concurrency_whole: Option<u64>,
    pub peak_throughput: Option<f64>,
    pub r_squared: f64,
    pub residual_std_error: f64,
    pub degrees_of_freedom: usize,
    pub residuals: Vec<f64>,
}

/// Amdahl's law (κ = 0) fitted to the same points, for comparison.
#[derive(Debug, Serialize, Deserialize, Clone, JsonSchema)]
pub struct AmdahlJson {
    pub sigma: f64,
    pub sigma_se: Option<f64>,
    pub sigma_ci: Option<[f64; 2]>,
    pub lambda: f64,
    pub lambda_se: Option<f64>,
    pub lambda_ci: Option<[f64; 2]>,
    pub ceiling_throughput: Option<f64>,
    pub r_squared: f64,
    pub residual_std_error: f64,
    pub degrees_of_freedom: usize,
}

/// X(N) at one N asked for with `--at`.
#[derive(Debug, Serialize, Deserialize, Clone, JsonSchema)]
pub struct PredictionJson {
    pub concurrency: f64,
    pub usl_throughput: f64,
    pub amdahl_throughput: f64,
    pub extrapolated: bool,
}

/// The N that reaches the throughput asked for with `--target`.
#[derive(Debug, Serialize, Deserialize, Clone, JsonSchema)]
pub struct TargetJson {
    pub throughput: f64,
    /// Smallest N reaching the target on the USL curve; `null` when past its peak.
    pub usl_concurrency: Option<f64>,
    pub amdahl_concurrency: Option<f64>,
}

impl Contract for FitReport {
    const KIND: Kind = Kind::Fit;
}
