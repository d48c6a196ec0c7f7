//! The timeline both engines share: consecutive steps on one clock with a ticket per scheduled
//! arrival, cut at its end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::plan::profile::Step;

/// Requests that start this long after their intended time count as late starts (tokio's timer
/// has 1 ms granularity, so up to about 1 ms of lag is the pacer, not a busy generator).
pub const LATE_US: u64 = 2_000;

/// How long after a phase's scheduled end a request due within it may still start. Later, the
/// rest of the schedule is not sent (and counted as such): a run lasts its duration plus the
/// time its last requests take, at most one timeout, however far behind the target fell.
pub const GRACE: Duration = Duration::from_millis(100);

/// No cut yet.
const NEVER: u64 = u64::MAX;

/// Consecutive steps on one timeline: a step's arrivals start on schedule even while the
/// previous step's backlog drains, and each request belongs to the step of its intended time.
pub(crate) struct Phase {
    pub steps: Vec<Step>,
    pub starts: Vec<Instant>,
    pub ends: Vec<Instant>,
    /// Index of each step's first ticket; the last entry is the total.
    first: Vec<u64>,
    /// The lowest ticket a worker claimed and did not send.
    refused: AtomicU64,
    /// When the phase was cut (its deadline passed, or a stop), ns after its start.
    cut_ns: AtomicU64,
}

impl Phase {
    pub fn new(steps: &[Step], start: Instant) -> Phase {
        let (mut starts, mut ends, mut first) = (Vec::new(), Vec::new(), vec![0u64]);
        let mut at = start;
        for s in steps {
            starts.push(at);
            at += Duration::from_secs_f64(s.duration_s);
            ends.push(at);
            first.push(first.last().copied().unwrap_or(0) + s.load.count(s.duration_s));
        }
        Phase {
            steps: steps.to_vec(),
            starts,
            ends,
            first,
            refused: AtomicU64::new(NEVER),
            cut_ns: AtomicU64::new(NEVER),
        }
    }

    pub fn total(&self) -> u64 {
        *self.first.last().unwrap_or(&0)
    }

    /// The scheduled tickets of step `i`.
    pub fn count(&self, i: usize) -> u64 {
        self.first[i + 1] - self.first[i]
    }

    /// The moment every request of the phase is given up: its end plus one request timeout.
    pub fn hard_end(&self, timeout: Duration) -> Instant {
        *self.ends.last().expect("a phase has steps") + timeout
    }

    /// The last moment a ticket may start.
    pub fn deadline(&self) -> Instant {
        *self.ends.last().expect("a phase has steps") + GRACE
    }

    /// The step of ticket `k` and its intended send time.
    pub fn locate(&self, k: u64) -> (usize, Instant) {
        let i = self.first.partition_point(|&f| f <= k) - 1;
        (i, self.intended(i, k))
    }

    fn intended(&self, i: usize, k: u64) -> Instant {
        let s = &self.steps[i];
        self.starts[i] + Duration::from_secs_f64(s.load.offset_s(k - self.first[i], s.duration_s))
    }

    /// Marks the phase cut at `now`: nothing more is sent.
    pub fn close(&self, now: Instant) {
        let ns = now.saturating_duration_since(self.starts[0]).as_nanos() as u64;
        self.cut_ns.fetch_min(ns, Ordering::Relaxed);
    }

    /// Whether the phase has been cut.
    pub fn cut_happened(&self) -> bool {
        self.cut_ns.load(Ordering::Relaxed) != NEVER
    }

    fn refuse(&self, k: u64, now: Instant) {
        self.refused.fetch_min(k, Ordering::Relaxed);
        self.close(now);
    }

