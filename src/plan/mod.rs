//! The load-plan language (`loadplans/*.toml`): the target, a weighted request mix or weighted
//! journeys, SLO thresholds, safety limits and one profile, which becomes steps and schedules.
//! Parsed strictly; every error names the file, the key and the fix, and inside a journey the
//! journey and the step as well.

pub mod profile;
mod spec;
pub mod targets;
pub mod template;
mod threshold;
pub mod utilization;

pub use threshold::{AbortRule, Metric, Op, Threshold, Unit};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::units::{ByteSize, Rate, Span};
use schemars::JsonSchema;

/// A value as the plan wrote it, parsed at the edge: the text is kept for results.json, the
/// value is what everything else uses. A bad value fails the plan's parse, naming its key and
/// line.
#[derive(Debug, Clone, PartialEq)]
pub struct Given<T> {
    text: String,
    value: T,
}

impl<T> Given<T> {
    /// The parsed value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The text as written.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl<T: std::fmt::Display> Given<T> {
    /// A value given in code (an ad-hoc run's flags), written as its type displays it.
    pub fn of(value: T) -> Given<T> {
        Given { text: value.to_string(), value }
    }
}

impl<T: FromStr> FromStr for Given<T>
where
    T::Err: std::fmt::Display,
{
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let value = text.parse::<T>().map_err(|e| e.to_string())?;
        Ok(Given { text: text.to_string(), value })
    }
}

impl<T> JsonSchema for Given<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Given".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "description": "as written in the plan" })
    }
}

impl<T> Serialize for Given<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de, T: FromStr> Deserialize<'de> for Given<T>
where
    T::Err: std::fmt::Display,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// A load plan as written.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadPlan {
    /// Base URL: `http://127.0.0.1:8080`. `--target` overrides it.
    #[serde(default)]
    pub target: Option<String>,
    /// Per-request timeout, e.g. `5s`.
    #[serde(default = "default_timeout")]
    pub timeout: Given<Span>,
    /// How long opening a connection may take, e.g. `2s` (default 5s, never above `timeout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<Given<Span>>,
    /// Response bodies past this size are not read and count as `body_too_large` (default 4MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body: Option<Given<ByteSize>>,
    /// Follow redirects to the target's own origin; by default a redirect is the response.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub follow_redirects: bool,
    /// Accept any TLS certificate (self-signed staging servers); `--insecure` too.
    #[serde(default)]
    pub insecure: bool,
    /// The HTTP version: `"1.1"` (the default), `"2"` (ALPN h2 over TLS, prior knowledge over
    /// plain http) or `"auto"` (h2 when the TLS server offers it); `--http`.
    #[serde(default, skip_serializing_if = "HttpVersion::is_default")]
    pub http: HttpVersion,
    /// Requests in flight on one HTTP/2 connection at most (default 100): `max_in_flight` over
    /// this many connections; `--streams`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams_per_connection: Option<usize>,
    /// Whom to trust and who to be over TLS, beyond the public roots: an internal CA, a client
    /// certificate, the system's store, another server name.
    #[serde(default, skip_serializing_if = "TlsSpec::is_empty")]
    pub tls: TlsSpec,
    /// `"host:port:address"` (as curl's `--resolve`): connections to the target's host and port
    /// go to this address, while the URL, the Host header and the certificate check keep the name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolve: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestSpec>,
    /// The request mix from a targets file instead of `[[requests]]`: `METHOD URL` entries with
    /// their headers and `@body` files, or JSON lines (see the README); its absolute URLs give the
    /// target when the plan has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<PathBuf>,
    /// Stateful user flows, run on goose; a plan has either requests or journeys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub journeys: Vec<JourneySpec>,
    #[serde(default)]
    pub slo: Vec<Given<Threshold>>,
    #[serde(default)]
    pub safety: Safety,
    /// What the run must show: the capacity a stress run or a sweep must reach.
    #[serde(default, skip_serializing_if = "Expect::is_empty")]
    pub expect: Expect,
    /// Where the target's utilization is read while it is loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization: Option<utilization::UtilizationSpec>,
    pub profile: ProfileSpec,
}

/// Which HTTP the request mix speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema, clap::ValueEnum)]
pub enum HttpVersion {
    /// HTTP/1.1: one request in flight per connection.
    #[default]
    #[serde(rename = "1.1")]
    #[value(name = "1.1")]
    Http1,
    /// HTTP/2: streams multiplexed on a few connections; h2 by ALPN over TLS, prior knowledge
    /// (h2c) over plain http.
    #[serde(rename = "2")]
    #[value(name = "2")]
    Http2,
    /// HTTP/2 when the TLS server offers h2 by ALPN, HTTP/1.1 otherwise (and over plain http).
    #[serde(rename = "auto")]
    #[value(name = "auto")]
    Auto,
}

impl HttpVersion {
    pub fn is_default(&self) -> bool {
        *self == HttpVersion::Http1
    }

