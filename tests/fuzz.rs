//! Fuzzing every reader of user input, as a test: history CSVs, load plans, service models, the
//! points and results readers, the JSON artefacts and the unit parsers. Each target starts from
//! a corpus of the repository's own examples and mutates them (bit flips, numbers at their
//! extremes, structural tokens, cuts, splices), deterministically from a fixed seed, so that a
//! failure reruns the same way. An input fails the run if it panics, if its peak allocation
//! passes 256 MiB, or if it takes longer than 2 s (a watchdog ends the process at 20 s).
//!
//! `HEADROOM_FUZZ_SECONDS` (default 2) is each target's budget; `.ci/run` gives more. Each target
//! prints how many inputs it ran.

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts live bytes and their peak, so that an input's memory can be judged.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// An input may use this much more memory than before it ran.
const MEMORY: usize = 256 << 20;
/// An input taking longer than this fails the target.
const SLOW: Duration = Duration::from_secs(2);
/// The watchdog ends the process when one input takes this long.
const HANG: Duration = Duration::from_secs(20);

/// One target at a time: the memory counters are process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Tokens that break parsers: numbers at their edges, structure, encodings.
const TOKENS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "1e308",
    "1e-308",
    "-1e308",
    "NaN",
    "inf",
    "-inf",
    "18446744073709551616",
    "9007199254740993",
    "99999999999999999999999999",
    "0.0000000001",
    "1e15",
    "1767571200000",
    "9999-12-31T23:59:59Z",
    "0000-00-00T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2200-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "+0000",
    "+99:99",
    "\"",
    "'",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    ",",
    ":",
    "=",
    ".",
    "\n",
    "\r\n",
    "\t",
    " ",
    "#",
    "\\",
    "${",
    "${X}",
    "}",
    "\u{0}",
    "\u{feff}",
    "é",
    "\u{202e}",
    "ms",
    "us",
    "s",
    "m",
    "h",
    "d",
    "w",
    "k",
    "M",
    "G",
    "%",
    "p99",
    "p100",
    "p0",
    "<",
    ">",
    "<=",
    ">=",
    "x",
    "+",
    "true",
    "false",
    "null",
    "[]",
    "{}",
    "\"\"",
    "1k",
    "1.5k",
    "999G",
];

/// One mutation of `input`, sometimes spliced with `other`.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(9) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = [0u8, 0xff, b'9', b'-', b'.', b'e', b'\n', b'"', b'='][rng.below(9)];
            }
            2 | 3 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, t.iter().copied());
            }
            4 if !out.is_empty() => {
                // Replace a number (a run of digits) with an extreme one.
                let i = rng.below(out.len());
                let (mut a, mut b) = (i, i);
                while a > 0 && out[a - 1].is_ascii_digit() {
                    a -= 1;
                }
                while b < out.len() && out[b].is_ascii_digit() {
                    b += 1;
                }
                let t = TOKENS[rng.below(15)].as_bytes();
                out.splice(a..b, t.iter().copied());
            }
            5 => {
                let n = rng.below(64).min(out.len().saturating_sub(at));
                out.drain(at..at + n);
            }
            6 if !out.is_empty() => {
                let i = rng.below(out.len());
                let n = rng.below(256).min(out.len() - i);
                let piece: Vec<u8> = out[i..i + n].to_vec();
                out.splice(at..at, piece);
            }
            7 if !other.is_empty() => {
                let i = rng.below(other.len());
                let n = rng.below(512).min(other.len() - i);
                out.splice(at..at, other[i..i + n].iter().copied());
            }
            _ => out.truncate(at),
        }
    }
    out
}

/// Runs `check` on mutations of `corpus` for the budget; returns the inputs run.
fn fuzz(name: &str, corpus: &[Vec<u8>], check: impl Fn(&[u8])) -> u64 {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let budget = std::env::var("HEADROOM_FUZZ_SECONDS").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(2.0);
    let deadline = Instant::now() + Duration::from_secs_f64(budget);
    let seed = 0x9E37_79B9_7F4A_7C15 ^ name.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    let mut rng = Rng(seed | 1);
    let started = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let mut runs = 0u64;
    let epoch = Instant::now();
    std::thread::scope(|s| {
        // The watchdog: one input running past HANG is a hang, and ends the process.
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let at = started.load(Ordering::Relaxed);
                if at > 0 && epoch.elapsed().as_millis() as u64 - at > HANG.as_millis() as u64 {
                    eprintln!("fuzz {name}: an input ran past {HANG:?} (seed {seed:#x}): a hang");
                    std::process::exit(101);
                }
            }
        });
        // The corpus as it is, then mutations until the budget is spent.
        let mut inputs: Box<dyn Iterator<Item = Vec<u8>>> = Box::new(corpus.iter().cloned());
        loop {
            let input = match inputs.next() {
                Some(i) => i,
                None if Instant::now() < deadline => {
                    let (a, b) = (rng.below(corpus.len()), rng.below(corpus.len()));
                    inputs = Box::new(std::iter::once(mutate(&mut rng, &corpus[a], &corpus[b])));
                    continue;
                }
                None => break,
            };
            let before = LIVE.load(Ordering::Relaxed);
            PEAK.store(before, Ordering::Relaxed);
            let t0 = Instant::now();
            started.store(epoch.elapsed().as_millis().max(1) as u64, Ordering::Relaxed);
            let outcome = catch_unwind(AssertUnwindSafe(|| check(&input)));
            started.store(0, Ordering::Relaxed);
            let took = t0.elapsed();
            let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
            let shown = String::from_utf8_lossy(&input[..input.len().min(300)]).into_owned();
            assert!(outcome.is_ok(), "fuzz {name}: a panic on input (seed {seed:#x}, run {runs}):\n{shown}");
            assert!(peak < MEMORY, "fuzz {name}: {} MiB for one input (run {runs}):\n{shown}", peak >> 20);
            assert!(took < SLOW, "fuzz {name}: {took:?} for one input (run {runs}):\n{shown}");
            runs += 1;
        }
        done.store(true, Ordering::Relaxed);
    });
    let line =
        format!("fuzz {name}: {runs} inputs in {budget} s, no panic, hang or allocation past {} MiB", MEMORY >> 20);
    eprintln!("{line}");
    // .ci/run prints these after the tests, whose own output the harness keeps to itself.
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
        use std::io::Write;
        let _ = writeln!(f, "{line}");
    }
    runs
}

