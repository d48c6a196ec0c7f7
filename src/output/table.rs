//! Terminal tables (comfy-table).

use std::io::{self, Write};

use comfy_table::{presets, CellAlignment, ContentArrangement, Table as Comfy};

use super::{Doc, Exporter};

/// The terminal table format.
pub struct Table;

fn numeric(cell: &str) -> bool {
    let t = cell.trim_start_matches(['-', '+', '≈', '~']);
    t.chars().next().is_some_and(|c| c.is_ascii_digit())
}

impl Exporter for Table {
    fn write(&self, doc: &Doc, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", doc.title)?;
        for s in &doc.sections {
            writeln!(out)?;
            if !s.heading.is_empty() {
                writeln!(out, "{}", s.heading)?;
            }
            let mut t = Comfy::new();
            t.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
            t.set_header(&s.header);
            for row in &s.rows {
                t.add_row(row);
            }
            for (i, col) in t.column_iter_mut().enumerate() {
                if s.rows.iter().all(|r| r.get(i).is_some_and(|c| numeric(c))) {
                    col.set_cell_alignment(CellAlignment::Right);
                }
            }
            writeln!(out, "{t}")?;
            for n in &s.notes {
                writeln!(out, "  {n}")?;
            }
        }
        Ok(())
    }
}
