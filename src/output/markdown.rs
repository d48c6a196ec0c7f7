//! Markdown: a heading per section and a pipe table.

use std::io::{self, Write};

use super::{Doc, Exporter, Section};

/// The Markdown format.
pub struct Markdown;

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Writes one section: its heading, a pipe table and its notes.
pub fn write_section(s: &Section, out: &mut dyn Write) -> io::Result<()> {
    if !s.heading.is_empty() {
        writeln!(out, "## {}\n", s.heading)?;
    }
    let header: Vec<String> = s.header.iter().map(|h| cell(h)).collect();
    writeln!(out, "| {} |", header.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(s.header.len()))?;
    for row in &s.rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    if !s.notes.is_empty() {
        writeln!(out)?;
        for n in &s.notes {
            writeln!(out, "- {n}")?;
        }
    }
    Ok(())
}

impl Exporter for Markdown {
    fn write(&self, doc: &Doc, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "# {}", doc.title)?;
        for s in &doc.sections {
            writeln!(out)?;
            write_section(s, out)?;
        }
        Ok(())
    }
}
