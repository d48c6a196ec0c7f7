//! `headroom forecast` through the binary, on the real traces and on bad input.

use std::fs;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const NASA: &str = "models/history/nasa_ksc_requests_1min.csv";
const WC98: &str = "models/history/wc98_requests_1min.csv";
const BIKES: &str = "models/history/bikeshare_dc_hourly.csv";
const ENWIKI: &str = "models/history/enwiki_monthly.csv";
const ENWIKI_DAILY: &str = "models/history/enwiki_daily.csv";

fn headroom() -> Command {
    Command::cargo_bin("headroom").unwrap()
}

fn forecast(args: &[&str]) -> Value {
    let out =
        headroom().arg("forecast").args(args).args(["--format", "json"]).assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// The share of a coverage object inside its 80% band.
fn share_80(c: &Value) -> f64 {
    f(c, "inside_80") / f(c, "checked")
}

/// The backtest's out-of-sample coverage of the 80% band (of `what`: `mean` or `peak`), at 1–6
/// months ahead and over every horizon backtested, both within 70–90%.
fn assert_calibrated(v: &Value, what: &str) {
    let b = &v["backtest"];
    let key = format!("{what}_coverage");
    for c in [&b["ahead_1_to_6"][&key], &b[&key]] {
        let share = share_80(c);
        assert!(f(c, "checked") > 250.0 && (0.70..=0.90).contains(&share), "80% band covered {share}: {c}");
    }
}

#[test]
fn nasa_reports_the_gap_the_outage_and_a_backtested_forecast() {
    let v = forecast(&[NASA, "--horizon", "3"]);
    assert_eq!(v["schema_version"], 3);
    assert_eq!(v["quality"]["gap_count"], 1);
    assert_eq!(v["quality"]["gaps"][0]["missing_rows"], 4948);
    let outages = v["quality"]["outages"].as_array().unwrap();
    assert!(outages.iter().any(|o| o["rows"] == 2263), "the hurricane");
    assert!(v["treatments"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().contains("outage")));
    assert_eq!(v["source"]["last_month"], "1995-08");
    assert_eq!(v["source"]["interval"], "1 min");
    assert_eq!(v["model"]["resolution"], "daily");
    assert!(v["peak_means"].as_str().unwrap().contains("busiest 1 min"));
    let bt = &v["backtest"];
    assert!(f(bt, "origins") >= 1.0 && f(&bt["ahead_1_to_6"], "peak_mape") > 0.0);
    let periods = v["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 3);
    assert_eq!(periods[0]["month"], "1995-09");
    for p in periods {
        // Two months of history: one backtest origin, so the bands are the model's own.
        assert_eq!(p["band"]["kind"], "model", "{p}");
        if p["band_usable"] == true {
            let (lo95, lo80, mid, hi80, hi95) = (
                f(p, "peak_rps_lo95"),
                f(p, "peak_rps_lo80"),
                f(p, "peak_rps"),
                f(p, "peak_rps_hi80"),
                f(p, "peak_rps_hi95"),
            );
            assert!(lo95 < lo80 && lo80 < mid && mid < hi80 && hi80 < hi95, "{p}");
            assert!(hi95 / lo95 <= 10.0, "a usable band is at most 10× wide: {p}");
        } else {
            assert!(p["peak_rps_hi95"].is_null() && p["band_note"].as_str().unwrap().contains("unusable"), "{p}");
        }
        assert!(f(p, "mean_rps") > 0.0 && f(p, "mean_rps") < f(p, "peak_rps"));
    }
}

#[test]
fn no_band_in_the_shipped_histories_is_printed_wider_than_the_unusable_rule() {
    for args in [
        &[NASA][..],
        &[WC98],
        &[BIKES, "--count-column", "trips", "--timezone", "-05:00"],
        &[ENWIKI, "--time-column", "month", "--count-column", "requests"],
    ] {
        let v = forecast(args);
        for p in v["periods"].as_array().unwrap() {
            let (lo, hi) = if p["peak_rps"].is_null() {
                ("mean_rps_lo95", "mean_rps_hi95")
            } else {
                ("peak_rps_lo95", "peak_rps_hi95")
            };
            match (p[lo].as_f64(), p[hi].as_f64()) {
                (Some(lo), Some(hi)) => assert!(hi / lo <= 10.0 && p["band_usable"] == true, "{args:?}: {p}"),
                _ => assert!(p["band_usable"] == false && p["band_note"].is_string(), "{args:?}: {p}"),
            }
        }
    }
}

#[test]
fn hourly_rows_of_nine_years_beat_both_baselines_and_their_band_covers() {
    let v = forecast(&[BIKES, "--count-column", "trips", "--timezone", "-05:00", "--holdout", "6"]);
    assert_eq!(v["source"]["interval"], "hourly");
    assert_eq!(v["model"]["resolution"], "monthly");
    assert!(v["peak_means"].as_str().unwrap().contains("busiest hour"));
    assert!(v["treatments"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().contains("UTC-05:00")));
    let s = &v["backtest"]["ahead_1_to_6"];
    for what in ["mean", "peak"] {
        let ours = f(s, &format!("{what}_mape"));
        for base in ["holt_winters", "seasonal_naive"] {
            let theirs = f(s, &format!("{base}_{what}_mape"));
            assert!(ours < theirs, "{what}: headroom {ours}% vs {base} {theirs}%");
        }
    }
    assert_calibrated(&v, "peak");
    assert_calibrated(&v, "mean");
    assert_eq!(v["holdout"]["months"].as_array().unwrap().len(), 6);
    assert_eq!(v["holdout"]["months"][5]["month"], "2019-08");
}

#[test]
fn monthly_rows_are_calendar_months_and_forecast_the_mean_only_unless_given_a_ratio() {
    let v = forecast(&[ENWIKI, "--time-column", "month", "--count-column", "requests", "--horizon", "2"]);
    assert_eq!(v["source"]["interval"], "monthly");
    assert_eq!(v["model"]["resolution"], "monthly");
    // 2008-01 has 31 days: 4,775,059,167 requests over 2,678,400 s.
    let jan = &v["history"][0];
    assert_eq!(jan["label"], "2008-01");
    assert!((f(jan, "mean_rps") - 4_775_059_167.0 / 2_678_400.0).abs() < 1e-6, "{jan}");
    let feb = &v["history"][1];
    assert!((f(feb, "mean_rps") - 4_983_230_311.0 / (29.0 * 86_400.0)).abs() < 1e-6, "a leap February: {feb}");
    assert_eq!(v["quality"]["missing_rows"], 7, "2009-12 to 2010-06");
    assert!(v["periods"][0]["peak_rps"].is_null() && v["periods"][0]["mean_rps"].as_f64().unwrap() > 1000.0);
    assert!(v["peak_means"].as_str().unwrap().contains("--peak-to-mean"));
    let r = forecast(&[
        ENWIKI,
        "--time-column",
        "month",
        "--count-column",
        "requests",
        "--horizon",
        "2",
        "--peak-to-mean",
        "1.5",
    ]);
    assert!((f(&r["periods"][0], "peak_rps") / f(&r["periods"][0], "mean_rps") - 1.5).abs() < 1e-9);
}

/// A history of `n` rows `step_days` apart from 2020-01-06 (a Monday), with `count` requests per
/// row growing 1% a row, as `YYYY-MM-DD`.
fn coarse(n: usize, step_days: i64) -> String {
    let start = headroom::calendar::days_from_civil(2020, 1, 6);
    let mut s = String::from("date,requests\n");
    for i in 0..n {
        let (y, m, d) = headroom::calendar::civil_from_days(start + i as i64 * step_days);
        s.push_str(&format!(
            "{y:04}-{m:02}-{d:02},{}\n",
            (86_400.0 * step_days as f64 * 100.0 * 1.01f64.powi(i as i32)).round()
        ));
    }
    s
}

fn forecast_stdin(text: String, args: &[&str]) -> Value {
    let out = headroom()
        .args(["forecast", "-", "--time-column", "date", "--count-column", "requests", "-f", "json"])
        .args(args)
        .write_stdin(text)
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn seven_years_of_daily_rows_are_forecast_on_months_and_beat_both_baselines() {
    let v = forecast(&[ENWIKI_DAILY, "--time-column", "date", "--count-column", "requests"]);
    assert_eq!(v["source"]["interval"], "daily");
    assert_eq!(v["model"]["resolution"], "monthly");
    assert_eq!(v["source"]["rows"], 2437);
    assert_eq!(v["quality"]["missing_rows"], 274);
    assert!(v["periods"][0]["peak_rps"].is_null(), "daily rows hold no peak capacity can use");
    let s = &v["backtest"]["ahead_1_to_6"];
    let ours = f(s, "mean_mape");
    assert!(ours < f(s, "holt_winters_mean_mape") && ours < f(s, "seasonal_naive_mean_mape"), "{s}");
    assert_calibrated(&v, "mean");
}

#[test]
fn monthly_rows_of_seven_years_beat_both_baselines_and_their_band_covers() {
    let v = forecast(&[ENWIKI, "--time-column", "month", "--count-column", "requests"]);
    let s = &v["backtest"]["ahead_1_to_6"];
    let ours = f(s, "mean_mape");
    assert!(ours < f(s, "holt_winters_mean_mape") && ours < f(s, "seasonal_naive_mean_mape"), "{s}");
    assert_calibrated(&v, "mean");
    // The counting change of 2014-09 (mobile counted from then on) was missed by every forecast
    // made before it, and the scale of the bands made since has grown to say so.
    let band = &v["periods"][0]["band"];
    assert!(f(band, "scale") > 1.5 && v["periods"][0]["band_usable"] == true, "{band}");
}

#[test]
fn weekly_and_daily_rows_forecast_too() {
    let w = forecast_stdin(coarse(120, 7), &["--horizon", "2"]);
    assert_eq!(w["source"]["interval"], "weekly");
    assert_eq!(w["model"]["resolution"], "monthly");
    // Each week's count over its own 7 days: 100 RPS in the first week.
    assert!((f(&w["days"][0], "mean_rps") - 100.0).abs() < 1e-9, "{}", w["days"][0]);
    assert!(w["periods"][0]["peak_rps"].is_null());
    let d = forecast_stdin(coarse(200, 1), &["--horizon", "2", "--peak-to-mean", "2"]);
    assert_eq!(d["source"]["interval"], "daily");
    assert_eq!(d["model"]["resolution"], "daily");
    let p = &d["periods"][0];
    assert!(f(p, "peak_rps") > f(p, "mean_rps") && f(p, "mean_rps") > 100.0 * 1.01f64.powi(199));
}

#[test]
fn forecast_feeds_plan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wc98.json");
    let out = headroom().args(["forecast", WC98, "--worst-growth", "20%/month", "-f", "json"]).assert().success();
    fs::write(&path, &out.get_output().stdout).unwrap();
    let plan = headroom()
        .args(["plan", "models/wc98.toml", "--forecast", path.to_str().unwrap(), "-f", "json"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&plan.get_output().stdout).unwrap();
    let months = v["months"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(months[0]["month"], "1998-08");
    assert!(months[1]["note"].as_str().unwrap().contains("Season opener"));
    assert!(months
        .iter()
        .all(|m| m["instances_worst"].as_u64().unwrap_or(u64::MAX) >= m["instances"].as_u64().unwrap()));
}

#[test]
fn table_and_csv() {
    headroom()
        .args(["forecast", NASA, "--horizon", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1995-07-28T17:32:00Z → 1995-08-01T04:00:00Z"))
        .stdout(predicate::str::contains("outage"))
        .stdout(predicate::str::contains("Backtest"));
    let out = headroom().args(["forecast", NASA, "--horizon", "2", "-f", "csv"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "month,mean_rps,mean_rps_lo80,mean_rps_hi80,mean_rps_lo95,mean_rps_hi95,peak_rps,peak_rps_lo80,peak_rps_hi80,peak_rps_lo95,peak_rps_hi95,peak_rps_worst,band_usable"
    );
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("1995-09,"));
}

fn bad(args: &[&str], stdin: &str, message: &str) {
    headroom()
        .arg("forecast")
        .args(args)
        .write_stdin(stdin.to_string())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message))
        .stderr(predicate::str::contains("panicked").not());
}

fn minutes(n: usize, bad_at: Option<(usize, &str)>) -> String {
    let mut s = String::from("timestamp,rps\n");
    for i in 0..n {
        let v = match bad_at {
            Some((at, v)) if at == i => v.to_string(),
            _ => "10".into(),
        };
        s.push_str(&format!("{},{v}\n", 1_700_000_000 + 3600 * i));
    }
    s
}

#[test]
fn bad_histories_exit_2_naming_the_place() {
    bad(&["-"], &minutes(50, Some((3, "ten"))), "<stdin>:5: column 'rps': expected a non-negative rate, found 'ten'");
    bad(&["-"], &minutes(50, Some((3, "-4"))), "<stdin>:5: column 'rps': expected a non-negative rate, found '-4'");
    bad(
        &["-"],
        "when,rps\n1,2\n",
        "no column named 'timestamp' (the header has: 'when', 'rps'); name the right one with --time-column",
    );
    bad(&["-", "--count-column", "requests"], "timestamp,rps\n1,2\n", "no column named 'requests'");
    bad(&["-"], "timestamp,rps\n2026-02-30T00:00:00Z,3\n", "expected a time such as");
    bad(
        &["-", "--time-column", "month", "--count-column", "requests"],
        "month,requests\n2008-13,5\n",
        "<stdin>:2: column 'month': expected a time",
    );
    bad(&["-"], "timestamp,rps\n", "no data rows");
    bad(&["no/such.csv"], "", "cannot open the history no/such.csv");
    // Ten days of hourly data cover no month; sixteen days from the 1st cover half of January but
    // are too few to backtest.
    bad(&["-"], &minutes(240, None), "no month is at least half covered");
    let january: String = (0..16 * 24).map(|h| format!("2026-01-{:02}T{:02}:00:00Z,5\n", 1 + h / 24, h % 24)).collect();
    bad(&["-"], &format!("timestamp,rps\n{january}"), "16 usable day(s) of history: a forecast needs at least 21");
    bad(&["-", "--worst-growth", "-120%"], "", "above -100%");
}

#[test]
fn skip_bad_rows_reports_them() {
    let text = minutes(24 * 70, Some((30, "oops")));
    let out = headroom().args(["forecast", "-", "--skip-bad-rows", "-f", "json"]).write_stdin(text).assert().success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["quality"]["bad_rows"], 1);
    assert!(v["quality"]["bad_row_examples"][0].as_str().unwrap().contains("<stdin>:32"));
    assert!(v["treatments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t.as_str().unwrap().contains("unreadable rows skipped")));
}

#[test]
fn history_rolls_up_by_hour_day_and_month() {
    let rows = |by: &str| {
        let out = headroom().args(["history", NASA, "--by", by, "-f", "json"]).assert().success();
        let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_eq!(v["quality"]["gap_count"], 1);
        v["periods"].as_array().unwrap().clone()
    };
    let (hours, days, months) = (rows("hour"), rows("day"), rows("month"));
    assert_eq!(months.len(), 3);
    assert_eq!(days.len(), 63);
    // The history runs from 1995-07-01T04:00Z to 1995-09-01T03:59Z: 62 days of hours.
    assert_eq!(hours.len(), 62 * 24);
    // The launch-day spike: 6.75 RPS in the minute of 1995-07-13 that peaks July.
    let peak = |h: &Value| h["peak_rps"].as_f64().unwrap_or(0.0);
    assert!(hours.iter().any(|h| h["peak_rps"].is_null()), "the gap's hours have no peak");
    let top = hours.iter().max_by(|a, b| peak(a).total_cmp(&peak(b))).unwrap();
    assert!(top["label"].as_str().unwrap().starts_with("1995-07-13"), "{top}");
    assert_eq!(f(top, "peak_rps"), f(&months[0], "peak_rps"));
    // Outage hours count no readings: the hurricane hours are empty.
    let storm = hours.iter().find(|h| h["label"] == "1995-08-02T12:00Z").unwrap();
    assert!(storm["mean_rps"].is_null() && storm["outage_rows"] == 60, "{storm}");
}

#[test]
fn local_times_are_read_in_a_named_zone_across_daylight_saving() {
    // New York's clocks skip 02:00 on 2024-03-10: a local export has no such row, and no gap.
    let mut text = String::from("timestamp,rps\n");
    for d in 8..=12 {
        for h in 0..24 {
            if !(d == 10 && h == 2) {
                text.push_str(&format!("2024-03-{d:02} {h:02}:00:00,{}\n", 10 + h));
            }
        }
    }
    let run = |zone: &str| -> Value {
        let out = headroom()
            .args(["history", "-", "--by", "day", "--timezone", zone, "-f", "json"])
            .write_stdin(text.clone())
            .assert()
            .success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    };
    let ny = run("America/New_York");
    assert_eq!(ny["quality"]["gap_count"], 0, "{}", ny["quality"]);
    assert_eq!(ny["quality"]["zone"], "America/New_York");
    assert!(ny["treatments"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().contains("America/New_York")));
    let fixed = run("-05:00");
    assert_eq!(fixed["quality"]["gap_count"], 1, "a fixed offset sees the skipped hour as missing");
    headroom()
        .args(["history", "-", "--timezone", "Mars/Olympus"])
        .write_stdin(text)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("zone name such as America/New_York"));
}

/// A Prometheus `query_range` answer: two series at 5-minute steps over `days` days from
/// 2026-01-01 (Unix 1767225600), one of 100 RPS with a daily swing of ±20, one of 50 RPS.
fn query_range(days: usize) -> String {
    let steps = days * 288;
    let series = |f: &dyn Fn(usize) -> f64| {
        (0..steps).map(|k| format!("[{},\"{}\"]", 1_767_225_600 + k * 300, f(k))).collect::<Vec<_>>().join(",")
    };
    let swing = |k: usize| 100.0 + 20.0 * (2.0 * std::f64::consts::PI * (k % 288) as f64 / 288.0).sin();
    format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[
        {{"metric":{{"job":"api","instance":"a:9100"}},"values":[{}]}},
        {{"metric":{{"job":"api","instance":"b:9100"}},"values":[{}]}}]}}}}"#,
        series(&swing),
        series(&|_| 50.0)
    )
}

