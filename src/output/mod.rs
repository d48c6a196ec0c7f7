//! Rendering: commands build plain structs; each format is one small file that writes them.
//!
//! Text formats (table, Markdown) share a neutral [`Doc`] of titled sections, so a result type
//! says once what its rows are. JSON serializes the result struct itself, with a schema version.

pub mod chart;
pub(crate) mod csv;
mod json;
pub(crate) mod markdown;
pub mod review;
mod table;

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

/// The version of every JSON document headroom writes: the artefacts' version.
pub const SCHEMA_VERSION: u32 = crate::artefact::SCHEMA_VERSION;

/// How a command prints its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// A terminal table.
    #[default]
    Table,
    /// One JSON object with a `schema_version`.
    Json,
    /// Markdown tables, for pasting into a review.
    Md,
    /// Comma-separated values with plain numbers, for spreadsheets.
    Csv,
}

/// A titled document of sections, the common ground of the text formats.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    pub title: String,
    pub sections: Vec<Section>,
}

/// One table with an optional heading and notes printed under it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    pub heading: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

impl Section {
    /// A section with a heading and column names.
    pub fn new(heading: &str, header: &[&str]) -> Self {
        Section {
            heading: heading.into(),
            header: header.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    /// Appends a row.
    pub fn row<S: Into<String>>(mut self, cells: impl IntoIterator<Item = S>) -> Self {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Appends a note line.
    pub fn note(mut self, text: impl Into<String>) -> Self {
        self.notes.push(text.into());
        self
    }
}

/// A result that can be printed in every format.
pub trait Render: Serialize {
    /// The rows the text formats print.
    fn doc(&self) -> Doc;

    /// The one table CSV writes, with unformatted numbers; by default every section of [`doc`](Render::doc).
    fn csv(&self) -> Option<Section> {
        None
    }

    /// Its JSON: versioned; an artefact writes its own, its kind beside the version.
    fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        json::write(self, out)
    }
}

/// Writes a [`Doc`] in one text format.
trait Exporter {
    fn write(&self, doc: &Doc, out: &mut dyn Write) -> io::Result<()>;
}

/// Writes `value` as versioned JSON (`schema_version` first).
pub fn write_json<T: Serialize>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    json::write(value, out)
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

/// Prints `value` in `format` to `out`.
pub fn emit<T: Render>(value: &T, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Json => value.write_json(out),
        Format::Table => table::Table.write(&value.doc(), out),
        Format::Md => markdown::Markdown.write(&value.doc(), out),
        Format::Csv => match value.csv() {
            Some(section) => csv::write_section(&section, out),
            None => csv::Csv.write(&value.doc(), out),
        },
    }
}
