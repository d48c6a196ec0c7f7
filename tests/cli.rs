//! The real binary on good and bad input.

use std::fs;
use std::io::Read;
use std::process::{Command as Std, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn headroom() -> Command {
    Command::cargo_bin("headroom").unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = headroom().args(args).args(["--format", "json"]).assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("valid JSON")
}

fn num(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer).and_then(Value::as_f64).unwrap_or_else(|| panic!("{pointer} missing in {v}"))
}

const SPEC: &str = "models/specsdm91.csv";

#[test]
fn fit_json_keeps_its_contract() {
    let v = json(&["fit", SPEC, "--concurrency-column", "load"]);
    assert_eq!(v["schema_version"], 3);
    assert!((num(&v, "/usl/sigma") - 0.0277285).abs() < 1e-5);
    assert!((num(&v, "/usl/kappa") - 0.0001044).abs() < 1e-7);
    assert!((num(&v, "/usl/lambda") - 89.995).abs() < 1e-2);
    assert!((num(&v, "/usl/peak_concurrency") - 96.52).abs() < 0.01);
    assert!(num(&v, "/usl/peak_throughput") > 1850.0);
    assert!(num(&v, "/usl/r_squared") > 0.98);
    assert!(num(&v, "/amdahl/sigma") > 0.0);
    for key in ["sigma_ci", "kappa_ci", "lambda_ci"] {
        let ci = v["usl"][key].as_array().unwrap_or_else(|| panic!("usl.{key}"));
        assert_eq!(ci.len(), 2);
        assert!(ci[0].as_f64().unwrap() <= num(&v, &format!("/usl/{}", &key[..key.len() - 3])));
    }
    assert!(v["amdahl"]["sigma_ci"].is_array());
    assert_eq!(v["usl"]["residuals"].as_array().unwrap().len(), 7);
}

#[test]
fn amdahl_data_has_a_null_peak() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("amdahl.csv");
    let rows: String = [1.0f64, 2.0, 4.0, 8.0, 16.0]
        .iter()
        .map(|n| format!("{n},{}\n", 100.0 * n / (1.0 + 0.1 * (n - 1.0))))
        .collect();
    fs::write(&path, format!("concurrency,throughput\n{rows}")).unwrap();
    let v = json(&["fit", path.to_str().unwrap()]);
    assert_eq!(v["usl"]["kappa"], 0.0);
    assert!(v["usl"]["peak_concurrency"].is_null());
}

#[test]
fn fit_reads_stdin_predicts_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("usl.svg");
    let csv = fs::read_to_string(SPEC).unwrap();
    headroom()
        .args(["fit", "-", "--concurrency-column", "load", "--at", "64,500", "--target", "1.8k", "--plot"])
        .arg(&svg)
        .write_stdin(csv)
        .assert()
        .success()
        .stdout(predicate::str::contains("N* = 96.52"))
        .stdout(predicate::str::contains("extrapolated"))
        .stdout(predicate::str::contains("N = 500 is past twice the largest N measured"));
    let drawn = fs::read_to_string(&svg).unwrap();
    assert!(drawn.starts_with("<svg") && drawn.contains("measured") && drawn.contains("N* = 96.5"));
    assert!(drawn.matches("<circle").count() >= 7, "one dot per point");
}

