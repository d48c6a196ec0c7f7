//! headroom: capacity planning and load testing.
//!
//! The pipeline reads here: [`run`] takes a parsed [`Cli`], dispatches to one command in
//! [`cmd`], and returns the process exit code; [`exit_code`] classifies an error.

pub mod analysis;
pub mod artefact;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod error;
pub mod files;
pub mod ingest;
pub mod input;
pub mod launch;
pub mod load;
pub mod model;
pub mod output;
pub mod plan;
pub mod present;
pub mod process;
pub mod signals;
pub mod sim;
pub mod units;
pub mod view;

use std::io::{self, Write};
use std::process::ExitCode;

pub use cli::{Cli, Command};

/// Runs one command, writing its answer to standard output.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Not `stdout().lock()`: a lock held across a run would block goose's own `println!` on its
    // worker threads, and the run with it.
    let mut out = io::BufWriter::new(io::stdout());
    process::raise_open_files();
    let code = match cli.command {
        Command::Run(args) => cmd::run::run(*args, &mut out)?,
        Command::Compare(args) => cmd::compare::run(args, &mut out)?,
        Command::Merge(args) => cmd::merge::run(args, &mut out)?,
        Command::Demo(args) => {
            cmd::demo::run(args, &mut out)?;
            ExitCode::SUCCESS
        }
        Command::ServeSim(args) => {
            cmd::serve_sim::run(args, &mut out)?;
            ExitCode::SUCCESS
        }
        command => {
            run_report(command, &mut out)?;
            ExitCode::SUCCESS
        }
    };
    out.flush()?;
    Ok(code)
}

/// The commands that print one report and exit 0.
pub fn run_report(command: Command, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        Command::Fit(args) => cmd::fit::run(args, out)?,
        Command::Forecast(args) => cmd::forecast::run(args, out)?,
        Command::History(args) => cmd::history::run(args, out)?,
        Command::Plan(args) => cmd::plan::run(args, out)?,
        Command::Report(args) => cmd::report::run(args, out)?,
        Command::Calc(c) => cmd::calc::run(c, out)?,
        Command::K8s(args) => cmd::launch::k8s(args, out)?,
        Command::Slurm(args) => cmd::launch::slurm(args, out)?,
        Command::Completions(args) => cmd::shell::completions(args, <Cli as clap::CommandFactory>::command(), out)?,
        Command::Man(args) => cmd::shell::man(args, <Cli as clap::CommandFactory>::command(), out)?,
        Command::Run(_) | Command::Compare(_) | Command::Merge(_) | Command::ServeSim(_) | Command::Demo(_) => {
            unreachable!("handled by run")
        }
    }
    Ok(())
}

/// True when the error is a closed pipe (`headroom ... | head`), which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe))
}

/// The exit code for an error: 0 for a closed pipe, 3 for a run that could not be valid
/// (an unreachable target), otherwise 2 (bad input or usage).
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        ExitCode::SUCCESS
    } else if err.chain().any(|e| e.downcast_ref::<load::runner::RunInvalid>().is_some()) {
        ExitCode::from(3)
    } else {
        ExitCode::from(2)
    }
}
