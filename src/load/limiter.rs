//! `--max-rps` / `safety.max_rps` as a hard cap on requests per second, for every request of
//! every engine: open steps (whose schedules are capped already, but whose backlog would
//! otherwise drain in a burst), closed steps and journeys. Each request takes the next free slot
//! of 1/R seconds, never earlier than now, so unused slots do not pile up into a burst.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Slots of 1/R seconds, handed out in order.
pub(crate) struct Limiter {
    start: Instant,
    interval_ns: u64,
    /// The next free slot, ns after `start`.
    next_ns: AtomicU64,
}

impl Limiter {
    /// A limiter of `per_s` requests per second from now.
    pub fn new(per_s: f64) -> Limiter {
        Limiter { start: Instant::now(), interval_ns: (1e9 / per_s.max(1e-9)) as u64, next_ns: AtomicU64::new(0) }
    }

    /// Claims the next slot and waits for it; `false` when `stop` turned first.
    pub async fn acquire(&self, stop: &mut watch::Receiver<bool>) -> bool {
        let now_ns = self.start.elapsed().as_nanos() as u64;
        let mut at = self.next_ns.load(Ordering::Relaxed);
        loop {
            let slot = at.max(now_ns);
            match self.next_ns.compare_exchange_weak(at, slot + self.interval_ns, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    at = slot;
                    break;
                }
                Err(current) => at = current,
            }
        }
        let when = self.start + Duration::from_nanos(at);
        if when <= Instant::now() {
            return !*stop.borrow();
        }
        tokio::select! {
            _ = tokio::time::sleep_until(when) => !*stop.borrow(),
            _ = stop.changed() => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_and_unused_ones_do_not_pile_up() {
        let l = Limiter::new(100.0);
        let (_tx, mut stop) = watch::channel(false);
        let t0 = Instant::now();
        for _ in 0..50 {
            assert!(l.acquire(&mut stop).await);
        }
        // 50 slots of 10 ms: the 50th starts at 490 ms.
        assert_eq!(Instant::now() - t0, Duration::from_millis(490));
        // An idle second earns no burst: the next two are still 10 ms apart.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let t1 = Instant::now();
        assert!(l.acquire(&mut stop).await);
        assert!(l.acquire(&mut stop).await);
        assert_eq!(Instant::now() - t1, Duration::from_millis(10));
    }
}
