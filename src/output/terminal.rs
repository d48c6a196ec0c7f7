//! Terminal tables (comfy-table), with facts as labelled lines.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use comfy_table::{presets, CellAlignment, ColumnConstraint, ContentArrangement, Table as Comfy, Width};

use super::Renderer;
use crate::view::{Block, Document, Status, Table};

/// The terminal format.
pub struct Terminal;

fn numeric(cell: &str) -> bool {
    let t = cell.trim_start_matches(['-', '+', '≈', '~']);
    t.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// A terminal narrower than this (a 0×0 pty says 0) is taken for one of [`FALLBACK_WIDTH`].
const NARROWEST: u16 = 40;
const FALLBACK_WIDTH: u16 = 80;
/// The longest word a column keeps whole; longer ones may wrap.
const LONGEST_WORD: usize = 24;

/// The widest word (run of non-spaces) of a column, header included: the least it may shrink
/// to, so that a number or a name is wrapped at its spaces and never split.
fn widest_word(t: &Table, i: usize) -> usize {
    let words = |cell: &str| cell.split_whitespace().map(|w| w.chars().count()).max().unwrap_or(0);
    let cells = t.rows.iter().filter_map(|r| r.get(i)).chain(t.header.get(i));
    cells.map(|c| words(c)).max().unwrap_or(0).min(LONGEST_WORD)
}

fn table(t: &Table, out: &mut dyn Write) -> std::io::Result<()> {
    if !t.heading.is_empty() {
        writeln!(out, "{}", t.heading)?;
    }
    let mut c = Comfy::new();
    c.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    c.set_header(&t.header);
    for row in &t.rows {
        c.add_row(row);
    }
    if c.width().is_some_and(|w| w < NARROWEST) {
        c.set_width(FALLBACK_WIDTH);
    }
    for (i, col) in c.column_iter_mut().enumerate() {
        if t.rows.iter().all(|r| r.get(i).is_some_and(|c| numeric(c))) {
            col.set_cell_alignment(CellAlignment::Right);
        }
        // The constraint counts the cell's padding (one space each side).
        col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(widest_word(t, i) as u16 + 2)));
    }
    writeln!(out, "{c}")?;
    for n in &t.notes {
        writeln!(out, "  {n}")?;
    }
    Ok(())
}

impl Renderer for Terminal {
    fn write(&self, doc: &Document, out: &mut dyn Write, _: Option<&Path>) -> Result<()> {
        writeln!(out, "{}", doc.title)?;
        if let Some(s) = &doc.sources {
            let files: Vec<String> = s.files.iter().map(|(f, k)| format!("{f} ({k})")).collect();
            writeln!(out, "Made by headroom {} from {}.", s.version, files.join(", "))?;
        }
        for block in &doc.blocks {
            writeln!(out)?;
            match block {
                Block::Table(t) => table(t, out)?,
                Block::Facts { heading, facts } => {
                    writeln!(out, "{heading}")?;
                    for f in facts {
                        let mark = match f.status {
                            Some(Status::Pass) => "[PASS] ",
                            Some(Status::Fail) => "[FAIL] ",
                            Some(Status::Warn) => "[ACTION] ",
                            None => "",
                        };
                        writeln!(out, "  {}: {mark}{}", f.label, f.value)?;
                    }
                }
                Block::Charts(charts) => {
                    writeln!(out, "Charts (drawn in --format html, or as SVG files with --format md -o FILE)")?;
                    for c in charts {
                        writeln!(out, "  {}", c.title)?;
                    }
                }
                Block::Notes { heading, items } => {
                    writeln!(out, "{heading}")?;
                    for n in items {
                        writeln!(out, "  {n}")?;
                    }
                }
            }
        }
        Ok(())
    }
}
