//! `headroom completions SHELL` and `headroom man`: shell completions and a man page, generated
//! from the command line's own definition (passed in by the crate root, which owns it) so that
//! they cannot drift from it.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use clap_complete::Shell;

/// Arguments of `headroom completions`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  headroom completions bash > ~/.local/share/bash-completion/completions/headroom\n  \
headroom completions zsh > ~/.zfunc/_headroom\n  headroom completions fish > ~/.config/fish/completions/headroom.fish"
)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `headroom man`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  headroom man > headroom.1 && man ./headroom.1\n  headroom man compare > headroom-compare.1"
)]
pub struct ManArgs {
    /// The command whose page to write (default: headroom's own, listing every command)
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Writes the completion script of `args.shell` for the command line `cmd`.
pub fn completions(args: CompletionsArgs, mut cmd: clap::Command, out: &mut dyn Write) -> Result<()> {
    clap_complete::generate(args.shell, &mut cmd, "headroom", out);
    Ok(())
}

/// Writes the man page (roff) of the command line `cmd`, or of one of its commands.
pub fn man(args: ManArgs, cmd: clap::Command, out: &mut dyn Write) -> Result<()> {
    let page = match &args.command {
        None => cmd,
        Some(name) => {
            let names: Vec<String> = cmd.get_subcommands().map(|c| c.get_name().to_string()).collect();
            let sub = cmd.find_subcommand(name).cloned().ok_or_else(|| {
                crate::error::InputError::Usage(format!("no command '{name}': one of {}", names.join(", ")))
            })?;
            sub.name(format!("headroom-{name}"))
        }
    };
    clap_mangen::Man::new(page).render(out)?;
    Ok(())
}
