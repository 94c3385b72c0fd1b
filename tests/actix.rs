//! The actix-web middleware, request by request, in process
//! (`actix_web::test`): the key rules of the axum layer's tests
//! (tests/layer.rs, tests/revocation.rs) hold here too. It needs only the
//! `actix` and `revocation` features; tests/actix_parity.rs compares the
//! two adapters.

#[macro_use]
#[path = "support/actix_app.rs"]
mod common;

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName};
use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, web};
use common::*;
use sealed_session::actix::{OptionalSession, Session, SessionMiddleware, TokenHeader};
use sealed_session::{Codec, Key, KeyRing, MemoryRevocations, SealOptions};
use time::{Duration, OffsetDateTime};

#[actix_web::test]
async fn a_new_session_is_set_once_and_read_without_set_cookie() {
    let middleware = SessionMiddleware::<Data>::new(new_codec(), cookie());
    let app = app!(middleware);
    let mut jar = Jar::default();
    let first = send(&app, &mut jar, "GET", "/").await;
    assert_eq!(first.body, "none");
    assert!(first.set_cookies().is_empty(), "nothing to set");
    assert!(first.header(header::CACHE_CONTROL).is_none());

    let created = send(&app, &mut jar, "POST", "/increment").await;
    assert_eq!(created.body, "1");
    assert_eq!(created.set_cookies().len(), 1);
    assert_eq!(created.header(header::CACHE_CONTROL), Some("no-store"));
    let set = &created.set_cookies()[0];
    assert_eq!(
        (set.http_only(), set.secure(), set.path()),
        (Some(true), Some(true), Some("/")),
        "the secure defaults"
    );
    for _ in 0..3 {
        let read = send(&app, &mut jar, "GET", "/").await;
        assert_eq!(read.body, "1");
        assert!(read.set_cookies().is_empty(), "unchanged: no Set-Cookie");
    }
    assert_eq!(send(&app, &mut jar, "POST", "/increment").await.body, "2");
    assert_eq!(send(&app, &mut jar, "GET", "/").await.body, "2");
    let stats = middleware.stats();
    assert_eq!((stats.sealed, stats.rejected, stats.removed), (2, 0, 0));
}

#[actix_web::test]
async fn a_changed_session_keeps_its_id_regenerate_and_a_subject_change_it() {
    let codec = new_codec();
    let app = app!(SessionMiddleware::<Data>::new(codec.clone(), cookie()));
    let mut jar = Jar::default();
    send(&app, &mut jar, "POST", "/set/41").await;
    let id = jar.opened(&codec).claims().session_id();
    send(&app, &mut jar, "POST", "/increment").await;
    assert_eq!(
        jar.opened(&codec).claims().session_id(),
        id,
        "a change keeps the id"
    );

    let reply = send(&app, &mut jar, "POST", "/regenerate").await;
    assert_eq!(reply.set_cookies().len(), 1);
    let opened = jar.opened(&codec);
    assert_ne!(opened.claims().session_id(), id, "a new id");
    assert_eq!(opened.value().n, 42, "the same value");

    let id = opened.claims().session_id();
    send(&app, &mut jar, "POST", "/login/alice").await;
    let opened = jar.opened(&codec);
    assert_eq!(opened.claims().subject(), Some("alice"));
    assert_ne!(opened.claims().session_id(), id);
    assert_eq!(send(&app, &mut jar, "GET", "/subject").await.body, "alice");
    // A subject that is not 1 to 255 bytes is the handler's 400, not a 500.
    let long = "x".repeat(256);
    let reply = send(&app, &mut jar, "POST", &format!("/login/{long}")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.set_cookies().is_empty());
}

