//! `headroom run`'s flags as a plan: an ad-hoc one-step plan when there is no plan file, and
//! with one, the flags that replace its values (each recorded) or that it refuses.

use std::collections::BTreeMap;
use std::time::Duration;

use super::RunArgs;
use crate::error::InputError;
use crate::plan::utilization::{CapacitySpec, UtilizationSpec};
use crate::plan::{Expect, Given, HttpVersion, LoadPlan, ProfileSpec, RequestSpec, Safety, Threshold, TlsSpec};
use crate::units::Span;

const DEFAULT_DURATION: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_IN_FLIGHT: usize = 256;

fn slo(args: &RunArgs) -> Result<Vec<Given<Threshold>>, InputError> {
    args.slo.iter().map(|t| t.parse().map_err(|e| InputError::Usage(format!("--slo: {e}")))).collect()
}

/// The `--header` flags, each 'Name: value' or @FILE of such lines (blank lines and # comments
/// skipped).
fn headers(args: &RunArgs) -> Result<BTreeMap<String, String>, InputError> {
    let mut headers = BTreeMap::new();
    for h in &args.headers {
        if let Some(path) = h.strip_prefix('@') {
            let text = std::fs::read_to_string(path)
                .map_err(|e| InputError::Usage(format!("--header @{path}: cannot read it: {e}")))?;
            for (n, line) in text.lines().enumerate() {
                let l = line.trim();
                if l.is_empty() || l.starts_with('#') {
                    continue;
                }
                let (k, v) = l.split_once(':').ok_or_else(|| InputError::BadRow {
                    file: path.to_string(),
                    line: n as u64 + 1,
                    message: format!("'{}': write a header as 'Name: value'", crate::error::quote(l)),
                })?;
                headers.insert(k.trim().to_string(), v.trim().to_string());
            }
            continue;
        }
        let (k, v) =
            h.split_once(':').ok_or_else(|| InputError::Usage(format!("--header '{h}': write it as 'Name: value'")))?;
        headers.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(headers)
}

/// The ad-hoc request mix and its origin: the targets file's, or the one request of the flags.
fn ad_hoc_requests(args: &RunArgs) -> Result<(Vec<RequestSpec>, String), InputError> {
    if let Some(file) = &args.targets {
        let t = crate::plan::targets::read(file)?;
        let origin = match (&args.target, t.origin) {
            (Some(url), _) => url.trim_end_matches('/').to_string(),
            (None, Some(origin)) => origin,
            (None, None) => {
                return Err(InputError::Usage(format!(
                    "--targets {}: its entries are paths: give the host with --target URL",
                    file.display()
                )))
            }
        };
        let mut requests = t.requests;
        let extra = headers(args)?;
        for r in &mut requests {
            r.headers.extend(extra.clone());
        }
        return Ok((requests, origin));
    }
    let url = args
        .target
        .clone()
        .ok_or_else(|| InputError::Usage("give a plan, or --target URL with --rate or --users".into()))?;
    let (origin, path) = match url.find("://").map(|i| i + 3).and_then(|i| url[i..].find('/').map(|j| i + j)) {
        Some(p) => (url[..p].to_string(), url[p..].to_string()),
        None => (url.clone(), "/".to_string()),
    };
    let method = args.method.clone().unwrap_or_else(|| "GET".into());
    let (body, body_file) = match args.body.as_deref().map(|b| (b, b.strip_prefix('@'))) {
        Some((_, Some(file))) => (None, Some(std::path::absolute(file).unwrap_or_else(|_| file.into()))),
        Some((b, None)) => (Some(b.to_string()), None),
        None => (None, None),
    };
    let request = RequestSpec {
        name: format!("{} {path}", method.to_uppercase()),
        method,
        path,
        weight: 1,
        headers: headers(args)?,
        body,
        body_file,
        expect_status: None,
        slo: Vec::new(),
    };
    Ok((vec![request], origin))
}

/// The one-step plan of an ad-hoc run, and its origin as the target.
pub fn ad_hoc(args: &RunArgs) -> Result<(LoadPlan, Option<String>), InputError> {
    let (requests, origin) = ad_hoc_requests(args)?;
    let duration = args.duration.clone().unwrap_or_else(|| Given::of(Span(DEFAULT_DURATION)));
    let profile = match (&args.rate, args.users) {
        (Some(r), None) => ProfileSpec::Load { rate: r.clone(), duration, warmup: args.warmup.clone() },
        (None, Some(u)) => {
            if args.warmup.is_some() {
                return Err(InputError::Usage("--warmup goes with --rate: a closed step has no warm-up".into()));
            }
            ProfileSpec::Closed { users: vec![u], duration }
        }
        _ => return Err(InputError::Usage("an ad-hoc run needs --rate (open model) or --users (closed model)".into())),
    };
    let mut plan = LoadPlan {
        target: Some(origin.clone()),
        timeout: args.timeout.clone().unwrap_or_else(|| Given::of(Span(DEFAULT_TIMEOUT))),
        connect_timeout: args.connect_timeout.clone(),
        max_body: args.max_body.clone(),
        follow_redirects: args.follow_redirects,
        insecure: args.insecure,
        http: HttpVersion::default(),
        streams_per_connection: None,
        tls: TlsSpec::default(),
        resolve: Vec::new(),
        requests,
        targets: args.targets.clone(),
        journeys: Vec::new(),
        slo: slo(args)?,
        safety: Safety { max_rps: None, max_in_flight: args.max_in_flight.unwrap_or(DEFAULT_IN_FLIGHT), abort: None },
        expect: Expect::default(),
        utilization: utilization(args, None)?,
        profile,
    };
    tls_flags(args, &mut plan, &mut Vec::new());
    Ok((plan, Some(origin)))
}

fn refused(flag: &str, instead: &str) -> InputError {
    InputError::Usage(format!("{flag} does not apply to a plan: {instead}"))
}

/// Applies the flags given beside a plan to it, returning each as it was given; a flag the plan
/// has no single value for stops the run, naming the plan key to edit instead.
pub fn apply(args: &RunArgs, plan: &mut LoadPlan) -> Result<Vec<String>, InputError> {
    if args.method.is_some() {
        return Err(refused("--method", "set method in each [[requests]] of the plan"));
    }
    if args.body.is_some() {
        return Err(refused("--body", "set body (or body_file) in each [[requests]] of the plan"));
    }
    if args.targets.is_some() {
        return Err(refused("--targets", "set targets = \"FILE\" in the plan instead of its [[requests]]"));
    }
    let mut given = Vec::new();
    profile_flags(args, plan, &mut given)?;
    if let Some(t) = &args.timeout {
        plan.timeout = t.clone();
        given.push(format!("--timeout {}", t.text()));
    }
    if let Some(c) = &args.connect_timeout {
        plan.connect_timeout = Some(c.clone());
        given.push(format!("--connect-timeout {}", c.text()));
    }
    if let Some(b) = &args.max_body {
        plan.max_body = Some(b.clone());
        given.push(format!("--max-body {}", b.text()));
    }
    if args.follow_redirects {
        plan.follow_redirects = true;
        given.push("--follow-redirects".into());
    }
    if let Some(n) = args.max_in_flight {
        plan.safety.max_in_flight = n;
        given.push(format!("--max-in-flight {n}"));
    }
    if !args.slo.is_empty() {
        plan.slo = slo(args)?;
        given.extend(args.slo.iter().map(|t| format!("--slo '{t}'")));
    }
    header_flags(args, plan, &mut given)?;
    if args.insecure {
        given.push("--insecure".into());
    }
    tls_flags(args, plan, &mut given);
    if let Some(r) = args.max_rps {
        given.push(format!("--max-rps {}", r.0));
    }
    if let Some(u) = utilization(args, plan.utilization.as_ref())? {
        given.extend(utilization_given(args));
        plan.utilization = Some(u);
    }
    if let Some(t) = &args.target {
        given.push(format!("--target {t}"));
    }
    Ok(given)
}

/// `--http`, `--http2`, `--streams`, `--cacert`, `--cert`, `--key`, `--system-roots`, `--sni`
/// and `--resolve`. A path on the command line is read from where headroom runs, as the plan's
/// own are from its folder.
fn tls_flags(args: &RunArgs, plan: &mut LoadPlan, given: &mut Vec<String>) {
    if let Some(v) = args.http.or(args.http2.then_some(HttpVersion::Http2)) {
        plan.http = v;
        given.push(if args.http2 { "--http2".into() } else { format!("--http {}", v.name()) });
    }
    if let Some(n) = args.streams {
        plan.streams_per_connection = Some(n);
        given.push(format!("--streams {n}"));
    }
    let here = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let tls = &mut plan.tls;
    for (flag, value, key) in [
        ("--cacert", &args.cacert, &mut tls.cacert),
        ("--cert", &args.cert, &mut tls.cert),
        ("--key", &args.key, &mut tls.key),
    ] {
        if let Some(p) = value {
            *key = Some(here(p));
            given.push(format!("{flag} {}", p.display()));
        }
    }
    if args.system_roots {
        tls.system_roots = true;
        given.push("--system-roots".into());
    }
    if let Some(name) = &args.sni {
        tls.server_name = Some(name.clone());
        given.push(format!("--sni {name}"));
    }
    if !args.resolve.is_empty() {
        plan.resolve = args.resolve.clone();
        given.extend(args.resolve.iter().map(|r| format!("--resolve {r}")));
    }
}

/// `--duration` and `--warmup`, where the profile has one.
fn profile_flags(args: &RunArgs, plan: &mut LoadPlan, given: &mut Vec<String>) -> Result<(), InputError> {
    if let Some(d) = args.duration.clone() {
        match &mut plan.profile {
            ProfileSpec::Load { duration, .. } | ProfileSpec::Soak { duration, .. } | ProfileSpec::Closed { duration, .. } => {
                *duration = d.clone()
            }
            _ => {
                return Err(refused(
                    "--duration",
                    "a stress, spike or stages profile has one per step: set profile.hold, before/after or stages[].duration",
                ))
            }
        }
        given.push(format!("--duration {}", d.text()));
    }
    if let Some(w) = &args.warmup {
        let ProfileSpec::Load { warmup, .. } = &mut plan.profile else {
            return Err(refused("--warmup", "only a load profile has a warm-up (profile.warmup)"));
        };
        *warmup = Some(w.clone());
        given.push(format!("--warmup {}", w.text()));
    }
    Ok(())
}

/// `--header`, added to every request and journey step.
fn header_flags(args: &RunArgs, plan: &mut LoadPlan, given: &mut Vec<String>) -> Result<(), InputError> {
    let extra = headers(args)?;
    for (k, v) in &extra {
        for h in plan
            .requests
            .iter_mut()
            .map(|r| &mut r.headers)
            .chain(plan.journeys.iter_mut().flat_map(|j| j.steps.iter_mut().map(|s| &mut s.headers)))
        {
            h.insert(k.clone(), v.clone());
        }
        given.push(format!("--header '{k}: …'"));
    }
    Ok(())
}

/// The `--utilization-*` flags over the plan's `[utilization]` (`None` when neither names one):
/// a flag's source replaces the plan's, and its capacity or interval replaces that key.
fn utilization(args: &RunArgs, plan: Option<&UtilizationSpec>) -> Result<Option<UtilizationSpec>, InputError> {
    let given = args.utilization_scrape.is_some()
        || args.utilization_prometheus.is_some()
        || args.utilization_capacity.is_some()
        || args.utilization_interval.is_some();
    if !given {
        return Ok(plan.cloned());
    }
    let mut u = plan.cloned().unwrap_or_default();
    if args.utilization_scrape.is_some() || args.utilization_prometheus.is_some() {
        u.scrape = args.utilization_scrape.clone();
        u.metric = args.utilization_metric.clone();
        u.prometheus = args.utilization_prometheus.clone();
        u.query = args.utilization_query.clone();
    }
    if let Some(c) = &args.utilization_capacity {
        u.capacity = Some(match c.trim().parse::<f64>() {
            Ok(n) => CapacitySpec::Number(n),
            Err(_) => CapacitySpec::Metric(
                c.parse().map_err(|e: String| InputError::Usage(format!("--utilization-capacity {e}")))?,
            ),
        });
    }
    if let Some(i) = &args.utilization_interval {
        u.interval = Some(i.clone());
    }
    if u.scrape.is_none() && u.prometheus.is_none() {
        return Err(InputError::Usage(
            "--utilization-capacity and --utilization-interval need a source: --utilization-scrape URL --utilization-metric SERIES, or --utilization-prometheus URL --utilization-query PROMQL (or a [utilization] in the plan)".into(),
        ));
    }
    Ok(Some(u))
}

/// The `--utilization-*` flags as given, for the results' overrides.
fn utilization_given(args: &RunArgs) -> Vec<String> {
    let mut given = Vec::new();
    let mut push = |flag: &str, v: Option<String>| {
        if let Some(v) = v {
            given.push(format!("{flag} '{v}'"));
        }
    };
    push("--utilization-scrape", args.utilization_scrape.clone());
    push("--utilization-metric", args.utilization_metric.as_ref().map(|m| m.text().to_string()));
    push("--utilization-prometheus", args.utilization_prometheus.clone());
    push("--utilization-query", args.utilization_query.clone());
    push("--utilization-capacity", args.utilization_capacity.clone());
    push("--utilization-interval", args.utilization_interval.as_ref().map(|i| i.text().to_string()));
    given
}
