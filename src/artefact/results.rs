//! `results.json`: what a run measured, as a contract users script against. Percentiles come
//! from HdrHistograms (microseconds), and every histogram a percentile is read from travels
//! beside it (base64 HdrHistogram V2, DEFLATE-compressed): the step's, each request's, each
//! second's and each journey's, so that any figure can be recomputed and runs and shards merge
//! losslessly.

use std::io;

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::utilization::{UtilizationLaw, UtilizationSource};
use super::{Contract, Kind};
use crate::plan::profile::{ProfileKind, Role};
use crate::plan::{LoadPlan, Op, Unit};

/// `results.json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Results {
    /// The plan as run (with the command line's overrides), header values other than `${VAR}`
    /// references redacted.
    pub plan: LoadPlan,
    /// The command-line flags that replaced the plan's values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    pub target: String,
    /// The HTTP the connections spoke: `HTTP/1.1`, `HTTP/2`, or both (`auto` against a mix of
    /// servers); absent when no connection opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    pub profile: ProfileKind,
    pub environment: Environment,
    pub interrupted: bool,
    /// The signal that interrupted it: `SIGINT` or `SIGTERM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// Why the abort rule stopped the run, when it did.
    pub aborted: Option<String>,
    pub valid: bool,
    pub invalid_reasons: Vec<String>,
    pub slo_passed: bool,
    pub steps: Vec<StepResult>,
    pub analysis: Analysis,
    /// Where the target's utilization was read while it was loaded, when the plan said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_source: Option<UtilizationSource>,
    /// The Utilization Law fitted to the steps that read a utilization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_law: Option<UtilizationLaw>,
    /// The part of a larger run this one was (`run --shard I/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRun>,
    /// The shards `headroom merge` made these results from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergedFrom>,
}

/// One shard of a sharded run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShardRun {
    /// From 0 to `count` − 1.
    pub index: u64,
    pub count: u64,
    /// The instant every shard was to start at (RFC 3339, UTC).
    pub start_at: String,
    /// When this shard's first step began, by its own clock; `null` when a stop came first.
    pub started_at: Option<String>,
    /// How late this shard began a step after the instant agreed for it, at most over its
    /// steps, milliseconds (measured on the shard: its timer's lateness, or connections and
    /// users not ready in time).
    pub skew_ms: f64,
    pub host: String,
    /// SHA-256 of the plan as run, its target and the flags that replaced its values (`sha256:`
    /// and hex): shards of one run share it.
    pub plan_digest: String,
}

/// The shards a merged result was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MergedFrom {
    pub shards: Vec<MergedShard>,
    /// The latest shard's first start less the earliest's, milliseconds (each by its own clock:
    /// shards on several machines are as close as their clocks are synchronised).
    pub start_spread_ms: f64,
    /// The latest any shard began any step after its agreed instant, milliseconds.
    pub max_skew_ms: f64,
    /// The lateness `merge` accepts: the larger of 50 ms and 1% of the shortest step.
    pub skew_limit_ms: f64,
}

/// One shard as `merge` read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MergedShard {
    pub file: String,
    pub shard: ShardRun,
    pub valid: bool,
    pub invalid_reasons: Vec<String>,
}

impl Contract for Results {
    const KIND: Kind = Kind::Results;
}

/// The name `headroom run` gives its results in its `--out` folder.
pub const FILE_NAME: &str = "results.json";

/// The file a path names for a run: the results.json in it when it is a run's folder, else the
/// path itself.
pub fn file_in(path: &std::path::Path) -> std::path::PathBuf {
    if path.is_dir() {
        path.join(FILE_NAME)
    } else {
        path.to_path_buf()
    }
}

/// What the machine and the run were.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    pub headroom_version: String,
    pub cores: usize,
    pub start: String,
    pub end: String,
    /// CPU seconds the generator used (user + system).
    pub generator_cpu_s: Option<f64>,
}

/// The profile-specific findings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Analysis {
    pub breaking_point: Option<BreakingPoint>,
    /// `expect.min_rps` against what the run showed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
    pub spike: Option<SpikeAnalysis>,
    pub soak: Option<SoakAnalysis>,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Percentiles {
    /// From a histogram; `None` when it is empty.
    pub fn of(h: &Histogram<u64>) -> Option<Percentiles> {
        (!h.is_empty()).then(|| Percentiles {
            count: h.len(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p95: h.value_at_quantile(0.95),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        })
    }
}

/// How a request went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Connect,
    Timeout,
    Http4xx,
    Http429,
    Http5xx,
    /// A status other than the one the plan expects.
    UnexpectedStatus,
    /// The connection failed mid-request (reset, closed).
    Io,
    /// The target's bytes were not HTTP: a bad status line, garbage, a head past hyper's limit.
    Protocol,
    /// The response body passed `max_body`; the rest was not read.
    BodyTooLarge,
    /// A journey step got its response but not the value it extracts from it.
    Extract,
}

