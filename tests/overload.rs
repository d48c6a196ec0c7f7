//! Honest numbers when the target cannot keep up: `headroom run` against a simulated service of
//! known capacity (8 workers of a constant 20 ms: 400 RPS), offered below, near and above it, in
//! each profile. Throughput is what completed: within 1% of the offered rate when the target
//! keeps up, within 5% of its capacity when it saturates; exit codes, the summary and the review
//! say the same. The tests take a lock so that no two runs disturb each other's timing.

use std::path::Path;
use std::sync::Mutex;

use serde_json::Value;

mod common;
use common::{headroom, results, settled, Sim};

static SERIAL: Mutex<()> = Mutex::new(());

/// Responses per second the simulated service can serve: workers / service time.
const CAPACITY: f64 = 400.0;

fn sim() -> Sim {
    Sim::start(&["--workers", "8", "--service-time", "20ms", "--distribution", "constant"])
}

/// Runs `headroom run ARGS --out DIR`, returning the exit code, the summary and the results.
fn run(args: &[&str], dir: &Path) -> (i32, String, Value) {
    let out = headroom().arg("run").args(args).arg("--out").arg(dir).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (out.status.code().unwrap_or(-1), stdout, results(dir))
}

/// The Markdown review of a run.
fn review(dir: &Path) -> String {
    let out = headroom().arg("report").arg(dir.join("results.json")).args(["--format", "md"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn plan(sim: &Sim, top: &str, profile: &str, dir: &Path) -> String {
    let text =
        format!("target = \"{}\"\n{top}\n[[requests]]\nname = \"home\"\npath = \"/\"\n[profile]\n{profile}\n", sim.url);
    let path = dir.join("plan.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn achieved(step: &Value) -> f64 {
    step["achieved_rps"].as_f64().unwrap()
}

fn within(measured: f64, expected: f64, share: f64) -> bool {
    (measured / expected - 1.0).abs() <= share
}

#[test]
fn a_load_below_near_and_above_capacity_reports_what_completed() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let sim = sim();
    for (rate, code) in [(200.0, 0), (360.0, 0), (800.0, 3)] {
        settled(&format!("{rate} RPS"), || {
            let dir = tempfile::tempdir().unwrap();
            let r = format!("{rate}");
            let (got, summary, v) = run(&["--target", &sim.url, "--rate", &r, "--duration", "3s"], dir.path());
            let s = &v["steps"][0];
            eprintln!("load {rate}: achieved {:.1} RPS, exit {got}", achieved(s));
            assert_eq!(got, code, "load {rate}: {summary}");
            assert_eq!(s["offered_rps"], rate);
            let md = review(dir.path());
            if rate < CAPACITY {
                assert!(within(achieved(s), rate, 0.01), "load {rate}: achieved {}", achieved(s));
                assert_eq!(s["delivery"]["kind"], "delivered");
                assert!(summary.contains(": ok"), "{summary}");
                assert!(md.contains("valid: the generator kept to its schedule"), "{md}");
            } else {
                assert!(
                    within(achieved(s), CAPACITY, 0.05),
                    "load {rate}: achieved {} against {CAPACITY}",
                    achieved(s)
                );
                assert_eq!(s["delivery"]["kind"], "saturated");
                assert!(s["unsent"].as_u64().unwrap() > 0, "{s}");
                for text in [&summary, &md] {
                    assert!(text.contains("target saturated at 3") && text.contains("RPS of 800 offered"), "{text}");
                }
                assert!(summary.contains("not a valid test of 800 RPS"), "{summary}");
                assert!(md.contains("invalid: load 800: target saturated"), "{md}");
            }
            // The per-second series counts the same responses as the step.
            let seconds: u64 = s["series"].as_array().unwrap().iter().map(|x| x["requests"].as_u64().unwrap()).sum();
            assert_eq!(seconds, s["requests"].as_u64().unwrap());
        });
    }
}

#[test]
fn a_soak_beyond_capacity_is_not_valid_and_one_within_it_is() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let sim = sim();
    for (rate, code) in [(200.0, 0), (700.0, 3)] {
        settled(&format!("{rate} RPS"), || {
            let dir = tempfile::tempdir().unwrap();
            let p = plan(
                &sim,
                "",
                &format!("kind = \"soak\"\nrate = \"{rate}\"\nduration = \"3s\"\nwindow = \"1s\""),
                dir.path(),
            );
            let (got, summary, v) = run(&[&p], dir.path());
            let s = &v["steps"][0];
            assert_eq!(got, code, "soak {rate}: {summary}");
            let expected = if rate < CAPACITY { rate } else { CAPACITY };
            let share = if rate < CAPACITY { 0.01 } else { 0.05 };
            assert!(within(achieved(s), expected, share), "soak {rate}: achieved {}", achieved(s));
            assert_eq!(v["valid"], rate < CAPACITY);
        });
    }
}

#[test]
fn a_spike_past_capacity_measures_the_burst_at_capacity_and_stays_valid() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let sim = sim();
    settled("spike", || {
        let dir = tempfile::tempdir().unwrap();
        let p = plan(
            &sim,
            "timeout = \"5s\"",
            "kind = \"spike\"\nbaseline = \"100\"\nburst = \"800\"\nhold = \"1s\"\nbefore = \"3s\"\nafter = \"4s\"",
            dir.path(),
        );
        let (got, summary, v) = run(&[&p], dir.path());
        // Beyond capacity is what a burst is for: the run is valid and says the burst saturated.
        assert_eq!(got, 0, "{summary}");
        let steps = v["steps"].as_array().unwrap();
        let by = |name: &str| steps.iter().find(|s| s["name"] == name).unwrap();
        // 2%: the baseline's rate is read from its middle 80% (240 responses), where one stall of
        // 35 ms on a busy 2-core machine moves it by 1.5%.
        assert!(within(achieved(by("baseline")), 100.0, 0.02), "baseline {}", achieved(by("baseline")));
        assert!(within(achieved(by("burst")), CAPACITY, 0.05), "burst {}", achieved(by("burst")));
        assert!(within(achieved(by("recovery")), 100.0, 0.01), "recovery {}", achieved(by("recovery")));
        assert_eq!(by("burst")["delivery"]["kind"], "saturated");
        assert!(summary.contains("burst: target saturated at"), "{summary}");
        let md = review(dir.path());
        assert!(md.contains("valid: the generator kept to its schedule; burst: target saturated at"), "{md}");
    });
}

#[test]
fn stress_breaks_where_throughput_stops_following_the_offered_load() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let sim = sim();
    // 150 and 300 RPS hold; 450 is past the capacity of 400.
    let stress = "kind = \"stress\"\nstart = \"150\"\nstep = \"+150\"\nhold = \"2s\"\nmax = \"900\"";
    for (expect, code) in [("", 0), ("[expect]\nmin_rps = \"250\"", 0), ("[expect]\nmin_rps = \"350\"", 1)] {
        settled(&format!("stress {expect:?}"), || {
            let dir = tempfile::tempdir().unwrap();
            let top = format!("slo = [\"p99 < 200ms\"]\n{expect}");
            let p = plan(&sim, &top, stress, dir.path());
            let (got, summary, v) = run(&[&p], dir.path());
            assert_eq!(got, code, "{expect}: {summary}");
            assert_eq!(v["valid"], true, "a stress run's saturated step is its result: {summary}");
            let b = &v["analysis"]["breaking_point"];
            assert_eq!(b["last_passing"], "300 rps", "{b}");
            assert!(within(b["last_passing_rps"].as_f64().unwrap(), 300.0, 0.01), "{b}");
            assert_eq!(b["first_failing"], "450 rps", "{b}");
            let failing = b["first_failing_achieved_rps"].as_f64().unwrap();
            assert!(within(failing, CAPACITY, 0.05), "the first failing step measured {failing}");
            assert!(summary.contains("breaking point: 300 rps held"), "{summary}");
            let md = review(dir.path());
            // The review's verdict is the exit code's.
            let mark = if code == 0 { "✅" } else { "❌" };
            assert!(md.contains(&format!("**Breaking point**: {mark} held 3")), "{md}");
            if code == 1 {
                assert!(summary.contains("expected capacity: at least 350 RPS") && summary.contains("not met"));
                assert!(md.contains("**Expected capacity**: ❌ at least 350 RPS"), "{md}");
            }
        });
    }
    // A first step already past capacity leaves no capacity found: the run fails (exit 1).
    let dir = tempfile::tempdir().unwrap();
    let p = plan(
        &sim,
        "slo = [\"p99 < 200ms\"]",
        "kind = \"stress\"\nstart = \"600\"\nstep = \"+100\"\nhold = \"2s\"\nmax = \"700\"",
        dir.path(),
    );
    let (got, summary, _) = run(&[&p], dir.path());
    assert_eq!(got, 1, "{summary}");
    assert!(summary.contains("failed at the first step"), "{summary}");
}

