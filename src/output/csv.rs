//! CSV: one table of plain values for spreadsheets and scripts.

use std::io::{self, Write};

use super::{Doc, Exporter, Section};

/// The CSV format.
pub struct Csv;

/// Writes one section as a CSV table.
pub fn write_section(s: &Section, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&s.header)?;
    for row in &s.rows {
        w.write_record(row)?;
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
