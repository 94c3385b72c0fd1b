//! The same requests through the axum layer and the actix-web middleware
//! (features `actix`, `axum`, `revocation`): one core, the same answers.

#[macro_use]
#[path = "support/actix_app.rs"]
mod common;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::test::init_service;
use actix_web::{App, web};
use common::*;
use sealed_session::actix::{Session, SessionMiddleware};

/// The same requests through the axum layer and the actix-web middleware,
/// over the same codec: the same statuses, bodies, cookies (names, what is
/// deleted, attributes), `Cache-Control` and `Vary`, step by step.
#[actix_web::test]
async fn both_adapters_answer_the_same_requests_alike() {
    use tower::ServiceExt as _;

    let codec = new_codec();
    let actix = app!(SessionMiddleware::<Data>::new(codec.clone(), cookie()));
    let axum = axum_routes().layer(sealed_session::axum::SessionLayer::<Data>::new(
        codec.clone(),
        cookie(),
    ));
    let (mut actix_jar, mut axum_jar) = (Jar::default(), Jar::default());
    let steps = [
        ("GET", "/plain"),
        ("GET", "/"),
        ("POST", "/increment"),
        ("GET", "/"),
        ("POST", "/grow/4000"),
        ("POST", "/grow/10"),
        ("POST", "/regenerate"),
        ("POST", "/login/alice"),
        ("GET", "/subject"),
        ("POST", "/cached"),
        ("POST", "/public"),
        ("POST", "/grow/20000"),
        ("POST", "/destroy"),
        ("POST", "/destroy"),
        ("GET", "/"),
    ];
    for (method, uri) in steps {
        let a = send(&actix, &mut actix_jar, method, uri).await;
        let mut request = axum::http::Request::builder().method(method).uri(uri);
        if let Some(cookies) = axum_jar.header() {
            request = request.header("cookie", cookies);
        }
        let response = axum
            .clone()
            .oneshot(request.body(axum::body::Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let b = axum_reply(response).await;
        axum_jar.take(&b);
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
                r.header(header::CACHE_CONTROL).map(str::to_owned),
                r.vary().into_iter().map(str::to_owned).collect::<Vec<_>>(),
            )
        };
        assert_eq!(shape(&a), shape(&b), "{method} {uri}");
        assert_eq!(
            actix_jar.0.keys().collect::<Vec<_>>(),
            axum_jar.0.keys().collect::<Vec<_>>(),
            "{method} {uri}"
        );
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
