//! Throughput of seal + open on one thread and on two threads sharing one
//! codec (clones of it): no lock on the hot path means two threads should do
//! nearly twice the work of one on a two-core machine.
//!
//! `cargo bench --bench threads`; the ratio is printed at the end.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use sealed_session::{Codec, Key, KeyRing, SealOptions};

/// Seals and opens `n` typical sessions.
fn work(codec: &Codec, n: u64) {
    let value = common::typical();
    let mut token = String::with_capacity(512);
    for _ in 0..n {
        codec
            .seal_into(black_box(&value), SealOptions::new(), &mut token)
            .expect("seals");
        black_box(codec.open::<common::Typical>(&token).expect("opens"));
    }
}

/// Time for `threads` threads to each do `iters` seal + open pairs.
fn run(codec: &Codec, threads: u64, iters: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let codec = codec.clone();
            s.spawn(move || work(&codec, iters));
        }
    });
    start.elapsed()
}

fn benches(c: &mut Criterion) {
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .idle_timeout(time::Duration::hours(2))
        .build()
        .expect("codec");
    let mut g = c.benchmark_group("throughput/typical seal+open");
    // Each iteration is one seal + open per thread: with 2 threads the time
    // per iteration stays flat if they scale, and doubles if they serialize.
    for threads in [1u64, 2] {
        g.bench_function(format!("{threads} thread(s), per op pair"), |b| {
            b.iter_custom(|iters| run(&codec, threads, iters))
        });
    }
    g.finish();

    // A direct ratio from one long run each, for BENCHMARKS.md.
    // Best of three each, after a warm-up, so that neither side pays for
    // frequency ramp-up or a neighbour's burst.
    let n = 200_000;
    run(&codec, 2, n / 4);
    let best = |threads| {
        (0..3)
            .map(|_| run(&codec, threads, n))
            .min()
            .unwrap_or_default()
    };
    let one = best(1);
    let two = best(2);
    let ratio = (2.0 * n as f64 / two.as_secs_f64()) / (n as f64 / one.as_secs_f64());
    eprintln!(
        "throughput: 1 thread {:.0} pairs/s, 2 threads {:.0} pairs/s, ratio {ratio:.2}",
        n as f64 / one.as_secs_f64(),
        2.0 * n as f64 / two.as_secs_f64()
    );
}

criterion_group!(threads, benches);
criterion_main!(threads);
