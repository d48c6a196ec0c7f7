//! A history queried from a Prometheus server directly (`/api/v1/query_range`): the range cut
//! into requests under Prometheus's limit of 11,000 points per series, each bounded in time and
//! in the size of its answer, their series summed as in a saved answer.

use std::collections::BTreeMap;
use std::time::Duration;

use super::reader::{setup, Options};
use super::rollup::History;
use crate::error::InputError;

/// Points per series asked of one request: under Prometheus's 11,000.
pub const POINTS_PER_REQUEST: u64 = 10_000;
const _: () = assert!(POINTS_PER_REQUEST < 11_000);
/// Points a whole query may span: the summed steps are held in memory until the range is read.
pub const MAX_POINTS: u64 = 2_000_000;
/// The largest answer read for one request; more means too many series (sum them in the query).
pub const MAX_ANSWER_BYTES: u64 = 64 << 20;
/// How long one request may take, answer included (Prometheus's own query timeout is 2 minutes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(150);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What to ask a Prometheus server.
#[derive(Debug, Clone)]
pub struct Query {
    /// The server's base URL, e.g. `http://127.0.0.1:9090`.
    pub url: String,
    /// PromQL whose series, summed, are requests per second.
    pub promql: String,
    /// How far back from `end_s` the range reaches.
    pub range_s: f64,
    pub step_s: f64,
    /// The end of the range (Unix seconds).
    pub end_s: f64,
}

/// One request of a query: its first and last step (Unix seconds, both included).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chunk {
    pub start_s: f64,
    pub end_s: f64,
}

impl Query {
    /// The source's name in messages and reports.
    pub fn source(&self) -> String {
        format!("{} query '{}'", self.url.trim_end_matches('/'), self.promql)
    }

    /// The range as requests of at most [`POINTS_PER_REQUEST`] steps each, in time order and
    /// without overlap: the steps are whole multiples of the step, so that every request (and a
    /// rerun) evaluates the query at the same instants.
    pub fn chunks(&self) -> Result<Vec<Chunk>, InputError> {
        let usage = |m: String| InputError::Usage(m);
        if !(self.step_s >= 1.0 && self.step_s.fract() == 0.0) {
            return Err(usage(format!("--step {}s: Prometheus steps here are whole seconds, 1s or more", self.step_s)));
        }
        if self.range_s < self.step_s {
            return Err(usage(format!("--range {}s is shorter than --step {}s", self.range_s, self.step_s)));
        }
        let step = self.step_s;
        let end = (self.end_s / step).floor() * step;
        let steps = (self.range_s / step).floor() as u64;
        let points = steps + 1;
        if points > MAX_POINTS {
            let finest = (self.range_s / MAX_POINTS as f64).ceil();
            return Err(usage(format!(
                "--range {} at --step {} is {points} points; headroom reads at most {MAX_POINTS} per query: use --step {finest}s or coarser (5m gives {} for this range)",
                crate::units::Span(Duration::from_secs_f64(self.range_s)),
                crate::units::Span(Duration::from_secs_f64(step)),
                (self.range_s / 300.0).floor() as u64 + 1
            )));
        }
        let start = end - steps as f64 * step;
        let mut chunks = Vec::new();
        let mut first = 0u64;
        while first < points {
            let last = (first + POINTS_PER_REQUEST - 1).min(points - 1);
            chunks.push(Chunk { start_s: start + first as f64 * step, end_s: start + last as f64 * step });
            first = last + 1;
        }
        Ok(chunks)
    }
}

/// Queries the server chunk by chunk and reads the summed series as a history accumulated as
/// `opts` says (the values are rates). `progress` hears (requests done, requests in all).
pub fn read(q: &Query, opts: &Options, progress: &mut dyn FnMut(usize, usize)) -> Result<History, InputError> {
    let source = q.source();
    let chunks = q.chunks()?;
    let agent = ureq::AgentBuilder::new().timeout_connect(CONNECT_TIMEOUT).timeout(REQUEST_TIMEOUT).build();
    let endpoint = format!("{}/api/v1/query_range", q.url.trim_end_matches('/'));
    let mut sum = BTreeMap::new();
    progress(0, chunks.len());
    for (i, c) in chunks.iter().enumerate() {
        let text = ask(&agent, &endpoint, q, *c)?;
        let at = format!("{source} ({} to {})", crate::calendar::rfc3339(c.start_s), crate::calendar::rfc3339(c.end_s));
        super::prometheus::add(&super::prometheus::series(&text, &at)?, &at, &mut sum)?;
        progress(i + 1, chunks.len());
    }
    super::prometheus::history(sum, &source, &setup(opts, false, false))
}

