//! The summary `headroom run` prints: one row per step, with what each step's verdicts mean
//! as notes under it. It only words what the run decided.

use crate::artefact::results::Delivery;
use crate::artefact::results::{Results, StepResult};
use crate::plan::profile::{ProfileKind, Role};
use crate::present::Present;
use crate::units::{human_duration, percent, readable, sig, thousands};
use crate::view::{Document, Table};

pub(crate) fn us(v: Option<u64>) -> String {
    v.map_or("—".into(), |v| crate::units::micros(v as f64))
}

/// Each journey in each step: counts and end-to-end latency, with where failed journeys stopped.
pub(crate) fn journeys_section(results: &Results) -> Option<Table> {
    let mut t = Table::new(
        "Journeys (end to end, think times included, from each journey's intended start; raw = from its first request)",
        &["step", "journey", "started", "completed", "failed", "completed/s", "p50", "p99", "max", "p99 raw"],
    );
    for s in &results.steps {
        for j in s.journeys.iter().flat_map(|j| &j.journeys) {
            let l = j.latency_us;
            t = t.row([
                s.name.clone(),
                j.name.clone(),
                j.started.to_string(),
                j.completed.to_string(),
                j.failed.to_string(),
                sig(j.completed_per_s, 4),
                us(l.map(|p| p.p50)),
                us(l.map(|p| p.p99)),
                us(l.map(|p| p.max)),
                us(j.duration_us.map(|p| p.p99)),
            ]);
            for f in j.steps.iter().filter(|f| f.failed > 0) {
                let why: Vec<String> = f.reasons.iter().map(|r| format!("{} ×{}", r.reason, r.count)).collect();
                t.notes.push(format!("{}: {} stopped at {}: {}", s.name, f.failed, f.name, why.join("; ")));
            }
        }
    }
    (!t.rows.is_empty()).then_some(t)
}

pub(crate) fn rps(v: f64) -> String {
    format!("{} RPS", readable(v))
}

/// The one-line verdict of the title.
pub(crate) fn verdict(r: &Results) -> String {
    if r.interrupted {
        return "interrupted".into();
    }
    if r.aborted.is_some() {
        return "aborted".into();
    }
    if !r.valid {
        return "not valid".into();
    }
    let capacity =
        r.analysis.expected.as_ref().filter(|e| !e.passed).map(|e| format!(", under the {} expected", rps(e.min_rps)));
    match &r.analysis.breaking_point {
        Some(b) => match (b.last_passing_rps, &b.first_failing) {
            (Some(x), Some(_)) => format!("breaking point above {}{}", rps(x), capacity.unwrap_or_default()),
            (Some(x), None) => format!("held up to {}{}", rps(x), capacity.unwrap_or_default()),
            (None, _) => "failed at the first step".into(),
        },
        None if !r.slo_passed => capacity.map_or("SLO failed".into(), |c| format!("capacity{c}")),
        None => {
            // Without a threshold nothing judged the errors, but they are not "ok".
            let (requests, errors) = r.steps.iter().fold((0, 0), |(n, e), s| (n + s.requests, e + s.errors.total()));
            let judged = r.steps.iter().any(|s| !s.slo.is_empty());
            if errors > 0 && !judged {
                let share = crate::units::percent(errors as f64 / requests.max(1) as f64, 3);
                format!("completed, but {share} of requests failed (no SLO was given to judge them)")
            } else {
                "ok".into()
            }
        }
    }
}

/// What each step's verdicts mean, as notes.
/// What one step's verdicts mean.
fn step_notes(s: &StepResult, stress: bool, notes: &mut Vec<String>) {
    let transient = matches!(s.role, Role::Ramp | Role::Burst | Role::Recovery);
    match &s.delivery {
        Delivery::Delivered => {}
        // A stress run's failing step is told by its breaking point below.
        Delivery::Saturated { .. } if stress => {}
        // Beyond capacity is what a spike's burst is for.
        Delivery::Saturated { reason } if transient => notes.push(format!("{}: {reason}", s.name)),
        d => {
            let rate = s.offered_rps.map_or(String::new(), |o| format!(" of {}", rps(o)));
            let what = match d {
                Delivery::Saturated { .. } => format!("not a valid test{rate}: the target cannot take it"),
                Delivery::GeneratorBehind { .. } => {
                    format!("not a valid test{rate}: the generator could not keep up")
                }
                _ => format!("not a valid test{rate}"),
            };
            notes.push(format!("{}: {}; {what}", s.name, d.reason().unwrap_or_default()));
        }
    }
    if let Some(n) = &s.littles_law_note {
        notes.push(format!("{}: {n}", s.name));
    }
    for t in s.slo.iter().filter(|t| !t.passed) {
        notes.push(format!("{}: SLO '{}' ({}) failed: {}", s.name, t.threshold, t.scope, t.unit.show(t.value)));
    }
}

