//! One file per command: typed arguments → core → output.

pub mod calc;
pub mod compare;
pub mod demo;
pub mod fit;
pub mod forecast;
pub mod history;
pub mod launch;
pub mod merge;
pub mod plan;
pub mod report;
pub mod run;
pub mod serve_sim;
pub mod shell;

use std::io::Write;
use std::path::Path;

use crate::output::{self, Format};
use crate::present::Present;

/// Prints `value` in `format` to `out`: its JSON, or its document laid out; `dest` names the
/// file `out` writes, when it is one (Markdown writes its charts beside it).
pub fn emit<T: Present>(value: &T, format: Format, out: &mut dyn Write, dest: Option<&Path>) -> anyhow::Result<()> {
    match format {
        Format::Json => Ok(value.write_json(out)?),
        f => {
            let mut doc = value.view();
            doc.csv = doc.csv.or_else(|| value.csv());
            output::render(&doc, f, out, dest)
        }
    }
}
