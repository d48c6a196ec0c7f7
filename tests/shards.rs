//! Sharded runs and `headroom merge`: shards of one schedule on the virtual engine (exact, on a
//! paused clock) and as processes against serve-sim on 127.0.0.1, merged and checked against
//! one unsharded run and against every sample of every shard.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{headroom, results, Sim};
use hdrhistogram::Histogram;
use headroom::artefact::results::{decode, Percentiles, Results};
use headroom::load::runner::{execute_virtual, RunOptions};
use headroom::load::scripted::Script;
use headroom::load::shard::ShardPlan;
use headroom::load::timeline::Slice;
use tokio::sync::watch;

/// The tests that load serve-sim with several processes take turns: on two cores, two of them at
/// once would measure each other.
static LIVE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn live() -> std::sync::MutexGuard<'static, ()> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

fn plan(profile: &str) -> headroom::plan::LoadPlan {
    let text = format!(
        "target = \"http://127.0.0.1:9\"\ntimeout = \"2s\"\nslo = [\"p99 < 50ms\"]\n[[requests]]\nname = \"home\"\npath = \"/\"\nweight = 3\n[[requests]]\nname = \"item\"\npath = \"/item\"\n[profile]\n{profile}\n"
    );
    headroom::plan::parse(&text, "shards.toml").expect("a valid plan")
}

async fn virtual_run(dir: &Path, profile: &str, slice: Slice, start_at_s: f64) -> Results {
    let opts = RunOptions {
        target: None,
        max_rps: None,
        out: Some(dir.to_path_buf()),
        progress: false,
        insecure: false,
        overrides: Vec::new(),
        shard: Some(ShardPlan { slice, start_at_s }),
    };
    let (stop, _) = watch::channel(false);
    // Each shard has a service of its own: at a quarter of the rate, its 8 × 20 ms are plenty.
    let script = Script::constant(8, Duration::from_millis(20));
    execute_virtual(&plan(profile), "shards.toml", &opts, stop, script).await.expect("the run completes")
}

fn now_s() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Every shard's histogram of one kind for step `i`, added: all the samples, recorded into one.
fn union(
    shards: &[Results],
    i: usize,
    pick: fn(&headroom::artefact::results::StepResult) -> &String,
) -> Histogram<u64> {
    let mut all = Histogram::<u64>::new(3).unwrap();
    for r in shards {
        all.add(decode(pick(&r.steps[i])).unwrap()).unwrap();
    }
    all
}

