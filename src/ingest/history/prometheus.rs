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
struct Series {
    #[serde(default)]
    metric: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Whether text is JSON rather than CSV: its first character is `{`, which no history CSV's is.
pub fn is_json(text_start: &[u8]) -> bool {
    text_start.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// The step values of every series summed by timestamp, as rows of a rate.
fn rows(series: &[Series], source: &str) -> Result<Vec<Row>, InputError> {
    let mut sum: BTreeMap<i64, f64> = BTreeMap::new();
    for (i, s) in series.iter().enumerate() {
        for (k, (ts, value)) in s.values.iter().enumerate() {
            let v: f64 = value.parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0).ok_or_else(|| {
                InputError::BadFile {
                    file: source.into(),
                    message: format!(
                        "data.result[{i}].values[{k}]: expected a request rate of 0 or more, found '{value}' (series {})",
                        serde_json::Value::Object(s.metric.clone())
                    ),
                }
            })?;
            *sum.entry((ts * 1000.0).round() as i64).or_default() += v;
        }
    }
    Ok(sum
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
        .collect())
}

/// Reads a `query_range` answer into rows accumulated as `setup` says (its values are rates);
/// `source` names it in messages.
pub fn read(text: &str, source: &str, setup: &Setup) -> Result<History, InputError> {
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
    let rows = rows(&data.result, source)?;
    let n = rows.len() as u64;
    if rows.len() < 2 {
        return Err(bad(format!("{n} step(s) of data: a history needs at least two")));
    }
    let mut history = Accumulator::start(source, setup, rows)?.finish();
    history.rows = n;
    Ok(history)
}
