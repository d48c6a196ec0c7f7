//! A plan's `[profile]` as written. It is read as one plain table of typed keys, so that a bad
//! value is named by its key and line (serde's internally tagged enums lose both), and then
//! checked against its `kind`: each kind says which keys it needs and which it takes.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::profile::ProfileKind;
use super::Given;
use crate::units::{Rate, Span};
use schemars::JsonSchema;

/// How a stress run goes from one step's rate to the next: `+500` adds, `x1.5` multiplies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Increment {
    Add(f64),
    Times(f64),
}

impl Increment {
    /// The rate after `r`.
    pub fn next(self, r: f64) -> f64 {
        match self {
            Increment::Add(a) => r + a,
            Increment::Times(f) => r * f,
        }
    }
}

impl FromStr for Increment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if let Some(add) = t.strip_prefix('+') {
            let r = add.parse::<Rate>().map_err(|e| e.to_string())?.0;
            return if r > 0.0 {
                Ok(Increment::Add(r))
            } else {
                Err(format!("'{s}' adds nothing: write e.g. \"+500\""))
            };
        }
        if let Some(f) = t.strip_prefix(['x', '×']) {
            return f
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| *f > 1.0 && f.is_finite() && *f <= 1e6)
                .map(Increment::Times)
                .ok_or_else(|| format!("'{s}': a factor must be above 1, e.g. \"x1.5\""));
        }
        Err(format!("'{s}': write \"+500\" to add or \"x1.5\" to multiply"))
    }
}

impl std::fmt::Display for Increment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Increment::Add(a) => write!(f, "+{a}"),
            Increment::Times(x) => write!(f, "x{x}"),
        }
    }
}

/// One free stage.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    pub rate: Given<Rate>,
    pub duration: Given<Span>,
    #[serde(default)]
    pub ramp: bool,
}

/// The load shape, checked against its kind.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(try_from = "ProfileTable", into = "ProfileTable")]
#[schemars(with = "ProfileTable")]
pub enum ProfileSpec {
    /// A constant rate after a warm-up that is not recorded.
    Load { rate: Given<Rate>, duration: Given<Span>, warmup: Option<Given<Span>> },
    /// Rate steps until an SLO threshold fails, the target saturates, or `max` is reached.
    Stress { start: Given<Rate>, step: Given<Increment>, hold: Given<Span>, max: Given<Rate> },
    /// A long constant rate, analysed for drift over `window`s.
    Soak { rate: Given<Rate>, duration: Given<Span>, window: Option<Given<Span>> },
    /// Baseline, a ramp to the burst, the burst held, then the baseline again.
    Spike {
        baseline: Given<Rate>,
        burst: Given<Rate>,
        ramp: Option<Given<Span>>,
        hold: Given<Span>,
        before: Given<Span>,
        after: Given<Span>,
    },
    /// Free steps: each ramps from the previous rate when `ramp` is true.
    Stages { stages: Vec<StageSpec> },
    /// A concurrency sweep: N users each sending back to back, for `duration` per step.
    Closed { users: Vec<usize>, duration: Given<Span> },
}

/// `[profile]` as a table: its kind and every key any kind takes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileTable {
    pub kind: Option<ProfileKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Given<Rate>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Given<Span>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<Given<Span>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Given<Span>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Given<Rate>>,
    /// `"+500"` adds, `"x1.5"` multiplies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<Given<Increment>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Given<Span>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Given<Rate>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Given<Rate>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<Given<Rate>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp: Option<Given<Span>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Given<Span>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Given<Span>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<StageSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<usize>>,
}

impl ProfileTable {
    /// The keys given besides `kind`.
    fn given(&self) -> Vec<&'static str> {
        let keys = [
            ("rate", self.rate.is_some()),
            ("duration", self.duration.is_some()),
            ("warmup", self.warmup.is_some()),
            ("window", self.window.is_some()),
            ("start", self.start.is_some()),
            ("step", self.step.is_some()),
            ("hold", self.hold.is_some()),
            ("max", self.max.is_some()),
            ("baseline", self.baseline.is_some()),
            ("burst", self.burst.is_some()),
            ("ramp", self.ramp.is_some()),
            ("before", self.before.is_some()),
            ("after", self.after.is_some()),
            ("stages", self.stages.is_some()),
            ("users", self.users.is_some()),
        ];
        keys.iter().filter(|(_, given)| *given).map(|(k, _)| *k).collect()
    }
}

