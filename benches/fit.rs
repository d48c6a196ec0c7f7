//! Fitting speed: USL and Amdahl on 1,000 noisy points.
//!
//! `cargo bench --bench fit`. Compare the two figures within one run; the machines are shared.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use headroom::model::usl::Usl;
use headroom::model::usl_fit::{fit_amdahl, fit_usl, Point};

fn points(count: usize) -> Vec<Point> {
    let truth = Usl { lambda: 900.0, sigma: 0.04, kappa: 0.0002 };
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..count)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let n = 1.0 + (i % 200) as f64;
            Point { n, x: truth.throughput(n) * (1.0 + 0.02 * noise) }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let data = points(1000);
    c.bench_function("fit_usl 1000 points", |b| b.iter(|| fit_usl(black_box(&data)).unwrap()));
    c.bench_function("fit_amdahl 1000 points", |b| b.iter(|| fit_amdahl(black_box(&data)).unwrap()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
