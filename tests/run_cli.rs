//! `headroom run` and `headroom serve-sim` through the binary, on 127.0.0.1 only.

use std::net::TcpListener;
use std::process::{Command as Std, Stdio};
use std::time::Duration;

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::fault::{Fault, Mode};
use common::{headroom, results, Sim};

#[test]
fn an_ad_hoc_run_writes_the_results_contract() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    headroom()
        .args(["run", "--target", &format!("{}/items", sim.url), "--rate", "200", "--duration", "2s", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("load run against"))
        .stdout(predicate::str::contains("p99 raw"));
    let v = results(dir.path());
    assert_eq!(v["schema_version"], 3);
    for key in ["headroom_version", "cores", "start", "end"] {
        assert!(!v["environment"][key].is_null(), "environment.{key}");
    }
    assert_eq!(v["interrupted"], false);
    assert_eq!(v["valid"], true);
    let s = &v["steps"][0];
    for key in ["name", "duration_s", "requests", "achieved_rps", "mean_in_flight", "late_starts", "series"] {
        assert!(!s[key].is_null(), "steps[0].{key}");
    }
    assert_eq!(s["target_rps"], 200.0);
    assert!(s["users"].is_null());
    assert!((s["requests"].as_u64().unwrap() as i64 - 400).abs() <= 1);
    for h in ["latency_us", "service_time_us"] {
        for p in ["p50", "p90", "p95", "p99", "p999", "max"] {
            assert!(s[h][p].as_u64().unwrap() > 0, "{h}.{p}");
        }
    }
    for e in ["connect", "timeout", "http_4xx", "http_5xx", "http_429"] {
        assert_eq!(s["errors"][e], 0, "errors.{e}");
    }
    assert!(s["littles_law"]["predicted_in_system"].as_f64().unwrap() > 0.0);
    let hist = s["histograms"]["latency"].as_str().unwrap();
    let decoded = headroom::load::results::decode(hist).unwrap();
    assert_eq!(decoded.len(), s["latency_us"]["count"].as_u64().unwrap());
    assert_eq!(v["plan"]["requests"][0]["path"], "/items");
}

#[test]
fn exit_codes_say_what_happened() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    // An SLO no server meets: exit 1, results kept.
    headroom()
        .args(["run", "--target", &sim.url, "--rate", "50", "--duration", "1s", "--slo", "p99 < 1us", "--out", out])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("SLO 'p99 < 1us'"));
    assert_eq!(results(dir.path())["slo_passed"], false);
    // Nothing listens: exit 3.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    headroom()
        .args([
            "run",
            "--target",
            &format!("http://127.0.0.1:{port}"),
            "--rate",
            "10",
            "--duration",
            "1s",
            "--out",
            out,
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("cannot connect to"));
}

