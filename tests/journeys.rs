//! Journeys on goose through the binary, against `serve-sim` on 127.0.0.1: values pass from
//! step to step under load, spike and closed profiles; failures are reported per step.

use std::process::{Command as Std, Stdio};
use std::time::Duration;

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{headroom, results, Sim};

/// login → token → list → checkout: the cookie, the token and an item id each come from the
/// step before, so a checkout that succeeds proves they were passed.
const SHOP: &str = r#"
[[journeys]]
name = "buy"
weight = 3

[[journeys.steps]]
name = "login"
method = "POST"
path = "/shop/login"

[[journeys.steps]]
name = "token"
path = "/shop/token"
extract = { token = { json = "/token" } }

[[journeys.steps]]
name = "list"
path = "/shop/items"
headers = { Authorization = "Bearer ${token}" }
extract = { item = { regex = '"id":(\d+)' } }

[[journeys.steps]]
name = "checkout"
method = "POST"
path = "/shop/checkout/${item}"
headers = { Authorization = "Bearer ${token}" }
extract = { order = { json = "/order" } }

[[journeys]]
name = "browse"

[[journeys.steps]]
name = "home"
path = "/"
think = "20ms"

[[journeys.steps]]
name = "item"
path = "/items/7"
"#;

fn run_plan(sim: &Sim, plan: &str) -> (tempfile::TempDir, assert_cmd::assert::Assert) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, plan).unwrap();
    let out = dir.path().join("out");
    let assert =
        headroom().args(["run", path.to_str().unwrap(), "--target", &sim.url, "--out", out.to_str().unwrap()]).assert();
    (dir, assert)
}

fn per_request(step: &Value, name: &str) -> u64 {
    step["per_request"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["requests"].as_u64().unwrap()
}

fn journey<'a>(step: &'a Value, name: &str) -> &'a Value {
    step["journeys"]["journeys"].as_array().unwrap().iter().find(|j| j["name"] == name).unwrap()
}

#[test]
fn a_shop_journey_passes_cookie_token_and_item_under_load() {
    let sim = Sim::start(&[]);
    let plan = format!("{SHOP}\n[profile]\nkind = \"load\"\nrate = \"20\"\nduration = \"3s\"\n");
    let (dir, assert) = run_plan(&sim, &plan);
    assert.success().stdout(predicate::str::contains("Journeys (end to end"));
    let v = results(&dir.path().join("out"));
    assert_eq!(v["valid"], true, "{}", v["invalid_reasons"]);
    let s = &v["steps"][0];
    assert_eq!(s["errors"]["http_4xx"], 0, "{}", s["journeys"]);
    assert_eq!(s["errors"]["extract"], 0, "{}", s["journeys"]);
    // 60 arrivals at weights 3:1 are 45 purchases and 15 visits, each step of each sent once.
    let buy = journey(s, "buy");
    assert_eq!(buy["started"], 45);
    assert_eq!(buy["completed"], 45);
    for step in ["buy/login", "buy/token", "buy/list", "buy/checkout"] {
        assert_eq!(per_request(s, step), 45, "{step}");
    }
    assert_eq!(per_request(s, "browse/home"), 15);
    assert_eq!(s["requests"], 45 * 4 + 15 * 2);
    // End to end is at least the sum of its requests, and a visit includes its 20 ms pause.
    let p50 = |j: &Value| j["latency_us"]["p50"].as_u64().unwrap();
    assert!(p50(journey(s, "browse")) >= 20_000, "{}", journey(s, "browse"));
    assert!(p50(buy) >= 4 * 2_000, "{buy}");
    assert!(s["target_rps"].is_null());
    assert_eq!(s["journeys"]["target_per_s"], 20.0);
    // The report reads a journey run like any other.
    let report = dir.path().join("review.md");
    headroom()
        .args(["report", dir.path().join("out/results.json").to_str().unwrap(), "-o", report.to_str().unwrap()])
        .assert()
        .success();
    assert!(std::fs::read_to_string(report).unwrap().contains("load"));
}

