//! The forecaster on synthetic histories with known truths.

use headroom::calendar::{days_from_civil, YearMonth};
use headroom::model::growth::{self, Candidate, DayObs, Options, Trend};

/// A deterministic standard normal draw for day `i` (Box-Muller on a hash of i).
fn normal(i: i64) -> f64 {
    let h = |x: u64| {
        let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let (u1, u2) = (h(2 * i as u64).max(1e-12), h(2 * i as u64 + 1));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Daily observations of `mean(day)` whose peak is 3× the mean times a lognormal excess (σ 0.1).
fn history(start: i64, days: i64, mean: impl Fn(i64) -> f64) -> Vec<DayObs> {
    (0..days)
        .map(|i| {
            let d = start + i;
            DayObs { day: d, mean_rps: mean(d), peak_rps: 3.0 * mean(d) * (0.1 * normal(i)).exp(), coverage: 1.0 }
        })
        .collect()
}

fn opts(first_month: &str, horizon: usize) -> Options {
    Options { first_month: first_month.parse().unwrap(), horizon, worst_growth: None }
}

#[test]
fn steady_compound_growth_is_selected_and_recovered() {
    // 10% a month for a year and a half: enough origins to select a single model.
    let start = days_from_civil(2024, 1, 1);
    let rate = 1.1f64.powf(1.0 / 30.0).ln();
    let days = history(start, 548, |d| 100.0 * (rate * (d - start) as f64).exp());
    let f = growth::forecast(&days, opts("2025-07", 6)).unwrap();
    assert!(f.backtest.origins >= 8, "{}", f.backtest.origins);
    assert_eq!(f.model.trend, Trend::Compound, "{:?}", f.model);
    assert!(matches!(f.model.candidate, Candidate::Single(_)), "{:?}", f.model.candidate);
    assert!((f.model.monthly_growth - 0.1).abs() < 0.005, "{}", f.model.monthly_growth);
    for w in f.periods.windows(2) {
        let g = w[1].peak_rps / w[0].peak_rps;
        assert!((g - 1.1).abs() < 0.04, "{g}");
        assert!(w[1].peak_rps_hi95 - w[1].peak_rps > w[0].peak_rps_hi95 - w[0].peak_rps, "bands widen");
    }
    assert!(f.backtest.peak_mape < 10.0, "{}", f.backtest.peak_mape);
}

#[test]
fn yearly_seasonality_after_two_years() {
    let start = days_from_civil(2022, 1, 1);
    let december = |d: i64| headroom::calendar::civil_from_days(d).1 == 12;
    let days = history(start, 3 * 365, |d| if december(d) { 200.0 } else { 100.0 });
    let f = growth::forecast(&days, opts("2025-01", 12)).unwrap();
    let y = f.model.yearly_factors.expect("two years of history give month-of-year factors");
    assert!((y[11] / y[0] - 2.0).abs() < 0.05, "{y:?}");
    let dec = f.periods.iter().find(|p| p.month.month == 12).unwrap();
    let jun = f.periods.iter().find(|p| p.month.month == 6).unwrap();
    assert!((dec.mean_rps / jun.mean_rps - 2.0).abs() < 0.1, "{} {}", dec.mean_rps, jun.mean_rps);
}

#[test]
fn a_spike_and_an_outage_do_not_wreck_the_forecast() {
    let start = days_from_civil(2025, 1, 1);
    let mut days = history(start, 120, |_| 50.0);
    days[100].mean_rps *= 6.0;
    days[100].peak_rps *= 20.0;
    days[70].coverage = 0.1;
    days[70].mean_rps = 0.0;
    let f = growth::forecast(&days, opts("2025-05", 2)).unwrap();
    let p = &f.periods[0];
    // Peaks are 3 × 50 × e^(0.1·z): a month's largest sits near 150 · e^0.2 ≈ 183, far from the
    // 3,000 of the spike.
    assert!(p.peak_rps > 165.0 && p.peak_rps < 200.0, "{}", p.peak_rps);
    assert!((p.mean_rps - 50.0).abs() < 1.0, "{}", p.mean_rps);
    let spike = growth::date(start + 100);
    assert!(f.down_weighted.iter().any(|d| d.date == spike), "{:?}", f.down_weighted);
    assert!(p.peak_rps_lo80 <= p.peak_rps && p.peak_rps <= p.peak_rps_hi80 && p.peak_rps_hi80 <= p.peak_rps_hi95);
}

#[test]
fn worst_growth_override_and_too_short_histories() {
    let start = days_from_civil(2025, 1, 1);
    let days = history(start, 90, |_| 100.0);
    let f = growth::forecast(&days, Options { worst_growth: Some(0.5), ..opts("2025-04", 3) }).unwrap();
    for (h, p) in f.periods.iter().enumerate() {
        // The explicit rate replaces the 95% bound, compounding from the recent peak.
        assert!(p.peak_rps_worst >= p.peak_rps);
        let expected = p.peak_rps * 1.5f64.powi(h as i32 + 1);
        assert!((p.peak_rps_worst / expected - 1.0).abs() < 0.1, "{h}: {p:?}");
    }
    let short = history(start, 15, |_| 100.0);
    assert_eq!(growth::forecast(&short, opts("2025-02", 1)), Err(growth::ForecastError::TooShort { usable: 15 }));
    let _ = YearMonth { year: 2025, month: 1 };
}
