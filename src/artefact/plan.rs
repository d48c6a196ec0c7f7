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
