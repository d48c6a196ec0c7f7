//! Journeys: named, weighted sequences of requests that one user makes in order, each step able
//! to extract values (a JSON pointer, a header, a regex) that later steps use as `${name}`.
//! Resolved here, before any request is sent; every error names the journey, the step and the
//! key. The engine that runs them on goose is in [`driver`].

pub mod driver;
mod request;
pub mod summary;

use std::collections::BTreeMap;
use std::time::Duration;

use goose::prelude::GooseMethod;

use crate::error::InputError;
use crate::plan::{ExtractSpec, JourneySpec, JourneyStepSpec};

/// A journey ready to run.
#[derive(Debug, Clone)]
pub struct Journey {
    pub name: String,
    pub weight: u32,
    pub steps: Vec<JourneyStep>,
    /// The variables its steps extract, by slot.
    pub vars: Vec<String>,
}

/// One request of a journey.
#[derive(Debug, Clone)]
pub struct JourneyStep {
    /// `journey/step`, the name its samples are recorded under.
    pub name: String,
    pub method: GooseMethod,
    pub path: Template,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Template>,
    pub expect: Option<u16>,
    pub think: Option<Duration>,
    pub extract: Vec<(usize, String, Extract)>,
}

impl Journey {
    /// Every value its steps take from the environment.
    pub fn secrets(&self) -> Vec<String> {
        let templates = self
            .steps
            .iter()
            .flat_map(|s| std::iter::once(&s.path).chain(s.headers.iter().map(|(_, t)| t)).chain(s.body.as_ref()));
        templates.flat_map(|t| t.secrets().map(str::to_string)).collect()
    }
}

pub use crate::plan::template::{redact, Template};

/// Where a step takes a value from.
#[derive(Debug, Clone)]
pub enum Extract {
    /// A JSON pointer (RFC 6901) into the body; strings are taken as they are, other values as JSON.
    Json(String),
    Header(String),
    /// The first capture group, or the whole match when the regex has none.
    Regex(regex::Regex),
}

impl Extract {
    /// The value from a response, or why there is none.
    pub fn apply(&self, headers: &[(String, String)], body: &[u8]) -> Result<String, String> {
        match self {
            Extract::Json(pointer) => {
                let doc: serde_json::Value =
                    serde_json::from_slice(body).map_err(|e| format!("the body is not JSON ({e})"))?;
                match doc.pointer(pointer) {
                    Some(serde_json::Value::String(s)) => Ok(s.clone()),
                    Some(serde_json::Value::Null) | None => Err(format!("the JSON body has no value at {pointer}")),
                    Some(v) => Ok(v.to_string()),
                }
            }
            Extract::Header(name) => headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("the response has no {name} header")),
            Extract::Regex(re) => {
                let text = String::from_utf8_lossy(body);
                let caps = re.captures(&text).ok_or_else(|| format!("the body does not match /{}/", re.as_str()))?;
                Ok(caps.get(1).or_else(|| caps.get(0)).map_or(String::new(), |m| m.as_str().to_string()))
            }
        }
    }

    /// The header a step must keep from its response, if this reads one.
    pub fn header(&self) -> Option<&str> {
        match self {
            Extract::Header(h) => Some(h),
            _ => None,
        }
    }
}

/// Resolves the plan's journeys against the target's base path; `${name}` that no earlier step
/// extracts is taken from the environment when set there.
pub fn prepare(specs: &[JourneySpec], base: &str, file: &str) -> Result<Vec<Journey>, InputError> {
    let mut seen = BTreeMap::new();
    specs
        .iter()
        .enumerate()
        .map(|(ji, spec)| {
            let at = |key: &str| format!("journeys[{ji}] \"{}\": {key}", spec.name);
            let bad = |key: &str, why: String| InputError::BadFile {
                file: file.into(),
                message: format!("{}: {why}", at(key)),
            };
            if let Some(first) = seen.insert(spec.name.clone(), ji) {
                return Err(bad("name", format!("journeys[{first}] has the same name: give each journey its own")));
            }
            if spec.steps.is_empty() {
                return Err(bad("steps", "no steps: add [[journeys.steps]] with a name and a path".into()));
            }
            let mut vars: Vec<String> = Vec::new();
            let mut steps = Vec::new();
            for (si, s) in spec.steps.iter().enumerate() {
                let at = |key: &str| format!("step {} \"{}\": {key}", si + 1, s.name);
                let bad = |key: &str, why: String| bad(&at(key), why);
                steps.push(step(spec, s, base, &mut vars, &bad)?);
            }
            Ok(Journey { name: spec.name.clone(), weight: spec.weight, steps, vars })
        })
        .collect()
}