/// The keys each kind needs, and those it may take besides.
fn keys(kind: ProfileKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        ProfileKind::Load => (&["rate", "duration"], &["warmup"]),
        ProfileKind::Soak => (&["rate", "duration"], &["window"]),
        ProfileKind::Stress => (&["start", "step", "hold", "max"], &[]),
        ProfileKind::Spike => (&["baseline", "burst", "hold", "before", "after"], &["ramp"]),
        ProfileKind::Stages => (&["stages"], &[]),
        ProfileKind::Closed => (&["users", "duration"], &[]),
    }
}

/// Takes a key the checks below have proved present.
fn need<T>(v: Option<T>) -> T {
    v.expect("checked present against the kind's keys")
}

impl TryFrom<ProfileTable> for ProfileSpec {
    type Error = String;
    fn try_from(t: ProfileTable) -> Result<Self, String> {
        let kind = t.kind.ok_or("profile.kind: missing: one of load, stress, soak, spike, stages or closed")?;
        let (needed, optional) = keys(kind);
        let all = || needed.iter().chain(optional).copied().collect::<Vec<_>>().join(", ");
        if let Some(k) = t.given().into_iter().find(|k| !needed.contains(k) && !optional.contains(k)) {
            return Err(format!("profile.{k}: not a key of a {kind} profile, whose keys are kind, {}", all()));
        }
        if let Some(k) = needed.iter().find(|k| !t.given().contains(k)) {
            return Err(format!("profile.{k}: missing: a {kind} profile needs kind, {}", needed.join(", ")));
        }
        Ok(match kind {
            ProfileKind::Load => ProfileSpec::Load { rate: need(t.rate), duration: need(t.duration), warmup: t.warmup },
            ProfileKind::Soak => ProfileSpec::Soak { rate: need(t.rate), duration: need(t.duration), window: t.window },
            ProfileKind::Stress => {
                ProfileSpec::Stress { start: need(t.start), step: need(t.step), hold: need(t.hold), max: need(t.max) }
            }
            ProfileKind::Spike => ProfileSpec::Spike {
                baseline: need(t.baseline),
                burst: need(t.burst),
                ramp: t.ramp,
                hold: need(t.hold),
                before: need(t.before),
                after: need(t.after),
            },
            ProfileKind::Stages => ProfileSpec::Stages { stages: need(t.stages) },
            ProfileKind::Closed => ProfileSpec::Closed { users: need(t.users), duration: need(t.duration) },
        })
    }
}

impl From<ProfileSpec> for ProfileTable {
    fn from(p: ProfileSpec) -> ProfileTable {
        let t = ProfileTable::default();
        match p {
            ProfileSpec::Load { rate, duration, warmup } => {
                ProfileTable { kind: Some(ProfileKind::Load), rate: Some(rate), duration: Some(duration), warmup, ..t }
            }
            ProfileSpec::Soak { rate, duration, window } => {
                ProfileTable { kind: Some(ProfileKind::Soak), rate: Some(rate), duration: Some(duration), window, ..t }
            }
            ProfileSpec::Stress { start, step, hold, max } => ProfileTable {
                kind: Some(ProfileKind::Stress),
                start: Some(start),
                step: Some(step),
                hold: Some(hold),
                max: Some(max),
                ..t
            },
            ProfileSpec::Spike { baseline, burst, ramp, hold, before, after } => ProfileTable {
                kind: Some(ProfileKind::Spike),
                baseline: Some(baseline),
                burst: Some(burst),
                ramp,
                hold: Some(hold),
                before: Some(before),
                after: Some(after),
                ..t
            },
            ProfileSpec::Stages { stages } => {
                ProfileTable { kind: Some(ProfileKind::Stages), stages: Some(stages), ..t }
            }
            ProfileSpec::Closed { users, duration } => {
                ProfileTable { kind: Some(ProfileKind::Closed), users: Some(users), duration: Some(duration), ..t }
            }
        }
    }
}

impl ProfileSpec {
    /// Its kind.
    pub fn kind(&self) -> ProfileKind {
        match self {
            ProfileSpec::Load { .. } => ProfileKind::Load,
            ProfileSpec::Stress { .. } => ProfileKind::Stress,
            ProfileSpec::Soak { .. } => ProfileKind::Soak,
            ProfileSpec::Spike { .. } => ProfileKind::Spike,
            ProfileSpec::Stages { .. } => ProfileKind::Stages,
            ProfileSpec::Closed { .. } => ProfileKind::Closed,
        }
    }
}
