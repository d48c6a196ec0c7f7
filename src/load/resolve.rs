//! Resolving a plan against its environment before a request is sent: the target, caps,
//! thresholds, `${VAR}` references, requests or journeys, and the profile, each checked and each
//! error naming its key.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;

use super::engine::{Engine, Pacing};
use super::http::{Http, Prepared, Target};
use super::journey::{self, driver::JourneyEngine, driver::Journeys};
use super::mix::RequestMix;
use crate::error::InputError;
use crate::plan::profile;
use crate::plan::template::Template;
use crate::plan::{AbortRule, HttpVersion, LoadPlan, Threshold};

/// `${VAR}` in a request's text: the environment's value.
fn expand(value: &str, key: &str, file: &str) -> Result<String, InputError> {
    let missing = |var: &str| format!("the environment variable {var} is not set: export it before the run");
    let t = Template::parse(value, &[], &missing)
        .map_err(|why| InputError::BadFile { file: file.into(), message: format!("{key}: {why}") })?;
    Ok(t.render(&[]))
}

/// A threshold on one request of the mix: (request index, text, threshold).
pub(crate) type RequestThreshold = (usize, String, Threshold);

fn prepare(plan: &LoadPlan, target: &Target, file: &str) -> Result<(Vec<Prepared>, Vec<RequestThreshold>), InputError> {
    let mut requests = Vec::new();
    let mut thresholds = Vec::new();
    for (i, r) in plan.requests.iter().enumerate() {
        let key = |k: &str| format!("requests[{i}].{k}");
        let method = Method::from_bytes(r.method.to_uppercase().as_bytes()).map_err(|_| InputError::BadFile {
            file: file.into(),
            message: format!("{}: '{}' is not an HTTP method", key("method"), r.method),
        })?;
        if !r.path.starts_with('/') {
            return Err(InputError::BadFile {
                file: file.into(),
                message: format!("{}: '{}' must start with /", key("path"), r.path),
            });
        }
        let mut headers = Vec::new();
        for (name, value) in &r.headers {
            let hk = key(&format!("headers.{name}"));
            let bad = |what: &str| InputError::BadFile { file: file.into(), message: format!("{hk}: {what}") };
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("not a valid header name"))?;
            let v = HeaderValue::from_str(&expand(value, &hk, file)?).map_err(|_| bad("not a valid header value"))?;
            headers.push((n, v));
        }
        for t in &r.slo {
            thresholds.push((i, t.text().to_string(), *t.value()));
        }
        let body = match (&r.body, &r.body_file) {
            (Some(_), Some(_)) => {
                return Err(InputError::BadFile {
                    file: file.into(),
                    message: format!("{} and {}: give one", key("body"), key("body_file")),
                })
            }
            (_, Some(path)) => body_file(path, &key("body_file"))?,
            (b, None) => Bytes::from(b.clone().unwrap_or_default()),
        };
        requests.push(Prepared {
            name: r.name.clone(),
            method,
            path: format!("{}{}", target.base, r.path),
            headers,
            body,
            expect: r.expect_status,
            weight: r.weight,
        });
    }
    Ok((requests, thresholds))
}

/// The largest request body read from a file: 64 MiB, sent from memory on every request.
pub const MAX_BODY_FILE: u64 = 64 * 1024 * 1024;

/// A request body from a file, bounded.
fn body_file(path: &std::path::Path, key: &str) -> Result<Bytes, InputError> {
    let bad = |message: String| InputError::BadFile {
        file: path.display().to_string(),
        message: format!("{key}: {message}"),
    };
    let size = std::fs::metadata(path).map_err(|e| bad(format!("cannot read it: {e}")))?.len();
    if size > MAX_BODY_FILE {
        return Err(bad(format!(
            "{:.1} MiB is larger than the 64 MiB a request body may be",
            size as f64 / 1_048_576.0
        )));
    }
    std::fs::read(path).map(Bytes::from).map_err(|e| bad(format!("cannot read it: {e}")))
}

