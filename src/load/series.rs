//! The time series kept for a step, bounded in length however long the step runs.
//!
//! The collector closes one interval a second. A step of up to [`MAX_POINTS`] seconds keeps
//! every second; a longer one (a multi-day soak) merges consecutive seconds into buckets of
//! ⌈duration / MAX_POINTS⌉ seconds, chosen before the step starts. Buckets merge the seconds'
//! histograms losslessly, so each point's percentiles are still read from an HdrHistogram, and
//! memory stays flat: at most MAX_POINTS points per step, plus one open bucket.

use super::recorder::{answered, Record};
use crate::artefact::results::{encode, Second};
use crate::plan::profile::Step;

impl Second {
    /// Summarises one interval from `t0` to `t1` seconds into `step`.
    pub fn from_interval(r: &Record, step: &Step, t0: f64, t1: f64, in_flight: f64) -> Second {
        let d = (t1 - t0).max(1e-9);
        let q = |p: f64| (!r.latency.is_empty()).then(|| r.latency.value_at_quantile(p));
        Second {
            t_s: t0,
            duration_s: t1 - t0,
            // Nothing is due after the step's window, while its backlog drains.
            offered_rps: (!step.load.is_closed()).then(|| {
                let due = |t: f64| step.load.due_by(t.min(step.duration_s), step.duration_s);
                (due(t1) - due(t0)) / d
            }),
            requests: r.requests,
            achieved_rps: answered(r) as f64 / d,
            in_flight,
            late_starts: r.late_starts,
            p50_us: q(0.5),
            p90_us: q(0.9),
            p99_us: q(0.99),
            max_us: (!r.latency.is_empty()).then(|| r.latency.max()),
            errors: r.errors,
            latency: encode(&r.latency),
            utilization: None,
        }
    }
}

/// Most points kept per step.
pub const MAX_POINTS: f64 = 1_800.0;

/// Seconds per point for a step of `duration_s` seconds.
pub fn bucket_width(duration_s: f64) -> f64 {
    (duration_s / MAX_POINTS).ceil().max(1.0)
}

/// Builds one step's series from its one-second intervals.
pub struct SeriesBuilder {
    width_s: f64,
    points: Vec<Second>,
    /// The open bucket: its start, accumulated record, and in-flight × seconds.
    open: Option<(f64, Record, f64)>,
    end_s: f64,
}

impl SeriesBuilder {
    pub fn new(step: &Step) -> Self {
        SeriesBuilder { width_s: bucket_width(step.duration_s), points: Vec::new(), open: None, end_s: 0.0 }
    }

    /// Adds one second: its summary (kept as it is while points are seconds) and its record
    /// (merged into the open bucket otherwise).
    pub fn push(&mut self, step: &Step, second: Second, interval: &Record) {
        if self.width_s <= 1.0 {
            self.points.push(second);
            return;
        }
        let (t0, t1) = (second.t_s, second.t_s + second.duration_s);
        let (start, record, area) = self.open.get_or_insert_with(|| (t0, Record::default(), 0.0));
        record.merge(interval);
        *area += second.in_flight * (t1 - t0);
        let full = t1 - *start >= self.width_s;
        self.end_s = t1;
        if full {
            self.close(step);
        }
    }

    fn close(&mut self, step: &Step) {
        if let Some((t0, record, area)) = self.open.take() {
            let d = (self.end_s - t0).max(1e-9);
            self.points.push(Second::from_interval(&record, step, t0, self.end_s, area / d));
        }
    }

    /// The series, with any partly filled bucket closed.
    pub fn finish(mut self, step: &Step) -> Vec<Second> {
        self.close(step);
        self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::recorder::Sample;
    use crate::plan::profile::{Load, Role};

    fn step(duration_s: f64) -> Step {
        Step { name: "soak".into(), role: Role::Measure, load: Load::ramp(10.0, 10.0), duration_s }
    }

    fn second_of(latencies: &[u64]) -> Record {
        let mut r = Record::default();
        for &l in latencies {
            r.add(&Sample { latency_us: Some(l), service_us: Some(l), lag_us: 1, sojourn_us: l, ..Sample::default() });
        }
        r
    }

    /// Pushes the second starting at `t` with these latencies, as the collector does.
    fn push(b: &mut SeriesBuilder, s: &Step, latencies: &[u64], t: f64, in_flight: f64) {
        let r = second_of(latencies);
        b.push(s, Second::from_interval(&r, s, t, t + 1.0, in_flight), &r);
    }

    #[test]
    fn short_steps_keep_every_second_and_long_ones_stay_bounded() {
        assert_eq!(bucket_width(600.0), 1.0);
        assert_eq!(bucket_width(1_800.0), 1.0);
        assert_eq!(bucket_width(1_801.0), 2.0);
        // Ten hours: 20-second buckets.
        let s = step(36_000.0);
        let mut b = SeriesBuilder::new(&s);
        for t in 0..36_000u32 {
            push(&mut b, &s, &[1_000], t as f64, 2.0);
        }
        let points = b.finish(&s);
        assert!(points.len() as f64 <= MAX_POINTS, "{}", points.len());
        assert_eq!(points.len(), 1_800);
        assert_eq!(points[1].t_s, 20.0);
        assert_eq!(points.iter().map(|p| p.requests).sum::<u64>(), 36_000);
        assert!((points[0].in_flight - 2.0).abs() < 1e-9);
        assert!((points[0].achieved_rps - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_bucket_reads_its_percentiles_from_the_merged_histogram() {
        let s = step(3_600.0);
        let mut b = SeriesBuilder::new(&s);
        // 99 fast requests in the first second, one slow one in the second: the bucket's p99 is
        // the fast value and its max the slow one, as one histogram of all 100 says.
        push(&mut b, &s, &[1_000; 99], 0.0, 1.0);
        push(&mut b, &s, &[500_000], 1.0, 1.0);
        push(&mut b, &s, &[2_000], 2.0, 1.0);
        let points = b.finish(&s);
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].requests, 100);
        assert_eq!(points[0].p99_us, Some(1_000));
        assert!(points[0].max_us.unwrap() >= 499_000);
        assert_eq!((points[1].t_s, points[1].duration_s), (2.0, 1.0));
    }
}
