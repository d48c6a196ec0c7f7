//! Profiles become steps, and an open step's arrival rate becomes a schedule of intended send
//! times. A rate ramping linearly from a to b over T has N(t) = a·t + (b − a)·t²/(2T) arrivals by
//! t; the k-th request (from 0) is due at the t with N(t) = k.

use serde::{Deserialize, Serialize};

use super::{Given, Increment, ProfileSpec, StageSpec};
use crate::error::InputError;
use crate::units::{Rate, Span};
use schemars::JsonSchema;

/// What drives a step: a schedule of arrivals, or users sending back to back.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Load {
    /// Arrivals on a schedule; see [`Pacer`].
    Open(Ramp),
    /// `users` sending back to back, no think time.
    Closed { users: usize },
}

/// An open load shape: when each of a step's arrivals is due. A new shape is a type that
/// implements it, held by a variant of [`Load`]; everything downstream (the timeline, the
/// engines, the analysis) asks the step's load, never the shape itself.
pub trait Pacer {
    /// N(t): arrivals due by `t` seconds into a step of `duration_s`.
    fn due_by(&self, t: f64, duration_s: f64) -> f64;
    /// When arrival `k` (from 0) is due, seconds into the step: the t with N(t) = k.
    fn offset_s(&self, k: u64, duration_s: f64) -> f64;
    /// The arrival rate at the end of the step.
    fn final_rps(&self) -> f64;
    /// Whether the rate stays the same over the step.
    fn is_constant(&self) -> bool;
}

/// Arrivals at a rate ramping linearly from `from_rps` to `to_rps` (equal: constant).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Ramp {
    pub from_rps: f64,
    pub to_rps: f64,
}

impl Pacer for Ramp {
    fn due_by(&self, t: f64, duration_s: f64) -> f64 {
        let (a, b) = (self.from_rps, self.to_rps);
        a * t + (b - a) * t * t / (2.0 * duration_s)
    }

    fn offset_s(&self, k: u64, duration_s: f64) -> f64 {
        let (a, b, k) = (self.from_rps, self.to_rps, k as f64);
        if (b - a).abs() < 1e-12 {
            return k / a;
        }
        let c = (b - a) / duration_s;
        // (c/2)·t² + a·t − k = 0, the positive root, written to avoid cancellation.
        2.0 * k / (a + (a * a + 2.0 * c * k).sqrt())
    }

    fn final_rps(&self) -> f64 {
        self.to_rps
    }

    fn is_constant(&self) -> bool {
        (self.from_rps - self.to_rps).abs() < 1e-9
    }
}

/// What a step is for, which decides how it is analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Warmup,
    Measure,
    Baseline,
    Ramp,
    Burst,
    Recovery,
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub name: String,
    pub load: Load,
    pub duration_s: f64,
    pub role: Role,
}

/// Which profile a plan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    Load,
    Stress,
    Soak,
    Spike,
    Stages,
    Closed,
}

impl ProfileKind {
    /// Its name in plans and results: `load`, `stress`, ...
    pub fn name(self) -> &'static str {
        match self {
            ProfileKind::Load => "load",
            ProfileKind::Stress => "stress",
            ProfileKind::Soak => "soak",
            ProfileKind::Spike => "spike",
            ProfileKind::Stages => "stages",
            ProfileKind::Closed => "closed",
        }
    }

    /// Whether its runs find a capacity (a breaking point, or a sweep's best step).
    pub fn finds_capacity(self) -> bool {
        matches!(self, ProfileKind::Stress | ProfileKind::Closed)
    }
}

impl std::fmt::Display for ProfileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The steps of a profile and how to run them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub kind: ProfileKind,
    pub steps: Vec<Step>,
    /// Stress: stop at the first step that fails an SLO threshold.
    pub stop_on_slo_failure: bool,
    /// The steps share one timeline (open steps that follow each other without a pause).
    pub continuous: bool,
    /// Soak: the window drift is measured over, seconds.
    pub drift_window_s: Option<f64>,
}

impl Load {
    /// The schedule of an open step; `None` for a closed one.
    pub fn pacer(&self) -> Option<&dyn Pacer> {
        match self {
            Load::Open(ramp) => Some(ramp),
            Load::Closed { .. } => None,
        }
    }

    /// Whether workers send back to back (closed) rather than at scheduled times (open).
    pub fn is_closed(&self) -> bool {
        self.pacer().is_none()
    }

    /// The users of a closed step.
    pub fn users(&self) -> Option<usize> {
        match *self {
            Load::Closed { users } => Some(users),
            Load::Open(_) => None,
        }
    }

    /// Whether the rate stays the same over the step (closed steps keep their users).
    pub fn is_constant(&self) -> bool {
        self.pacer().is_none_or(|p| p.is_constant())
    }

