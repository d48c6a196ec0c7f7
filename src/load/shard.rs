//! One shard of a run too large for one generator: which part of the schedule it sends
//! (`--shard I/N`, or `auto` from the engine that launched it) and the instant every shard starts
//! at (`--start-at`). See [`super::timeline::Slice`] for how the schedule is split.

use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::timeline::Slice;
use crate::error::InputError;
use crate::plan::LoadPlan;
use crate::units::Span;

/// Where `--shard auto` reads its index and count, engine by engine.
const AUTO: &[(&str, &str, &str)] = &[
    ("Kubernetes (an Indexed Job)", "JOB_COMPLETION_INDEX", "HEADROOM_SHARDS"),
    ("Slurm (a job array)", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"),
    ("Nomad", "NOMAD_ALLOC_INDEX", "HEADROOM_SHARDS"),
];

/// `--shard I/N` or `--shard auto`, read.
pub fn parse_slice(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Slice, InputError> {
    let usage = |why: String| InputError::Usage(format!("--shard {text}: {why}"));
    if text == "auto" {
        for (engine, index, count) in AUTO {
            let Some(i) = env(index) else { continue };
            let Some(n) = env(count) else {
                return Err(usage(format!(
                    "{engine} set {index}={i} but not {count}: set {count} to the number of shards"
                )));
            };
            let number = |name: &str, v: &str| {
                v.trim().parse::<u64>().map_err(|_| usage(format!("{name}={v} is not a whole number")))
            };
            return checked(number(index, &i)?, number(count, &n)?).map_err(usage);
        }
        return Err(usage(
            "no launcher's index in the environment (JOB_COMPLETION_INDEX with HEADROOM_SHARDS, SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT, or NOMAD_ALLOC_INDEX with HEADROOM_SHARDS): give --shard I/N"
                .into(),
        ));
    }
    let Some((i, n)) = text.split_once('/') else {
        return Err(usage("expected I/N, such as 0/4 (shard 0 of 4), or auto".into()));
    };
    let number = |v: &str| v.trim().parse::<u64>().map_err(|_| usage(format!("'{v}' is not a whole number")));
    checked(number(i)?, number(n)?).map_err(usage)
}

fn checked(index: u64, count: u64) -> Result<Slice, String> {
    if count == 0 {
        return Err("the count must be at least 1".into());
    }
    if index >= count {
        return Err(format!("shard {index} of {count}: the index runs from 0 to {}", count - 1));
    }
    Ok(Slice { index, count })
}

/// `--start-at`: an RFC 3339 instant (`2026-12-03T14:00:00Z`) or a span from now (`+60s`), as
/// seconds since the Unix epoch.
pub fn parse_start(text: &str, now_s: f64) -> Result<f64, InputError> {
    let usage = |why: String| InputError::Usage(format!("--start-at {text}: {why}"));
    if let Some(span) = text.strip_prefix('+') {
        let s = Span::from_str(span).map_err(|e| usage(format!("{e}")))?;
        return Ok(now_s + s.0.as_secs_f64());
    }
    let t = jiff::Timestamp::from_str(text).map_err(|_| {
        usage("expected an RFC 3339 instant such as 2026-12-03T14:00:00Z, or a span from now such as +60s".into())
    })?;
    Ok(t.as_microsecond() as f64 / 1e6)
}

/// An instant as RFC 3339 to the microsecond, in UTC.
pub fn instant_text(secs: f64) -> String {
    jiff::Timestamp::from_microsecond((secs * 1e6).round() as i64).map_or_else(|_| format!("{secs}"), |t| t.to_string())
}

/// The digest shards of one run share: SHA-256 of the plan as run (its JSON, after the command
/// line's overrides), the target it ran against and the flags that replaced the plan's values,
/// so that `merge` refuses shards of different plans, targets or caps.
pub fn plan_digest(plan: &LoadPlan, target: &str, overrides: &[String]) -> String {
    let json = serde_json::to_vec(&(plan, target, overrides)).expect("a plan serializes");
    let digest = Sha256::digest(&json);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// This machine's name, for the results (`HOSTNAME`, else /etc/hostname).
pub fn host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

/// How a shard runs: its slice, and the instant all shards start at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShardPlan {
    pub slice: Slice,
    /// Seconds since the Unix epoch.
    pub start_at_s: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn slices_are_read_and_checked() {
        assert_eq!(parse_slice("1/4", &none).unwrap(), Slice { index: 1, count: 4 });
        for bad in ["4/4", "1/0", "x/2", "3", "-1/2"] {
            let e = parse_slice(bad, &none).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--shard {bad}: ")), "{e}");
        }
        let slurm = |k: &str| match k {
            "SLURM_ARRAY_TASK_ID" => Some("2".to_string()),
            "SLURM_ARRAY_TASK_COUNT" => Some("3".to_string()),
            _ => None,
        };
        assert_eq!(parse_slice("auto", &slurm).unwrap(), Slice { index: 2, count: 3 });
        let k8s_without_count = |k: &str| (k == "JOB_COMPLETION_INDEX").then(|| "0".to_string());
        let e = parse_slice("auto", &k8s_without_count).unwrap_err().to_string();
        assert!(e.contains("HEADROOM_SHARDS"), "{e}");
        assert!(parse_slice("auto", &none).unwrap_err().to_string().contains("give --shard I/N"));
    }

    #[test]
    fn start_instants_are_read() {
        assert_eq!(parse_start("+60s", 1000.0).unwrap(), 1060.0);
        assert_eq!(parse_start("2026-12-03T14:00:00.250Z", 0.0).unwrap(), 1_796_306_400.25);
        assert_eq!(instant_text(1_796_306_400.25), "2026-12-03T14:00:00.25Z");
        assert!(parse_start("tomorrow", 0.0).unwrap_err().to_string().contains("RFC 3339"));
    }
}