fn files(paths: &[&str]) -> Vec<Vec<u8>> {
    paths.iter().map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}"))).collect()
}

fn dir(path: &str, ext: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    out.sort();
    out
}

/// The first `lines` lines of a file: a history's shape without its megabytes.
fn head(path: &str, lines: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().take(lines).map(|l| format!("{l}\n")).collect::<String>().into_bytes()
}

fn text(input: &[u8]) -> String {
    String::from_utf8_lossy(input).into_owned()
}

#[test]
fn history_csv_reader() {
    let corpus = vec![
        head("models/history/wc98_requests_1min.csv", 400),
        head("models/history/nasa_ksc_requests_1min.csv", 400),
        b"timestamp,rps\n1767571200,5\n1767571260,6\n1767571320,7\n".to_vec(),
        b"timestamp,rps,instances,cpu\n2026-01-05T00:00:00Z,5,3,0.4\n2026-01-05T01:00:00Z,6,3,0.5\n".to_vec(),
    ];
    let counted = headroom::ingest::history::Options {
        columns: headroom::ingest::history::Columns { count: Some("requests".into()), ..Default::default() },
        hourly: true,
        ..Default::default()
    };
    fuzz("history", &corpus, |input| {
        for opts in [&headroom::ingest::history::Options::default(), &counted] {
            if let Ok(h) = headroom::ingest::history::read_from(input, "h.csv", opts) {
                let _ = (h.daily(), h.monthly(), h.hourly(), h.quality.treatments());
            }
        }
    });
}

#[test]
fn load_plans() {
    fuzz("plans", &dir("loadplans", "toml"), |input| {
        let Ok(plan) = headroom::plan::parse(&text(input), "p.toml") else { return };
        let _ = headroom::load::resolve::check(&plan, "p.toml");
    });
}

#[test]
fn service_models() {
    fuzz("models", &dir("models", "toml"), |input| {
        let _ = headroom::ingest::service::parse(&text(input), "m.toml");
    });
}

#[test]
fn points_and_results_readers() {
    let mut corpus = files(&["models/specsdm91.csv"]);
    corpus.extend(files(&["tests/fixtures/report/sweep-results.json"]));
    let cols = headroom::ingest::points::Columns { concurrency: "load".into(), throughput: "throughput".into() };
    fuzz("points", &corpus, |input| {
        let t = text(input);
        if t.trim_start().starts_with('{') {
            let _ = headroom::ingest::points::from_results(&t, "r.json");
        } else {
            let _ = headroom::ingest::points::parse_csv(input, "p.csv", &cols);
        }
    });
}

#[test]
fn json_artefacts() {
    let corpus = dir("tests/fixtures/report", "json");
    fuzz("artefacts", &corpus, |input| {
        let t = text(input);
        if let Ok(any) = headroom::artefact::parse_any(&t, "a.json") {
            let _ = headroom::present::review::build(&[("a.json".into(), any)]);
        }
    });
}

#[test]
fn unit_parsers() {
    use headroom::units::{Amount, ByteSize, Fraction, Percentile, Rate, Span};
    let corpus: Vec<Vec<u8>> = [
        "1.5k",
        "2k/s",
        "300rps",
        "120ms",
        "1.5h",
        "30d",
        "99.9%",
        "0.999",
        "p99.9",
        "4MiB",
        "512KB",
        "p99 < 300ms",
        "error_rate > 50% for 10s",
        "rps >= 1k",
        "2026-01",
        "1998-06-15T12:00:00+02:00",
        "804571200.5",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    fuzz("units", &corpus, |input| {
        let t = text(input);
        let _ = t.parse::<Rate>();
        let _ = t.parse::<Span>();
        let _ = t.parse::<Fraction>();
        let _ = t.parse::<Percentile>();
        let _ = t.parse::<Amount>();
        let _ = t.parse::<ByteSize>();
        let _ = t.parse::<headroom::plan::Threshold>();
        let _ = t.parse::<headroom::plan::AbortRule>();
        let _ = t.parse::<headroom::calendar::YearMonth>();
        let _ = headroom::calendar::parse_timestamp(input);
        if let Ok(r) = t.parse::<Rate>() {
            let _ = headroom::units::sig(r.0, 4);
        }
    });
}
