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
    Claims, Codec, Error, Key, KeyRing, MemoryRevocations, Revocations, RevokedSession, Revoking,
    SESSIONS_PER_SUBJECT, SealOptions, SessionCookie, SessionId,
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
        .revoke_session(&RevokedSession::of(
            opened.claims(),
            opened.claims().expires(),
        ))
        .await
        .expect("revokes");
    let e = codec.open::<u8>(&mine).expect_err("revoked");
    assert!(matches!(e, Error::Revoked), "{e:?}");
    assert!(e.is_rejection());
    assert_eq!(*codec.open::<u8>(&yours).expect("not revoked").value(), 2);
    // A re-seal of a revoked session is refused, with a new id or without
    // its subject too: an `Opened` held from before cannot escape.
    assert!(matches!(codec.reseal(&opened), Err(Error::Revoked)));
    for options in [
        SealOptions::new().new_id(),
        SealOptions::new().without_subject(),
    ] {
        let e = codec.reseal_with(&opened, options).expect_err("revoked");
        assert!(matches!(e, Error::Revoked), "{e:?}");
    }
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
        .revoke_session(&RevokedSession::by_id(SessionId::from_bytes([1; 16]), soon))
        .await
        .expect("revokes");
    store
        .revoke_session(&RevokedSession::by_id(
            SessionId::from_bytes([2; 16]),
            later,
        ))
        .await
        .expect("revokes");
    store
        .revoke_subject("alice", soon, soon)
        .await
        .expect("revokes");
    assert_eq!((store.stats().sessions, store.stats().subjects), (2, 1));
    // Not a timing assertion: the entry must be gone at some point after
    // its end; 3 s leaves the one-second clock ample room.
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

async fn read(session: Session<u8>) -> String {
    if session.is_unavailable() {
        return "unavailable".to_owned();
    }
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

async fn log_in_as_mallory(session: Session<u8>) -> &'static str {
    session.insert(2);
    session
        .set_subject(Some("mallory".into()))
        .expect("subject");
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
        .route("/demote", post(demote))
        .route("/mallory", post(log_in_as_mallory))
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
    let (_, _, token) = send(&app, "POST", "/login", None).await;
    let token = token.expect("session");
    let (status, _, removal) = send(&app, "POST", "/logout", Some(&token)).await;
    assert_eq!((status, removal.as_deref()), (StatusCode::OK, Some("")));
    assert_eq!(store.stats().sessions, 1);
    assert_eq!(send(&app, "GET", "/", Some(&token)).await.1, "none");
    // An anonymous session names nobody: its log-out deletes the cookie
    // and revokes nothing (else any client could fill the store).
    let (_, _, anonymous) = send(&app, "POST", "/set", None).await;
    let anonymous = anonymous.expect("session");
    let (status, _, removal) = send(&app, "POST", "/logout", Some(&anonymous)).await;
    assert_eq!((status, removal.as_deref()), (StatusCode::OK, Some("")));
    assert_eq!(store.stats().sessions, 1);
    assert_eq!(send(&app, "GET", "/", Some(&anonymous)).await.1, "7");
}

/// A store that cannot answer: sessions are refused (fail closed) but the
/// cookie is kept, so that they open again when the store is back; never
/// a 500.
#[tokio::test]
async fn an_unavailable_store_refuses_sessions_without_deleting_them() {
    let (token, app, layer) = with_store_down();
    let (status, body, set) = send(&app, "GET", "/", Some(&token)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "unavailable"));
    assert_eq!(set, None, "the cookie is kept");
    assert_eq!(layer.stats().rejected, 0);
    let (status, _, _) = send(&app, "POST", "/everywhere", None).await;
    assert_eq!(status, StatusCode::OK, "no session: nothing to revoke");
    assert_eq!(
        send(&app, "GET", "/", None).await.1,
        "none",
        "no session is not unavailable"
    );
}

