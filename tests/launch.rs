//! `headroom k8s` and `headroom slurm`: the manifest and the script pinned by golden files
//! (`HEADROOM_BLESS=1 cargo test --test launch` rewrites them), the manifest checked against the
//! fields Kubernetes needs for an Indexed Job, and a real Slurm job array (`.ci/slurm` starts a
//! single-node cluster) running four shards against serve-sim and merged.

mod common;

use std::path::Path;

use common::{headroom, results, snapshot, Sim};
use hdrhistogram::Histogram;
use headroom::artefact::results::decode;

const START: &str = "2026-12-03T15:00:00Z";

#[test]
fn the_kubernetes_manifest_is_an_indexed_job_of_the_plan() {
    let out = headroom()
        .args(["k8s", "loadplans/load.toml", "--shards", "4", "--image", "registry.internal/headroom:0.1"])
        .args(["--start-at", START, "--namespace", "load", "--target", "http://checkout.staging:8080"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    snapshot("k8s-load.json", &text);
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (config, job) = (&list["items"][0], &list["items"][1]);
    assert_eq!((config["kind"].as_str(), job["kind"].as_str()), (Some("ConfigMap"), Some("Job")));
    assert_eq!(config["data"]["plan.toml"].as_str().unwrap(), std::fs::read_to_string("loadplans/load.toml").unwrap());
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!((spec["completions"].as_u64(), spec["parallelism"].as_u64()), (Some(4), Some(4)));
    assert_eq!(spec["backoffLimit"], 0);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    let args: Vec<&str> =
        pod["containers"][0]["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(&args[..6], ["run", "/etc/headroom/plan.toml", "--shard", "auto", "--start-at", START]);
    assert!(args.windows(2).any(|w| w == ["--target", "http://checkout.staging:8080"]), "{args:?}");
    // The pod's index, as --shard auto reads it.
    let env = &pod["containers"][0]["env"];
    assert_eq!(env[0]["name"], "JOB_COMPLETION_INDEX");
    assert_eq!(env[1], serde_json::json!({ "name": "HEADROOM_SHARDS", "value": "4" }));
    assert_eq!(pod["volumes"][0]["configMap"]["name"], "headroom-load-plan");
    assert_eq!(job["metadata"]["namespace"], "load");
    // A shard reads the launcher's environment as the Job sets it.
    let o = headroom()
        .args(["run", "--target", "http://127.0.0.1:9/", "--rate", "10", "--duration", "1s", "--shard", "auto"])
        .args(["--start-at", "+0s", "-o", "-"])
        .env("JOB_COMPLETION_INDEX", "5")
        .env("HEADROOM_SHARDS", "4")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("shard 5 of 4"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn the_slurm_script_is_a_job_array_of_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let out = headroom()
        .args([
            "slurm",
            "loadplans/load.toml",
            "--shards",
            "4",
            "--out",
            runs.to_str().unwrap(),
            "--headroom",
            "headroom",
        ])
        .args(["--start-at", START, "--partition", "load", "--time", "10:00", "--cpus", "2"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // The plan's path is absolute, from wherever the repository is.
    let text = text.replace(env!("CARGO_MANIFEST_DIR"), "REPO").replace(runs.to_str().unwrap(), "/shared/runs/load");
    assert!(runs.is_dir(), "the folder the tasks log to is made");
    snapshot("slurm-load.sbatch", &text);
    assert!(text.contains("#SBATCH --array=0-3\n"), "{text}");
    assert!(
        text.contains("headroom run REPO/loadplans/load.toml --shard auto --start-at 2026-12-03T15:00:00Z"),
        "{text}"
    );
}

/// Whether a Slurm cluster answers here; under HEADROOM_REQUIRE_SLURM (CI) it must.
fn slurm() -> bool {
    let up = std::process::Command::new("sinfo").args(["-h", "-o", "%T"]).output().is_ok_and(|o| {
        o.status.success()
            && String::from_utf8_lossy(&o.stdout).lines().any(|l| l.contains("idle") || l.contains("mix"))
    });
    if !up {
        assert!(
            std::env::var_os("HEADROOM_REQUIRE_SLURM").is_none(),
            "HEADROOM_REQUIRE_SLURM is set but no Slurm cluster answers (run .ci/slurm)"
        );
        eprintln!("skipped: no Slurm cluster answers (bash .ci/slurm starts one)");
    }
    up
}

#[test]
fn a_slurm_job_array_runs_the_shards_and_they_merge() {
    if !slurm() {
        return;
    }
    let sim = Sim::start(&["--workers", "64", "--service-time", "2ms", "--duration", "120s"]);
    let tmp = tempfile::tempdir().unwrap();
    let plan = tmp.path().join("slurm.toml");
    std::fs::write(
        &plan,
        "slo = [\"p99 < 200ms\"]\n[[requests]]\nname = \"home\"\npath = \"/\"\n[profile]\nkind = \"load\"\nrate = \"120\"\nduration = \"3s\"\n",
    )
    .unwrap();
    let runs = tmp.path().join("runs");
    let out = headroom()
        .args(["slurm", plan.to_str().unwrap(), "--shards", "4", "--start-in", "6s", "--time", "5:00"])
        .args(["--target", &sim.url, "--out", runs.to_str().unwrap(), "--headroom", env!("CARGO_BIN_EXE_headroom")])
        .assert()
        .success();
    let script = tmp.path().join("shards.sbatch");
    std::fs::write(&script, &out.get_output().stdout).unwrap();
    // `--wait` returns when every task of the array has ended; `timeout` bounds it.
    let submitted = std::process::Command::new("timeout")
        .args(["120", "sbatch", "--wait", script.to_str().unwrap()])
        .output()
        .unwrap();
    let logs = || {
        (0..4)
            .map(|i| std::fs::read_to_string(runs.join(format!("shard-{i}.log"))).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(submitted.status.success(), "sbatch: {}\n{}", String::from_utf8_lossy(&submitted.stderr), logs());
    let dirs: Vec<String> = (0..4).map(|i| runs.join(format!("shard-{i}")).display().to_string()).collect();
    let merged = runs.join("merged");
    let m = headroom().arg("merge").args(&dirs).args(["-o", merged.to_str().unwrap()]).output().unwrap();
    let r = results(&merged);
    let step = &r["steps"][0];
    // Four debug-built shards and the sim on two cores may fall behind on a busy machine: the
    // merge then says which shard did (exit 3), as it should. Either way it counts every request.
    match m.status.code() {
        Some(0) => {}
        Some(3) => {
            assert!(step["invalid_reason"].as_str().unwrap().starts_with("shard "), "{}", step["invalid_reason"])
        }
        _ => panic!("merge: {}\n{}", String::from_utf8_lossy(&m.stderr), logs()),
    }
    assert_eq!(step["scheduled"], 360);
    assert_eq!(step["requests"], 360);
    let mut all = Histogram::<u64>::new(3).unwrap();
    for d in &dirs {
        let s = results(Path::new(d));
        assert_eq!(s["shard"]["count"], 4);
        all.add(decode(s["steps"][0]["histograms"]["latency"].as_str().unwrap()).unwrap()).unwrap();
    }
    assert_eq!(step["latency_us"]["p99"].as_u64().unwrap(), all.value_at_quantile(0.99));
    let indices: Vec<u64> =
        r["merged"]["shards"].as_array().unwrap().iter().map(|s| s["shard"]["index"].as_u64().unwrap()).collect();
    assert_eq!(indices, [0, 1, 2, 3]);
    eprintln!(
        "Slurm: 4 array tasks, start spread {} ms, max skew {} ms",
        r["merged"]["start_spread_ms"], r["merged"]["max_skew_ms"]
    );
}
