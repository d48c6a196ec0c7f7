//! `headroom merge DIR...`: the shards of one run (`run --shard I/N --start-at T`) joined into
//! one results.json, exactly, and judged again as `run` would judge it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::artefact::{self, results::Results};
use crate::error::InputError;
use crate::output::Format;

/// Arguments of `headroom merge`.
#[derive(Debug, Args)]
#[command(after_help = "The shards must come from one plan (the same plan digest) and one --start-at \
instant, with each index 0..N-1 once, and none may have begun a step later than the larger of 50 ms and 1% \
of the shortest step after its instant. Histograms and counts add exactly; delivery, SLOs, validity, the \
breaking point, spike recovery and soak drift are judged again on the merged data.\n\n\
Exit codes: as headroom run: 0 ok, 1 an SLO threshold failed, 2 bad input, 3 the merged run was not valid, \
4 a shard was aborted by its safety rule, 130/143 a shard was interrupted.\n\n\
Examples:\n  headroom merge shard-0 shard-1 shard-2 shard-3 --out merged\n  \
headroom merge results/*/ -o - | jq .steps[0].latency_us.p99")]
pub struct MergeArgs {
    /// Each shard's folder (or its results.json)
    #[arg(required = true, value_name = "DIR")]
    pub shards: Vec<PathBuf>,
    /// The folder the merged results.json (and a .hlog per step) goes to; `-` writes results.json
    /// to standard output and the summary to standard error
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Output format of the summary
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

/// Runs `headroom merge`.
pub fn run(args: MergeArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let mut inputs = Vec::new();
    for path in &args.shards {
        let file = artefact::results::file_in(path);
        let results: Results = artefact::read(&file)?;
        inputs.push((file.display().to_string(), results));
    }
    let merged = crate::load::merge::merge(inputs)?;
    if crate::files::is_stdout(&args.out) {
        if args.format != Format::Json {
            crate::cmd::emit(&merged, args.format, &mut std::io::stderr().lock(), None)?;
        }
        crate::cmd::emit(&merged, Format::Json, out, None)?;
    } else {
        let dir = &args.out;
        if dir.exists() && !dir.is_dir() {
            return Err(InputError::Usage(format!("--out {}: is a file; give a folder's path", dir.display())).into());
        }
        std::fs::create_dir_all(dir)?;
        let path = crate::load::results::write_atomic(dir, &merged)?;
        for i in 1..=merged.steps.len() {
            crate::load::results::write_hlog(dir, i, &merged)?;
        }
        crate::cmd::emit(&merged, args.format, out, None)?;
        out.flush()?;
        eprintln!("merged results: {}", path.display());
    }
    Ok(crate::cmd::run::exit_code(&merged))
}
