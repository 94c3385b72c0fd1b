//! What the actix-web middleware's tests share (tests/actix.rs,
//! tests/actix_parity.rs): a session type, handlers for every operation,
//! a cookie jar that acts as a browser, and stores with and without an
//! outage. Each test target uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName};
use actix_web::test::{TestRequest, call_service, read_body};
use actix_web::{HttpResponse, web};
use sealed_session::actix::{Session, SessionMiddleware};
use sealed_session::{
    Claims, Codec, Error, Key, KeyRing, Revocations, RevokedSession, Revoking, SessionCookie,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Data {
    pub(crate) n: u64,
    pub(crate) blob: String,
}

pub(crate) const IDLE: Duration = Duration::hours(1);

pub(crate) fn codec(ring: KeyRing) -> Codec {
    Codec::builder(ring)
        .idle_timeout(IDLE)
        .build()
        .expect("codec")
}

pub(crate) fn new_codec() -> Codec {
    codec(KeyRing::new(Key::generate()))
}

pub(crate) fn cookie() -> SessionCookie {
    // Small cookies, so that a few kilobytes take three chunks.
    SessionCookie::builder("sid")
        .chunked(3)
        .cookie_limit(2048)
        .build()
        .expect("cookie")
}

pub(crate) async fn read(session: Session<Data>) -> String {
    if session.is_unavailable() {
        return "unavailable".to_owned();
    }
    session
        .with(|d| d.map(|d| d.n.to_string()))
        .unwrap_or_else(|| "none".to_owned())
}

pub(crate) async fn set(session: Session<Data>, n: web::Path<u64>) -> &'static str {
    session.insert(Data {
        n: n.into_inner(),
        blob: String::new(),
    });
    "set"
}

pub(crate) async fn increment(session: Session<Data>) -> String {
    session
        .update_or_insert_with(Data::default, |d| {
            d.n += 1;
            d.n
        })
        .to_string()
}

pub(crate) async fn grow(session: Session<Data>, bytes: web::Path<usize>) -> &'static str {
    // Random-looking text: CBOR does not shrink it, so the token grows with it.
    let blob = (0..bytes.into_inner())
        .map(|i| char::from(b'a' + ((i * 7919 + i / 3) % 26) as u8))
        .collect();
    session.update_or_insert_with(Data::default, |d| d.blob = blob);
    "grown"
}

pub(crate) async fn regenerate(session: Session<Data>) -> &'static str {
    session.regenerate();
    "regenerated"
}

pub(crate) async fn log_in(session: Session<Data>, user: web::Path<String>) -> HttpResponse {
    match session.set_subject(Some(user.into_inner())) {
        Ok(()) => HttpResponse::Ok().body("logged in"),
        Err(_) => HttpResponse::BadRequest().body("bad subject"),
    }
}

pub(crate) async fn subject(session: Session<Data>) -> String {
    session.subject().unwrap_or_default()
}

pub(crate) async fn destroy(session: Session<Data>) -> &'static str {
    session.destroy();
    "destroyed"
}

pub(crate) async fn log_out(session: Session<Data>) -> HttpResponse {
    match session.log_out().await {
        Ok(()) => HttpResponse::Ok().body("logged out"),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

pub(crate) async fn everywhere(session: Session<Data>) -> HttpResponse {
    match session.log_out_everywhere().await {
        Ok(()) => HttpResponse::Ok().body("logged out everywhere"),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

pub(crate) async fn cached(session: Session<Data>) -> HttpResponse {
    session.update_or_insert_with(Data::default, |d| d.n += 1);
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, max-age=60"))
        .body("cached")
}

pub(crate) async fn public(session: Session<Data>) -> HttpResponse {
    session.update_or_insert_with(Data::default, |d| d.n += 1);
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body("public")
}

/// Changes the session, then panics half-way through a second change
/// (caught), answering 500.
pub(crate) async fn panics(session: Session<Data>) -> HttpResponse {
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        session.update(|d| {
            d.n = 999;
            panic!("half-way through a change");
        })
    }));
    assert!(caught.is_err());
    HttpResponse::InternalServerError().finish()
}

/// Sets a cookie of its own beside the session's (and says how to cache it).
pub(crate) async fn own_cookie(session: Session<Data>) -> HttpResponse {
    session.update_or_insert_with(Data::default, |d| d.n += 1);
    HttpResponse::Ok()
        .append_header((header::SET_COOKIE, "theme=dark; Path=/"))
        .append_header((header::CACHE_CONTROL, "private"))
        .body("own cookie")
}

/// Reads the session in a response that varies on something else already.
pub(crate) async fn varied(session: Session<Data>) -> HttpResponse {
    let n = session.with(|d| d.map_or(0, |d| d.n));
    HttpResponse::Ok()
        .append_header((header::VARY, "Accept-Encoding"))
        .body(n.to_string())
}

pub(crate) async fn plain() -> &'static str {
    "no session here"
}