#[test]
fn journeys_follow_a_spike_and_recover() {
    let sim = Sim::start(&[]);
    let plan = format!(
        "{SHOP}\n[profile]\nkind = \"spike\"\nbaseline = \"10\"\nburst = \"80\"\nbefore = \"2s\"\nhold = \"1s\"\nafter = \"2s\"\n"
    );
    let (dir, assert) = run_plan(&sim, &plan);
    assert.success();
    let v = results(&dir.path().join("out"));
    assert_eq!(v["valid"], true, "{}", v["invalid_reasons"]);
    let names: Vec<&str> = v["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["baseline", "burst", "recovery"]);
    let started = |i: usize| v["steps"][i]["journeys"]["started_per_s"].as_f64().unwrap();
    assert!(started(1) > 6.0 * started(0), "burst {} vs baseline {}", started(1), started(0));
    for s in v["steps"].as_array().unwrap() {
        assert_eq!(s["errors"]["http_4xx"], 0, "{}: {}", s["name"], s["journeys"]);
        assert_eq!(journey(s, "buy")["failed"], 0);
    }
    assert!(!v["analysis"]["spike"].is_null());
}

#[test]
fn a_closed_sweep_runs_users_back_to_back() {
    let sim = Sim::start(&[]);
    let plan = format!("{SHOP}\n[profile]\nkind = \"closed\"\nusers = [2, 4]\nduration = \"1s\"\n");
    let (dir, assert) = run_plan(&sim, &plan);
    assert.success().stdout(predicate::str::contains("4 users"));
    let v = results(&dir.path().join("out"));
    for s in v["steps"].as_array().unwrap() {
        assert!(journey(s, "buy")["completed"].as_u64().unwrap() > 5, "{}", s["journeys"]);
        assert!(s["journeys"]["target_per_s"].is_null());
    }
}

#[test]
fn a_missing_cookie_a_broken_extraction_and_a_401_are_reported_per_step() {
    let sim = Sim::start(&[]);
    let plan = r#"
[[journeys]]
name = "no-login"
[[journeys.steps]]
name = "token"
path = "/shop/token"

[[journeys]]
name = "typo"
[[journeys.steps]]
name = "login"
method = "POST"
path = "/shop/login"
[[journeys.steps]]
name = "token"
path = "/shop/token"
extract = { token = { json = "/tokn" } }
[[journeys.steps]]
name = "list"
path = "/shop/items"
headers = { Authorization = "Bearer ${token}" }

[[journeys]]
name = "no-token"
[[journeys.steps]]
name = "login"
method = "POST"
path = "/shop/login"
[[journeys.steps]]
name = "checkout"
method = "POST"
path = "/shop/checkout/101"

[profile]
kind = "load"
rate = "30"
duration = "1s"
"#;
    let (dir, assert) = run_plan(&sim, plan);
    assert.success().stdout(predicate::str::contains("stopped at typo/token: extract.token"));
    let v = results(&dir.path().join("out"));
    let s = &v["steps"][0];
    let stopped = |j: &str, step: &str| {
        let f = journey(s, j)["steps"].as_array().unwrap().iter().find(|f| f["name"] == step).unwrap().clone();
        (f["failed"].as_u64().unwrap(), f["reasons"][0]["reason"].as_str().unwrap_or("").to_string())
    };
    let (n, why) = stopped("no-login", "no-login/token");
    assert_eq!(n, 10);
    assert!(why.starts_with("401") && why.contains("session cookie"), "{why}");
    let (n, why) = stopped("typo", "typo/token");
    assert_eq!(n, 10);
    assert!(why.contains("/tokn"), "{why}");
    // A journey stops at its failed step: nothing is sent with an empty token.
    assert_eq!(per_request(s, "typo/list"), 0);
    let (n, why) = stopped("no-token", "no-token/checkout");
    assert_eq!(n, 10);
    assert!(why.starts_with("401") && why.contains("bearer token"), "{why}");
    assert_eq!(s["errors"]["extract"], 10);
    assert_eq!(s["errors"]["http_4xx"], 20);
    assert_eq!(journey(s, "no-token")["errors"]["http_4xx"], 10);
    // The review shows each journey end to end, and where and why the failed ones stopped.
    let md = headroom()
        .args(["report", dir.path().join("out/results.json").to_str().unwrap(), "-f", "md", "-o", "-"])
        .assert()
        .success();
    let md = String::from_utf8_lossy(&md.get_output().stdout).to_string();
    assert!(md.contains("## Journeys (end to end") && md.contains("| load 30 | typo | 10 | 0 | 10 |"), "{md}");
    assert!(md.contains("10 stopped at typo/token: extract.token"), "{md}");
}

fn bad_plan(text: &str, wants: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, format!("{text}\n[profile]\nkind = \"load\"\nrate = \"1\"\nduration = \"1s\"\n")).unwrap();
    let out = headroom()
        .args(["run", path.to_str().unwrap(), "--target", "http://127.0.0.1:9", "--out", dir.path().to_str().unwrap()])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    for w in wants {
        assert!(err.contains(w), "'{w}' missing from: {err}");
    }
}

#[test]
fn plan_errors_name_the_journey_the_step_and_the_key() {
    let one = "[[journeys]]\nname = \"buy\"\n[[journeys.steps]]\nname = \"login\"\npath = \"/shop/login\"\n";
    bad_plan(&format!("{one}thnk = \"1s\"\n"), &["journey \"buy\", step \"login\"", "thnk", "think"]);
    bad_plan(
        &format!("{one}[[journeys.steps]]\nname = \"list\"\npath = \"/shop/items/${{item_id}}\"\n"),
        &["journeys[0] \"buy\"", "step 2 \"list\"", "path", "${item_id}", "export item_id"],
    );
    bad_plan(
        &format!("{one}extract = {{ t = {{ json = \"/t\", header = \"X\" }} }}\n"),
        &["step 1 \"login\"", "extract.t", "exactly one"],
    );
    bad_plan(&format!("{one}extract = {{ t = {{ regex = \"(\" }} }}\n"), &["extract.t", "not a regex"]);
    bad_plan(&format!("{one}method = \"BREW\"\n"), &["step 1 \"login\"", "method", "BREW"]);
    bad_plan(&format!("{one}[[requests]]\nname = \"home\"\npath = \"/\"\n"), &["both [[requests]] and [[journeys]]"]);
}

#[test]
fn ctrl_c_stops_a_journey_run_and_keeps_what_was_measured() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, format!("{SHOP}\n[profile]\nkind = \"load\"\nrate = \"20\"\nduration = \"30s\"\n")).unwrap();
    let mut run = Std::new(env!("CARGO_BIN_EXE_headroom"))
        .args(["run", path.to_str().unwrap(), "--target", &sim.url, "--out"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    Std::new("kill").args(["-INT", &run.id().to_string()]).status().unwrap();
    assert_eq!(run.wait().unwrap().code(), Some(130));
    let v = results(dir.path());
    assert_eq!(v["interrupted"], true);
    let started = journey(&v["steps"][0], "buy")["started"].as_u64().unwrap();
    assert!(started > 5 && started < 400, "{started} journeys before the interrupt");
}
