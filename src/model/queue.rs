//! The M/M/c queue (Erlang C): Poisson arrivals, exponential service, c servers, FIFO.
//!
//! λ is the arrival rate (requests per second), S the mean service time (seconds), μ = 1/S,
//! A = λS the offered load in Erlangs and ρ = A/c the utilization. The queue is stable only
//! while ρ < 1, and waiting grows without bound as ρ → 1: the latency cliff.

use serde::Serialize;

/// An M/M/c queue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MMc {
    /// λ: arrivals per second.
    pub arrival_rps: f64,
    /// S: mean service time, seconds.
    pub service_s: f64,
    /// c: servers (workers, instances).
    pub servers: u32,
}

/// Which latency a percentile is asked of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Latency {
    /// Time in the queue before service starts.
    Wait,
    /// Wait plus service: what a client sees.
    Response,
}

impl MMc {
    fn mu(&self) -> f64 {
        1.0 / self.service_s
    }

    /// A = λS, the offered load in Erlangs.
    pub fn offered_load(&self) -> f64 {
        self.arrival_rps * self.service_s
    }

    /// ρ = λS / c.
    pub fn utilization(&self) -> f64 {
        self.offered_load() / self.servers as f64
    }

    /// True while ρ < 1.
    pub fn is_stable(&self) -> bool {
        self.utilization() < 1.0
    }

    /// Erlang C: the probability an arrival waits,
    /// C = c·B / (c − A(1 − B)), with Erlang B from B₀ = 1, Bₖ = A·Bₖ₋₁ / (k + A·Bₖ₋₁).
    /// `None` when the queue is unstable.
    pub fn wait_probability(&self) -> Option<f64> {
        if !self.is_stable() {
            return None;
        }
        let a = self.offered_load();
        let b = (1..=self.servers).fold(1.0, |b, k| a * b / (k as f64 + a * b));
        let c = self.servers as f64;
        Some(c * b / (c - a * (1.0 - b)))
    }

    /// Mean wait Wq = C / (cμ − λ), seconds.
    pub fn mean_wait_s(&self) -> Option<f64> {
        Some(self.wait_probability()? / self.drain_rate())
    }

    /// Mean response time W = Wq + S, seconds.
    pub fn mean_response_s(&self) -> Option<f64> {
        Some(self.mean_wait_s()? + self.service_s)
    }

    /// θ = cμ − λ: the rate at which a backlog drains.
    fn drain_rate(&self) -> f64 {
        self.servers as f64 * self.mu() - self.arrival_rps
    }

    /// P(latency > t): for the wait, C·e^(−θt); for the response, (1 − C)e^(−μt) + C·P(Exp(θ) +
    /// Exp(μ) > t), where the sum of the two exponentials has tail (θe^(−μt) − μe^(−θt))/(θ − μ).
    pub fn exceedance(&self, which: Latency, t: f64) -> Option<f64> {
        Some(self.exceedance_given(which, t, self.wait_probability()?))
    }

    /// [`exceedance`](Self::exceedance) with Erlang C already known: O(1), so that a search
    /// over t costs O(c) once, not at every step.
    fn exceedance_given(&self, which: Latency, t: f64, c: f64) -> f64 {
        let theta = self.drain_rate();
        let mu = self.mu();
        match which {
            Latency::Wait => c * (-theta * t).exp(),
            Latency::Response => {
                let sum_tail = if (theta - mu).abs() < 1e-9 * mu {
                    (1.0 + mu * t) * (-mu * t).exp()
                } else {
                    (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu)
                };
                (1.0 - c) * (-mu * t).exp() + c * sum_tail
            }
        }
    }

    /// The q-quantile of the latency in seconds (0 for the wait when most arrivals do not wait).
    pub fn percentile_s(&self, which: Latency, q: f64) -> Option<f64> {
        let tail = 1.0 - q;
        let c = self.wait_probability()?;
        if which == Latency::Wait {
            return Some(if c <= tail { 0.0 } else { (c / tail).ln() / self.drain_rate() });
        }
        let mut hi = self.service_s.max(1e-12);
        while self.exceedance_given(which, hi, c) > tail {
            hi *= 2.0;
        }
        let mut lo = 0.0;
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if self.exceedance_given(which, mid, c) > tail {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(hi)
    }
}

/// The largest arrival rate (requests per second) at which the q-quantile of `which` stays at or
/// under `bound_s`, found by bisection on λ in (0, c/S): the edge of the latency cliff.
/// `None` when even an idle system misses the bound.
pub fn max_arrival_rps(service_s: f64, servers: u32, which: Latency, q: f64, bound_s: f64) -> Option<f64> {
    let at = |rate: f64| MMc { arrival_rps: rate, service_s, servers }.percentile_s(which, q);
    let capacity = servers as f64 / service_s;
    if at(capacity * 1e-9)? > bound_s {
        return None;
    }
    let (mut lo, mut hi) = (0.0, capacity);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        match at(mid) {
            Some(p) if p <= bound_s => lo = mid,
            _ => hi = mid,
        }
    }
    Some(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(rate: f64, s: f64, c: u32) -> MMc {
        MMc { arrival_rps: rate, service_s: s, servers: c }
    }

    #[test]
    fn single_server_matches_mm1() {
        // M/M/1: P(wait) = ρ, Wq = ρS/(1 − ρ), response time ~ Exp(μ − λ).
        let m = q(8.0, 0.1, 1);
        assert!((m.wait_probability().unwrap() - 0.8).abs() < 1e-12);
        assert!((m.mean_wait_s().unwrap() - 0.4).abs() < 1e-12);
        let p99 = m.percentile_s(Latency::Response, 0.99).unwrap();
        assert!((p99 - (100f64).ln() / 2.0).abs() < 1e-9, "{p99}");
    }

    #[test]
    fn erlang_c_textbook_value() {
        // A = 2 Erlangs on c = 3 servers: C = 4/9 (classic table value 0.4444).
        let m = q(2.0, 1.0, 3);
        assert!((m.wait_probability().unwrap() - 4.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn unstable_has_no_answer() {
        assert!(q(10.0, 0.1, 1).wait_probability().is_none());
        assert!(q(10.0, 0.1, 1).percentile_s(Latency::Response, 0.99).is_none());
    }

    #[test]
    fn cliff_is_monotone_and_bisection_lands_on_bound() {
        let mut last = 0.0;
        for rho in [0.5, 0.7, 0.8, 0.9, 0.95] {
            let p = q(rho * 8.0 / 0.05, 0.05, 8).percentile_s(Latency::Response, 0.99).unwrap();
            assert!(p > last);
            last = p;
        }
        let rate = max_arrival_rps(0.05, 8, Latency::Response, 0.99, 0.5).unwrap();
        let p = q(rate, 0.05, 8).percentile_s(Latency::Response, 0.99).unwrap();
        assert!((p - 0.5).abs() < 1e-6, "{p}");
        assert!(max_arrival_rps(0.05, 8, Latency::Response, 0.99, 0.01).is_none());
    }
}
