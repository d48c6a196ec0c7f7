//! Profiles become steps, and an open step's arrival rate becomes a schedule of intended send
//! times. A rate ramping linearly from a to b over T has N(t) = a·t + (b − a)·t²/(2T) arrivals by
//! t; the k-th request (from 0) is due at the t with N(t) = k.

use serde::Serialize;

use super::plan::{self, ProfileSpec};
use crate::error::InputError;

/// What drives a step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Load {
    /// Arrivals at a rate ramping linearly from `from_rps` to `to_rps` (equal: constant).
    Open { from_rps: f64, to_rps: f64 },
    /// `users` sending back to back, no think time.
    Closed { users: usize },
}

/// What a step is for, which decides how it is analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// The steps of a profile and how to run them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub kind: &'static str,
    pub steps: Vec<Step>,
    /// Stress: stop at the first step that fails an SLO threshold.
    pub stop_on_slo_failure: bool,
    /// The steps share one timeline (open steps that follow each other without a pause).
    pub continuous: bool,
    /// Soak: the window drift is measured over, seconds.
    pub drift_window_s: Option<f64>,
}

impl Load {
    /// The arrival rate at the end of the step (or `None` for a closed step).
    pub fn target_rps(&self) -> Option<f64> {
        match *self {
            Load::Open { to_rps, .. } => Some(to_rps),
            Load::Closed { .. } => None,
        }
    }

    /// The mean arrival rate the schedule asks for over a step (the middle of a ramp).
    pub fn mean_rps(&self, duration_s: f64) -> Option<f64> {
        self.target_rps().map(|_| self.due_by(duration_s, duration_s) / duration_s.max(1e-9))
    }

    /// N(t): requests due by `t` seconds into a step of `duration_s`.
    pub fn due_by(&self, t: f64, duration_s: f64) -> f64 {
        match *self {
            Load::Open { from_rps: a, to_rps: b } => a * t + (b - a) * t * t / (2.0 * duration_s),
            Load::Closed { .. } => 0.0,
        }
    }

    /// Requests scheduled in the step: those due strictly before its end.
    pub fn count(&self, duration_s: f64) -> u64 {
        self.due_by(duration_s, duration_s).ceil().max(0.0) as u64
    }

    /// The intended send time of request `k`, seconds into the step.
    pub fn offset_s(&self, k: u64, duration_s: f64) -> f64 {
        let Load::Open { from_rps: a, to_rps: b } = *self else { return 0.0 };
        let k = k as f64;
        if (b - a).abs() < 1e-12 {
            return k / a;
        }
        let c = (b - a) / duration_s;
        // (c/2)·t² + a·t − k = 0, the positive root, written to avoid cancellation.
        2.0 * k / (a + (a * a + 2.0 * c * k).sqrt())
    }
}

fn open(rate: f64) -> Load {
    Load::Open { from_rps: rate, to_rps: rate }
}

fn step(name: impl Into<String>, load: Load, duration_s: f64, role: Role) -> Step {
    Step { name: name.into(), load, duration_s, role }
}