impl ErrorClass {
    /// The class of an HTTP status that is not the expected one.
    pub fn of_status(status: u16) -> ErrorClass {
        match status {
            429 => ErrorClass::Http429,
            400..=499 => ErrorClass::Http4xx,
            500..=599 => ErrorClass::Http5xx,
            _ => ErrorClass::UnexpectedStatus,
        }
    }
}

/// Errors by class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorCounts {
    pub connect: u64,
    pub timeout: u64,
    pub http_4xx: u64,
    pub http_429: u64,
    pub http_5xx: u64,
    pub unexpected_status: u64,
    pub io: u64,
    pub protocol: u64,
    pub body_too_large: u64,
    pub extract: u64,
}

impl ErrorCounts {
    fn slot(&mut self, class: ErrorClass) -> &mut u64 {
        match class {
            ErrorClass::Connect => &mut self.connect,
            ErrorClass::Timeout => &mut self.timeout,
            ErrorClass::Http4xx => &mut self.http_4xx,
            ErrorClass::Http429 => &mut self.http_429,
            ErrorClass::Http5xx => &mut self.http_5xx,
            ErrorClass::UnexpectedStatus => &mut self.unexpected_status,
            ErrorClass::Io => &mut self.io,
            ErrorClass::Protocol => &mut self.protocol,
            ErrorClass::BodyTooLarge => &mut self.body_too_large,
            ErrorClass::Extract => &mut self.extract,
        }
    }

    fn all(&self) -> [u64; 10] {
        [
            self.connect,
            self.timeout,
            self.http_4xx,
            self.http_429,
            self.http_5xx,
            self.unexpected_status,
            self.io,
            self.protocol,
            self.body_too_large,
            self.extract,
        ]
    }

    /// Counts one error.
    pub fn count(&mut self, class: ErrorClass) {
        *self.slot(class) += 1;
    }

    /// All errors.
    pub fn total(&self) -> u64 {
        self.all().iter().sum()
    }

    /// Requests that got no HTTP response at all: refused, timed out, reset, or not HTTP.
    pub fn unanswered(&self) -> u64 {
        self.connect + self.timeout + self.io + self.protocol
    }

    /// Adds another count in.
    pub fn add(&mut self, o: &ErrorCounts) {
        let mut mine = [
            &mut self.connect,
            &mut self.timeout,
            &mut self.http_4xx,
            &mut self.http_429,
            &mut self.http_5xx,
            &mut self.unexpected_status,
            &mut self.io,
            &mut self.protocol,
            &mut self.body_too_large,
            &mut self.extract,
        ];
        for (a, b) in mine.iter_mut().zip(o.all()) {
            **a += b;
        }
    }
}

/// One second (or, in a long step, one bucket of seconds) of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Second {
    /// Seconds from the start of the step to the start of this interval.
    pub t_s: f64,
    pub duration_s: f64,
    /// Arrivals due per second by the schedule; `null` for a closed step.
    pub offered_rps: Option<f64>,
    /// Requests finished in the interval, whatever their outcome.
    pub requests: u64,
    /// Responses received per second.
    pub achieved_rps: f64,
    pub in_flight: f64,
    pub late_starts: u64,
    pub p50_us: Option<u64>,
    pub p90_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub max_us: Option<u64>,
    pub errors: ErrorCounts,
    /// The interval's latency histogram (from the intended send time), base64 V2.
    pub latency: String,
    /// The target's utilization over the interval (a share of its capacity), from the reads
    /// within half a read interval of it; absent when none was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
}

impl Second {
    /// The interval's latency histogram; `None` when it does not decode.
    pub fn histogram(&self) -> Option<Histogram<u64>> {
        decode(&self.latency)
    }
}

/// The histograms of a step, base64 HdrHistogram V2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Encoded {
    pub latency: String,
    pub service_time: String,
    pub schedule_lag: String,
    /// When each answered request finished, µs after the step's start: the throughput's
    /// window is read from it, so that merged shards measure theirs as one run would.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub departures: String,
}

/// A request's (or a journey's) two latency histograms, base64 HdrHistogram V2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencyHistograms {
    /// From the intended send time.
    pub latency: String,
    /// From the actual send time.
    pub service_time: String,
}

/// One request name within a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestResult {
    pub name: String,
    pub requests: u64,
    /// Its responses per second of the step's window.
    pub achieved_rps: f64,
    pub latency_us: Option<Percentiles>,
    pub service_time_us: Option<Percentiles>,
    pub errors: ErrorCounts,
    pub histograms: LatencyHistograms,
}