pub(crate) fn notes(r: &Results, steps: &mut Table) {
    let stress = r.profile == ProfileKind::Stress;
    for s in &r.steps {
        step_notes(s, stress, &mut steps.notes);
    }
    if let Some(a) = &r.aborted {
        steps.notes.push(format!("aborted by the safety rule: {a}"));
    }
    if r.interrupted {
        steps.notes.push("interrupted: the results hold what was measured until then".into());
    }
    analysis_notes(r, &mut steps.notes);
}

/// What the profile's analysis found: breaking point, expected capacity, spike and soak.
fn analysis_notes(r: &Results, notes: &mut Vec<String>) {
    if let Some(b) = &r.analysis.breaking_point {
        let why = b.reason.clone().unwrap_or_default();
        notes.push(match (&b.last_passing, b.last_passing_rps, &b.first_failing) {
            (Some(l), Some(x), Some(f)) => format!("breaking point: {l} held ({} measured); {f} failed: {why}", rps(x)),
            (None, _, Some(f)) => format!("breaking point: the first step, {f}, already failed: {why}"),
            (Some(l), Some(x), None) => format!("no breaking point: every step up to {l} held ({} measured)", rps(x)),
            _ => "no steps".into(),
        });
    }
    if let Some(e) = &r.analysis.expected {
        let measured = e.measured_rps.map_or("no step held".into(), |m| format!("{} measured", rps(m)));
        let verdict = if e.passed { "met" } else { "not met" };
        notes.push(format!("expected capacity: at least {}; {measured}: {verdict}", rps(e.min_rps)));
    }
    if let Some(sp) = &r.analysis.spike {
        notes.push(format!(
            "spike: baseline p99 {}, burst p99 {} with {} errors; back within 10% of the baseline p99 after {}",
            us(sp.baseline_p99_us),
            us(sp.burst_p99_us),
            sp.burst_errors,
            sp.recovery_s.map_or("never, within the recovery step".into(), |t| human_duration(t.max(1e-3)))
        ));
    }
    if let Some(so) = &r.analysis.soak {
        let t = so.p99_trend_us.map_or("—".into(), |t| {
            format!(
                "{} per hour (p = {})",
                us(Some(t.slope_per_hour.abs() as u64)),
                t.p_value.map_or("—".into(), |p| sig(p, 2))
            )
        });
        notes.push(format!(
            "soak: p99 {} in the first {} window, {} in the last; trend {t}; {} connection errors, {} reconnects",
            us(so.p99_first_window_us.map(|v| v as u64)),
            human_duration(so.window_s),
            us(so.p99_last_window_us.map(|v| v as u64)),
            so.connection_errors,
            so.reconnects
        ));
    }
}

/// The steps table, one row a step, as `run` prints it and the review shows it. A step that did
/// not deliver its offered load says so beside its name.
/// What the steps table's latencies are.
pub(crate) const LATENCY_NOTE: &str = "latency from each request's intended send time; raw = from its actual send";

pub(crate) fn steps(r: &Results) -> Table {
    let unsent = r.steps.iter().any(|s| s.unsent > 0);
    let mut header =
        vec!["step", "offered", "achieved RPS", "requests", "p50", "p99", "p99.9", "max", "p99 raw", "errors", "late"];
    if unsent {
        header.push("unsent");
    }
    let utilization = r.steps.iter().any(|s| s.utilization.is_some());
    if utilization {
        header.push("target util.");
    }
    let mut t = Table::new(&format!("Steps ({LATENCY_NOTE})"), &header);
    for s in &r.steps {
        let l = s.latency_us;
        let name = match (&s.delivery, s.valid) {
            (Delivery::Saturated { .. }, _) => format!("{} (saturated)", s.name),
            (_, false) => format!("{} (invalid)", s.name),
            _ => s.name.clone(),
        };
        let mut row = vec![
            name,
            match (s.offered_rps, s.journeys.as_ref().and_then(|j| j.target_per_s), s.users) {
                (Some(t), _, _) => sig(t, 5),
                (None, Some(t), _) => format!("{} journeys/s", sig(t, 5)),
                (None, None, Some(u)) => format!("{u} users"),
                _ => "—".into(),
            },
            sig(s.achieved_rps, 5),
            thousands(s.requests as f64),
            us(l.map(|p| p.p50)),
            us(l.map(|p| p.p99)),
            us(l.map(|p| p.p999)),
            us(l.map(|p| p.max)),
            us(s.service_time_us.map(|p| p.p99)),
            format!("{} ({}%)", s.errors.total(), sig(s.error_rate * 100.0, 3)),
            thousands(s.late_starts as f64),
        ];
        if unsent {
            row.push(thousands(s.unsent as f64));
        }
        if utilization {
            row.push(s.utilization.map_or("—".into(), |u| percent(u, 3)));
        }
        t = t.row(row);
    }
    t
}