    /// Workers a phase that starts with this step takes, at most `max_in_flight`: one per user,
    /// or, open, one per request in flight up to the limit (never more than the `total`
    /// scheduled).
    pub fn workers(&self, max_in_flight: usize, total: u64) -> usize {
        let max = max_in_flight.max(1);
        self.users().map_or(max.min(total.max(1) as usize), |users| users.min(max))
    }

    /// The arrival rate at the end of the step (or `None` for a closed step).
    pub fn target_rps(&self) -> Option<f64> {
        self.pacer().map(|p| p.final_rps())
    }

    /// The mean arrival rate the schedule asks for over a step (the middle of a ramp).
    pub fn mean_rps(&self, duration_s: f64) -> Option<f64> {
        self.pacer().map(|p| p.due_by(duration_s, duration_s) / duration_s.max(1e-9))
    }

    /// N(t): requests due by `t` seconds into a step of `duration_s` (none when closed).
    pub fn due_by(&self, t: f64, duration_s: f64) -> f64 {
        self.pacer().map_or(0.0, |p| p.due_by(t, duration_s))
    }

    /// Requests scheduled in the step: those due strictly before its end.
    pub fn count(&self, duration_s: f64) -> u64 {
        self.due_by(duration_s, duration_s).ceil().max(0.0) as u64
    }

    /// The intended send time of request `k`, seconds into the step (closed: now).
    pub fn offset_s(&self, k: u64, duration_s: f64) -> f64 {
        self.pacer().map_or(0.0, |p| p.offset_s(k, duration_s))
    }

    /// An open step from `from_rps` to `to_rps`.
    pub fn ramp(from_rps: f64, to_rps: f64) -> Load {
        Load::Open(Ramp { from_rps, to_rps })
    }
}

fn open(rate: f64) -> Load {
    Load::ramp(rate, rate)
}

fn step(name: impl Into<String>, load: Load, duration_s: f64, role: Role) -> Step {
    Step { name: name.into(), load, duration_s, role }
}

/// Builds the steps of `spec`, every rate capped at `max_rps`.
pub fn build(spec: &ProfileSpec, file: &str, max_rps: Option<f64>) -> Result<Profile, InputError> {
    let b = Builder { file, max_rps };
    let profile = match spec {
        ProfileSpec::Load { rate, duration, warmup } => b.load(rate, duration, warmup.as_ref())?,
        ProfileSpec::Soak { rate, duration, window } => b.soak(rate, duration, window.as_ref())?,
        ProfileSpec::Stress { start, step, hold, max } => b.stress(start, *step.value(), hold, max)?,
        ProfileSpec::Spike { baseline, burst, ramp, hold, before, after } => {
            b.spike((baseline, burst), ramp.as_ref(), hold, (before, after))?
        }
        ProfileSpec::Stages { stages } => b.stages(stages)?,
        ProfileSpec::Closed { users, duration } => b.closed(users, duration)?,
    };
    if profile.steps.is_empty() {
        return Err(b.bad("profile", "no steps: check start and max, or add stages or users"));
    }
    Ok(profile)
}

/// Checks a profile's values, each error naming its key.
struct Builder<'a> {
    file: &'a str,
    max_rps: Option<f64>,
}

