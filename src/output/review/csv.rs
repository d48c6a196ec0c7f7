//! CSV: the review's one table of plain numbers.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use super::ReviewWriter;
use crate::report::Review;

pub struct Csv;

impl ReviewWriter for Csv {
    fn write(&self, review: &Review, out: &mut dyn Write, _: Option<&Path>) -> Result<()> {
        match &review.csv {
            Some(table) => crate::output::csv::write_section(table, out)?,
            None => {
                let mut facts = crate::output::Section::new("", &["section", "label", "value"]);
                for (section, list) in [("summary", &review.summary), ("assumptions", &review.assumptions)] {
                    for f in list.iter() {
                        facts = facts.row([section.to_string(), f.label.clone(), f.value.clone()]);
                    }
                }
                crate::output::csv::write_section(&facts, out)?
            }
        }
        Ok(())
    }
}
