//! `headroom k8s PLAN` and `headroom slurm PLAN`: the shards of a run, launched by an engine
//! that already exists; each prints what that engine takes (a manifest, an sbatch script).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use crate::error::InputError;
use crate::launch::{self, k8s, slurm, Launch};

/// What both launchers take.
#[derive(Debug, Args)]
pub struct Common {
    /// The load plan every shard runs
    pub plan: PathBuf,
    /// How many shards (generators) to split the run over
    #[arg(long, value_name = "N")]
    pub shards: u64,
    /// The instant every shard starts at (RFC 3339); by default --start-in from now
    #[arg(long, value_name = "TIME", conflicts_with = "start_in")]
    pub start_at: Option<String>,
    /// How long from now the shards start: time to schedule them and open their connections
    #[arg(long, value_name = "DURATION")]
    pub start_in: Option<crate::units::Span>,
    /// A base URL replacing the plan's target, on every shard
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
}

/// Arguments of `headroom k8s`.
#[derive(Debug, Args)]
#[command(after_help = "Prints a v1 List of a ConfigMap (the plan) and an Indexed Job (completionMode: Indexed, \
completions = parallelism = N, no retries), each pod running `headroom run /etc/headroom/plan.toml --shard auto \
--start-at T`. Without --results-claim each shard writes its results.json as its log.\n\n\
Examples:\n  headroom k8s loadplans/load.toml --shards 4 --image registry.internal/headroom:0.1 | kubectl apply -f -\n  \
for i in 0 1 2 3; do kubectl logs -l job-name=headroom-load,batch.kubernetes.io/job-completion-index=$i > shard-$i.json; done\n  \
headroom merge shard-*.json --out merged")]
pub struct K8sArgs {
    #[command(flatten)]
    pub common: Common,
    /// The container image with headroom on its PATH (see the Dockerfile)
    #[arg(long, value_name = "IMAGE")]
    pub image: String,
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// The Job's name (default: headroom- and the plan's file name)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// A PersistentVolumeClaim (ReadWriteMany) the shards write their folders to, as
    /// /results/shard-I
    #[arg(long, value_name = "CLAIM")]
    pub results_claim: Option<String>,
}

/// Arguments of `headroom slurm`.
#[derive(Debug, Args)]
#[command(
    after_help = "Prints an sbatch script of a job array (--array=0-(N-1)), each task running `headroom run PLAN \
--shard auto --start-at T --out OUT/shard-$SLURM_ARRAY_TASK_ID`. Submit it at once; merge when the array is done.\n\n\
Examples:\n  headroom slurm loadplans/load.toml --shards 4 --out /shared/runs/load > load.sbatch && sbatch load.sbatch\n  \
headroom merge /shared/runs/load/shard-* --out /shared/runs/load/merged"
)]
pub struct SlurmArgs {
    #[command(flatten)]
    pub common: Common,
    /// The folder (on storage every node shares) the shards' folders and logs go to
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// The headroom binary as the nodes run it (default: this one)
    #[arg(long, value_name = "PATH")]
    pub headroom: Option<PathBuf>,
    #[arg(long, value_name = "PARTITION")]
    pub partition: Option<String>,
    /// sbatch's time limit per shard, e.g. 30:00
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// CPUs per shard
    #[arg(long, value_name = "N")]
    pub cpus: Option<u32>,
}

/// The launch both share: the plan checked as a run would check it, and the start instant.
fn launch(c: &Common, default_start_in: f64) -> Result<Launch> {
    if c.shards == 0 {
        return Err(InputError::Usage("--shards must be at least 1".into()).into());
    }
    let file = c.plan.display().to_string();
    let plan_text = crate::input::read_text(&c.plan, "the load plan")?;
    let plan = crate::plan::load(&c.plan)?;
    let files = launch::files_named(&plan);
    if !files.is_empty() {
        eprintln!(
            "warning: {file} names files beside it that every shard must find at the same paths: {}",
            files.join(", ")
        );
    }
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let start_at = match &c.start_at {
        Some(t) => crate::load::shard::instant_text(crate::load::shard::parse_start(t, now_s)?),
        None => {
            let ahead = c.start_in.map_or(default_start_in, |s| s.0.as_secs_f64());
            crate::load::shard::instant_text((now_s + ahead).ceil())
        }
    };
    eprintln!("the {} shards start at {start_at}", c.shards);
    Ok(Launch { plan_name: file, plan_text, shards: c.shards, start_at, target: c.target.clone() })
}

/// Runs `headroom k8s`.
pub fn k8s(args: K8sArgs, out: &mut dyn Write) -> Result<()> {
    let l = launch(&args.common, 120.0)?;
    let cluster = k8s::Cluster {
        image: args.image,
        namespace: args.namespace,
        name: args.name.unwrap_or_else(|| launch::job_name(&l.plan_name)),
        results_claim: args.results_claim,
    };
    serde_json::to_writer_pretty(&mut *out, &k8s::manifest(&l, &cluster))?;
    writeln!(out)?;
    Ok(())
}

fn absolute(p: &Path) -> String {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string()
}

/// Runs `headroom slurm`.
pub fn slurm(args: SlurmArgs, out: &mut dyn Write) -> Result<()> {
    let l = launch(&args.common, 30.0)?;
    // sbatch opens each task's log in it before the script runs.
    std::fs::create_dir_all(&args.out)
        .map_err(|e| InputError::Usage(format!("--out {}: cannot create it: {e}", args.out.display())))?;
    let headroom = match &args.headroom {
        Some(p) => p.display().to_string(),
        None => std::env::current_exe().map_or("headroom".into(), |p| p.display().to_string()),
    };
    let batch = slurm::Batch {
        name: launch::job_name(&l.plan_name),
        plan_path: absolute(&args.common.plan),
        headroom,
        out: absolute(&args.out),
        partition: args.partition,
        time: args.time,
        cpus: args.cpus,
    };
    out.write_all(slurm::script(&l, &batch).as_bytes())?;
    Ok(())
}
