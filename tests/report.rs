//! `headroom report`: the Markdown and JSON renderings pinned by snapshots, the HTML checked
//! for self-containment, and bad inputs refused with the file named.
//!
//! The inputs are a demo run's files, copied to tests/fixtures/report so that running the demo
//! again does not move the snapshots. After an intended change to the report, rewrite the
//! snapshots with `HEADROOM_BLESS=1 cargo test --test report` and review the diff.

mod common;

use std::fs;

use common::{headroom, snapshot};
use predicates::prelude::*;
use serde_json::Value;

const FIXTURES: [&str; 5] = [
    "tests/fixtures/report/spike-results.json",
    "tests/fixtures/report/sweep-results.json",
    "tests/fixtures/report/fit.json",
    "tests/fixtures/report/forecast.json",
    "tests/fixtures/report/plan.json",
];

fn report(format: &str) -> String {
    let out = headroom().arg("report").args(FIXTURES).args(["--format", format]).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn markdown_snapshot() {
    let md = report("md");
    snapshot("report.md", &md);
    // What a reviewer reads in a minute is there, computed from the files.
    for needle in ["## Summary", "Spike test: SLO", "Scalability (USL)", "Forecast", "Action needed", "## Assumptions"]
    {
        assert!(md.contains(needle), "no {needle:?} in the Markdown");
    }
    assert!(md.contains("## Per-month instance plan"));
}

#[test]
fn json_snapshot_holds_every_chart_with_data() {
    let json = report("json");
    snapshot("report.json", &json);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema_version"], 3);
    let charts = v["charts"].as_array().unwrap();
    let ids: Vec<&str> = charts.iter().map(|c| c["id"].as_str().unwrap()).collect();
    // The spike and the sweep each draw latency and rate; the sweep adds its knee.
    assert_eq!(ids, ["latency", "rate", "latency-2", "rate-2", "knee", "usl", "forecast", "instances"]);
    for c in charts {
        let layers = c["layers"].as_array().unwrap();
        assert!(!layers.is_empty(), "{}", c["id"]);
        let drawn = layers.iter().filter(|l| l["points"].as_array().is_some_and(|p| !p.is_empty())).count();
        assert!(drawn > 0, "chart {} has no data", c["id"]);
    }
}

#[test]
fn markdown_writes_its_charts_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("review.md");
    headroom().arg("report").args(FIXTURES).args(["-f", "md", "-o"]).arg(&out).assert().success();
    let md = fs::read_to_string(&out).unwrap();
    for id in ["latency", "rate", "knee", "usl", "forecast", "instances"] {
        let name = format!("review-{id}.svg");
        assert!(md.contains(&format!("]({name})")), "{name} not referenced");
        let svg = fs::read_to_string(dir.path().join(&name)).unwrap();
        assert!(svg.contains("<svg") && svg.len() > 2_000, "{name} is empty");
    }
}

#[test]
fn html_is_one_self_contained_file() {
    let html = report("html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<figure").count(), 8);
    assert_eq!(html.matches("<svg").count(), 8);
    // Nothing to fetch: no scripts, stylesheets, images or fonts from anywhere.
    for bad in ["<script", "<link", "<img", "src=", "@import", "url("] {
        assert!(!html.contains(bad), "the HTML contains {bad:?}");
    }
    assert!(html.contains("@media print"));
}

#[test]
fn csv_is_the_plan_with_plain_numbers() {
    let csv = report("csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "month,peak_rps,peak_rps_worst,instances,instances_worst,add,utilization,utilization_after_domain_loss,note"
    );
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert!(first[1].parse::<f64>().is_ok() && first[3].parse::<u32>().is_ok(), "{first:?}");
    assert_eq!(csv.lines().count(), 13);
}

#[test]
fn bad_inputs_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.json");
    fs::write(&other, r#"{"schema_version": 3, "hello": 1}"#).unwrap();
    headroom().args(["report", other.to_str().unwrap()]).assert().code(2).stderr(
        predicate::str::contains("other.json").and(predicate::str::contains("no kind: expected a results.json")),
    );
    // A file of an older headroom is refused with its version named.
    fs::write(&other, r#"{"schema_version": 1, "steps": []}"#).unwrap();
    headroom()
        .args(["report", other.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("schema_version 1, where this headroom reads 3"));
    let broken = dir.path().join("broken.json");
    fs::write(&broken, "{ not json").unwrap();
    headroom()
        .args(["report", broken.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("broken.json"));
    headroom()
        .args(["report", "no/such/file.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/file.json"));
    headroom().arg("report").assert().code(2).stderr(predicate::str::contains("<FILE>"));
}
