//! A run writes each step's latency as an HdrHistogram interval log beside results.json; read
//! back with HdrHistogram's own log parser, its intervals add up to the step's histogram.

use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;

mod common;
use common::{headroom, results, Sim};

#[test]
fn each_step_is_an_interval_log_that_adds_up_to_its_histogram() {
    let sim = Sim::start(&["--workers", "8", "--service-time", "5ms", "--distribution", "constant"]);
    let dir = tempfile::tempdir().unwrap();
    let out = headroom()
        .args(["run", "--target", &sim.url, "--rate", "100", "--duration", "3s", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = results(dir.path());
    let step = &v["steps"][0];
    let name = format!("step-01-{}.hlog", step["name"].as_str().unwrap().replace(' ', "-"));
    let text = std::fs::read(dir.path().join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(String::from_utf8_lossy(&text).starts_with("#headroom "), "its comments say what it holds");
    let mut total = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    let mut intervals = 0;
    let mut last_start = -1.0;
    for entry in IntervalLogIterator::new(&text) {
        let LogEntry::Interval(i) = entry.unwrap() else { continue };
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, i.encoded_histogram()).unwrap();
        let h: Histogram<u64> = Deserializer::new().deserialize(&mut bytes.as_slice()).unwrap();
        let start = i.start_timestamp().as_secs_f64();
        assert!(start > last_start && i.duration().as_secs_f64() > 0.0, "intervals in order");
        assert!(
            (i.max() - h.max() as f64 / 1000.0).abs() < 0.01 * i.max().max(1.0),
            "max in ms: {} vs {}",
            i.max(),
            h.max()
        );
        last_start = start;
        total.add(&h).unwrap();
        intervals += 1;
    }
    assert!(intervals >= 3, "{intervals} intervals");
    let p = &step["latency_us"];
    assert_eq!(total.len(), p["count"].as_u64().unwrap(), "the intervals hold every response");
    assert_eq!(total.value_at_quantile(0.99), p["p99"].as_u64().unwrap(), "and the step's p99");
}
