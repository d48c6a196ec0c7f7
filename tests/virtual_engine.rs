//! Every profile's schedule and analysis, run by the virtual engine: the real pacer, recorder,
//! collector, analysis and results, against a scripted service on tokio's paused clock. A
//! minute of load takes milliseconds, nothing depends on the machine's speed, and the figures
//! are exact enough to assert closely.

use std::time::Duration;

use headroom::artefact::results::{Delivery, Results};
use headroom::load::runner::{execute_virtual, RunOptions};
use headroom::load::scripted::{Script, Served};
use tokio::sync::watch;

/// A plan of one request against an address nothing listens on (the virtual engine sends
/// nothing), with `profile` as its `[profile]` table.
fn plan(top: &str, profile: &str) -> headroom::plan::LoadPlan {
    let text = format!(
        "target = \"http://127.0.0.1:9\"\ntimeout = \"5s\"\n{top}\n[[requests]]\nname = \"home\"\npath = \"/\"\n[profile]\n{profile}\n"
    );
    headroom::plan::parse(&text, "virtual.toml").expect("a valid plan")
}

async fn run(top: &str, profile: &str, script: Script) -> Results {
    let dir = tempfile::tempdir().unwrap();
    run_into(dir.path(), top, profile, script).await
}

/// Runs into `dir`, where results.json stays.
async fn run_into(dir: &std::path::Path, top: &str, profile: &str, script: Script) -> Results {
    let opts = RunOptions {
        target: None,
        max_rps: None,
        out: Some(dir.to_path_buf()),
        progress: false,
        insecure: false,
        overrides: Vec::new(),
        shard: None,
    };
    let (stop, _) = watch::channel(false);
    execute_virtual(&plan(top, profile), "virtual.toml", &opts, stop, script).await.expect("the run completes")
}

/// 8 workers of a constant 20 ms: 400 requests per second.
fn capacity_400() -> Script {
    Script::constant(8, Duration::from_millis(20))
}

fn within(measured: f64, expected: f64, share: f64) -> bool {
    (measured / expected - 1.0).abs() <= share
}

#[tokio::test(start_paused = true)]
async fn a_load_under_capacity_is_delivered_on_schedule() {
    let r = run("", "kind = \"load\"\nrate = \"200\"\nduration = \"10s\"", capacity_400()).await;
    assert!(r.valid, "{:?}", r.invalid_reasons);
    let s = &r.steps[0];
    assert_eq!(s.delivery, Delivery::Delivered);
    assert_eq!((s.scheduled, s.requests, s.unsent, s.late_starts), (Some(2000), 2000, 0, 0));
    assert!(within(s.achieved_rps, 200.0, 0.005), "achieved {}", s.achieved_rps);
    // Every request waits for nothing but its own 20 ms.
    let l = s.latency_us.unwrap();
    assert!((20_000..20_100).contains(&l.p50) && l.max < 20_100, "{l:?}");
    // L = X·W: 200/s × 20 ms = 4 in the system.
    let law = s.littles_law.unwrap();
    assert!(within(law.measured_in_system, 4.0, 0.03), "{law:?}");
    assert!(!law.alarm, "{law:?}");
    // The per-second series counts the same requests.
    let per_second: u64 = s.series.iter().map(|x| x.requests).sum();
    assert_eq!(per_second, s.requests);
}

#[tokio::test(start_paused = true)]
async fn a_load_over_capacity_is_saturated_at_the_capacity_and_invalid() {
    let r = run("", "kind = \"load\"\nrate = \"800\"\nduration = \"10s\"", capacity_400()).await;
    let s = &r.steps[0];
    assert!(matches!(s.delivery, Delivery::Saturated { .. }), "{:?}", s.delivery);
    assert!(within(s.achieved_rps, 400.0, 0.01), "achieved {}", s.achieved_rps);
    assert!(s.unsent > 0 && s.late_at_limit > 0, "unsent {} late at limit {}", s.unsent, s.late_at_limit);
    assert!(!r.valid && r.invalid_reasons[0].contains("saturated"), "{:?}", r.invalid_reasons);
    // The run ends within its duration and a request timeout: what was never sent is counted.
    assert!(s.duration_s <= 10.2, "{}", s.duration_s);
}

