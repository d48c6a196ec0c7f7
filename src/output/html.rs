//! HTML: one self-contained file. The charts are inline SVG and the style is inline CSS, so the
//! file opens offline, mails as an attachment and prints cleanly. It has no script.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use super::{svg, Renderer};
use crate::view::{Block, Document, Fact, Status, Table};

/// The HTML format.
pub struct Html;

const STYLE: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1d232a; max-width: 980px;
       margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid #d8dee4; padding-bottom: .2rem; }
.sources { color: #57606a; font-size: .9rem; }
dl { display: grid; grid-template-columns: 13rem 1fr; gap: .35rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
.badge { display: inline-block; font-size: .75rem; font-weight: 700; padding: 0 .45rem; border-radius: .6rem;
         margin-right: .4rem; color: #fff; }
.pass { background: #1a7f37; } .fail { background: #cf222e; } .warn { background: #9a6700; }
figure { margin: 1.2rem 0; break-inside: avoid; } figure svg { width: 100%; height: auto; border: 1px solid #d8dee4; }
table { border-collapse: collapse; font-size: .85rem; width: 100%; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d8dee4; padding: .25rem .5rem; text-align: right; }
th:first-child, td:first-child, .text { text-align: left; } th { background: #f6f8fa; }
.notes { color: #57606a; font-size: .85rem; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table { break-inside: auto; }
               tr { break-inside: avoid; } }
";

/// Escapes text for HTML content and attributes.
/// Text made safe inside an HTML or XML element or a double-quoted attribute.
pub(super) fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn facts(list: &[Fact], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "<dl>")?;
    for f in list {
        let badge = match f.status {
            Some(Status::Pass) => "<span class=\"badge pass\">PASS</span>",
            Some(Status::Fail) => "<span class=\"badge fail\">FAIL</span>",
            Some(Status::Warn) => "<span class=\"badge warn\">ACTION</span>",
            None => "",
        };
        writeln!(out, "<dt>{}</dt><dd>{badge}{}</dd>", esc(&f.label), esc(&f.value))?;
    }
    writeln!(out, "</dl>")
}

/// Whether most cells of a column are words rather than numbers (a number starts with a digit,
/// a sign or a dash for none).
fn words<'a>(cells: impl Iterator<Item = &'a String>) -> bool {
    let (mut text, mut all) = (0, 0);
    for c in cells.filter(|c| !c.trim().is_empty()) {
        all += 1;
        let first = c.trim_start().chars().next().unwrap_or('0');
        if !(first.is_ascii_digit() || "+-−—–.<>≤≥~".contains(first)) {
            text += 1;
        }
    }
    text * 2 > all
}

fn table(s: &Table, out: &mut dyn Write) -> std::io::Result<()> {
    if !s.heading.is_empty() {
        writeln!(out, "<h2>{}</h2>", esc(&s.heading))?;
    }
    // Numbers align right, so that their digits line up; a column of words reads from the left.
    let text: Vec<bool> = (0..s.header.len()).map(|i| words(s.rows.iter().filter_map(|r| r.get(i)))).collect();
    let class = |i: usize| if text.get(i).copied().unwrap_or(false) { " class=\"text\"" } else { "" };
    writeln!(out, "<table>\n<thead><tr>")?;
    for (i, h) in s.header.iter().enumerate() {
        write!(out, "<th{}>{}</th>", class(i), esc(h))?;
    }
    writeln!(out, "</tr></thead>\n<tbody>")?;
    for row in &s.rows {
        write!(out, "<tr>")?;
        for (i, c) in row.iter().enumerate() {
            write!(out, "<td{}>{}</td>", class(i), esc(c))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>\n</table>")?;
    for n in &s.notes {
        writeln!(out, "<p class=\"notes\">{}</p>", esc(n))?;
    }
    Ok(())
}

impl Renderer for Html {
    fn write(&self, doc: &Document, out: &mut dyn Write, _: Option<&Path>) -> Result<()> {
        writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
        writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
        writeln!(out, "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>", esc(&doc.title))?;
        writeln!(out, "<h1>{}</h1>", esc(&doc.title))?;
        if let Some(s) = &doc.sources {
            let files: Vec<String> =
                s.files.iter().map(|(f, k)| format!("<code>{}</code> ({})", esc(f), esc(k))).collect();
            writeln!(out, "<p class=\"sources\">Made by headroom {} from {}.</p>", esc(&s.version), files.join(", "))?;
        }
        for block in &doc.blocks {
            match block {
                Block::Facts { heading, facts: list } => {
                    writeln!(out, "<h2>{}</h2>", esc(heading))?;
                    facts(list, out)?;
                }
                Block::Table(t) => table(t, out)?,
                Block::Charts(list) => {
                    writeln!(out, "<h2>Charts</h2>")?;
                    for c in list {
                        // plotters writes a standalone document; inline SVG starts at <svg>.
                        let svg = svg::svg(c)?;
                        let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
                        // The chart draws its own title; a caption would only say it again.
                        writeln!(
                            out,
                            "<figure id=\"chart-{}\" class=\"chart\" aria-label=\"{}\">\n{svg}\n</figure>",
                            esc(&c.id),
                            esc(&c.title)
                        )?;
                    }
                }
                Block::Notes { heading, items } => {
                    writeln!(out, "<h2>{}</h2>\n<ul class=\"notes\">", esc(heading))?;
                    for n in items {
                        writeln!(out, "<li>{}</li>", esc(n))?;
                    }
                    writeln!(out, "</ul>")?;
                }
            }
        }
        writeln!(out, "</body>\n</html>")?;
        Ok(())
    }
}