/// Sliding expiry without a `Set-Cookie` on every response: only past half
/// the idle timeout.
#[actix_web::test]
async fn the_cookie_is_renewed_after_half_the_idle_timeout_only() {
    let codec = new_codec();
    let app = app!(SessionMiddleware::<Data>::new(codec.clone(), cookie()));
    let now = OffsetDateTime::now_utc();
    for (age, renewed) in [
        (Duration::minutes(20), false),
        (Duration::minutes(40), true),
    ] {
        let mut jar = Jar::default();
        let data = Data {
            n: 5,
            blob: String::new(),
        };
        let token = codec
            .seal_with(&data, SealOptions::new().at(now - age))
            .expect("seals");
        jar.0.insert("sid".to_owned(), token);
        let reply = send(&app, &mut jar, "GET", "/").await;
        assert_eq!(reply.body, "5");
        assert_eq!(!reply.set_cookies().is_empty(), renewed, "issued {age} ago");
        if renewed {
            let opened = jar.opened(&codec);
            assert!(opened.claims().issued() > now - Duration::minutes(1));
            assert_eq!(opened.claims().created_unix(), (now - age).unix_timestamp());
        }
    }
}

/// Tampered, expired, foreign-key and old-shape cookies: an empty session
/// and a removal, never a 500.
#[actix_web::test]
async fn a_cookie_that_does_not_open_gives_an_empty_session_and_a_removal() {
    let codec = new_codec();
    let now = OffsetDateTime::now_utc();
    let data = Data {
        n: 9,
        blob: String::new(),
    };
    let good = codec.seal(&data).expect("seals");
    let mut tampered = good.into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let expired = codec
        .seal_with(&data, SealOptions::new().at(now - Duration::hours(2)))
        .expect("seals");
    let foreign = new_codec().seal(&data).expect("seals");
    let old_shape = codec.seal(&"a string, not Data").expect("seals");
    for (what, token, is_old_shape) in [
        ("tampered", tampered, false),
        ("expired", expired, false),
        ("foreign key", foreign, false),
        ("garbage", "not a token".to_owned(), false),
        ("old shape", old_shape, true),
    ] {
        let middleware = SessionMiddleware::<Data>::new(codec.clone(), cookie());
        let app = app!(middleware);
        let mut jar = Jar::default();
        jar.0.insert("sid".to_owned(), token);
        let reply = send(&app, &mut jar, "GET", "/").await;
        assert_eq!(reply.status, StatusCode::OK, "{what}");
        assert_eq!(reply.body, "none", "{what}");
        assert_eq!(reply.removed(), ["sid"], "{what}");
        assert_eq!(
            reply.header(header::CACHE_CONTROL),
            Some("no-store"),
            "{what}"
        );
        let stats = middleware.stats();
        assert_eq!(
            (stats.rejected, stats.old_shape, stats.removed),
            if is_old_shape { (0, 1, 1) } else { (1, 0, 1) },
            "{what}"
        );
        // The same request that creates a session replaces the bad cookie.
        jar.0.insert("sid".to_owned(), "AAAA".to_owned());
        assert_eq!(send(&app, &mut jar, "POST", "/increment").await.body, "1");
        assert_eq!(jar.opened(&codec).value().n, 1, "{what}");
    }
}

#[actix_web::test]
async fn a_session_under_an_older_key_is_resealed_under_the_primary() {
    let (old, new) = (Key::generate(), Key::generate());
    let before = codec(KeyRing::new(old.clone()));
    let middleware = SessionMiddleware::<Data>::new(before.clone(), cookie());
    let app = app!(middleware);
    let mut jar = Jar::default();
    send(&app, &mut jar, "POST", "/set/3").await;
    let id = jar.opened(&before).claims().session_id();
    // A rotation through the handle: the next request re-seals.
    let after = codec(KeyRing::new(new.clone()).with_accepted(old));
    middleware
        .codec_handle()
        .replace(after.clone())
        .expect("no store to keep");
    let reply = send(&app, &mut jar, "GET", "/").await;
    assert_eq!(reply.set_cookies().len(), 1, "re-sealed");
    let opened = jar.opened(&after);
    assert_eq!(opened.key_id(), new.id());
    assert_eq!(opened.claims().session_id(), id);
    assert!(
        send(&app, &mut jar, "GET", "/")
            .await
            .set_cookies()
            .is_empty()
    );
}

