//! The forecaster against series whose truth is known: growth with a yearly season on months,
//! a short daily history, a mean-only history, and a history too erratic for a usable band.

use headroom::calendar::YearMonth;
use headroom::model::growth::{self, DayObs, MonthObs, Options, PeakBasis, Resolution};

fn month(s: &str) -> YearMonth {
    s.parse().unwrap()
}

/// Months from 2015-01 of a mean growing 1% a month with a yearly shape and a peak 3× (4× in
/// July) the mean, with a small deterministic wobble.
fn seasonal_months(n: usize) -> Vec<MonthObs> {
    let shape = [0.8, 0.85, 0.95, 1.0, 1.05, 1.15, 1.2, 1.15, 1.05, 1.0, 0.9, 0.9];
    (0..n)
        .map(|t| {
            let wobble = 1.0 + 0.02 * (((t * 7919) % 11) as f64 / 10.0 - 0.5);
            let mean = 1000.0 * 1.01f64.powi(t as i32) * shape[t % 12] * wobble;
            let ratio = if t % 12 == 6 { 4.0 } else { 3.0 };
            MonthObs { month: month("2015-01").plus(t as i64), mean_rps: Some(mean), peak_rps: Some(mean * ratio) }
        })
        .collect()
}

fn opts(first: &str, horizon: usize, peak: PeakBasis) -> Options {
    Options { first_month: month(first), horizon, worst_growth: None, peak }
}

#[test]
fn monthly_growth_with_a_season_is_forecast_with_tight_usable_bands() {
    let months = seasonal_months(72);
    let f = growth::forecast(months, None, opts("2021-01", 12, PeakBasis::Observed)).unwrap();
    assert_eq!(f.model.resolution, Resolution::Monthly);
    assert_eq!(f.model.season_steps, 12);
    let shape = [0.8, 0.85, 0.95, 1.0, 1.05, 1.15, 1.2, 1.15, 1.05, 1.0, 0.9, 0.9];
    for (h, p) in f.periods.iter().enumerate() {
        let t = 72 + h;
        let truth = 1000.0 * 1.01f64.powi(t as i32) * shape[t % 12];
        // Damped members forecast under undamped growth on purpose: within 12% a year out.
        assert!((p.mean_rps / truth - 1.0).abs() < 0.12, "{}: {} vs {truth}", p.month, p.mean_rps);
        let peak = p.peak_rps.unwrap();
        let ratio = if t % 12 == 6 { 4.0 } else { 3.0 };
        assert!(
            (peak / p.mean_rps - ratio).abs() < 1e-9,
            "the same month's ratio in past years: {}",
            peak / p.mean_rps
        );
        // The band is as wide as the backtest's own errors, which here are mostly the damped
        // members' lag behind steady growth; the truth lies in it (give or take the wobble).
        let (lo, hi) = (p.peak_rps_lo95.unwrap(), p.peak_rps_hi95.unwrap());
        let truth_peak = truth * ratio;
        assert!(p.band_usable && lo < peak && peak < hi && hi / lo < 1.3, "{p:?}");
        assert!(lo * 0.97 < truth_peak && truth_peak < hi * 1.03, "{truth_peak} outside {lo} – {hi}");
    }
    let b = &f.backtest;
    assert_eq!(b.origins, 72 - 24);
    assert!(b.ahead_1_to_6.mean_mape.unwrap() < 5.0, "{:?}", b.ahead_1_to_6);
    assert!(b.mean_coverage.checked > 100);
}

#[test]
fn without_peaks_the_mean_only_is_forecast_and_a_ratio_gives_one() {
    let months = seasonal_months(40);
    let f = growth::forecast(months.clone(), None, opts("2018-05", 3, PeakBasis::None)).unwrap();
    assert!(f.periods.iter().all(|p| p.peak_rps.is_none() && p.peak_rps_worst.is_none()));
    assert!(f.backtest.peak_coverage.is_none() && f.backtest.ahead_1_to_6.peak_mape.is_none());
    let r = growth::forecast(months, None, opts("2018-05", 3, PeakBasis::Ratio(2.5))).unwrap();
    for (a, b) in f.periods.iter().zip(&r.periods) {
        assert!((b.peak_rps.unwrap() - 2.5 * a.mean_rps).abs() < 1e-9);
    }
}

