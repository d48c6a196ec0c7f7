//! The JSON of `headroom plan`: the per-month instance plan and everything it assumed, read back
//! by `report`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Contract, Kind};
use crate::calendar::YearMonth;
use crate::model::capacity::MonthPlan;
use crate::model::usl::Usl;

/// What the plan assumed, stated so that a reviewer can check it.
#[derive(Debug, Serialize, Deserialize, Clone, JsonSchema)]
pub struct Assumptions {
    pub service: String,
    pub current_instances: u32,
    pub current_peak_rps: f64,
    pub current_utilization: f64,
    pub target_utilization: f64,
    /// Where per-instance capacity came from.
    pub capacity_source: String,
    /// RPS one instance carries at the target utilization; `null` with a USL fit.
    pub rps_per_instance_at_target: Option<f64>,
    pub usl: Option<Usl>,
    /// Where each month's peak came from.
    pub demand_source: String,
    pub monthly_growth: Option<f64>,
    pub worst_monthly_growth: Option<f64>,
    pub failure_domains: u32,
    pub spare_instances: u32,
    pub events: Vec<Event>,
    /// The capacity per instance measured by a load test (`plan --results`): every figure it
    /// gives and the one that binds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Reconciled>,
}

/// A rule that gives a capacity per instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CapacityRule {
    /// The highest measured throughput that met every SLO without saturating.
    Slo,
    /// The Utilization Law's throughput at the target utilization.
    UtilizationLaw,
    /// The USL peak X(N*) of a concurrency sweep, times the target utilization.
    UslPeak,
}

/// One rule's figure, where it came from and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CapacityFigure {
    pub rule: CapacityRule,
    /// RPS per instance.
    pub rps: f64,
    /// The file (and step) it was read from.
    pub source: String,
    /// What it rests on, in a phrase: "SLO p99 < 100ms (overall) failed at 400 rps".
    pub detail: String,
}

/// The capacity per instance a plan relies on: the smallest of the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reconciled {
    pub rps_per_instance: f64,
    pub binding: CapacityRule,
    /// The reconciliation in one sentence, the binding rule first.
    pub summary: String,
    pub figures: Vec<CapacityFigure>,
}

/// The plan: assumptions, one row a month, and warnings.
#[derive(Debug, Serialize, Deserialize, Clone, JsonSchema)]
pub struct PlanReport {
    pub assumptions: Assumptions,
    pub months: Vec<MonthPlan>,
    pub warnings: Vec<String>,
}

/// An event's month: a calendar month (`"2026-11"`) or a plan row (`5`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum EventMonth {
    Row(u32),
    Calendar(YearMonth),
}

impl std::fmt::Display for EventMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventMonth::Row(k) => write!(f, "row {k}"),
            EventMonth::Calendar(m) => write!(f, "{m}"),
        }
    }
}

/// A named event that multiplies one month's peak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    pub name: String,
    pub month: EventMonth,
    pub multiplier: f64,
}

impl Contract for PlanReport {
    const KIND: Kind = Kind::Plan;
}
