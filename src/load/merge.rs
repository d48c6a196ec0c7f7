//! `headroom merge`: the shards of one run joined into the results one generator would have
//! written. Histograms add exactly (HdrHistogram V2, every one results.json carries: the step's,
//! each request's, each second's, each journey's, and when the responses finished), counts add,
//! and then every verdict is judged again on the merged data: each step's delivery, its SLOs and
//! Little's Law, the run's validity, the breaking point, spike recovery and soak drift. Nothing
//! is averaged: a merged p99 is the p99 of every shard's requests together.

use std::collections::{BTreeMap, HashMap};

use hdrhistogram::Histogram;

use super::departures;
use super::recorder::histogram;
use super::runner::conclude;
use crate::analysis::delivery::{self, Figures};
use crate::analysis::{littles, slo};
use crate::artefact::results::{
    decode, encode, Delivery, ErrorCounts, JourneyResult, JourneysResult, LatencyHistograms, LittlesCheck, MergedFrom,
    MergedShard, Percentiles, Reason, RequestResult, Results, Second, StepFailures, StepResult,
};
use crate::error::InputError;

/// The spread of start instants merge accepts at least, ms.
pub const MIN_SKEW_MS: f64 = 50.0;

/// Merges the results of every shard of one run (`inputs`: the file each came from, and its
/// results). Refuses shards of different plans or start instants, a missing or repeated index,
/// or a start later than the bound; see [`MIN_SKEW_MS`].
pub fn merge(inputs: Vec<(String, Results)>) -> Result<Results, InputError> {
    let bad = |file: &str, message: String| InputError::BadFile { file: file.into(), message };
    if inputs.is_empty() {
        return Err(InputError::Usage("merge: give the folders (or results.json files) of every shard".into()));
    }
    let mut shards = Vec::new();
    for (file, r) in &inputs {
        let Some(s) = &r.shard else {
            return Err(bad(
                file,
                "not a shard's results: merge joins runs made with run --shard I/N --start-at T".into(),
            ));
        };
        shards.push(s.clone());
    }
    let (first_file, first) = (&inputs[0].0, &shards[0]);
    for ((file, _), s) in inputs.iter().zip(&shards) {
        if s.plan_digest != first.plan_digest {
            return Err(bad(
                file,
                format!("ran another plan, target or flags than {first_file} (digests {} and {}): merge the shards of one run, each given the same plan and flags", short(&s.plan_digest), short(&first.plan_digest)),
            ));
        }
        if s.count != first.count {
            return Err(bad(
                file,
                format!(
                    "is shard {}/{}, and {first_file} one of {}: merge the shards of one run",
                    s.index, s.count, first.count
                ),
            ));
        }
        if s.start_at != first.start_at {
            return Err(bad(
                file,
                format!("was to start at {}, {first_file} at {}: give every shard the same --start-at instant (an RFC 3339 time; +SPAN is read on each machine)", s.start_at, first.start_at),
            ));
        }
    }
    let mut seen: BTreeMap<u64, &str> = BTreeMap::new();
    for ((file, _), s) in inputs.iter().zip(&shards) {
        if let Some(other) = seen.insert(s.index, file) {
            return Err(bad(
                file,
                format!("is shard {}/{} again ({other} is too): give each shard's results once", s.index, s.count),
            ));
        }
    }
    let missing: Vec<String> = (0..first.count).filter(|i| !seen.contains_key(i)).map(|i| i.to_string()).collect();
    if !missing.is_empty() {
        return Err(InputError::Usage(format!(
            "merge: shard {} of {} missing: every shard's results are needed for an exact merge",
            missing.join(", "),
            first.count
        )));
    }
    let shortest = inputs.iter().flat_map(|(_, r)| r.steps.iter().map(|s| s.duration_s)).fold(f64::INFINITY, f64::min);
    let limit_ms = MIN_SKEW_MS.max(if shortest.is_finite() { shortest * 10.0 } else { 0.0 });
    for ((file, _), s) in inputs.iter().zip(&shards) {
        if s.started_at.is_none() {
            return Err(bad(
                file,
                format!(
                    "shard {} was stopped before its start instant and measured nothing: run the shards again",
                    s.index
                ),
            ));
        }
        if s.skew_ms > limit_ms {
            return Err(bad(
                file,
                format!("shard {} on {} began a step {} ms after its agreed instant; past {} ms (the larger of 50 ms and 1% of the shortest step) the shards did not load the target together: start them with --start-at further ahead", s.index, s.host, crate::units::sig(s.skew_ms, 3), crate::units::sig(limit_ms, 3)),
            ));
        }
    }
    let started: Vec<f64> = shards.iter().map(|s| s.skew_ms_first()).collect();
    let spread = started.iter().cloned().fold(f64::MIN, f64::max) - started.iter().cloned().fold(f64::MAX, f64::min);
    let results: Vec<&Results> = inputs.iter().map(|(_, r)| r).collect();
    let mut out = join(&results, &shards)?;
    out.merged = Some(MergedFrom {
        shards: inputs
            .iter()
            .zip(&shards)
            .map(|((file, r), s)| MergedShard {
                file: file.clone(),
                shard: s.clone(),
                valid: r.valid,
                invalid_reasons: r.invalid_reasons.clone(),
            })
            .collect(),
        start_spread_ms: spread,
        max_skew_ms: shards.iter().map(|s| s.skew_ms).fold(0.0, f64::max),
        skew_limit_ms: limit_ms,
    });
    Ok(out)
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(19)]
}

