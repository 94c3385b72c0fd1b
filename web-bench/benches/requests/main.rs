//! What a session costs per request, against what axum and actix-web users
//! run today. On axum: no session (the floor), sealed-session's layer,
//! `tower-sessions` with its memory store and with its Redis store (a real
//! `redis-server`), and `axum-extra`'s `PrivateCookieJar` with the session
//! as JSON. On actix-web: no session (its floor), sealed-session's
//! middleware, and `actix-session` with its cookie store and with its
//! Redis store.
//!
//! Two measurements per framework, each interleaved (every contender takes
//! its turn in every round, in a rotating order, so that a slow spell of a
//! shared machine lands on all of them), in one process:
//!
//! - in process: `tower::ServiceExt::oneshot` on the axum app,
//!   `actix_web::test::call_service` on the actix-web one, the time per
//!   request and its excess over the floor, per round, then the median;
//! - over loopback HTTP: concurrent keep-alive clients (hyper) against
//!   `axum::serve` or actix-web's `HttpServer`, requests per second and
//!   their ratio to the floor's in the same round, then the median.
//!
//! `cargo bench -p sealed-session-web-bench` (about four minutes; append
//! `-- in-process` for the in-process tables alone, or `-- revocation` for
//! what a revocation store adds to our layer). Without
//! `redis-server` on the machine the Redis rows are left out, with a line
//! that says so. Under `cargo test` (no `--bench`) every path runs once.

#![allow(unreachable_pub)]

#[path = "../../../tests/common/mod.rs"]
mod common;

mod actix;
mod apps;
mod http;
mod inprocess;
#[path = "../../../tests/support/redis_server.rs"]
mod redis_server;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, Method};
use sealed_session::Revocations;

/// One row of a table: an app, a route, and the client's cookies.
pub(crate) struct Case {
    pub(crate) contender: &'static str,
    pub(crate) modifies: bool,
    pub(crate) router: Router,
    pub(crate) cookie: HeaderValue,
}

impl Case {
    pub(crate) fn method(&self) -> Method {
        self.row().method()
    }

    pub(crate) fn path(&self) -> &'static str {
        self.row().path()
    }

    pub(crate) fn row(&self) -> Row {
        Row {
            contender: self.contender,
            modifies: self.modifies,
        }
    }
}

/// What a row of a table sends: a read-only or a modifying request.
#[derive(Clone, Copy)]
pub(crate) struct Row {
    pub(crate) contender: &'static str,
    pub(crate) modifies: bool,
}

impl Row {
    pub(crate) fn method(&self) -> Method {
        if self.modifies {
            Method::POST
        } else {
            Method::GET
        }
    }

    pub(crate) fn path(&self) -> &'static str {
        if self.modifies { "/modify" } else { "/read" }
    }
}

/// The order of the rows in a round: rotating, reversed every other round.
pub(crate) fn order(n: usize, round: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |k| {
        if round.is_multiple_of(2) {
            (k + round) % n
        } else {
            (n - 1 - k + round) % n
        }
    })
}

/// `measure(i)` for each of `n` rows in each of `rounds` rounds, in
/// [`order`]: `values[i][round]`.
pub(crate) fn interleaved(
    n: usize,
    rounds: usize,
    mut measure: impl FnMut(usize) -> f64,
) -> Vec<Vec<f64>> {
    let mut values = vec![Vec::with_capacity(rounds); n];
    for round in 0..rounds {
        let mut this_round = vec![0.0; n];
        for i in order(n, round) {
            this_round[i] = measure(i);
        }
        for (row, value) in values.iter_mut().zip(this_round) {
            row.push(value);
        }
    }
    values
}

/// How much to run: a measurement under `cargo bench`, or each path once
/// as a smoke test under `cargo test`.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) rounds: usize,
    /// In process: wall time of one contender's turn.
    pub(crate) turn: std::time::Duration,
    /// Over HTTP: length of one contender's turn, and its clients.
    pub(crate) window: std::time::Duration,
    pub(crate) connections: usize,
}

pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The contenders in the order of the tables; the floor first.
async fn cases(redis_url: Option<&str>) -> Vec<Case> {
    let mut apps = vec![apps::none(), apps::ours(), apps::tower_sessions_memory()];
    if let Some(url) = redis_url {
        apps.push(apps::tower_sessions_redis(url).await);
    }
    apps.push(apps::private_cookie_jar());
    // The floor gets our client's cookies, so that every request carries
    // about the same bytes.
    let mut cookies = Vec::new();
    for app in &apps {
        cookies.push(app.session_cookie().await);
    }
    cookies[0] = cookies[1].clone();
    read_and_modify(&apps, cookies)
}

/// Two cases per app, a read-only request and a modifying one, each with
/// the client's `Cookie` header for that app.
fn read_and_modify(apps: &[apps::App], cookies: Vec<String>) -> Vec<Case> {
    let mut cases = Vec::new();
    for (app, cookie) in apps.iter().zip(cookies) {
        for modifies in [false, true] {
            cases.push(Case {
                contender: app.name,
                modifies,
                // Made ready to serve as `axum::serve` makes it: without
                // `with_state`, axum builds every route's service again for
                // each request, a cost no server pays.
                router: app.router.clone().with_state(()),
                cookie: HeaderValue::from_str(&cookie).expect("a cookie header"),
            });
        }
    }
    cases
}

