//! Over loopback HTTP: a server per contender (`axum::serve`, or actix-web's
//! `HttpServer`), and concurrent keep-alive clients (hyper's HTTP/1
//! connections) taking turns.

use std::net::SocketAddr;
use std::time::Instant;

use axum::http::{Request, StatusCode, header};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

use crate::{Case, Plan, Row, median, order};

type Sender = SendRequest<Empty<Bytes>>;

/// A row served over HTTP: where, and the client's cookies.
pub(crate) struct Target {
    pub(crate) row: Row,
    pub(crate) address: SocketAddr,
    pub(crate) cookie: axum::http::HeaderValue,
}

/// Serves every axum case (one server per case).
pub(crate) async fn serve_axum(cases: &[Case]) -> Vec<Target> {
    let mut targets = Vec::with_capacity(cases.len());
    for case in cases {
        targets.push(Target {
            row: case.row(),
            address: serve(case).await,
            cookie: case.cookie.clone(),
        });
    }
    targets
}

async fn serve(case: &Case) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let address = listener.local_addr().expect("address");
    let router = case.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

async fn connect(address: SocketAddr) -> Sender {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

/// Sends requests on one connection until `deadline`; returns it with the
/// count of answered requests.
async fn drive(
    mut sender: Sender,
    case: (
        axum::http::Method,
        &'static str,
        axum::http::HeaderValue,
        &'static str,
    ),
    deadline: Instant,
) -> (Sender, u64) {
    let (method, path, cookie, contender) = case;
    let mut answered = 0;
    while Instant::now() < deadline {
        sender.ready().await.expect("connection ready");
        let request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::HOST, "127.0.0.1")
            .header(header::COOKIE, cookie.clone())
            .body(Empty::new())
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK, "{contender}");
        response.into_body().collect().await.expect("body");
        answered += 1;
    }
    (sender, answered)
}

/// Measures `targets` (a read and a modify row per contender, the floor's
/// first) in interleaved rounds, and prints the table; `floor` names it.
pub(crate) async fn run(targets: &[Target], plan: Plan, floor: &str) {
    let n = targets.len();
    let mut senders = Vec::with_capacity(n);
    for target in targets {
        let mut these = Vec::with_capacity(plan.connections);
        for _ in 0..plan.connections {
            these.push(connect(target.address).await);
        }
        senders.push(these);
    }
    let mut rates = vec![Vec::new(); n];
    let mut ratios = vec![Vec::new(); n];
    // A first round to warm up, not counted.
    for round in 0..=plan.rounds {
        let mut this_round = vec![0.0; n];
        for i in order(n, round) {
            let target = &targets[i];
            let start = Instant::now();
            let deadline = start + plan.window;
            let tasks: Vec<_> = senders[i]
                .drain(..)
                .map(|sender| {
                    let what = (
                        target.row.method(),
                        target.row.path(),
                        target.cookie.clone(),
                        target.row.contender,
                    );
                    tokio::spawn(drive(sender, what, deadline))
                })
                .collect();
            let mut answered = 0;
            for task in tasks {
                let (sender, count) = task.await.expect("client task");
                senders[i].push(sender);
                answered += count;
            }
            this_round[i] = answered as f64 / start.elapsed().as_secs_f64();
        }
        if round == 0 {
            continue;
        }
        for i in 0..n {
            rates[i].push(this_round[i]);
            let floor = this_round[usize::from(targets[i].row.modifies)];
            ratios[i].push(this_round[i] / floor);
        }
    }
    println!();
    println!(
        "Over loopback HTTP/1.1 ({} keep-alive connections per contender, clients and server \
         in one process), median of {} interleaved rounds of {} ms:",
        plan.connections,
        plan.rounds,
        plan.window.as_millis()
    );
    println!();
    println!(
        "| contender | read-only requests/s | of {floor} | modifying requests/s | of {floor} |"
    );
    println!("|---|---|---|---|---|");
    for pair in (0..n).step_by(2) {
        let (read, modify) = (pair, pair + 1);
        println!(
            "| {} | {:.0} | {:.0} % | {:.0} | {:.0} % |",
            targets[read].row.contender,
            median(&mut rates[read]),
            median(&mut ratios[read]) * 100.0,
            median(&mut rates[modify]),
            median(&mut ratios[modify]) * 100.0,
        );
    }
}
