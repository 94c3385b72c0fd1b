//! Revocation: a revoked session stops opening, on the codec and through
//! the axum layer; "log out everywhere" refuses every older session of a
//! subject; entries go when what they block has expired; a store that
//! cannot answer refuses sessions without deleting them.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::{get, post};
use http_body_util::BodyExt as _;
use sealed_session::axum::{Session, SessionLayer};
use sealed_session::{
    Claims, Codec, Error, Key, KeyRing, MemoryRevocations, Revocations, Revoking, SealOptions,
    SessionCookie, SessionId,
};
use time::{Duration, OffsetDateTime};
use tower::ServiceExt as _;

fn codec_with(revocations: Arc<dyn Revocations>) -> Codec {
    Codec::builder(KeyRing::new(Key::generate()))
        .revocations(revocations)
        .build()
        .expect("codec")
}

#[tokio::test]
async fn a_revoked_session_stops_opening_and_others_do_not() {
    let store = Arc::new(MemoryRevocations::new());
    let codec = codec_with(store.clone());
    let mine = codec.seal(&1u8).expect("seals");
    let yours = codec.seal(&2u8).expect("seals");
    let opened = codec.open::<u8>(&mine).expect("opens");
    store
        .revoke_session(opened.claims().session_id(), opened.claims().expires())
        .await
        .expect("revokes");
    let e = codec.open::<u8>(&mine).expect_err("revoked");
    assert!(matches!(e, Error::Revoked), "{e:?}");
    assert!(e.is_rejection());
    assert_eq!(*codec.open::<u8>(&yours).expect("not revoked").value(), 2);
    // A re-seal of a revoked session is refused as well: same id.
    let resealed = codec.reseal(&opened).expect("reseals");
    assert!(matches!(codec.open::<u8>(&resealed), Err(Error::Revoked)));
    assert_eq!(store.stats().sessions, 1);
}

#[tokio::test]
async fn log_out_everywhere_refuses_older_sessions_of_the_subject_only() {
    let store = Arc::new(MemoryRevocations::new());
    let codec = codec_with(store.clone());
    let now = OffsetDateTime::now_utc();
    let at = |t: OffsetDateTime, subject: &str| {
        codec
            .seal_with(&1u8, SealOptions::new().subject(subject).at(t))
            .expect("seals")
    };
    let phone = at(now - Duration::hours(2), "alice");
    let laptop = at(now - Duration::minutes(5), "alice");
    let bob = at(now - Duration::hours(1), "bob");
    store
        .revoke_subject("alice", now, now + Duration::days(7))
        .await
        .expect("revokes");
    for token in [&phone, &laptop] {
        assert!(matches!(codec.open::<u8>(token), Err(Error::Revoked)));
    }
    assert!(codec.open::<u8>(&bob).is_ok());
    // Alice logs in again after: her new session opens.
    let fresh = at(now + Duration::seconds(2), "alice");
    assert!(
        codec
            .open_at::<u8>(&fresh, now + Duration::seconds(2))
            .is_ok()
    );
    // An earlier "not before" never moves the line back.
    store
        .revoke_subject("alice", now - Duration::days(1), now + Duration::days(7))
        .await
        .expect("revokes");
    assert!(matches!(codec.open::<u8>(&laptop), Err(Error::Revoked)));
    assert_eq!(store.stats().subjects, 1);
}

/// Entries live until what they block would have expired anyway.
#[tokio::test]
async fn entries_disappear_after_the_tokens_they_block_expire() {
    let store = MemoryRevocations::new();
    let soon = OffsetDateTime::now_utc() + Duration::seconds(1);
    let later = OffsetDateTime::now_utc() + Duration::days(1);
    store
        .revoke_session(SessionId::from_bytes([1; 16]), soon)
        .await
        .expect("revokes");
    store
        .revoke_session(SessionId::from_bytes([2; 16]), later)
        .await
        .expect("revokes");
    store
        .revoke_subject("alice", soon, soon)
        .await
        .expect("revokes");
    assert_eq!((store.stats().sessions, store.stats().subjects), (2, 1));
    // Not a timing assertion: the entry must be gone at some point after
    // its end; 3 s leaves moka's one-second timer wheel ample room.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!((store.stats().sessions, store.stats().subjects), (1, 0));
}