#[actix_web::test]
async fn chunks_grow_shrink_and_are_all_deleted_by_destroy() {
    let codec = new_codec();
    let app = app!(SessionMiddleware::<Data>::new(codec.clone(), cookie()));
    let mut jar = Jar::default();
    send(&app, &mut jar, "POST", "/grow/4000").await;
    assert_eq!(jar.0.len(), 3, "{:?}", jar.0.keys());
    let reply = send(&app, &mut jar, "POST", "/grow/10").await;
    assert_eq!(reply.removed(), ["sid.1", "sid.2"]);
    send(&app, &mut jar, "POST", "/grow/2000").await;
    assert_eq!(jar.0.len(), 2);
    let reply = send(&app, &mut jar, "POST", "/destroy").await;
    assert_eq!(reply.removed(), ["sid", "sid.1"]);
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    assert!(jar.0.is_empty());
    // Destroying no session sets nothing.
    assert!(
        send(&app, &mut jar, "POST", "/destroy")
            .await
            .set_cookies()
            .is_empty()
    );
}

/// Too large for its cookies: a 500 the operator can see, never a cookie
/// the browser would drop.
#[actix_web::test]
async fn an_oversized_session_is_a_server_error_not_a_dropped_cookie() {
    let middleware = SessionMiddleware::<Data>::new(new_codec(), cookie());
    let app = app!(middleware);
    let mut jar = Jar::default();
    send(&app, &mut jar, "POST", "/set/3").await;
    let reply = send(&app, &mut jar, "POST", "/grow/20000").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.set_cookies().is_empty());
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        reply
            .body
            .starts_with("500 Internal Server Error: the session cannot be sealed: ")
            && reply.body.contains("bytes over"),
        "{}",
        reply.body
    );
    assert!(!reply.body.contains("apeujyod"), "{}", reply.body);
    assert_eq!(middleware.stats().failed, 1);
    assert_eq!(send(&app, &mut jar, "GET", "/").await.body, "3");
}

#[actix_web::test]
async fn cache_control_and_vary_follow_the_session() {
    let app = app!(SessionMiddleware::<Data>::new(new_codec(), cookie()));
    let mut jar = Jar::default();
    let reply = send(&app, &mut jar, "GET", "/plain").await;
    assert!(reply.vary().is_empty(), "no session, not used");
    let reply = send(&app, &mut jar, "GET", "/").await;
    assert_eq!(
        reply.vary(),
        ["cookie"],
        "the handler read the (empty) session"
    );
    let reply = send(&app, &mut jar, "POST", "/cached").await;
    assert_eq!(
        reply.header(header::CACHE_CONTROL),
        Some("private, max-age=60")
    );
    let reply = send(&app, &mut jar, "POST", "/public").await;
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    let reply = send(&app, &mut jar, "GET", "/plain").await;
    assert_eq!(reply.vary(), ["cookie"], "the request carried a session");
}

#[actix_web::test]
async fn a_handler_that_panics_mid_change_seals_nothing() {
    let app = app!(SessionMiddleware::<Data>::new(new_codec(), cookie()));
    let mut jar = Jar::default();
    send(&app, &mut jar, "POST", "/set/5").await;
    let reply = send(&app, &mut jar, "POST", "/panics").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.set_cookies().is_empty());
    assert_eq!(send(&app, &mut jar, "GET", "/").await.body, "5");
}

#[actix_web::test]
async fn a_route_without_the_middleware_is_a_500_that_names_the_type() {
    let app = init_service(App::new().route("/", web::get().to(no_middleware))).await;
    let reply =
        into_reply(call_service(&app, TestRequest::get().uri("/").to_request()).await).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        reply
            .body
            .contains("takes a Session<u8> but this route has no SessionMiddleware<u8>"),
        "{}",
        reply.body
    );
}

