//! Recording: HdrHistograms in microseconds (3 significant digits) per request name, for the
//! latency from the intended send time (corrected), the raw service time and the schedule lag,
//! plus error counts by class. Workers write to a few striped shards, each behind its own mutex,
//! so that a lock is shared by a handful of workers at most; a collector swaps out each shard's
//! per-second interval once a second.

use std::sync::Mutex;

pub use crate::artefact::results::{ErrorClass, ErrorCounts};
use hdrhistogram::Histogram;
use tokio::time::Instant;

/// What one exchange ended with: its outcome and the body bytes read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchanged {
    pub outcome: Result<(), ErrorClass>,
    pub bytes: u64,
}

/// Lag past this, with a worker free, is the generator's own, not its timer's (tens of µs on
/// Linux, up to 2 ms on tokio's timer elsewhere).
pub const LAGGING_US: u64 = 5_000;

/// A histogram of microseconds that grows its range as needed.
pub fn histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is valid")
}

/// One finished (or failed) request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    pub request: usize,
    /// Completion − intended send time; `None` when nothing was sent (connect error).
    pub latency_us: Option<u64>,
    /// Completion − actual send time.
    pub service_us: Option<u64>,
    /// Actual − intended send time.
    pub lag_us: u64,
    pub late: bool,
    /// It was already due when a worker took it: no worker was free at its time, so it waited at
    /// the in-flight limit rather than for the generator's timer.
    pub at_limit: bool,
    /// Completion − intended send time for every outcome, connect errors included: the time
    /// the request spent in the generator's system, for Little's Law.
    pub sojourn_us: u64,
    /// Response body bytes read.
    pub bytes: u64,
    /// When it finished, µs after its step's start.
    pub done_us: u64,
    pub error: Option<ErrorClass>,
}

impl Sample {
    /// It got an HTTP response (of any status).
    pub fn answered(&self) -> bool {
        !matches!(self.error, Some(ErrorClass::Connect | ErrorClass::Timeout | ErrorClass::Io | ErrorClass::Protocol))
    }
}

/// Everything recorded for one request name.
#[derive(Debug, Clone)]
pub struct Record {
    pub latency: Histogram<u64>,
    pub service: Histogram<u64>,
    pub lag: Histogram<u64>,
    pub requests: u64,
    pub errors: ErrorCounts,
    pub late_starts: u64,
    /// Late starts that waited at the in-flight limit (every connection busy).
    pub late_at_limit: u64,
    /// Starts more than [`LAGGING_US`] late with a worker free: the generator's own lag.
    pub lagging: u64,
    /// Sum of every request's time in the system, µs.
    pub sojourn_us: u64,
    /// Response body bytes read.
    pub bytes: u64,
}

impl Default for Record {
    fn default() -> Self {
        Record {
            latency: histogram(),
            service: histogram(),
            lag: histogram(),
            requests: 0,
            errors: ErrorCounts::default(),
            late_starts: 0,
            late_at_limit: 0,
            lagging: 0,
            sojourn_us: 0,
            bytes: 0,
        }
    }
}

impl Record {
    pub(crate) fn add(&mut self, s: &Sample) {
        self.requests += 1;
        // `record` grows an auto-resizing histogram; `saturating_record` would clamp to its
        // current (initially tiny) range.
        if let Some(l) = s.latency_us {
            let _ = self.latency.record(l.max(1));
        }
        if let Some(v) = s.service_us {
            let _ = self.service.record(v.max(1));
        }
        let _ = self.lag.record(s.lag_us.max(1));
        if let Some(e) = s.error {
            self.errors.count(e);
        }
        self.late_starts += s.late as u64;
        self.late_at_limit += (s.late && s.at_limit) as u64;
        self.lagging += (!s.at_limit && s.lag_us > LAGGING_US) as u64;
        self.sojourn_us += s.sojourn_us;
        self.bytes += s.bytes;
    }

    /// Merges another record in, losslessly.
    pub fn merge(&mut self, o: &Record) {
        self.latency.add(&o.latency).expect("auto-resizing histograms always merge");
        self.service.add(&o.service).expect("auto-resizing histograms always merge");
        self.lag.add(&o.lag).expect("auto-resizing histograms always merge");
        self.requests += o.requests;
        self.errors.add(&o.errors);
        self.late_starts += o.late_starts;
        self.late_at_limit += o.late_at_limit;
        self.lagging += o.lagging;
        self.sojourn_us += o.sojourn_us;
        self.bytes += o.bytes;
    }
}