pub(crate) async fn no_middleware(session: Session<u8>) -> String {
    session.get().unwrap_or_default().to_string()
}

pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(read))
        .route("/set/{n}", web::post().to(set))
        .route("/increment", web::post().to(increment))
        .route("/grow/{bytes}", web::post().to(grow))
        .route("/regenerate", web::post().to(regenerate))
        .route("/login/{user}", web::post().to(log_in))
        .route("/subject", web::get().to(subject))
        .route("/destroy", web::post().to(destroy))
        .route("/logout", web::post().to(log_out))
        .route("/everywhere", web::post().to(everywhere))
        .route("/cached", web::post().to(cached))
        .route("/public", web::post().to(public))
        .route("/panics", web::post().to(panics))
        .route("/own-cookie", web::post().to(own_cookie))
        .route("/varied", web::get().to(varied))
        .route("/plain", web::get().to(plain));
}

/// What a response did about the session.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn set_cookies(&self) -> Vec<cookie::Cookie<'static>> {
        self.headers
            .get_all(header::SET_COOKIE)
            .map(|v| {
                cookie::Cookie::parse(v.to_str().expect("ascii").to_owned()).expect("a cookie")
            })
            .collect()
    }

    pub(crate) fn removed(&self) -> Vec<String> {
        let mut removed: Vec<String> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.max_age() == Some(Duration::ZERO))
            .map(|c| c.name().to_owned())
            .collect();
        removed.sort();
        removed
    }

    pub(crate) fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("ascii"))
    }

    pub(crate) fn vary(&self) -> Vec<&str> {
        self.headers
            .get_all(header::VARY)
            .map(|v| v.to_str().expect("ascii"))
            .collect()
    }
}

/// A cookie jar that acts as a browser.
#[derive(Default)]
pub(crate) struct Jar(pub(crate) BTreeMap<String, String>);

impl Jar {
    pub(crate) fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    pub(crate) fn take(&mut self, reply: &Reply) {
        // Every response that touches a session cookie forbids shared caches.
        if reply.headers.contains_key(header::SET_COOKIE) {
            assert!(
                reply.header(header::CACHE_CONTROL).is_some(),
                "no Cache-Control"
            );
        }
        for c in reply.set_cookies() {
            if c.max_age() == Some(Duration::ZERO) {
                self.0.remove(c.name());
            } else {
                self.0.insert(c.name().to_owned(), c.value().to_owned());
            }
        }
    }

    /// The token the jar holds, joined from its chunks by the library.
    pub(crate) fn token(&self) -> Option<String> {
        let header = self.header()?;
        cookie()
            .read([header.as_str()])
            .token()
            .expect("one session")
            .map(|t| t.into_owned())
    }

    pub(crate) fn opened(&self, codec: &Codec) -> sealed_session::Opened<Data> {
        codec
            .open::<Data>(&self.token().expect("a session"))
            .expect("opens")
    }
}

pub(crate) async fn into_reply<B: MessageBody>(response: ServiceResponse<B>) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let body = read_body(response).await;
    Reply {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).expect("utf-8"),
    }
}

/// Sends a request with the jar's cookies and keeps what the response sets.
pub(crate) async fn send<S, B>(app: &S, jar: &mut Jar, method: &str, uri: &str) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut request = match method {
        "GET" => TestRequest::get(),
        _ => TestRequest::post(),
    }
    .uri(uri);
    if let Some(cookies) = jar.header() {
        request = request.insert_header((header::COOKIE, cookies));
    }
    let reply = into_reply(call_service(app, request.to_request()).await).await;
    jar.take(&reply);
    reply
}

macro_rules! app {
    ($middleware:expr) => {
        init_service(App::new().wrap($middleware.clone()).configure(routes)).await
    };
}

pub(crate) fn with_store(store: Arc<dyn Revocations>) -> SessionMiddleware<Data> {
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .revocations(store)
        .build()
        .expect("codec");
    SessionMiddleware::<Data>::new(codec, cookie())
}

/// A store that cannot answer, as a shared store whose server is down.
#[derive(Debug)]
pub(crate) struct Down;

impl Revocations for Down {
    fn check(&self, _: &Claims) -> Result<(), Error> {
        Err(Error::RevocationUnavailable("the store is down".into()))
    }
    fn revoke_session(&self, _: &RevokedSession) -> Revoking {
        Box::pin(std::future::ready(Err(Error::RevocationUnavailable(
            "the store is down".into(),
        ))))
    }
    fn revoke_subject(&self, _: &str, _: OffsetDateTime, _: OffsetDateTime) -> Revoking {
        Box::pin(std::future::ready(Err(Error::RevocationUnavailable(
            "the store is down".into(),
        ))))
    }
    fn refused_through(&self, _: Option<&str>) -> Option<i64> {
        None
    }
}
