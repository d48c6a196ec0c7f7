//! The target's utilization read while it is loaded: serve-sim's `/metrics` (worker-seconds
//! busy, a counter, over its workers), scraped by `run`, and the Utilization Law fitted to the
//! steps. serve-sim's 8 workers of 20 ms (constant) serve 400 RPS at most, so a step at X RPS
//! keeps them X × 20 ms / 8 busy, and 60% utilization is 240 RPS.

mod common;

use common::{headroom, results, Sim};

const WORKERS: f64 = 8.0;
const SERVICE_S: f64 = 0.020;

fn sim() -> Sim {
    Sim::start(&["--workers", "8", "--service-time", "20ms", "--distribution", "constant"])
}

fn within(got: f64, want: f64, share: f64) -> bool {
    (got - want).abs() <= share * want
}

#[test]
fn serve_sim_exposes_its_busy_worker_seconds() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    headroom()
        .args(["run", "--target", &sim.url, "--rate", "100", "--duration", "2s", "--out", dir.path().to_str().unwrap()])
        .assert()
        .success();
    let text = ureq::get(&format!("{}/metrics", sim.url)).call().unwrap().into_string().unwrap();
    let value = |name: &str| -> f64 {
        let line =
            text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name}:\n{text}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert!(text.contains("# TYPE headroom_sim_busy_seconds_total counter"), "{text}");
    assert_eq!(value("headroom_sim_workers"), WORKERS);
    let served = value("headroom_sim_requests_total");
    assert!(served >= 200.0, "{text}");
    // Each request holds its worker for its 20 ms (and a little timer overshoot).
    let busy = value("headroom_sim_busy_seconds_total");
    assert!(within(busy, served * SERVICE_S, 0.05), "{busy} s busy for {served} requests");
    assert!(text.contains("process_cpu_seconds_total"), "{text}");
}

#[test]
fn a_stress_run_reads_the_targets_utilization_and_fits_the_utilization_law() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "target = \"{}\"\nslo = [\"p99 < 1s\"]\n\n[[requests]]\nname = \"home\"\npath = \"/\"\n\n\
             [utilization]\nscrape = \"{}/metrics\"\nmetric = \"headroom_sim_busy_seconds_total\"\n\
             capacity = \"headroom_sim_workers\"\ninterval = \"500ms\"\n\n\
             [profile]\nkind = \"stress\"\nstart = \"80\"\nstep = \"+80\"\nhold = \"4s\"\nmax = \"320\"\n",
            sim.url, sim.url
        ),
    )
    .unwrap();
    let out = dir.path().join("run");
    let run = headroom().args(["run", plan.to_str().unwrap(), "--out", out.to_str().unwrap()]).assert().success();
    let summary = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    let v = results(&out);
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4, "{summary}");
    for s in steps {
        let x = s["achieved_rps"].as_f64().unwrap();
        let u = s["utilization"].as_f64().unwrap_or_else(|| panic!("no utilization in {}", s["name"]));
        assert!(within(u, x * SERVICE_S / WORKERS, 0.10), "{}: U {u} at {x} RPS", s["name"]);
        assert!(s["series"].as_array().unwrap().iter().filter(|p| p["utilization"].is_number()).count() >= 2);
    }
    let law = &v["utilization_law"];
    let demand = law["demand_s"].as_f64().unwrap();
    let at_60 = (0.6 - law["idle"].as_f64().unwrap()) / demand;
    let theory = 0.6 * WORKERS / SERVICE_S;
    assert!(within(at_60, theory, 0.10), "X at 60% = {at_60}, theory {theory}: {law}");
    assert_eq!(v["utilization_source"]["failures"], 0);
    assert!(summary.contains("Utilization law") && summary.contains("throughput at 60%"), "{summary}");
    assert!(summary.contains("target util."), "{summary}");
}

#[test]
fn a_wrong_utilization_source_stops_the_run_before_any_load() {
    let sim = sim();
    let metrics = format!("{}/metrics", sim.url);
    let base = ["run", "--target", &sim.url, "--rate", "10", "--duration", "1s", "--out", "-"];
    for (extra, says) in [
        (
            vec!["--utilization-scrape", &metrics, "--utilization-metric", "no_such_series"],
            "has no series no_such_series",
        ),
        (
            vec!["--utilization-scrape", &metrics, "--utilization-metric", "headroom_sim_busy_seconds_total"],
            "say what 100% is with capacity",
        ),
        (vec!["--utilization-scrape", &metrics, "--utilization-metric", "bad name{"], "expected a metric name"),
        (
            vec!["--utilization-scrape", "http://127.0.0.1:9/metrics", "--utilization-metric", "up"],
            "cannot reach http://127.0.0.1:9/metrics",
        ),
    ] {
        let out = headroom().args(base).args(&extra).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
        assert!(out.stdout.is_empty(), "{extra:?}: no load, no results");
    }
}
