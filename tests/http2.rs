//! HTTP/2 by prior knowledge (h2c) against serve-sim, which answers HTTP/1.1 and h2c on one
//! port and counts, in its /metrics, the connections it accepted and the requests that came over
//! HTTP/2: so the test sees from the server's side that requests were multiplexed, `max_in_flight`
//! over `streams` connections, and that results.json says which protocol was spoken.

use serde_json::Value;

mod common;
use common::{headroom, results, Sim};

/// serve-sim's connections accepted (this read's own included) and HTTP/2 requests.
fn counters(sim: &Sim) -> (u64, u64) {
    let text = ureq::get(&format!("{}/metrics", sim.url.trim_end_matches('/'))).call().unwrap().into_string().unwrap();
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    (value("headroom_sim_connections_total"), value("headroom_sim_http2_requests_total"))
}

fn run(sim: &Sim, extra: &[&str]) -> (i32, String, Option<Value>) {
    let out = tempfile::tempdir().unwrap();
    let o = headroom()
        .args(["run", "--target", &sim.url, "--rate", "100", "--duration", "1s", "--out"])
        .arg(out.path())
        .args(extra)
        .output()
        .unwrap();
    let r = out.path().join("results.json").exists().then(|| results(out.path()));
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned(), r)
}

#[test]
fn h2c_multiplexes_the_workers_over_a_few_connections() {
    let sim = Sim::start(&[]);
    let (connections0, h2_0) = counters(&sim);
    let (code, stderr, r) = run(&sim, &["--http2", "--max-in-flight", "20", "--streams", "8"]);
    assert_eq!(code, 0, "{stderr}");
    let r = r.unwrap();
    assert_eq!(r["protocol"], "HTTP/2");
    assert_eq!(r["steps"][0]["requests"], 100);
    assert_eq!(r["steps"][0]["error_rate"], 0.0, "{}", r["steps"][0]["errors"]);
    let (connections, h2) = counters(&sim);
    // 20 workers at 8 streams a connection: 3 connections and the probe's, where HTTP/1.1
    // would open 21 (the last read of /metrics is not the run's).
    assert_eq!(connections - connections0 - 1, 4);
    assert_eq!(h2 - h2_0, 100);

    // HTTP/1.1 by default, and auto over plain http: one connection per worker, no HTTP/2.
    for extra in [&[][..], &["--http", "auto"][..]] {
        let (connections0, h2_0) = counters(&sim);
        let (code, stderr, r) = run(&sim, &[extra, &["--max-in-flight", "20"][..]].concat());
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(r.unwrap()["protocol"], "HTTP/1.1", "{extra:?}");
        let (connections, h2) = counters(&sim);
        assert_eq!((connections - connections0 - 1, h2 - h2_0), (21, 0), "{extra:?}");
    }
}

#[test]
fn journeys_and_bad_stream_counts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("j.toml");
    std::fs::write(
        &plan,
        "target = \"http://127.0.0.1:9\"\nhttp = \"2\"\n[[journeys]]\nname = \"browse\"\n[[journeys.steps]]\nname = \"home\"\npath = \"/\"\n\
         [profile]\nkind = \"load\"\nrate = \"1\"\nduration = \"1s\"\n",
    )
    .unwrap();
    headroom()
        .arg("run")
        .arg(&plan)
        .args(["--out", "-"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("journeys run on HTTP/1.1"));
    headroom()
        .args([
            "run",
            "--target",
            "http://127.0.0.1:9/",
            "--http2",
            "--streams",
            "0",
            "--rate",
            "1",
            "--duration",
            "1s",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("streams_per_connection (--streams)"));
    headroom()
        .args(["run", "--target", "http://127.0.0.1:9/", "--http", "3", "--rate", "1", "--duration", "1s"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("possible values: 1.1, 2, auto"));
}

#[test]
fn a_timed_out_stream_is_reset_and_its_connection_kept() {
    // Every request takes 400 ms; the timeout is 100 ms.
    let sim = Sim::start(&["--service-time", "400ms", "--distribution", "constant"]);
    let (connections0, _) = counters(&sim);
    let started = std::time::Instant::now();
    let (code, stderr, r) = run(&sim, &["--http2", "--max-in-flight", "20", "--streams", "10", "--timeout", "100ms"]);
    let took = started.elapsed();
    let r = r.unwrap_or_else(|| panic!("no results: {stderr}"));
    let s = &r["steps"][0];
    assert_eq!(code, 3, "nothing answered in time: {stderr}");
    assert_eq!(s["errors"]["timeout"], s["requests"], "{}", s["errors"]);
    assert!(s["requests"].as_u64().unwrap() >= 95, "{}", s["requests"]);
    // One second of schedule and one timeout, not 100 × 400 ms: bounded, not hung.
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    // Two connections and the probe's: none was dropped for a timeout.
    let (connections, _) = counters(&sim);
    assert_eq!(connections - connections0 - 1, 3);
}