/// A store that cannot answer, as a shared store whose server is down.
#[derive(Debug)]
struct Unavailable;

impl Revocations for Unavailable {
    fn check(&self, _: &Claims) -> Result<(), Error> {
        Err(Error::RevocationUnavailable("the store is down".into()))
    }
    fn revoke_session(&self, _: SessionId, _: OffsetDateTime) -> Revoking {
        Box::pin(std::future::ready(Err(Error::RevocationUnavailable(
            "the store is down".into(),
        ))))
    }
    fn revoke_subject(&self, _: &str, _: OffsetDateTime, _: OffsetDateTime) -> Revoking {
        Box::pin(std::future::ready(Err(Error::RevocationUnavailable(
            "the store is down".into(),
        ))))
    }
}

async fn read(session: Session<u8>) -> String {
    session
        .get()
        .map_or_else(|| "none".to_owned(), |n| n.to_string())
}

async fn set(session: Session<u8>) -> &'static str {
    session.insert(7);
    "set"
}

async fn log_in(session: Session<u8>) -> &'static str {
    session.insert(1);
    session.set_subject(Some("alice".into())).expect("subject");
    "in"
}

async fn destroy(session: Session<u8>) -> &'static str {
    session.destroy();
    "destroyed"
}

async fn log_out(session: Session<u8>) -> StatusCode {
    match session.log_out().await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn everywhere(session: Session<u8>) -> StatusCode {
    match session.log_out_everywhere().await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

fn app(codec: Codec) -> (Router, SessionLayer<u8>) {
    let cookie = SessionCookie::builder("sid")
        .secure(false)
        .build()
        .expect("cookie");
    let layer = SessionLayer::<u8>::new(codec, cookie);
    let router = Router::new()
        .route("/", get(read))
        .route("/set", post(set))
        .route("/login", post(log_in))
        .route("/destroy", post(destroy))
        .route("/logout", post(log_out))
        .route("/everywhere", post(everywhere))
        .layer(layer.clone());
    (router, layer)
}

/// Sends a request with `cookie`; returns the status, the body and the
/// session cookie the response set (`Some("")` for a deletion).
async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("sid={cookie}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let set = response
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| cookie::Cookie::parse(v.to_str().expect("ascii").to_owned()).expect("cookie"))
        .map(|c| c.value().to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        String::from_utf8(body.to_vec()).expect("utf-8"),
        set,
    )
}

/// The layer revokes what `destroy` ends: a copy of the cookie kept from
/// before the log-out is refused afterwards.
#[tokio::test]
async fn a_copy_of_a_destroyed_session_is_refused_through_the_layer() {
    let codec = codec_with(Arc::new(MemoryRevocations::new()));
    let (app, layer) = app(codec);
    let (_, _, token) = send(&app, "POST", "/login", None).await;
    let token = token.expect("a session");
    let (_, body, _) = send(&app, "GET", "/", Some(&token)).await;
    assert_eq!(body, "1");
    let (status, _, removal) = send(&app, "POST", "/destroy", Some(&token)).await;
    assert_eq!((status, removal.as_deref()), (StatusCode::OK, Some("")));
    // The copy an attacker kept:
    let (status, body, removal) = send(&app, "GET", "/", Some(&token)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "none"));
    assert_eq!(removal.as_deref(), Some(""), "and the response deletes it");
    assert_eq!(layer.stats().rejected, 1);
    // An anonymous session names nobody: destroying it revokes nothing, so
    // that clients cannot fill the store with anonymous log-outs.
    let (_, _, anonymous) = send(&app, "POST", "/set", None).await;
    let anonymous = anonymous.expect("a session");
    send(&app, "POST", "/destroy", Some(&anonymous)).await;
    assert_eq!(send(&app, "GET", "/", Some(&anonymous)).await.1, "7");
}

