//! Resolving a plan against its environment before a request is sent: the target, caps,
//! thresholds, `${VAR}` references, requests or journeys, and the profile, each checked and each
//! error naming its key.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;

use super::engine::{Engine, Prepared, Target};
use super::journey::{self, driver::JourneyEngine};
use super::plan::{self, AbortRule, LoadPlan, Threshold};
use super::profile;
use super::runner::RunOptions;
use crate::error::InputError;

pub(crate) trait FilterReset {
    fn filter_reset(self) -> Self;
}

impl FilterReset for std::io::Result<()> {
    fn filter_reset(self) -> Self {
        match self {
            Err(e)
                if matches!(e.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted) =>
            {
                Ok(())
            }
            other => other,
        }
    }
}

/// Expands `${VAR}` from the environment.
fn expand(value: &str, key: &str, file: &str) -> Result<String, InputError> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').ok_or_else(|| InputError::BadFile {
            file: file.into(),
            message: format!("{key}: unclosed ${{ in '{value}'"),
        })?;
        let var = &rest[i + 2..i + end];
        let v = std::env::var(var).map_err(|_| InputError::BadFile {
            file: file.into(),
            message: format!("{key}: the environment variable {var} is not set: export it before the run"),
        })?;
        out.push_str(&v);
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
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
        for text in &r.slo {
            thresholds.push((i, text.clone(), plan::field::<Threshold>(file, &key("slo"), text)?));
        }
        requests.push(Prepared {
            name: r.name.clone(),
            method,
            path: format!("{}{}", target.base, r.path),
            headers,
            body: Bytes::from(r.body.clone().unwrap_or_default()),
            expect: r.expect_status,
            weight: r.weight,
        });
    }
    Ok((requests, thresholds))
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

/// A plan resolved against its environment: everything a run needs, checked.
pub(crate) struct Resolved {
    pub url: String,
    pub engine: Arc<Engine>,
    /// Journey plans run on goose; the engine above then only holds the target and limits.
    pub journeys: Option<Arc<JourneyEngine>>,
    pub names: Vec<String>,
    pub overall: Vec<(String, Threshold)>,
    pub per_request: Vec<RequestThreshold>,
    pub profile: profile::Profile,
    pub abort: Option<AbortRule>,
    /// `expect.min_rps`.
    pub min_rps: Option<f64>,
}

/// Checks every key of the plan (target, caps, thresholds, requests, profile) before a request
/// is sent; each error names the key.
pub(crate) fn resolve(plan: &LoadPlan, file: &str, opts: &RunOptions) -> Result<Resolved> {
    let url = opts.target.clone().or(plan.target.clone()).ok_or_else(|| {
        InputError::Usage(format!(
            "{file}: no target: pass --target http://HOST:PORT or set target = \"...\" in the plan"
        ))
    })?;
    let target = Target::parse(&url)?;
    let timeout = plan::secs(file, "timeout", &plan.timeout)?;
    if timeout <= 0.0 {
        return Err(InputError::BadFile { file: file.into(), message: "timeout: must be above zero".into() }.into());
    }
    if plan.safety.max_in_flight == 0 {
        return Err(InputError::BadFile {
            file: file.into(),
            message: "safety.max_in_flight (--max-in-flight): must be at least 1".into(),
        }
        .into());
    }
    let plan_cap = plan.safety.max_rps.as_deref().map(|m| plan::rate(file, "safety.max_rps", m)).transpose()?;
    let cap = match (plan_cap, opts.max_rps) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let abort = plan.safety.abort.as_deref().map(|a| plan::field::<AbortRule>(file, "safety.abort", a)).transpose()?;
    let overall: Vec<(String, Threshold)> = plan
        .slo
        .iter()
        .map(|t| Ok((t.clone(), plan::field::<Threshold>(file, "slo", t)?)))
        .collect::<Result<_, InputError>>()?;
    let (requests, per_request) = prepare(plan, &target, file)?;
    let journeys = journey::prepare(&plan.journeys, &target.base, file)?;
    let mut names: Vec<String> = requests.iter().map(|r| r.name.clone()).collect();
    let profile = profile::build(&plan.profile, file, cap)?;
    let mut engine = Engine::new(target, requests, Duration::from_secs_f64(timeout), plan.safety.max_in_flight);
    if let Some(c) = &plan.connect_timeout {
        let c = plan::secs(file, "connect_timeout", c)?;
        if c <= 0.0 {
            return Err(InputError::BadFile {
                file: file.into(),
                message: "connect_timeout: must be above zero".into(),
            }
            .into());
        }
        engine.connect_timeout = Duration::from_secs_f64(c.min(timeout));
    }
    if let Some(m) = &plan.max_body {
        engine.max_body = plan::field::<crate::units::ByteSize>(file, "max_body", m)?.0;
    }
    engine.follow_redirects = plan.follow_redirects;
    engine.max_rps = cap;
    let insecure = opts.insecure || plan.insecure;
    if engine.target.tls {
        engine.tls = Some(super::http::tls_config(insecure));
    }
    let engine = Arc::new(engine);
    let journeys = (!journeys.is_empty()).then(|| {
        let mut j = JourneyEngine::new(engine.clone(), journeys, insecure);
        j.follow_redirects = plan.follow_redirects;
        Arc::new(j)
    });
    if let Some(j) = &journeys {
        names = j.names();
    }
    let min_rps = expect(plan, file, &profile)?;
    Ok(Resolved { url, engine, journeys, names, overall, per_request, profile, abort, min_rps })
}

/// `expect.min_rps`, which only a run that finds a capacity (stress, or a closed sweep) can meet.
fn expect(plan: &LoadPlan, file: &str, profile: &profile::Profile) -> Result<Option<f64>, InputError> {
    let Some(text) = &plan.expect.min_rps else { return Ok(None) };
    if !matches!(profile.kind, "stress" | "closed") {
        return Err(InputError::BadFile {
            file: file.into(),
            message: format!(
                "expect.min_rps: a {} profile finds no capacity to compare; use it with kind = \"stress\" or \"closed\", or write slo = [\"rps > {text}\"]",
                profile.kind
            ),
        });
    }
    let v = plan::rate(file, "expect.min_rps", text)?;
    if v <= 0.0 {
        return Err(InputError::BadFile { file: file.into(), message: "expect.min_rps: must be above zero".into() });
    }
    Ok(Some(v))
}

/// Checks everything a run would check of `plan` before sending a request (the fuzz tests and
/// `--dry-run`-like uses); `Ok` when it could run.
pub fn check(plan: &LoadPlan, file: &str) -> Result<()> {
    let opts = RunOptions {
        target: None,
        max_rps: None,
        out: std::path::PathBuf::new(),
        progress: false,
        insecure: false,
        overrides: Vec::new(),
    };
    resolve(plan, file, &opts).map(|_| ())
}
