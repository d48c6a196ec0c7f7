//! Service model files (`models/*.toml`): what a fleet is today and the rules it is planned by.
//!
//! Parsed strictly (unknown keys are errors that list the keys allowed), then checked key by
//! key; every message names the file, the key and what to write instead.

use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

pub use crate::artefact::plan::{Event, EventMonth};
use crate::error::InputError;

/// A share written as `40%` or `0.4`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
enum Share {
    Number(f64),
    Text(String),
}

impl Share {
    fn parse(self) -> Result<f64, String> {
        match self {
            Share::Number(v) if v.is_finite() => Ok(v),
            Share::Number(v) => Err(format!("expected a share such as 40% or 0.4, found {v}")),
            Share::Text(t) => {
                let t = t.trim().trim_end_matches("/month").trim_end_matches("/mo");
                match t.strip_suffix('%') {
                    Some(p) => p.trim().parse::<f64>().map(|v| (v / 100.0 * 1e12).round() / 1e12),
                    None => t.parse::<f64>(),
                }
                .map_err(|_| format!("expected a share such as 40% or 0.4, found '{t}'"))
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    service: RawService,
    current: RawCurrent,
    target: RawTarget,
    #[serde(default)]
    capacity: Option<RawCapacity>,
    #[serde(default)]
    growth: Option<RawGrowth>,
    #[serde(default)]
    resilience: Option<RawResilience>,
    #[serde(default)]
    events: Vec<RawEvent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCurrent {
    instances: i64,
    peak_rps: f64,
    utilization: Share,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    utilization: Share,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapacity {
    rps_per_instance: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrowth {
    monthly_rate: Share,
    #[serde(default)]
    worst_monthly_rate: Option<Share>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResilience {
    #[serde(default = "one")]
    failure_domains: i64,
    #[serde(default)]
    spare_instances: i64,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    name: String,
    month: EventMonth,
    multiplier: f64,
}

/// A checked service model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceModel {
    pub name: String,
    pub current_instances: u32,
    pub current_peak_rps: f64,
    pub current_utilization: f64,
    pub target_utilization: f64,
    /// `[capacity] rps_per_instance`, when given.
    pub rps_per_instance: Option<f64>,
    pub monthly_growth: Option<f64>,
    pub worst_monthly_growth: Option<f64>,
    pub failure_domains: u32,
    pub spare_instances: u32,
    pub events: Vec<Event>,
}

impl ServiceModel {
    /// Per-instance RPS at the target utilization: `rps_per_instance`, or
    /// peak / instances / current utilization × target.
    pub fn rps_per_instance_at_target(&self) -> f64 {
        self.rps_per_instance.unwrap_or(
            self.current_peak_rps / self.current_instances as f64 / self.current_utilization * self.target_utilization,
        )
    }
}

/// Reads and checks a model file.
pub fn load(path: &Path) -> Result<ServiceModel> {
    let file = crate::input::name(path);
    let text = crate::input::read_text(path, "the model file")?;
    parse(&text, &file).map_err(|e| crate::input::with_line(e.into(), &file, &text))
}

/// Parses and checks model text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<ServiceModel, InputError> {
    let raw: Raw =
        toml::from_str(text).map_err(|e| InputError::BadFile { file: file.into(), message: e.to_string() })?;
    let c = Check { file };
    c.current(&raw.current)?;
    let rps_per_instance = match raw.capacity {
        Some(cap) if !(cap.rps_per_instance > 0.0 && cap.rps_per_instance.is_finite()) => {
            return Err(
                c.bad("capacity.rps_per_instance", format!("must be a positive rate, found {}", cap.rps_per_instance))
            )
        }
        cap => cap.map(|cap| cap.rps_per_instance),
    };
    let (monthly_growth, worst_monthly_growth) = match raw.growth {
        Some(g) => (
            Some(c.growth_rate("growth.monthly_rate", g.monthly_rate)?),
            g.worst_monthly_rate.map(|w| c.growth_rate("growth.worst_monthly_rate", w)).transpose()?,
        ),
        None => (None, None),
    };
    let res = raw.resilience.unwrap_or(RawResilience { failure_domains: 1, spare_instances: 0 });
    c.resilience(&res)?;
    Ok(ServiceModel {
        name: raw.service.name,
        current_instances: raw.current.instances as u32,
        current_peak_rps: raw.current.peak_rps,
        current_utilization: c.share("current.utilization", raw.current.utilization, 1.0)?,
        target_utilization: c.share("target.utilization", raw.target.utilization, 1.0)?,
        rps_per_instance,
        monthly_growth,
        worst_monthly_growth,
        failure_domains: res.failure_domains as u32,
        spare_instances: res.spare_instances as u32,
        events: c.events(raw.events)?,
    })
}

/// The checks of a service model's values, each error naming its key.
struct Check<'a> {
    file: &'a str,
}

impl Check<'_> {
    fn bad(&self, key: &str, message: String) -> InputError {
        InputError::BadFile { file: self.file.into(), message: format!("{key}: {message}") }
    }

    /// A share above 0 and at most `hi`.
    fn share(&self, key: &str, s: Share, hi: f64) -> Result<f64, InputError> {
        let v = s.parse().map_err(|m| self.bad(key, m))?;
        if v > 0.0 && v <= hi {
            Ok(v)
        } else {
            Err(self.bad(key, format!("must be above 0% and at most {}%, found {}%", hi * 100.0, v * 100.0)))
        }
    }

    /// A monthly growth rate, above -100%.
    fn growth_rate(&self, key: &str, s: Share) -> Result<f64, InputError> {
        let v = s.parse().map_err(|m| self.bad(key, m))?;
        if v <= -1.0 {
            return Err(self.bad(key, format!("a monthly growth must be above -100%, found {}%", v * 100.0)));
        }
        Ok(v)
    }

    fn current(&self, current: &RawCurrent) -> Result<(), InputError> {
        if current.instances < 1 || current.instances > u32::MAX as i64 {
            return Err(self.bad(
                "current.instances",
                format!("must be a whole number of at least 1, found {}", current.instances),
            ));
        }
        if !(current.peak_rps > 0.0 && current.peak_rps.is_finite()) {
            return Err(self.bad("current.peak_rps", format!("must be a positive rate, found {}", current.peak_rps)));
        }
        Ok(())
    }

    fn resilience(&self, res: &RawResilience) -> Result<(), InputError> {
        if !(1..=1000).contains(&res.failure_domains) {
            return Err(self.bad(
                "resilience.failure_domains",
                format!("must be between 1 and 1000, found {}", res.failure_domains),
            ));
        }
        if !(0..=1_000_000).contains(&res.spare_instances) {
            return Err(
                self.bad("resilience.spare_instances", format!("must be 0 or more, found {}", res.spare_instances))
            );
        }
        Ok(())
    }

    fn events(&self, raw: Vec<RawEvent>) -> Result<Vec<Event>, InputError> {
        let mut events = Vec::new();
        for (i, e) in raw.into_iter().enumerate() {
            if !(e.multiplier > 0.0 && e.multiplier.is_finite()) {
                return Err(self.bad(
                    &format!("events[{i}].multiplier"),
                    format!("must be a positive factor such as 3, found {}", e.multiplier),
                ));
            }
            if e.month == EventMonth::Row(0) {
                return Err(self.bad(
                    &format!("events[{i}].month"),
                    "rows count from 1; write a row such as 5 or a month such as \"2026-11\"".into(),
                ));
            }
            events.push(Event { name: e.name, month: e.month, multiplier: e.multiplier });
        }
        Ok(events)
    }
}

/// A growth rate flag such as `15%/month`, `15%` or `0.15`; may be negative, above -100%.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Growth(pub f64);

impl std::str::FromStr for Growth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v = Share::Text(s.into()).parse()?;
        if v <= -1.0 {
            return Err(format!("a monthly growth must be above -100%, found '{s}'"));
        }
        Ok(Growth(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[service]
name = "api"
[current]
instances = 20
peak_rps = 10000
utilization = "40%"
[target]
utilization = 0.6
[growth]
monthly_rate = "10%/month"
[[events]]
name = "Sale"
month = "2026-11"
multiplier = 3
"#;

    #[test]
    fn derives_capacity_as_in_the_design() {
        let m = parse(GOOD, "m.toml").unwrap();
        assert!((m.rps_per_instance_at_target() - 750.0).abs() < 1e-9);
        assert_eq!(m.monthly_growth, Some(0.1));
        assert_eq!(m.events[0].month, EventMonth::Calendar("2026-11".parse().unwrap()));
        assert_eq!(m.failure_domains, 1);
    }

    #[test]
    fn unknown_keys_name_the_key_and_the_choices() {
        let e = parse(&GOOD.replace("instances = 20", "instance = 20"), "m.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("m.toml: ") && e.contains("unknown field `instance`") && e.contains("`instances`"),
            "{e}"
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = parse(&GOOD.replace("\"40%\"", "\"140%\""), "m.toml").unwrap_err().to_string();
        assert!(e.contains("current.utilization: must be above 0% and at most 100%, found 140%"), "{e}");
        let e = parse(&GOOD.replace("multiplier = 3", "multiplier = -3"), "m.toml").unwrap_err().to_string();
        assert!(e.contains("events[0].multiplier"), "{e}");
        let e = parse(&GOOD.replace("peak_rps = 10000", "peak_rps = -5"), "m.toml").unwrap_err().to_string();
        assert!(e.contains("current.peak_rps: must be a positive rate"), "{e}");
    }
}