pub(crate) fn redacted(plan: &LoadPlan) -> LoadPlan {
    let mut p = plan.clone();
    let journey_headers = p.journeys.iter_mut().flat_map(|j| j.steps.iter_mut().map(|s| &mut s.headers));
    for headers in p.requests.iter_mut().map(|r| &mut r.headers).chain(journey_headers) {
        for v in headers.values_mut() {
            if !(v.starts_with("${") && v.ends_with('}')) {
                *v = "<redacted>".into();
            }
        }
    }
    p
}

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Overrides the plan's target.
    pub target: Option<String>,
    /// Caps every step's rate, on top of the plan's own cap.
    pub max_rps: Option<f64>,
    /// The folder results.json (and a .hlog per step) is written to as each step ends; `None`
    /// writes nothing, for a caller that prints the results once the run is over.
    pub out: Option<PathBuf>,
    /// Draw a live progress line on standard error.
    pub progress: bool,
    /// Accept any TLS certificate (self-signed staging servers).
    pub insecure: bool,
    /// The command-line flags that replaced the plan's values, as given; recorded in results.
    pub overrides: Vec<String>,
    /// Run as one shard of a larger run (`--shard I/N --start-at T`).
    pub shard: Option<super::shard::ShardPlan>,
}

/// A plan resolved against its environment: everything a run needs, checked.
pub(crate) struct Resolved {
    pub url: String,
    /// The request mix, or journeys on goose.
    pub engine: Arc<dyn Engine>,
    /// The rotation and bounds the engine paces by.
    pub pacing: Arc<Pacing>,
    pub names: Vec<String>,
    pub overall: Vec<(String, Threshold)>,
    pub per_request: Vec<RequestThreshold>,
    pub profile: profile::Profile,
    pub abort: Option<AbortRule>,
    /// `expect.min_rps`.
    pub min_rps: Option<f64>,
    /// Where the target's utilization is read, checked.
    pub utilization: Option<super::utilization::Spec>,
}

