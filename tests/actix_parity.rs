//! The same requests through the axum layer and the actix-web middleware
//! (features `actix`, `axum`, `revocation`): one core, the same answers.

#[macro_use]
#[path = "support/actix_app.rs"]
mod common;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;

use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, web};
use common::*;
use sealed_session::actix::{Session, SessionMiddleware, TokenHeader};
use sealed_session::{Codec, Key, KeyRing, MemoryRevocations};

/// How both adapters are set up for one run of the parity loop.
#[derive(Clone, Copy, Debug)]
enum Setup {
    Cookie,
    /// Cookies, with a `MemoryRevocations` store each.
    CookieWithStore,
    /// Cookies, with a store that cannot answer.
    CookieStoreDown,
    /// `Authorization: Bearer` in, `Session-Token` out.
    Header,
}

/// A client of one adapter: a cookie jar, and the token a header-transport
/// response gave it.
#[derive(Default)]
struct Client {
    jar: Jar,
    token: Option<String>,
}

impl Client {
    fn copy(&self) -> Self {
        Self {
            jar: Jar(self.jar.0.clone()),
            token: self.token.clone(),
        }
    }

    fn take(&mut self, reply: &Reply) {
        self.jar.take(reply);
        if let Some(token) = reply.header(session_token()) {
            self.token = (!token.is_empty()).then(|| token.to_owned());
        }
    }

    /// The request headers this client sends.
    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        if let Some(cookies) = self.jar.header() {
            headers.push(("cookie", cookies));
        }
        if let Some(token) = &self.token {
            headers.push(("authorization", format!("Bearer {token}")));
        }
        headers
    }
}

fn session_token() -> HeaderName {
    HeaderName::from_static("session-token")
}