#[test]
fn a_target_that_resets_connections_is_classified_not_a_crash() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().take(10_000).flatten() {
            let _ = reset(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    headroom()
        .args(["run", "--target", &format!("http://127.0.0.1:{port}"), "--rate", "50", "--duration", "1s", "--out"])
        .arg(dir.path())
        .assert()
        .code(3)
        .stderr(predicate::str::contains("panicked").not());
    let v = results(dir.path());
    let e = &v["steps"][0]["errors"];
    assert!(e["io"].as_u64().unwrap() + e["connect"].as_u64().unwrap() >= 45, "{e}");
    assert_eq!(v["valid"], false);
    assert!(
        v["invalid_reasons"][0].as_str().unwrap().contains("no request got a response"),
        "{}",
        v["invalid_reasons"]
    );
}

/// Closes a connection with a reset (RST) by lingering for zero seconds before the close.
fn reset(s: std::net::TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = [1i32, 0i32];
    // SOL_SOCKET = 1, SO_LINGER = 13 on Linux.
    let rc = unsafe { setsockopt(s.as_raw_fd(), 1, 13, linger.as_ptr().cast(), 8) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

extern "C" {
    fn setsockopt(fd: i32, level: i32, name: i32, value: *const std::ffi::c_void, len: u32) -> i32;
}

#[test]
fn ctrl_c_stops_cleanly_and_keeps_what_was_measured() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut run = Std::new(env!("CARGO_BIN_EXE_headroom"))
        .args(["run", "--target", &sim.url, "--rate", "100", "--duration", "30s", "--out"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    Std::new("kill").args(["-INT", &run.id().to_string()]).status().unwrap();
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let v = results(dir.path());
    assert_eq!(v["interrupted"], true);
    let n = v["steps"][0]["requests"].as_u64().unwrap();
    assert!(n > 10 && n < 1000, "{n} requests measured before the interrupt");
}

fn bad_plan(text: &str, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    headroom()
        .args(["run", path.to_str().unwrap(), "--out", dir.path().to_str().unwrap()])
        .env_remove("HEADROOM_TEST_TOKEN")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn bad_plans_and_flags_name_the_key() {
    let good = "target = \"http://127.0.0.1:9\"\n[[requests]]\nname = \"a\"\npath = \"/\"\n[profile]\nkind = \"load\"\nrate = \"10\"\nduration = \"1s\"\n";
    bad_plan(&good.replace("path = \"/\"", "paht = \"/\""), "unknown field `paht`");
    bad_plan(&good.replace("rate = \"10\"", "rate = \"-10\""), "profile.rate: a rate cannot be negative");
    bad_plan(&good.replace("duration = \"1s\"", "duration = \"1\""), "profile.duration: '1' needs a unit");
    bad_plan(&format!("slo = [\"p99 = 3ms\"]\n{good}"), "bad.toml:1: slo[0]: 'p99 = 3ms' is not a threshold");
    bad_plan(&format!("slo = [\"rps > 3ms\"]\n{good}"), "expected a rate per second");
    bad_plan(
        &good.replace("path = \"/\"", "path = \"/\"\nheaders = { Authorization = \"Bearer ${HEADROOM_TEST_TOKEN}\" }"),
        "the environment variable HEADROOM_TEST_TOKEN is not set",
    );
    bad_plan(&good.replace("target = \"http://127.0.0.1:9\"\n", ""), "no target");
    bad_plan(&good.replace("http://127.0.0.1:9", "ftp://x"), "expected a URL such as http://");
    headroom()
        .args(["run", "--target", "http://127.0.0.1:9", "--rate", "-5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be negative"));
    headroom()
        .args(["run", "--target", "http://127.0.0.1:9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--rate"));
    headroom()
        .args(["run", "loadplans/nope.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read the load plan"));
}

#[test]
fn every_example_plan_parses_and_builds_its_steps() {
    let mut seen = 0;
    for entry in std::fs::read_dir("loadplans").unwrap() {
        let path = entry.unwrap().path();
        let file = path.display().to_string();
        let plan = headroom::plan::load(&path).unwrap_or_else(|e| panic!("{file}: {e:#}"));
        let profile =
            headroom::plan::profile::build(&plan.profile, &file, None).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!profile.steps.is_empty(), "{file}");
        // Thresholds are parsed with the plan: each is typed already.
        for t in &plan.slo {
            assert!(!t.text().is_empty(), "{file}");
        }
        seen += 1;
    }
    assert!(seen >= 6, "{seen} plans");
}

/// An HTTPS server on 127.0.0.1 with a self-signed certificate for `localhost`.
async fn tls_server() -> std::net::SocketAddr {
    use std::sync::Arc;

    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let ok = service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"ok"))))
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), ok).await;
            });
        }
    });
    addr
}

#[test]
fn https_checks_certificates_unless_insecure() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let addr = runtime.block_on(tls_server());
    let url = format!("https://localhost:{}/", addr.port());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    headroom()
        .args(["run", "--target", &url, "--rate", "20", "--duration", "1s", "--out", out])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("TLS handshake failed"))
        .stderr(predicate::str::contains("--insecure"));
    headroom()
        .args(["run", "--target", &url, "--rate", "20", "--duration", "1s", "--insecure", "--out", out])
        .assert()
        .success();
    let v = results(dir.path());
    assert_eq!(v["steps"][0]["requests"], 20);
    assert_eq!(v["steps"][0]["errors"]["connect"], 0);
}

#[test]
fn serve_sim_sessions_need_each_value_from_the_step_before() {
    let sim = Sim::start(&[]);
    let url = |p: &str| format!("{}{p}", sim.url.trim_end_matches('/'));
    let status = |r: Result<ureq::Response, ureq::Error>| match r {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    };
    let login = ureq::post(&url("/shop/login")).send_string("{}").unwrap();
    let cookie = login.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    assert!(cookie.starts_with("session=s"), "{cookie}");
    assert_eq!(status(ureq::get(&url("/shop/token")).call()), 401);
    let token: Value = ureq::get(&url("/shop/token")).set("Cookie", &cookie).call().unwrap().into_json().unwrap();
    let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
    assert_eq!(status(ureq::get(&url("/shop/items")).set("Cookie", &cookie).call()), 401);
    let items: Value =
        ureq::get(&url("/shop/items")).set("Authorization", &bearer).call().unwrap().into_json().unwrap();
    let id = items["items"][0]["id"].as_u64().unwrap();
    let checkout = |c: &str, a: &str| {
        status(ureq::post(&url(&format!("/shop/checkout/{id}"))).set("Cookie", c).set("Authorization", a).call())
    };
    assert_eq!(checkout(&cookie, &bearer), 200);
    assert_eq!(checkout(&cookie, "Bearer t1.1"), 401);
    assert_eq!(checkout("session=s1.1", &bearer), 401);
    // The plain paths are unchanged.
    assert_eq!(status(ureq::get(&url("/")).call()), 200);
}