#[actix_web::test]
async fn header_transport_reads_a_bearer_token_and_answers_in_a_header() {
    let codec = new_codec();
    let middleware = SessionMiddleware::<Data>::in_header(codec.clone(), TokenHeader::bearer());
    let app = app!(middleware);
    let call = |method: &str, uri: &str, token: Option<&str>| {
        let mut request = match method {
            "GET" => TestRequest::get(),
            _ => TestRequest::post(),
        }
        .uri(uri);
        if let Some(token) = token {
            request = request.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
        }
        request.to_request()
    };
    let reply = into_reply(call_service(&app, call("POST", "/set/11", None)).await).await;
    assert!(reply.set_cookies().is_empty(), "no cookies in header mode");
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    let token = reply
        .header(HeaderName::from_static("session-token"))
        .expect("a token")
        .to_owned();
    assert_eq!(codec.open::<Data>(&token).expect("opens").value().n, 11);
    let reply = into_reply(call_service(&app, call("GET", "/", Some(&token))).await).await;
    assert_eq!(reply.body, "11");
    assert_eq!(reply.vary(), ["authorization"]);
    assert!(!reply.headers.contains_key("session-token"), "unchanged");
    let reply = into_reply(call_service(&app, call("GET", "/", Some("forged"))).await).await;
    assert_eq!(reply.body, "none");
    let token_header = || HeaderName::from_static("session-token");
    assert_eq!(reply.header(token_header()), Some(""), "discard your token");
    let reply = into_reply(call_service(&app, call("POST", "/destroy", Some(&token))).await).await;
    assert_eq!(reply.header(token_header()), Some(""));
    assert_eq!(middleware.stats().rejected, 1);
}

/// `destroy`, `log_out` and `regenerate` revoke a session with a subject:
/// a copy of the cookie kept from before is refused afterwards.
#[actix_web::test]
async fn a_copy_of_an_ended_session_is_refused() {
    let store = Arc::new(MemoryRevocations::new());
    let app = app!(with_store(store.clone()));
    for ending in ["/destroy", "/logout", "/regenerate"] {
        let mut jar = Jar::default();
        send(&app, &mut jar, "POST", "/set/1").await;
        send(&app, &mut jar, "POST", "/login/alice").await;
        let mut copy = Jar(jar.0.clone());
        assert_eq!(send(&app, &mut copy, "GET", "/").await.body, "1");
        let reply = send(&app, &mut jar, "POST", ending).await;
        assert_eq!(reply.status, StatusCode::OK, "{ending}");
        let reply = send(&app, &mut copy, "GET", "/").await;
        assert_eq!(reply.body, "none", "{ending}: the copy is refused");
        assert_eq!(reply.removed(), ["sid"], "{ending}: and deleted");
        if ending == "/regenerate" {
            assert_eq!(
                send(&app, &mut jar, "GET", "/").await.body,
                "1",
                "the new id opens"
            );
        }
    }
    // An anonymous session names nobody: destroying it revokes nothing.
    let before = store.stats().sessions;
    let mut jar = Jar::default();
    send(&app, &mut jar, "POST", "/set/7").await;
    let mut copy = Jar(jar.0.clone());
    send(&app, &mut jar, "POST", "/logout").await;
    assert_eq!(store.stats().sessions, before);
    assert_eq!(send(&app, &mut copy, "GET", "/").await.body, "7");
}

