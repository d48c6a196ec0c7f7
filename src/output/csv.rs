//! CSV: the document's one table of plain values (or, without one, every table; or its facts).

use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;

use super::Renderer;
use crate::view::{Block, Document, Table};

/// The CSV format.
pub struct Csv;

/// The I/O error inside a csv error, so that a closed pipe is still seen as one.
fn io_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Writes one table as CSV: its header, then its rows.
pub fn write_table(s: &Table, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&s.header).map_err(io_error)?;
    for row in &s.rows {
        w.write_record(row).map_err(io_error)?;
    }
    w.flush()
}

impl Renderer for Csv {
    fn write(&self, doc: &Document, out: &mut dyn Write, _: Option<&Path>) -> Result<()> {
        if let Some(t) = &doc.csv {
            return Ok(write_table(t, out)?);
        }
        let tables: Vec<&Table> = doc.all_tables().collect();
        if tables.is_empty() {
            let mut facts = Table::new("", &["section", "label", "value"]);
            for block in &doc.blocks {
                if let Block::Facts { heading, facts: list } = block {
                    for f in list {
                        facts = facts.row([heading.to_lowercase(), f.label.clone(), f.value.clone()]);
                    }
                }
            }
            return Ok(write_table(&facts, out)?);
        }
        for (i, t) in tables.into_iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            write_table(t, out)?;
        }
        Ok(())
    }
}
