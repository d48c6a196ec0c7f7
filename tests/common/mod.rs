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
