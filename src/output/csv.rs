//! CSV: one table of plain values for spreadsheets and scripts.

use std::io::{self, Write};

use super::{Doc, Exporter, Section};

/// The CSV format.
pub struct Csv;

/// The I/O error inside a csv error, so that a closed pipe is still seen as one.
fn io_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Writes one section as a CSV table.
pub fn write_section(s: &Section, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&s.header).map_err(io_error)?;
    for row in &s.rows {
        w.write_record(row).map_err(io_error)?;
    }
    w.flush()
}

impl Exporter for Csv {
    fn write(&self, doc: &Doc, out: &mut dyn Write) -> io::Result<()> {
        for (i, s) in doc.sections.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            write_section(s, out)?;
        }
        Ok(())
    }
}
