//! The target's utilization read while it is loaded: serve-sim's `/metrics` (worker-seconds
//! busy, a counter, over its workers), scraped by `run`, and the Utilization Law fitted to the
//! steps. serve-sim's 8 workers of 20 ms (constant) serve 400 RPS at most, so a step at X RPS
//! keeps them X × 20 ms / 8 busy, and 60% utilization is 240 RPS.

mod common;

use common::{headroom, results, settled, Sim};

const WORKERS: f64 = 8.0;
const SERVICE_S: f64 = 0.020;
/// What the workers serve at most: c / S.
const CAPACITY: f64 = WORKERS / SERVICE_S;

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
fn a_stress_run_measures_the_capacity_per_instance_three_ways_and_the_plan_takes_the_smallest() {
    let sim = sim();
    settled("stress run", || {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.toml");
        // Steps of 30 RPS from 100 until one fails its SLO: past 400 RPS the queue grows without end.
        std::fs::write(
            &plan,
            format!(
                "target = \"{}\"\nslo = [\"p99 < 50ms\"]\n\n[[requests]]\nname = \"home\"\npath = \"/\"\n\n\
                 [utilization]\nscrape = \"{}/metrics\"\nmetric = \"headroom_sim_busy_seconds_total\"\n\
                 capacity = \"headroom_sim_workers\"\ninterval = \"500ms\"\n\n\
                 [profile]\nkind = \"stress\"\nstart = \"100\"\nstep = \"+30\"\nhold = \"2s\"\nmax = \"520\"\n",
                sim.url, sim.url
            ),
        )
        .unwrap();
        let out = dir.path().join("run");
        let run = headroom().args(["run", plan.to_str().unwrap(), "--out", out.to_str().unwrap()]).assert().success();
        let summary = String::from_utf8_lossy(&run.get_output().stdout).to_string();
        let v = results(&out);
        let steps = v["steps"].as_array().unwrap();
        assert!(steps.len() >= 8, "{summary}");
        for s in steps.iter().filter(|s| s["valid"] == true && s["achieved_rps"].as_f64().unwrap() < 0.9 * CAPACITY) {
            let x = s["achieved_rps"].as_f64().unwrap();
            let u = s["utilization"].as_f64().unwrap_or_else(|| panic!("no utilization in {}", s["name"]));
            assert!(within(u, x * SERVICE_S / WORKERS, 0.10), "{}: U {u} at {x} RPS", s["name"]);
            assert!(s["series"].as_array().unwrap().iter().filter(|p| p["utilization"].is_number()).count() >= 1);
        }
        let law = &v["utilization_law"];
        let at_60 = law["demand_s"].as_f64().map(|d| (0.6 - law["idle"].as_f64().unwrap()) / d).unwrap();
        let theory_60 = 0.6 * WORKERS / SERVICE_S;
        assert!(within(at_60, theory_60, 0.10), "X at 60% = {at_60}, theory {theory_60}: {law}");
        assert_eq!(v["utilization_source"]["failures"], 0);
        assert!(summary.contains("Utilization law") && summary.contains("throughput at 60%"), "{summary}");
        assert!(summary.contains("target util."), "{summary}");

        // The plan takes the smallest of the SLO-bound capacity and the utilization law at its 60%.
        let plan_json = |format: &str| {
            let args = [
                "plan",
                "models/example.toml",
                "--results",
                out.to_str().unwrap(),
                "--start",
                "2027-01",
                "--months",
                "2",
            ];
            let o = headroom().args(args).args(["-f", format]).assert().success();
            String::from_utf8_lossy(&o.get_output().stdout).to_string()
        };
        let p: serde_json::Value = serde_json::from_str(&plan_json("json")).unwrap();
        let c = &p["assumptions"]["capacity"];
        let figure = |rule: &str| {
            c["figures"].as_array().unwrap().iter().find(|f| f["rule"] == rule).unwrap_or_else(|| panic!("{rule}: {c}"))
                ["rps"]
                .as_f64()
                .unwrap()
        };
        let slo = figure("slo");
        assert!(within(slo, CAPACITY, 0.10), "SLO-bound capacity {slo} against {CAPACITY} (c / S): {c}");
        assert!(within(figure("utilization_law"), at_60, 1e-9));
        assert_eq!(c["binding"], "utilization_law", "{c}");
        assert_eq!(c["rps_per_instance"].as_f64().unwrap(), at_60.min(slo));
        assert_eq!(p["assumptions"]["rps_per_instance_at_target"], c["rps_per_instance"]);
        assert!(c["summary"].as_str().unwrap().starts_with("Utilization 60% binds at"), "{c}");
        assert!(c["figures"][0]["source"].as_str().unwrap().contains("results.json"), "{c}");
        let table = plan_json("table");
        assert!(table.starts_with("Instance plan") && table.contains("Capacity per instance:"), "{table}");
        let csv = plan_json("csv");
        assert!(csv.lines().next().unwrap().ends_with("rps_per_instance,capacity_rule"), "{csv}");
        assert!(csv.lines().nth(1).unwrap().ends_with(",utilization_law"), "{csv}");
        // The review says it first: in the summary's first line, and its table before the assumptions.
        let plan_file = dir.path().join("plan.json");
        std::fs::write(&plan_file, plan_json("json")).unwrap();
        let md = headroom().args(["report", plan_file.to_str().unwrap(), "-f", "md", "-o", "-"]).assert().success();
        let md = String::from_utf8_lossy(&md.get_output().stdout).to_string();
        let (capacity, assumptions) = (md.find("Capacity per instance:").unwrap(), md.find("## Assumptions").unwrap());
        assert!(capacity < assumptions, "{md}");
        assert!(md.contains("Capacity per instance**") || md.contains("Capacity per instance:"), "{md}");
    });
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
