//! What a run records of the target's utilization: where it was read, and the Utilization Law
//! fitted to its steps.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a utilization value reads: a counter's rate (busy seconds per second), or a gauge as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reading {
    Counter,
    Gauge,
}

/// Where the target's utilization was read, and how the reading went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UtilizationSource {
    /// `scrape URL SERIES` or `query URL PROMQL`.
    pub source: String,
    pub reading: Reading,
    /// What the value was divided by (100%): a number, or a series read beside it; `null` for
    /// none (a gauge that is already a share).
    pub capacity: Option<String>,
    pub interval_s: f64,
    pub samples: u64,
    /// Reads that failed (each bounded in time and size), and the last one's error.
    pub failures: u64,
    pub last_error: Option<String>,
}

/// The Utilization Law, U = idle + D·X, fitted to the steps that read a utilization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UtilizationLaw {
    /// Service demand: seconds of the whole target's capacity per request.
    pub demand_s: f64,
    /// D's 95% interval (Student's t); `null` from two steps that lie exactly on the line.
    pub demand_lo95: Option<f64>,
    pub demand_hi95: Option<f64>,
    /// Utilization at no load: the line's intercept (0 when fitted through the origin: from
    /// two steps, or when the intercept would fall below zero).
    pub idle: f64,
    /// The steps fitted: from the lightest, those whose utilization lies within 10% (or 2
    /// points) of the line, below 95%.
    pub steps: Vec<String>,
    /// The highest throughput among them: past it the law is extrapolated, not measured.
    pub linear_until_rps: f64,
    /// The first step past them, when there is one, and its utilization.
    pub departs_at: Option<String>,
    pub departs_utilization: Option<f64>,
}

impl UtilizationLaw {
    /// The throughput at utilization `u` (a share): (u − idle) / D.
    pub fn rps_at(&self, u: f64) -> f64 {
        (u - self.idle) / self.demand_s
    }
}