/// An SLO threshold checked against a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ThresholdResult {
    /// As written in the plan.
    pub threshold: String,
    /// `overall` or a request name.
    pub scope: String,
    /// `p99`, `mean`, `max`, `error_rate` or `rps`.
    pub metric: String,
    pub op: Op,
    /// The unit of `value` and `limit`.
    pub unit: Unit,
    pub value: f64,
    pub limit: f64,
    pub passed: bool,
}

/// How a step's delivered load compares with what it offered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivery {
    /// At least 95% of the offered rate completed (or a closed step got answers).
    Delivered,
    /// Every connection was busy and requests queued for one, or requests queued at the target:
    /// the target's throughput is the one measured. In a stress run this is the breaking point;
    /// elsewhere the step is not a valid test of its rate.
    Saturated { reason: String },
    /// Connections were free but sends were late: the generator set the pace, not the target.
    GeneratorBehind { reason: String },
    /// Nothing was answered, or refusals and resets alone explain the shortfall.
    NoResponse { reason: String },
}

impl Delivery {
    /// Its tag, as results.json writes it.
    pub fn kind(&self) -> &'static str {
        match self {
            Delivery::Delivered => "delivered",
            Delivery::Saturated { .. } => "saturated",
            Delivery::GeneratorBehind { .. } => "generator_behind",
            Delivery::NoResponse { .. } => "no_response",
        }
    }

    /// The reason, unless the step delivered.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Delivery::Delivered => None,
            Delivery::Saturated { reason } | Delivery::GeneratorBehind { reason } | Delivery::NoResponse { reason } => {
                Some(reason)
            }
        }
    }
}

/// Little's Law on one step, L = X·W, over the step's window: L the mean number of its units in
/// the generator's system (queued for a connection or in flight, sampled), X the rate at which
/// they left it (answered, failed, or due and never sent), W their mean time in it from the
/// intended send time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LittlesCheck {
    pub throughput_rps: f64,
    pub mean_time_in_system_s: f64,
    /// X·W.
    pub predicted_in_system: f64,
    /// The sampled mean.
    pub measured_in_system: f64,
    /// Standard error of the sampled mean (batch means); `null` for a short step.
    pub measured_se: Option<f64>,
    /// (measured − predicted) / predicted; `null` when nothing was predicted.
    pub relative_disagreement: Option<f64>,
    /// The disagreement is beyond what sampling explains.
    pub alarm: bool,
    /// How many times the occupancy was sampled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
}

/// One step's results.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StepResult {
    pub name: String,
    pub role: Role,
    /// The arrival rate at the step's end (a ramp's last rate); `null` for closed and journey steps.
    pub target_rps: Option<f64>,
    /// The schedule's mean arrival rate over the step: the load offered.
    pub offered_rps: Option<f64>,
    pub users: Option<usize>,
    /// Seconds the step scheduled arrivals: its duration, or less when a stop cut it short.
    pub duration_s: f64,
    /// The window `achieved_rps` is measured over: for a constant-rate or closed step, from the
    /// moment 10% of its responses had arrived to the moment 90% had; for a ramp, a spike's
    /// burst or recovery, or a step of fewer than 20 responses, from its start plus its fastest
    /// response to its last response or its end, whichever is later.
    pub window_s: f64,
    /// Requests the schedule asked for; `null` for a closed step.
    pub scheduled: Option<u64>,
    pub requests: u64,
    /// Requests due before the run's end that were never sent: every connection was busy.
    pub unsent: u64,
    /// Responses (any status) that arrived within `window_s`, per second of it: the throughput
    /// measured.
    pub achieved_rps: f64,
    pub error_rate: f64,
    /// Requests in flight at most (the workers; users in a closed step).
    pub in_flight_limit: usize,
    /// Sampled means over the step: requests in flight, and in flight plus queued for a
    /// connection (journeys, for a journey step).
    pub mean_in_flight: f64,
    pub mean_in_system: f64,
    /// The generator's CPU over the step, as a share of all its cores.
    pub generator_cpu: Option<f64>,
    /// The target's mean utilization over the middle 80% of the step (as its throughput is
    /// measured from 10% to 90% of its responses), a share of its capacity; absent when the
    /// plan names no `[utilization]` or too few reads fell in the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
    /// Whether the step delivered the load it offered, and if not, why.
    pub delivery: Delivery,
    /// Little's Law on the step; `null` when it cannot be applied (nothing departed, or a stop).
    pub littles_law: Option<LittlesCheck>,
    /// Why Little's Law disagrees, when it does beyond sampling error.
    pub littles_law_note: Option<String>,
    /// From each request's intended send time (corrected for coordinated omission).
    pub latency_us: Option<Percentiles>,
    /// From the actual send time (raw).
    pub service_time_us: Option<Percentiles>,
    pub schedule_lag_us: Option<Percentiles>,
    pub errors: ErrorCounts,
    /// Response body bytes read (each capped at `max_body`).
    pub bytes_received: u64,
    /// Requests that started more than 2 ms after their intended time...
    pub late_starts: u64,
    /// ...of which every connection was busy when their time came.
    pub late_at_limit: u64,
    /// Requests that started more than 5 ms late with a connection free: the generator's lag.
    pub lagging_starts: u64,
    pub reconnects: u64,
    pub per_request: Vec<RequestResult>,
    pub slo: Vec<ThresholdResult>,
    /// `false` when the step did not deliver its offered load (see `delivery`).
    pub valid: bool,
    pub invalid_reason: Option<String>,
    pub histograms: Encoded,
    pub series: Vec<Second>,
    /// Journey runs: what each journey did. The fields above count their requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journeys: Option<JourneysResult>,
}