#[actix_web::test]
async fn log_out_everywhere_refuses_the_subjects_other_sessions() {
    let store = Arc::new(MemoryRevocations::new());
    let middleware = with_store(store);
    let codec = middleware.codec_handle().current();
    let app = app!(middleware);
    let hour_ago = OffsetDateTime::now_utc() - Duration::hours(1);
    let phone = codec
        .seal_with(
            &Data::default(),
            SealOptions::new().subject("alice").at(hour_ago),
        )
        .expect("seals");
    let mut phone_jar = Jar::default();
    phone_jar.0.insert("sid".to_owned(), phone);
    assert_eq!(send(&app, &mut phone_jar, "GET", "/").await.body, "0");
    let mut laptop = Jar::default();
    send(&app, &mut laptop, "POST", "/set/1").await;
    send(&app, &mut laptop, "POST", "/login/alice").await;
    let reply = send(&app, &mut laptop, "POST", "/everywhere").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.removed(), ["sid"]);
    assert_eq!(send(&app, &mut phone_jar, "GET", "/").await.body, "none");
}

/// Fail closed: while the store cannot answer, a session is refused but its
/// cookie is kept (never replaced), and a log-out is an error the handler
/// sees while the deletion still goes out.
#[actix_web::test]
async fn an_unavailable_store_refuses_sessions_and_keeps_their_cookie() {
    let middleware = with_store(Arc::new(Down));
    let codec = middleware.codec_handle().current();
    let app = app!(middleware);
    let token = codec
        .seal_with(&Data::default(), SealOptions::new().subject("alice"))
        .expect("seals");
    let mut jar = Jar::default();
    jar.0.insert("sid".to_owned(), token);
    let reply = send(&app, &mut jar, "GET", "/").await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "unavailable")
    );
    assert!(reply.set_cookies().is_empty(), "the cookie is kept");
    let reply = send(&app, &mut jar, "POST", "/set/4").await;
    assert!(reply.set_cookies().is_empty(), "never replaced");
    assert_eq!(middleware.stats().rejected, 0);
    let reply = send(&app, &mut jar, "POST", "/logout").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.removed(), ["sid"], "deleted all the same");
}

#[actix_web::test]
async fn a_reload_cannot_drop_the_revocation_store() {
    let store = Arc::new(MemoryRevocations::new());
    let middleware = with_store(store.clone());
    let ring = middleware.codec_handle().current().key_ring().clone();
    let forgot = Codec::builder(ring.clone()).build().expect("codec");
    assert!(middleware.codec_handle().replace(forgot).is_err());
    let kept = Codec::builder(ring)
        .revocations(store)
        .build()
        .expect("codec");
    middleware
        .codec_handle()
        .replace(kept)
        .expect("the same store");
}

/// An inner middleware that fails after the handler (here: an audit step
/// that cannot write its record) turns the handler's answer into an error.
async fn failing_audit(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    next.call(request).await?;
    Err(actix_web::error::ErrorInternalServerError(
        "the audit log is down",
    ))
}

/// An inner service's `Err` still carries the session's outcome: the
/// deletion of a destroyed session, its revocation (awaited), `Vary` and
/// `Cache-Control`, and the removal of a refused cookie. It stays an error
/// for the middlewares outside, and the server's response holds it.
#[actix_web::test]
async fn an_inner_error_still_deletes_and_revokes_the_ended_session() {
    let middleware = with_store(Arc::new(MemoryRevocations::new()));
    let app = init_service(
        App::new()
            .wrap(middleware.clone())
            .configure(routes)
            .service(
                web::scope("/account")
                    .wrap(actix_web::middleware::from_fn(failing_audit))
                    .route("/logout", web::post().to(destroy))
                    .route("/", web::get().to(read)),
            ),
    )
    .await;
    let mut jar = Jar::default();
    send(&app, &mut jar, "POST", "/set/1").await;
    send(&app, &mut jar, "POST", "/login/alice").await;
    let mut copy = Jar(jar.0.clone());

    let mut request = TestRequest::post().uri("/account/logout");
    request = request.insert_header((header::COOKIE, jar.header().expect("a session")));
    let error = app
        .call(request.to_request())
        .await
        .expect_err("still an error for the middlewares outside");
    assert_eq!(error.to_string(), "the audit log is down");
    let response = error.error_response();
    assert_eq!(
        response.error().map(ToString::to_string),
        Some("the audit log is down".to_owned()),
        "the response the server sends holds the original error"
    );
    let reply = error_reply(response).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.removed(), ["sid"], "the cookie is deleted");
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(reply.vary(), ["cookie"]);
    let reply = send(&app, &mut copy, "GET", "/").await;
    assert_eq!(reply.body, "none", "the copy is refused: revoked");

    // A cookie that does not open is removed even when the inner service fails.
    let request = TestRequest::get()
        .uri("/account/")
        .insert_header((header::COOKIE, "sid=forged"))
        .to_request();
    let error = app.call(request).await.expect_err("an error");
    let reply = error_reply(error.error_response()).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.removed(), ["sid"]);
}

