//! Instance planning: how many instances carry a demand at a target utilization.
//!
//! Per-instance capacity at the target utilization U is `rps_per_instance`, or
//! peak / instances / current utilization × U (10,000 RPS on 20 instances at 40% is 500 RPS at
//! 40%, so 750 at 60%). With k failure domains the fleet must survive losing the largest one:
//! n − ⌈n/k⌉ instances carry the demand at U. Spare instances (N+1) are added on top. When
//! scale-out is sub-linear, fleet throughput comes from a USL curve X(n) instead of n × capacity,
//! and a demand past the curve's peak cannot be met by adding instances.

use serde::{Deserialize, Serialize};

use super::usl::Usl;
use schemars::JsonSchema;

/// How fleet throughput grows with instances.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scaling {
    /// Each instance adds `rps_at_target` at the target utilization.
    Linear { rps_at_target: f64 },
    /// X(n) is the fleet's saturation throughput with n instances.
    Usl { curve: Usl },
}

/// A fleet and the rules it is planned by.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fleet {
    pub current_instances: u32,
    /// U: the utilization the plan keeps the fleet at, in (0, 1].
    pub target_utilization: f64,
    pub scaling: Scaling,
    /// k ≥ 1; 1 means no failure domains are planned for.
    pub failure_domains: u32,
    pub spare_instances: u32,
}

/// The answer to "how many instances for this demand".
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Needed {
    Instances(u32),
    /// No fleet size meets the demand; `max_rps` is the most any size carries at the target.
    Unreachable {
        max_rps: f64,
    },
}

/// The demand of one month of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthDemand {
    pub month: String,
    /// Nominal peak RPS, before any event multiplier.
    pub peak_rps: f64,
    /// Worst-case peak RPS, before any event multiplier.
    pub peak_rps_worst: f64,
    /// A named event and its multiplier on both peaks.
    pub event: Option<(String, f64)>,
}

/// One row of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MonthPlan {
    pub month: String,
    pub peak_rps: f64,
    pub peak_rps_worst: f64,
    /// The fleet for the nominal case: max(current fleet, needed); `null` when unreachable.
    pub instances: Option<u32>,
    pub instances_worst: Option<u32>,
    /// Instances to add versus the month before (negative: can be released).
    pub add: Option<i64>,
    /// Peak utilization of that fleet.
    pub utilization: Option<f64>,
    /// Peak utilization after losing the largest failure domain; `null` with one domain.
    pub utilization_after_domain_loss: Option<f64>,
    pub note: String,
}

const MAX_FLEET: u32 = 10_000_000;

impl Fleet {
    /// Fleet throughput at 100% utilization with `n` instances, requests per second.
    pub fn saturation_rps(&self, n: u32) -> f64 {
        match self.scaling {
            Scaling::Linear { rps_at_target } => n as f64 * rps_at_target / self.target_utilization,
            Scaling::Usl { curve } => {
                if n == 0 {
                    0.0
                } else {
                    curve.throughput(n as f64)
                }
            }
        }
    }

    /// Instances left after losing the largest of k evenly filled domains: n − ⌈n/k⌉.
    pub fn surviving(&self, n: u32) -> u32 {
        if self.failure_domains <= 1 {
            n
        } else {
            n - n.div_ceil(self.failure_domains)
        }
    }

    fn carries(&self, n: u32, demand_rps: f64) -> bool {
        self.saturation_rps(self.surviving(n)) * self.target_utilization >= demand_rps
    }

