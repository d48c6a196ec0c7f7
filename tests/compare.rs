//! `headroom compare` as a CI job uses it: two runs of the simulated service, at 20 ms and at
//! 45 ms of service time, and two runs of the same configuration. The slower one is a p99
//! regression, named, exit 1; the same configuration twice is none, exit 0. The runs take a lock
//! so that no two disturb each other's timing.

use std::path::Path;
use std::sync::Mutex;

mod common;
use common::{headroom, settled, Sim};

static SERIAL: Mutex<()> = Mutex::new(());

/// A 5-second run at 200 RPS against a simulated service of `service_time`, into `dir`: 1,000
/// latencies, so that p99 is the tenth largest and a few scheduling stalls on a busy machine do
/// not widen its interval past the 10 ms a slower service adds.
fn run_against(service_time: &str, dir: &Path) {
    let sim = Sim::start(&["--workers", "16", "--service-time", service_time, "--distribution", "constant"]);
    let out = headroom()
        .args(["run", "--target", &sim.url, "--rate", "200", "--duration", "5s", "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

fn compare(base: &Path, new: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = headroom().arg("compare").arg(base).arg(new).args(extra).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn a_slower_service_is_a_named_p99_regression_and_the_same_one_is_not() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    settled("compare", || {
        let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        run_against("20ms", dirs[0].path());
        // p99 of a 20 ms service reached 31 ms on a busy CI machine: the slower one is slower by
        // more than that noise.
        run_against("45ms", dirs[1].path());
        run_against("20ms", dirs[2].path());
        let (base, slower, again) = (dirs[0].path(), dirs[1].path(), dirs[2].path());

        let junit = base.join("compare.xml");
        let (code, stdout, stderr) = compare(base, slower, &["--junit", junit.to_str().unwrap()]);
        assert_eq!(code, 1, "{stdout}{stderr}");
        assert!(stderr.contains("regression: step 'load 200': p99 rose"), "{stderr}");
        assert!(stdout.contains("REGRESSION") && stdout.contains("1 regression(s)"), "{stdout}");
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.contains(r#"failures="1""#) && xml.contains("<failure message=\"p99 rose"), "{xml}");

        let summary = base.join("summary.md");
        // Two runs of one configuration on a shared 2-core machine differ at p99 by up to ~20%
        // (seen in CI: 26 ms and 31 ms), and 1,000 latencies make that significant: a pipeline on
        // such runners sets its limit above that noise, as this one does; the 45 ms service is
        // +45% and more.
        let out = headroom()
            .arg("compare")
            .arg(base)
            .arg(again)
            .args(["--max-p99-increase", "30%"])
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "the same configuration twice: {stdout}{stderr}");
        assert!(stdout.contains("no regression"), "{stdout}");
        let md = std::fs::read_to_string(&summary).unwrap();
        assert!(md.contains("no regression") && md.contains("| load 200 |"), "the job summary: {md}");

        // The review of the slower run, given the baseline: its verdict in the summary, and the table.
        let out = headroom()
            .arg("report")
            .arg(slower.join("results.json"))
            .arg("--baseline")
            .arg(base)
            .args(["--format", "md"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let md = String::from_utf8(out.stdout).unwrap();
        assert!(md.contains("**Against the baseline**") && md.contains("1 regression(s) against"), "{md}");
        assert!(md.contains("| load 200 | p99 |") && md.contains("REGRESSION"), "{md}");

        // JSON and CSV of the same comparison, piped.
        let (code, json, _) = compare(base, slower, &["--format", "json"]);
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let p99 = v["steps"][0]["changes"].as_array().unwrap().iter().find(|c| c["measure"] == "p99").unwrap().clone();
        let (b, n) = (p99["base"].as_f64().unwrap(), p99["new"].as_f64().unwrap());
        assert!(p99["regression"] == true && n > b * 1.3 && (20_000.0..35_000.0).contains(&b), "{p99}");
        let (_, csv, _) = compare(base, slower, &["--format", "csv"]);
        assert!(csv.lines().next().unwrap().starts_with("step,request,measure,base,new,change,base_lo95"), "{csv}");
        assert!(!csv.contains("ms") && !csv.contains("RPS"), "plain numbers: {csv}");
    });
}

#[test]
fn files_that_are_not_two_runs_are_refused_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = compare(dir.path(), dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("results.json"), "{stderr}");
    let (code, _, stderr) = compare(Path::new("tests/fixtures/report/forecast.json"), dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("forecast.json") && stderr.contains("compare reads a results.json"), "{stderr}");
    let (code, _, stderr) = compare(
        Path::new("tests/fixtures/report/spike-results.json"),
        Path::new("tests/fixtures/report/sweep-results.json"),
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nothing to compare"), "{stderr}");
    let (code, _, stderr) = compare(
        Path::new("tests/fixtures/report/spike-results.json"),
        Path::new("tests/fixtures/report/spike-results.json"),
        &["--max-p99-increase", "-5%"],
    );
    assert_eq!(code, 2, "{stderr}");
}

/// The fit of `csv` (throughputs times `scale`), as `headroom fit --format json` writes it.
fn fit_of(csv: &str, scale: f64, dir: &Path, name: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut scaled = String::new();
    for l in text.lines() {
        match l.split_once(',').map(|(n, x)| (n, x.trim().parse::<f64>())) {
            Some((n, Ok(x))) => scaled.push_str(&format!("{n},{}\n", x * scale)),
            _ => scaled.push_str(&format!("{l}\n")),
        }
    }
    let points = dir.join(format!("{name}.csv"));
    std::fs::write(&points, scaled).unwrap();
    let out =
        headroom().arg("fit").arg(&points).args(["--concurrency-column", "load", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, out.stdout).unwrap();
    path
}

#[test]
fn a_fitted_capacity_that_fell_is_a_regression_and_the_same_fit_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let base = fit_of("models/specsdm91.csv", 1.0, dir.path(), "base");
    let lower = fit_of("models/specsdm91.csv", 0.8, dir.path(), "lower");
    let (code, stdout, stderr) = compare(&base, &lower, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("regression: USL fit: capacity X(N*) fell 20%"), "{stderr}");
    assert!(stdout.contains("sigma") && stdout.contains("kappa"), "{stdout}");
    let (code, stdout, stderr) = compare(&base, &base, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // A sweep's results against itself: its steps and its fit, no regression.
    let sweep = Path::new("tests/fixtures/report/sweep-results.json");
    let (code, stdout, stderr) = compare(sweep, sweep, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("USL fit") && stdout.contains("capacity"), "{stdout}");
}
