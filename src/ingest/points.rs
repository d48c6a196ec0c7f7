//! Reading (concurrency, throughput) points for `headroom fit` from a CSV file or stdin.

use std::io::Read;

use std::path::Path;

use anyhow::Result;

use crate::artefact::results::Results;
use crate::error::InputError;
use crate::model::usl_fit::Point;

/// Which CSV columns hold N and X.
#[derive(Debug, Clone)]
pub struct Columns {
    pub concurrency: String,
    pub throughput: String,
}

/// How an input path is named in messages: `<stdin>` for `-`.
pub fn display_name(path: &Path) -> String {
    crate::input::name(path)
}

/// The points to fit, and the steps of a results file left out, each with the reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points {
    pub points: Vec<Point>,
    pub dropped: Vec<String>,
}

/// Reads points from `path` (`-` for stdin): a CSV, or a `results.json` from `headroom run`.
pub fn read(path: &Path, cols: &Columns) -> Result<Points> {
    let name = display_name(path);
    let text = crate::input::read_text(path, "the measurements")?;
    if text.trim_start().starts_with('{') {
        return Ok(from_results(&text, &name)?);
    }
    Ok(Points { points: parse_csv(text.as_bytes(), &name, cols)?, dropped: Vec::new() })
}

/// Points from a run's steps: N is the users of a closed step, or the measured mean in flight of
/// an open one (stress), and X the achieved throughput. An open step that did not deliver its
/// offered load is left out: saturated, its in-flight count is the generator's limit, not a
/// concurrency the target chose; with the generator behind, the throughput is the generator's.
pub fn from_results(text: &str, file: &str) -> Result<Points, InputError> {
    let run: Results = crate::artefact::parse(text, file)?;
    let mut out = Points::default();
    for s in run.steps.iter().filter(|s| s.achieved_rps > 0.0) {
        if let (None, Some(why)) = (s.users, s.delivery.reason()) {
            out.dropped.push(format!("step '{}' left out: {why}", s.name));
            continue;
        }
        let n = s.users.map_or(s.mean_in_flight, |u| u as f64);
        if n <= 0.0 {
            return Err(InputError::BadFile {
                file: file.into(),
                message: format!("step '{}' has no concurrency to fit", s.name),
            });
        }
        out.points.push(Point { n, x: s.achieved_rps });
    }
    Ok(out)
}

fn column_index(header: &csv::StringRecord, want: &str, file: &str, flag: &str) -> Result<usize, InputError> {
    header.iter().position(|h| h.trim().eq_ignore_ascii_case(want)).ok_or_else(|| InputError::MissingColumn {
        file: file.into(),
        column: want.into(),
        available: header.iter().map(|h| format!("'{}'", h.trim())).collect::<Vec<_>>().join(", "),
        flag: flag.into(),
    })
}

fn positive(record: &csv::StringRecord, idx: usize, column: &str, file: &str, line: u64) -> Result<f64, InputError> {
    let raw = record.get(idx).unwrap_or("").trim();
    match raw.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(InputError::BadCell {
            file: file.into(),
            line,
            column: column.into(),
            expected: "a positive number".into(),
            found: crate::error::quote(raw),
        }),
    }
}

/// Parses a CSV with a header row; every bad cell is an error naming its line and column.
pub fn parse_csv<R: Read>(reader: R, file: &str, cols: &Columns) -> Result<Vec<Point>, InputError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).comment(Some(b'#')).from_reader(reader);
    let header = rdr.headers().map_err(|e| InputError::BadFile { file: file.into(), message: e.to_string() })?.clone();
    if header.is_empty() {
        return Err(InputError::BadFile {
            file: file.into(),
            message: "empty file: expected a header row such as 'concurrency,throughput'".into(),
        });
    }
    let n_idx = column_index(&header, &cols.concurrency, file, "--concurrency-column")?;
    let x_idx = column_index(&header, &cols.throughput, file, "--throughput-column")?;
    let mut points = Vec::new();
    for record in rdr.records() {
        let record = record.map_err(|e| InputError::BadRow {
            file: file.into(),
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let n = positive(&record, n_idx, &cols.concurrency, file, line)?;
        let x = positive(&record, x_idx, &cols.throughput, file, line)?;
        points.push(Point { n, x });
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Columns {
        Columns { concurrency: "concurrency".into(), throughput: "throughput".into() }
    }

    #[test]
    fn names_line_and_column() {
        let csv = "concurrency,throughput\n1,100\n2,abc\n";
        let e = parse_csv(csv.as_bytes(), "s.csv", &cols()).unwrap_err().to_string();
        assert_eq!(e, "s.csv:3: column 'throughput': expected a positive number, found 'abc'");
    }

    #[test]
    fn missing_column_lists_the_header() {
        let e = parse_csv("users,rps\n1,2\n".as_bytes(), "s.csv", &cols()).unwrap_err().to_string();
        assert!(
            e.contains("no column named 'concurrency'")
                && e.contains("'users', 'rps'")
                && e.contains("--concurrency-column"),
            "{e}"
        );
    }

    #[test]
    fn reads_in_any_column_order() {
        let p = parse_csv("throughput,concurrency\n100,1\n190,2\n".as_bytes(), "s.csv", &cols()).unwrap();
        assert_eq!(p, vec![Point { n: 1.0, x: 100.0 }, Point { n: 2.0, x: 190.0 }]);
    }
}
