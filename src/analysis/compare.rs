//! Two runs side by side: each step's (and each request's) latency percentiles, throughput and
//! error rate, their change, and whether the change is beyond what sampling explains.
//!
//! A percentile's 95% interval is distribution-free, from the order statistics of its histogram
//! (the ranks n·p ∓ 1.96·√(n·p·(1 − p)) of the binomial); a change in it is significant when the
//! two runs' intervals do not overlap. Throughput and error rates are significant at three
//! standard errors (Poisson counts; two proportions). Both assume requests independent, which
//! queueing makes them not quite: the limits below are what decide a regression, significance
//! only keeps noise from crossing them.

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::artefact::fit::FitReport;
use crate::artefact::results::{decode, Results, StepResult};
use crate::plan::profile::Role;

/// The percentiles compared.
pub const QUANTILES: [(f64, &str); 3] = [(0.50, "p50"), (0.90, "p90"), (0.99, "p99")];
/// Standard errors beyond which a change in a rate is significant.
const Z_SIGNIFICANT: f64 = 3.0;
/// The normal quantile of a two-sided 95% interval.
const Z95: f64 = 1.959_963_985;

/// What counts as a regression: a significant change past one of these.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Limits {
    /// The largest p99 increase allowed, as a fraction (0.1 = 10%).
    pub max_p99_increase: f64,
    /// The largest p50 increase allowed; `null`: not judged.
    pub max_p50_increase: Option<f64>,
    /// The largest drop in achieved throughput allowed, as a fraction.
    pub max_throughput_drop: f64,
    /// The largest rise in the error rate allowed, in absolute terms (0.01 = one point).
    pub max_error_rate_increase: f64,
    /// The largest drop in a fit's capacity (the USL's X(N*), or Amdahl's ceiling) allowed.
    #[serde(default = "five_percent")]
    pub max_capacity_drop: f64,
}

fn five_percent() -> f64 {
    0.05
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_p99_increase: 0.10,
            max_p50_increase: None,
            max_throughput_drop: 0.05,
            max_error_rate_increase: 0.01,
            max_capacity_drop: 0.05,
        }
    }
}

/// One measure in both runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    /// `p50`, `p90`, `p99` (microseconds), `throughput` (responses per second) or `error_rate`
    /// (a fraction) of a step; `sigma`, `kappa`, `lambda` (requests per second at N = 1),
    /// `peak_concurrency` (N*) or `capacity` (X(N*), requests per second) of a fit.
    pub measure: String,
    pub base: f64,
    pub new: f64,
    /// new / base − 1 (for the error rate: new − base).
    pub change: Option<f64>,
    /// The base's and the new run's 95% intervals: for percentiles, and a fit's coefficients and
    /// capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_interval: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_interval: Option<[f64; 2]>,
    /// Beyond what sampling explains (see the module's notes).
    pub significant: bool,
    /// The limit this measure is judged by, when it is judged.
    pub limit: Option<f64>,
    /// A significant change past the limit, in the worse direction.
    pub regression: bool,
}

/// One step (or one request of it) in both runs, or both runs' fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepComparison {
    /// The step's name, or `USL fit`.
    pub step: String,
    /// The request name; `null` for the whole step.
    pub request: Option<String>,
    /// Requests measured (for a fit: the points fitted).
    pub base_requests: u64,
    pub new_requests: u64,
    pub changes: Vec<Change>,
}

/// `headroom compare`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    pub base: String,
    pub new: String,
    pub limits: Limits,
    pub steps: Vec<StepComparison>,
    /// Steps in only one of the runs.
    pub unmatched: Vec<String>,
    /// Each regression, in words: what, where, by how much.
    pub regressions: Vec<String>,
    /// What to keep in mind reading it (an invalid run, a step not compared).
    pub warnings: Vec<String>,
}

/// The `k`-th smallest of a histogram's values (1-based, clamped to its count).
fn order_statistic(h: &Histogram<u64>, k: f64) -> f64 {
    let n = h.len() as f64;
    let k = k.clamp(1.0, n);
    // value_at_quantile takes the ⌈q·n⌉-th value; half a rank below k lands on k itself.
    h.value_at_quantile((k - 0.5) / n) as f64
}

/// The distribution-free 95% interval of quantile `p` of a histogram's values.
pub fn quantile_interval(h: &Histogram<u64>, p: f64) -> [f64; 2] {
    let n = h.len() as f64;
    let half = Z95 * (n * p * (1.0 - p)).sqrt();
    [order_statistic(h, (n * p - half).floor()), order_statistic(h, (n * p + half).ceil() + 1.0)]
}

