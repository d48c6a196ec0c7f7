//! The per-month instance plan as a document: what it assumed, then one row a month.

use crate::artefact::plan::{CapacityFigure, CapacityRule, PlanReport};
use crate::present::Present;
use crate::units::{percent, plain, readable, sig, thousands};
use crate::view::{Document, Table};

pub(crate) fn maybe_percent(v: Option<f64>) -> String {
    v.map_or("—".into(), |u| percent(u, 3))
}

pub(crate) fn count(v: Option<u32>) -> String {
    v.map_or("unreachable".into(), |n| n.to_string())
}

/// The capacity per instance a load test measured: every rule's figure, the binding one first,
/// with the summary sentence beneath; `None` when the plan did not measure it.
pub(crate) fn capacity(plan: &PlanReport) -> Option<Table> {
    let r = plan.assumptions.capacity.as_ref()?;
    let mut t = Table::new(
        &format!("Capacity per instance: {} RPS", readable(r.rps_per_instance)),
        &["rule", "RPS per instance", "from", "because"],
    );
    let mut figures: Vec<&CapacityFigure> = r.figures.iter().collect();
    figures.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    for f in figures {
        let rule = match f.rule {
            CapacityRule::Slo => "SLOs met, not saturated",
            CapacityRule::UtilizationLaw => "utilization law at target",
            CapacityRule::UslPeak => "USL peak × target",
        };
        let rule = if f.rule == r.binding { format!("{rule} (binds)") } else { rule.to_string() };
        t = t.row([rule, readable(f.rps), f.source.clone(), f.detail.clone()]);
    }
    Some(t.note(format!("{}.", r.summary)))
}

/// One row a month, as `plan` prints it and the review shows it.
pub(crate) fn months(plan: &PlanReport) -> Table {
    let mut months = Table::new(
        "Per-month instance plan",
        // Short headers and words, so that the table fits 80 columns without splitting a number.
        &[
            "month",
            "peak RPS",
            "worst RPS",
            "fleet",
            "worst fleet",
            "add",
            "util. at peak",
            "after domain loss",
            "note",
        ],
    );
    for m in &plan.months {
        months = months.row([
            m.month.clone(),
            readable(m.peak_rps),
            readable(m.peak_rps_worst),
            count(m.instances),
            count(m.instances_worst),
            m.add.map_or("—".into(), |d| if d > 0 { format!("+{d}") } else { d.to_string() }),
            maybe_percent(m.utilization),
            maybe_percent(m.utilization_after_domain_loss),
            m.note.clone(),
        ]);
    }
    months
}

impl Present for PlanReport {
    fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        crate::artefact::to_writer(self, out)
    }

    fn view(&self) -> Document {
        let a = &self.assumptions;
        let mut assumptions = Table::new("Assumptions", &["", "value"])
            .row([
                "current fleet".into(),
                format!(
                    "{} instances at {} RPS peak, {} utilization",
                    a.current_instances,
                    thousands(a.current_peak_rps),
                    maybe_percent(Some(a.current_utilization))
                ),
            ])
            .row(["target utilization".into(), maybe_percent(Some(a.target_utilization))]);
        assumptions = match (a.rps_per_instance_at_target, a.usl) {
            (Some(r), _) => assumptions
                .row(["capacity per instance".into(), format!("{} RPS at target ({})", sig(r, 5), a.capacity_source)]),
            (None, Some(u)) => assumptions.row([
                "scale-out".into(),
                format!(
                    "X(N) = {}N / (1 + {}(N−1) + {}N(N−1)); {}",
                    sig(u.lambda, 5),
                    sig(u.sigma, 4),
                    sig(u.kappa, 4),
                    a.capacity_source
                ),
            ]),
            _ => assumptions,
        };
        assumptions = assumptions
            .row(["demand".into(), a.demand_source.clone()])
            .row([
                "failure domains".into(),
                if a.failure_domains > 1 {
                    format!("{}: survives losing one at the target utilization", a.failure_domains)
                } else {
                    "1 (none planned for)".into()
                },
            ])
            .row(["spare instances".into(), a.spare_instances.to_string()]);
        for e in &a.events {
            assumptions =
                assumptions.row([format!("event: {}", e.name), format!("×{} in {}", sig(e.multiplier, 4), e.month)]);
        }
        let mut months = months(self);
        months.notes.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        let mut tables: Vec<Table> = capacity(self).into_iter().collect();
        tables.extend([assumptions, months]);
        Document::tables(format!("Instance plan: {}", a.service), tables)
    }

    fn csv(&self) -> Option<Table> {
        let opt = |v: Option<f64>| v.map_or(String::new(), plain);
        let mut header = vec![
            "month",
            "peak_rps",
            "peak_rps_worst",
            "instances",
            "instances_worst",
            "add",
            "utilization",
            "utilization_after_domain_loss",
            "note",
        ];
        // A measured capacity: the figure each row was sized with, and the rule that gave it.
        let measured = self.assumptions.capacity.as_ref();
        if measured.is_some() {
            header.extend(["rps_per_instance", "capacity_rule"]);
        }
        let mut s = Table::new("", &header);
        for m in &self.months {
            let mut row = vec![
                m.month.clone(),
                plain(m.peak_rps),
                plain(m.peak_rps_worst),
                m.instances.map_or(String::new(), |n| n.to_string()),
                m.instances_worst.map_or(String::new(), |n| n.to_string()),
                m.add.map_or(String::new(), |n| n.to_string()),
                opt(m.utilization),
                opt(m.utilization_after_domain_loss),
                m.note.clone(),
            ];
            if let Some(r) = measured {
                let rule = serde_json::to_value(r.binding).ok().and_then(|v| v.as_str().map(str::to_string));
                row.extend([plain(r.rps_per_instance), rule.unwrap_or_default()]);
            }
            s = s.row(row);
        }
        Some(s)
    }
}