/// Checks every key of the plan (target, caps, thresholds, requests, profile) before a request
/// is sent; each error names the key.
pub(crate) fn resolve(plan: &LoadPlan, file: &str, opts: &RunOptions) -> Result<Resolved> {
    let bad = |message: &str| InputError::BadFile { file: file.into(), message: message.into() };
    let url = opts.target.clone().or(plan.target.clone()).ok_or_else(|| {
        InputError::Usage(format!(
            "{file}: no target: pass --target http://HOST:PORT or set target = \"...\" in the plan"
        ))
    })?;
    let target = Target::parse(&url)?;
    let timeout = plan.timeout.value().0;
    if timeout.is_zero() {
        return Err(bad("timeout: must be above zero").into());
    }
    if plan.safety.max_in_flight == 0 {
        return Err(bad("safety.max_in_flight (--max-in-flight): must be at least 1").into());
    }
    let cap = match (plan.safety.max_rps.as_ref().map(|m| m.value().0), opts.max_rps) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if cap.is_some_and(|c| c <= 0.0) {
        return Err(bad("safety.max_rps (--max-rps): must be above zero").into());
    }
    let abort = plan.safety.abort.as_ref().map(|a| *a.value());
    let overall: Vec<(String, Threshold)> = plan.slo.iter().map(|t| (t.text().to_string(), *t.value())).collect();
    let (requests, per_request) = prepare(plan, &target, file)?;
    let journeys = journey::prepare(&plan.journeys, &target.base, file)?;
    let mut names: Vec<String> = requests.iter().map(|r| r.name.clone()).collect();
    let mut profile = profile::build(&plan.profile, file, cap)?;
    // A shard sends its part of the one schedule, with its part of the caps and the users.
    let slice = opts.shard.map(|s| s.slice).unwrap_or_default();
    let in_flight = slice.share(plan.safety.max_in_flight).max(1);
    if !slice.is_whole() {
        for step in &mut profile.steps {
            if let profile::Load::Closed { users } = step.load {
                step.load = profile::Load::Closed { users: slice.share(users) };
            }
        }
        // A shard sees only its part: whether an SLO failed is for `merge` to judge.
        profile.stop_on_slo_failure = false;
    }
    let mut http = Http::new(target, requests, timeout);
    if let Some(c) = &plan.connect_timeout {
        if c.value().0.is_zero() {
            return Err(bad("connect_timeout: must be above zero").into());
        }
        http.connect_timeout = c.value().0.min(timeout);
    }
    if let Some(m) = &plan.max_body {
        http.max_body = m.value().0;
    }
    http.follow_redirects = plan.follow_redirects;
    let insecure = opts.insecure || plan.insecure;
    // Journeys run on HTTP/1.1, each user on a connection of its own.
    http.version = match plan.http {
        HttpVersion::Http2 if !journeys.is_empty() => {
            return Err(bad("http = \"2\" (--http 2): journeys run on HTTP/1.1; use \"auto\" or \"1.1\", or a [[requests]] mix for HTTP/2").into())
        }
        _ if !journeys.is_empty() => HttpVersion::Http1,
        v => v,
    };
    let streams = plan.streams_per_connection.unwrap_or(crate::plan::DEFAULT_STREAMS);
    if streams == 0 {
        return Err(bad("streams_per_connection (--streams): must be at least 1").into());
    }
    // Slots for shared HTTP/2 connections only where HTTP/2 may be spoken: plain http speaks
    // it only when asked (h2c), since `auto` over plain http has no ALPN to negotiate with.
    if http.version == HttpVersion::Http2 || (http.version == HttpVersion::Auto && http.target.tls) {
        http.h2 = Arc::new(super::http::Pool::new(in_flight, streams));
    }
    if http.target.tls {
        let alpn: &[&[u8]] = match http.version {
            HttpVersion::Http1 => &[b"http/1.1"],
            HttpVersion::Http2 => &[b"h2"],
            HttpVersion::Auto => &[b"h2", b"http/1.1"],
        };
        http.tls = Some(super::tls::client_config(&plan.tls, insecure, alpn)?);
        http.server_name = Some(super::tls::server_name(&plan.tls, http.target.bare_host())?);
    } else if !plan.tls.is_empty() {
        return Err(bad(&format!(
            "[tls] settings (--cacert, --cert, --key, --system-roots, --sni) apply to an https target; {url} is plain http"
        ))
        .into());
    }
    http.connect_to = super::tls::connect_to(&plan.resolve, http.target.bare_host(), http.target.port)?;
    if !journeys.is_empty() && plan.tls.server_name.is_some() {
        return Err(bad("tls.server_name (--sni): journeys connect by the URL's host; give the target by name and send it to the address with resolve = [\"HOST:PORT:ADDRESS\"] (--resolve) instead").into());
    }
    let weights: Vec<u32> = http.requests.iter().map(|r| r.weight).collect();
    let mut pacing = Pacing::new(&weights, timeout, in_flight);
    pacing.max_rps = cap.map(|c| c / slice.count as f64);
    pacing.slice = slice;
    let pacing = Arc::new(pacing);
    let mix = Arc::new(RequestMix { http: Arc::new(http), pacing: pacing.clone() });
    let engine: Arc<dyn Engine> = if journeys.is_empty() {
        mix
    } else {
        let j = JourneyEngine::new(mix, journeys, insecure);
        names = j.names();
        Arc::new(Journeys(Arc::new(j)))
    };
    let min_rps = expect(plan, file, &profile)?;
    let utilization = match &plan.utilization {
        Some(u) => Some(
            super::utilization::Spec::from_plan(u)
                .map_err(|e| InputError::BadFile { file: file.into(), message: e.to_string() })?,
        ),
        None => None,
    };
    Ok(Resolved { url, engine, pacing, names, overall, per_request, profile, abort, min_rps, utilization })
}

/// `expect.min_rps`, which only a run that finds a capacity (stress, or a closed sweep) can meet.
fn expect(plan: &LoadPlan, file: &str, profile: &profile::Profile) -> Result<Option<f64>, InputError> {
    let bad = |message: String| InputError::BadFile { file: file.into(), message };
    let Some(min) = &plan.expect.min_rps else { return Ok(None) };
    if !profile.kind.finds_capacity() {
        return Err(bad(format!(
            "expect.min_rps: a {} profile finds no capacity to compare; use it with kind = \"stress\" or \"closed\", or write slo = [\"rps > {}\"]",
            profile.kind,
            min.text()
        )));
    }
    let v = min.value().0;
    if v <= 0.0 {
        return Err(bad("expect.min_rps: must be above zero".into()));
    }
    Ok(Some(v))
}

/// Checks everything a run would check of `plan` before sending a request (the fuzz tests and
/// `--dry-run`-like uses); `Ok` when it could run.
pub fn check(plan: &LoadPlan, file: &str) -> Result<()> {
    let opts = RunOptions {
        target: None,
        max_rps: None,
        out: None,
        progress: false,
        insecure: false,
        overrides: Vec::new(),
        shard: None,
    };
    resolve(plan, file, &opts).map(|_| ())
}
