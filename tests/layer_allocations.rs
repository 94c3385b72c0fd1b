//! Heap allocations per request through the axum layer, against the same
//! routes without it. The payload here needs none (no `String`, no `Vec`),
//! so what is counted is the layer's own: a guard at today's figures, +6 on
//! a read-only request and +12 on a modifying one (BENCHMARKS.md lists
//! each). The goal is +1 and +5: the session's shared state (`Arc`), its
//! box in the request's extensions (and their map), and the response's
//! header map for `Vary` are most of the read-only six.

use allocation_counter::measure;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::{get, post};
use sealed_session::axum::{Session, SessionLayer};
use sealed_session::{Codec, Key, KeyRing, SessionCookie};
use serde::{Deserialize, Serialize};
use tower::ServiceExt as _;

/// A session whose deserialization allocates nothing.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
struct Flat {
    user_id: u64,
    created: i64,
    admin: bool,
    theme: [u8; 4],
}

const FLAT: Flat = Flat {
    user_id: 123_456_789,
    created: 1_700_000_000,
    admin: true,
    theme: *b"dark",
};

fn routes() -> Router {
    async fn setup(session: Session<Flat>) -> StatusCode {
        session.insert(FLAT);
        StatusCode::OK
    }
    async fn read(session: Session<Flat>) -> StatusCode {
        session.with(|f| match f {
            Some(f) if f.user_id == FLAT.user_id => StatusCode::OK,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        })
    }
    async fn modify(session: Session<Flat>) -> StatusCode {
        match session.update(|f| f.created += 1) {
            Some(()) => StatusCode::OK,
            None => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    Router::new()
        .route("/setup", post(setup))
        .route("/read", get(read))
        .route("/modify", post(modify))
}

/// The same routes' shape without a session: the floor.
fn floor() -> Router {
    async fn ok() -> StatusCode {
        StatusCode::OK
    }
    Router::new()
        .route("/read", get(ok))
        .route("/modify", post(ok))
}

fn request(method: &str, path: &str, cookie: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request")
}

/// Allocations of one request (the request itself built outside), after
/// three warm-up requests.
fn count(
    runtime: &tokio::runtime::Runtime,
    app: &Router,
    method: &str,
    path: &str,
    cookie: &str,
) -> u64 {
    for _ in 0..3 {
        let response = runtime.block_on(app.clone().oneshot(request(method, path, cookie)));
        assert_eq!(
            response.expect("infallible").status(),
            StatusCode::OK,
            "{path}"
        );
    }
    let request = request(method, path, cookie);
    let app = app.clone();
    let mut status = StatusCode::IM_A_TEAPOT;
    let info = measure(|| {
        let response = runtime.block_on(app.oneshot(request)).expect("infallible");
        status = response.status();
        drop(response);
    });
    assert_eq!(status, StatusCode::OK, "{path}");
    info.count_total
}

#[test]
fn the_layer_allocates_at_most_six_more_on_a_read_and_twelve_on_a_change() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let cookie = SessionCookie::builder("__Host-session")
        .build()
        .expect("cookie");
    let app = routes().layer(SessionLayer::<Flat>::new(codec, cookie));
    let set = runtime
        .block_on(app.clone().oneshot(request("POST", "/setup", "")))
        .expect("infallible");
    let pair = set.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    // The cookies a browser sends beside the session.
    let cookies = format!("theme=dark; {pair}; lang=en");

    let floor_app = floor();
    let floor_read = count(&runtime, &floor_app, "GET", "/read", &cookies);
    let floor_modify = count(&runtime, &floor_app, "POST", "/modify", &cookies);
    let read = count(&runtime, &app, "GET", "/read", &cookies);
    let modify = count(&runtime, &app, "POST", "/modify", &cookies);
    println!(
        "allocations per request: floor {floor_read} / {floor_modify}, \
         read-only {read} (+{}), modifying {modify} (+{})",
        read - floor_read,
        modify - floor_modify
    );
    assert!(
        read <= floor_read + 6,
        "read-only: {read} against a floor of {floor_read}"
    );
    assert!(
        modify <= floor_modify + 12,
        "modifying: {modify} against a floor of {floor_modify}"
    );
}