impl StepResult {
    /// The step's latency histogram (from the intended send time).
    pub fn latency(&self) -> Option<Histogram<u64>> {
        decode(&self.histograms.latency)
    }
}

/// Journeys in one step of the profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JourneysResult {
    /// Journey arrivals per second the schedule asked for (mean over the step); `null` when closed.
    pub target_per_s: Option<f64>,
    /// Journeys begun per second (those whose intended start fell in the step).
    pub started_per_s: f64,
    pub journeys: Vec<JourneyResult>,
    /// When each completed journey finished, µs after the step's start (base64 V2).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub departures: String,
}

/// One journey in one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JourneyResult {
    pub name: String,
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    pub completed_per_s: f64,
    /// End to end, think times included, from the intended start of the first step (corrected).
    pub latency_us: Option<Percentiles>,
    /// End to end from the actual start of the first step (raw).
    pub duration_us: Option<Percentiles>,
    /// Failed journeys by the class of the error that stopped them.
    pub errors: ErrorCounts,
    pub steps: Vec<StepFailures>,
    /// `latency` end to end from the intended start, `service_time` from the first send.
    pub histograms: LatencyHistograms,
}

/// How many journeys stopped at a step, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepFailures {
    /// `journey/step`, as in `per_request`.
    pub name: String,
    pub failed: u64,
    /// Distinct reasons, most frequent first: the status with the start of the body, or what an
    /// extraction missed.
    pub reasons: Vec<Reason>,
}

/// One reason journeys stopped, and how many did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reason {
    pub reason: String,
    pub count: u64,
}

/// The last step that met every threshold and delivered its load, and the first that did not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BreakingPoint {
    pub last_passing: Option<String>,
    /// The last passing step's measured throughput.
    pub last_passing_rps: Option<f64>,
    pub first_failing: Option<String>,
    /// The first failing step's offered rate...
    pub first_failing_rps: Option<f64>,
    /// ...and its measured throughput.
    pub first_failing_achieved_rps: Option<f64>,
    pub reason: Option<String>,
}

/// A plan's `expect.min_rps` against the capacity the run showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Expected {
    pub min_rps: f64,
    /// A stress run's last passing throughput, or a sweep's best step that met every SLO.
    pub measured_rps: Option<f64>,
    pub passed: bool,
}

/// A spike's effect and the recovery after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SpikeAnalysis {
    pub baseline_p99_us: Option<u64>,
    pub burst_p99_us: Option<u64>,
    pub burst_errors: u64,
    pub burst_error_rate: f64,
    /// Seconds into the recovery step from which the p99 of the rest of the step is within 10%
    /// of the baseline's; `null` when no such second comes within the step.
    pub recovery_s: Option<f64>,
}

/// A least-squares trend with its significance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trend {
    /// Change per hour.
    pub slope_per_hour: f64,
    /// Two-sided p-value of slope = 0 (Student's t, n − 2 degrees of freedom).
    pub p_value: Option<f64>,
}

/// Drift over a soak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SoakAnalysis {
    pub window_s: f64,
    pub p99_first_window_us: Option<f64>,
    pub p99_last_window_us: Option<f64>,
    pub p99_trend_us: Option<Trend>,
    pub error_rate_first_window: Option<f64>,
    pub error_rate_last_window: Option<f64>,
    pub error_rate_trend: Option<Trend>,
    pub connection_errors: u64,
    pub reconnects: u64,
}

/// base64 of the DEFLATE-compressed V2 serialization.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut bytes).expect("serializing to memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a histogram written by [`encode`] (or plain V2).
pub fn decode(text: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
    hdrhistogram::serialization::Deserializer::new().deserialize(&mut io::Cursor::new(bytes)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_through_base64() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in [1u64, 10, 100, 1000, 123_456] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
        assert_eq!(back.max(), h.max());
    }
}