#[test]
fn a_server_that_closes_after_every_response_is_answered_not_failed() {
    for mode in [Mode::CloseEach, Mode::Http10] {
        let server = Fault::start(mode);
        let dir = tempfile::tempdir().unwrap();
        headroom()
            .args([
                "run",
                "--target",
                &server.url,
                "--rate",
                "200",
                "--duration",
                "1s",
                "--max-in-flight",
                "4",
                "--out",
            ])
            .arg(dir.path())
            .assert()
            .code(0);
        let v = results(dir.path());
        let s = &v["steps"][0];
        assert_eq!(s["errors"]["io"], 0, "{mode:?}: {}", s["errors"]);
        assert_eq!(s["error_rate"], 0.0, "{mode:?}");
        let reconnects = s["reconnects"].as_u64().unwrap();
        // Every response closes its connection, so every request after each of the 4 workers'
        // first opens a new one.
        assert_eq!(reconnects, 196, "{mode:?}: {reconnects} reconnects for 200 requests on 4 connections");
        assert!(server.connections.load(std::sync::atomic::Ordering::Relaxed) >= 200);
    }
}

/// A one-request load plan against `url` in `dir`.
fn load_plan(dir: &std::path::Path, url: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("p.toml");
    let text = format!(
        "target = \"{url}\"\nslo = [\"p99 < 10s\"]\n{extra}\n[[requests]]\nname = \"home\"\npath = \"/\"\n\
         [profile]\nkind = \"load\"\nrate = \"50\"\nduration = \"30s\"\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn flags_beside_a_plan_replace_its_values_or_are_refused() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let plan = load_plan(dir.path(), &sim.url, "");
    let out = dir.path().join("out");
    headroom()
        .arg("run")
        .arg(&plan)
        .args(["--duration", "1s", "--slo", "p99 < 1us", "--max-in-flight", "1", "-H", "X-A: b", "--out"])
        .arg(&out)
        .assert()
        // The replaced SLO cannot be met: the flag was applied, not ignored.
        .code(1)
        .stdout(predicate::str::contains("SLO 'p99 < 1us' (overall) failed"));
    let v = results(&out);
    let s = &v["steps"][0];
    assert!((s["duration_s"].as_f64().unwrap() - 1.0).abs() < 0.01, "{}", s["duration_s"]);
    assert_eq!(s["in_flight_limit"], 1);
    assert_eq!(v["plan"]["slo"][0], "p99 < 1us");
    assert_eq!(v["plan"]["requests"][0]["headers"]["X-A"], "<redacted>");
    let overrides: Vec<&str> = v["overrides"].as_array().unwrap().iter().map(|o| o.as_str().unwrap()).collect();
    assert_eq!(overrides, ["--duration 1s", "--max-in-flight 1", "--slo 'p99 < 1us'", "--header 'X-A: …'"]);
    for (flag, value, key) in [("--method", "POST", "method"), ("--body", "x", "body")] {
        headroom()
            .arg("run")
            .arg(&plan)
            .args([flag, value])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("{flag} does not apply to a plan: set {key}")));
    }
    headroom()
        .arg("run")
        .arg(&plan)
        .args(["--max-rps", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--max-rps must be above zero"));
    headroom()
        .arg("run")
        .arg(&plan)
        .args(["--max-in-flight", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("max_in_flight (--max-in-flight): must be at least 1"));
}

#[test]
fn thresholds_say_their_unit_and_throughput_thresholds_compare_what_completed() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let plan = load_plan(dir.path(), &sim.url, "");
    let out = dir.path().join("out");
    headroom()
        .arg("run")
        .arg(&plan)
        .args(["--duration", "1s", "--slo", "mean < 1us", "--slo", "rps > 1k", "--slo", "max >= 0ms", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stdout(predicate::str::is_match(r"SLO 'rps > 1k' \(overall\) failed: (49|50|51)(\.[0-9]+)? RPS").unwrap())
        .stdout(predicate::str::is_match(r"SLO 'mean < 1us' \(overall\) failed: [0-9.]+ (µs|ms)\n").unwrap());
    let v = results(&out);
    let slo = v["steps"][0]["slo"].as_array().unwrap();
    let by = |m: &str| slo.iter().find(|t| t["metric"] == m).unwrap();
    assert_eq!((by("mean")["unit"].as_str(), by("mean")["op"].as_str()), (Some("us"), Some("<")));
    assert_eq!((by("rps")["unit"].as_str(), by("rps")["passed"].as_bool()), (Some("rps"), Some(false)));
    assert!((by("rps")["value"].as_f64().unwrap() / 50.0 - 1.0).abs() < 0.05, "{}", by("rps")["value"]);
    assert_eq!(by("max")["passed"], true);
}

/// `run - --out -`: the plan from standard input and results.json to standard output (the
/// summary on standard error, no folder written), ready to pipe into `report -` and `compare -`.
#[test]
fn a_run_reads_its_plan_from_stdin_and_writes_its_results_to_stdout() {
    let sim = Sim::start(&[]);
    let cwd = tempfile::tempdir().unwrap();
    let plan =
        "target = \"http://127.0.0.1:9\"\nslo = [\"p99 < 5s\"]\n\n[[requests]]\nname = \"home\"\npath = \"/\"\n\n\
                [profile]\nkind = \"load\"\nrate = \"100\"\nduration = \"1s\"\n";
    let run = headroom()
        .current_dir(cwd.path())
        .args(["run", "-", "--target", &sim.url, "-o", "-"])
        .write_stdin(plan)
        .assert()
        .success();
    let out = run.get_output();
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).expect("results.json on standard output");
    assert_eq!(results["kind"], "results");
    assert!(results["steps"][0]["requests"].as_u64().unwrap() > 50, "{results}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Steps (latency") && err.contains("load 100"), "the summary goes to standard error: {err}");
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0, "--out - writes no folder");
    // What it printed is an artefact the other commands read from standard input.
    let review =
        headroom().args(["report", "-", "-f", "md", "-o", "-"]).write_stdin(out.stdout.clone()).assert().success();
    assert!(String::from_utf8_lossy(&review.get_output().stdout).contains("load 100"));
    let saved = cwd.path().join("saved.json");
    std::fs::write(&saved, &out.stdout).unwrap();
    headroom().args(["compare", "-", saved.to_str().unwrap()]).write_stdin(out.stdout.clone()).assert().success();
}

