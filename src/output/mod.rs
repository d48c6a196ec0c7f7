//! Rendering: one renderer per format over a [`Document`] of the view, each laying it out and
//! computing nothing. JSON is not a layout of the document but the plain struct itself, written
//! by its presenter.

pub mod csv;
mod html;
mod markdown;
pub mod svg;
mod terminal;

use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;

use crate::view::Document;

/// The version of every JSON document headroom writes: the artefacts' version.
pub const SCHEMA_VERSION: u32 = crate::artefact::SCHEMA_VERSION;

/// How a command prints its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Terminal tables.
    #[default]
    Table,
    /// One JSON object with a `schema_version` (an artefact's with its `kind`).
    Json,
    /// Markdown, for pasting into a review (charts as SVG files beside it, with -o).
    Md,
    /// Comma-separated values with plain numbers, for spreadsheets.
    Csv,
    /// One self-contained HTML file: inline SVG charts and CSS, no network access.
    Html,
}

/// Lays a document out in one format.
trait Renderer {
    /// Writes `doc` to `out`. `dest` is the file `out` writes to, when there is one: a format
    /// whose charts live in files of their own writes them beside it.
    fn write(&self, doc: &Document, out: &mut dyn Write, dest: Option<&Path>) -> Result<()>;
}

/// Renders `doc` in `format` (any but JSON, which the presenter writes).
pub fn render(doc: &Document, format: Format, out: &mut dyn Write, dest: Option<&Path>) -> Result<()> {
    let renderer: &dyn Renderer = match format {
        Format::Table => &terminal::Terminal,
        Format::Md => &markdown::Markdown,
        Format::Csv => &csv::Csv,
        Format::Html => &html::Html,
        Format::Json => anyhow::bail!("JSON is written by the presenter, not laid out from a document"),
    };
    renderer.write(doc, out, dest)
}

/// Writes `path` through a temporary file beside it, synced and then renamed, so that a reader,
/// a crash or Ctrl-C never sees half a file; `-` writes standard output.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>) -> anyhow::Result<()> {
    use anyhow::Context;
    // `-`: standard output.
    if path.to_str() == Some("-") {
        let mut out = io::BufWriter::new(io::stdout().lock());
        write(&mut out)?;
        return Ok(out.flush()?);
    }
    let name = path.file_name().map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let file = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = io::BufWriter::new(file);
    write(&mut w)?;
    w.flush().and_then(|_| w.get_ref().sync_all()).with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(w);
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
