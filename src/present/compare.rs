//! `compare` as a document: the verdict, then each step's (and request's) measures side by
//! side with their change and whether it is significant and a regression.

use crate::analysis::compare::{Change, Comparison};
use crate::present::Present;
use crate::units::{micros, percent, readable, sig};
use crate::view::{Block, Document, Fact, Status, Table};

/// A measure's value for reading.
fn value(measure: &str, v: f64) -> String {
    match measure {
        "throughput" | "capacity" | "lambda" => format!("{} RPS", readable(v)),
        "error_rate" => percent(v, 3),
        "sigma" | "kappa" | "peak_concurrency" => sig(v, 4),
        _ => micros(v),
    }
}

/// The change for reading: a relative change, or points for the error rate.
fn change(c: &Change) -> String {
    match (c.measure.as_str(), c.change) {
        (_, None) => "—".into(),
        ("error_rate", Some(d)) => format!("{:+} points", sig(d * 100.0, 3)),
        (_, Some(r)) => format!("{}{}", if r >= 0.0 { "+" } else { "−" }, percent(r.abs(), 3)),
    }
}

/// What a change amounts to: past its limit and significant, within its limit, a significant
/// change of a measure not judged, or within sampling noise.
fn verdict(c: &Change) -> &'static str {
    match (c.regression, c.significant, c.limit.is_some()) {
        (true, _, _) => "REGRESSION",
        (false, true, true) => "within limit",
        (false, true, false) => "changed (not judged)",
        (false, false, _) => "within noise",
    }
}

impl Comparison {
    /// The measures side by side: for reading (`plain` false; percentile intervals are in the
    /// JSON and the CSV), or with plain numbers and the intervals for the CSV.
    pub(crate) fn table(&self, plain: bool) -> Table {
        let requests = plain || self.steps.iter().any(|s| s.request.is_some());
        let mut header = vec!["step", "request", "measure", "base", "new", "change"];
        if plain {
            header.extend(["base_lo95", "base_hi95", "new_lo95", "new_hi95"]);
        }
        header.push("verdict");
        if !requests {
            header.remove(1);
        }
        let mut t = Table::new("Side by side", &header);
        for s in &self.steps {
            for c in &s.changes {
                let mut row = vec![s.step.clone()];
                if requests {
                    row.push(s.request.clone().unwrap_or_else(|| if plain { String::new() } else { "(all)".into() }));
                }
                row.push(c.measure.clone());
                if plain {
                    row.extend([
                        c.base.to_string(),
                        c.new.to_string(),
                        c.change.map_or(String::new(), |d| d.to_string()),
                    ]);
                    let ends = |i: Option<[f64; 2]>| {
                        i.map_or([String::new(), String::new()], |[lo, hi]| [lo.to_string(), hi.to_string()])
                    };
                    row.extend(ends(c.base_interval));
                    row.extend(ends(c.new_interval));
                } else {
                    row.extend([value(&c.measure, c.base), value(&c.measure, c.new), change(c)]);
                }
                row.push(verdict(c).into());
                t = t.row(row);
            }
        }
        t
    }
}

impl Present for Comparison {
    fn view(&self) -> Document {
        let l = &self.limits;
        let mut facts = vec![
            if self.regressions.is_empty() {
                Fact::new("Verdict", "no regression").status(Status::Pass)
            } else {
                Fact::new("Verdict", format!("{} regression(s)", self.regressions.len())).status(Status::Fail)
            },
            Fact::new(
                "Limits",
                format!(
                    "p99 +{}{}, throughput −{}, error rate +{} points, fitted capacity −{}; a change must also be significant",
                    percent(l.max_p99_increase, 3),
                    l.max_p50_increase.map_or(String::new(), |p| format!(", p50 +{}", percent(p, 3))),
                    percent(l.max_throughput_drop, 3),
                    sig(l.max_error_rate_increase * 100.0, 3),
                    percent(l.max_capacity_drop, 3)
                ),
            ),
        ];
        facts.extend(self.regressions.iter().map(|r| Fact::new("Regression", r.clone()).status(Status::Fail)));
        facts.extend(self.warnings.iter().map(|w| Fact::new("Warning", w.clone()).status(Status::Warn)));
        let mut table = self.table(false);
        table.notes.push(
            "significant: percentiles whose 95% intervals (each run's histogram's order statistics) do not overlap, and fit coefficients and capacity whose 95% intervals do not; throughput and error rates at three standard errors. Runs of one configuration differ by more than sampling explains, which is why a regression must also pass its limit"
                .into(),
        );
        table.notes.extend(self.unmatched.iter().map(|u| format!("not compared: {u}")));
        Document {
            title: format!("{} against {}", self.new, self.base),
            blocks: vec![Block::Facts { heading: "Comparison".into(), facts }, Block::Table(table)],
            ..Default::default()
        }
    }

    fn csv(&self) -> Option<Table> {
        Some(self.table(true))
    }
}
