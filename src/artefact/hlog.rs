//! HdrHistogram interval logs (`.hlog`): a step's latency, one histogram a second, in the format
//! of HdrHistogram's own `HistogramLogWriter`, so that its tools (`HistogramLogProcessor`,
//! HdrHistogram's plotters) read a headroom run as they read any other.

use std::io::{self, Write};
use std::time::Duration;

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;

use super::results::StepResult;

/// The file name of step `index` (1-based) of a run: `step-01-load-50.hlog`.
pub fn file_name(index: usize, step: &StepResult) -> String {
    let slug: String = step
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("step-{index:02}-{slug}.hlog")
}

/// Writes a step's per-second latency histograms (from the intended send time, microseconds) as
/// an interval log. Interval timestamps are seconds from the step's start; the `max` column is
/// in milliseconds (a value unit ratio of 1000, as HdrHistogram's tools take it with
/// `-outputValueUnitRatio 1000`). Seconds without a response have no line.
pub fn write(step: &StepResult, version: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut serializer = V2DeflateSerializer::new();
    let mut buf = Vec::new();
    let mut log = IntervalLogWriterBuilder::new()
        .add_comment(&format!("headroom {version}: step '{}', latency from the intended send time", step.name))
        .add_comment(
            "values in microseconds; interval timestamps in seconds from the step's start; max in milliseconds",
        )
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut buf, &mut serializer)?;
    let tag = Tag::new("latency");
    for second in &step.series {
        let Some(h) = second.histogram().filter(|h| !h.is_empty()) else { continue };
        log.write_histogram(&h, Duration::from_secs_f64(second.t_s), Duration::from_secs_f64(second.duration_s), tag)
            .map_err(|e| io::Error::other(format!("{e:?}")))?;
    }
    drop(log);
    out.write_all(&buf)
}