#[tokio::test(start_paused = true)]
async fn a_stress_run_breaks_between_the_steps_either_side_of_capacity() {
    let r = run(
        "slo = [\"p99 < 100ms\"]",
        "kind = \"stress\"\nstart = \"150\"\nstep = \"+150\"\nhold = \"5s\"\nmax = \"750\"",
        capacity_400(),
    )
    .await;
    assert!(r.valid, "{:?}", r.invalid_reasons);
    let b = r.analysis.breaking_point.as_ref().expect("a stress run has a breaking point");
    assert!(within(b.last_passing_rps.unwrap(), 300.0, 0.01), "{b:?}");
    assert_eq!(b.first_failing_rps, Some(450.0), "{b:?}");
    assert!(within(b.first_failing_achieved_rps.unwrap(), 400.0, 0.02), "{b:?}");
    // It stops at the first failing step.
    assert_eq!(r.steps.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_spike_saturates_in_its_burst_and_recovery_is_timed() {
    let r = run(
        "[safety]\nmax_in_flight = 2048",
        "kind = \"spike\"\nbaseline = \"100\"\nburst = \"600\"\nramp = \"1s\"\nhold = \"3s\"\nbefore = \"5s\"\nafter = \"10s\"",
        capacity_400(),
    )
    .await;
    // A burst beyond capacity is what a spike is for: the run stays valid.
    assert!(r.valid, "{:?}", r.invalid_reasons);
    let burst = r.steps.iter().find(|s| s.name.starts_with("burst")).unwrap();
    assert!(matches!(burst.delivery, Delivery::Saturated { .. }), "{:?}", burst.delivery);
    assert!(within(burst.achieved_rps, 400.0, 0.02), "burst achieved {}", burst.achieved_rps);
    let sp = r.analysis.spike.as_ref().unwrap();
    assert!(sp.baseline_p99_us.unwrap() < 20_100, "{sp:?}");
    assert!(sp.burst_p99_us.unwrap() > 1_000_000, "{sp:?}");
    // 3 s at 200/s over capacity is a 600-request backlog, drained at 300/s spare: about 2 s
    // after the burst (plus the ramp's own), and well within the 10 s recovery step.
    let recovery = sp.recovery_s.expect("it recovers");
    assert!((1.5..4.0).contains(&recovery), "recovered after {recovery} s");
}

#[tokio::test(start_paused = true)]
async fn a_soak_finds_latency_that_drifts_upward() {
    // 10 ms, growing by 1 ms every minute of the run.
    let drift = Script {
        servers: 64,
        serve: Box::new(|c| Served::ok(Duration::from_micros(10_000 + c.at.as_micros() as u64 / 60_000))),
    };
    let r = run("", "kind = \"soak\"\nrate = \"50\"\nduration = \"10m\"\nwindow = \"1m\"", drift).await;
    let so = r.analysis.soak.as_ref().unwrap();
    let (first, last) = (so.p99_first_window_us.unwrap(), so.p99_last_window_us.unwrap());
    assert!(first < 11_100.0 && last > 19_000.0, "{so:?}");
    let trend = so.p99_trend_us.unwrap();
    // 1 ms a minute is 60 ms an hour.
    assert!(within(trend.slope_per_hour, 60_000.0, 0.05), "{trend:?}");
    assert!(trend.p_value.unwrap() < 1e-6, "{trend:?}");
}

#[tokio::test(start_paused = true)]
async fn a_closed_sweep_measures_throughput_up_to_the_workers() {
    let r = run("", "kind = \"closed\"\nusers = [1, 4, 8, 16]\nduration = \"5s\"", capacity_400()).await;
    let x: Vec<f64> = r.steps.iter().map(|s| s.achieved_rps).collect();
    // X(N) = min(N, 8) / 20 ms.
    for (got, want) in x.iter().zip([50.0, 200.0, 400.0, 400.0]) {
        assert!(within(*got, want, 0.01), "{x:?}");
    }
    // Past 8 users the rest wait at the service: latency doubles at 16.
    let p50 = |i: usize| r.steps[i].latency_us.unwrap().p50 as f64;
    assert!(within(p50(3), 40_000.0, 0.02), "{}", p50(3));
}

#[tokio::test(start_paused = true)]
async fn errors_and_timeouts_are_classified() {
    // Every 10th request fails with a 503; every 50th takes longer than the 5 s timeout.
    let faulty = Script {
        servers: 64,
        serve: Box::new(|c| match c.n % 50 {
            0 => Served::ok(Duration::from_secs(30)),
            n if n % 10 == 5 => Served {
                service: Duration::from_millis(5),
                outcome: Err(headroom::artefact::results::ErrorClass::Http5xx),
            },
            _ => Served::ok(Duration::from_millis(5)),
        }),
    };
    let r = run("", "kind = \"load\"\nrate = \"100\"\nduration = \"10s\"", faulty).await;
    let s = &r.steps[0];
    assert_eq!(s.requests, 1000);
    assert_eq!((s.errors.http_5xx, s.errors.timeout), (100, 20), "{:?}", s.errors);
    assert!(within(s.error_rate, 0.12, 1e-9), "{}", s.error_rate);
}

#[tokio::test(start_paused = true)]
async fn the_same_run_twice_gives_the_same_figures() {
    let profile = "kind = \"stages\"\nstages = [{ rate = \"100\", duration = \"3s\" }, { rate = \"300\", duration = \"3s\" }, { rate = \"600\", duration = \"3s\" }]";
    let a = run("", profile, capacity_400()).await;
    let b = run("", profile, capacity_400()).await;
    let steps = |r: &Results| serde_json::to_value(&r.steps).unwrap();
    assert_eq!(steps(&a), steps(&b));
    assert_eq!(a.steps.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_hour_of_soak_keeps_results_json_small() {
    // Service times spread over 5–45 ms, so that every point's histogram has some width.
    let spread =
        Script { servers: 64, serve: Box::new(|c| Served::ok(Duration::from_micros(5_000 + c.n * 7_919 % 40_000))) };
    let dir = tempfile::tempdir().unwrap();
    let r =
        run_into(dir.path(), "", "kind = \"soak\"\nrate = \"20\"\nduration = \"1h\"\nwindow = \"5m\"", spread).await;
    let bytes = std::fs::metadata(dir.path().join("results.json")).unwrap().len();
    let points = r.steps[0].series.len();
    eprintln!("1 h soak: {points} series points, results.json {bytes} bytes ({} per point)", bytes / points as u64);
    // At most 1,800 points a step, each with its histogram: about 1.5 MB an hour at this
    // spread (a narrow distribution takes a fifth of that), however long the soak.
    assert!(points <= 1_800, "{points}");
    assert!(bytes < 2_000_000, "{bytes} bytes");
}
