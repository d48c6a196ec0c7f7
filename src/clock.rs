//! Waiting for a ticket's intended time to the microsecond, not the millisecond.
//!
//! tokio's timer ticks in milliseconds: a deadline is rounded up to the next tick, and the
//! runtime's epoll timeout is rounded up to a millisecond again, so a sleep ends 0–2 ms late,
//! about 1 ms on average. Latency runs from the intended time, so that lateness would be charged
//! to the target on every paced request, and the schedule would lag by it at any rate.
//!
//! On Linux a worker's [`Alarm`] is a timerfd: a kernel hrtimer armed in nanoseconds, which the
//! runtime's epoll watches like a socket, so the wait ends when the timer fires, whatever epoll's
//! timeout. Each wait costs one system call (arming) and a wake of its own; a worker that is
//! already late waits for nothing and pays neither. On tokio's paused clock (tests), elsewhere,
//! or when no timerfd can be had, the alarm is tokio's sleep.

use tokio::time::Instant;

/// The clock a phase runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Real time: the gauge samples on a thread of its own and /proc gives the generator's CPU.
    Real,
    /// tokio's clock alone (paused in tests): the gauge is a task, and no CPU is read, as
    /// virtual seconds cost no real CPU.
    Virtual,
}

/// One waiter's alarm clock; see the module's notes.
pub struct Alarm {
    #[cfg(target_os = "linux")]
    fd: Option<tokio::io::unix::AsyncFd<linux::TimerFd>>,
}

impl Alarm {
    /// An alarm for a waiter on `clock`: precise on real time where the system has one.
    pub fn new(clock: Clock) -> Alarm {
        #[cfg(target_os = "linux")]
        {
            let fd = match clock {
                Clock::Real => linux::TimerFd::new().ok().and_then(linux::register),
                Clock::Virtual => None,
            };
            Alarm { fd }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = clock;
            Alarm {}
        }
    }

    /// How late a wait typically ends, on average: half the alarm's grid, or half of tokio's
    /// millisecond tick when the alarm is tokio's sleep. A waiter that loops over slices (the
    /// simulated service's processor sharing) aims this much early so that lateness averages out.
    pub fn typical_lateness(&self) -> std::time::Duration {
        #[cfg(target_os = "linux")]
        if self.fd.is_some() {
            return std::time::Duration::from_nanos(linux::GRID_NS / 2);
        }
        std::time::Duration::from_micros(500)
    }

    /// Waits until `at` (returns at once when it is past). Cancel-safe: dropping the wait leaves
    /// the alarm usable for the next one.
    pub async fn until(&mut self, at: Instant) {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            if linux::wait(fd, at).await.is_ok() {
                return;
            }
            // The timerfd failed (it should not): tokio's timer from now on.
            self.fd = None;
        }
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    use tokio::io::unix::AsyncFd;
    use tokio::time::Instant;

    /// The grid alarms fire on, shared by every worker's timer: those due within the same 50 µs
    /// wake the runtime once. Each precise wake costs a core's interrupt and context switch, and
    /// at 50k requests/s on 50 connections a grid of 50 µs cut the generator's CPU by a tenth
    /// against none, for at most 50 µs of lag.
    pub const GRID_NS: u64 = 50_000;

    /// A monotonic, non-blocking timerfd.
    pub struct TimerFd(OwnedFd);

    impl AsRawFd for TimerFd {
        fn as_raw_fd(&self) -> RawFd {
            self.0.as_raw_fd()
        }
    }

    impl TimerFd {
        pub fn new() -> io::Result<TimerFd> {
            // SAFETY: a plain system call; a non-negative result is a descriptor we now own.
            let fd = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` was just created and nothing else holds it.
            Ok(TimerFd(unsafe { OwnedFd::from_raw_fd(fd) }))
        }

        /// Arms the timer to fire once, `after` from now, on the next multiple of [`GRID_NS`]
        /// of CLOCK_MONOTONIC (std's and tokio's Instant are that clock on Linux).
        fn arm(&self, after: std::time::Duration) -> io::Result<()> {
            let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: writes the current time into `now`.
            if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } < 0 {
                return Err(io::Error::last_os_error());
            }
            let ns = now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64 + after.as_nanos() as u64;
            let ns = ns.div_ceil(GRID_NS) * GRID_NS;
            let value =
                libc::timespec { tv_sec: (ns / 1_000_000_000) as libc::time_t, tv_nsec: (ns % 1_000_000_000) as _ };
            let spec = libc::itimerspec { it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 }, it_value: value };
            // SAFETY: `spec` is a valid itimerspec and the old value is not asked for.
            let r = unsafe {
                libc::timerfd_settime(self.0.as_raw_fd(), libc::TFD_TIMER_ABSTIME, &spec, std::ptr::null_mut())
            };
            if r < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }
    }

    /// `fd`, watched by the runtime's reactor.
    pub fn register(fd: TimerFd) -> Option<AsyncFd<TimerFd>> {
        // SAFETY: the TimerFd owns its descriptor, which stays open and the same until the
        // AsyncFd (its only owner) drops it.
        unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }.ok()
    }

    /// Waits on `fd` until `at`. An expiry left over from a wait that was dropped is ignored:
    /// the loop only ends once the clock has reached `at`.
    pub async fn wait(fd: &AsyncFd<TimerFd>, at: Instant) -> io::Result<()> {
        loop {
            let now = Instant::now();
            if at <= now {
                return Ok(());
            }
            fd.get_ref().arm(at - now)?;
            // Not read: arming again resets the expiry count, and epoll (edge-triggered, as
            // tokio registers it) reports every expiry anew. The loop's clock check, not the
            // readiness, says whether the time has come, so a stale readiness costs one turn.
            fd.readable().await?.clear_ready();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_real_alarm_ends_sooner_after_its_time_than_tokios_sleep() {
        let mut alarm = Alarm::new(Clock::Real);
        let (mut ours, mut tokios) = (Vec::new(), Vec::new());
        // Interleaved, so that a busy machine delays both alike.
        for _ in 0..40 {
            let at = Instant::now() + Duration::from_micros(300);
            alarm.until(at).await;
            let now = Instant::now();
            assert!(now >= at, "woke {:?} early", at - now);
            ours.push(now - at);
            let at = Instant::now() + Duration::from_micros(300);
            tokio::time::sleep_until(at).await;
            tokios.push(Instant::now() - at);
        }
        ours.sort();
        tokios.sort();
        // tokio rounds each deadline up to its next millisecond tick, and epoll's timeout again.
        #[cfg(target_os = "linux")]
        assert!(ours[20] < tokios[20], "median lateness {:?}, tokio's {:?}", ours[20], tokios[20]);
    }

    #[tokio::test]
    async fn a_dropped_wait_leaves_the_alarm_usable() {
        let mut alarm = Alarm::new(Clock::Real);
        let far = Instant::now() + Duration::from_millis(20);
        // Dropped before the timer fires; its expiry comes later and must not end the next wait.
        let _ = tokio::time::timeout(Duration::from_millis(1), alarm.until(far)).await;
        tokio::time::sleep(Duration::from_millis(25)).await;
        let at = Instant::now() + Duration::from_millis(30);
        alarm.until(at).await;
        assert!(Instant::now() >= at);
        // A past instant returns at once.
        alarm.until(Instant::now() - Duration::from_millis(1)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn the_virtual_clock_waits_on_tokio_time() {
        let mut alarm = Alarm::new(Clock::Virtual);
        let t0 = Instant::now();
        alarm.until(t0 + Duration::from_secs(3600)).await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(3600));
    }
}
