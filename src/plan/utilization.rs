//! A plan's `[utilization]`: where the target's utilization is read while it is loaded.

use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Given;
use crate::units::Span;

/// A series selector of the Prometheus text format: a metric name and label matchers (`=` and
/// `!=`), e.g. `node_cpu_seconds_total{mode!="idle"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub name: String,
    /// (label, equal (`=`) or not (`!=`), value)
    pub labels: Vec<(String, bool, String)>,
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

impl FromStr for Selector {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let (name, rest) = match t.find('{') {
            Some(i) => (&t[..i], Some(&t[i..])),
            None => (t, None),
        };
        if !is_name(name) {
            return Err(format!("'{text}': expected a metric name such as process_cpu_seconds_total"));
        }
        let mut labels = Vec::new();
        if let Some(rest) = rest {
            let inner = rest.strip_prefix('{').and_then(|r| r.strip_suffix('}')).ok_or_else(|| {
                format!("'{text}': label matchers go in braces, e.g. node_cpu_seconds_total{{mode!=\"idle\"}}")
            })?;
            for m in inner.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                let (label, equal, value) = if let Some((l, v)) = m.split_once("!=") {
                    (l, false, v)
                } else if let Some((l, v)) = m.split_once('=') {
                    (l, true, v)
                } else {
                    return Err(format!("'{m}' in '{text}': a matcher is label=\"value\" or label!=\"value\""));
                };
                let value = value
                    .trim()
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or_else(|| format!("'{m}' in '{text}': quote the value, e.g. mode!=\"idle\""))?;
                if !is_name(label.trim()) {
                    return Err(format!("'{m}' in '{text}': '{}' is not a label name", label.trim()));
                }
                labels.push((label.trim().to_string(), equal, value.to_string()));
            }
        }
        Ok(Selector { name: name.to_string(), labels })
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name)?;
        if !self.labels.is_empty() {
            let m: Vec<String> =
                self.labels.iter().map(|(l, eq, v)| format!("{l}{}\"{v}\"", if *eq { "=" } else { "!=" })).collect();
            write!(f, "{{{}}}", m.join(","))?;
        }
        Ok(())
    }
}

/// What 100% utilization is: a number (the target's cores, or workers), or a series of the
/// scraped endpoint that says it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum CapacitySpec {
    Number(f64),
    Metric(Given<Selector>),
}

/// `[utilization]`: one source, scraped or queried.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UtilizationSpec {
    /// A Prometheus text endpoint to scrape, e.g. "http://127.0.0.1:8080/metrics" (with `metric`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape: Option<String>,
    /// The series read from it, summed: a counter of busy seconds (`process_cpu_seconds_total`,
    /// `node_cpu_seconds_total{mode!="idle"}`, `headroom_sim_busy_seconds_total`) or a gauge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<Given<Selector>>,
    /// A Prometheus server's base URL to query instead (with `query`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<String>,
    /// PromQL whose value now (its series summed) is the target's utilization: a share of 1,
    /// unless `capacity` divides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// What 100% is: the target's cores or workers (a number), or a series of the scraped
    /// endpoint (e.g. "headroom_sim_workers"). A counter of busy seconds needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacitySpec>,
    /// How often to read it (default 1s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Given<Span>>,
}
