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

    // The plan's capacity per instance is measured: the sweep (its SLO-bound step, the busy
    // workers it read) and its fit reconciled, the smallest used.
    let plan: Value = serde_json::from_str(&fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["months"].as_array().unwrap().len(), 12);
    let c = &plan["assumptions"]["capacity"];
    let figures = c["figures"].as_array().unwrap();
    let rules: Vec<&str> = figures.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules.len(), 3, "{c}");
    for rule in ["slo", "utilization_law", "usl_peak"] {
        assert!(rules.contains(&rule), "{rule}: {c}");
    }
    let smallest = figures.iter().map(|f| f["rps"].as_f64().unwrap()).fold(f64::INFINITY, f64::min);
    assert_eq!(c["rps_per_instance"].as_f64().unwrap(), smallest);
    let usl = fit["usl"]["peak_throughput"].as_f64().unwrap() * 0.6;
    let usl_figure = figures.iter().find(|f| f["rule"] == "usl_peak").unwrap()["rps"].as_f64().unwrap();
    assert!((usl_figure - usl).abs() < 1e-6 * usl, "{usl_figure} vs {usl}");

    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<figure").count(), 8);
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("![") && out.join("report-usl.svg").exists());
}