fn step(
    journey: &JourneySpec,
    s: &JourneyStepSpec,
    base: &str,
    vars: &mut Vec<String>,
    bad: &dyn Fn(&str, String) -> InputError,
) -> Result<JourneyStep, InputError> {
    let method = match s.method.to_uppercase().as_str() {
        "GET" => GooseMethod::Get,
        "POST" => GooseMethod::Post,
        "PUT" => GooseMethod::Put,
        "PATCH" => GooseMethod::Patch,
        "DELETE" => GooseMethod::Delete,
        "HEAD" => GooseMethod::Head,
        m => return Err(bad("method", format!("'{m}' is not one of GET, POST, PUT, PATCH, DELETE, HEAD"))),
    };
    if !s.path.starts_with('/') {
        return Err(bad("path", format!("'{}' must start with /", s.path)));
    }
    // Values extracted by this step are usable from the next one on.
    let template = |key: &str, text: &str| parse_template(text, vars, journey, s).map_err(|why| bad(key, why));
    let path = template("path", &format!("{base}{}", s.path))?;
    let headers = s
        .headers
        .iter()
        .map(|(k, v)| {
            let key = format!("headers.{k}");
            hyper::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| bad(&key, "not a valid header name".into()))?;
            Ok((k.clone(), template(&key, v)?))
        })
        .collect::<Result<Vec<_>, InputError>>()?;
    let body = s.body.as_deref().map(|b| template("body", b)).transpose()?;
    let think = s.think.as_ref().map(|t| t.value().0);
    let mut extract = Vec::new();
    for (var, spec) in &s.extract {
        let key = format!("extract.{var}");
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad(&key, "a variable name is letters, digits and _".into()));
        }
        let how = extraction(spec).map_err(|why| bad(&key, why))?;
        let slot = vars.iter().position(|v| v == var).unwrap_or_else(|| {
            vars.push(var.clone());
            vars.len() - 1
        });
        extract.push((slot, var.clone(), how));
    }
    Ok(JourneyStep {
        name: format!("{}/{}", journey.name, s.name),
        method,
        path,
        headers,
        body,
        expect: s.expect_status,
        think,
        extract,
    })
}

fn extraction(spec: &ExtractSpec) -> Result<Extract, String> {
    match (&spec.json, &spec.header, &spec.regex) {
        (Some(p), None, None) if p.is_empty() || p.starts_with('/') => Ok(Extract::Json(p.clone())),
        (Some(p), None, None) => Err(format!("'{p}' is not a JSON pointer: write it from the root, e.g. \"/token\"")),
        (None, Some(h), None) => Ok(Extract::Header(h.clone())),
        (None, None, Some(r)) => {
            regex::Regex::new(r).map(Extract::Regex).map_err(|e| format!("'{r}' is not a regex: {e}"))
        }
        _ => Err("give exactly one of json = \"/pointer\", header = \"Name\" or regex = \"…\"".into()),
    }
}

/// Splits `${name}` holes out of `text`: a variable an earlier step extracted, or else the
/// environment's value.
fn parse_template(
    text: &str,
    vars: &[String],
    journey: &JourneySpec,
    step: &JourneyStepSpec,
) -> Result<Template, String> {
    Template::parse(text, vars, &|name| {
        let later = journey.steps.iter().find(|s| s.extract.contains_key(name));
        match later {
            Some(s) if s.name == step.name => format!(
                "${{{name}}} is extracted by this same step, so it is not known yet when the request is sent: \
                 use it from the next step on"
            ),
            Some(s) => format!(
                "${{{name}}} is extracted by step \"{}\", which comes later: move the extraction earlier",
                s.name
            ),
            None => format!(
                "${{{name}}} is neither extracted by an earlier step nor set in the environment: add \
                 extract.{name} = {{ json = \"/…\" }} to an earlier step, or export {name}"
            ),
        }
    })
}

#[cfg(test)]
mod tests;
