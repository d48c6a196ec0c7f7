//! Rendering: one renderer per format over a [`Document`] of the view, each laying it out and
//! computing nothing. JSON is not a layout of the document but the plain struct itself, written
//! by its presenter.

pub mod csv;
mod html;
pub mod junit;
mod markdown;
pub mod svg;
mod terminal;

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use crate::view::Document;

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