#[test]
fn fit_markdown() {
    headroom()
        .args(["fit", SPEC, "--concurrency-column", "load", "-f", "md"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("# Scalability fit"))
        .stdout(predicate::str::contains("| σ (contention) | 0.02773 |"));
}

fn bad(args: &[&str], stdin: &str, message: &str) {
    headroom()
        .args(args)
        .write_stdin(stdin.to_string())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn fit_bad_input_names_the_place_and_exits_2() {
    bad(
        &["fit", "-"],
        "concurrency,throughput\n1,100\n2,abc\n",
        "<stdin>:3: column 'throughput': expected a positive number, found 'abc'",
    );
    bad(
        &["fit", "-"],
        "concurrency,throughput\n1,100\n0,90\n",
        "<stdin>:3: column 'concurrency': expected a positive number, found '0'",
    );
    bad(&["fit", "-"], "concurrency,throughput\n1,100\n2,-9\n", "found '-9'");
    bad(
        &["fit", "-"],
        "users,rps\n1,100\n",
        "no column named 'concurrency' (the header has: 'users', 'rps'); name the right one with --concurrency-column",
    );
    bad(&["fit", "-"], "concurrency,throughput\n1,100\n2,190\n4,300\n", "need at least 4 points");
    bad(
        &["fit", "-"],
        "concurrency,throughput\n4,100\n4,190\n4,300\n4,310\n",
        "need at least 3 distinct concurrency levels, got 1",
    );
    bad(&["fit", "-"], "", "empty file");
    bad(&["fit", "no/such/file.csv"], "", "cannot read the measurements no/such/file.csv");
    bad(&["fit", SPEC, "--at", "lots"], "", "invalid value 'lots' for '--at <N>'");
}

#[test]
fn worksheets_reproduce_hand_computed_answers() {
    let l = json(&["calc", "littles", "--throughput", "1.5k", "--latency", "120ms"]);
    assert!((num(&l, "/in_flight") - 180.0).abs() < 1e-9);
    assert_eq!(l["solved_for"], "in_flight");
    let w = json(&["calc", "littles", "--in-flight", "180", "--throughput", "1500"]);
    assert!((num(&w, "/latency_s") - 0.12).abs() < 1e-12);

    let month = json(&["calc", "budget", "--slo", "99.9%", "--window", "30d", "--burn-rate", "14.4"]);
    assert!((num(&month, "/budget_s") / 60.0 - 43.2).abs() < 1e-6);
    assert!((num(&month, "/time_to_exhaustion_s") / 3600.0 - 50.0).abs() < 1e-6);
    let burns: Vec<f64> =
        month["alert_pairs"].as_array().unwrap().iter().map(|p| p["burn_rate"].as_f64().unwrap()).collect();
    assert!(burns.iter().zip([14.4, 6.0, 1.0]).all(|(a, b)| (a - b).abs() < 1e-6), "{burns:?}");
    let quarter = json(&["calc", "budget", "--slo", "99.9%", "--window", "90d"]);
    assert!((num(&quarter, "/budget_s") / 60.0 - 129.6).abs() < 1e-6);
    let by_errors = json(&["calc", "budget", "--slo", "99.9%", "--error-rate", "1.44%"]);
    assert!((num(&by_errors, "/burn_rate") - 14.4).abs() < 1e-6);

    let a = json(&["calc", "amdahl", "--sigma", "5%", "--n", "16", "--target-speedup", "10"]);
    assert!((num(&a, "/rows/0/speedup") - 16.0 / 1.75).abs() < 1e-9);
    assert!((num(&a, "/ceiling") - 20.0).abs() < 1e-9);
    assert!((num(&a, "/n_for_target") - 19.0).abs() < 1e-9);

    let u = json(&["calc", "usl", "--lambda", "100", "--sigma", "0.02", "--kappa", "0.0002", "--n", "10"]);
    assert!((num(&u, "/rows/0/throughput_rps") - 1000.0 / (1.0 + 0.18 + 0.018)).abs() < 1e-9);
    assert!((num(&u, "/peak/concurrency") - (0.98f64 / 0.0002).sqrt()).abs() < 1e-9);

    // M/M/1 at 80%: P(wait) = ρ and the p99 response time is ln(100)/(μ − λ).
    let q = json(&["calc", "queue", "--rate", "80", "--service-time", "10ms", "--servers", "1"]);
    assert!((num(&q, "/wait_probability") - 0.8).abs() < 1e-9);
    assert!((num(&q, "/percentile_s") - 100f64.ln() / 20.0).abs() < 1e-9);
}

#[test]
fn worksheet_tables_state_formula_and_inputs() {
    headroom()
        .args(["calc", "littles", "--throughput", "1.5k", "--latency", "120ms"])
        .assert()
        .success()
        .stdout(predicate::str::contains("L = λ·W"))
        .stdout(predicate::str::contains("180"))
        .stdout(predicate::str::contains("given"));
    headroom()
        .args(["calc", "queue", "--rate", "700", "--service-time", "10ms", "--servers", "8", "--bound", "50ms"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Erlang C"))
        .stdout(predicate::str::contains("The cliff"));
}

#[test]
fn worksheet_bad_input_exits_2() {
    bad(&["calc", "littles", "--throughput", "1k"], "", "give exactly two");
    bad(&["calc", "littles", "--throughput", "-1k", "--latency", "3s"], "", "a rate cannot be negative");
    bad(&["calc", "littles", "--throughput", "1k", "--latency", "3"], "", "needs a unit");
    bad(&["calc", "queue", "--rate", "2k", "--service-time", "10ms", "--servers", "8"], "", "the queue is unstable");
    bad(&["calc", "queue", "--rate", "2k", "--service-time", "10ms", "--servers", "0"], "", "--servers");
    bad(&["calc", "budget", "--slo", "100%"], "", "a 100% SLO has no budget");
    bad(&["calc", "budget", "--slo", "101%"], "", "between 0% and 100%");
    bad(&["calc", "amdahl", "--sigma", "p99"], "", "--sigma");
    bad(&["calc", "nonsense"], "", "unrecognized subcommand");
}

#[test]
fn help_and_version() {
    headroom()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("fit"))
        .stdout(predicate::str::contains("Exit codes"));
    for sub in ["littles", "amdahl", "usl", "queue", "budget"] {
        headroom().args(["calc", sub, "--help"]).assert().success().stdout(predicate::str::contains("Example"));
    }
    headroom().arg("--version").assert().success().stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let many: Vec<String> = (1..=20_000).map(|n| n.to_string()).collect();
    closed_pipe(&["calc", "amdahl", "--sigma", "5%", "--n", &many.join(",")]);
    closed_pipe(&["history", "models/history/wc98_requests_1min.csv", "--by", "hour", "--format", "csv"]);
}

fn closed_pipe(args: &[&str]) {
    let mut child = Std::new(env!("CARGO_BIN_EXE_headroom"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "{status:?} {err}");
    assert!(err.is_empty(), "{err}");
}

/// Runs the binary and returns (exit code, stderr).
fn fails(args: &[&str], cwd: &std::path::Path) -> (i32, String) {
    let out = headroom().args(args).current_dir(cwd).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_input_is_named_precisely_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = std::env::current_dir().unwrap();
    // Not UTF-8: the byte, its offset, line and column.
    fs::write(d.join("p.toml"), b"target = \"http://127.0.0.1:9\"\n# caf\xe9\n").unwrap();
    let (code, e) = fails(&["run", "p.toml"], d);
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("p.toml: not UTF-8 text: byte 0xe9 at offset 35 (line 2, column 6)"), "{e}");
    // A key found wrong after parsing is named with its line.
    let plan = "target = \"http://127.0.0.1:9\"\n[[requests]]\nname = \"a\"\npath = \"/\"\n[profile]\nkind = \"load\"\nrate = \"10\"\nduration = \"1\"\n";
    fs::write(d.join("q.toml"), plan).unwrap();
    let (code, e) = fails(&["run", "q.toml"], d);
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("q.toml:8: profile.duration: '1' needs a unit"), "{e}");
    // A JSON artefact names the key path and the line.
    let mut v: Value =
        serde_json::from_str(&fs::read_to_string(root.join("tests/fixtures/report/sweep-results.json")).unwrap())
            .unwrap();
    v["steps"][2]["latency_us"]["p99"] = "soon".into();
    fs::write(d.join("r.json"), serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let (code, e) = fails(&["report", "r.json", "--format", "md"], d);
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("r.json: at steps[2].latency_us.p99: invalid type: string \"soon\""), "{e}");
    assert!(e.contains(" at line "), "{e}");
    // Numbers past their range are refused with it, never printed as 300 digits or inf.
    for (args, says) in [
        (vec!["calc", "usl", "--lambda", "100", "--sigma", "1.5", "--kappa", "0"], "between 0% and 100%"),
        (vec!["calc", "littles", "--throughput", "1e300", "--latency", "1s"], "at most 1G per second"),
        (vec!["calc", "usl", "--lambda", "100", "--sigma", "0.1", "--kappa", "1e13"], "at most 1e12"),
        (vec!["calc", "littles", "--throughput", "10", "--latency", "40000000000s"], "at most 100 years"),
    ] {
        let (code, e) = fails(&args, d);
        assert_eq!(code, 2, "{args:?}: {e}");
        assert!(e.contains(says), "{args:?}: {e}");
    }
    // An error quotes at most about 200 characters of what it was given.
    let long = format!("p99 < {}ms", "9".repeat(5_000));
    let (code, e) = fails(&["run", "--target", "http://127.0.0.1:9", "--rate", "1", "--slo", &long], d);
    assert_eq!(code, 2, "{e}");
    assert!(e.len() < 1_000 && e.contains("more characters)"), "{} bytes: {}", e.len(), &e[..e.len().min(400)]);
    // --out that is a file is named.
    fs::write(d.join("afile"), "").unwrap();
    let (code, e) = fails(&["run", "--target", "http://127.0.0.1:9", "--rate", "1", "--out", "afile"], d);
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("--out afile: is a file"), "{e}");
}

#[test]
fn two_runs_started_together_never_share_a_default_folder() {
    let dir = tempfile::tempdir().unwrap();
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    drop(std::net::TcpListener::bind(refused));
    let url = format!("http://{refused}");
    let runs: Vec<_> = (0..3)
        .map(|_| {
            Std::new(env!("CARGO_BIN_EXE_headroom"))
                .args(["run", "--target", &url, "--rate", "1", "--duration", "1s"])
                .current_dir(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut r in runs {
        assert_eq!(r.wait().unwrap().code(), Some(3));
    }
    let folders: Vec<_> = fs::read_dir(dir.path().join("reports")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(folders.len(), 3, "{folders:?}");
    for f in &folders {
        assert!(f.join("results.json").exists(), "{}", f.display());
    }
}

#[test]
fn completions_and_man_pages_come_from_the_command_line_itself() {
    let commands = ["run", "fit", "forecast", "history", "plan", "report", "compare", "serve-sim", "demo", "calc"];
    let bash = headroom().args(["completions", "bash"]).assert().success().get_output().stdout.clone();
    let bash = String::from_utf8(bash).unwrap();
    for c in commands {
        assert!(bash.contains(c), "bash completes {c}");
    }
    assert!(bash.contains("--max-p99-increase") && bash.contains("--count-column"), "and their flags");
    // The script is valid bash and registers itself for headroom.
    let check = Std::new("bash")
        .args(["-c", "source /dev/stdin && complete -p headroom"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bash.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(check.status.success() && String::from_utf8_lossy(&check.stdout).contains("headroom"), "{check:?}");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = headroom().args(["completions", shell]).assert().success().get_output().stdout.clone();
        assert!(String::from_utf8(out).unwrap().contains("compare"), "{shell}");
    }
    headroom().args(["completions", "tcsh"]).assert().code(2).stderr(predicate::str::contains("bash"));

    let man = String::from_utf8(headroom().arg("man").assert().success().get_output().stdout.clone()).unwrap();
    assert!(man.contains(".TH headroom 1") && man.contains(".SH SUBCOMMANDS"), "{man}");
    let page =
        String::from_utf8(headroom().args(["man", "compare"]).assert().success().get_output().stdout.clone()).unwrap();
    assert!(page.contains(".TH headroom-compare 1") && page.contains(r"\-\-max\-p99\-increase"), "{page}");
    headroom().args(["man", "nosuch"]).assert().code(2).stderr(predicate::str::contains("one of run, fit"));
}

#[test]
fn csv_is_plain_numbers_under_one_header() {
    let csv = |args: &[&str]| {
        let out = headroom().args(args).args(["--format", "csv"]).assert().success().get_output().stdout.clone();
        let text = String::from_utf8(out).unwrap();
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = rows.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<Vec<String>> = rows.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
        assert!(!text.contains("\n\n"), "one table: {text}");
        (header, rows)
    };
    let (header, rows) = csv(&["calc", "littles", "--throughput", "1.5k", "--latency", "200ms"]);
    assert_eq!(header, ["field", "value"]);
    assert!(rows.contains(&vec!["in_flight".to_string(), "300.0".to_string()]), "{rows:?}");
    assert!(rows.contains(&vec!["throughput_rps".to_string(), "1500.0".to_string()]), "{rows:?}");
    let (_, rows) = csv(&["calc", "usl", "--sigma", "0.02", "--kappa", "0.0001", "--lambda", "100"]);
    let peak = rows.iter().find(|r| r[0] == "peak.concurrency").unwrap();
    assert!((peak[1].parse::<f64>().unwrap() - 98.99494936611666).abs() < 1e-9, "{peak:?}");
    let (header, rows) = csv(&["fit", "models/specsdm91.csv", "--concurrency-column", "load", "--at", "64"]);
    assert_eq!(header, ["model", "parameter", "value", "std_error", "lo95", "hi95"]);
    for r in &rows {
        assert!(r[2].is_empty() || r[2].parse::<f64>().is_ok(), "a plain number: {r:?}");
    }
    let n_star = rows.iter().find(|r| r[0] == "usl" && r[1] == "peak_concurrency").unwrap();
    assert!((n_star[2].parse::<f64>().unwrap() - 96.52).abs() < 0.01, "{n_star:?}");
    for worksheet in [
        &["calc", "amdahl", "--sigma", "5%", "--n", "16"][..],
        &["calc", "queue", "--rate", "90", "--service-time", "10ms", "--servers", "1"],
        &["calc", "budget", "--slo", "99.9%", "--window", "30d"],
    ] {
        let (header, rows) = csv(worksheet);
        assert_eq!(header, ["field", "value"], "{worksheet:?}");
        assert!(rows.iter().all(|r| !r[1].ends_with(" ms") && !r[1].ends_with("req/s")), "{worksheet:?}: {rows:?}");
    }
}

#[test]
fn a_dash_reads_standard_input_and_writes_standard_output() {
    let stdin = |path: &str| fs::read_to_string(path).unwrap();
    // history and plan read their file from standard input.
    let history = headroom()
        .args(["history", "-", "--by", "day", "-f", "csv"])
        .write_stdin(stdin("models/history/nasa_ksc_requests_1min.csv"))
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&history.get_output().stdout).starts_with("period,"), "history -");
    let plan = headroom()
        .args(["plan", "-", "--start", "2027-01", "--months", "2", "-f", "json"])
        .write_stdin(stdin("models/example.toml"))
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&plan.get_output().stdout).unwrap();
    assert_eq!(v["months"].as_array().unwrap().len(), 2);
    // report reads an artefact from standard input and writes to standard output with -o -.
    let report = headroom()
        .args(["report", "-", "-f", "md", "-o", "-"])
        .write_stdin(stdin("tests/fixtures/report/plan.json"))
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&report.get_output().stdout).contains("Per-month instance plan"));
    // compare takes either side from standard input.
    let fit = "tests/fixtures/report/fit.json";
    headroom().args(["compare", "-", fit]).write_stdin(stdin(fit)).assert().success();
    // An output given as `-` takes standard output, and the summary moves to standard error.
    let junit = headroom().args(["compare", "-", fit, "--junit", "-"]).write_stdin(stdin(fit)).assert().success();
    let out = junit.get_output();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<?xml"), "compare --junit -");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Comparison"), "compare --junit -");
    let plot = headroom()
        .args(["fit", "-", "--concurrency-column", "load", "--plot", "-"])
        .write_stdin(stdin("models/specsdm91.csv"))
        .assert()
        .success();
    let out = plot.get_output();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<svg"), "fit --plot -");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Scalability fit of <stdin>"), "fit --plot -");
    let forecast = headroom()
        .args(["forecast", "-", "--time-column", "month", "--count-column", "requests", "--horizon", "2", "-f", "json"])
        .write_stdin(stdin("models/history/enwiki_monthly.csv"))
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&forecast.get_output().stdout).unwrap();
    assert_eq!(v["kind"], "forecast");
    // The demo writes a folder of files: `-` is refused with the fix.
    headroom().args(["demo", "--out", "-"]).assert().code(2).stderr(predicate::str::contains("give a folder"));
}
