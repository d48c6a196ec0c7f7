//! Launching a run's shards on an engine that already exists (no operator or coordinator of
//! headroom's own): a Kubernetes Indexed Job ([`k8s`]) or a Slurm job array ([`slurm`]). Each
//! shard runs `headroom run PLAN --shard auto --start-at T`; `headroom merge` joins them.

pub mod k8s;
pub mod slurm;

use crate::plan::LoadPlan;

/// What every launcher is given.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The plan's file name (for names), and its text as written.
    pub plan_name: String,
    pub plan_text: String,
    pub shards: u64,
    /// The instant every shard starts at, RFC 3339.
    pub start_at: String,
    /// A target that replaces the plan's, passed to each shard.
    pub target: Option<String>,
}

/// Files a plan names beside itself (request bodies, a targets file, TLS files): they must be
/// where each shard runs, as the plan itself is shipped with the job.
pub fn files_named(plan: &LoadPlan) -> Vec<String> {
    let tls = &plan.tls;
    let mut files: Vec<String> = [&tls.cacert, &tls.cert, &tls.key, &plan.targets]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect();
    files.extend(plan.requests.iter().filter_map(|r| r.body_file.as_ref()).map(|p| p.display().to_string()));
    files
}

/// A name Kubernetes and Slurm accept: lowercase letters, digits and dashes, from the plan's
/// file name.
pub fn job_name(plan_name: &str) -> String {
    let stem = plan_name.rsplit('/').next().unwrap_or(plan_name);
    let stem = stem.strip_suffix(".toml").unwrap_or(stem);
    let mut name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    name.truncate(40);
    if name.is_empty() {
        "headroom".into()
    } else {
        format!("headroom-{}", name.trim_end_matches('-'))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn job_names_are_dns_labels() {
        assert_eq!(super::job_name("loadplans/Checkout_Flow.toml"), "headroom-checkout-flow");
        assert_eq!(super::job_name("-"), "headroom");
    }
}