/// One request's answer as text, whatever its HTTP status (Prometheus explains a refused
/// query in the JSON of a 400 or 422); a failure to connect or a non-JSON answer is an error
/// that says what to check.
fn ask(agent: &ureq::Agent, endpoint: &str, q: &Query, c: Chunk) -> Result<String, InputError> {
    let bad = |message: String| InputError::BadFile { file: q.source(), message };
    let request = agent
        .get(endpoint)
        .query("query", &q.promql)
        .query("start", &c.start_s.to_string())
        .query("end", &c.end_s.to_string())
        .query("step", &q.step_s.to_string());
    let (status, response) = match request.call() {
        Ok(r) => (r.status(), r),
        Err(ureq::Error::Status(code, r)) => (code, r),
        Err(ureq::Error::Transport(t)) => {
            return Err(bad(format!(
                "cannot reach Prometheus at {endpoint}: {t}; check --prometheus (the server's base URL, e.g. http://127.0.0.1:9090)"
            )))
        }
    };
    let bytes = crate::ingest::http::body_within(response, MAX_ANSWER_BYTES)
        .map_err(|e| bad(format!("reading the answer from {endpoint}: {e}")))?
        .ok_or_else(|| {
            bad(format!(
                "an answer over {} MiB for {} steps: too many series; sum them in the query (e.g. sum(rate(http_requests_total[5m])))",
                MAX_ANSWER_BYTES >> 20,
                ((c.end_s - c.start_s) / q.step_s) as u64 + 1
            ))
        })?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if !super::prometheus::is_json(text.as_bytes()) {
        return Err(bad(format!(
            "{endpoint} answered HTTP {status} without a Prometheus answer ('{}'): is --prometheus the server's base URL?",
            crate::error::quote(text.trim())
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(range_s: f64, step_s: f64, end_s: f64) -> Query {
        Query { url: "http://127.0.0.1:9".into(), promql: "up".into(), range_s, step_s, end_s }
    }

    #[test]
    fn chunks_cover_the_range_once_each_under_the_points_limit() {
        // 40 days at 5 minutes: 11,521 points, more than one request may ask.
        let query = q(40.0 * 86_400.0, 300.0, 1_800_000_123.0);
        let chunks = query.chunks().unwrap();
        assert_eq!(chunks.len(), 2);
        let end = (1_800_000_123.0f64 / 300.0).floor() * 300.0;
        assert_eq!(chunks[0].start_s, end - 40.0 * 86_400.0);
        assert_eq!(chunks.last().unwrap().end_s, end);
        let mut points = 0;
        for w in chunks.windows(2) {
            assert_eq!(w[1].start_s, w[0].end_s + 300.0, "no step twice, none left out");
        }
        for c in &chunks {
            let n = ((c.end_s - c.start_s) / 300.0) as u64 + 1;
            assert!(n <= POINTS_PER_REQUEST, "{n} points in one request");
            assert_eq!(c.start_s % 300.0, 0.0);
            points += n;
        }
        assert_eq!(points, 11_521);
    }

    #[test]
    fn a_range_too_fine_to_hold_names_a_step_that_fits() {
        let e = q(400.0 * 86_400.0, 1.0, 1_800_000_000.0).chunks().unwrap_err().to_string();
        assert!(e.contains("34560001 points") && e.contains("--step 18s"), "{e}");
        assert!(q(60.0, 0.5, 1e9).chunks().is_err());
        assert!(q(60.0, 120.0, 1e9).chunks().is_err());
    }

    #[test]
    fn an_unreachable_server_is_named_with_the_fix() {
        // Port 9 on loopback (discard) has no server here: the connection is refused at once.
        let e = read(&q(3600.0, 60.0, 1e9), &Options::default(), &mut |_, _| {}).unwrap_err().to_string();
        assert!(e.contains("cannot reach Prometheus at http://127.0.0.1:9/api/v1/query_range"), "{e}");
        assert!(e.contains("--prometheus"), "{e}");
    }
}