    /// As a plan and `--http` write it.
    pub fn name(self) -> &'static str {
        match self {
            HttpVersion::Http1 => "1.1",
            HttpVersion::Http2 => "2",
            HttpVersion::Auto => "auto",
        }
    }
}

/// HTTP/2 streams per connection unless the plan says.
pub const DEFAULT_STREAMS: usize = 100;

/// TLS settings beyond the public roots. Relative paths are read from the plan's folder.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    /// A PEM bundle of CA certificates trusted beside the public roots (the company's internal
    /// CA); `--cacert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cacert: Option<PathBuf>,
    /// A client certificate (PEM, the chain after it) for servers that require one (mutual TLS);
    /// `--cert`, with `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1); `--key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// Trust the operating system's certificate store as well; `--system-roots`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub system_roots: bool,
    /// The name sent in SNI and checked against the certificate, when it is not the URL's host
    /// (a target given by address); `--sni`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
}

impl TlsSpec {
    pub fn is_empty(&self) -> bool {
        *self == TlsSpec::default()
    }
}

/// What a capacity-finding run (stress, or a closed sweep) must show.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The throughput the service must hold within its SLOs, e.g. `"300"`: a stress run's
    /// breaking point, or a sweep's best step, below it fails the run (exit 1).
    #[serde(default)]
    pub min_rps: Option<Given<Rate>>,
}

impl Expect {
    fn is_empty(&self) -> bool {
        self.min_rps.is_none()
    }
}

fn default_timeout() -> Given<Span> {
    "10s".parse().expect("a valid span")
}

/// One request of the mix.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    pub name: String,
    #[serde(default = "get")]
    pub method: String,
    pub path: String,
    #[serde(default = "one")]
    pub weight: u32,
    /// Header values may use `${VAR}` from the environment; values are never written to reports.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// The body read from this file (as bytes, up to 64 MiB) instead of `body`; a relative path
    /// is read from the plan's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_file: Option<PathBuf>,
    /// The status that counts as success; any 2xx when absent.
    #[serde(default)]
    pub expect_status: Option<u16>,
    /// Thresholds for this request alone, e.g. `["p99 < 200ms"]`.
    #[serde(default)]
    pub slo: Vec<Given<Threshold>>,
}

/// A journey: steps one user takes in order, each able to pass values to the next.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JourneySpec {
    pub name: String,
    #[serde(default = "one")]
    pub weight: u32,
    pub steps: Vec<JourneyStepSpec>,
}

/// One request of a journey. `path`, header values and `body` may use `${name}`: a value an
/// earlier step extracted, or else an environment variable.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JourneyStepSpec {
    pub name: String,
    #[serde(default = "get")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// The status that counts as success; any 2xx when absent.
    #[serde(default)]
    pub expect_status: Option<u16>,
    /// A pause after the step, before the next one, e.g. `"500ms"`.
    #[serde(default)]
    pub think: Option<Given<Span>>,
    /// Values to take from the response: `{ token = { json = "/token" } }`.
    #[serde(default)]
    pub extract: BTreeMap<String, ExtractSpec>,
}

/// Where a value comes from: exactly one of a JSON pointer into the body, a response header,
/// or a regex over the body (its first group, or the whole match).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

fn get() -> String {
    "GET".into()
}

fn one() -> u32 {
    1
}

/// Limits that protect the target.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Safety {
    /// No request is sent faster than this, whatever the profile says.
    #[serde(default)]
    pub max_rps: Option<Given<Rate>>,
    /// Requests in flight at most (also the number of connections).
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
    /// e.g. `"error_rate > 50% for 10s"`: stop the run to protect the target.
    #[serde(default)]
    pub abort: Option<Given<AbortRule>>,
}

fn default_in_flight() -> usize {
    256
}

impl Default for Safety {
    fn default() -> Self {
        Safety { max_rps: None, max_in_flight: default_in_flight(), abort: None }
    }
}

pub use spec::{Increment, ProfileSpec, StageSpec};

/// Reads a plan file.
pub fn load(path: &Path) -> Result<LoadPlan> {
    let file = path.display().to_string();
    let text = crate::input::read_text(path, "the load plan")?;
    let mut plan = parse(&text, &file)?;
    if !crate::files::is_stdout(path) {
        rebase(&mut plan, path.parent().unwrap_or(Path::new("")));
    }
    expand_targets(&mut plan, &file)?;
    Ok(plan)
}

