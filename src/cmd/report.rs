//! `headroom report FILE...`: one capacity review from any mix of results, fit, forecast and
//! plan files.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::output::Format;
use crate::present::review::{self, inputs};

/// Arguments of `headroom report`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  headroom report reports/sweep/results.json fit.json forecast.json plan.json -o review.html\n  \
headroom report results.json --format md -o review.md   (charts are written as review-*.svg beside it)\n  \
headroom report plan.json --format csv > plan.csv"
)]
pub struct ReportArgs {
    /// results.json from `headroom run` (or the folder holding one), or the JSON of `headroom
    /// fit`, `forecast` or `plan` (`--format json`), in the order the review should show them
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format: html (one self-contained file), md (charts as SVG files beside it, with
    /// -o), json (the review's content, chart data included), csv (the plan's, or the steps',
    /// plain numbers), or table (the terminal)
    #[arg(long, short, value_enum, default_value = "html")]
    pub format: Format,
    /// Compare every results.json given against this baseline run (a results.json or its
    /// folder), with `compare`'s default limits: a verdict in the summary and a side-by-side
    /// table (use `headroom compare` to gate a pipeline on it)
    #[arg(long, value_name = "RUN")]
    pub baseline: Option<PathBuf>,
    /// Write the review to this file (default, and `-`: standard output)
    #[arg(long, short, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

/// Runs `headroom report`.
pub fn run(args: ReportArgs, out: &mut dyn Write) -> Result<()> {
    let artefacts = args.files.iter().map(|f| inputs::read(f)).collect::<Result<Vec<_>>>()?;
    let mut review = review::build(&artefacts);
    if let Some(path) = &args.baseline {
        let (name, base) = inputs::read(path)?;
        let review::Artefact::Results(base) = base else {
            return Err(crate::error::InputError::BadFile {
                file: name,
                message: "--baseline takes a results.json from `headroom run` (or its folder)".into(),
            }
            .into());
        };
        review::against_baseline(&mut review, &artefacts, (&name, &base), Default::default());
    }
    match &args.output {
        Some(path) => {
            let to_file = !crate::files::is_stdout(path);
            let dest = to_file.then_some(path.as_path());
            crate::files::write_atomic(path, |w| super::emit(&review, args.format, w, dest))?;
            if to_file {
                eprintln!("report: {}", path.display());
            }
        }
        None => super::emit(&review, args.format, out, None)?,
    }
    Ok(())
}