    /// The smallest fleet (spares included) that carries `demand_rps` at the target utilization
    /// after losing one failure domain.
    pub fn instances_needed(&self, demand_rps: f64) -> Needed {
        if demand_rps <= 0.0 {
            return Needed::Instances(self.spare_instances);
        }
        let (start, limit) = match self.scaling {
            Scaling::Linear { rps_at_target } => ((demand_rps / rps_at_target).floor() as u32, MAX_FLEET),
            Scaling::Usl { curve } => {
                let peak_n = curve.peak().map_or(MAX_FLEET as f64, |p| p.concurrency.ceil() + 1.0);
                let k = self.failure_domains.max(1) as f64;
                (1, (peak_n * k / (k - 1.0).max(1.0) + k).min(MAX_FLEET as f64) as u32)
            }
        };
        match (start.max(1)..=limit).find(|&n| self.carries(n, demand_rps)) {
            Some(n) => Needed::Instances(n + self.spare_instances),
            None => Needed::Unreachable {
                max_rps: (1..=limit.min(100_000))
                    .map(|n| self.saturation_rps(self.surviving(n)) * self.target_utilization)
                    .fold(0.0, f64::max),
            },
        }
    }

    /// Peak utilization of `n` instances under `demand_rps`.
    pub fn utilization(&self, demand_rps: f64, n: u32) -> f64 {
        demand_rps / self.saturation_rps(n)
    }

    /// Peak utilization after losing the largest failure domain; `None` with one domain.
    pub fn utilization_after_domain_loss(&self, demand_rps: f64, n: u32) -> Option<f64> {
        (self.failure_domains > 1).then(|| demand_rps / self.saturation_rps(self.surviving(n)))
    }
}

