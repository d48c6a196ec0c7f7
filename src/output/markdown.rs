//! Markdown: a heading per block, facts as a list, pipe tables, and charts as SVG files beside
//! the document (or named, when it goes to standard output).

use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;

use super::{svg, Renderer};
use crate::view::{Block, Chart, Document, Fact, Status, Table};

/// The Markdown format.
pub struct Markdown;

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Writes one table: its heading, a pipe table and its notes.
fn table(s: &Table, out: &mut dyn Write) -> io::Result<()> {
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

fn facts(heading: &str, list: &[Fact], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## {heading}\n")?;
    for f in list {
        let mark = match f.status {
            Some(Status::Pass) => "✅ ",
            Some(Status::Fail) => "❌ ",
            Some(Status::Warn) => "⚠️ ",
            None => "",
        };
        writeln!(out, "- **{}**: {mark}{}", f.label, f.value)?;
    }
    Ok(())
}

fn charts(list: &[Chart], out: &mut dyn Write, dest: Option<&Path>) -> Result<()> {
    writeln!(out, "## Charts\n")?;
    match dest {
        Some(path) => {
            let stem = path.file_stem().map_or("report".into(), |s| s.to_string_lossy().into_owned());
            let dir = path.parent().unwrap_or(Path::new("."));
            for c in list {
                let name = format!("{stem}-{}.svg", c.id);
                svg::write_svg(c, &dir.join(&name))?;
                writeln!(out, "![{}]({name})\n", c.title)?;
            }
        }
        None => {
            for c in list {
                writeln!(out, "- {} (written as `NAME-{}.svg` beside the report with `-o NAME.md`)", c.title, c.id)?;
            }
        }
    }
    Ok(())
}

impl Renderer for Markdown {
    fn write(&self, doc: &Document, out: &mut dyn Write, dest: Option<&Path>) -> Result<()> {
        writeln!(out, "# {}", doc.title)?;
        if let Some(s) = &doc.sources {
            let files: Vec<String> = s.files.iter().map(|(f, k)| format!("`{f}` ({k})")).collect();
            writeln!(out, "\nMade by headroom {} from {}.", s.version, files.join(", "))?;
        }
        for block in &doc.blocks {
            writeln!(out)?;
            match block {
                Block::Facts { heading, facts: list } => facts(heading, list, out)?,
                Block::Table(t) => table(t, out)?,
                Block::Charts(list) => charts(list, out, dest)?,
                Block::Notes { heading, items } => {
                    writeln!(out, "## {heading}\n")?;
                    for n in items {
                        writeln!(out, "- {n}")?;
                    }
                }
            }
        }
        Ok(())
    }
}
