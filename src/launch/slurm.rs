//! `headroom slurm`: an sbatch script for a job array of N shards, every task of it running at
//! once (`--array=0-(N-1)`), each writing its folder beside the others; `headroom merge` joins
//! them.

use super::Launch;

/// What `headroom slurm` is given besides the launch.
#[derive(Debug, Clone)]
pub struct Batch {
    pub name: String,
    /// The plan's path as every node reads it.
    pub plan_path: String,
    /// The headroom binary as every node runs it.
    pub headroom: String,
    /// The folder the shards' folders and logs go to.
    pub out: String,
    pub partition: Option<String>,
    /// sbatch's --time, e.g. 30:00.
    pub time: Option<String>,
    /// CPUs per shard.
    pub cpus: Option<u32>,
}

/// A shell word, quoted when it needs to be.
fn sh(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=+@%,".contains(c)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The script.
pub fn script(l: &Launch, b: &Batch) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s += &format!("# {} shards of {}, starting together at {}.\n", l.shards, l.plan_name, l.start_at);
    s += "# Submit it at once (sbatch FILE): a shard that starts after that instant is refused by merge.\n";
    s += &format!("#SBATCH --job-name={}\n", b.name);
    s += &format!("#SBATCH --array=0-{}\n", l.shards.saturating_sub(1));
    s += "#SBATCH --ntasks=1\n";
    if let Some(c) = b.cpus {
        s += &format!("#SBATCH --cpus-per-task={c}\n");
    }
    if let Some(p) = &b.partition {
        s += &format!("#SBATCH --partition={p}\n");
    }
    if let Some(t) = &b.time {
        s += &format!("#SBATCH --time={t}\n");
    }
    s += &format!("#SBATCH --output={}/shard-%a.log\n", b.out);
    s += "set -euo pipefail\n";
    s += &format!("mkdir -p {}\n", sh(&b.out));
    let mut run = vec![
        sh(&b.headroom),
        "run".into(),
        sh(&b.plan_path),
        "--shard".into(),
        "auto".into(),
        "--start-at".into(),
        sh(&l.start_at),
    ];
    if let Some(t) = &l.target {
        run.extend(["--target".into(), sh(t)]);
    }
    run.extend(["--out".into(), format!("{}/shard-\"$SLURM_ARRAY_TASK_ID\"", sh(&b.out))]);
    // An SLO that failed (1) or a part that was not valid (3) is still a shard's result: merge
    // judges the whole run.
    s += &format!("status=0\n{} || status=$?\n", run.join(" "));
    s += "case $status in 0 | 1 | 3) exit 0 ;; *) exit $status ;; esac\n";
    s += &format!(
        "# When every shard is done: {} merge {}/shard-* --out {}/merged\n",
        sh(&b.headroom),
        sh(&b.out),
        sh(&b.out)
    );
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_are_quoted_for_the_shell() {
        assert_eq!(super::sh("/srv/plans/a.toml"), "/srv/plans/a.toml");
        assert_eq!(super::sh("my plan's.toml"), r"'my plan'\''s.toml'");
    }
}
