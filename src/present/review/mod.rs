//! The capacity review: what any mix of headroom's artefacts says, in the order a reviewer reads
//! it. [`build`] gathers everything it shows; its [`Present`] view orders it into a document.

mod charts;
mod facts;
pub mod inputs;

use serde::Serialize;

use super::Present;
use crate::analysis::compare::{self, Comparison, Limits};
use crate::view::{Block, Chart, Document, Fact, Sources, Status, Table};

pub use charts::usl as usl_chart;
pub use inputs::{Artefact, Run};

/// A file the review was made from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub file: String,
    pub kind: &'static str,
}

/// Everything a capacity review shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub title: String,
    pub headroom_version: &'static str,
    pub sources: Vec<Source>,
    pub summary: Vec<Fact>,
    pub assumptions: Vec<Fact>,
    pub charts: Vec<Chart>,
    /// Formatted tables: the load test's steps and the per-month instance plan.
    #[serde(skip)]
    pub tables: Vec<Table>,
    /// The per-month plan (or, without one, the steps) with plain numbers, for CSV.
    #[serde(skip)]
    pub csv: Option<Table>,
    pub warnings: Vec<String>,
    /// The capacity per instance a load test measured, reconciled (a plan with `--results`):
    /// shown first, after the summary.
    #[serde(skip)]
    pub capacity: Option<Table>,
    /// Each run against the baseline run given (`report --baseline`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comparisons: Vec<Comparison>,
}

/// Adds each run's comparison with a baseline run: a summary line with its verdict and the
/// side-by-side table. A run with no step of the baseline's names is noted, not compared.
pub fn against_baseline(
    r: &mut Review,
    artefacts: &[(String, Artefact)],
    (base_name, base): (&str, &Run),
    limits: Limits,
) {
    for (file, a) in artefacts {
        let Artefact::Results(run) = a else { continue };
        let c = compare::compare(base, base_name, run, file, limits);
        if c.steps.is_empty() {
            r.warnings.push(format!("baseline {base_name}: no step of {file} has one of its step names; not compared"));
            continue;
        }
        let fact = if c.regressions.is_empty() {
            Fact::new("Against the baseline", format!("{file}: no regression against {base_name}")).status(Status::Pass)
        } else {
            let n = c.regressions.len();
            let all = c.regressions.join("; ");
            Fact::new("Against the baseline", format!("{file}: {n} regression(s) against {base_name}: {all}"))
                .status(Status::Fail)
        };
        r.summary.push(fact);
        let mut t = c.table(false);
        t.heading = format!("{file} against {base_name}");
        r.tables.push(t);
        r.comparisons.push(c);
    }
    r.sources.push(Source { file: base_name.into(), kind: "baseline run" });
}

/// Builds the review of `artefacts` (file name, contents), in the order given.
pub fn build(artefacts: &[(String, Artefact)]) -> Review {
    let mut r = Review {
        title: "Capacity review".into(),
        headroom_version: env!("CARGO_PKG_VERSION"),
        sources: Vec::new(),
        summary: Vec::new(),
        assumptions: Vec::new(),
        charts: Vec::new(),
        tables: Vec::new(),
        csv: None,
        warnings: Vec::new(),
        capacity: None,
        comparisons: Vec::new(),
    };
    let mut step_csv = None;
    for (file, a) in artefacts {
        let kind = match a {
            Artefact::Results(run) => {
                facts::run(run, &mut r);
                r.charts.push(charts::latency(run));
                r.charts.push(charts::rate(run));
                r.charts.extend(charts::knee(run));
                // Each run's table says which run it is: a review often holds two.
                let mut steps = super::run::steps(run);
                steps.heading = format!("{} steps, {file} ({})", facts::run_title(run), super::run::LATENCY_NOTE);
                r.tables.push(steps);
                if let Some(mut journeys) = super::run::journeys_section(run) {
                    journeys.heading = format!("{}, {file}", journeys.heading);
                    r.tables.push(journeys);
                }
                if let Some(mut law) = super::run::utilization_section(run) {
                    law.heading = format!("{}, {file}", law.heading);
                    r.tables.push(law);
                }
                step_csv.get_or_insert_with(|| super::run::steps_csv(run));
                "load test results"
            }
            Artefact::Fit(fit) => {
                facts::fit(fit, &mut r);
                r.charts.push(charts::usl(fit));
                "scalability fit"
            }
            Artefact::Forecast(f) => {
                facts::forecast(f, &mut r);
                r.charts.push(charts::forecast(f));
                let mut months =
                    super::forecast::periods_section_of(&f.forecast, &f.peak_means, f.source.requests_per_count);
                months.heading = format!("Forecast, {file}");
                r.tables.push(months);
                "forecast"
            }
            Artefact::Plan(plan) => {
                r.title = format!("Capacity review: {}", plan.assumptions.service);
                facts::plan(plan, &mut r);
                r.charts.push(charts::instances(plan));
                r.tables.push(super::plan::months(plan));
                r.capacity = super::plan::capacity(plan);
                r.csv = plan.csv();
                "instance plan"
            }
        };
        r.sources.push(Source { file: file.clone(), kind });
    }
    if r.csv.is_none() {
        r.csv = step_csv;
    }
    dedupe(&mut r);
    r
}

/// Two runs draw the same kinds of chart, and state the same generator: chart ids (file names,
/// HTML anchors) stay unique, and an assumption is stated once.
fn dedupe(r: &mut Review) {
    let mut ids: Vec<String> = Vec::new();
    for c in &mut r.charts {
        let base = c.id.clone();
        let mut k = 1;
        while ids.contains(&c.id) {
            k += 1;
            c.id = format!("{base}-{k}");
        }
        ids.push(c.id.clone());
    }
    let mut seen = Vec::new();
    r.assumptions.retain(|f| {
        let new = !seen.contains(f);
        seen.push(f.clone());
        new
    });
}

impl Present for Review {
    fn view(&self) -> Document {
        let files = self.sources.iter().map(|s| (s.file.clone(), s.kind.to_string())).collect();
        let mut blocks = vec![Block::Facts { heading: "Summary".into(), facts: self.summary.clone() }];
        blocks.extend(self.capacity.clone().map(Block::Table));
        blocks.extend([
            Block::Facts { heading: "Assumptions".into(), facts: self.assumptions.clone() },
            Block::Charts(self.charts.clone()),
        ]);
        blocks.extend(self.tables.iter().cloned().map(Block::Table));
        if !self.warnings.is_empty() {
            blocks.push(Block::Notes { heading: "Notes".into(), items: self.warnings.clone() });
        }
        Document {
            title: self.title.clone(),
            sources: Some(Sources { version: self.headroom_version.to_string(), files }),
            blocks,
            csv: self.csv.clone(),
        }
    }
}