/// Plans every month: the fleet never drops below today's, and each row says what changed.
pub fn plan(fleet: &Fleet, months: &[MonthDemand]) -> Vec<MonthPlan> {
    let mut previous = Some(fleet.current_instances);
    months
        .iter()
        .map(|m| {
            let factor = m.event.as_ref().map_or(1.0, |(_, f)| *f);
            let (peak, worst) = (m.peak_rps * factor, m.peak_rps_worst * factor);
            let fleet_for = |demand: f64| match fleet.instances_needed(demand) {
                Needed::Instances(n) => (Some(n.max(fleet.current_instances)), Some(n), None),
                Needed::Unreachable { max_rps } => (None, None, Some(max_rps)),
            };
            let (instances, needed, unreachable) = fleet_for(peak);
            let (instances_worst, _, unreachable_worst) = fleet_for(worst);
            let mut notes = Vec::new();
            if let Some((name, f)) = &m.event {
                notes.push(format!("{name} (×{f})"));
            }
            if let Some(max) = unreachable {
                notes.push(format!("not reachable by adding instances: the fleet carries at most {max:.0} RPS at the target utilization"));
            } else if needed.is_some_and(|n| n <= fleet.current_instances) {
                notes.push("current fleet is enough".into());
            }
            match (instances, instances_worst) {
                (Some(n), Some(w)) if w > n => notes.push(format!("worst case exceeds nominal by {}", w - n)),
                (Some(_), None) => notes.push(format!(
                    "worst case not reachable by adding instances (at most {:.0} RPS)",
                    unreachable_worst.unwrap_or(0.0)
                )),
                _ => {}
            }
            let add = match (instances, previous) {
                (Some(n), Some(p)) => Some(n as i64 - p as i64),
                _ => None,
            };
            previous = instances.or(previous);
            MonthPlan {
                month: m.month.clone(),
                peak_rps: peak,
                peak_rps_worst: worst,
                instances,
                instances_worst,
                add,
                utilization: instances.map(|n| fleet.utilization(peak, n)),
                utilization_after_domain_loss: instances.and_then(|n| fleet.utilization_after_domain_loss(peak, n)),
                note: notes.join("; "),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DESIGN.md: 10,000 RPS on 20 instances at 40% CPU, target 60%, growth 10% a month.
    fn worked(domains: u32, spares: u32) -> (Fleet, Vec<MonthDemand>) {
        let fleet = Fleet {
            current_instances: 20,
            target_utilization: 0.6,
            scaling: Scaling::Linear { rps_at_target: 10_000.0 / 20.0 / 0.4 * 0.6 },
            failure_domains: domains,
            spare_instances: spares,
        };
        let months = (1..=12)
            .map(|k| {
                let peak = 10_000.0 * 1.1f64.powi(k);
                MonthDemand { month: format!("m{k}"), peak_rps: peak, peak_rps_worst: peak, event: None }
            })
            .collect();
        (fleet, months)
    }

    #[test]
    fn worked_example_of_the_design() {
        let (fleet, months) = worked(1, 0);
        let rows = plan(&fleet, &months);
        for row in &rows[..4] {
            assert_eq!(row.instances, Some(20));
            assert_eq!(row.note, "current fleet is enough");
        }
        assert_eq!(rows[4].instances, Some(22));
        assert_eq!(rows[4].add, Some(2));
        assert_eq!(rows[7].instances, Some(29));
        assert_eq!(rows[11].instances, Some(42));
        assert!((rows[4].peak_rps - 16_105.1).abs() < 0.01);
        // 16,105 RPS on 22 instances of 1,250 RPS at 100%: 58.6%.
        assert!((rows[4].utilization.unwrap() - 16_105.1 / (22.0 * 1250.0)).abs() < 1e-6);
        assert!(rows[4].utilization_after_domain_loss.is_none());
    }

    #[test]
    fn three_failure_domains_follow_the_formula() {
        let (fleet, months) = worked(3, 0);
        let rows = plan(&fleet, &months);
        for (row, m) in rows.iter().zip(&months) {
            // The smallest n with (n − ⌈n/3⌉)·750 ≥ peak.
            let n = (1..).find(|n: &u32| (n - n.div_ceil(3)) as f64 * 750.0 >= m.peak_rps).unwrap();
            assert_eq!(row.instances, Some(n.max(20)), "{}", m.month);
            let after = row.utilization_after_domain_loss.unwrap();
            assert!(after <= 0.6 + 1e-12, "{after}");
        }
        assert_eq!(rows[4].instances, Some(33));
        assert_eq!(rows[11].instances, Some(63));
    }

    #[test]
    fn spares_and_events() {
        let (fleet, mut months) = worked(1, 1);
        months[2].event = Some(("Holiday".into(), 3.0));
        let rows = plan(&fleet, &months);
        // 13,310 × 3 = 39,930 RPS → 54 + 1 spare, then back to the fleet after the event.
        assert_eq!(rows[2].instances, Some(55));
        assert!(rows[2].note.starts_with("Holiday (×3)"));
        // Month 4 needs ⌈14,641 / 750⌉ = 20 plus the spare: 21, so 34 can be released.
        assert_eq!(rows[3].instances, Some(21));
        assert_eq!(rows[3].add, Some(21 - 55));
        assert_eq!(rows[4].instances, Some(23));
    }

    #[test]
    fn usl_scaling_reports_unreachable_demand() {
        let curve = Usl { lambda: 1000.0, sigma: 0.05, kappa: 0.001 };
        let peak_x = curve.peak().unwrap().throughput;
        let fleet = Fleet {
            current_instances: 4,
            target_utilization: 0.6,
            scaling: Scaling::Usl { curve },
            failure_domains: 1,
            spare_instances: 0,
        };
        let n = match fleet.instances_needed(0.6 * curve.throughput(10.0)) {
            Needed::Instances(n) => n,
            other => panic!("{other:?}"),
        };
        assert_eq!(n, 10);
        match fleet.instances_needed(0.6 * peak_x * 1.01) {
            Needed::Unreachable { max_rps } => assert!((max_rps - 0.6 * curve.throughput(31.0)).abs() < 1e-6),
            other => panic!("{other:?}"),
        }
        let rows =
            plan(&fleet, &[MonthDemand { month: "m".into(), peak_rps: peak_x, peak_rps_worst: peak_x, event: None }]);
        assert_eq!(rows[0].instances, None);
        assert!(rows[0].note.contains("not reachable by adding instances"), "{}", rows[0].note);
    }
}