#[test]
fn fit_on_a_stress_run_recovers_sigma_and_kappa_from_the_steps_that_kept_up() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let sim = Sim::start(&[
        "--workers",
        "64",
        "--service-time",
        "20ms",
        "--distribution",
        "constant",
        "--sigma",
        "0.05",
        "--kappa",
        "0.002",
    ]);
    settled("stress fit", || {
        let dir = tempfile::tempdir().unwrap();
        let p = plan(
            &sim,
            "",
            "kind = \"stress\"\nstart = \"40\"\nstep = \"+40\"\nhold = \"2s\"\nmax = \"480\"",
            dir.path(),
        );
        let (got, summary, _) = run(&[&p], dir.path());
        assert_eq!(got, 0, "{summary}");
        let out =
            headroom().arg("fit").arg(dir.path().join("results.json")).args(["--format", "json"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let fit: Value = serde_json::from_slice(&out.stdout).unwrap();
        let (sigma, kappa) = (fit["usl"]["sigma"].as_f64().unwrap(), fit["usl"]["kappa"].as_f64().unwrap());
        eprintln!("stress fit: σ {sigma:.4} (set 0.05), κ {kappa:.6} (set 0.002)");
        // The sweep test's tolerance.
        assert!((sigma - 0.05).abs() < 0.015, "σ = {sigma}");
        assert!((kappa / 0.002 - 1.0).abs() < 0.2, "κ = {kappa}");
        // The saturated step is left out, and said to be.
        let warnings = fit["warnings"].as_array().unwrap();
        assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("left out: target saturated")), "{warnings:?}");
    });
}

#[test]
fn littles_law_holds_on_healthy_runs_from_100_to_10k_rps() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let sim = Sim::start(&["--workers", "64", "--service-time", "2ms", "--distribution", "constant"]);
    for rate in ["100", "1000", "10000"] {
        settled(&format!("{rate} RPS"), || {
            let dir = tempfile::tempdir().unwrap();
            let (got, summary, v) = run(&["--target", &sim.url, "--rate", rate, "--duration", "3s"], dir.path());
            // The debug build of the generator may fall behind at 10k RPS on a busy machine, and
            // says so; Little's Law holds on what it measured either way.
            let behind = v["steps"][0]["delivery"]["kind"] == "generator_behind";
            assert!(got == 0 || got == 3 && behind, "{rate}: {summary}");
            let l = &v["steps"][0]["littles_law"];
            let d = l["relative_disagreement"].as_f64().unwrap();
            eprintln!("{rate} RPS: L = X·W within {:.1}%", d * 100.0);
            assert_eq!(l["alarm"], false, "{rate}: {l}");
            assert!(d.abs() < 0.2, "{rate}: {l}");
            assert!(!summary.contains("Little"), "{summary}");
        });
    }
}
