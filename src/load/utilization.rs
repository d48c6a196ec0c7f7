//! The target's utilization, read while it is loaded: a Prometheus text endpoint scraped (a
//! counter of busy seconds such as `process_cpu_seconds_total`, or a gauge), or a PromQL
//! instant query against a Prometheus server, at a fixed interval from a thread of its own.
//!
//! Each step's utilization is read from the samples inside the middle 80% of its time, as its
//! throughput is measured from 10% to 90% of its responses: a counter's increase over the span
//! of those samples (resets counted as Prometheus does), per second, over the capacity; a
//! gauge's mean. Every request is bounded in time and size; a failed read is counted and said,
//! never fatal once the run has started.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::artefact::utilization::{Reading, UtilizationSource};
use crate::error::InputError;
use crate::ingest::metrics::find;
use crate::plan::utilization::{CapacitySpec, Selector, UtilizationSpec};

/// The largest answer read from a metrics endpoint or Prometheus.
const MAX_ANSWER_BYTES: u64 = 16 << 20;
/// Samples kept at most: eleven days at one a second; older ones are thinned by half.
const MAX_SAMPLES: usize = 1 << 20;

/// Where the utilization comes from and how it reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A Prometheus text endpoint and the series (`name` or `name{label="v",label!="v"}`)
    /// whose values are summed.
    Scrape { url: String, selector: Selector },
    /// A Prometheus server and a PromQL query whose value (its series summed) is read.
    Query { prometheus: String, query: String },
}

/// The capacity a reading is divided by: busy seconds per second at 100% (cores, workers).
#[derive(Debug, Clone, PartialEq)]
pub enum Capacity {
    Fixed(f64),
    /// Another series of the same endpoint, read at each scrape (e.g. `headroom_sim_workers`).
    Metric(Selector),
}

/// What to read, how often.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub source: Source,
    pub capacity: Option<Capacity>,
    pub interval: Duration,
}

impl Spec {
    /// The plan's `[utilization]`, checked: one source, a capacity above zero, an interval of
    /// 100 ms or more.
    pub fn from_plan(u: &UtilizationSpec) -> Result<Spec, InputError> {
        let usage = |m: &str| InputError::Usage(format!("[utilization]: {m}"));
        let source = match (&u.scrape, &u.metric, &u.prometheus, &u.query) {
            (Some(url), Some(metric), None, None) => {
                Source::Scrape { url: url.clone(), selector: metric.value().clone() }
            }
            (None, None, Some(p), Some(q)) => Source::Query { prometheus: p.clone(), query: q.clone() },
            (Some(_), None, None, None) => {
                return Err(usage(
                    "scrape needs metric, the series to read (e.g. metric = \"process_cpu_seconds_total\")",
                ))
            }
            (None, None, Some(_), None) | (None, None, None, Some(_)) => {
                return Err(usage("prometheus and query go together"))
            }
            (None, None, None, None) => return Err(usage("name a source: scrape and metric, or prometheus and query")),
            _ => return Err(usage("one source: either scrape and metric, or prometheus and query")),
        };
        for url in [&u.scrape, &u.prometheus].into_iter().flatten() {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(usage(&format!("'{url}' is not an http:// or https:// URL")));
            }
        }
        let capacity = match &u.capacity {
            None => None,
            Some(CapacitySpec::Number(n)) if n.is_finite() && *n > 0.0 => Some(Capacity::Fixed(*n)),
            Some(CapacitySpec::Number(n)) => {
                return Err(usage(&format!("capacity {n}: what 100% is must be above zero")))
            }
            Some(CapacitySpec::Metric(_)) if matches!(source, Source::Query { .. }) => {
                return Err(usage("a query's capacity is a number; divide inside the PromQL instead"))
            }
            Some(CapacitySpec::Metric(m)) => Some(Capacity::Metric(m.value().clone())),
        };
        let interval = u.interval.as_ref().map_or(Duration::from_secs(1), |i| i.value().0);
        if interval < Duration::from_millis(100) {
            return Err(usage("interval: read it every 100ms or less often"));
        }
        Ok(Spec { source, capacity, interval })
    }
}

/// One read: when, the value, and the capacity read beside it (when it is a metric).
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    value: f64,
    capacity: Option<f64>,
}