impl crate::artefact::results::ShardRun {
    /// How late the first step began after the agreed instant, ms.
    fn skew_ms_first(&self) -> f64 {
        let at = |t: &str| t.parse::<jiff::Timestamp>().map(|t| t.as_microsecond() as f64 / 1e3).ok();
        self.started_at.as_deref().and_then(at).zip(at(&self.start_at)).map_or(0.0, |(a, b)| a - b)
    }
}

/// The shards' results as one: steps merged by position, then judged as a run.
fn join(results: &[&Results], shards: &[crate::artefact::results::ShardRun]) -> Result<Results, InputError> {
    let base = results[0];
    let steps = results.iter().map(|r| r.steps.len()).min().unwrap_or(0);
    let mut out = base.clone();
    out.shard = None;
    out.steps = Vec::with_capacity(steps);
    let plan = &base.plan;
    let overall: Vec<(String, crate::plan::Threshold)> =
        plan.slo.iter().map(|t| (t.text().to_string(), *t.value())).collect();
    for i in 0..steps {
        let parts: Vec<&StepResult> = results.iter().map(|r| &r.steps[i]).collect();
        if let Some(other) = parts.iter().find(|s| s.name != parts[0].name) {
            return Err(InputError::Usage(format!(
                "merge: step {} is '{}' in one shard and '{}' in another: the shards ran different profiles",
                i + 1,
                parts[0].name,
                other.name
            )));
        }
        let mut s = step(&parts, shards, base.environment.cores);
        let per_answer = s.achieved_rps / answered(s.requests, &s.errors).max(1) as f64;
        let latency = decode(&s.histograms.latency).unwrap_or_else(histogram);
        let m = slo::Measure { latency: &latency, requests: s.requests, errors: s.errors, rps: s.achieved_rps };
        s.slo = slo::check(&overall, "overall", &m);
        for r in &plan.requests {
            let Some(req) = s.per_request.iter().find(|x| x.name == r.name) else { continue };
            let latency = decode(&req.histograms.latency).unwrap_or_else(histogram);
            let rps = answered(req.requests, &req.errors) as f64 * per_answer;
            let m = slo::Measure { latency: &latency, requests: req.requests, errors: req.errors, rps };
            let thresholds: Vec<(String, crate::plan::Threshold)> =
                r.slo.iter().map(|t| (t.text().to_string(), *t.value())).collect();
            let checked = slo::check(&thresholds, &r.name, &m);
            s.slo.extend(checked);
        }
        out.steps.push(s);
    }
    if results.iter().any(|r| r.steps.len() != steps) {
        let ended: Vec<String> = results
            .iter()
            .zip(shards)
            .filter(|(r, _)| r.steps.len() == steps)
            .map(|(_, s)| format!("shard {}", s.index))
            .collect();
        eprintln!(
            "warning: {} ended after {steps} steps, so the merge has those; the other shards' later steps are left out",
            ended.join(", ")
        );
    }
    out.interrupted = results.iter().any(|r| r.interrupted);
    out.signal = results.iter().find_map(|r| r.signal.clone());
    out.aborted = results.iter().find_map(|r| r.aborted.clone());
    out.protocol = results.iter().find_map(|r| r.protocol.clone());
    let env = &mut out.environment;
    env.start = results.iter().map(|r| r.environment.start.clone()).min().unwrap_or_default();
    env.end = results.iter().map(|r| r.environment.end.clone()).max().unwrap_or_default();
    env.generator_cpu_s = results.iter().map(|r| r.environment.generator_cpu_s).sum();
    let drift = base.analysis.soak.as_ref().map(|s| s.window_s);
    let min_rps = plan.expect.min_rps.as_ref().map(|m| m.value().0);
    conclude(&mut out, base.profile, drift, min_rps);
    Ok(out)
}

