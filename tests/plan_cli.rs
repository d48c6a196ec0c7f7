//! `headroom plan` through the binary.

use std::fs;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn headroom() -> Command {
    Command::cargo_bin("headroom").unwrap()
}

fn plan_json(args: &[&str]) -> Value {
    let out =
        headroom().arg("plan").args(args).args(["--format", "json"]).assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

fn column(v: &Value, key: &str) -> Vec<Value> {
    v["months"].as_array().unwrap().iter().map(|m| m[key].clone()).collect()
}

fn model_with(extra: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    fs::write(&path, format!("{}\n{extra}", fs::read_to_string("models/example.toml").unwrap())).unwrap();
    let p = path.to_str().unwrap().to_string();
    (dir, p)
}

#[test]
fn worked_example_month_by_month() {
    let v = plan_json(&["models/example.toml", "--start", "2027-01"]);
    assert_eq!(v["schema_version"], 3);
    let instances: Vec<u64> = column(&v, "instances").iter().map(|x| x.as_u64().unwrap()).collect();
    assert_eq!(instances, [20, 20, 20, 20, 22, 24, 26, 29, 32, 35, 39, 42]);
    let notes = column(&v, "note");
    assert!(notes[..4].iter().all(|n| n == "current fleet is enough"));
    assert_eq!(v["months"][0]["month"], "2027-01");
    assert!((v["months"][0]["peak_rps"].as_f64().unwrap() - 11_000.0).abs() < 1e-6);
    assert_eq!(v["months"][4]["add"], 2);
    assert!((v["assumptions"]["rps_per_instance_at_target"].as_f64().unwrap() - 750.0).abs() < 1e-9);
    for key in ["peak_rps_worst", "instances_worst", "utilization", "utilization_after_domain_loss"] {
        assert!(v["months"][0].get(key).is_some(), "{key}");
    }
}

#[test]
fn failure_domains_spares_events_and_worst_growth() {
    let (_d, path) = model_with(
        "[resilience]\nfailure_domains = 3\nspare_instances = 1\n\n[[events]]\nname = \"Sale\"\nmonth = \"2027-03\"\nmultiplier = 3\n",
    );
    let v = plan_json(&[&path, "--start", "2027-01", "--worst-growth", "15%/month"]);
    let m5 = &v["months"][4];
    // ⌈(n − ⌈n/3⌉)·750 ≥ 16,105⌉ gives 33, plus one spare.
    assert_eq!(m5["instances"], 34);
    // Worst case 10,000 × 1.15⁵ = 20,114 RPS: 41 + 1.
    assert_eq!(m5["instances_worst"], 42);
    assert!(m5["note"].as_str().unwrap().contains("worst case exceeds nominal by 8"));
    let after = m5["utilization_after_domain_loss"].as_f64().unwrap();
    assert!(after <= 0.6, "{after}");
    let m3 = &v["months"][2];
    assert!((m3["peak_rps"].as_f64().unwrap() - 3.0 * 13_310.0).abs() < 1e-6);
    assert!(m3["note"].as_str().unwrap().starts_with("Sale (×3)"));
}

#[test]
fn usl_fit_of_scale_out_caps_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("scaleout.csv");
    // Instances vs fleet throughput with σ = 0.03, κ = 0.002: X peaks near N = 22 at 34,456 RPS,
    // so 60% of it (20,674 RPS) carries months 1-7 of 10%/month growth but not month 8.
    let rows: String = [1.0f64, 2.0, 4.0, 8.0, 12.0, 16.0, 24.0, 32.0]
        .iter()
        .map(|n| format!("{n},{}\n", 4000.0 * n / (1.0 + 0.03 * (n - 1.0) + 0.002 * n * (n - 1.0))))
        .collect();
    fs::write(&sweep, format!("concurrency,throughput\n{rows}")).unwrap();
    let fit = headroom()
        .args(["fit", sweep.to_str().unwrap(), "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let fit_path = dir.path().join("fit.json");
    fs::write(&fit_path, fit).unwrap();
    let v = plan_json(&["models/example.toml", "--start", "2027-01", "--fit", fit_path.to_str().unwrap()]);
    assert!(v["assumptions"]["usl"]["kappa"].as_f64().unwrap() > 0.0);
    let first = v["months"][0]["instances"].as_u64().unwrap();
    assert!(first >= 20);
    assert!(v["months"][6]["instances"].as_u64().is_some());
    let last = &v["months"][7];
    assert!(last["instances"].is_null());
    assert!(last["note"].as_str().unwrap().contains("not reachable by adding instances"));
}

#[test]
fn csv_is_one_plain_table() {
    let out = headroom()
        .args(["plan", "models/example.toml", "--start", "2027-01", "--months", "5", "-f", "csv"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "month,peak_rps,peak_rps_worst,instances,instances_worst,add,utilization,utilization_after_domain_loss,note"
    );
    assert_eq!(lines.len(), 6);
    assert!(lines[5].starts_with("2027-05,16105.1,16105.1,22,22,2,0.58564,,"), "{}", lines[5]);
}

fn bad_model(text: &str, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    fs::write(&path, text).unwrap();
    headroom()
        .args(["plan", path.to_str().unwrap(), "--start", "2027-01"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml"))
        .stderr(predicate::str::contains(message))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn bad_models_name_the_key() {
    let good = fs::read_to_string("models/example.toml").unwrap();
    bad_model(
        &good.replace("instances = 20", "instance = 20"),
        "unknown field `instance`, expected one of `instances`",
    );
    bad_model(
        &good.replace("utilization = \"60%\"", "utilization = \"160%\""),
        "target.utilization: must be above 0% and at most 100%",
    );
    bad_model(
        &good.replace("monthly_rate = \"10%\"", "monthly_rate = \"fast\""),
        "growth.monthly_rate: expected a share",
    );
    bad_model(&good.replace("[growth]\nmonthly_rate = \"10%\"", ""), "no [growth] monthly_rate");
    bad_model(&good.replace("peak_rps = 10000", "peak_rps = \"lots\""), "peak_rps");
    bad_model("[service]\nname = 'x'\n", "missing field `current`");
    bad_model(
        &format!("{good}\n[resilience]\nfailure_domains = 0\n"),
        "resilience.failure_domains: must be between 1 and 1000",
    );
    headroom()
        .args(["plan", "models/nope.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read the model file models/nope.toml"));
    headroom()
        .args(["plan", "models/example.toml", "--start", "2027-13"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("YYYY-MM"));
    headroom()
        .args(["plan", "models/example.toml", "--fit", "models/specsdm91.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not JSON"));
}
