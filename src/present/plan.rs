//! The per-month instance plan as a document: what it assumed, then one row a month.

use crate::artefact::plan::PlanReport;
use crate::present::Present;
use crate::units::{percent, plain, readable, sig, thousands};
use crate::view::{Document, Table};

pub(crate) fn maybe_percent(v: Option<f64>) -> String {
    v.map_or("—".into(), |u| percent(u, 3))
}

pub(crate) fn count(v: Option<u32>) -> String {
    v.map_or("unreachable".into(), |n| n.to_string())
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
        Document::tables(format!("Instance plan: {}", a.service), vec![assumptions, months])
    }

    fn csv(&self) -> Option<Table> {
        let opt = |v: Option<f64>| v.map_or(String::new(), plain);
        let header = [
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
        let mut s = Table::new("", &header);
        for m in &self.months {
            s = s.row([
                m.month.clone(),
                plain(m.peak_rps),
                plain(m.peak_rps_worst),
                m.instances.map_or(String::new(), |n| n.to_string()),
                m.instances_worst.map_or(String::new(), |n| n.to_string()),
                m.add.map_or(String::new(), |n| n.to_string()),
                opt(m.utilization),
                opt(m.utilization_after_domain_loss),
                m.note.clone(),
            ]);
        }
        Some(s)
    }
}
