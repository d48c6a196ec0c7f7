//! `headroom forecast` through the binary, on the real traces and on bad input.

use std::fs;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const NASA: &str = "models/history/nasa_ksc_requests_1min.csv";
const WC98: &str = "models/history/wc98_requests_1min.csv";

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

#[test]
fn nasa_reports_the_gap_the_outage_and_a_backtested_forecast() {
    let v = forecast(&[NASA, "--horizon", "3"]);
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["quality"]["gap_count"], 1);
    assert_eq!(v["quality"]["gaps"][0]["missing_rows"], 4948);
    let outages = v["quality"]["outages"].as_array().unwrap();
    assert!(outages.iter().any(|o| o["rows"] == 2263), "the hurricane");
    assert!(v["treatments"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().contains("outage")));
    assert_eq!(v["source"]["last_month"], "1995-08");
    assert!(v["model"].is_object() && v["model"]["name"].is_string());
    let bt = &v["backtest"];
    assert!(f(bt, "origins") >= 1.0 && f(bt, "peak_mape") > 0.0 && f(bt, "window_days") >= 7.0);
    let periods = v["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 3);
    assert_eq!(periods[0]["month"], "1995-09");
    for p in periods {
        let (lo95, lo80, mid, hi80, hi95) = (
            f(p, "peak_rps_lo95"),
            f(p, "peak_rps_lo80"),
            f(p, "peak_rps"),
            f(p, "peak_rps_hi80"),
            f(p, "peak_rps_hi95"),
        );
        assert!(lo95 < lo80 && lo80 < mid && mid < hi80 && hi80 < hi95, "{p}");
        assert!(f(p, "mean_rps") > 0.0 && f(p, "mean_rps") < mid);
    }
}

/// Each held-out month is forecast only from the months before it.
fn holdouts(file: &str, n: &str) -> Vec<Value> {
    let v = forecast(&[file, "--horizon", "1", "--holdout", n]);
    v["holdout"]["months"].as_array().unwrap().clone()
}

#[test]
fn held_out_months_fall_in_the_bands_and_beat_holt_winters() {
    let mut months = holdouts(NASA, "1");
    months.extend(holdouts(WC98, "2"));
    let names: Vec<&str> = months.iter().map(|m| m["month"].as_str().unwrap()).collect();
    assert_eq!(names, ["1995-08", "1998-06", "1998-07"]);
    let (mut ours, mut baseline) = (0.0, 0.0);
    for m in &months {
        let actual = f(m, "actual_peak_rps");
        let fc = &m["forecast"];
        assert!(f(fc, "peak_rps_lo95") <= actual && actual <= f(fc, "peak_rps_hi95"), "{m}");
        ours += (f(fc, "peak_rps") - actual).abs() / actual;
        baseline += (f(m, "holt_winters_peak_rps") - actual).abs() / actual;
    }
    let n = months.len() as f64;
    eprintln!("held-out peak MAPE: headroom {:.1}%, Holt-Winters {:.1}%", 100.0 * ours / n, 100.0 * baseline / n);
    assert!(ours <= baseline, "headroom {ours} vs Holt-Winters {baseline}");
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
        .stdout(predicate::str::contains("backtest"));
    let out = headroom().args(["forecast", NASA, "--horizon", "2", "-f", "csv"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "month,mean_rps,peak_rps,peak_rps_lo80,peak_rps_hi80,peak_rps_lo95,peak_rps_hi95,peak_rps_worst"
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
    bad(&["-"], "timestamp,rps\n2026-02-30T00:00:00Z,3\n", "expected an RFC 3339 time");
    bad(&["-"], "timestamp,rps\n", "no data rows");
    bad(&["no/such.csv"], "", "cannot open the history no/such.csv");
    // Ten days of hourly data cover no month; sixteen days from the 1st cover half of January but
    // are too few to backtest.
    bad(&["-"], &minutes(240, None), "no month is at least half covered");
    let january: String = (0..16 * 24).map(|h| format!("2026-01-{:02}T{:02}:00:00Z,5\n", 1 + h / 24, h % 24)).collect();
    bad(&["-"], &format!("timestamp,rps\n{january}"), "16 usable days of history: a forecast needs at least 21");
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