impl Builder<'_> {
    fn bad(&self, key: &str, msg: &str) -> InputError {
        InputError::BadFile { file: self.file.into(), message: format!("{key}: {msg}") }
    }

    fn positive(&self, key: &str, v: f64) -> Result<f64, InputError> {
        if v > 0.0 {
            Ok(v)
        } else {
            Err(self.bad(key, "must be above zero"))
        }
    }

    /// A rate, capped at `--max-rps`.
    fn rate(&self, key: &str, v: &Given<Rate>) -> Result<f64, InputError> {
        let r = self.positive(key, v.value().0)?;
        Ok(self.max_rps.map_or(r, |m| r.min(m)))
    }

    fn secs(&self, key: &str, v: &Given<Span>) -> Result<f64, InputError> {
        self.positive(key, v.value().secs())
    }

    fn profile(kind: ProfileKind, steps: Vec<Step>) -> Profile {
        Profile { kind, steps, stop_on_slo_failure: false, continuous: true, drift_window_s: None }
    }

    fn load(
        &self,
        rate: &Given<Rate>,
        duration: &Given<Span>,
        warmup: Option<&Given<Span>>,
    ) -> Result<Profile, InputError> {
        let r = self.rate("profile.rate", rate)?;
        let mut steps = Vec::new();
        if let Some(w) = warmup {
            steps.push(step("warmup", open(r), self.secs("profile.warmup", w)?, Role::Warmup));
        }
        let name = format!("load {}", crate::units::sig(r, 6));
        steps.push(step(name, open(r), self.secs("profile.duration", duration)?, Role::Measure));
        Ok(Self::profile(ProfileKind::Load, steps))
    }

    fn soak(
        &self,
        rate: &Given<Rate>,
        duration: &Given<Span>,
        window: Option<&Given<Span>>,
    ) -> Result<Profile, InputError> {
        let d = self.secs("profile.duration", duration)?;
        let r = self.rate("profile.rate", rate)?;
        let mut p = Self::profile(ProfileKind::Soak, vec![step("soak", open(r), d, Role::Measure)]);
        p.drift_window_s = Some(window.map_or(Ok((d / 10.0).max(1.0)), |w| self.secs("profile.window", w))?);
        Ok(p)
    }

    fn stress(
        &self,
        start: &Given<Rate>,
        inc: Increment,
        hold: &Given<Span>,
        max: &Given<Rate>,
    ) -> Result<Profile, InputError> {
        let (mut r, max) = (self.rate("profile.start", start)?, self.rate("profile.max", max)?);
        let hold = self.secs("profile.hold", hold)?;
        let mut steps = Vec::new();
        while r <= max * (1.0 + 1e-9) && steps.len() < 1000 {
            steps.push(step(format!("{} rps", crate::units::sig(r, 6)), open(r), hold, Role::Measure));
            r = inc.next(r);
        }
        let mut p = Self::profile(ProfileKind::Stress, steps);
        (p.stop_on_slo_failure, p.continuous) = (true, false);
        Ok(p)
    }

    fn spike(
        &self,
        (baseline, burst): (&Given<Rate>, &Given<Rate>),
        ramp: Option<&Given<Span>>,
        hold: &Given<Span>,
        (before, after): (&Given<Span>, &Given<Span>),
    ) -> Result<Profile, InputError> {
        let (b, p) = (self.rate("profile.baseline", baseline)?, self.rate("profile.burst", burst)?);
        let mut steps = vec![step("baseline", open(b), self.secs("profile.before", before)?, Role::Baseline)];
        if let Some(ramp) = ramp {
            let ramp = self.secs("profile.ramp", ramp)?;
            steps.push(step("ramp", Load::ramp(b, p), ramp, Role::Ramp));
        }
        steps.push(step("burst", open(p), self.secs("profile.hold", hold)?, Role::Burst));
        steps.push(step("recovery", open(b), self.secs("profile.after", after)?, Role::Recovery));
        Ok(Self::profile(ProfileKind::Spike, steps))
    }

    fn stages(&self, stages: &[StageSpec]) -> Result<Profile, InputError> {
        let mut previous: Option<f64> = None;
        let mut steps = Vec::new();
        for (i, s) in stages.iter().enumerate() {
            let r = self.rate(&format!("profile.stages[{i}].rate"), &s.rate)?;
            let from = if s.ramp { previous.unwrap_or(r) } else { r };
            let d = self.secs(&format!("profile.stages[{i}].duration"), &s.duration)?;
            steps.push(step(format!("stage {}", i + 1), Load::ramp(from, r), d, Role::Measure));
            previous = Some(r);
        }
        Ok(Self::profile(ProfileKind::Stages, steps))
    }

    fn closed(&self, users: &[usize], duration: &Given<Span>) -> Result<Profile, InputError> {
        let d = self.secs("profile.duration", duration)?;
        let mut steps = Vec::new();
        for &n in users {
            if n == 0 {
                return Err(self.bad("profile.users", "each step needs at least 1 user"));
            }
            steps.push(step(format!("{n} users"), Load::Closed { users: n }, d, Role::Measure));
        }
        let mut p = Self::profile(ProfileKind::Closed, steps);
        p.continuous = false;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_and_ramped_schedules() {
        let c = open(100.0);
        assert_eq!(c.count(2.0), 200);
        assert!((c.offset_s(150, 2.0) - 1.5).abs() < 1e-12);
        let r = Load::ramp(100.0, 300.0);
        // N(T) = 100·2 + 200·4/4 = 400.
        assert_eq!(r.count(2.0), 400);
        for k in [0u64, 1, 57, 399] {
            let t = r.offset_s(k, 2.0);
            assert!((r.due_by(t, 2.0) - k as f64).abs() < 1e-9, "{k} {t}");
        }
        assert!(r.offset_s(399, 2.0) < 2.0);
    }

    #[test]
    fn stress_steps_and_caps() {
        let rate = |s: &str| s.parse::<Given<Rate>>().unwrap();
        let hold = "5s".parse::<Given<Span>>().unwrap();
        let spec = ProfileSpec::Stress { start: rate("100"), step: "x2".parse().unwrap(), hold, max: rate("1k") };
        let p = build(&spec, "p", None).unwrap();
        let rates: Vec<f64> = p.steps.iter().filter_map(|s| s.load.target_rps()).collect();
        assert_eq!(rates, [100.0, 200.0, 400.0, 800.0]);
        let capped = build(&spec, "p", Some(300.0)).unwrap();
        assert!(capped.steps.iter().all(|s| s.load.target_rps().unwrap() <= 300.0));
        assert!("lots".parse::<Given<Increment>>().unwrap_err().contains("write \"+500\""));
    }
}
