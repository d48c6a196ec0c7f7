//! The timeline both engines share: consecutive steps on one clock with a ticket per scheduled
//! arrival, cut at its end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::clock::Alarm;
use crate::plan::profile::Step;

/// Requests that start this long after their intended time count as late starts: a busy
/// generator, not the alarm's wake-up (microseconds; 1–2 ms where it falls back to tokio's timer).
pub const LATE_US: u64 = 2_000;

/// How long after a phase's scheduled end a request due within it may still start. Later, the
/// rest of the schedule is not sent (and counted as such): a run lasts its duration plus the
/// time its last requests take, at most one timeout, however far behind the target fell.
pub const GRACE: Duration = Duration::from_millis(100);

/// No cut yet.
const NEVER: u64 = u64::MAX;

/// The part of one schedule a shard runs: of the global tickets, those k with k mod `count` =
/// `index`, so that the shards together send exactly the single-machine schedule and interleave
/// instead of firing in bursts. The whole schedule is the slice 0 of 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub index: u64,
    pub count: u64,
}

impl Default for Slice {
    fn default() -> Self {
        Slice { index: 0, count: 1 }
    }
}

impl Slice {
    /// The global ticket of this slice's `j`-th ticket.
    pub fn ticket(&self, j: u64) -> u64 {
        self.index.saturating_add(j.saturating_mul(self.count))
    }

    /// Whether global ticket `k` is this slice's.
    pub fn owns(&self, k: u64) -> bool {
        k % self.count == self.index
    }

    /// This slice's tickets among the global tickets below `k`.
    pub fn below(&self, k: u64) -> u64 {
        if k <= self.index {
            0
        } else {
            (k - self.index).div_ceil(self.count)
        }
    }

    /// This slice's share of `n` things dealt out one at a time (users, connections):
    /// ⌊n/N⌋, and one more for the first n mod N slices.
    pub fn share(&self, n: usize) -> usize {
        let (n, i, c) = (n as u64, self.index, self.count);
        (n / c + u64::from(i < n % c)) as usize
    }

    /// Whether this is the whole schedule.
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }
}

/// Consecutive steps on one timeline: a step's arrivals start on schedule even while the
/// previous step's backlog drains, and each request belongs to the step of its intended time.
pub(crate) struct Phase {
    pub steps: Vec<Step>,
    pub starts: Vec<Instant>,
    pub ends: Vec<Instant>,
    /// Index of each step's first global ticket; the last entry is the total.
    first: Vec<u64>,
    /// The tickets this generator sends.
    pub slice: Slice,
    /// The lowest ticket a worker claimed and did not send.
    refused: AtomicU64,
    /// When the phase was cut (its deadline passed, or a stop), ns after its start.
    cut_ns: AtomicU64,
}

