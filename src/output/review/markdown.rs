//! Markdown: the summary, the assumptions, the charts as SVG files beside the document, and
//! the tables.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use super::ReviewWriter;
use crate::output::chart;
use crate::report::{Fact, Review, Status};

pub struct Markdown;

fn facts(list: &[Fact], out: &mut dyn Write) -> std::io::Result<()> {
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

impl ReviewWriter for Markdown {
    fn write(&self, review: &Review, out: &mut dyn Write, dest: Option<&Path>) -> Result<()> {
        writeln!(out, "# {}\n", review.title)?;
        let sources: Vec<String> = review.sources.iter().map(|s| format!("`{}` ({})", s.file, s.kind)).collect();
        writeln!(out, "Made by headroom {} from {}.\n", review.headroom_version, sources.join(", "))?;
        writeln!(out, "## Summary\n")?;
        facts(&review.summary, out)?;
        writeln!(out, "\n## Assumptions\n")?;
        facts(&review.assumptions, out)?;
        writeln!(out, "\n## Charts\n")?;
        match dest {
            Some(path) => {
                let stem = path.file_stem().map_or("report".into(), |s| s.to_string_lossy().into_owned());
                let dir = path.parent().unwrap_or(Path::new("."));
                for c in &review.charts {
                    let name = format!("{stem}-{}.svg", c.id);
                    chart::write_svg(c, &dir.join(&name))?;
                    writeln!(out, "![{}]({name})\n", c.title)?;
                }
            }
            None => {
                for c in &review.charts {
                    writeln!(
                        out,
                        "- {} (written as `NAME-{}.svg` beside the report with `-o NAME.md`)",
                        c.title, c.id
                    )?;
                }
                writeln!(out)?;
            }
        }
        for table in &review.tables {
            crate::output::markdown::write_section(table, out)?;
            writeln!(out)?;
        }
        if !review.warnings.is_empty() {
            writeln!(out, "## Notes\n")?;
            for w in &review.warnings {
                writeln!(out, "- {w}")?;
            }
        }
        Ok(())
    }
}