/// A percentile of both histograms, judged against an allowed relative increase.
fn quantile_change(base: &Histogram<u64>, new: &Histogram<u64>, (p, name): (f64, &str), limit: Option<f64>) -> Change {
    let (b, n) = (base.value_at_quantile(p) as f64, new.value_at_quantile(p) as f64);
    let (bi, ni) = (quantile_interval(base, p), quantile_interval(new, p));
    let significant = ni[0] > bi[1] || ni[1] < bi[0];
    let change = (b > 0.0).then(|| n / b - 1.0);
    let regression = significant && n > b && limit.zip(change).is_some_and(|(l, c)| c > l);
    Change {
        measure: name.into(),
        base: b,
        new: n,
        change,
        base_interval: Some(bi),
        new_interval: Some(ni),
        significant,
        limit,
        regression,
    }
}

/// Achieved throughput, its responses counted as Poisson over each window.
fn throughput_change(base: &StepResult, new: &StepResult, limit: Option<f64>) -> Change {
    let (b, n) = (base.achieved_rps, new.achieved_rps);
    let se = |rate: f64, window: f64| if window > 0.0 { (rate / window).sqrt() } else { f64::INFINITY };
    let spread = (se(b, base.window_s).powi(2) + se(n, new.window_s).powi(2)).sqrt();
    let significant = spread > 0.0 && (n - b).abs() > Z_SIGNIFICANT * spread;
    let change = (b > 0.0).then(|| n / b - 1.0);
    let regression = significant && n < b && limit.zip(change).is_some_and(|(l, c)| -c > l);
    Change {
        measure: "throughput".into(),
        base: b,
        new: n,
        change,
        base_interval: None,
        new_interval: None,
        significant,
        limit,
        regression,
    }
}

/// The error rate, two proportions.
fn error_change(base: (u64, u64), new: (u64, u64), limit: f64) -> Change {
    let rate = |(errors, n): (u64, u64)| if n > 0 { errors as f64 / n as f64 } else { 0.0 };
    let (b, n) = (rate(base), rate(new));
    let pooled = (base.0 + new.0) as f64 / (base.1 + new.1).max(1) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / base.1.max(1) as f64 + 1.0 / new.1.max(1) as f64)).sqrt();
    let significant = se > 0.0 && (n - b).abs() > Z_SIGNIFICANT * se;
    Change {
        measure: "error_rate".into(),
        base: b,
        new: n,
        change: Some(n - b),
        base_interval: None,
        new_interval: None,
        significant,
        limit: Some(limit),
        regression: significant && n - b > limit,
    }
}

/// The steps of a run a comparison judges: all but warm-ups.
fn judged(r: &Results) -> impl Iterator<Item = &StepResult> {
    r.steps.iter().filter(|s| s.role != Role::Warmup)
}

/// Compares the new run against the base, step by step (matched by name) and request by request.
pub fn compare(base: &Results, base_name: &str, new: &Results, new_name: &str, limits: Limits) -> Comparison {
    let mut steps = Vec::new();
    let mut unmatched = Vec::new();
    let mut warnings = Vec::new();
    for (name, r) in [(base_name, base), (new_name, new)] {
        if !r.valid {
            warnings.push(format!("{name} is not a valid run: {}", r.invalid_reasons.join("; ")));
        }
        if r.interrupted {
            warnings.push(format!("{name} was interrupted: its last step is short"));
        }
    }
    for b in judged(base) {
        let Some(n) = judged(new).find(|n| n.name == b.name) else {
            unmatched.push(format!("step '{}' is only in {base_name}", b.name));
            continue;
        };
        let errors = |s: &StepResult| (s.errors.total(), s.requests);
        if let (Some(bh), Some(nh)) = (b.latency(), n.latency()) {
            steps.push(side_by_side(
                &b.name,
                None,
                (b.requests, n.requests),
                (&bh, &nh),
                Some((b, n)),
                (errors(b), errors(n)),
                &limits,
            ));
        } else {
            warnings.push(format!("step '{}': no latencies in one of the runs, not compared", b.name));
        }
        for br in &b.per_request {
            let Some(nr) = n.per_request.iter().find(|r| r.name == br.name) else {
                unmatched.push(format!("request '{}' of step '{}' is only in {base_name}", br.name, b.name));
                continue;
            };
            if b.per_request.len() < 2 {
                continue;
            }
            if let (Some(bh), Some(nh)) = (decode(&br.histograms.latency), decode(&nr.histograms.latency)) {
                if bh.is_empty() || nh.is_empty() {
                    continue;
                }
                steps.push(side_by_side(
                    &b.name,
                    Some(&br.name),
                    (br.requests, nr.requests),
                    (&bh, &nh),
                    None,
                    ((br.errors.total(), br.requests), (nr.errors.total(), nr.requests)),
                    &limits,
                ));
            }
        }
    }
    for n in judged(new) {
        if !judged(base).any(|b| b.name == n.name) {
            unmatched.push(format!("step '{}' is only in {new_name}", n.name));
        }
    }
    let mut c = Comparison {
        base: base_name.into(),
        new: new_name.into(),
        limits,
        steps,
        unmatched,
        regressions: Vec::new(),
        warnings,
    };
    c.judge();
    c
}