#[derive(Default)]
struct Log {
    samples: Vec<Sample>,
    failures: u64,
    last_error: Option<String>,
}

/// The reader running beside a load test.
pub struct Sampler {
    spec: Spec,
    reading: Reading,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn agent(interval: Duration) -> ureq::Agent {
    let limit = interval.max(Duration::from_secs(1)).min(Duration::from_secs(10));
    ureq::AgentBuilder::new().timeout_connect(limit).timeout(limit).build()
}

fn get(agent: &ureq::Agent, url: &str, query: &[(&str, &str)]) -> Result<String, String> {
    let mut req = agent.get(url);
    for (k, v) in query {
        req = req.query(k, v);
    }
    let response = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => {
            let body = r.into_string().unwrap_or_default();
            return Err(format!("{url} answered HTTP {code}: {}", crate::error::quote(body.trim())));
        }
        Err(ureq::Error::Transport(t)) => return Err(format!("cannot reach {url}: {t}")),
    };
    let bytes = crate::ingest::http::body_within(response, MAX_ANSWER_BYTES)
        .map_err(|e| format!("{url}: {e}"))?
        .ok_or_else(|| format!("{url}: an answer over {} MiB", MAX_ANSWER_BYTES >> 20))?;
    String::from_utf8(bytes).map_err(|_| format!("{url}: the answer is not UTF-8 text"))
}

/// One read of the source: the value, the capacity beside it, and the declared reading.
fn read_once(agent: &ureq::Agent, spec: &Spec) -> Result<(f64, Option<f64>, Reading), String> {
    match &spec.source {
        Source::Scrape { url, selector } => {
            let text = get(agent, url, &[])?;
            let found = find(&text, selector);
            if found.series == 0 {
                return Err(format!("{url} has no series {selector}"));
            }
            let capacity = match &spec.capacity {
                Some(Capacity::Metric(c)) => {
                    let cap = find(&text, c);
                    if cap.series == 0 || cap.sum <= 0.0 {
                        return Err(format!("{url} has no series {c} above zero (the capacity)"));
                    }
                    Some(cap.sum)
                }
                Some(Capacity::Fixed(c)) => Some(*c),
                None => None,
            };
            Ok((found.sum, capacity, found.reading.unwrap_or(Reading::Gauge)))
        }
        Source::Query { prometheus, query } => {
            let url = format!("{}/api/v1/query", prometheus.trim_end_matches('/'));
            let text = get(agent, &url, &[("query", query)])?;
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{url}: not JSON: {e}"))?;
            if v["status"] != "success" {
                return Err(format!(
                    "{url}: {} ({})",
                    v["error"].as_str().unwrap_or("?"),
                    v["errorType"].as_str().unwrap_or("?")
                ));
            }
            let result = v["data"]["result"].as_array().cloned().unwrap_or_default();
            let values: Vec<f64> = match v["data"]["resultType"].as_str() {
                Some("vector") => result.iter().filter_map(|s| s["value"][1].as_str()?.parse().ok()).collect(),
                Some("scalar") => v["data"]["result"][1].as_str().and_then(|s| s.parse().ok()).into_iter().collect(),
                other => {
                    return Err(format!(
                        "{url}: a '{}' result; the query must give an instant vector or scalar",
                        other.unwrap_or("?")
                    ))
                }
            };
            if values.is_empty() || values.iter().any(|v: &f64| !v.is_finite()) {
                return Err(format!("{url}: the query '{query}' gave no finite value now"));
            }
            let capacity = match &spec.capacity {
                Some(Capacity::Fixed(c)) => Some(*c),
                _ => None,
            };
            Ok((values.iter().sum(), capacity, Reading::Gauge))
        }
    }
}