/// `run --junit`: each step's validity and SLOs as JUnit test cases, a failed SLO as a failure
/// with what was measured; `--junit -` on standard output, refused beside `-o -`.
#[test]
fn a_run_writes_its_checks_as_junit() {
    // 20 ms of service time: p99 < 5s passes, p99 < 5ms fails.
    let sim = Sim::start(&["--service-time", "20ms", "--distribution", "constant"]);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "target = \"{}\"\nslo = [\"p99 < 5s\", \"p99 < 5ms\"]\n\n[[requests]]\nname = \"home\"\npath = \"/\"\n\n\
             [profile]\nkind = \"load\"\nrate = \"50\"\nduration = \"1s\"\n",
            sim.url
        ),
    )
    .unwrap();
    let xml = dir.path().join("checks.xml");
    headroom().arg("run").arg(&plan).arg("--out").arg(dir.path().join("run")).arg("--junit").arg(&xml).assert().code(1);
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.contains(r#"<testsuites name="headroom run" tests="3" failures="1">"#), "{text}");
    assert!(text.contains(r#"<testcase classname="load 50" name="valid"/>"#), "{text}");
    assert!(text.contains(r#"<testcase classname="load 50" name="p99 &lt; 5s (overall)"/>"#), "{text}");
    assert!(text.contains(r#"<failure message="p99 &lt; 5ms overall measured "#), "{text}");
    let out = headroom()
        .arg("run")
        .arg(&plan)
        .arg("--out")
        .arg(dir.path().join("again"))
        .args(["--junit", "-"])
        .assert()
        .code(1);
    let out = out.get_output();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<?xml"), "JUnit on standard output");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Steps (latency"), "the summary on standard error");
    headroom()
        .arg("run")
        .arg(&plan)
        .args(["-o", "-", "--junit", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("both write standard output"));
}