/// Responses of any status.
fn answered(requests: u64, errors: &ErrorCounts) -> u64 {
    requests.saturating_sub(errors.unanswered())
}

/// The histograms of `texts` added; `None` when any does not decode (an older file).
fn added<'a>(texts: impl Iterator<Item = &'a String>) -> Option<Histogram<u64>> {
    let mut sum = histogram();
    for t in texts {
        sum.add(decode(t)?).expect("auto-resizing histograms always merge");
    }
    Some(sum)
}

fn sum_opt(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values.fold(None, |acc, v| match (acc, v) {
        (None, v) => v,
        (a, None) => a,
        (Some(a), Some(b)) => Some(a + b),
    })
}

fn mean_opt(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let present: Vec<f64> = values.flatten().collect();
    (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
}

/// One step of every shard, merged and judged.
fn step(parts: &[&StepResult], shards: &[crate::artefact::results::ShardRun], cores: usize) -> StepResult {
    let first = parts[0];
    let total = |f: fn(&StepResult) -> u64| parts.iter().map(|p| f(p)).sum::<u64>();
    let mut errors = ErrorCounts::default();
    parts.iter().for_each(|p| errors.add(&p.errors));
    let h = |f: fn(&StepResult) -> &String| added(parts.iter().map(|p| f(p))).unwrap_or_else(histogram);
    let latency = h(|p| &p.histograms.latency);
    let service = h(|p| &p.histograms.service_time);
    let lag = h(|p| &p.histograms.schedule_lag);
    let departed = parts.iter().all(|p| !p.histograms.departures.is_empty());
    let departures = departed.then(|| h(|p| &p.histograms.departures));
    let requests = total(|p| p.requests);
    let duration_s = parts.iter().map(|p| p.duration_s).fold(0.0, f64::max);
    let offered_rps = sum_opt(parts.iter().map(|p| p.offered_rps));
    let target_rps = sum_opt(parts.iter().map(|p| p.target_rps));
    // Constant when the rate at the end is the mean (a ramp's mean is its middle); closed
    // steps keep their users.
    let constant = match (offered_rps, target_rps) {
        (Some(o), Some(t)) => (o - t).abs() <= 1e-6 * t.abs().max(1.0),
        _ => true,
    };
    let steady = departures::steady(first.role, constant);
    let fastest = if latency.is_empty() { 0 } else { latency.min() };
    let window = departures.as_ref().map(|d| departures::window_of(steady, d, fastest, duration_s));
    let (achieved_rps, window_s) = match window {
        Some(w) => (w.rate(), w.window_s),
        None => (parts.iter().map(|p| p.achieved_rps).sum(), parts.iter().map(|p| p.window_s).fold(0.0, f64::max)),
    };
    let answered_all = answered(requests, &errors);
    let per_answer = achieved_rps / answered_all.max(1) as f64;
    let journeys = merge_journeys(parts);
    let unsent = total(|p| p.unsent);
    let workers: usize = parts.iter().map(|p| p.in_flight_limit).sum();
    let cpu_share =
        parts.iter().filter_map(|p| p.generator_cpu).fold(None, |a: Option<f64>, c| Some(a.map_or(c, |a| a.max(c))));
    let mut delivery = delivery::delivery(&Figures {
        unit: if journeys.is_some() { "journeys/s" } else { "RPS" },
        offered: offered_rps,
        delivered: achieved_rps,
        started: requests,
        answered: answered_all,
        failed: errors.connect + errors.io + errors.protocol,
        late: total(|p| p.late_starts),
        late_at_limit: total(|p| p.late_at_limit),
        lagging: total(|p| p.lagging_starts),
        unsent,
        limit: workers,
        cpu_share,
        cores,
        lag_p99_us: (!lag.is_empty()).then(|| lag.value_at_quantile(0.99)),
    });
    // Journeys are judged by each shard, which saw its journeys' own figures.
    if journeys.is_some() {
        delivery = parts
            .iter()
            .zip(shards)
            .find(|(p, _)| p.delivery != Delivery::Delivered)
            .map_or(Delivery::Delivered, |(p, s)| named(&p.delivery, s));
    }
    // A shard whose generator fell behind leaves its part of the schedule sent late: say which.
    if let Some((p, s)) = parts.iter().zip(shards).find(|(p, _)| matches!(p.delivery, Delivery::GeneratorBehind { .. }))
    {
        delivery = named(&p.delivery, s);
    }
    let littles_law = merge_littles(parts);
    let littles_law_note = littles_law.filter(|c| c.alarm).map(|c| littles::littles_cause(&c, duration_s, cpu_share));
    StepResult {
        name: first.name.clone(),
        role: first.role,
        target_rps,
        offered_rps,
        users: parts.iter().map(|p| p.users).try_fold(0usize, |a, u| u.map(|u| a + u)),
        duration_s,
        window_s,
        scheduled: parts.iter().map(|p| p.scheduled).try_fold(0u64, |a, s| s.map(|s| a + s)),
        requests,
        unsent,
        achieved_rps,
        error_rate: if requests > 0 { errors.total() as f64 / requests as f64 } else { 0.0 },
        in_flight_limit: workers,
        mean_in_flight: parts.iter().map(|p| p.mean_in_flight).sum(),
        mean_in_system: parts.iter().map(|p| p.mean_in_system).sum(),
        generator_cpu: cpu_share,
        utilization: mean_opt(parts.iter().map(|p| p.utilization)),
        valid: delivery == Delivery::Delivered,
        invalid_reason: delivery.reason().map(str::to_string),
        delivery,
        littles_law,
        littles_law_note,
        latency_us: Percentiles::of(&latency),
        service_time_us: Percentiles::of(&service),
        schedule_lag_us: Percentiles::of(&lag),
        errors,
        bytes_received: total(|p| p.bytes_received),
        late_starts: total(|p| p.late_starts),
        late_at_limit: total(|p| p.late_at_limit),
        lagging_starts: total(|p| p.lagging_starts),
        reconnects: total(|p| p.reconnects),
        per_request: merge_requests(parts, per_answer),
        slo: Vec::new(),
        histograms: crate::artefact::results::Encoded {
            latency: encode(&latency),
            service_time: encode(&service),
            schedule_lag: encode(&lag),
            departures: departures.as_ref().map(encode).unwrap_or_default(),
        },
        series: merge_series(parts),
        journeys,
    }
}

/// A shard's verdict on its part, naming the shard.
fn named(d: &Delivery, s: &crate::artefact::results::ShardRun) -> Delivery {
    let reason = format!("shard {}/{} on {}: {}", s.index, s.count, s.host, d.reason().unwrap_or_default());
    match d {
        Delivery::Delivered => Delivery::Delivered,
        Delivery::Saturated { .. } => Delivery::Saturated { reason },
        Delivery::GeneratorBehind { .. } => Delivery::GeneratorBehind { reason },
        Delivery::NoResponse { .. } => Delivery::NoResponse { reason },
    }
}

/// Little's Law over shards that ran side by side: their occupancies add, as do their rates,
/// and the time in system is the rate-weighted mean.
fn merge_littles(parts: &[&StepResult]) -> Option<LittlesCheck> {
    let checks: Vec<LittlesCheck> = parts.iter().map(|p| p.littles_law).collect::<Option<_>>()?;
    let x: f64 = checks.iter().map(|c| c.throughput_rps).sum();
    if x <= 0.0 {
        return None;
    }
    let w = checks.iter().map(|c| c.throughput_rps * c.mean_time_in_system_s).sum::<f64>() / x;
    let measured: f64 = checks.iter().map(|c| c.measured_in_system).sum();
    let var: f64 = checks
        .iter()
        .map(|c| {
            littles::error_of(c.measured_se, c.measured_in_system, c.predicted_in_system, c.samples.unwrap_or(0))
                .powi(2)
        })
        .sum();
    let measured_se = checks.iter().map(|c| c.measured_se.map(|s| s * s)).sum::<Option<f64>>().map(f64::sqrt);
    let departures = parts.iter().map(|p| p.requests + p.unsent).sum();
    let samples = checks.iter().map(|c| c.samples.unwrap_or(0)).sum();
    Some(littles::judged(x, w, (measured, measured_se, var.sqrt()), (departures, samples)))
}

fn merge_requests(parts: &[&StepResult], per_answer: f64) -> Vec<RequestResult> {
    (0..parts[0].per_request.len())
        .map(|i| {
            let rs: Vec<&RequestResult> = parts.iter().filter_map(|p| p.per_request.get(i)).collect();
            let latency = added(rs.iter().map(|r| &r.histograms.latency)).unwrap_or_else(histogram);
            let service = added(rs.iter().map(|r| &r.histograms.service_time)).unwrap_or_else(histogram);
            let mut errors = ErrorCounts::default();
            rs.iter().for_each(|r| errors.add(&r.errors));
            let requests = rs.iter().map(|r| r.requests).sum();
            RequestResult {
                name: rs[0].name.clone(),
                requests,
                achieved_rps: answered(requests, &errors) as f64 * per_answer,
                latency_us: Percentiles::of(&latency),
                service_time_us: Percentiles::of(&service),
                errors,
                histograms: LatencyHistograms { latency: encode(&latency), service_time: encode(&service) },
            }
        })
        .collect()
}

/// Each second of the shards, by position (their steps began together, so their seconds
/// cover the same span): counts and rates add, the histograms add and give the percentiles.
fn merge_series(parts: &[&StepResult]) -> Vec<Second> {
    let n = parts.iter().map(|p| p.series.len()).max().unwrap_or(0);
    (0..n)
        .map(|i| {
            let ps: Vec<&Second> = parts.iter().filter_map(|p| p.series.get(i)).collect();
            let latency = added(ps.iter().map(|p| &p.latency)).unwrap_or_else(histogram);
            let q = |p: f64| (!latency.is_empty()).then(|| latency.value_at_quantile(p));
            let mut errors = ErrorCounts::default();
            ps.iter().for_each(|p| errors.add(&p.errors));
            Second {
                t_s: ps[0].t_s,
                duration_s: ps.iter().map(|p| p.duration_s).fold(0.0, f64::max),
                offered_rps: sum_opt(ps.iter().map(|p| p.offered_rps)),
                requests: ps.iter().map(|p| p.requests).sum(),
                achieved_rps: ps.iter().map(|p| p.achieved_rps).sum(),
                in_flight: ps.iter().map(|p| p.in_flight).sum(),
                late_starts: ps.iter().map(|p| p.late_starts).sum(),
                p50_us: q(0.5),
                p90_us: q(0.9),
                p99_us: q(0.99),
                max_us: (!latency.is_empty()).then(|| latency.max()),
                errors,
                latency: encode(&latency),
                utilization: mean_opt(ps.iter().map(|p| p.utilization)),
            }
        })
        .collect()
}

fn merge_journeys(parts: &[&StepResult]) -> Option<JourneysResult> {
    let js: Vec<&JourneysResult> = parts.iter().map(|p| p.journeys.as_ref()).collect::<Option<_>>()?;
    let done = added(js.iter().map(|j| &j.departures)).filter(|_| js.iter().all(|j| !j.departures.is_empty()));
    let journeys = (0..js[0].journeys.len())
        .map(|i| {
            let each: Vec<&JourneyResult> = js.iter().filter_map(|j| j.journeys.get(i)).collect();
            let latency = added(each.iter().map(|j| &j.histograms.latency)).unwrap_or_else(histogram);
            let service = added(each.iter().map(|j| &j.histograms.service_time)).unwrap_or_else(histogram);
            let mut errors = ErrorCounts::default();
            each.iter().for_each(|j| errors.add(&j.errors));
            JourneyResult {
                name: each[0].name.clone(),
                started: each.iter().map(|j| j.started).sum(),
                completed: each.iter().map(|j| j.completed).sum(),
                failed: each.iter().map(|j| j.failed).sum(),
                completed_per_s: each.iter().map(|j| j.completed_per_s).sum(),
                latency_us: Percentiles::of(&latency),
                duration_us: Percentiles::of(&service),
                errors,
                steps: merge_failures(&each),
                histograms: LatencyHistograms { latency: encode(&latency), service_time: encode(&service) },
            }
        })
        .collect();
    Some(JourneysResult {
        target_per_s: sum_opt(js.iter().map(|j| j.target_per_s)),
        started_per_s: js.iter().map(|j| j.started_per_s).sum(),
        journeys,
        departures: done.as_ref().map(encode).unwrap_or_default(),
    })
}

fn merge_failures(each: &[&JourneyResult]) -> Vec<StepFailures> {
    (0..each[0].steps.len())
        .map(|i| {
            let steps: Vec<&StepFailures> = each.iter().filter_map(|j| j.steps.get(i)).collect();
            let mut reasons: HashMap<&str, u64> = HashMap::new();
            for r in steps.iter().flat_map(|s| &s.reasons) {
                *reasons.entry(&r.reason).or_default() += r.count;
            }
            let mut reasons: Vec<Reason> =
                reasons.into_iter().map(|(reason, count)| Reason { reason: reason.to_string(), count }).collect();
            reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
            StepFailures { name: steps[0].name.clone(), failed: steps.iter().map(|s| s.failed).sum(), reasons }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Histograms written by shards and added by merge hold what one histogram of every
        /// sample holds: the same count, and the same value at every quantile.
        #[test]
        fn added_shard_histograms_equal_one_of_all_samples(
            samples in proptest::collection::vec((1u64..60_000_000, 0usize..4), 1..400),
        ) {
            let mut all = histogram();
            let mut parts = vec![histogram(); 4];
            for &(v, shard) in &samples {
                all.record(v).unwrap();
                parts[shard].record(v).unwrap();
            }
            let texts: Vec<String> = parts.iter().map(encode).collect();
            let merged = added(texts.iter()).unwrap();
            prop_assert_eq!(merged.len(), all.len());
            for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
                prop_assert_eq!(merged.value_at_quantile(q), all.value_at_quantile(q));
            }
            prop_assert_eq!(Percentiles::of(&merged), Percentiles::of(&all));
        }
    }
}
