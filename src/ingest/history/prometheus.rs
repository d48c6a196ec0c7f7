//! A Prometheus range query's answer (the JSON of `/api/v1/query_range`, as `curl` or
//! `promtool query range -o json` save it) read as a history: the sum of its series at each
//! step, taken as requests per second (a query such as `sum(rate(http_requests_total[5m]))`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::accumulator::{Accumulator, Row, Setup};
use super::rollup::History;
use crate::error::InputError;

#[derive(Deserialize)]
struct Response {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: Vec<Series>,
}

#[derive(Deserialize)]
pub(super) struct Series {
    #[serde(default)]
    metric: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Whether text is JSON rather than CSV: its first character is `{`, which no history CSV's is.
pub fn is_json(text_start: &[u8]) -> bool {
    text_start.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Every series' step values added into `sum` by timestamp (milliseconds): the request rate of
/// all series together.
pub(super) fn add(series: &[Series], source: &str, sum: &mut BTreeMap<i64, f64>) -> Result<(), InputError> {
    for (i, s) in series.iter().enumerate() {
        for (k, (ts, value)) in s.values.iter().enumerate() {
            let v: f64 = value.parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0).ok_or_else(|| {
                InputError::BadFile {
                    file: source.into(),
                    message: format!(
                        "data.result[{i}].values[{k}] (at {}): expected a request rate of 0 or more, found '{value}' (series {})",
                        crate::calendar::rfc3339(*ts),
                        serde_json::Value::Object(s.metric.clone())
                    ),
                }
            })?;
            *sum.entry((ts * 1000.0).round() as i64).or_default() += v;
        }
    }
    Ok(())
}

/// The summed steps as a history accumulated as `setup` says.
pub(super) fn history(sum: BTreeMap<i64, f64>, source: &str, setup: &Setup) -> Result<History, InputError> {
    let n = sum.len() as u64;
    if n < 2 {
        return Err(InputError::BadFile {
            file: source.into(),
            message: format!("{n} step(s) of data: a history needs at least two"),
        });
    }
    let rows = sum
        .into_iter()
        .enumerate()
        .map(|(i, (ms, value))| Row {
            ts: ms as f64 / 1000.0,
            value,
            instances: None,
            cpu: None,
            peak: None,
            line: i as u64 + 1,
        })
        .collect();
    let mut history = Accumulator::start(source, setup, rows)?.finish();
    history.rows = n;
    Ok(history)
}

/// The series of a `query_range` answer, or what Prometheus said was wrong.
pub(super) fn series(text: &str, source: &str) -> Result<Vec<Series>, InputError> {
    let bad = |message: String| InputError::BadFile { file: source.into(), message };
    let r: Response = serde_json::from_str(text)
        .map_err(|e| bad(format!("line {}: not a Prometheus query_range answer: {e}", e.line())))?;
    if r.status != "success" {
        return Err(bad(format!(
            "Prometheus answered {} ({}): {}",
            r.status,
            r.error_type.unwrap_or_default(),
            r.error.unwrap_or_default()
        )));
    }
    let data = r.data.ok_or_else(|| bad("a successful answer without data".into()))?;
    if data.result_type != "matrix" {
        return Err(bad(format!(
            "a '{}' result: a history needs a range query's 'matrix' (/api/v1/query_range, not /api/v1/query)",
            data.result_type
        )));
    }
    Ok(data.result)
}

/// Reads a `query_range` answer into rows accumulated as `setup` says (its values are rates);
/// `source` names it in messages.
pub fn read(text: &str, source: &str, setup: &Setup) -> Result<History, InputError> {
    let mut sum = BTreeMap::new();
    add(&series(text, source)?, source, &mut sum)?;
    history(sum, source, setup)
}