/// MEDIUM 2: during an outage, a log-out of a signed-in session is an
/// error the handler sees (it could not be recorded), not a silent Ok,
/// and its deletion still goes out.
#[tokio::test]
async fn a_log_out_the_store_cannot_record_is_an_error() {
    let plain = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let token = plain
        .seal_with(&5u8, SealOptions::new().subject("alice"))
        .expect("seals");
    let down = Codec::builder(plain.key_ring().clone())
        .revocations(Arc::new(Unavailable))
        .build()
        .expect("codec");
    let (app, _) = app(down);
    assert_eq!(send(&app, "GET", "/", Some(&token)).await.1, "unavailable");
    for route in ["/logout", "/everywhere"] {
        let (status, _, removal) = send(&app, "POST", route, Some(&token)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{route}");
        assert_eq!(
            removal.as_deref(),
            Some(""),
            "{route}: the cookie is deleted all the same"
        );
    }
}

/// A numbered session id, as the store sees it.
fn id(i: u32) -> SessionId {
    let mut id = [0u8; 16];
    id[..4].copy_from_slice(&i.to_le_bytes());
    id[4..8].copy_from_slice(&i.wrapping_mul(0x9E37_79B9).to_le_bytes());
    SessionId::from_bytes(id)
}

/// Revokes the session of `token` until its latest end.
async fn revoke_token(store: &MemoryRevocations, codec: &Codec, token: &str) {
    let claims = codec.open::<u8>(token).expect("opens").claims().clone();
    store
        .revoke_session(&RevokedSession::of(
            &claims,
            codec.latest_end(claims.created()),
        ))
        .await
        .expect("revokes");
}

/// The HIGH hole of the attack: a flood of log-outs must never make a
/// revoked session open again, and memory stays bounded. One hostile
/// account in a loop folds into its own "not before"; many accounts fill
/// the store, which then raises a floor instead of forgetting.
#[tokio::test]
async fn a_flood_of_log_outs_never_reopens_a_revoked_session() {
    let capacity = 1_000;
    let store = Arc::new(MemoryRevocations::with_capacity(capacity));
    let codec = codec_with(store.clone());
    let now = OffsetDateTime::now_utc();
    let victim = codec
        .seal_with(
            &1u8,
            SealOptions::new()
                .subject("victim")
                .at(now - Duration::minutes(10)),
        )
        .expect("seals");
    let claims = codec.open::<u8>(&victim).expect("opens").claims().clone();
    revoke_token(&store, &codec, &victim).await;
    let until = now + Duration::days(7);
    let revoked = |i: u32, subject: &str, created: OffsetDateTime| {
        RevokedSession::new(id(i), Some(subject), Some(created), until)
    };

    // One account, logging in and out 20,000 times.
    for i in 0..20_000 {
        store
            .revoke_session(&revoked(i, "attacker", now))
            .await
            .expect("revokes");
    }
    let stats = store.stats();
    assert_eq!(
        stats.sessions,
        1 + u64::from(SESSIONS_PER_SUBJECT),
        "{stats:?}"
    );
    assert_eq!(stats.subjects, 1, "{stats:?}");
    assert_eq!(stats.floor, None, "{stats:?}");
    assert!(matches!(codec.open::<u8>(&victim), Err(Error::Revoked)));

    // 10,000 accounts, one log-out each: ten times the capacity.
    for i in 0..10_000u32 {
        store
            .revoke_session(&revoked(100_000 + i, &format!("user-{i}"), now))
            .await
            .expect("revokes");
    }
    let stats = store.stats();
    assert!(stats.sessions <= capacity, "{stats:?}");
    assert!(stats.floor_raises >= 1, "{stats:?}");
    assert!(stats.floor >= Some(claims.created_unix()), "{stats:?}");
    assert!(
        matches!(codec.open::<u8>(&victim), Err(Error::Revoked)),
        "the victim's copy stays refused: {stats:?}"
    );
    // The flood's accounts log in again: created after the floor, they open.
    for i in [0, 19_999, 100_000, 109_999] {
        let subject = if i < 20_000 {
            "attacker".to_owned()
        } else {
            format!("user-{}", i - 100_000)
        };
        let token = codec
            .seal_with(&1u8, SealOptions::new().subject(&subject).at(now))
            .expect("seals");
        let opened = codec.open::<u8>(&token);
        // A session sealed now is created after the floor: it opens.
        assert!(opened.is_ok(), "a new log-in opens: {opened:?}");
    }
    // And a new session, logged in after all this, opens.
    let fresh = codec
        .seal_with(&1u8, SealOptions::new().subject("victim"))
        .expect("seals");
    assert!(codec.open::<u8>(&fresh).is_ok());
}

/// Folding never lets a revoked id go: past the limit, the subject's line
/// covers it, and sessions of other subjects are untouched.
#[tokio::test]
async fn past_a_few_sessions_a_subject_folds_into_its_not_before() {
    let store = Arc::new(MemoryRevocations::new());
    let codec = codec_with(store.clone());
    let now = OffsetDateTime::now_utc();
    let seal = |subject: &str, minutes: i64| {
        codec
            .seal_with(
                &1u8,
                SealOptions::new()
                    .subject(subject)
                    .at(now - Duration::minutes(minutes)),
            )
            .expect("seals")
    };
    let tokens: Vec<String> = (0..10).map(|i| seal("mallory", 60 - i)).collect();
    let bob = seal("bob", 30);
    for token in &tokens {
        revoke_token(&store, &codec, token).await;
    }
    for token in &tokens {
        assert!(matches!(codec.open::<u8>(token), Err(Error::Revoked)));
    }
    assert!(codec.open::<u8>(&bob).is_ok());
    let stats = store.stats();
    assert_eq!(stats.sessions, u64::from(SESSIONS_PER_SUBJECT), "{stats:?}");
    assert_eq!(
        stats.folded,
        10 - u64::from(SESSIONS_PER_SUBJECT),
        "{stats:?}"
    );
}

/// MEDIUM 1: "log out everywhere" refuses every session created at or
/// before its instant, the same second included, and a log-in after it
/// opens, even within that second.
#[tokio::test]
async fn log_out_everywhere_refuses_the_same_second_and_a_later_log_in_opens() {
    let store = Arc::new(MemoryRevocations::new());
    let codec = codec_with(store.clone());
    let t = OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp())
        .expect("time");
    let seal = || {
        codec
            .seal_with(&1u8, SealOptions::new().subject("alice").at(t))
            .expect("seals")
    };
    let (first, second) = (seal(), seal());
    store
        .revoke_subject("alice", t, t + Duration::days(7))
        .await
        .expect("revokes");
    for token in [&first, &second] {
        let e = codec.open_at::<u8>(token, t).expect_err("same second");
        assert!(matches!(e, Error::Revoked), "{e:?}");
    }
    let after = seal();
    let opened = codec
        .open_at::<u8>(&after, t)
        .expect("a log-in after it opens");
    assert_eq!(opened.claims().created_unix(), t.unix_timestamp() + 1);
    assert!(codec.open_at::<u8>(&after, t + Duration::hours(1)).is_ok());
    // A leeway of 0 cannot hold a session sealed one second ahead.
    let e = Codec::builder(KeyRing::new(Key::generate()))
        .leeway(Duration::ZERO)
        .revocations(store)
        .build()
        .expect_err("leeway 0");
    assert_eq!(
        e.to_string(),
        "invalid codec setting: leeway is 0 s, a codec with a revocation store needs at least 1 s"
    );
}

