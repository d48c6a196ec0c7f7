//! The Utilization Law, U = U₀ + D·X: from the steps whose target utilization was read, the
//! service demand D (seconds of the whole target per request) and the utilization at no load
//! U₀, fitted by least squares over the steps where U still grows in proportion to X, with D's
//! 95% interval. The throughput at a utilization U is then (U − U₀) / D.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::artefact::results::StepResult;
use crate::artefact::utilization::UtilizationLaw;

/// A step at or above this utilization is saturated: the law no longer says what more load does.
pub const SATURATED: f64 = 0.95;
/// How far a step's utilization may sit from the line (a share of its own) and still be on it.
const ON_LINE: f64 = 0.10;
/// ...or in absolute terms, for steps at low utilization.
const ON_LINE_ABS: f64 = 0.02;

struct Line {
    idle: f64,
    demand: f64,
    se: Option<f64>,
    /// Degrees of freedom of `se`.
    dof: f64,
}

/// Least squares of u on x through the origin (U₀ = 0).
fn through_origin(points: &[(f64, f64)]) -> Line {
    let n = points.len() as f64;
    let sxx: f64 = points.iter().map(|(x, _)| x * x).sum();
    let demand = points.iter().map(|(x, u)| x * u).sum::<f64>() / sxx;
    let se = (points.len() >= 2).then(|| {
        let ss: f64 = points.iter().map(|(x, u)| (u - demand * x).powi(2)).sum();
        (ss / (n - 1.0) / sxx).sqrt()
    });
    Line { idle: 0.0, demand, se, dof: n - 1.0 }
}

/// Least squares of u on x: with an intercept from three points on, through the origin for
/// fewer, or when the intercept would be a utilization below zero at no load, which no target
/// has.
fn line(points: &[(f64, f64)]) -> Line {
    let n = points.len() as f64;
    if points.len() < 3 {
        return through_origin(points);
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mu = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let sxu: f64 = points.iter().map(|(x, u)| (x - mx) * (u - mu)).sum();
    let demand = sxu / sxx;
    let idle = mu - demand * mx;
    if idle < 0.0 {
        return through_origin(points);
    }
    let ss: f64 = points.iter().map(|(x, u)| (u - idle - demand * x).powi(2)).sum();
    Line { idle, demand, se: Some((ss / (n - 2.0) / sxx).sqrt()), dof: n - 2.0 }
}

fn on_line(l: &Line, (x, u): (f64, f64)) -> bool {
    (u - l.idle - l.demand * x).abs() <= (ON_LINE * u).max(ON_LINE_ABS)
}

/// The law fitted to the steps that delivered their load and read a utilization; `None` with
/// fewer than two such steps below saturation, or when utilization does not grow with load.
pub fn fit(steps: &[StepResult]) -> Option<UtilizationLaw> {
    let mut points: Vec<(f64, f64, &str)> = steps
        .iter()
        .filter(|s| s.valid && s.achieved_rps > 0.0)
        .filter_map(|s| {
            s.utilization.filter(|u| u.is_finite() && *u >= 0.0).map(|u| (s.achieved_rps, u, s.name.as_str()))
        })
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let below: Vec<(f64, f64, &str)> = points.iter().copied().take_while(|p| p.1 < SATURATED).collect();
    if below.len() < 2 {
        return None;
    }
    // The longest run from the lightest step on whose every step lies on its own line.
    let mut used = 2;
    for k in 3..=below.len() {
        let xy: Vec<(f64, f64)> = below[..k].iter().map(|p| (p.0, p.1)).collect();
        let l = line(&xy);
        if xy.iter().all(|p| on_line(&l, *p)) {
            used = k;
        } else {
            break;
        }
    }
    let xy: Vec<(f64, f64)> = below[..used].iter().map(|p| (p.0, p.1)).collect();
    let l = line(&xy);
    if !(l.demand > 0.0 && l.demand.is_finite()) {
        return None;
    }
    let dof = l.dof;
    let half = l.se.filter(|_| dof >= 1.0).map(|se| {
        let t = StudentsT::new(0.0, 1.0, dof).map_or(f64::NAN, |d| d.inverse_cdf(0.975));
        t * se
    });
    let past = points.get(used);
    Some(UtilizationLaw {
        demand_s: l.demand,
        demand_lo95: half.map(|h| (l.demand - h).max(0.0)),
        demand_hi95: half.map(|h| l.demand + h),
        idle: l.idle,
        steps: below[..used].iter().map(|p| p.2.to_string()).collect(),
        linear_until_rps: below[used - 1].0,
        departs_at: past.map(|p| p.2.to_string()),
        departs_utilization: past.map(|p| p.1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_through_known_points_is_found_and_its_bend_is_named() {
        // D = 2.5 ms, 5% at no load; the last two steps bend away (queueing, saturation).
        let mut xy: Vec<(f64, f64)> = [50.0, 100.0, 150.0, 200.0].iter().map(|x| (*x, 0.05 + 0.0025 * x)).collect();
        let l = line(&xy);
        assert!((l.demand - 0.0025).abs() < 1e-12 && (l.idle - 0.05).abs() < 1e-12);
        xy.push((250.0, 0.85));
        let l = line(&xy);
        assert!(!xy.iter().all(|p| on_line(&l, *p)));
    }

    #[test]
    fn a_line_that_would_start_below_zero_goes_through_the_origin() {
        // Throughput that grows slower than utilization (contention) bends the line's intercept
        // below zero: no target is busy below 0% at no load.
        let xy = [(48.0, 1.0 / 64.0), (93.0, 2.0 / 64.0), (167.0, 4.0 / 64.0), (268.0, 8.0 / 64.0)];
        let l = line(&xy);
        assert_eq!(l.idle, 0.0);
        assert_eq!((l.demand, l.dof), (through_origin(&xy).demand, 3.0));
    }

    #[test]
    fn two_points_go_through_the_origin() {
        let l = line(&[(100.0, 0.25), (200.0, 0.5)]);
        assert!((l.demand - 0.0025).abs() < 1e-15 && l.idle == 0.0);
        assert!(l.se.unwrap() < 1e-12);
    }
}
