//! History ingest: MB/s and peak memory on generated per-minute CSVs of 1M and 10M rows.
//!
//! `cargo bench --bench ingest`. Each size runs in a child process so that its peak resident
//! memory (VmHWM) is its own; both sizes run side by side in one invocation, so compare them
//! with each other rather than with figures from another day. Files are made once under
//! target/bench-data/.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use headroom::ingest::history::{self, Options};

fn generate(path: &Path, rows: u64) {
    if fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        return;
    }
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.with_extension("tmp");
    let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp).unwrap());
    writeln!(w, "timestamp,rps,requests").unwrap();
    let start = headroom::calendar::days_from_civil(2000, 1, 1);
    for i in 0..rows {
        let minute = i as i64;
        let day = start + minute / 1440;
        let (y, m, d) = headroom::calendar::civil_from_days(day);
        let (hh, mm) = ((minute % 1440) / 60, minute % 60);
        // A daily wave with slow growth and a little pseudo-random noise.
        let wave = 1.0 + 0.5 * ((minute % 1440) as f64 / 1440.0 * std::f64::consts::TAU).sin();
        let noise = ((i.wrapping_mul(2_654_435_761) % 1000) as f64) / 1000.0;
        let count = (600.0 * wave * (1.0 + i as f64 / rows as f64) + 60.0 * noise).round() as u64;
        writeln!(w, "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:00Z,{:.6},{count}", count as f64 / 60.0).unwrap();
    }
    w.flush().unwrap();
    fs::rename(tmp, path).unwrap();
}

fn peak_rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn child(path: &str) {
    let bytes = fs::metadata(path).unwrap().len();
    let t = Instant::now();
    let h = history::read(Path::new(path), &Options::default()).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!("{} {} {:.6} {}", h.rows, bytes, secs, peak_rss_kib());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        return child(&args[i + 1]);
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    println!("history ingest (one core, release build):");
    println!("{:>12} {:>10} {:>10} {:>10} {:>14}", "rows", "MB", "seconds", "MB/s", "peak RSS MiB");
    let mut results = Vec::new();
    for rows in [1_000_000u64, 10_000_000] {
        let path = dir.join(format!("minutes-{rows}.csv"));
        generate(&path, rows);
        let out = Command::new(&args[0]).args(["--child", path.to_str().unwrap()]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<f64> = text.split_whitespace().filter_map(|v| v.parse().ok()).collect();
        let (n, bytes, secs, rss) = (f[0], f[1], f[2], f[3]);
        let mb = bytes / 1e6;
        println!("{:>12} {:>10.1} {:>10.3} {:>10.1} {:>14.1}", n, mb, secs, mb / secs, rss / 1024.0);
        results.push((mb / secs, rss));
    }
    println!(
        "10M vs 1M rows: throughput ratio {:.2}, peak memory ratio {:.2}",
        results[1].0 / results[0].0,
        results[1].1 / results[0].1
    );
}
