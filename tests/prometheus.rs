//! History queried from a real Prometheus server on 127.0.0.1 (Debian's `prometheus` package,
//! installed by `.ci/run`): a known series is backfilled with `promtool tsdb
//! create-blocks-from openmetrics`, the server is started on that storage, and `headroom
//! history --prometheus` must read exactly what the same numbers read from a CSV give, across
//! more steps than one Prometheus request may return (11,000 per series).
//!
//! A second test has Prometheus scrape serve-sim's `/metrics` every second while `run` loads it,
//! and reads the target's utilization from Prometheus with PromQL.
//!
//! Without the binaries the test says so and passes, unless HEADROOM_REQUIRE_PROMETHEUS is set
//! (as `.ci/run` does), where their absence is a failure.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";
/// Twelve days at one minute: 17,281 steps, two requests' worth.
const DAYS: i64 = 12;
const STEP_S: i64 = 60;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether the binaries are here; without them a test skips, unless HEADROOM_REQUIRE_PROMETHEUS.
fn installed() -> bool {
    if Path::new(PROMETHEUS).exists() && Path::new(PROMTOOL).exists() {
        return true;
    }
    assert!(
        std::env::var_os("HEADROOM_REQUIRE_PROMETHEUS").is_none(),
        "HEADROOM_REQUIRE_PROMETHEUS is set but {PROMETHEUS} or {PROMTOOL} is missing: apt-get install prometheus"
    );
    eprintln!("skipped: no {PROMETHEUS} (apt-get install prometheus to run this test)");
    false
}

