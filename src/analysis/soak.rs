//! Drift over a soak: the p99 and the error rate, first window against last, with their trends.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::artefact::results::{Second, SoakAnalysis, StepResult, Trend};

fn trend(points: &[(f64, f64)]) -> Option<Trend> {
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let b = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    let ssr: f64 = points.iter().map(|p| (p.1 - my - b * (p.0 - mx)).powi(2)).sum();
    let se = (ssr / (n - 2.0) / sxx).sqrt();
    let p_value = StudentsT::new(0.0, 1.0, n - 2.0).ok().map(|t| {
        if se > 0.0 {
            2.0 * (1.0 - t.cdf((b / se).abs()))
        } else if b == 0.0 {
            1.0
        } else {
            0.0
        }
    });
    Some(Trend { slope_per_hour: b * 3600.0, p_value })
}

/// Drift of p99 and of the error rate over a soak step.
pub fn soak(step: &StepResult, window_s: f64) -> SoakAnalysis {
    let s = &step.series;
    // Each second stands at its midpoint, so a window catches the seconds that lie in it even
    // when a second closes a little after one second.
    let mid = |x: &Second| x.t_s + x.duration_s / 2.0;
    let p99: Vec<(f64, f64)> = s.iter().filter_map(|x| x.p99_us.map(|p| (mid(x), p as f64))).collect();
    let rate = |x: &Second| (x.requests > 0).then(|| x.errors.total() as f64 / x.requests as f64);
    let errors: Vec<(f64, f64)> = s.iter().filter_map(|x| rate(x).map(|r| (mid(x), r))).collect();
    let end = s.last().map_or(0.0, |x| x.t_s + x.duration_s);
    let mean_in = |v: &[(f64, f64)], lo: f64, hi: f64| {
        let w: Vec<f64> = v.iter().filter(|p| p.0 >= lo && p.0 <= hi).map(|p| p.1).collect();
        (!w.is_empty()).then(|| w.iter().sum::<f64>() / w.len() as f64)
    };
    SoakAnalysis {
        window_s,
        p99_first_window_us: mean_in(&p99, 0.0, window_s),
        p99_last_window_us: mean_in(&p99, end - window_s, end),
        p99_trend_us: trend(&p99),
        error_rate_first_window: mean_in(&errors, 0.0, window_s),
        error_rate_last_window: mean_in(&errors, end - window_s, end),
        error_rate_trend: trend(&errors),
        connection_errors: step.errors.connect + step.errors.io,
        reconnects: step.reconnects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_and_significance() {
        let flat: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, 5.0 + if i % 2 == 0 { 1.0 } else { -1.0 })).collect();
        let t = trend(&flat).unwrap();
        assert!(t.slope_per_hour.abs() < 100.0 && t.p_value.unwrap() > 0.5, "{t:?}");
        let rising: Vec<(f64, f64)> =
            (0..100).map(|i| (i as f64, i as f64 + if i % 2 == 0 { 1.0 } else { -1.0 })).collect();
        let t = trend(&rising).unwrap();
        assert!((t.slope_per_hour - 3600.0).abs() < 10.0 && t.p_value.unwrap() < 1e-6, "{t:?}");
    }
}