/// The same requests through the axum layer and the actix-web middleware,
/// over the same key ring, with cookies (without a store, with a memory
/// store, with a store that is down) and with header transport: the same
/// statuses, bodies, cookies (names, what is deleted, attributes), token
/// headers, `Cache-Control` and `Vary`, step by step.
#[actix_web::test]
async fn both_adapters_answer_the_same_requests_alike() {
    use tower::ServiceExt as _;

    let steps = [
        ("GET", "/plain"),
        ("GET", "/"),
        ("POST", "/increment"),
        ("GET", "/"),
        ("GET", "/varied"),
        ("POST", "/own-cookie"),
        ("POST", "/grow/4000"),
        ("POST", "/grow/10"),
        ("POST", "/regenerate"),
        ("POST", "/login/alice"),
        ("GET", "/subject"),
        ("POST", "/cached"),
        ("POST", "/public"),
        ("POST", "/grow/20000"),
        ("POST", "/logout"),
        ("GET", "/"),
        ("POST", "/increment"),
        ("POST", "/login/bob"),
        ("POST", "/regenerate"),
        ("POST", "/destroy"),
        ("POST", "/destroy"),
        ("GET", "/"),
    ];
    for setup in [
        Setup::Cookie,
        Setup::CookieWithStore,
        Setup::CookieStoreDown,
        Setup::Header,
    ] {
        let ring = KeyRing::new(Key::generate());
        // One store each: a revocation by one adapter must not explain an
        // answer of the other.
        let codec = || {
            let builder = Codec::builder(ring.clone()).idle_timeout(IDLE);
            match setup {
                Setup::CookieWithStore => builder.revocations(Arc::new(MemoryRevocations::new())),
                Setup::CookieStoreDown => builder.revocations(Arc::new(Down)),
                Setup::Cookie | Setup::Header => builder,
            }
            .build()
            .expect("codec")
        };
        let (actix_middleware, axum_layer) = match setup {
            Setup::Header => (
                SessionMiddleware::<Data>::in_header(codec(), TokenHeader::bearer()),
                sealed_session::axum::SessionLayer::<Data>::in_header(
                    codec(),
                    sealed_session::axum::TokenHeader::bearer(),
                ),
            ),
            _ => (
                SessionMiddleware::<Data>::new(codec(), cookie()),
                sealed_session::axum::SessionLayer::<Data>::new(codec(), cookie()),
            ),
        };
        let actix = app!(actix_middleware);
        let axum = axum_routes().layer(axum_layer);
        let (mut actix_client, mut axum_client) = (Client::default(), Client::default());
        // Copies of the clients from before the log-out, sent again at the end.
        let mut copies = None;
        let mut sealed = 0;
        let mut copy_body = None;
        let copy_step = [("GET", "/copy")];
        for (method, uri) in steps.iter().chain(&copy_step).copied() {
            if uri == "/logout" {
                copies = Some((actix_client.copy(), axum_client.copy()));
            }
            let (actix_client, axum_client) = match (uri, &mut copies) {
                ("/copy", Some((a, b))) => (a, b),
                _ => (&mut actix_client, &mut axum_client),
            };
            let is_copy = uri == "/copy";
            let uri = if is_copy { "/" } else { uri };
            let mut request = match method {
                "GET" => TestRequest::get(),
                _ => TestRequest::post(),
            }
            .uri(uri);
            for (name, value) in actix_client.headers() {
                request = request.insert_header((name, value));
            }
            let a = into_reply(call_service(&actix, request.to_request()).await).await;
            actix_client.take(&a);

            let mut request = axum::http::Request::builder().method(method).uri(uri);
            for (name, value) in axum_client.headers() {
                request = request.header(name, value);
            }
            let response = axum
                .clone()
                .oneshot(request.body(axum::body::Body::empty()).expect("request"))
                .await
                .expect("infallible");
            let b = axum_reply(response).await;
            axum_client.take(&b);

            let shape = |r: &Reply| {
                let cookies: Vec<_> = r
                    .set_cookies()
                    .iter()
                    .map(|c| {
                        (
                            c.name().to_owned(),
                            c.value().is_empty(),
                            c.max_age(),
                            c.http_only(),
                            c.secure(),
                            c.same_site(),
                            c.path().map(str::to_owned),
                        )
                    })
                    .collect();
                (
                    r.status.as_u16(),
                    r.body.clone(),
                    cookies,
                    r.header(session_token()).map(str::is_empty),
                    r.header(header::CACHE_CONTROL).map(str::to_owned),
                    r.vary()
                        .into_iter()
                        .map(str::to_ascii_lowercase)
                        .collect::<Vec<_>>(),
                )
            };
            assert_eq!(shape(&a), shape(&b), "{setup:?}: {method} {uri}");
            assert_eq!(
                actix_client.jar.0.keys().collect::<Vec<_>>(),
                axum_client.jar.0.keys().collect::<Vec<_>>(),
                "{setup:?}: {method} {uri}"
            );
            assert_eq!(
                actix_client.token.is_some(),
                axum_client.token.is_some(),
                "{setup:?}: {method} {uri}"
            );
            let sets_session = a
                .set_cookies()
                .iter()
                .any(|c| c.name() == "sid" && !c.value().is_empty())
                || a.header(session_token()).is_some_and(|t| !t.is_empty());
            sealed += usize::from(sets_session);
            if is_copy {
                copy_body = Some(a.body.clone());
            }
        }
        // A store that is down refuses every session that comes back, so
        // only new ones are sealed.
        let least = if matches!(setup, Setup::CookieStoreDown) {
            2
        } else {
            5
        };
        assert!(
            sealed >= least,
            "{setup:?}: only {sealed} responses set a session"
        );
        // The copy from before the log-out: refused where a store revoked it,
        // unchecked where the store is down, still open without a store.
        let expected = match setup {
            Setup::CookieWithStore => "none",
            Setup::CookieStoreDown => "unavailable",
            Setup::Cookie | Setup::Header => "4",
        };
        assert_eq!(copy_body.as_deref(), Some(expected), "{setup:?}");
    }
}