/// Prometheus on a free loopback port with `config` and its storage in `dir/data`, ready.
fn start_prometheus(dir: &Path, config: &str) -> (Server, String) {
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = Server(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .args(["--storage.tsdb.retention.time=10y", &format!("--web.listen-address=127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while ureq::get(&format!("{url}/-/ready")).timeout(Duration::from_secs(2)).call().is_err() {
        assert!(Instant::now() < deadline, "Prometheus on {url} not ready in 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    (server, url)
}

fn headroom(args: &[&str]) -> std::process::Output {
    Command::new(assert_cmd::cargo::cargo_bin("headroom")).args(args).output().unwrap()
}

/// Two series (`instance` a and b) with a daily shape, in whole numbers so that their sum is
/// exact; returned as the OpenMetrics text to backfill and the CSV of their sum.
fn series(start: i64, end: i64) -> (String, String) {
    let mut om = String::from("# HELP headroom_test_rps Requests per second.\n# TYPE headroom_test_rps gauge\n");
    let mut csv = String::from("timestamp,rps\n");
    let a = |t: i64| 200 + (t % 86_400) / 600 + if (t / 86_400) % 7 == 3 { 40 } else { 0 };
    let b = |t: i64| 30 + (t / STEP_S) % 13;
    for (name, f) in [("a", &a as &dyn Fn(i64) -> i64), ("b", &b)] {
        for t in (start..=end).step_by(STEP_S as usize) {
            writeln!(om, "headroom_test_rps{{instance=\"{name}\"}} {} {t}", f(t)).unwrap();
        }
    }
    om.push_str("# EOF\n");
    for t in (start..=end).step_by(STEP_S as usize) {
        writeln!(csv, "{t},{}", a(t) + b(t)).unwrap();
    }
    (om, csv)
}

/// The JSON of a `history` command, without the field that names its source.
fn history_json(args: &[&str]) -> Value {
    let out = headroom(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_object_mut().unwrap().remove("file");
    v
}

#[test]
fn a_history_queried_from_prometheus_is_the_one_its_csv_gives() {
    if !installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Whole hours that ended before now, so that the backfilled blocks lie in the past.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let end = (now / 3600 - 2) * 3600;
    let start = end - DAYS * 86_400;
    let (om, csv) = series(start, end);
    std::fs::write(dir.path().join("series.om"), om).unwrap();
    std::fs::write(dir.path().join("series.csv"), csv).unwrap();
    let data = dir.path().join("data");
    let made = Command::new(PROMTOOL)
        .args(["tsdb", "create-blocks-from", "openmetrics", "-q"])
        .arg(dir.path().join("series.om"))
        .arg(&data)
        .output()
        .unwrap();
    assert!(made.status.success(), "promtool: {}", String::from_utf8_lossy(&made.stderr));
    let (_server, url) = start_prometheus(dir.path(), "global:\n  scrape_interval: 1h\n");

    let end_text = format!("{end}");
    let range = format!("{DAYS}d");
    let from_prometheus = |query: &str, by: &str| {
        let args = ["history", "--prometheus", &url, "--query", query, "--range", &range, "--step", "1m"];
        history_json(&[&args[..], &["--end", &end_text, "--by", by, "--format", "json"]].concat())
    };
    let csv_path = dir.path().join("series.csv");
    let from_csv = |by: &str| history_json(&["history", csv_path.to_str().unwrap(), "--by", by, "--format", "json"]);

    let summed = from_prometheus("sum(headroom_test_rps)", "day");
    assert_eq!(summed["rows"], (DAYS * 86_400 / STEP_S + 1), "every step once, none lost between requests");
    assert_eq!(summed, from_csv("day"));
    assert_eq!(from_prometheus("sum(headroom_test_rps)", "hour"), from_csv("hour"));
    // Without sum(), headroom adds the series itself.
    assert_eq!(from_prometheus("headroom_test_rps", "day"), summed);

    // A query Prometheus refuses: its own message, exit 2.
    let out = headroom(&["history", "--prometheus", &url, "--query", "sum(rate(", "--range", "1d", "--step", "1m"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad_data") && err.contains("parse error"), "{err}");
    // A URL that is not the server's base: said so, exit 2.
    let out = headroom(&["history", "--prometheus", &format!("{url}/graph"), "--query", "up", "--range", "1d"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("HTTP 404") && err.contains("base URL"), "{err}");
}

#[test]
fn a_run_reads_the_targets_utilization_from_prometheus() {
    if !installed() {
        return;
    }
    // serve-sim: 8 workers of 20 ms, so 200 RPS keeps them 50% busy.
    let mut sim = Command::new(assert_cmd::cargo::cargo_bin("headroom"))
        .args(["serve-sim", "--addr", "127.0.0.1:0", "--workers", "8", "--service-time", "20ms"])
        .args(["--distribution", "constant", "--duration", "120s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(sim.stdout.take().unwrap()), &mut line).unwrap();
    let _sim = Server(sim);
    let sim_url = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: sim\n    static_configs:\n      - targets: ['{}']\n",
        sim_url.trim_start_matches("http://")
    );
    let (_server, url) = start_prometheus(dir.path(), &config);
    // Until Prometheus has scraped the simulator twice, its rate has no value.
    let query = "sum(rate(headroom_sim_busy_seconds_total[3s])) / sum(headroom_sim_workers)";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer: Value =
            ureq::get(&format!("{url}/api/v1/query")).query("query", query).call().unwrap().into_json().unwrap();
        if answer["data"]["result"].as_array().is_some_and(|r| !r.is_empty()) {
            break;
        }
        assert!(Instant::now() < deadline, "Prometheus has not scraped {sim_url} in 30 s: {answer}");
        std::thread::sleep(Duration::from_millis(250));
    }
    // A warm-up longer than the rate's window, so that the measured step reads only its own load.
    let out = headroom(&[
        "run",
        "--target",
        &sim_url,
        "--rate",
        "200",
        "--warmup",
        "4s",
        "--duration",
        "6s",
        "--out",
        "-",
        "--utilization-prometheus",
        &url,
        "--utilization-query",
        query,
    ]);
    // What is tested is the utilization read beside the step, so a run a busy machine made
    // invalid (its generator fell behind: exit 3, results still written) is as good a reading.
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = &v["steps"][0];
    let (x, u) = (step["achieved_rps"].as_f64().unwrap(), step["utilization"].as_f64().unwrap());
    let expected = x * 0.020 / 8.0;
    assert!((u - expected).abs() <= 0.15 * expected, "utilization {u} at {x} RPS; expected {expected}");
    assert_eq!(v["utilization_source"]["reading"], "gauge");
    assert!(v["utilization_source"]["source"].as_str().unwrap().starts_with(&format!("query {url}")));
}