impl Phase {
    pub fn new(steps: &[Step], start: Instant, slice: Slice) -> Phase {
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
            slice,
            refused: AtomicU64::new(NEVER),
            cut_ns: AtomicU64::new(NEVER),
        }
    }

    /// The global schedule's tickets.
    pub fn total(&self) -> u64 {
        *self.first.last().unwrap_or(&0)
    }

    /// The tickets of step `i` this generator sends.
    pub fn count(&self, i: usize) -> u64 {
        self.slice.below(self.first[i + 1]) - self.slice.below(self.first[i])
    }

    /// This generator's share of step `i`'s global schedule (1 unsharded).
    pub fn share(&self, i: usize) -> f64 {
        let all = self.first[i + 1] - self.first[i];
        if all == 0 {
            1.0 / self.slice.count as f64
        } else {
            self.count(i) as f64 / all as f64
        }
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
    /// end. `None` when the phase is over or `stop` turned. The waiting is on `alarm`.
    pub async fn turn(&self, k: u64, alarm: &mut Alarm, stop: &mut watch::Receiver<bool>) -> Option<(usize, Instant)> {
        let last_end = *self.ends.last().expect("a phase has steps");
        if self.steps[0].load.is_closed() {
            if Instant::now() < self.starts[0] {
                alarm.until(self.starts[0]).await;
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
                _ = alarm.until(at) => {}
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

    /// This generator's tickets of step `i` that were due when the phase was cut and never sent,
    /// given the lowest ticket not sent: how many, and their total wait until the cut in seconds.
    pub fn unsent(&self, i: usize, first_unsent: u64) -> (u64, f64) {
        let cut_ns = self.cut_ns.load(Ordering::Relaxed);
        if cut_ns == NEVER {
            return (0, 0.0);
        }
        let cut = self.starts[0] + Duration::from_nanos(cut_ns);
        let (mut n, mut wait) = (0u64, 0.0);
        let from = first_unsent.max(self.first[i]);
        let own = self.slice.ticket(self.slice.below(from));
        for k in (own..self.first[i + 1]).step_by(self.slice.count as usize) {
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

    /// This generator's tickets of step `i` due by `now`: ticket k is due from its intended
    /// time on.
    pub fn due(&self, i: usize, now: Instant) -> u64 {
        let step = &self.steps[i];
        if now < self.starts[i] || step.load.is_closed() {
            return 0;
        }
        let t = now.duration_since(self.starts[i]).as_secs_f64().min(step.duration_s);
        let n = step.load.due_by(t, step.duration_s);
        let all = ((n + 1e-9).floor() as u64 + 1).min(self.first[i + 1] - self.first[i]);
        self.slice.below(self.first[i] + all) - self.slice.below(self.first[i])
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

    use crate::plan::profile::{Load, Role};

    fn steps() -> Vec<Step> {
        let step = |name: &str, load, duration_s| Step { name: name.into(), load, duration_s, role: Role::Measure };
        vec![step("ramp", Load::ramp(10.0, 250.0), 3.0), step("hold", Load::ramp(250.0, 250.0), 2.0)]
    }

    #[test]
    fn slices_partition_the_schedule() {
        let start = Instant::now();
        let whole = Phase::new(&steps(), start, Slice::default());
        for n in [1u64, 2, 3, 4, 7] {
            let phases: Vec<Phase> =
                (0..n).map(|i| Phase::new(&steps(), start, Slice { index: i, count: n })).collect();
            // Every ticket is one shard's, at the time the whole schedule gives it.
            let mut times = Vec::new();
            for p in &phases {
                let mut j = 0;
                while p.slice.ticket(j) < p.total() {
                    times.push((p.slice.ticket(j), p.locate(p.slice.ticket(j))));
                    j += 1;
                }
            }
            times.sort_by_key(|t| t.0);
            let all: Vec<_> = (0..whole.total()).map(|k| (k, whole.locate(k))).collect();
            assert_eq!(times, all, "{n} shards");
            for i in 0..2 {
                assert_eq!(phases.iter().map(|p| p.count(i)).sum::<u64>(), whole.count(i), "step {i}");
                let at = start + Duration::from_millis(1_234 + 3_000 * i as u64);
                assert_eq!(phases.iter().map(|p| p.due(i, at)).sum::<u64>(), whole.due(i, at));
                assert!((phases.iter().map(|p| p.share(i)).sum::<f64>() - 1.0).abs() < 1e-12);
            }
        }
    }

    proptest::proptest! {
        /// Any ramp, any number of shards: the shards' tickets are the schedule's, each once.
        #[test]
        fn any_slicing_partitions_any_ramp(from in 1.0f64..500.0, to in 1.0f64..500.0, d in 0.5f64..4.0, n in 1u64..9) {
            let steps = [Step { name: "r".into(), load: Load::ramp(from, to), duration_s: d, role: Role::Measure }];
            let start = Instant::now();
            let whole = Phase::new(&steps, start, Slice::default());
            let mut seen = vec![0u32; whole.total() as usize];
            for i in 0..n {
                let p = Phase::new(&steps, start, Slice { index: i, count: n });
                let mut j = 0;
                while p.slice.ticket(j) < p.total() {
                    let k = p.slice.ticket(j);
                    proptest::prop_assert_eq!(p.locate(k), whole.locate(k));
                    seen[k as usize] += 1;
                    j += 1;
                }
                proptest::prop_assert_eq!(j, p.count(0));
            }
            proptest::prop_assert!(seen.iter().all(|&c| c == 1));
        }
    }

    #[test]
    fn shares_deal_one_at_a_time() {
        let s = |index| Slice { index, count: 4 };
        assert_eq!((0..4).map(|i| s(i).share(10)).collect::<Vec<_>>(), [3, 3, 2, 2]);
        assert_eq!((0..4).map(|i| s(i).share(3)).collect::<Vec<_>>(), [1, 1, 1, 0]);
        assert_eq!(s(3).below(3), 0);
        assert_eq!(s(3).below(4), 1);
        assert_eq!(s(0).below(1), 1);
    }

    #[test]
    fn weights_rotate_smoothly() {
        // b sits between the a's, never after three of them.
        assert_eq!(rotation(&[3, 1]), [0, 0, 1, 0]);
        assert_eq!(rotation(&[1]), [0]);
    }
}