/// One shard: records per request name, and the current second's interval.
#[derive(Debug)]
pub struct Shard {
    pub requests: Vec<Record>,
    pub interval: Record,
    /// When the last request recorded here finished.
    pub last_done: Option<Instant>,
    /// When each answered request finished, µs after its step's start.
    pub departures: Histogram<u64>,
}

/// The striped shards of one step.
pub struct Recorder {
    shards: Vec<Mutex<Shard>>,
}

impl Recorder {
    /// `stripes` shards for `names` request names.
    pub fn new(stripes: usize, names: usize) -> Self {
        let shard = || {
            Mutex::new(Shard {
                requests: vec![Record::default(); names],
                interval: Record::default(),
                last_done: None,
                departures: histogram(),
            })
        };
        Recorder { shards: (0..stripes.max(1)).map(|_| shard()).collect() }
    }

    /// Records a sample from worker `worker`, finished at `done`.
    pub fn record(&self, worker: usize, s: Sample, done: Instant) {
        let mut shard = self.shards[worker % self.shards.len()].lock().unwrap_or_else(|p| p.into_inner());
        shard.requests[s.request].add(&s);
        shard.interval.add(&s);
        shard.last_done = shard.last_done.max(Some(done));
        if s.answered() {
            let _ = shard.departures.record(s.done_us.max(1));
        }
    }

    /// When each answered request finished, µs after the step's start, over all shards.
    pub fn departures(&self) -> Histogram<u64> {
        let mut all = histogram();
        for s in &self.shards {
            all.add(&s.lock().unwrap_or_else(|p| p.into_inner()).departures)
                .expect("auto-resizing histograms always merge");
        }
        all
    }

    /// When the last request recorded finished; `None` before any.
    pub fn last_done(&self) -> Option<Instant> {
        self.shards.iter().filter_map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).last_done).max()
    }

    /// Takes the interval since the last call, merged over shards.
    pub fn take_interval(&self) -> Record {
        let mut out = Record::default();
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            out.merge(&std::mem::take(&mut shard.interval));
        }
        out
    }

    /// Per request name, merged over shards.
    pub fn totals(&self) -> Vec<Record> {
        let mut out: Vec<Record> = Vec::new();
        for shard in &self.shards {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            if out.is_empty() {
                out = shard.requests.clone();
            } else {
                for (o, r) in out.iter_mut().zip(&shard.requests) {
                    o.merge(r);
                }
            }
        }
        out
    }
}

/// Requests that got an HTTP response (of any status).
pub fn answered(r: &Record) -> u64 {
    r.requests - r.errors.unanswered().min(r.requests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_merge_losslessly() {
        let rec = Recorder::new(4, 2);
        for i in 0..1000u64 {
            let error = (i % 10 == 0).then_some(ErrorClass::Http5xx);
            let s = Sample {
                request: (i % 2) as usize,
                latency_us: Some(i + 1),
                service_us: Some(1_000_000 + i),
                lag_us: 3,
                sojourn_us: i + 1,
                error,
                ..Sample::default()
            };
            rec.record(i as usize, s, Instant::now());
        }
        let totals = rec.totals();
        assert_eq!(totals[0].requests + totals[1].requests, 1000);
        assert_eq!(totals[0].errors.http_5xx + totals[1].errors.http_5xx, 100);
        let mut all = totals[0].clone();
        all.merge(&totals[1]);
        assert_eq!(all.latency.len(), 1000);
        assert_eq!(all.latency.max(), 1000);
        assert_eq!(all.latency.value_at_quantile(0.5), 500);
        assert_eq!(all.sojourn_us, 1000 * 1001 / 2);
        // Seconds-long values must not be clamped to the histogram's starting range.
        assert!(all.service.value_at_quantile(0.99) >= 1_000_000, "{}", all.service.value_at_quantile(0.99));
        let interval = rec.take_interval();
        assert_eq!(interval.requests, 1000);
        assert_eq!(rec.take_interval().requests, 0);
    }
}