impl Comparison {
    /// A comparison of nothing yet, between the two files named.
    pub fn empty(base: &str, new: &str, limits: Limits) -> Self {
        Comparison {
            base: base.into(),
            new: new.into(),
            limits,
            steps: Vec::new(),
            unmatched: Vec::new(),
            regressions: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Names every regression of its steps (and fit).
    pub fn judge(&mut self) {
        self.regressions = self
            .steps
            .iter()
            .flat_map(|s| {
                let at = match (&s.request, s.step.as_str()) {
                    (_, FIT) => FIT.to_string(),
                    (Some(r), step) => format!("step '{step}', request '{r}'"),
                    (None, step) => format!("step '{step}'"),
                };
                s.changes.iter().filter(|c| c.regression).map(move |c| format!("{at}: {}", describe(c)))
            })
            .collect();
    }
}

/// The name a fit's row goes by.
pub const FIT: &str = "USL fit";

/// A coefficient of both fits, with its 95% intervals; significant when they do not overlap.
fn coefficient(measure: &str, (b, bi): (f64, Option<[f64; 2]>), (n, ni): (f64, Option<[f64; 2]>)) -> Change {
    let significant = bi.zip(ni).is_some_and(|(bi, ni)| ni[0] > bi[1] || ni[1] < bi[0]);
    Change {
        measure: measure.into(),
        base: b,
        new: n,
        change: (b != 0.0).then(|| n / b - 1.0),
        base_interval: bi,
        new_interval: ni,
        significant,
        limit: None,
        regression: false,
    }
}

/// A fit's capacity: the USL's X(N*) with the curve's 95% band at the sample nearest N*, or,
/// without a peak (κ = 0), Amdahl's ceiling λ/σ.
fn capacity(f: &FitReport) -> Option<(f64, Option<[f64; 2]>)> {
    match (f.usl.peak_throughput, f.usl.peak_concurrency) {
        (Some(x), Some(n)) => {
            let near = f.curve.iter().min_by(|a, b| (a.n - n).abs().total_cmp(&(b.n - n).abs()));
            Some((x, near.and_then(|p| p.usl_lo95.zip(p.usl_hi95)).map(|(lo, hi)| [lo, hi])))
        }
        _ => f.amdahl.ceiling_throughput.map(|x| (x, None)),
    }
}

/// Both fits side by side: σ, κ, λ and N* shown, the capacity judged against its limit.
pub fn compare_fits(base: &FitReport, new: &FitReport, limits: &Limits) -> StepComparison {
    let (b, n) = (&base.usl, &new.usl);
    let mut changes = vec![
        coefficient("sigma", (b.sigma, b.sigma_ci), (n.sigma, n.sigma_ci)),
        coefficient("kappa", (b.kappa, b.kappa_ci), (n.kappa, n.kappa_ci)),
        coefficient("lambda", (b.lambda, b.lambda_ci), (n.lambda, n.lambda_ci)),
    ];
    if let (Some(bp), Some(np)) = (b.peak_concurrency, n.peak_concurrency) {
        changes.push(coefficient("peak_concurrency", (bp, None), (np, None)));
    }
    if let (Some(bc), Some(nc)) = (capacity(base), capacity(new)) {
        let mut c = coefficient("capacity", bc, nc);
        c.limit = Some(limits.max_capacity_drop);
        c.regression = c.significant && c.new < c.base && c.change.is_some_and(|d| -d > limits.max_capacity_drop);
        changes.push(c);
    }
    StepComparison {
        step: FIT.into(),
        request: None,
        base_requests: base.input.points.len() as u64,
        new_requests: new.input.points.len() as u64,
        changes,
    }
}

/// One regression in words: `p99 rose 48.2% (20.1 ms → 29.8 ms), past the 10% allowed`.
pub fn describe(c: &Change) -> String {
    use crate::units::{micros, percent, readable};
    let pct = |v: f64| percent(v.abs(), 3);
    match c.measure.as_str() {
        m @ ("throughput" | "capacity") => format!(
            "{} fell {} ({} → {} RPS), past the {} allowed",
            if m == "capacity" { "capacity X(N*)" } else { m },
            c.change.map_or("?".into(), pct),
            readable(c.base),
            readable(c.new),
            c.limit.map_or("?".into(), pct)
        ),
        "error_rate" => format!(
            "error rate rose from {} to {}, past the {} points allowed",
            percent(c.base, 3),
            percent(c.new, 3),
            c.limit.map_or("?".into(), |l| crate::units::sig(l * 100.0, 3))
        ),
        q => format!(
            "{q} rose {} ({} → {}), past the {} allowed",
            c.change.map_or("?".into(), pct),
            micros(c.base),
            micros(c.new),
            c.limit.map_or("?".into(), pct)
        ),
    }
}

/// The changes of one step or request.
fn side_by_side(
    step: &str,
    request: Option<&str>,
    (base_requests, new_requests): (u64, u64),
    (bh, nh): (&Histogram<u64>, &Histogram<u64>),
    throughput: Option<(&StepResult, &StepResult)>,
    (be, ne): ((u64, u64), (u64, u64)),
    limits: &Limits,
) -> StepComparison {
    let mut changes: Vec<Change> = QUANTILES
        .iter()
        .map(|&(p, name)| {
            let limit = match name {
                "p99" => Some(limits.max_p99_increase),
                "p50" => limits.max_p50_increase,
                _ => None,
            };
            quantile_change(bh, nh, (p, name), limit)
        })
        .collect();
    if let Some((b, n)) = throughput {
        changes.push(throughput_change(b, n, Some(limits.max_throughput_drop)));
    }
    changes.push(error_change(be, ne, limits.max_error_rate_increase));
    StepComparison { step: step.into(), request: request.map(Into::into), base_requests, new_requests, changes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: impl Iterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn the_order_statistic_interval_of_a_uniform_sample() {
        // 1..=2,000 (exact in the histogram): the p90 is the 1,800th value, and its interval the
        // ranks ⌊1,800 − 1.96·√180⌋ = 1,773 and ⌈1,800 + 1.96·√180⌉ + 1 = 1,828.
        let h = histogram(1..=2_000);
        assert_eq!(quantile_interval(&h, 0.90), [1_773.0, 1_828.0]);
        assert_eq!(order_statistic(&h, 1.0), 1.0);
        assert_eq!(order_statistic(&h, 2_000.0), 2_000.0);
        assert_eq!(order_statistic(&h, 0.0), 1.0, "ranks are clamped to the sample");
    }

    #[test]
    fn a_p99_fifty_percent_higher_is_a_regression_and_noise_is_not() {
        let base = histogram((0..20_000).map(|i| 20_000 + (i * 7919) % 2_000));
        let slower = histogram((0..20_000).map(|i| 30_000 + (i * 7919) % 3_000));
        let same = histogram((0..20_000).map(|i| 20_000 + (i * 104_729) % 2_000));
        let limit = Some(0.10);
        let c = quantile_change(&base, &slower, (0.99, "p99"), limit);
        assert!(c.significant && c.regression && c.change.unwrap() > 0.4, "{c:?}");
        assert!(describe(&c).starts_with("p99 rose"), "{}", describe(&c));
        let c = quantile_change(&base, &same, (0.99, "p99"), limit);
        assert!(!c.regression && c.change.unwrap().abs() < 0.01, "{c:?}");
        // Faster is a significant change, and never a regression.
        let c = quantile_change(&slower, &base, (0.99, "p99"), limit);
        assert!(c.significant && !c.regression, "{c:?}");
    }

    #[test]
    fn error_rates_are_two_proportions() {
        let c = error_change((10, 10_000), (400, 10_000), 0.01);
        assert!(c.significant && c.regression, "{c:?}");
        let c = error_change((10, 10_000), (14, 10_000), 0.01);
        assert!(!c.significant && !c.regression, "{c:?}");
        let c = error_change((0, 10_000), (0, 10_000), 0.01);
        assert!(!c.significant && !c.regression, "{c:?}");
    }
}
