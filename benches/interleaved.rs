//! The speed-ups of `benches/codec.rs`, measured a second way that a noisy,
//! shared machine biases much less.
//!
//! Criterion measures one function after another, so a neighbour that slows
//! the VM down for a few seconds lands on one side of a comparison only (on
//! the project's VM, single medians move by up to ±20 % from run to run).
//! Here the two sides take turns, batch by batch, in alternating order, and
//! each round yields one ratio; the median of those ratios is the figure.
//!
//! `cargo bench --bench interleaved`

#[path = "../tests/common/mod.rs"]
mod common;
mod contenders;

use std::hint::black_box;
use std::time::Instant;

use sealed_session::SessionCookie;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Rounds per comparison: odd, so that the median is one round's ratio.
const ROUNDS: usize = 41;

/// How much to run: a measurement under `cargo bench`, or once through
/// every path as a smoke test under `cargo test --benches` (no `--bench`).
#[derive(Clone, Copy)]
struct Plan {
    rounds: usize,
    scale: u32,
}

/// Nanoseconds per call of `op`, over `batch` calls.
fn per_call(batch: u32, op: &mut dyn FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..batch {
        op();
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(batch)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Medians of one race: each side's time per call, and the per-round
/// ratios (peer / ours) with the middle half of them.
struct Outcome {
    ours_ns: f64,
    peer_ns: f64,
    ratio: f64,
    low: f64,
    high: f64,
}

/// Runs both sides in turns and prints one table row: the median time of
/// each, the median of the per-round ratios (peer / ours), and its spread.
fn race(plan: Plan, what: &str, batch: u32, ours: &mut dyn FnMut(), peer: &mut dyn FnMut()) {
    let Outcome {
        ours_ns,
        peer_ns,
        ratio,
        low,
        high,
    } = take_turns(plan, batch, ours, peer);
    println!(
        "| {what} | {ours_ns:.0} ns | {peer_ns:.0} ns | **{ratio:.2}×** | {low:.2}–{high:.2}× |"
    );
}

fn take_turns(plan: Plan, batch: u32, ours: &mut dyn FnMut(), peer: &mut dyn FnMut()) -> Outcome {
    let batch = (batch / plan.scale).max(1);
    // Warm caches, branch predictors and the allocator on both sides.
    per_call(batch, ours);
    per_call(batch, peer);
    let (mut ours_ns, mut peer_ns, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..plan.rounds {
        let (a, b) = if round % 2 == 0 {
            let a = per_call(batch, ours);
            (a, per_call(batch, peer))
        } else {
            let b = per_call(batch, peer);
            (per_call(batch, ours), b)
        };
        ours_ns.push(a);
        peer_ns.push(b);
        ratios.push(b / a);
    }
    let (ours_ns, peer_ns) = (median(&mut ours_ns), median(&mut peer_ns));
    let ratio = median(&mut ratios);
    let (low, high) = (
        ratios[plan.rounds / 4],
        ratios[plan.rounds - 1 - plan.rounds / 4],
    );
    Outcome {
        ours_ns,
        peer_ns,
        ratio,
        low,
        high,
    }
}

/// What the cookie headers add to a seal and to an open: the codec alone
/// and through a `SessionCookie`, in turns.
fn cookie_overhead<T>(plan: Plan, name: &str, value: &T, cookie: &SessionCookie, batch: u32)
where
    T: Serialize + DeserializeOwned,
{
    let codec = contenders::prepare_codec();
    let none = cookie.read([]);
    let set = cookie.seal(&codec, value, &none).expect("fits");
    let header = set
        .headers()
        .iter()
        .map(|h| h.split(';').next().expect("pair"))
        .collect::<Vec<_>>()
        .join("; ");
    let header = format!("theme=dark; lang=en; {header}");
    let token = cookie
        .read([header.as_str()])
        .token()
        .expect("joins")
        .expect("present")
        .into_owned();
    let cookies = set.len();
    let row = |what: &str, with: &mut dyn FnMut(), alone: &mut dyn FnMut()| {
        let o = take_turns(plan, batch, with, alone);
        println!(
            "| {what}, {name} ({cookies} cookie{}) | {:.0} ns | {:.0} ns | {:+.0} ns | {:.2}–{:.2}× |",
            if cookies == 1 { "" } else { "s" },
            o.peer_ns,
            o.ours_ns,
            o.ours_ns - o.peer_ns,
            1.0 / o.high,
            1.0 / o.low,
        );
    };
    row(
        "seal → Set-Cookie",
        &mut || {
            drop(black_box(
                cookie.seal(&codec, black_box(value), &none).expect("seals"),
            ))
        },
        &mut || drop(black_box(codec.seal(black_box(value)).expect("seals"))),
    );
    row(
        "Cookie header → open",
        &mut || {
            let request = cookie.read([black_box(header.as_str())]);
            drop(black_box(
                cookie.open::<T>(&codec, &request).expect("opens"),
            ));
        },
        &mut || {
            drop(black_box(
                codec.open::<T>(black_box(&token)).expect("opens"),
            ))
        },
    );
}

fn compare<T>(plan: Plan, name: &str, value: &T, batch: u32)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let contenders::Prepared {
        codec,
        jar_key,
        token,
        peer_token,
    } = contenders::prepare(value);

    race(
        plan,
        &format!("seal, {name}"),
        batch,
        &mut || drop(black_box(codec.seal(black_box(value)).expect("seals"))),
        &mut || drop(black_box(contenders::peer_seal(&jar_key, black_box(value)))),
    );
    race(
        plan,
        &format!("open, {name}"),
        batch,
        &mut || {
            drop(black_box(
                codec.open::<T>(black_box(&token)).expect("opens"),
            ))
        },
        &mut || {
            drop(black_box(contenders::peer_open::<T>(
                &jar_key,
                black_box(&peer_token),
            )));
        },
    );
}

fn main() {
    let plan = if std::env::args().any(|a| a == "--bench") {
        Plan {
            rounds: ROUNDS,
            scale: 1,
        }
    } else {
        println!("interleaved: smoke test, each path run twice; not a measurement");
        Plan {
            rounds: 1,
            scale: u32::MAX,
        }
    };
    println!(
        "| operation | sealed-session | PrivateJar + json | median ratio | middle half of rounds |"
    );
    println!("|---|---:|---:|---:|---:|");
    compare(plan, "typical", &common::typical(), 20_000);
    compare(plan, "large", &common::large(), 2_000);

    println!();
    println!(
        "| cookie headers | codec alone | through `SessionCookie` | added | ratio, middle half |"
    );
    println!("|---|---:|---:|---:|---:|");
    let one = SessionCookie::builder("__Host-session")
        .build()
        .expect("cookie");
    let chunked = SessionCookie::builder("__Host-session")
        .chunked(4)
        .build()
        .expect("cookie");
    let mut larger = common::large();
    larger.history.extend(larger.history.clone());
    cookie_overhead(plan, "typical", &common::typical(), &one, 20_000);
    cookie_overhead(plan, "large", &common::large(), &one, 2_000);
    cookie_overhead(plan, "4.5 KB", &larger, &chunked, 2_000);
}
