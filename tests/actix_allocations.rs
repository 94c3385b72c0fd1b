//! Heap allocations per request through the actix-web middleware, against
//! the same routes without it (tests/layer_allocations.rs is the axum
//! layer's). The payload here needs none (no `String`, no `Vec`), so what
//! is counted is the middleware's own: a guard at today's figures, +3 on a
//! read-only request and +5 on a modifying one (the axum layer's, around
//! the router, are +2 and +4). The read-only three: the session's shared
//! state (`Arc`), its box in the request's extensions (actix-web pools
//! their map), and the boxed response future that actix-web's middleware
//! interface asks for; a modifying request adds the `Set-Cookie` value
//! and its header (the token is written in a reused buffer).

use actix_web::dev::Service as _;
use actix_web::http::StatusCode;
use actix_web::http::header::{COOKIE, SET_COOKIE};
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, HttpResponse, web};
use allocation_counter::measure;
use sealed_session::actix::{Session, SessionMiddleware};
use sealed_session::{Codec, Key, KeyRing, SessionCookie};
use serde::{Deserialize, Serialize};

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

fn routes(config: &mut web::ServiceConfig) {
    async fn setup(session: Session<Flat>) -> HttpResponse {
        session.insert(FLAT);
        HttpResponse::Ok().finish()
    }
    async fn read(session: Session<Flat>) -> HttpResponse {
        session.with(|f| match f {
            Some(f) if f.user_id == FLAT.user_id => HttpResponse::Ok().finish(),
            _ => HttpResponse::InternalServerError().finish(),
        })
    }
    async fn modify(session: Session<Flat>) -> HttpResponse {
        match session.update(|f| f.created += 1) {
            Some(()) => HttpResponse::Ok().finish(),
            None => HttpResponse::InternalServerError().finish(),
        }
    }
    config
        .route("/setup", web::post().to(setup))
        .route("/read", web::get().to(read))
        .route("/modify", web::post().to(modify));
}

/// The same routes' shape without a session: the floor.
fn floor(config: &mut web::ServiceConfig) {
    async fn ok() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    config
        .route("/read", web::get().to(ok))
        .route("/modify", web::post().to(ok));
}

fn request(method: &str, path: &str, cookie: &str) -> actix_http::Request {
    match method {
        "GET" => TestRequest::get(),
        _ => TestRequest::post(),
    }
    .uri(path)
    .insert_header((COOKIE, cookie))
    .to_request()
}

/// Allocations of one request through `app` (the request itself built
/// outside), after three warm-up requests.
macro_rules! count {
    ($system:expr, $app:expr, $method:expr, $path:expr, $cookie:expr) => {{
        for _ in 0..3 {
            let response = $system
                .block_on($app.call(request($method, $path, $cookie)))
                .expect("a response");
            assert_eq!(response.status(), StatusCode::OK, "{}", $path);
        }
        let request = request($method, $path, $cookie);
        let mut status = StatusCode::IM_A_TEAPOT;
        let info = measure(|| {
            let response = $system.block_on($app.call(request)).expect("a response");
            status = response.status();
            drop(response);
        });
        assert_eq!(status, StatusCode::OK, "{}", $path);
        info.count_total
    }};
}

#[test]
fn the_middleware_allocates_at_most_three_more_on_a_read_and_five_on_a_change() {
    let system = actix_web::rt::System::new();
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let cookie = SessionCookie::builder("__Host-session")
        .build()
        .expect("cookie");
    let sessions = SessionMiddleware::<Flat>::new(codec, cookie);
    let app = system.block_on(init_service(App::new().wrap(sessions).configure(routes)));
    let floor_app = system.block_on(init_service(App::new().configure(floor)));
    let set = system
        .block_on(app.call(request("POST", "/setup", "")))
        .expect("a response");
    let pair = set
        .headers()
        .get(SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    // The cookies a browser sends beside the session.
    let cookies = format!("theme=dark; {pair}; lang=en");

    let floor_read = count!(system, floor_app, "GET", "/read", &cookies);
    let floor_modify = count!(system, floor_app, "POST", "/modify", &cookies);
    let read = count!(system, app, "GET", "/read", &cookies);
    let modify = count!(system, app, "POST", "/modify", &cookies);
    println!(
        "allocations per request: floor {floor_read} / {floor_modify}, \
         read-only {read} (+{}), modifying {modify} (+{})",
        read - floor_read,
        modify - floor_modify
    );
    assert!(
        read <= floor_read + 3,
        "read-only: {read} against a floor of {floor_read}"
    );
    assert!(
        modify <= floor_modify + 5,
        "modifying: {modify} against a floor of {floor_modify}"
    );
}
