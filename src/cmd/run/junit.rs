//! `run --junit`: the run's checks as JUnit XML, for a CI system to show as test results: each
//! step's validity and each of its SLOs, and the plan's expected capacity when it has one.

use std::io::Write;

use crate::artefact::results::Results;
use crate::output::junit::{self, Case};
use crate::units::sig;

/// The checks of `r`, one test case each.
pub fn cases(r: &Results) -> Vec<Case> {
    let mut cases = Vec::new();
    for s in &r.steps {
        cases.push(Case {
            class: s.name.clone(),
            name: "valid".into(),
            failure: (!s.valid).then(|| s.invalid_reason.clone().unwrap_or_else(|| "not valid".into())),
        });
        for t in &s.slo {
            cases.push(Case {
                class: s.name.clone(),
                name: format!("{} ({})", t.threshold, t.scope),
                failure: (!t.passed).then(|| format!("{} {} measured {}", t.threshold, t.scope, t.unit.show(t.value))),
            });
        }
    }
    if let Some(e) = &r.analysis.expected {
        cases.push(Case {
            class: "run".into(),
            name: format!("expected capacity: at least {} RPS", sig(e.min_rps, 4)),
            failure: (!e.passed).then(|| match e.measured_rps {
                Some(m) => format!("measured {} RPS", sig(m, 4)),
                None => "no step met every SLO".into(),
            }),
        });
    }
    cases
}

/// Writes the checks of `r` as JUnit XML.
pub fn write(r: &Results, out: &mut dyn Write) -> std::io::Result<()> {
    junit::write("headroom run", &format!("run against {}", r.target), &cases(r), out)
}