/// The steps with plain numbers (microseconds, shares, counts), for CSV.
pub(crate) fn steps_csv(r: &Results) -> Table {
    fn raw<T: std::fmt::Display>(v: Option<T>) -> String {
        v.map_or(String::new(), |v| format!("{v}"))
    }
    let header = [
        "step",
        "offered_rps",
        "users",
        "achieved_rps",
        "requests",
        "p50_us",
        "p99_us",
        "p999_us",
        "max_us",
        "service_p99_us",
        "error_rate",
        "late_starts",
        "unsent",
        "delivery",
        "utilization",
    ];
    let mut t = Table::new("steps", &header);
    for s in &r.steps {
        let l = s.latency_us;
        t = t.row([
            s.name.clone(),
            raw(s.offered_rps),
            raw(s.users),
            format!("{}", s.achieved_rps),
            s.requests.to_string(),
            raw(l.map(|p| p.p50)),
            raw(l.map(|p| p.p99)),
            raw(l.map(|p| p.p999)),
            raw(l.map(|p| p.max)),
            raw(s.service_time_us.map(|p| p.p99)),
            format!("{}", s.error_rate),
            s.late_starts.to_string(),
            s.unsent.to_string(),
            s.delivery.kind().to_string(),
            raw(s.utilization),
        ]);
    }
    t
}

impl Present for Results {
    fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        crate::artefact::to_writer(self, out)
    }

    fn csv(&self) -> Option<Table> {
        Some(steps_csv(self))
    }

    fn view(&self) -> Document {
        let mut steps = steps(self);
        notes(self, &mut steps);
        let mut sections = vec![steps];
        sections.extend(journeys_section(self));
        sections.extend(utilization_section(self));
        // HTTP/1.1 goes without saying; anything else is said.
        let over =
            self.protocol.as_deref().filter(|p| *p != "HTTP/1.1").map_or(String::new(), |p| format!(" over {p}"));
        sections.extend(shards_section(self));
        let part = match (&self.shard, &self.merged) {
            (Some(s), _) => format!(" (shard {} of {})", s.index, s.count),
            (None, Some(m)) => format!(" (merged from {} shards)", m.shards.len()),
            _ => String::new(),
        };
        Document::tables(
            format!("{} run against {}{over}{part}: {}", self.profile, self.target, verdict(self)),
            sections,
        )
    }
}

/// The shards a merged run was made from, and how together they started.
pub(crate) fn shards_section(r: &Results) -> Option<Table> {
    let m = r.merged.as_ref()?;
    let mut t = Table::new("Shards", &["shard", "host", "started at", "late by", "valid", "file"]);
    for s in &m.shards {
        t = t.row([
            format!("{}/{}", s.shard.index, s.shard.count),
            s.shard.host.clone(),
            s.shard.started_at.clone().unwrap_or_else(|| "never".into()),
            format!("{} ms", sig(s.shard.skew_ms, 3)),
            if s.valid { "yes".into() } else { format!("no: {}", s.invalid_reasons.join("; ")) },
            s.file.clone(),
        ]);
    }
    Some(t.note(format!(
        "first steps began within {} ms of each other (by each shard's clock); the latest start of any step was {} ms after its instant, within the {} ms accepted",
        sig(m.start_spread_ms, 3),
        sig(m.max_skew_ms, 3),
        sig(m.skew_limit_ms, 3)
    )))
}

/// The Utilization Law fitted to the steps, and where the utilization was read.
pub(crate) fn utilization_section(r: &Results) -> Option<Table> {
    let src = r.utilization_source.as_ref()?;
    let failed = match src.failures {
        0 => String::new(),
        n => format!(", {n} failed: {}", src.last_error.clone().unwrap_or_default()),
    };
    let mut t = Table::new("Utilization law (U = U₀ + D·X)", &["measure", "value"])
        .row(["read from".to_string(), format!("{} every {}s", src.source, sig(src.interval_s, 3))])
        .row(["reads".to_string(), format!("{}{failed}", thousands(src.samples as f64))]);
    let Some(law) = &r.utilization_law else {
        return Some(t.note("no law fitted: it needs two steps that delivered their load below 95% utilization"));
    };
    let interval = match (law.demand_lo95, law.demand_hi95) {
        (Some(lo), Some(hi)) => format!(" (95%: {}–{})", human_duration(lo), human_duration(hi)),
        _ => String::new(),
    };
    t = t
        .row(["service demand D".to_string(), format!("{} per request{interval}", human_duration(law.demand_s))])
        .row(["utilization at no load U₀".to_string(), percent(law.idle, 3)])
        .row(["steps fitted".to_string(), law.steps.join(", ")])
        .row(["linear up to".to_string(), format!("{} RPS", sig(law.linear_until_rps, 4))]);
    for u in [0.6, 0.8] {
        let rps = law.rps_at(u);
        // Past the line's last step the law is extrapolated, and says so.
        let past = if rps > law.linear_until_rps { " (extrapolated past the line)" } else { "" };
        t = t.row([format!("throughput at {}", percent(u, 2)), format!("{} RPS{past}", sig(rps, 4))]);
    }
    if let (Some(step), Some(u)) = (&law.departs_at, law.departs_utilization) {
        t = t.note(format!(
            "{step} ({}) lies off the line: the law is not measured past {} RPS",
            percent(u, 3),
            sig(law.linear_until_rps, 4)
        ));
    }
    Some(t)
}
