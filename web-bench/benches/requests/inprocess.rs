//! In process: each request through `oneshot`, contenders in turns.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tokio::runtime::Runtime;
use tower::ServiceExt as _;

use crate::{Case, Plan, median};

async fn one(case: &Case) {
    let request = Request::builder()
        .method(case.method())
        .uri(case.path())
        .header(header::COOKIE, case.cookie.clone())
        .body(Body::empty())
        .expect("request");
    let response = case
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK, "{}", case.contender);
    std::hint::black_box(response);
}

/// Nanoseconds per request over `batch` requests.
fn per_request(runtime: &Runtime, case: &Case, batch: u32) -> f64 {
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..batch {
            one(case).await;
        }
        start.elapsed().as_secs_f64() * 1e9 / f64::from(batch)
    })
}

/// Requests in one turn of `turn` for this case, from a first estimate.
fn batch_for(runtime: &Runtime, case: &Case, turn: Duration) -> u32 {
    per_request(runtime, case, 50); // warm up
    let ns = per_request(runtime, case, 200);
    ((turn.as_secs_f64() * 1e9 / ns) as u32).max(1)
}

/// `floor` names the first contender, which the others are measured over.
pub(crate) fn run(runtime: &Runtime, cases: &[Case], plan: Plan, floor: &str) {
    let batches: Vec<u32> = cases
        .iter()
        .map(|c| batch_for(runtime, c, plan.turn))
        .collect();
    let n = cases.len();
    let mut times = vec![Vec::new(); n];
    // Excess over the floor of the same kind (read or modify), same round.
    let mut excess = vec![Vec::new(); n];
    for round in 0..plan.rounds {
        let mut this_round = vec![0.0; n];
        for k in 0..n {
            // A rotating order, reversed every other round.
            let i = if round % 2 == 0 {
                (k + round) % n
            } else {
                (n - 1 - k + round) % n
            };
            this_round[i] = per_request(runtime, &cases[i], batches[i]);
        }
        for i in 0..n {
            times[i].push(this_round[i]);
            let floor = this_round[usize::from(cases[i].modifies)];
            excess[i].push(this_round[i] - floor);
        }
    }
    println!();
    println!(
        "In process (`oneshot`, one thread), median of {} interleaved rounds:",
        plan.rounds
    );
    println!();
    println!("| contender | read-only request | over {floor} | modifying request | over {floor} |");
    println!("|---|---|---|---|---|");
    for pair in (0..n).step_by(2) {
        let (read, modify) = (pair, pair + 1);
        let us = |ns: f64| format!("{:.2} µs", ns / 1000.0);
        let over = |ns: f64| {
            if pair == 0 {
                "—".to_owned()
            } else {
                format!("+{:.2} µs", ns / 1000.0)
            }
        };
        println!(
            "| {} | {} | {} | {} | {} |",
            cases[read].contender,
            us(median(&mut times[read])),
            over(median(&mut excess[read])),
            us(median(&mut times[modify])),
            over(median(&mut excess[modify])),
        );
    }
}