#[test]
fn a_short_daily_history_is_forecast_on_days_with_weekly_factors() {
    let start = headroom::calendar::days_from_civil(2025, 1, 1);
    let shape = [1.1, 1.1, 1.1, 1.05, 1.0, 0.8, 0.85];
    let days: Vec<DayObs> = (0..120)
        .map(|d| {
            let mean = 200.0 * (1.0 + 0.002 * d as f64) * shape[((start + d + 3) % 7) as usize];
            DayObs { day: start + d, mean_rps: Some(mean), peak_rps: Some(mean * 2.0) }
        })
        .collect();
    let months: Vec<MonthObs> = (0..4)
        .map(|k| {
            let m = month("2025-01").plus(k);
            let inside: Vec<&DayObs> = days.iter().filter(|d| YearMonth::of_day(d.day) == m).collect();
            let mean = inside.iter().map(|d| d.mean_rps.unwrap()).sum::<f64>() / inside.len() as f64;
            let peak = inside.iter().map(|d| d.peak_rps.unwrap()).fold(0.0, f64::max);
            MonthObs { month: m, mean_rps: Some(mean), peak_rps: Some(peak) }
        })
        .collect();
    let f = growth::forecast(months, Some(&days), opts("2025-05", 2, PeakBasis::Observed)).unwrap();
    assert_eq!(f.model.resolution, Resolution::Daily);
    assert_eq!(f.model.members.len(), 1);
    let may_truth = 200.0 * (1.0 + 0.002 * 135.0) * shape.iter().sum::<f64>() / 7.0;
    assert!((f.periods[0].mean_rps / may_truth - 1.0).abs() < 0.05, "{} vs {may_truth}", f.periods[0].mean_rps);
}

#[test]
fn an_erratic_history_says_its_band_is_unusable() {
    // A level that jumps by up to e^±3 from month to month, from a fixed pseudo-random sequence.
    let mut x: u64 = 12345;
    let months: Vec<MonthObs> = (0..40)
        .map(|t| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let u = (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            let mean = 1000.0 * (3.0 * u).exp();
            MonthObs { month: month("2020-01").plus(t), mean_rps: Some(mean), peak_rps: Some(mean * 2.0) }
        })
        .collect();
    let f = growth::forecast(months, None, opts("2023-05", 6, PeakBasis::Observed)).unwrap();
    let p = f.periods.iter().find(|p| !p.band_usable).expect("some month's band is unusable");
    assert_eq!(p.band_note.as_deref(), Some(growth::UNUSABLE));
    assert!(p.peak_rps_hi95.is_none() && p.peak_rps_worst.is_none() && p.mean_rps_lo80.is_none());
    let w = growth::forecast(
        (0..30)
            .map(|t| MonthObs {
                month: month("2020-01").plus(t),
                mean_rps: Some(100.0 + (t % 3) as f64 * 900.0),
                peak_rps: None,
            })
            .collect(),
        None,
        Options { worst_growth: Some(0.1), ..opts("2022-07", 2, PeakBasis::Ratio(2.0)) },
    )
    .unwrap();
    assert!(w.periods.iter().all(|p| p.peak_rps_worst.is_some()), "an explicit growth always gives a worst case");
}

#[test]
fn too_little_history_is_refused_saying_how_much_is_needed() {
    let months = seasonal_months(3);
    let e = growth::forecast(months, None, opts("2015-04", 1, PeakBasis::None)).unwrap_err();
    assert!(e.to_string().contains("at least 4"), "{e}");
}