/// Log out everywhere: the user's session on another device is refused.
#[tokio::test]
async fn log_out_everywhere_through_the_layer() {
    let codec = codec_with(Arc::new(MemoryRevocations::new()));
    let (app, _) = app(codec.clone());
    // Alice's phone logged in an hour ago; she logs in on her laptop now.
    let hour_ago = OffsetDateTime::now_utc() - Duration::hours(1);
    let phone = codec
        .seal_with(&1u8, SealOptions::new().subject("alice").at(hour_ago))
        .expect("seals");
    let (_, _, laptop) = send(&app, "POST", "/login", None).await;
    let laptop = laptop.expect("session");
    assert_eq!(send(&app, "GET", "/", Some(&phone)).await.1, "1");
    let (status, _, removal) = send(&app, "POST", "/everywhere", Some(&laptop)).await;
    assert_eq!((status, removal.as_deref()), (StatusCode::OK, Some("")));
    assert_eq!(send(&app, "GET", "/", Some(&phone)).await.1, "none");
    assert_eq!(send(&app, "GET", "/", Some(&laptop)).await.1, "none");
    // A log-in right after is a new session, and opens.
    let (_, _, again) = send(&app, "POST", "/login", None).await;
    assert_eq!(
        send(&app, "GET", "/", Some(&again.expect("session")))
            .await
            .1,
        "1"
    );
}

/// A client's valid session (value 5), and the app whose store is down.
fn with_store_down() -> (String, Router, SessionLayer<u8>) {
    let plain = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let token = plain.seal(&5u8).expect("seals");
    let down = Codec::builder(plain.key_ring().clone())
        .revocations(Arc::new(Unavailable))
        .build()
        .expect("codec");
    let (app, layer) = app(down);
    (token, app, layer)
}

/// While the store cannot answer, a handler that writes to the (empty)
/// session must not replace the client's cookie, which may be valid.
#[tokio::test]
async fn an_unavailable_store_never_replaces_the_clients_cookie() {
    let (token, app, _) = with_store_down();
    let (status, _, set) = send(&app, "POST", "/set", Some(&token)).await;
    assert_eq!((status, set), (StatusCode::OK, None));
}

/// `Session::log_out` revokes the session inside the handler.
#[tokio::test]
async fn log_out_revokes_inside_the_handler() {
    let store = Arc::new(MemoryRevocations::new());
    let (app, _) = app(codec_with(store.clone()));
    let (_, _, token) = send(&app, "POST", "/set", None).await;
    let token = token.expect("session");
    let (status, _, removal) = send(&app, "POST", "/logout", Some(&token)).await;
    assert_eq!((status, removal.as_deref()), (StatusCode::OK, Some("")));
    assert_eq!(store.stats().sessions, 1);
    assert_eq!(send(&app, "GET", "/", Some(&token)).await.1, "none");
}

/// A store that cannot answer: sessions are refused (fail closed) but the
/// cookie is kept, so that they open again when the store is back; never
/// a 500.
#[tokio::test]
async fn an_unavailable_store_refuses_sessions_without_deleting_them() {
    let (token, app, layer) = with_store_down();
    let (status, body, set) = send(&app, "GET", "/", Some(&token)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "none"));
    assert_eq!(set, None, "the cookie is kept");
    assert_eq!(layer.stats().rejected, 0);
    let (status, _, _) = send(&app, "POST", "/everywhere", None).await;
    assert_eq!(status, StatusCode::OK, "no session: nothing to revoke");
}

/// A full store drops its oldest entries, never the newest, and counts
/// them so that an operator sizes the store.
#[tokio::test]
async fn a_full_store_keeps_the_newest_and_reports_what_it_dropped() {
    let store = Arc::new(MemoryRevocations::with_capacity(50));
    let codec = codec_with(store.clone());
    let until = OffsetDateTime::now_utc() + Duration::days(1);
    for i in 0..500u32 {
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&i.to_le_bytes());
        store
            .revoke_session(SessionId::from_bytes(id), until)
            .await
            .expect("revokes");
    }
    let token = codec.seal(&1u8).expect("seals");
    let id = codec
        .open::<u8>(&token)
        .expect("opens")
        .claims()
        .session_id();
    store.revoke_session(id, until).await.expect("revokes");
    let stats = store.stats();
    assert!(stats.sessions <= 50, "{stats:?}");
    assert!(stats.evicted >= 450, "{stats:?}");
    assert!(
        matches!(codec.open::<u8>(&token), Err(Error::Revoked)),
        "the newest holds"
    );
}