/// A plan's `targets` file read into its request mix; its origin is the target unless the plan
/// names one, which it must then agree with.
pub fn expand_targets(plan: &mut LoadPlan, file: &str) -> Result<(), InputError> {
    let Some(path) = plan.targets.clone() else { return Ok(()) };
    let bad = |message: String| InputError::BadFile { file: file.into(), message };
    if !plan.requests.is_empty() {
        return Err(bad("targets and [[requests]]: a plan takes its request mix from one of them".into()));
    }
    let t = targets::read(&path)?;
    match (&plan.target, &t.origin) {
        (Some(mine), Some(theirs)) if mine.trim_end_matches('/') != theirs => {
            return Err(bad(format!(
                "targets: {} asks {theirs}, the plan's target is {mine}: remove target from the plan, or write paths in the file",
                path.display()
            )))
        }
        (None, Some(theirs)) => plan.target = Some(theirs.clone()),
        _ => {}
    }
    plan.requests = t.requests;
    Ok(())
}

/// The files a plan names by relative path (certificates, bodies, targets) are read from the
/// plan's own folder, wherever headroom runs.
fn rebase(plan: &mut LoadPlan, dir: &Path) {
    let at = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = dir.join(&*p);
        }
    };
    let tls = &mut plan.tls;
    for p in [&mut tls.cacert, &mut tls.cert, &mut tls.key, &mut plan.targets].into_iter().flatten() {
        at(p);
    }
    for p in plan.requests.iter_mut().filter_map(|r| r.body_file.as_mut()) {
        at(p);
    }
}

/// Parses plan text; `file` names it in errors, which give the line and the key of a bad value.
pub fn parse(text: &str, file: &str) -> Result<LoadPlan, InputError> {
    let bad = |message: String| InputError::BadFile { file: file.into(), message };
    let plan: LoadPlan = serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
        let path = e.path().to_string();
        let e = e.into_inner();
        let Some(span) = e.span() else { return bad(e.message().to_string()) };
        let within = enclosing_journey(text, span.start);
        let said = e.message().starts_with(&format!("{path}."));
        let key = if !within.is_empty() || path == "." || said { String::new() } else { format!("{path}: ") };
        let line = text[..span.start.min(text.len())].matches('\n').count() as u64 + 1;
        InputError::BadRow { file: file.into(), line, message: format!("{within}{key}{}", e.message()) }
    })?;
    match (plan.requests.is_empty() && plan.targets.is_none(), plan.journeys.is_empty()) {
        (true, true) => Err(bad("no [[requests]] and no [[journeys]]: add a request with name and path (e.g. \
             name = \"home\", path = \"/\"), a targets = \"FILE\" of requests, or a journey with name and [[journeys.steps]]"
            .into())),
        (false, false) => Err(bad("both [[requests]] and [[journeys]]: a plan runs one or the other; \
             move the single requests into a journey of one step, or into a plan of their own"
            .into())),
        _ => Ok(plan),
    }
}

/// `journey "checkout", step "login": ` when byte `at` of the plan lies inside a journey, so
/// that a parse error names the journey and the step as well as the key and line.
fn enclosing_journey(text: &str, at: usize) -> String {
    let (mut journey, mut step) = (None::<String>, None::<String>);
    let mut section = "";
    for line in text[..at.min(text.len())].lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = match line {
                "[[journeys]]" => "journey",
                "[[journeys.steps]]" => "step",
                _ if line.starts_with("[journeys.steps") || line.starts_with("[[journeys.steps.") => "step-sub",
                _ => "",
            };
            match section {
                "journey" => (journey, step) = (Some("?".into()), None),
                "step" => step = Some("?".into()),
                "" => (journey, step) = (None, None),
                _ => {}
            }
        } else if let Some(v) = line.strip_prefix("name").map(str::trim).and_then(|r| r.strip_prefix('=')) {
            let v = v.trim().trim_matches('"').to_string();
            match section {
                "journey" => journey = Some(v),
                "step" => step = Some(v),
                _ => {}
            }
        }
    }
    match (journey, step) {
        (Some(j), Some(s)) => format!("journey \"{j}\", step \"{s}\": "),
        (Some(j), None) => format!("journey \"{j}\": "),
        _ => String::new(),
    }
}

/// Parses a field with its type's parser, naming the key on failure.
pub fn field<T: FromStr>(file: &str, key: &str, value: &str) -> Result<T, InputError>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| InputError::BadFile { file: file.into(), message: format!("{key}: {e}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"
target = "http://127.0.0.1:8080"
[[requests]]
name = "home"
path = "/"
[profile]
kind = "load"
rate = "1k"
duration = "30s"
"#;

    #[test]
    fn parses_and_names_unknown_keys() {
        let p = parse(PLAN, "p.toml").unwrap();
        assert_eq!(p.requests[0].method, "GET");
        assert_eq!(p.safety.max_in_flight, 256);
        let e = parse(&PLAN.replace("rate = \"1k\"", "rat = \"1k\""), "p.toml").unwrap_err().to_string();
        assert!(e.starts_with("p.toml:8: profile.rat: unknown field `rat`"), "{e}");
        let e = parse(&PLAN.replace("kind = \"load\"", "kind = \"blast\""), "p.toml").unwrap_err().to_string();
        assert!(e.contains("blast") && e.contains("stress"), "{e}");
    }
}
