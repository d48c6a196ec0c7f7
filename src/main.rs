use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = headroom::Cli::parse();
    match headroom::run(cli) {
        Ok(code) => code,
        Err(err) => {
            if !headroom::is_broken_pipe(&err) {
                eprintln!("error: {}", headroom::error::clip(&format!("{err:#}")));
            }
            headroom::exit_code(&err)
        }
    }
}