/// Builds the steps of `spec`, every rate capped at `max_rps`.
pub fn build(spec: &ProfileSpec, file: &str, max_rps: Option<f64>) -> Result<Profile, InputError> {
    let cap = |r: f64| max_rps.map_or(r, |m| r.min(m));
    let bad = |key: &str, msg: &str| InputError::BadFile { file: file.into(), message: format!("{key}: {msg}") };
    let positive = |key: &str, v: f64| if v > 0.0 { Ok(v) } else { Err(bad(key, "must be above zero")) };
    let rate = |key: &str, v: &str| plan::rate(file, key, v).and_then(|r| positive(key, r)).map(cap);
    let secs = |key: &str, v: &str| plan::secs(file, key, v).and_then(|s| positive(key, s));
    let mut profile =
        Profile { kind: "", steps: Vec::new(), stop_on_slo_failure: false, continuous: true, drift_window_s: None };
    match spec {
        ProfileSpec::Load { rate: r, duration, warmup } => {
            profile.kind = "load";
            let r = rate("profile.rate", r)?;
            if let Some(w) = warmup {
                profile.steps.push(step("warmup", open(r), secs("profile.warmup", w)?, Role::Warmup));
            }
            profile.steps.push(step(
                format!("load {}", crate::units::sig(r, 6)),
                open(r),
                secs("profile.duration", duration)?,
                Role::Measure,
            ));
        }
        ProfileSpec::Soak { rate: r, duration, window } => {
            profile.kind = "soak";
            let d = secs("profile.duration", duration)?;
            profile.drift_window_s =
                Some(window.as_deref().map_or(Ok((d / 10.0).max(1.0)), |w| secs("profile.window", w))?);
            profile.steps.push(step("soak", open(rate("profile.rate", r)?), d, Role::Measure));
        }
        ProfileSpec::Stress { start, step: inc, hold, max } => {
            profile.kind = "stress";
            profile.stop_on_slo_failure = true;
            profile.continuous = false;
            let (mut r, max, hold) =
                (rate("profile.start", start)?, rate("profile.max", max)?, secs("profile.hold", hold)?);
            let next: Box<dyn Fn(f64) -> f64> =
                match (inc.trim().strip_prefix('+'), inc.trim().strip_prefix(['x', '×'])) {
                    (Some(add), _) => {
                        let add = positive("profile.step", plan::rate(file, "profile.step", add)?)?;
                        Box::new(move |r| r + add)
                    }
                    (_, Some(f)) => {
                        let f: f64 = f
                            .trim()
                            .parse()
                            .ok()
                            .filter(|f| *f > 1.0)
                            .ok_or_else(|| bad("profile.step", "a factor must be above 1, e.g. \"x1.5\""))?;
                        Box::new(move |r| r * f)
                    }
                    _ => return Err(bad("profile.step", "write \"+500\" to add or \"x1.5\" to multiply")),
                };
            while r <= max * (1.0 + 1e-9) && profile.steps.len() < 1000 {
                profile.steps.push(step(format!("{} rps", crate::units::sig(r, 6)), open(r), hold, Role::Measure));
                r = next(r);
            }
        }
        ProfileSpec::Spike { baseline, burst, ramp, hold, before, after } => {
            profile.kind = "spike";
            let (b, p) = (rate("profile.baseline", baseline)?, rate("profile.burst", burst)?);
            profile.steps.push(step("baseline", open(b), secs("profile.before", before)?, Role::Baseline));
            if let Some(ramp) = ramp {
                profile.steps.push(step(
                    "ramp",
                    Load::Open { from_rps: b, to_rps: p },
                    secs("profile.ramp", ramp)?,
                    Role::Ramp,
                ));
            }
            profile.steps.push(step("burst", open(p), secs("profile.hold", hold)?, Role::Burst));
            profile.steps.push(step("recovery", open(b), secs("profile.after", after)?, Role::Recovery));
        }
        ProfileSpec::Stages { stages } => {
            profile.kind = "stages";
            let mut previous: Option<f64> = None;
            for (i, s) in stages.iter().enumerate() {
                let r = rate(&format!("profile.stages[{i}].rate"), &s.rate)?;
                let from = if s.ramp { previous.unwrap_or(r) } else { r };
                let d = secs(&format!("profile.stages[{i}].duration"), &s.duration)?;
                profile.steps.push(step(
                    format!("stage {}", i + 1),
                    Load::Open { from_rps: from, to_rps: r },
                    d,
                    Role::Measure,
                ));
                previous = Some(r);
            }
        }
        ProfileSpec::Closed { users, duration } => {
            profile.kind = "closed";
            profile.continuous = false;
            let d = secs("profile.duration", duration)?;
            for &n in users {
                if n == 0 {
                    return Err(bad("profile.users", "each step needs at least 1 user"));
                }
                profile.steps.push(step(format!("{n} users"), Load::Closed { users: n }, d, Role::Measure));
            }
        }
    }
    if profile.steps.is_empty() {
        return Err(bad("profile", "no steps: check start and max, or add stages or users"));
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_and_ramped_schedules() {
        let c = open(100.0);
        assert_eq!(c.count(2.0), 200);
        assert!((c.offset_s(150, 2.0) - 1.5).abs() < 1e-12);
        let r = Load::Open { from_rps: 100.0, to_rps: 300.0 };
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
        let spec = ProfileSpec::Stress { start: "100".into(), step: "x2".into(), hold: "5s".into(), max: "1k".into() };
        let p = build(&spec, "p", None).unwrap();
        let rates: Vec<f64> = p.steps.iter().filter_map(|s| s.load.target_rps()).collect();
        assert_eq!(rates, [100.0, 200.0, 400.0, 800.0]);
        let capped = build(&spec, "p", Some(300.0)).unwrap();
        assert!(capped.steps.iter().all(|s| s.load.target_rps().unwrap() <= 300.0));
        let bad = ProfileSpec::Stress { start: "100".into(), step: "lots".into(), hold: "5s".into(), max: "1k".into() };
        assert!(build(&bad, "p", None).unwrap_err().to_string().contains("profile.step"));
    }
}
