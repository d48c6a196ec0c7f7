//! Data-quality findings and how each was treated.

pub use crate::artefact::forecast::{Gap, Outage, Quality};

/// How many examples of each finding are kept (the counts are always complete).
pub const EXAMPLES: usize = 5;

impl Quality {
    pub(crate) fn push_line(lines: &mut Vec<u64>, line: u64) {
        if lines.len() < EXAMPLES {
            lines.push(line);
        }
    }

    /// One sentence per finding, saying what was done about it.
    pub fn treatments(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.unix_millis {
            out.push(
                "timestamps are Unix milliseconds (told by their 11 to 13 digits, or --epoch ms): read as such".into(),
            );
        }
        if let Some(zone) = &self.zone {
            out.push(format!(
                "timestamps without an offset read as {zone} (--timezone); days and months are UTC days and months"
            ));
        }
        if self.gap_count > 0 {
            out.push(format!(
                "{} gap(s), {} missing rows: periods that cover them are marked by their coverage and days under half covered are left out of the trend fit",
                self.gap_count, self.missing_rows
            ));
        }
        if !self.outages.is_empty() {
            out.push(format!(
                "{} outage(s) (runs of zero rate), {} rows: excluded from means and fits, because an outage is missing demand, not low demand",
                self.outages.len(),
                self.outage_rows
            ));
        }
        if self.isolated_zero_rows > 0 {
            out.push(format!("{} isolated zero-rate rows: kept as measured", self.isolated_zero_rows));
        }
        if self.duplicates > 0 {
            out.push(format!(
                "{} duplicate timestamps: the first row of each was kept, the others dropped",
                self.duplicates
            ));
        }
        if self.out_of_order > 0 {
            out.push(format!("{} out-of-order rows: aggregated into their own periods", self.out_of_order));
        }
        if self.bad_rows > 0 {
            out.push(format!("{} unreadable rows skipped (--skip-bad-rows)", self.bad_rows));
        }
        out
    }
}