impl Sampler {
    /// Reads the source once (so that a wrong URL or metric stops the run before any load) and
    /// starts reading it every interval until [`Sampler::finish`].
    pub fn start(spec: Spec) -> Result<Sampler, InputError> {
        let agent = agent(spec.interval);
        let (value, capacity, reading) =
            read_once(&agent, &spec).map_err(|e| InputError::Usage(format!("target utilization: {e}")))?;
        if reading == Reading::Counter && capacity.is_none() {
            return Err(InputError::Usage(format!(
                "target utilization: {} is a counter of busy seconds; say what 100% is with capacity (the target's cores, or workers), e.g. capacity = 4",
                describe(&spec.source)
            )));
        }
        let log = Arc::new(Mutex::new(Log {
            samples: vec![Sample { at: Instant::now(), value, capacity }],
            ..Log::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, s, sp) = (log.clone(), stop.clone(), spec.clone());
        let thread = std::thread::Builder::new()
            .name("headroom-utilization".into())
            .spawn(move || {
                let mut next = std::time::Instant::now() + sp.interval;
                while !s.load(Ordering::Relaxed) {
                    let now = std::time::Instant::now();
                    if now < next {
                        std::thread::sleep((next - now).min(Duration::from_millis(50)));
                        continue;
                    }
                    next += sp.interval;
                    let read = read_once(&agent, &sp);
                    let at = Instant::now();
                    let mut log = l.lock().expect("the utilization log is never poisoned");
                    match read {
                        Ok((value, capacity, _)) => {
                            if log.samples.len() >= MAX_SAMPLES {
                                let kept: Vec<Sample> = log.samples.iter().step_by(2).copied().collect();
                                log.samples = kept;
                            }
                            log.samples.push(Sample { at, value, capacity });
                        }
                        Err(e) => {
                            log.failures += 1;
                            log.last_error = Some(e);
                        }
                    }
                }
            })
            .map_err(|e| InputError::Usage(format!("target utilization: cannot start its reader: {e}")))?;
        Ok(Sampler { spec, reading, log, stop, thread: Some(thread) })
    }

    /// How often the source is read.
    pub fn interval(&self) -> Duration {
        self.spec.interval
    }

    /// The mean utilization (a share of capacity) over `from..to`, from the samples inside it;
    /// `None` with fewer than two (one for a gauge).
    pub fn over(&self, from: Instant, to: Instant) -> Option<f64> {
        self.each(&[(from, to)]).pop().flatten()
    }

    /// Utilization for each of `windows` (as `over`), read under one lock.
    pub fn each(&self, windows: &[(Instant, Instant)]) -> Vec<Option<f64>> {
        let log = self.log.lock().expect("the utilization log is never poisoned");
        windows
            .iter()
            .map(|(from, to)| {
                let inside: Vec<Sample> =
                    log.samples.iter().filter(|s| s.at >= *from && s.at <= *to).copied().collect();
                utilization(&inside, self.reading)
            })
            .collect()
    }

    /// Stops reading; what the run records of the source.
    pub fn finish(mut self) -> UtilizationSource {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let log = self.log.lock().expect("the utilization log is never poisoned");
        UtilizationSource {
            source: describe(&self.spec.source),
            reading: self.reading,
            capacity: self.spec.capacity.as_ref().map(|c| match c {
                Capacity::Fixed(n) => crate::units::sig(*n, 6),
                Capacity::Metric(m) => m.to_string(),
            }),
            interval_s: self.spec.interval.as_secs_f64(),
            samples: log.samples.len() as u64,
            failures: log.failures,
            last_error: log.last_error.clone(),
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// How a source is named in results and messages.
pub fn describe(source: &Source) -> String {
    match source {
        Source::Scrape { url, selector } => format!("scrape {url} {selector}"),
        Source::Query { prometheus, query } => format!("query {prometheus} {query}"),
    }
}

/// The utilization the samples give: a counter's increase per second over the capacity (a
/// decrease is a reset, after which the counter counts from zero), or a gauge's mean over it.
fn utilization(samples: &[Sample], reading: Reading) -> Option<f64> {
    let share = |v: f64, c: Option<f64>| v / c.unwrap_or(1.0);
    match reading {
        Reading::Gauge => {
            if samples.is_empty() {
                return None;
            }
            Some(samples.iter().map(|s| share(s.value, s.capacity)).sum::<f64>() / samples.len() as f64)
        }
        Reading::Counter => {
            let mut busy = 0.0;
            let mut cap_area = 0.0;
            for w in samples.windows(2) {
                let d = w[1].at.duration_since(w[0].at).as_secs_f64();
                busy += if w[1].value >= w[0].value { w[1].value - w[0].value } else { w[1].value };
                cap_area += d * w[1].capacity.or(w[0].capacity).unwrap_or(1.0);
            }
            // Fewer than two samples, or all at one instant, span no time.
            (cap_area > 0.0).then(|| busy / cap_area)
        }
    }
}
