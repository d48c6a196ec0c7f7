//! What the integration tests share: the binary, a `serve-sim` child on a free loopback port,
//! and reading `results.json`.
#![allow(dead_code)]

pub mod fault;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command as Std, Stdio};

use assert_cmd::Command;
use serde_json::Value;

pub fn headroom() -> Command {
    Command::cargo_bin("headroom").unwrap()
}

/// A `serve-sim` child on a free loopback port, killed when dropped.
pub struct Sim {
    child: Child,
    pub url: String,
}

impl Sim {
    /// A sim of 32 workers of 2 ms for 60 s, with `extra` flags (which may replace those).
    pub fn start(extra: &[&str]) -> Sim {
        let mut args = vec!["serve-sim", "--addr", "127.0.0.1:0"];
        for (flag, default) in [("--duration", "60s"), ("--workers", "32"), ("--service-time", "2ms")] {
            if !extra.contains(&flag) {
                args.extend([flag, default]);
            }
        }
        let mut child =
            Std::new(env!("CARGO_BIN_EXE_headroom")).args(args).args(extra).stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url =
            line.split_whitespace().find(|w| w.starts_with("http://")).expect("the sim prints its URL").to_string();
        Sim { child, url }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn results(dir: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap()
}

/// How many times a measurement against a live loopback server is taken before its checks fail.
pub const ATTEMPTS: usize = 3;

/// Takes a measurement against a live loopback server and checks it, up to [`ATTEMPTS`] times,
/// until the checks pass. CI machines are shared: a neighbour's burst can stall two cores for
/// tens of milliseconds, which the generator reports as falling behind but which still moves the
/// measured figures. A systematic error fails every attempt; a passing disturbance does not.
pub fn settled<T>(what: &str, mut measure: impl FnMut() -> T) -> T {
    for attempt in 1.. {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut measure)) {
            Ok(value) => return value,
            Err(_) if attempt < ATTEMPTS => {
                eprintln!("{what}: attempt {attempt} of {ATTEMPTS} failed (above); measuring again")
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    unreachable!("the loop returns or panics by its last attempt")
}

/// Compares `actual` with the snapshot `name`, or rewrites it under HEADROOM_BLESS=1.
pub fn snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new("tests/snapshots").join(name);
    if std::env::var_os("HEADROOM_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "{} differs from the snapshot at line {}:\n  expected: {}\n  actual:   {}\n(HEADROOM_BLESS=1 rewrites it)",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end>"),
            actual.lines().nth(line).unwrap_or("<end>")
        );
    }
}