/// The same through the layer: two log-ins, "log out everywhere" from the
/// second, both refused, a log-in right after opens.
#[tokio::test]
async fn log_out_everywhere_through_the_layer_within_one_second() {
    let codec = codec_with(Arc::new(MemoryRevocations::new()));
    let (app, _) = app(codec);
    let one = send(&app, "POST", "/login", None).await.2.expect("session");
    let two = send(&app, "POST", "/login", None).await.2.expect("session");
    let (status, _, _) = send(&app, "POST", "/everywhere", Some(&two)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(send(&app, "GET", "/", Some(&one)).await.1, "none");
    assert_eq!(send(&app, "GET", "/", Some(&two)).await.1, "none");
    let three = send(&app, "POST", "/login", None).await.2.expect("session");
    assert_eq!(send(&app, "GET", "/", Some(&three)).await.1, "1");
    // A second "log out everywhere" in that second covers the log-in that
    // was sealed ahead of the clock, and a log-in after it opens again.
    let (status, _, _) = send(&app, "POST", "/everywhere", Some(&three)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(send(&app, "GET", "/", Some(&three)).await.1, "none");
    let four = send(&app, "POST", "/login", None).await.2.expect("session");
    assert_eq!(send(&app, "GET", "/", Some(&four)).await.1, "1");
}

async fn demote(session: Session<u8>) -> &'static str {
    session.update(|role| *role = 0);
    session.regenerate();
    "demoted"
}

/// MEDIUM 4: regenerating a session with a subject (a demotion) revokes
/// the previous id: the pre-demotion cookie stops opening; the new one
/// opens, keeps `created`, and can be regenerated again.
#[tokio::test]
async fn regenerate_revokes_the_previous_id() {
    let store = Arc::new(MemoryRevocations::new());
    let (app, _) = app(codec_with(store.clone()));
    let admin = send(&app, "POST", "/login", None).await.2.expect("session");
    let mut current = admin.clone();
    for _ in 0..(2 * SESSIONS_PER_SUBJECT) {
        let (status, _, next) = send(&app, "POST", "/demote", Some(&current)).await;
        assert_eq!(status, StatusCode::OK);
        current = next.expect("a new cookie");
        assert_eq!(send(&app, "GET", "/", Some(&current)).await.1, "0");
    }
    assert_eq!(send(&app, "GET", "/", Some(&admin)).await.1, "none");
}

/// A loop of regenerations (an account that changes privilege over and
/// over) holds a handful of entries, not one each, so it cannot push the
/// store to a floor that logs everyone out: past SESSIONS_PER_SUBJECT the
/// previous ids fold into the subject's line, and the regenerated session,
/// sealed as a new one after that line, opens. Every earlier cookie stays
/// refused; other users are untouched.
#[tokio::test]
async fn a_loop_of_regenerations_folds_and_never_fills_the_store() {
    let store = Arc::new(MemoryRevocations::with_capacity(100));
    let (app, _) = app(codec_with(store.clone()));
    let alice = send(&app, "POST", "/login", None).await.2.expect("session");
    let mut current = send(&app, "POST", "/mallory", None)
        .await
        .2
        .expect("session");
    let mut earlier = Vec::new();
    // More regenerations than the store holds entries, all within a few
    // seconds: the new sessions run ahead of the clock by at most one
    // second per fold, within the default 30 s leeway.
    let rounds = 20;
    for round in 0..rounds {
        earlier.push(current.clone());
        let (status, _, next) = send(&app, "POST", "/demote", Some(&current)).await;
        assert_eq!(status, StatusCode::OK, "round {round}");
        current = next.expect("a new cookie");
        assert_eq!(
            send(&app, "GET", "/", Some(&current)).await.1,
            "0",
            "round {round}"
        );
    }
    for (round, old) in earlier.iter().enumerate() {
        assert_eq!(
            send(&app, "GET", "/", Some(old)).await.1,
            "none",
            "round {round}"
        );
    }
    let stats = store.stats();
    assert!(
        stats.sessions <= u64::from(SESSIONS_PER_SUBJECT),
        "{stats:?}"
    );
    assert_eq!(
        stats.folded,
        u64::from(rounds - u32::from(SESSIONS_PER_SUBJECT))
    );
    assert_eq!(stats.floor_raises, 0);
    assert_eq!(send(&app, "GET", "/", Some(&alice)).await.1, "1");
}

/// MEDIUM 5: a reload that rebuilds the codec without the store is
/// refused, and the revoked cookie stays refused; one with the same store
/// goes through.
#[tokio::test]
async fn a_reload_cannot_drop_the_revocation_store() {
    let store = Arc::new(MemoryRevocations::new());
    let codec = codec_with(store.clone());
    let ring = codec.key_ring().clone();
    let (app, layer) = app(codec);
    let token = send(&app, "POST", "/login", None).await.2.expect("session");
    send(&app, "POST", "/destroy", Some(&token)).await;
    let forgot = Codec::builder(ring.clone()).build().expect("codec");
    let e = layer.codec_handle().replace(forgot).expect_err("refused");
    assert!(
        matches!(
            e,
            Error::Config(sealed_session::ConfigError::RevocationStoreChanged)
        ),
        "{e:?}"
    );
    let other = codec_with(Arc::new(MemoryRevocations::new()));
    assert!(
        layer.codec_handle().replace(other).is_err(),
        "another store is refused too"
    );
    assert_eq!(send(&app, "GET", "/", Some(&token)).await.1, "none");
    let kept = Codec::builder(ring)
        .revocations(store)
        .build()
        .expect("codec");
    layer.codec_handle().replace(kept).expect("same store");
    assert_eq!(send(&app, "GET", "/", Some(&token)).await.1, "none");
}

/// The attack of the report, through the layer: an anonymous visitor's
/// log-outs revoke nothing, and one account's 5,000 log-in/log-out cycles
/// hold a handful of entries; the victim's copied cookie stays refused.
#[tokio::test]
async fn a_log_out_flood_through_the_layer_leaves_the_victim_refused() {
    let store = Arc::new(MemoryRevocations::with_capacity(100));
    let (app, _) = app(codec_with(store.clone()));
    let victim = send(&app, "POST", "/login", None).await.2.expect("session");
    send(&app, "POST", "/logout", Some(&victim)).await;
    for _ in 0..5_000 {
        let anonymous = send(&app, "POST", "/set", None).await.2.expect("session");
        send(&app, "POST", "/logout", Some(&anonymous)).await;
        let mallory = send(&app, "POST", "/mallory", None)
            .await
            .2
            .expect("session");
        send(&app, "POST", "/logout", Some(&mallory)).await;
    }
    let stats = store.stats();
    assert_eq!(
        stats.sessions,
        1 + u64::from(SESSIONS_PER_SUBJECT),
        "{stats:?}"
    );
    assert_eq!((stats.subjects, stats.floor_raises), (1, 0), "{stats:?}");
    assert_eq!(send(&app, "GET", "/", Some(&victim)).await.1, "none");
    // Mallory's loop only pushed her own new sessions ahead of the clock;
    // everyone else logs in as before.
    let alice = send(&app, "POST", "/login", None).await.2.expect("session");
    assert_eq!(send(&app, "GET", "/", Some(&alice)).await.1, "1");
}

/// A layer around a service that fails (a timeout inside the layer, say):
/// there is no response to carry the deletion, but a session the handler
/// ended is revoked all the same before the error goes on.
#[tokio::test]
async fn an_inner_error_still_revokes_the_ended_session() {
    use tower::Layer as _;
    let codec = codec_with(Arc::new(MemoryRevocations::new()));
    let cookie = SessionCookie::builder("session").build().expect("cookie");
    let layer = SessionLayer::<u8>::new(codec.clone(), cookie);
    let failing = layer.layer(tower::service_fn(|request: Request<Body>| async move {
        let session = request
            .extensions()
            .get::<Session<u8>>()
            .cloned()
            .expect("the layer's session");
        session.destroy();
        Err::<axum::response::Response, &str>("the service failed")
    }));
    let token = codec
        .seal_with(&1u8, SealOptions::new().subject("alice"))
        .expect("seals");
    assert!(codec.open::<u8>(&token).is_ok());
    let request = Request::builder()
        .uri("/")
        .header(header::COOKIE, format!("session={token}"))
        .body(Body::empty())
        .expect("request");
    let error = failing.oneshot(request).await.expect_err("the inner error");
    assert_eq!(error, "the service failed");
    let e = codec.open::<u8>(&token).expect_err("revoked");
    assert!(matches!(e, Error::Revoked), "{e:?}");
}