#[test]
fn a_prometheus_range_query_is_a_history_the_sum_of_its_series() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("range.json");
    fs::write(&path, query_range(35)).unwrap();
    let file = path.to_str().unwrap();
    let out = headroom().args(["history", file, "--by", "day", "-f", "json"]).assert().success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["rows"], 35 * 288);
    assert_eq!(v["interval_s"], 300.0);
    let day = &v["periods"][0];
    assert!((f(day, "mean_rps") - 150.0).abs() < 1e-6 && (f(day, "peak_rps") - 170.0).abs() < 1e-6, "{day}");
    let f = forecast(&[file, "--horizon", "1"]);
    assert_eq!(f["model"]["resolution"], "daily");
    assert!(f["periods"][0]["mean_rps"].as_f64().unwrap() > 100.0);

    for (text, says) in [
        (
            r#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#,
            "Prometheus answered error (bad_data): parse error",
        ),
        (r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#, "needs a range query's 'matrix'"),
        (
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"api"},"values":[[1,"1"],[2,"NaN"]]}]}}"#,
            r#"data.result[0].values[1] (at 1970-01-01T00:00:02Z): expected a request rate of 0 or more, found 'NaN' (series {"job":"api"})"#,
        ),
        (r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#, "0 step(s) of data"),
    ] {
        fs::write(&path, text).unwrap();
        headroom().args(["history", file]).assert().code(2).stderr(predicate::str::contains(says));
    }
}