/// The response actix-web's server sends for an error.
async fn error_reply(response: HttpResponse) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .expect("body");
    Reply {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).expect("utf-8"),
    }
}

async fn greet(OptionalSession(session): OptionalSession<Data>) -> String {
    match session {
        Some(session) => format!("n={}", session.get().map_or(0, |d| d.n)),
        None => "stranger".to_owned(),
    }
}

async fn greet_blanket(session: Option<Session<Data>>) -> String {
    match session {
        Some(_) => "some".to_owned(),
        None => "none".to_owned(),
    }
}

/// `OptionalSession<T>` has axum's `Option<Session<T>>` meaning: `None`
/// for a request without a session (the response varies on the cookie),
/// `Some` with one, and a 500 on a route outside the middleware, where
/// actix-web's blanket `Option<Session<T>>` says `None`.
#[actix_web::test]
async fn an_optional_session_is_none_without_a_session_and_a_500_without_the_middleware() {
    let app = init_service(
        App::new()
            .service(
                web::scope("/in")
                    .wrap(SessionMiddleware::<Data>::new(new_codec(), cookie()))
                    .configure(routes)
                    .route("/greet", web::get().to(greet))
                    .route("/blanket", web::get().to(greet_blanket)),
            )
            .route("/out/greet", web::get().to(greet))
            .route("/out/blanket", web::get().to(greet_blanket)),
    )
    .await;
    let mut jar = Jar::default();
    let reply = send(&app, &mut jar, "GET", "/in/greet").await;
    assert_eq!(reply.body, "stranger");
    assert_eq!(reply.vary(), ["cookie"], "None depends on the cookie too");
    assert!(reply.set_cookies().is_empty());
    assert_eq!(
        send(&app, &mut jar, "GET", "/in/blanket").await.body,
        "some",
        "actix-web's Option<Session<T>> is Some without a session"
    );
    send(&app, &mut jar, "POST", "/in/set/4").await;
    assert_eq!(send(&app, &mut jar, "GET", "/in/greet").await.body, "n=4");

    let reply = send(&app, &mut jar, "GET", "/out/greet").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        reply
            .body
            .contains("Data> but this route has no SessionMiddleware<"),
        "{}",
        reply.body
    );
    assert_eq!(
        send(&app, &mut jar, "GET", "/out/blanket").await.body,
        "none",
        "actix-web's Option<Session<T>> hides the missing middleware"
    );
}

/// The middleware appends: its `Set-Cookie` goes next to a cookie the
/// handler set, and `cookie` next to the handler's own `Vary`; the
/// handler's `Cache-Control: private` is kept.
#[actix_web::test]
async fn the_session_cookie_and_vary_are_appended_to_the_handlers_own() {
    let app = app!(SessionMiddleware::<Data>::new(new_codec(), cookie()));
    let mut jar = Jar::default();
    let reply = send(&app, &mut jar, "POST", "/own-cookie").await;
    let names: Vec<_> = reply
        .set_cookies()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    assert_eq!(names, ["theme", "sid"]);
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("private"));
    let reply = send(&app, &mut jar, "GET", "/varied").await;
    assert_eq!(reply.body, "1");
    assert_eq!(reply.vary(), ["Accept-Encoding", "cookie"]);
}
