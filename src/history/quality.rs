//! Data-quality findings and how each was treated.

use serde::Serialize;

/// How many examples of each finding are kept (the counts are always complete).
pub const EXAMPLES: usize = 5;

/// A stretch with no rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// Unix seconds of the first missing row and of the row that ends the gap.
    pub from_s: f64,
    pub to_s: f64,
    pub missing_rows: u64,
    /// File line of the row after the gap.
    pub line: u64,
}

/// A run of zero rates long enough to be an outage rather than a quiet spell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outage {
    pub from_s: f64,
    /// Unix seconds of the last zero row plus one interval.
    pub to_s: f64,
    pub rows: u64,
    pub line: u64,
}

/// Everything found in the data, with examples (file lines) and counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Quality {
    pub gaps: Vec<Gap>,
    pub gap_count: u64,
    pub missing_rows: u64,
    /// Rows with the same timestamp as the row before; the first is kept.
    pub duplicates: u64,
    pub duplicate_lines: Vec<u64>,
    /// Rows earlier than a row before them; aggregated into their own periods.
    pub out_of_order: u64,
    pub out_of_order_lines: Vec<u64>,
    pub outages: Vec<Outage>,
    pub outage_rows: u64,
    /// Zero-rate rows in runs too short to be outages; kept as measured.
    pub isolated_zero_rows: u64,
    /// Rows that could not be read, with `--skip-bad-rows`; otherwise the first is an error.
    pub bad_rows: u64,
    pub bad_row_examples: Vec<String>,
    /// The timestamps are Unix milliseconds (told by their magnitude).
    pub unix_millis: bool,
}

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
            out.push("timestamps are Unix milliseconds (told by their 11 to 13 digits): read as such".into());
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
