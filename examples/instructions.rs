//! The operations whose instruction counts guard CI (`.ci/instructions`
//! runs this under `valgrind --tool=callgrind`): `instructions OP N` does the
//! setup of `OP`, then `OP` `N` times. The count of one operation is the
//! difference between a run of N and a run of 0, divided by N, so setup and
//! process start cost nothing. Instruction counts do not depend on the
//! machine's load, only on the code and the CPU features valgrind reports.
//!
//! Operations: `seal-typical`, `open-typical`, `seal-large`, `open-large`
//! (the codec, reference payloads of `tests/common/mod.rs`), and
//! `request-read`, `request-modify` (one request through the axum layer,
//! in process, with a typical session in its `Cookie` header; the app and
//! its routes are those of the request-level benchmark).
//!
//! Not budgeted, for comparison: `request-none-read` and
//! `request-none-modify` (the same requests to the same routes without a
//! session layer: the floor), `request-wrapped-read` and
//! `request-wrapped-modify` (the layer around the router rather than added
//! by `Router::layer`); `peer-seal-typical`, `peer-open-typical`,
//! `peer-seal-large`, `peer-open-large`, the `cookie` crate's `PrivateJar`
//! with the session as serde_json (the peer of `benches/interleaved.rs`).
//!
//! `cargo build --release --example instructions --features axum`

#[path = "../tests/common/mod.rs"]
mod common;
// The peer of the benchmarks, the same code (only its seal and open here).
#[allow(dead_code)]
#[path = "../benches/contenders/mod.rs"]
mod contenders;

use std::hint::black_box;

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use common::{Large, Typical, large, typical};
use sealed_session::axum::{Session, SessionLayer, SessionService};
use sealed_session::{Codec, Key, KeyRing, SessionCookie};
use tower::ServiceExt as _;

fn codec() -> Codec {
    // A fixed key: the same bytes every run.
    let bytes: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(31) ^ 7).collect();
    Codec::builder(KeyRing::new(Key::from_bytes(&bytes).expect("key")))
        .build()
        .expect("codec")
}

/// The reference session's user id, which the read handler checks (a
/// constant, so that the handler captures nothing: a handler that captures
/// state is boxed again for every request by axum's router, an allocation
/// of the app's, not the layer's).
const USER_ID: u64 = 123_456_789;

/// The routes, with their session handlers, and no layer yet.
fn routes() -> Router {
    async fn setup(session: Session<Typical>) -> StatusCode {
        session.insert(typical());
        StatusCode::OK
    }
    async fn read(session: Session<Typical>) -> StatusCode {
        session.with(|t| match t {
            Some(t) if t.user_id == USER_ID => StatusCode::OK,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        })
    }
    async fn modify(session: Session<Typical>) -> StatusCode {
        match session.update(|t| t.created += 1) {
            Some(()) => StatusCode::OK,
            None => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    assert_eq!(typical().user_id, USER_ID);
    Router::new()
        .route("/setup", post(setup))
        .route("/read", get(read))
        .route("/modify", post(modify))
}

fn layer() -> SessionLayer<Typical> {
    let cookie = SessionCookie::builder("session").build().expect("cookie");
    SessionLayer::<Typical>::new(codec(), cookie)
}

/// The layer as the README adds it, `Router::layer`, and the router made
/// ready to serve as `axum::serve` makes it (`with_state`: without it,
/// axum builds every route's service again for each request).
fn app() -> Router {
    routes().layer(layer()).with_state(())
}

/// The layer around the whole router instead: axum then neither boxes nor
/// clones the layer's service per route and request.
fn wrapped_app() -> SessionService<Router, Typical> {
    tower::Layer::layer(&layer(), routes().with_state(()))
}

/// Sends `method path` with `cookie`; the first `Set-Cookie`'s pair.
async fn send<S>(app: &S, method: &str, path: &str, cookie: Option<&str>) -> Option<String>
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible> + Clone,
{
    let mut request = Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The floor: the same routes without a session, for `request-none-read`
/// and `request-none-modify` (not budgeted: what the layer adds is a
/// request's count less this one's).
fn floor_app() -> Router {
    async fn ok() -> StatusCode {
        StatusCode::OK
    }
    async fn setup() -> (StatusCode, [(header::HeaderName, &'static str); 1]) {
        (StatusCode::OK, [(header::SET_COOKIE, "session=x")])
    }
    Router::new()
        .route("/setup", post(setup))
        .route("/read", get(ok))
        .route("/modify", post(ok))
        .with_state(())
}

/// Which app a request goes to.
#[derive(Clone, Copy)]
enum Target {
    /// [`app`]: the layer by `Router::layer`.
    Layered,
    /// [`wrapped_app`]: the layer around the router.
    Wrapped,
    /// [`floor_app`]: no session.
    Floor,
}

fn requests(path: &'static str, n: u64, target: Target) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        match target {
            Target::Layered => run(&app(), path, n).await,
            Target::Wrapped => run(&wrapped_app(), path, n).await,
            Target::Floor => run(&floor_app(), path, n).await,
        }
    });
}

/// A session set up, then `n` requests to `path` with it.
async fn run<S>(app: &S, path: &'static str, n: u64)
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible> + Clone,
{
    let session = send(app, "POST", "/setup", None).await.expect("a session");
    // The other cookies a browser sends beside the session.
    let cookies = format!("theme=dark; {session}; lang=en");
    let method = if path == "/read" { "GET" } else { "POST" };
    for _ in 0..n {
        black_box(send(app, method, path, Some(&cookies)).await);
    }
}

fn peer<T>(value: &T, seal: bool, n: u64)
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let key = cookie::Key::from(&[7u8; 64]);
    let token = contenders::peer_seal(&key, value);
    for _ in 0..n {
        if seal {
            black_box(contenders::peer_seal(&key, black_box(value)));
        } else {
            black_box(contenders::peer_open::<T>(&key, black_box(&token)));
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_default();
    let n: u64 = args
        .next()
        .and_then(|n| n.parse().ok())
        .expect("usage: instructions OP N");
    let codec = codec();
    match op.as_str() {
        "seal-typical" => {
            let value = typical();
            for _ in 0..n {
                black_box(codec.seal(black_box(&value)).expect("seals"));
            }
        }
        "open-typical" => {
            let token = codec.seal(&typical()).expect("seals");
            for _ in 0..n {
                black_box(codec.open::<Typical>(black_box(&token)).expect("opens"));
            }
        }
        "seal-large" => {
            let value = large();
            for _ in 0..n {
                black_box(codec.seal(black_box(&value)).expect("seals"));
            }
        }
        "open-large" => {
            let token = codec.seal(&large()).expect("seals");
            for _ in 0..n {
                black_box(codec.open::<Large>(black_box(&token)).expect("opens"));
            }
        }
        "peer-seal-typical" => peer(&typical(), true, n),
        "peer-open-typical" => peer(&typical(), false, n),
        "peer-seal-large" => peer(&large(), true, n),
        "peer-open-large" => peer(&large(), false, n),
        "request-read" => requests("/read", n, Target::Layered),
        "request-modify" => requests("/modify", n, Target::Layered),
        "request-wrapped-read" => requests("/read", n, Target::Wrapped),
        "request-wrapped-modify" => requests("/modify", n, Target::Wrapped),
        "request-none-read" => requests("/read", n, Target::Floor),
        "request-none-modify" => requests("/modify", n, Target::Floor),
        other => panic!("unknown operation {other:?}"),
    }
}
