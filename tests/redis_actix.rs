//! `RedisRevocations` under actix-web's `HttpServer` with two workers, each
//! a single-threaded runtime of its own, against a real `redis-server`
//! started on a free loopback port: the store is built once inside the
//! `System` that runs the server (as `#[actix_web::main]` would), shared
//! by both workers' middleware; sessions logged out on either worker are
//! refused afterwards, and the revocations reach Redis (a second node,
//! outside the server, sees them).
//!
//! Without `redis-server` the test says so in one line and passes, unless
//! `CI=true`, where its absence fails it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::KeepAlive;
use actix_web::{App, HttpResponse, HttpServer, web};
use sealed_session::actix::{Session, SessionMiddleware};
use sealed_session::{
    Codec, Key, KeyRing, RedisOptions, RedisRevocations, Revocations, SessionCookie,
};

#[path = "support/redis_server.rs"]
mod redis_server;

use redis_server::RedisServer;

/// The worker thread that answered, in a response header.
fn answered(body: &'static str) -> HttpResponse {
    let worker = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_owned();
    HttpResponse::Ok()
        .insert_header(("x-worker", worker))
        .body(body)
}

async fn log_in(session: Session<u32>) -> HttpResponse {
    session.insert(1);
    session
        .set_subject(Some("alice".to_owned()))
        .expect("a valid subject");
    answered("in")
}

async fn read(session: Session<u32>) -> HttpResponse {
    answered(if session.get().is_some() {
        "some"
    } else {
        "none"
    })
}

async fn log_out(session: Session<u32>) -> HttpResponse {
    match session.log_out().await {
        Ok(()) => answered("out"),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// The server on `listener` in a thread of its own, sealing with `key` and
/// revoking in the Redis at `redis_url`.
fn serve(
    redis_url: String,
    key: Key,
    listener: std::net::TcpListener,
) -> actix_web::dev::ServerHandle {
    let (handles, handle) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            // Built inside the System that runs the server: its background
            // tasks (pub/sub, resync) run on this runtime for as long as
            // the server does.
            let store = RedisRevocations::connect(&redis_url, RedisOptions::default())
                .await
                .expect("connects");
            let codec = Codec::builder(KeyRing::new(key))
                .revocations(Arc::new(store))
                .build()
                .expect("codec");
            let cookie = SessionCookie::builder("sid").build().expect("cookie");
            let sessions = SessionMiddleware::<u32>::new(codec, cookie);
            let server = HttpServer::new(move || {
                App::new()
                    .wrap(sessions.clone())
                    .route("/login", web::post().to(log_in))
                    .route("/", web::get().to(read))
                    .route("/logout", web::post().to(log_out))
            })
            .workers(2)
            .keep_alive(KeepAlive::Os)
            .client_request_timeout(Duration::ZERO)
            .disable_signals()
            .listen(listener)
            .expect("listens")
            .run();
            handles.send(server.handle()).expect("the test waits");
            server.await
        })
    });
    handle.recv().expect("the server starts")
}

/// A response's session cookie, as a `Cookie` header.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair.starts_with("sid=") && pair.len() > "sid=".len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_logged_out_on_either_worker_are_revoked() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let key = Key::generate();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let server = serve(redis.url(), key.clone(), listener);
    // A new connection per request: actix-web hands connections to its
    // workers in turn, so both of them serve log-outs.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let codec = Codec::builder(KeyRing::new(key)).build().expect("codec");
    let observer = RedisRevocations::connect(&redis.url(), RedisOptions::default())
        .await
        .expect("connects");

    let mut workers = BTreeSet::new();
    for round in 0..8 {
        let response = client
            .post(format!("{url}/login"))
            .send()
            .await
            .expect("log-in");
        let cookie = session_cookie(&response).expect("a session");
        let response = client
            .post(format!("{url}/logout"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("log-out");
        assert_eq!(response.status(), 200, "round {round}");
        let worker = response.headers()["x-worker"]
            .to_str()
            .expect("ascii")
            .to_owned();
        workers.insert(worker);
        let response = client
            .get(format!("{url}/"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("read");
        assert_eq!(
            response.text().await.expect("body"),
            "none",
            "round {round}: the copy is refused"
        );
        // In Redis too: a node outside the server refuses it.
        let token = cookie.trim_start_matches("sid=");
        let claims = codec.open::<u32>(token).expect("opens").claims().clone();
        let start = Instant::now();
        while observer.check(&claims).is_ok() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "round {round}: the revocation did not reach Redis"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    assert_eq!(workers.len(), 2, "log-outs on both workers: {workers:?}");
    server.stop(false).await;
}