#[test]
fn counts_taken_as_requests_scale_the_forecast_and_say_so() {
    let args = [ENWIKI, "--time-column", "month", "--count-column", "requests"];
    let (plain, scaled) = (forecast(&args), forecast(&[&args[..], &["--requests-per-count", "1000"]].concat()));
    assert!(plain["source"].get("requests_per_count").is_none(), "{}", plain["source"]);
    assert_eq!(scaled["source"]["requests_per_count"], 1000.0);
    for (p, s) in plain["periods"].as_array().unwrap().iter().zip(scaled["periods"].as_array().unwrap()) {
        let (p, s) = (f(p, "mean_rps"), f(s, "mean_rps"));
        assert!((s / (p * 1000.0) - 1.0).abs() < 1e-6, "{s} against 1000 × {p}");
    }
    // Errors are relative, so the scale leaves them as they were (to rounding).
    let (a, b) = (&plain["backtest"]["ahead_1_to_6"], &scaled["backtest"]["ahead_1_to_6"]);
    assert_eq!(a["mean_coverage"], b["mean_coverage"]);
    for key in ["mean_mape", "holt_winters_mean_mape", "seasonal_naive_mean_mape"] {
        assert!((f(a, key) - f(b, key)).abs() < 1e-9, "{key}: {a} against {b}");
    }
    headroom()
        .args([
            "forecast",
            ENWIKI,
            "--time-column",
            "month",
            "--count-column",
            "requests",
            "--requests-per-count",
            "1000",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("counts × 1,000 requests each"));
    // A rate is already requests; a scale without a count column is refused.
    headroom()
        .args(["forecast", NASA, "--requests-per-count", "1000"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--count-column"));
    headroom()
        .args(["forecast", ENWIKI, "--time-column", "month", "--count-column", "requests", "--requests-per-count", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a positive number"));
}