#[tokio::test(start_paused = true)]
async fn virtual_shards_merge_into_the_unsharded_run() {
    // A ramp and a hold (one timeline), and a stress sweep (a phase per step, each starting
    // together on every shard).
    for profile in [
        "kind = \"stages\"\nstages = [{ rate = \"40\", duration = \"3s\" }, { rate = \"160\", duration = \"4s\", ramp = true }, { rate = \"160\", duration = \"3s\" }]",
        "kind = \"stress\"\nstart = \"50\"\nstep = \"+50\"\nmax = \"150\"\nhold = \"3s\"",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let start = now_s() + 2.0;
        let whole = virtual_run(&tmp.path().join("whole"), profile, Slice::default(), start).await;
        let mut shards = Vec::new();
        let mut inputs = Vec::new();
        for i in 0..4 {
            let dir = tmp.path().join(format!("shard-{i}"));
            let r = virtual_run(&dir, profile, Slice { index: i, count: 4 }, now_s() + 2.0).await;
            let shard = r.shard.clone().expect("a shard records itself");
            assert_eq!((shard.index, shard.count), (i, 4));
            assert_eq!(shard.plan_digest, whole.shard.as_ref().unwrap().plan_digest);
            inputs.push((dir.display().to_string(), r.clone()));
            shards.push(r);
        }
        // One agreed instant for the merge (each run above read its own clock).
        for (_, r) in &mut inputs {
            r.shard.as_mut().unwrap().start_at = whole.shard.as_ref().unwrap().start_at.clone();
            r.shard.as_mut().unwrap().started_at = Some(whole.shard.as_ref().unwrap().start_at.clone());
        }
        let merged = headroom::load::merge::merge(inputs).expect("the shards merge");
        assert_eq!(merged.steps.len(), whole.steps.len(), "{profile}");
        for (i, (m, w)) in merged.steps.iter().zip(&whole.steps).enumerate() {
            // The shards' tickets partition the one schedule: the same requests in all.
            assert_eq!(m.scheduled, w.scheduled, "{profile} step {i}");
            assert_eq!((m.requests, m.unsent), (w.requests, w.unsent), "{profile} step {i}");
            let per: Vec<u64> = m.per_request.iter().map(|r| r.requests).collect();
            let whole_per: Vec<u64> = w.per_request.iter().map(|r| r.requests).collect();
            assert_eq!(per, whole_per, "{profile} step {i}: the 3:1 rotation");
            assert_eq!(m.series.iter().map(|p| p.requests).sum::<u64>(), m.requests);
            // Percentiles from every sample of every shard, not an average of the shards'.
            let all = union(&shards, i, |s| &s.histograms.latency);
            assert_eq!(m.latency_us, Percentiles::of(&all), "{profile} step {i}");
            assert_eq!(all.len(), m.requests);
            // The merged step delivers as the whole run did, at its rate.
            assert_eq!(m.delivery, w.delivery, "{profile} step {i}");
            assert!((m.achieved_rps / w.achieved_rps - 1.0).abs() < 0.01, "{} vs {}", m.achieved_rps, w.achieved_rps);
            assert!((m.offered_rps.unwrap() - w.offered_rps.unwrap()).abs() < 1e-6);
            assert_eq!(m.slo.len(), 1);
            assert_eq!(m.slo[0].passed, w.slo[0].passed);
        }
        assert_eq!(merged.valid, whole.valid);
        assert_eq!(merged.slo_passed, whole.slo_passed);
        assert_eq!(merged.merged.as_ref().unwrap().shards.len(), 4);
        if profile.contains("stress") {
            let (m, w) = (merged.analysis.breaking_point.unwrap(), whole.analysis.breaking_point.unwrap());
            assert_eq!(m.last_passing, w.last_passing);
        }
    }
}

#[test]
fn closed_users_and_limits_are_dealt_out() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
    rt.block_on(async {
        let tmp = tempfile::tempdir().unwrap();
        let profile = "kind = \"closed\"\nusers = [6, 3]\nduration = \"2s\"";
        let mut users = Vec::new();
        for i in 0..4 {
            let r = virtual_run(&tmp.path().join(i.to_string()), profile, Slice { index: i, count: 4 }, now_s()).await;
            users.push(r.steps.iter().map(|s| s.users.unwrap()).collect::<Vec<_>>());
            // A shard with no users of a step has nothing to deliver, and is not failed for it.
            assert!(r.valid, "{:?}", r.invalid_reasons);
        }
        assert_eq!(users, [[2, 1], [2, 1], [1, 1], [1, 0]]);
    });
}

/// A run (or merge) that measured: 0, 1 (an SLO failed) or 3 (not valid: on a busy machine a
/// debug-built shard may fall behind, which is a result, named in it).
fn ran(o: &std::process::Output) -> bool {
    matches!(o.status.code(), Some(0 | 1 | 3))
}