    /// Waits for a worker's next turn: in an open phase, ticket `k`'s intended time (every
    /// arrival due is served, however late, until the phase's deadline; after it, the ticket
    /// and all after it are not sent); in a closed phase, now, from the phase's start to its
    /// end. `None` when the phase is over or `stop` turned.
    pub async fn turn(&self, k: u64, stop: &mut watch::Receiver<bool>) -> Option<(usize, Instant)> {
        let last_end = *self.ends.last().expect("a phase has steps");
        if self.steps[0].load.is_closed() {
            if Instant::now() < self.starts[0] {
                tokio::time::sleep_until(self.starts[0]).await;
            }
            return (Instant::now() < last_end && !*stop.borrow()).then(|| (0, Instant::now()));
        }
        if k >= self.total() {
            return None;
        }
        let now = Instant::now();
        if now > self.deadline() {
            self.refuse(k, now);
            return None;
        }
        let (step, at) = self.locate(k);
        if at > now {
            tokio::select! {
                _ = tokio::time::sleep_until(at) => {}
                _ = stop.changed() => {
                    self.refuse(k, Instant::now());
                    return None;
                }
            }
        }
        Some((step, at))
    }

    /// The step whose scheduled window holds `t` (the last one after the end).
    pub fn at(&self, t: Instant) -> usize {
        self.ends.iter().position(|e| t < *e).unwrap_or(self.steps.len() - 1)
    }

    /// The tickets of step `i` that were due when the phase was cut and never sent, given the
    /// lowest ticket not sent: how many, and their total wait until the cut in seconds.
    pub fn unsent(&self, i: usize, first_unsent: u64) -> (u64, f64) {
        let cut_ns = self.cut_ns.load(Ordering::Relaxed);
        if cut_ns == NEVER {
            return (0, 0.0);
        }
        let cut = self.starts[0] + Duration::from_nanos(cut_ns);
        let (mut n, mut wait) = (0u64, 0.0);
        for k in first_unsent.max(self.first[i])..self.first[i + 1] {
            let at = self.intended(i, k);
            if at > cut {
                break;
            }
            n += 1;
            wait += (cut - at).as_secs_f64();
        }
        (n, wait)
    }

    /// When step `i` stopped scheduling: its end, or the cut if that came first.
    pub fn stopped_at(&self, i: usize) -> Instant {
        let cut_ns = self.cut_ns.load(Ordering::Relaxed);
        let cut = (cut_ns != NEVER).then(|| self.starts[0] + Duration::from_nanos(cut_ns));
        cut.map_or(self.ends[i], |c| c.min(self.ends[i]))
    }

    /// Tickets of step `i` due by `now`: ticket k is due from its intended time on.
    pub fn due(&self, i: usize, now: Instant) -> u64 {
        let step = &self.steps[i];
        if now < self.starts[i] || step.load.is_closed() {
            return 0;
        }
        let t = now.duration_since(self.starts[i]).as_secs_f64().min(step.duration_s);
        let n = step.load.due_by(t, step.duration_s);
        ((n + 1e-9).floor() as u64 + 1).min(self.count(i))
    }

    /// Tickets of step `i` due by the cut, or all of them when there was none.
    pub fn due_at_cut(&self, i: usize) -> u64 {
        match self.cut_ns.load(Ordering::Relaxed) {
            NEVER => self.count(i),
            ns => self.due(i, self.starts[0] + Duration::from_nanos(ns)),
        }
    }

    /// The lowest ticket refused, if any.
    pub fn first_refused(&self) -> Option<u64> {
        let r = self.refused.load(Ordering::Relaxed);
        (r != NEVER).then_some(r)
    }
}

/// Shards for `workers` workers: a few per core, so that a lock is shared by a handful at most.
pub(crate) fn stripes(workers: usize) -> usize {
    (2 * std::thread::available_parallelism().map_or(2, |n| n.get())).min(workers).max(1)
}

/// Smooth weighted round robin (nginx's): each slot goes to the index furthest behind its
/// share, so a weight-1 item sits between the others instead of after them.
pub(crate) fn rotation(weights: &[u32]) -> Vec<usize> {
    let total: u32 = weights.iter().map(|w| (*w).max(1)).sum();
    let mut credit = vec![0i64; weights.len()];
    (0..total)
        .map(|_| {
            for (c, w) in credit.iter_mut().zip(weights) {
                *c += (*w).max(1) as i64;
            }
            let best = (0..credit.len()).max_by_key(|&i| (credit[i], std::cmp::Reverse(i))).unwrap_or(0);
            credit[best] -= total as i64;
            best
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_rotate_smoothly() {
        // b sits between the a's, never after three of them.
        assert_eq!(rotation(&[3, 1]), [0, 0, 1, 0]);
        assert_eq!(rotation(&[1]), [0]);
    }
}
