//! Heap allocations per request through the axum layer, against the same
//! routes without it. The payload here needs none (no `String`, no `Vec`),
//! so what is counted is the layer's own, in the two ways an app adds it
//! (routers made ready to serve with `with_state`, as `axum::serve` does):
//!
//! - around the whole router (`SessionLayer::layer(router)`): the session's
//!   shared state (one `Arc`) and its box in the request's extensions, +2
//!   on a read-only request; a modifying one adds the `Set-Cookie` value
//!   and the response header map's growth, +4 (the token is written in a
//!   reused buffer, one cookie's value list is inline);
//! - by `Router::layer`, as the README's first example does: axum also
//!   clones the layered route's service for each request and boxes the
//!   layer's future, +2 more on each (axum's, not the session's: any tower
//!   layer added per route pays them).
//!
//! BENCHMARKS.md lists each.

use allocation_counter::measure;
use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use sealed_session::axum::{Session, SessionLayer};
use sealed_session::{Codec, Key, KeyRing, SessionCookie};
use serde::{Deserialize, Serialize};
use tower::{Layer as _, ServiceExt as _};

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
        .with_state(())
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
fn count<S>(
    runtime: &tokio::runtime::Runtime,
    app: &S,
    method: &str,
    path: &str,
    cookie: &str,
) -> u64
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible> + Clone,
{
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

/// The session layer of these tests, with a new key.
fn layer() -> SessionLayer<Flat> {
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let cookie = SessionCookie::builder("__Host-session")
        .build()
        .expect("cookie");
    SessionLayer::new(codec, cookie)
}

/// Allocations of a read-only and a modifying request through `app`, over
/// the floor's (the same routes without a session), with the cookies a
/// browser sends beside the session.
fn over_the_floor<S>(runtime: &tokio::runtime::Runtime, app: &S, how: &str) -> (u64, u64)
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible> + Clone,
{
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
    let cookies = format!("theme=dark; {pair}; lang=en");

    let floor_app = floor();
    let floor_read = count(runtime, &floor_app, "GET", "/read", &cookies);
    let floor_modify = count(runtime, &floor_app, "POST", "/modify", &cookies);
    let read = count(runtime, app, "GET", "/read", &cookies);
    let modify = count(runtime, app, "POST", "/modify", &cookies);
    println!(
        "{how}: allocations per request: floor {floor_read} / {floor_modify}, \
         read-only {read} (+{}), modifying {modify} (+{})",
        read - floor_read,
        modify - floor_modify
    );
    (read - floor_read, modify - floor_modify)
}

#[test]
fn around_the_router_the_layer_allocates_two_more_on_a_read_and_four_on_a_change() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let app = layer().layer(routes().with_state(()));
    let (read, modify) = over_the_floor(&runtime, &app, "around the router");
    assert!(read <= 2, "read-only: +{read}");
    assert!(modify <= 4, "modifying: +{modify}");
}

#[test]
fn by_router_layer_axum_adds_two_per_request() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let app = routes().layer(layer()).with_state(());
    let (read, modify) = over_the_floor(&runtime, &app, "by Router::layer");
    assert!(read <= 4, "read-only: +{read}");
    assert!(modify <= 6, "modifying: +{modify}");
}