/// Runs `n` shards of a plan as processes against `url`, starting together, into `dir/shard-I`.
fn run_shards(dir: &Path, plan: &Path, url: &str, n: u64) -> Vec<std::process::Output> {
    let start = headroom::load::shard::instant_text(now_s() + 3.0);
    let children: Vec<_> = (0..n)
        .map(|i| {
            std::process::Command::new(env!("CARGO_BIN_EXE_headroom"))
                .args(["run", plan.to_str().unwrap(), "--target", url, "--shard", &format!("{i}/{n}")])
                .args(["--start-at", &start, "-o", dir.join(format!("shard-{i}")).to_str().unwrap()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children.into_iter().map(|c| c.wait_with_output().unwrap()).collect()
}

#[test]
fn shard_processes_merge_exactly_against_serve_sim() {
    let _live = live();
    let sim = Sim::start(&["--workers", "64", "--service-time", "2ms"]);
    let tmp = tempfile::tempdir().unwrap();
    let plan = tmp.path().join("plan.toml");
    std::fs::write(
        &plan,
        "slo = [\"p99 < 200ms\"]\n[[requests]]\nname = \"home\"\npath = \"/\"\n[profile]\nkind = \"load\"\nrate = \"600\"\nduration = \"3s\"\n",
    )
    .unwrap();
    let outputs = run_shards(tmp.path(), &plan, &sim.url, 4);
    for (i, o) in outputs.iter().enumerate() {
        assert!(ran(o), "shard {i}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let whole = tmp.path().join("whole");
    let _ = headroom()
        .args(["run", plan.to_str().unwrap(), "--target", &sim.url, "-o", whole.to_str().unwrap()])
        .output()
        .unwrap();
    let merged = tmp.path().join("merged");
    let dirs: Vec<String> = (0..4).map(|i| tmp.path().join(format!("shard-{i}")).display().to_string()).collect();
    let out = headroom().arg("merge").args(&dirs).args(["-o", merged.to_str().unwrap()]).output().unwrap();
    assert!(ran(&out), "{}", String::from_utf8_lossy(&out.stderr));
    let (m, w) = (results(&merged), results(&whole));
    let (ms, ws) = (&m["steps"][0], &w["steps"][0]);
    // The same schedule: 1,800 requests, all sent.
    assert_eq!(ms["scheduled"], ws["scheduled"]);
    assert_eq!(ms["requests"], ws["requests"]);
    assert_eq!(ms["requests"], 1800);
    // The merged p99 is that of the union of the shards' samples.
    let mut all = Histogram::<u64>::new(3).unwrap();
    let mut counted = 0;
    for d in &dirs {
        let s = results(Path::new(d));
        all.add(decode(s["steps"][0]["histograms"]["latency"].as_str().unwrap()).unwrap()).unwrap();
        counted += s["steps"][0]["requests"].as_u64().unwrap();
    }
    assert_eq!(counted, 1800);
    assert_eq!(ms["latency_us"]["p99"].as_u64().unwrap(), all.value_at_quantile(0.99));
    assert_eq!(ms["latency_us"]["count"].as_u64().unwrap(), all.len());
    // Delivered, unless a shard fell behind on a busy machine; then the merge names it.
    if out.status.success() {
        assert_eq!(ms["delivery"]["kind"], "delivered");
        let rate = ms["achieved_rps"].as_f64().unwrap();
        assert!((rate / 600.0 - 1.0).abs() < 0.05, "merged achieved {rate}");
    } else {
        assert!(ms["invalid_reason"].as_str().unwrap().starts_with("shard "), "{}", ms["invalid_reason"]);
    }
    let spread = m["merged"]["start_spread_ms"].as_f64().unwrap();
    assert!(spread < 50.0, "the shards started {spread} ms apart");
    eprintln!("start spread across 4 shard processes: {spread:.3} ms; max skew {} ms", m["merged"]["max_skew_ms"]);
    // A merged result reads like any other.
    headroom().args(["report", merged.join("results.json").to_str().unwrap(), "--format", "md"]).assert().success();

    // What merge refuses, naming the file and what to do.
    let refused = |args: &[&str], says: &str| {
        let out =
            headroom().arg("merge").args(args).args(["-o", tmp.path().join("no").to_str().unwrap()]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
    };
    refused(&[&dirs[0], &dirs[1], &dirs[2]], "shard 3 of 4 missing");
    refused(&[&dirs[0], &dirs[0], &dirs[1], &dirs[2]], "is shard 0/4 again");
    refused(&[&dirs[0], &dirs[1], &dirs[2], whole.to_str().unwrap()], "not a shard's results");
    // A shard of another run: its plan, target or flags differ, and so does its digest.
    let mut other = results(Path::new(&dirs[3]));
    other["shard"]["plan_digest"] = "sha256:0123".into();
    let other_dir = tmp.path().join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    std::fs::write(other_dir.join("results.json"), other.to_string()).unwrap();
    refused(&[&dirs[0], &dirs[1], &dirs[2], other_dir.to_str().unwrap()], "ran another plan, target or flags");
}

#[test]
fn shard_flags_are_checked() {
    let bad = |args: &[&str], says: &str| {
        let out = headroom()
            .args(["run", "--target", "http://127.0.0.1:9/", "--rate", "10", "--duration", "1s"])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
    };
    bad(&["--shard", "4/4", "--start-at", "+1s"], "the index runs from 0 to 3");
    bad(&["--shard", "1/4", "--start-at", "noon"], "RFC 3339");
    bad(&["--shard", "auto", "--start-at", "+1s"], "give --shard I/N");
    bad(&["--shard", "1/4"], "--start-at");
}

#[test]
fn journey_shards_merge_into_the_unsharded_run() {
    let _live = live();
    let sim = Sim::start(&["--workers", "64", "--service-time", "2ms"]);
    let tmp = tempfile::tempdir().unwrap();
    let plan = tmp.path().join("journeys.toml");
    let text = std::fs::read_to_string("loadplans/journeys.toml").unwrap();
    let profile = text.find("[profile]").map_or(text.len(), |i| i);
    std::fs::write(
        &plan,
        format!("{}[profile]\nkind = \"load\"\nrate = \"40\"\nduration = \"3s\"\n", &text[..profile]),
    )
    .unwrap();
    let outputs = run_shards(tmp.path(), &plan, &sim.url, 2);
    for (i, o) in outputs.iter().enumerate() {
        assert!(ran(o), "shard {i}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let whole = tmp.path().join("whole");
    let _ = headroom()
        .args(["run", plan.to_str().unwrap(), "--target", &sim.url, "-o", whole.to_str().unwrap()])
        .output()
        .unwrap();
    let merged = tmp.path().join("merged");
    let dirs: Vec<String> = (0..2).map(|i| tmp.path().join(format!("shard-{i}")).display().to_string()).collect();
    let out = headroom().arg("merge").args(&dirs).args(["-o", merged.to_str().unwrap()]).output().unwrap();
    assert!(ran(&out), "{}", String::from_utf8_lossy(&out.stderr));
    let (m, w) = (results(&merged), results(&whole));
    let started = |r: &serde_json::Value| -> Vec<u64> {
        r["steps"][0]["journeys"]["journeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["started"].as_u64().unwrap())
            .collect()
    };
    // 120 journeys at 3:1, each journey's arrivals split between the shards.
    assert_eq!(started(&m), started(&w));
    assert_eq!(started(&m).iter().sum::<u64>(), 120);
    let parts: Vec<Vec<u64>> = dirs.iter().map(|d| started(&results(Path::new(d)))).collect();
    assert!(parts.iter().all(|p| p.iter().sum::<u64>() == 60), "{parts:?}");
    assert_eq!(m["steps"][0]["requests"], w["steps"][0]["requests"]);
}

#[test]
fn a_shard_stopped_before_its_instant_ends_at_once() {
    let _live = live();
    let sim = Sim::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("early");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_headroom"))
        .args(["run", "--target", &sim.url, "--rate", "50", "--duration", "2s", "--shard", "0/2"])
        .args(["--start-at", "+60s", "-o", dir.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let asked = std::time::Instant::now();
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(143));
    assert!(asked.elapsed() < Duration::from_secs(5), "it waited for its instant: {:?}", asked.elapsed());
    let r = results(&dir);
    assert_eq!(r["interrupted"], true);
    assert!(r["shard"]["started_at"].is_null(), "{}", r["shard"]);
    // Merge will not take a shard that measured nothing.
    let out = headroom()
        .args(["merge", dir.to_str().unwrap(), "-o", tmp.path().join("m").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