fn axum_routes() -> axum::Router {
    use axum::extract::Path;
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/", get(|s: Session<Data>| read(s)))
        .route("/plain", get(plain))
        .route("/subject", get(|s: Session<Data>| subject(s)))
        .route("/increment", post(|s: Session<Data>| increment(s)))
        .route("/regenerate", post(|s: Session<Data>| regenerate(s)))
        .route("/destroy", post(|s: Session<Data>| destroy(s)))
        .route(
            "/logout",
            post(|s: Session<Data>| async move {
                match s.log_out().await {
                    Ok(()) => (axum::http::StatusCode::OK, "logged out"),
                    Err(_) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, ""),
                }
            }),
        )
        .route(
            "/own-cookie",
            post(|s: Session<Data>| async move {
                s.update_or_insert_with(Data::default, |d| d.n += 1);
                (
                    [
                        ("set-cookie", "theme=dark; Path=/"),
                        ("cache-control", "private"),
                    ],
                    "own cookie",
                )
            }),
        )
        .route(
            "/varied",
            get(|s: Session<Data>| async move {
                let n = s.with(|d| d.map_or(0, |d| d.n));
                ([("vary", "Accept-Encoding")], n.to_string())
            }),
        )
        .route(
            "/grow/{bytes}",
            post(|s: Session<Data>, Path(bytes): Path<usize>| async move {
                grow(s, web::Path::from(bytes)).await
            }),
        )
        .route(
            "/login/{user}",
            post(|s: Session<Data>, Path(user): Path<String>| async move {
                match s.set_subject(Some(user)) {
                    Ok(()) => (axum::http::StatusCode::OK, "logged in"),
                    Err(_) => (axum::http::StatusCode::BAD_REQUEST, "bad subject"),
                }
            }),
        )
        .route(
            "/cached",
            post(|s: Session<Data>| async move {
                s.update_or_insert_with(Data::default, |d| d.n += 1);
                ([("cache-control", "private, max-age=60")], "cached")
            }),
        )
        .route(
            "/public",
            post(|s: Session<Data>| async move {
                s.update_or_insert_with(Data::default, |d| d.n += 1);
                ([("cache-control", "public, max-age=3600")], "public")
            }),
        )
}

async fn axum_reply(response: axum::http::Response<axum::body::Body>) -> Reply {
    use http_body_util::BodyExt as _;
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        headers.append(
            HeaderName::from_bytes(name.as_str().as_bytes()).expect("name"),
            HeaderValue::from_bytes(value.as_bytes()).expect("value"),
        );
    }
    Reply {
        status: StatusCode::from_u16(parts.status.as_u16()).expect("status"),
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

/// A session the axum layer sealed opens under the actix-web middleware and
/// back: one format, one set of rules (a cluster may run both).
#[actix_web::test]
async fn a_session_moves_between_the_adapters() {
    use tower::ServiceExt as _;

    let codec = new_codec();
    let actix = app!(SessionMiddleware::<Data>::new(codec.clone(), cookie()));
    let axum = axum_routes().layer(sealed_session::axum::SessionLayer::<Data>::new(
        codec.clone(),
        cookie(),
    ));
    let mut jar = Jar::default();
    let to_axum = |jar: &Jar, method: &str, uri: &str| {
        let mut request = axum::http::Request::builder().method(method).uri(uri);
        if let Some(cookies) = jar.header() {
            request = request.header("cookie", cookies);
        }
        let axum = axum.clone();
        let request = request.body(axum::body::Body::empty()).expect("request");
        async move { axum_reply(axum.oneshot(request).await.expect("infallible")).await }
    };
    let reply = to_axum(&jar, "POST", "/increment").await;
    jar.take(&reply);
    let id = jar.opened(&codec).claims().session_id();
    assert_eq!(send(&actix, &mut jar, "POST", "/increment").await.body, "2");
    assert_eq!(to_axum(&jar, "GET", "/").await.body, "2");
    assert_eq!(
        jar.opened(&codec).claims().session_id(),
        id,
        "the same session"
    );
}