/// The harder case: our layer with a `__Host-` cookie, a logged-in session
/// checked against a revocation store of 20,000 other log-outs, and a
/// browser's whole `Cookie` header; the floor gets the same header.
async fn browser_cases() -> Vec<Case> {
    let store = Arc::new(sealed_session::MemoryRevocations::new());
    fill_revocations(store.as_ref()).await;
    let apps = vec![apps::none(), apps::ours_in_a_browser(store)];
    let ours = apps[1].session_cookie().await;
    read_and_modify(&apps, vec![ours.clone(), ours])
}

/// `ENTRIES` revoked sessions of distinct users created over the past
/// week, and a tenth as many subjects' log-outs everywhere.
async fn fill_revocations(store: &dyn Revocations) {
    use sealed_session::{RevokedSession, SessionId};
    let until = time::OffsetDateTime::now_utc() + time::Duration::days(7);
    let before = until - time::Duration::days(7);
    for i in 0..ENTRIES {
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&i.to_le_bytes());
        id[4..8].copy_from_slice(&i.wrapping_mul(0x9E37_79B9).to_le_bytes());
        let created = before + time::Duration::seconds(i64::from(i) * 30);
        let session = RevokedSession::new(
            SessionId::from_bytes(id),
            Some(&format!("user-{i}")),
            Some(created),
            until,
        );
        store.revoke_session(&session).await.expect("revokes");
        if i % 10 == 0 {
            store
                .revoke_subject(&format!("user-{i}"), before, until)
                .await
                .expect("revokes");
        }
    }
}

/// Revoked sessions in the stores of the revocation tables.
const ENTRIES: u32 = 20_000;

/// Our layer without a revocation store (the floor of this table), with
/// `MemoryRevocations`, and with `RedisRevocations` (its replica loaded),
/// each holding `ENTRIES` revoked sessions and a tenth as many subjects.
async fn revocation_cases(redis_url: Option<&str>) -> Vec<Case> {
    use sealed_session::{MemoryRevocations, RedisOptions, RedisRevocations};
    let memory = Arc::new(MemoryRevocations::new());
    fill_revocations(memory.as_ref()).await;
    let mut apps = vec![
        apps::ours_with("sealed-session, no revocation store", None),
        apps::ours_with("with MemoryRevocations (20k entries)", Some(memory)),
    ];
    if let Some(url) = redis_url {
        let options = RedisOptions::default().prefix(format!("bench-{}", std::process::id()));
        let redis = Arc::new(
            RedisRevocations::connect(url, options)
                .await
                .expect("redis"),
        );
        fill_revocations(redis.as_ref()).await;
        apps.push(apps::ours_with(
            "with RedisRevocations (20k entries, replica loaded)",
            Some(redis),
        ));
    }
    let mut cookies = Vec::new();
    for app in &apps {
        cookies.push(app.session_cookie().await);
    }
    read_and_modify(&apps, cookies)
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let plan = if measuring {
        Plan {
            rounds: 15,
            turn: std::time::Duration::from_millis(40),
            window: std::time::Duration::from_millis(400),
            connections: 16,
        }
    } else {
        Plan {
            rounds: 1,
            turn: std::time::Duration::from_millis(1),
            window: std::time::Duration::from_millis(20),
            connections: 2,
        }
    };
    // Without redis-server, one line says so and the Redis rows are left out.
    let redis = redis_server::RedisServer::start();
    let redis_url = redis.as_ref().map(redis_server::RedisServer::url);

    println!(
        "CPU: {}; {} cores",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // In process, on one thread: the cost of the session work alone.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if std::env::args().any(|a| a == "revocation") {
        let cases_here = runtime.block_on(revocation_cases(redis_url.as_deref()));
        inprocess::run(&runtime, &cases_here, plan, "no store");
        return;
    }
    let cases_here = runtime.block_on(cases(redis_url.as_deref()));
    inprocess::run(&runtime, &cases_here, plan, "no session");
    drop(cases_here);
    println!();
    println!(
        "A browser's case: a `__Host-` cookie, a logged-in session checked against \
         20,000 revocations, and a {}-byte `Cookie` header:",
        apps::BROWSER_COOKIES
            .iter()
            .map(|c| c.len() + 2)
            .sum::<usize>()
    );
    let browser = runtime.block_on(browser_cases());
    inprocess::run(&runtime, &browser, plan, "no session");
    drop(browser);
    drop(runtime);
    // actix-web in process, on its own single-threaded runtime.
    actix::in_process(plan, redis_url.as_deref());
    if std::env::args().any(|a| a == "in-process") {
        return;
    }

    // Over loopback HTTP, clients on a multi-threaded runtime; axum's
    // servers on it too, actix-web's on their own threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cases_here = runtime.block_on(cases(redis_url.as_deref()));
    let targets = runtime.block_on(http::serve_axum(&cases_here));
    runtime.block_on(http::run(&targets, plan, "no session"));
    let servers = actix::Servers::start(redis_url.as_deref());
    runtime.block_on(http::run(servers.targets(), plan, "actix-web, no session"));
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
