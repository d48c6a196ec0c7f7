//! The artefacts a report reads, as the report needs them: the keys of `results.json` and of the
//! JSON of `fit`, `forecast` and `plan` that are a contract. Other keys are ignored, so a newer
//! file with more keys still renders.

use std::path::Path;

use anyhow::Result;
use serde::Deserialize;

pub use crate::cmd::fit::FitReport as Fit;
pub use crate::cmd::plan::PlanReport as Plan;
use crate::error::InputError;
pub use crate::load::analysis::{BreakingPoint, Expected, SoakAnalysis as Soak, SpikeAnalysis as Spike};
pub use crate::load::verdict::Delivery;
pub use crate::model::growth::PeriodForecast;
use crate::plan::Unit;

/// One input file, by what it holds.
#[derive(Debug)]
pub enum Artefact {
    Run(Box<Run>),
    Fit(Box<Fit>),
    Forecast(Box<Forecast>),
    Plan(Box<Plan>),
}

/// Reads `path` (`-` for standard input) and tells its kind from the keys it holds.
pub fn read(path: &Path) -> Result<(String, Artefact)> {
    let file = crate::input::name(path);
    let bad = |message: String| InputError::BadFile { file: file.clone(), message };
    let text = crate::input::read_text(path, "the file")?;
    let any = "a results.json, or the JSON of `headroom fit`, `forecast` or `plan`";
    // Checks the schema version and names the file in every error.
    let value: serde_json::Value = crate::artefact::parse(&text, &file, any)?;
    let has = |key: &str| value.get(key).is_some();
    let artefact = if has("steps") && has("environment") {
        Artefact::Run(Box::new(crate::artefact::parse(&text, &file, "a results.json from `headroom run`")?))
    } else if has("usl") && has("input") {
        Artefact::Fit(Box::new(crate::artefact::parse(&text, &file, "a fit from `headroom fit --format json`")?))
    } else if has("periods") && has("backtest") {
        Artefact::Forecast(Box::new(crate::artefact::parse(
            &text,
            &file,
            "a forecast from `headroom forecast --format json`",
        )?))
    } else if has("assumptions") && has("months") {
        Artefact::Plan(Box::new(crate::artefact::parse(&text, &file, "a plan from `headroom plan --format json`")?))
    } else {
        return Err(bad("not a headroom artefact: expected a results.json from `headroom run`, or the output of \
             `headroom fit|forecast|plan --format json`"
            .into())
        .into());
    };
    Ok((file, artefact))
}

#[derive(Debug, Deserialize)]
pub struct Run {
    pub target: String,
    pub profile: String,
    pub environment: Environment,
    pub interrupted: bool,
    pub aborted: Option<String>,
    pub valid: bool,
    pub invalid_reasons: Vec<String>,
    pub slo_passed: bool,
    pub steps: Vec<Step>,
    pub analysis: Analysis,
}

#[derive(Debug, Deserialize)]
pub struct Environment {
    pub headroom_version: String,
    pub cores: usize,
    pub start: String,
    pub end: String,
}

#[derive(Debug, Deserialize)]
pub struct Step {
    pub name: String,
    pub target_rps: Option<f64>,
    /// The schedule's mean rate (absent from files written before it was added).
    #[serde(default)]
    pub offered_rps: Option<f64>,
    pub users: Option<f64>,
    pub duration_s: f64,
    pub requests: u64,
    pub achieved_rps: f64,
    pub error_rate: f64,
    pub latency_us: Option<Percentiles>,
    pub service_time_us: Option<Percentiles>,
    pub late_starts: u64,
    #[serde(default)]
    pub unsent: u64,
    pub slo: Vec<Threshold>,
    pub valid: bool,
    /// What the step delivered against what it offered (absent from older files).
    #[serde(default)]
    pub delivery: Option<Delivery>,
    pub series: Vec<Second>,
}

impl Step {
    /// The load offered: the schedule's mean rate, or for an older file its final rate.
    pub fn offered(&self) -> Option<f64> {
        self.offered_rps.or(self.target_rps)
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

#[derive(Debug, Deserialize)]
pub struct Threshold {
    pub threshold: String,
    pub scope: String,
    /// The unit of `value` (absent from older files, whose latencies start with `p`).
    #[serde(default)]
    pub unit: Option<Unit>,
    pub value: f64,
    pub limit: f64,
    pub passed: bool,
}

impl Threshold {
    /// The measured value with its unit.
    pub fn shown(&self) -> String {
        let unit = self.unit.unwrap_or(if self.threshold.starts_with('p') { Unit::Us } else { Unit::Fraction });
        unit.show(self.value)
    }
}

#[derive(Debug, Deserialize)]
pub struct Second {
    pub t_s: f64,
    pub duration_s: f64,
    pub offered_rps: Option<f64>,
    pub achieved_rps: f64,
    pub p50_us: Option<f64>,
    pub p90_us: Option<f64>,
    pub p99_us: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Analysis {
    pub breaking_point: Option<BreakingPoint>,
    #[serde(default)]
    pub expected: Option<Expected>,
    pub spike: Option<Spike>,
    pub soak: Option<Soak>,
}

#[derive(Debug, Deserialize)]
pub struct Forecast {
    pub source: ForecastSource,
    #[serde(default)]
    pub days: Vec<Day>,
    pub model: ForecastModel,
    pub backtest: Backtest,
    pub periods: Vec<PeriodForecast>,
    #[serde(default)]
    pub treatments: Vec<String>,
    #[serde(default)]
    pub worst_case: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ForecastSource {
    pub file: String,
    pub first: String,
    pub last: String,
}

#[derive(Debug, Deserialize)]
pub struct Day {
    pub day: i64,
    pub peak_rps: f64,
}

#[derive(Debug, Deserialize)]
pub struct ForecastModel {
    pub name: String,
    pub reason: String,
    pub described: String,
}

#[derive(Debug, Deserialize)]
pub struct Backtest {
    pub origins: usize,
    pub window_days: usize,
    pub peak_mape: f64,
}
