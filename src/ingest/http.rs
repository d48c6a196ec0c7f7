//! An HTTP answer read whole within a bound, so that a server that answers without end costs at
//! most the bound (the Prometheus range queries of a history, the target's metrics during a run).

use std::io::Read;

/// The body of `response`, or `None` when it is longer than `max` bytes.
pub fn body_within(response: ureq::Response, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    response.into_reader().take(max + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}
