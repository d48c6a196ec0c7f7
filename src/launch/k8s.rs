//! `headroom k8s`: a ConfigMap holding the plan and an Indexed Job of N shards, from the
//! Kubernetes API's own types (k8s-openapi), printed as one `v1 List` that `kubectl apply -f -`
//! takes.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Affinity, ConfigMap, ConfigMapVolumeSource, Container, EnvVar, EnvVarSource, ObjectFieldSelector,
    PersistentVolumeClaimVolumeSource, PodAffinityTerm, PodAntiAffinity, PodSpec, PodTemplateSpec, Volume, VolumeMount,
    WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::{json, Value};

use super::Launch;

/// Where the plan is mounted in each pod.
const PLAN_DIR: &str = "/etc/headroom";
/// Where a results claim is mounted.
const RESULTS_DIR: &str = "/results";

/// What `headroom k8s` is given besides the launch.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub image: String,
    pub namespace: Option<String>,
    pub name: String,
    /// A PersistentVolumeClaim every shard writes its folder to; without one, each shard writes
    /// its results.json to standard output (its log).
    pub results_claim: Option<String>,
}

fn meta(name: &str, c: &Cluster) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: c.namespace.clone(),
        labels: Some(BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), "headroom".to_string()),
            ("app.kubernetes.io/instance".to_string(), c.name.clone()),
        ])),
        ..ObjectMeta::default()
    }
}

/// The ConfigMap with the plan.
pub fn config_map(l: &Launch, c: &Cluster) -> ConfigMap {
    ConfigMap {
        metadata: meta(&format!("{}-plan", c.name), c),
        data: Some(BTreeMap::from([("plan.toml".to_string(), l.plan_text.clone())])),
        ..ConfigMap::default()
    }
}

/// The Indexed Job: N completions, all running at once, none retried (a retry would start
/// after the agreed instant and be refused by merge).
pub fn job(l: &Launch, c: &Cluster) -> Job {
    let n = l.shards as i32;
    let out = match &c.results_claim {
        Some(_) => format!("{RESULTS_DIR}/shard-$(JOB_COMPLETION_INDEX)"),
        None => "-".to_string(),
    };
    let mut args: Vec<String> = ["run", &format!("{PLAN_DIR}/plan.toml"), "--shard", "auto", "--start-at", &l.start_at]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(t) = &l.target {
        args.extend(["--target".to_string(), t.clone()]);
    }
    args.extend(["--out".to_string(), out]);
    if c.results_claim.is_none() {
        // Only results.json on standard output: the log is the file.
        args.extend(["--format".to_string(), "json".to_string()]);
    }
    let index = EnvVar {
        name: "JOB_COMPLETION_INDEX".into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: "metadata.annotations['batch.kubernetes.io/job-completion-index']".into(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    };
    let count = EnvVar { name: "HEADROOM_SHARDS".into(), value: Some(l.shards.to_string()), ..EnvVar::default() };
    let mut mounts = vec![VolumeMount {
        name: "plan".into(),
        mount_path: PLAN_DIR.into(),
        read_only: Some(true),
        ..VolumeMount::default()
    }];
    let mut volumes = vec![Volume {
        name: "plan".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: format!("{}-plan", c.name),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }];
    if let Some(claim) = &c.results_claim {
        mounts.push(VolumeMount { name: "results".into(), mount_path: RESULTS_DIR.into(), ..VolumeMount::default() });
        volumes.push(Volume {
            name: "results".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.clone(),
                ..PersistentVolumeClaimVolumeSource::default()
            }),
            ..Volume::default()
        });
    }
    // Shards on different nodes where the cluster can: one generator per machine.
    let spread = WeightedPodAffinityTerm {
        weight: 100,
        pod_affinity_term: PodAffinityTerm {
            label_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([("app.kubernetes.io/instance".to_string(), c.name.clone())])),
                ..LabelSelector::default()
            }),
            topology_key: "kubernetes.io/hostname".into(),
            ..PodAffinityTerm::default()
        },
    };
    let pod = PodSpec {
        restart_policy: Some("Never".into()),
        containers: vec![Container {
            name: "headroom".into(),
            image: Some(c.image.clone()),
            command: Some(vec!["headroom".into()]),
            args: Some(args),
            env: Some(vec![index, count]),
            volume_mounts: Some(mounts),
            ..Container::default()
        }],
        volumes: Some(volumes),
        affinity: Some(Affinity {
            pod_anti_affinity: Some(PodAntiAffinity {
                preferred_during_scheduling_ignored_during_execution: Some(vec![spread]),
                ..PodAntiAffinity::default()
            }),
            ..Affinity::default()
        }),
        ..PodSpec::default()
    };
    let template_meta = ObjectMeta { labels: meta(&c.name, c).labels, ..ObjectMeta::default() };
    Job {
        metadata: meta(&c.name, c),
        spec: Some(JobSpec {
            completion_mode: Some("Indexed".into()),
            completions: Some(n),
            parallelism: Some(n),
            backoff_limit: Some(0),
            template: PodTemplateSpec { metadata: Some(template_meta), spec: Some(pod) },
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}

/// Both, as one `v1 List`.
pub fn manifest(l: &Launch, c: &Cluster) -> Value {
    let config = serde_json::to_value(config_map(l, c)).expect("API objects serialize");
    let job = serde_json::to_value(job(l, c)).expect("API objects serialize");
    json!({ "apiVersion": "v1", "kind": "List", "items": [config, job] })
}
