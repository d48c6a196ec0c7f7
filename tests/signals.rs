//! SIGINT and SIGTERM at every stage of a run, many times: at start-up, during the probe and the
//! connection opening, inside steps, between steps and while results are written. Each is
//! honoured: the run exits 130 (SIGINT) or 143 (SIGTERM), results.json parses, says it was
//! interrupted and by which signal, and keeps every step that measured anything; or, when the
//! signal came after the run's end, the run is complete and exits 0.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

mod common;
use common::Sim;

/// A stress run of four 0.4 s steps, so that the delays below fall before, inside and between
/// steps.
fn plan(url: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("plan.toml");
    let text = format!(
        "target = \"{url}\"\n[[requests]]\nname = \"home\"\npath = \"/\"\n[profile]\nkind = \"stress\"\n\
         start = \"100\"\nstep = \"+100\"\nhold = \"400ms\"\nmax = \"400\"\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the plan, sends `signal` after `delay_ms`, and returns the exit code and the results.
fn interrupted(plan: &std::path::Path, signal: &str, delay_ms: u64) -> (i32, Option<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_headroom"))
        .arg("run")
        .arg(plan)
        .arg("--out")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(delay_ms));
    Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    let code = status.code().unwrap_or_else(|| -status.signal().unwrap_or(0));
    let results = std::fs::read_to_string(dir.path().join("results.json"))
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap_or_else(|e| panic!("{signal} at {delay_ms} ms: results.json: {e}")));
    (code, results)
}

#[test]
fn every_sigint_and_sigterm_is_honoured_at_every_stage() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(&sim.url, dir.path());
    let mut cases: Vec<(&str, u64)> = Vec::new();
    // 30 ms (start-up) to 2.2 s (past the run's 1.6 s of steps) in 60 ms strides, both signals.
    for delay in (30..2_200).step_by(60) {
        cases.push(("-INT", delay));
        cases.push(("-TERM", delay + 30));
    }
    let plan = &plan;
    let outcomes: Vec<(&str, u64, i32, Option<Value>)> = std::thread::scope(|s| {
        let chunks: Vec<_> = cases.chunks(cases.len().div_ceil(3)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|&(sig, d)| {
                            let (c, r) = interrupted(plan, sig, d);
                            (sig, d, c, r)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut honoured = 0;
    for (sig, delay, code, results) in &outcomes {
        let expected = if *sig == "-INT" { 130 } else { 143 };
        let name = if *sig == "-INT" { "SIGINT" } else { "SIGTERM" };
        match (code, results) {
            // The signal came after the run ended: the run is whole.
            (0, Some(r)) => {
                assert_eq!(r["interrupted"], false, "{sig} at {delay} ms");
                assert_eq!(r["steps"].as_array().unwrap().len(), 4, "{sig} at {delay} ms");
            }
            // The shared machine left the generator behind: the stress run stopped at that step,
            // before the signal came, and is invalid for it (exit 3). The signal is not lost: the
            // run ended early, with the step that says why.
            (3, Some(r)) => {
                assert_eq!(r["interrupted"], false, "{sig} at {delay} ms");
                let steps = r["steps"].as_array().unwrap();
                assert!(steps.len() < 4, "{sig} at {delay} ms: exit 3 after all {} steps", steps.len());
                let last = &steps[steps.len() - 1];
                assert_eq!(
                    last["delivery"]["kind"], "generator_behind",
                    "{sig} at {delay} ms: {}",
                    r["invalid_reasons"]
                );
                eprintln!(
                    "{sig} at {delay} ms: the run ended before it, the generator behind: {}",
                    r["invalid_reasons"]
                );
            }
            (c, Some(r)) if *c == expected => {
                honoured += 1;
                assert_eq!(r["interrupted"], true, "{sig} at {delay} ms");
                assert_eq!(r["signal"], name, "{sig} at {delay} ms");
                // Every kept step measured something; none is lost half-written.
                for s in r["steps"].as_array().unwrap() {
                    assert!(s["requests"].as_u64().unwrap() > 0, "{sig} at {delay} ms: {}", s["name"]);
                }
            }
            // Before the plan was even read, there is nothing to keep.
            (c, None) => assert_eq!(*c, expected, "{sig} at {delay} ms: exit {c} without results"),
            (c, _) => panic!("{sig} at {delay} ms: exit {c}"),
        }
    }
    eprintln!("{honoured} of {} signals interrupted the run; the rest came after its end", outcomes.len());
    assert!(honoured >= outcomes.len() / 2, "{honoured} of {}", outcomes.len());
}

#[test]
fn signals_stop_journey_runs_too() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("journeys.toml");
    let text = std::fs::read_to_string("loadplans/journeys.toml").unwrap().replace("http://127.0.0.1:8080", &sim.url);
    std::fs::write(&plan, text).unwrap();
    for (sig, delay) in
        [("-INT", 80), ("-TERM", 300), ("-INT", 700), ("-TERM", 1_200), ("-INT", 2_000), ("-TERM", 3_500)]
    {
        let (code, results) = interrupted(&plan, sig, delay);
        let expected = if sig == "-INT" { 130 } else { 143 };
        assert_eq!(code, expected, "{sig} at {delay} ms");
        let r = results.unwrap_or_else(|| panic!("{sig} at {delay} ms: no results.json"));
        assert_eq!(r["interrupted"], true, "{sig} at {delay} ms");
    }
}
