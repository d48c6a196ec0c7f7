//! The HTML review in a real browser: headless Chromium, driven over WebDriver by chromedriver
//! on 127.0.0.1 (Debian's `chromium` and `chromium-driver`, installed by `.ci/run`). The page
//! must load with no console error, every chart must be drawn at a visible size with content,
//! and a screenshot is kept in target/report-screenshot.png.
//!
//! Without chromedriver the test says so and passes, unless HEADROOM_REQUIRE_BROWSER is set (as
//! `.ci/run` does), where its absence is a failure.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

const DRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn call(method: &str, url: &str, body: Option<Value>) -> Value {
    let req = ureq::request(method, url).timeout(Duration::from_secs(60));
    let resp = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    match resp {
        Ok(r) => r.into_json().unwrap(),
        Err(ureq::Error::Status(code, r)) => panic!("{method} {url}: {code} {}", r.into_string().unwrap_or_default()),
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

#[test]
fn the_html_review_renders_in_headless_chromium() {
    if !Path::new(DRIVER).exists() || !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var_os("HEADROOM_REQUIRE_BROWSER").is_none(),
            "HEADROOM_REQUIRE_BROWSER is set but {DRIVER} or {CHROMIUM} is missing: apt-get install chromium chromium-driver"
        );
        eprintln!("skipped: no {DRIVER} (apt-get install chromium chromium-driver to run this test)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("review.html");
    assert_cmd::Command::cargo_bin("headroom")
        .unwrap()
        .args(["report", "tests/fixtures/report/spike-results.json", "tests/fixtures/report/sweep-results.json"])
        .args([
            "tests/fixtures/report/fit.json",
            "tests/fixtures/report/forecast.json",
            "tests/fixtures/report/plan.json",
        ])
        .args(["-o", html.to_str().unwrap()])
        .assert()
        .success();

    let port = free_port();
    let _driver = Driver(
        Command::new(DRIVER)
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("{base}/status")).call().is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start on {base}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let session = call(
        "POST",
        &format!("{base}/session"),
        Some(json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": CHROMIUM, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,900"
            ]}
        }}})),
    );
    let id = session["value"]["sessionId"].as_str().expect("a session").to_string();
    let s = format!("{base}/session/{id}");
    call("POST", &format!("{s}/url"), Some(json!({"url": format!("file://{}", html.display())})));

    let script = r#"return Array.from(document.querySelectorAll('figure.chart')).map(f => {
        const svg = f.querySelector('svg');
        const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
        return {id: f.id, width: box.width, height: box.height,
                marks: svg ? svg.querySelectorAll('polyline, path, circle, polygon, rect, line').length : 0,
                text: svg ? svg.textContent.length : 0};
    });"#;
    let charts = call("POST", &format!("{s}/execute/sync"), Some(json!({"script": script, "args": []})));
    let charts = charts["value"].as_array().unwrap().clone();
    let ids: Vec<&str> = charts.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "chart-latency",
            "chart-rate",
            "chart-latency-2",
            "chart-rate-2",
            "chart-knee",
            "chart-usl",
            "chart-forecast",
            "chart-instances"
        ]
    );
    for c in &charts {
        assert!(c["width"].as_f64().unwrap() > 300.0 && c["height"].as_f64().unwrap() > 150.0, "{c}");
        assert!(c["marks"].as_u64().unwrap() > 10 && c["text"].as_u64().unwrap() > 20, "chart drawn empty: {c}");
    }
    let title = call("GET", &format!("{s}/title"), None);
    assert!(title["value"].as_str().unwrap().starts_with("Capacity review"), "{title}");

    let logs = call("POST", &format!("{s}/se/log"), Some(json!({"type": "browser"})));
    let errors: Vec<&Value> =
        logs["value"].as_array().unwrap().iter().filter(|l| l["level"] == "SEVERE" || l["level"] == "ERROR").collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");

    let shot = call("GET", &format!("{s}/screenshot"), None);
    let png = base64::engine::general_purpose::STANDARD.decode(shot["value"].as_str().unwrap()).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "screenshot of {} bytes", png.len());
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    std::fs::write(&target, &png).unwrap();
    eprintln!("screenshot: {}", target.display());
    let _ = ureq::delete(&s).call();
}
