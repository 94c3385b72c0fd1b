//! In process: each request through the framework's in-process entry
//! (axum: `oneshot`; actix-web: `test::call_service`), contenders in turns.

use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tokio::runtime::Runtime;
use tower::ServiceExt as _;

use crate::{Case, Plan, Row, interleaved, median};

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

/// The axum table: `floor` names the first contender, which the others
/// are measured over.
pub(crate) fn run(runtime: &Runtime, cases: &[Case], plan: Plan, floor: &str) {
    let rows: Vec<Row> = cases.iter().map(Case::row).collect();
    report(&rows, plan, "`oneshot`", floor, |i, batch| {
        per_request(runtime, &cases[i], batch)
    });
}

/// Measures `rows` (a read and a modify row per contender, the floor's
/// first) in interleaved rounds, and prints the table. `per_request(i,
/// batch)` sends `batch` requests of row `i` and returns nanoseconds per
/// request.
pub(crate) fn report(
    rows: &[Row],
    plan: Plan,
    entry: &str,
    floor: &str,
    mut per_request: impl FnMut(usize, u32) -> f64,
) {
    // Requests in one turn of `plan.turn` for each row, from a first estimate.
    let batches: Vec<u32> = (0..rows.len())
        .map(|i| {
            per_request(i, 50); // warm up
            let ns = per_request(i, 200);
            ((plan.turn.as_secs_f64() * 1e9 / ns) as u32).max(1)
        })
        .collect();
    let times = interleaved(rows.len(), plan.rounds, |i| per_request(i, batches[i]));
    let n = rows.len();
    // Over the floor of the same kind (read or modify), same round.
    let mut excess: Vec<Vec<f64>> = rows
        .iter()
        .zip(&times)
        .map(|(row, own)| {
            let floor = &times[usize::from(row.modifies)];
            own.iter().zip(floor).map(|(t, f)| t - f).collect()
        })
        .collect();
    let mut times = times;
    println!();
    println!(
        "In process ({entry}, one thread), median of {} interleaved rounds:",
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
            rows[read].contender,
            us(median(&mut times[read])),
            over(median(&mut excess[read])),
            us(median(&mut times[modify])),
            over(median(&mut excess[modify])),
        );
    }
}
