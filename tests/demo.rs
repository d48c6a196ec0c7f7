//! `headroom demo` end to end, as the README's first command runs it: the simulated service on
//! 127.0.0.1, a sweep and a spike, the fit, the forecast, the plan and the review, in one go.

use std::fs;

use assert_cmd::Command;
use serde_json::Value;

#[test]
fn the_demo_writes_a_complete_review() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let run = Command::cargo_bin("headroom").unwrap().args(["demo", "--out"]).arg(&out).assert().success();
    let stdout = String::from_utf8(run.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("report.html"), "{stdout}");
    let stderr = String::from_utf8(run.get_output().stderr.clone()).unwrap();
    for step in [
        "headroom serve-sim",
        "headroom run loadplans/sweep.toml",
        "headroom fit",
        "headroom forecast",
        "headroom plan",
    ] {
        assert!(stderr.contains(step), "the demo did not print {step:?}:\n{stderr}");
    }

    // The sweep recovers the simulated service's contention and coherency.
    let fit: Value = serde_json::from_str(&fs::read_to_string(out.join("fit.json")).unwrap()).unwrap();
    let (sigma, kappa) = (fit["usl"]["sigma"].as_f64().unwrap(), fit["usl"]["kappa"].as_f64().unwrap());
    assert!((sigma - 0.05).abs() < 0.02 && (kappa / 0.002 - 1.0).abs() < 0.25, "σ {sigma}, κ {kappa}");

    // The service model's capacity comes from that fit, and the plan from the model.
    let service = fs::read_to_string(out.join("service.toml")).unwrap();
    let per_instance = fit["usl"]["peak_throughput"].as_f64().unwrap() * 0.6;
    assert!(service.contains(&format!("rps_per_instance = {per_instance:.1}")), "{service}");
    let plan: Value = serde_json::from_str(&fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["months"].as_array().unwrap().len(), 12);

    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<figure").count(), 8);
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("![") && out.join("report-usl.svg").exists());
}
