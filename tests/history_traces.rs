//! The history reader on the two real traces shipped in models/history/.

use std::path::Path;

use headroom::ingest::history::{self, Options};

const NASA: &str = "models/history/nasa_ksc_requests_1min.csv";
const WC98: &str = "models/history/wc98_requests_1min.csv";

fn ts(text: &str) -> f64 {
    headroom::calendar::parse_timestamp(text.as_bytes()).unwrap()
}

#[test]
fn nasa_gap_and_hurricane_outage_are_found() {
    let h = history::read(Path::new(NASA), &Options::default()).unwrap();
    assert_eq!(h.rows, 84_332);
    assert_eq!(h.interval_s, 60.0);
    let q = &h.quality;
    assert_eq!(q.gap_count, 1, "{:?}", q.gaps);
    // The log is missing from 1995-07-28T17:32Z to 1995-08-01T04:00Z.
    assert_eq!(q.gaps[0].from_s, ts("1995-07-28T17:32:00Z"));
    assert_eq!(q.gaps[0].to_s, ts("1995-08-01T04:00:00Z"));
    // The hurricane: zeros from 1995-08-01T18:53Z for 2,263 minutes.
    let longest = q.outages.iter().max_by_key(|o| o.rows).unwrap();
    assert_eq!(longest.from_s, ts("1995-08-01T18:53:00Z"));
    assert_eq!(longest.rows, 2263);
    assert_eq!(q.duplicates + q.out_of_order + q.bad_rows, 0);
    let months = h.monthly();
    // The log ends at 1995-09-01T04:00Z: September holds four hours.
    assert_eq!(months.iter().map(|m| m.label.as_str()).collect::<Vec<_>>(), ["1995-07", "1995-08", "1995-09"]);
    assert!((months[2].coverage - 4.0 / (30.0 * 24.0)).abs() < 1e-3, "{}", months[2].coverage);
    // July loses 4 h before the log starts and 3.3 days to the gap; August 4 h to the gap and
    // about 1.7 days to outages.
    let july = (31.0 * 1440.0 - 240.0 - 4948.0) / (31.0 * 1440.0);
    assert!((months[0].coverage - july).abs() < 0.01, "{}", months[0].coverage);
    assert!(months[1].coverage > 0.92 && months[1].coverage < 0.95, "{}", months[1].coverage);
    assert!(months[1].outage_rows >= 2263);
    let p2m = months[0].peak_to_mean.unwrap();
    assert!(p2m > 2.0 && p2m < 20.0, "{p2m}");
}

#[test]
fn wc98_has_no_outage_and_a_flash_crowd_peak() {
    let h = history::read(Path::new(WC98), &Options::default()).unwrap();
    assert_eq!(h.rows, 125_310);
    let q = &h.quality;
    assert_eq!(q.gap_count, 0);
    assert!(q.outages.is_empty(), "{:?}", q.outages);
    assert!(q.isolated_zero_rows > 0);
    let peak = h.monthly().iter().filter_map(|m| m.peak_rps).fold(0.0, f64::max);
    assert!((peak - 3824.0).abs() < 1.0, "{peak}");
    let total_mean: f64 =
        h.days.iter().map(|d| d.sum_rps).sum::<f64>() / h.days.iter().map(|d| d.rows as f64).sum::<f64>();
    assert!(total_mean > 150.0 && total_mean < 210.0, "{total_mean}");
}
