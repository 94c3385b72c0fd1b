//! The axum layer, request by request, in process (`tower::ServiceExt::oneshot`):
//! every rule of `SessionLayer` has a test here that fails if the rule breaks.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use axum::routing::{get, post};
use http_body_util::BodyExt as _;
use sealed_session::axum::{Session, SessionLayer, TokenHeader};
use sealed_session::{Codec, Key, KeyRing, KeyRingFile, SealOptions, SessionCookie, SessionId};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use tower::ServiceExt as _;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Data {
    n: u64,
    blob: String,
}

const IDLE: Duration = Duration::hours(1);

fn codec(ring: KeyRing) -> Codec {
    Codec::builder(ring)
        .idle_timeout(IDLE)
        .build()
        .expect("codec")
}

fn cookie() -> SessionCookie {
    // Small cookies, so that a few kilobytes take three chunks.
    SessionCookie::builder("sid")
        .chunked(3)
        .cookie_limit(2048)
        .build()
        .expect("cookie")
}

async fn read(session: Session<Data>) -> String {
    session
        .with(|d| d.map(|d| d.n.to_string()))
        .unwrap_or_else(|| "none".to_owned())
}

async fn set(session: Session<Data>, Path(n): Path<u64>) -> &'static str {
    session.insert(Data {
        n,
        blob: String::new(),
    });
    "set"
}

async fn increment(session: Session<Data>) -> String {
    session
        .update_or_insert_with(Data::default, |d| {
            d.n += 1;
            d.n
        })
        .to_string()
}

async fn grow(session: Session<Data>, Path(bytes): Path<usize>) -> &'static str {
    // Random-looking text: CBOR does not shrink it, so the token grows with it.
    let blob = (0..bytes)
        .map(|i| char::from(b'a' + ((i * 7919 + i / 3) % 26) as u8))
        .collect();
    session.update_or_insert_with(Data::default, |d| d.blob = blob);
    "grown"
}

async fn regenerate(session: Session<Data>) -> &'static str {
    session.regenerate();
    "regenerated"
}

async fn log_in(session: Session<Data>, Path(user): Path<String>) -> (StatusCode, &'static str) {
    match session.set_subject(Some(user)) {
        Ok(()) => (StatusCode::OK, "logged in"),
        Err(_) => (StatusCode::BAD_REQUEST, "bad subject"),
    }
}

/// A log-in form's "remember me": 30 days, else 12 hours; any other
/// number of days is refused by the layer's bound, with its numbers.
async fn log_in_remembered(session: Session<Data>, Path(days): Path<i64>) -> (StatusCode, String) {
    session.set_subject(Some("rita".into())).expect("subject");
    let lifetime = if days == 0 {
        Duration::hours(12)
    } else {
        Duration::days(days)
    };
    if let Err(e) = session.set_lifetime(lifetime) {
        return (StatusCode::BAD_REQUEST, e.to_string());
    }
    session.insert(Data::default());
    (StatusCode::OK, format!("{:?}", session.lifetime()))
}

/// Does `what` to the session, then says its own lifetime as the
/// response will seal it.
async fn lifetime_after(session: Session<Data>, Path(what): Path<String>) -> String {
    match what.as_str() {
        "change" => {
            session.update(|d| d.n += 1);
        }
        "regenerate" => session.regenerate(),
        "login-other" => session.set_subject(Some("sam".into())).expect("subject"),
        "anonymous" => session.set_subject(None).expect("no subject"),
        "clear" => session.clear_lifetime(),
        "logout" => session.log_out().await.expect("logged out"),
        "destroy" => {
            session.destroy();
        }
        other => panic!("no such step: {other}"),
    }
    format!("{:?}", session.lifetime())
}

async fn subject(session: Session<Data>) -> String {
    session.subject().unwrap_or_default()
}

async fn destroy(session: Session<Data>) -> &'static str {
    session.destroy();
    "destroyed"
}

async fn cached(session: Session<Data>) -> ([(header::HeaderName, &'static str); 1], &'static str) {
    session.update_or_insert_with(Data::default, |d| d.n += 1);
    ([(header::CACHE_CONTROL, "private, max-age=60")], "cached")
}

async fn public(session: Session<Data>) -> ([(header::HeaderName, &'static str); 1], &'static str) {
    session.update_or_insert_with(Data::default, |d| d.n += 1);
    ([(header::CACHE_CONTROL, "public, max-age=3600")], "public")
}

/// Changes the session, then panics half-way through a second change
/// (caught, as a `CatchPanicLayer` would), answering 500.
async fn panics(session: Session<Data>) -> StatusCode {
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        session.update(|d| {
            d.n = 999;
            panic!("half-way through a change");
        })
    }));
    assert!(caught.is_err());
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn destroy_then_insert(session: Session<Data>) -> &'static str {
    session.destroy();
    session.insert(Data {
        n: 77,
        blob: String::new(),
    });
    "replaced"
}

/// Does `what` to the session, then says the id the response seals it
/// with.
async fn id_after(session: Session<Data>, Path(what): Path<String>) -> String {
    let data = Data {
        n: 5,
        blob: String::new(),
    };
    match what.as_str() {
        "insert" => session.insert(data),
        "regenerate" => session.regenerate(),
        "login" => session.set_subject(Some("bob".into())).expect("subject"),
        "replace" => {
            session.destroy();
            session.insert(data);
        }
        "destroy" => {
            session.destroy();
        }
        "ask-then-replace" => {
            session.regenerate();
            let told = session.session_id();
            session.destroy();
            session.insert(data);
            assert_ne!(session.session_id(), told, "a new session's own id");
        }
        _ => {}
    }
    let first = session.session_id();
    assert_eq!(session.session_id(), first, "asking twice gives one id");
    first.map_or_else(|| "none".to_owned(), |id| id.to_string())
}

async fn plain() -> &'static str {
    "no session here"
}

async fn maybe(session: Option<Session<Data>>) -> String {
    session
        .and_then(|s| s.get())
        .map_or_else(|| "none".to_owned(), |d| d.n.to_string())
}

async fn no_layer(session: Session<u8>) -> String {
    session.get().unwrap_or_default().to_string()
}

fn routes() -> Router<()> {
    Router::new()
        .route("/", get(read))
        .route("/set/{n}", post(set))
        .route("/increment", post(increment))
        .route("/grow/{bytes}", post(grow))
        .route("/regenerate", post(regenerate))
        .route("/login/{user}", post(log_in))
        .route("/remember/{days}", post(log_in_remembered))
        .route("/lifetime/{what}", post(lifetime_after))
        .route("/subject", get(subject))
        .route("/destroy", post(destroy))
        .route("/cached", post(cached))
        .route("/public", post(public))
        .route("/panics", post(panics))
        .route("/destroy-then-insert", post(destroy_then_insert))
        .route("/plain", get(plain))
        .route("/id/{what}", post(id_after))
        .route("/maybe", get(maybe))
}

/// An app with its layer, and a small cookie jar that acts as a browser.
struct Client {
    app: Router,
    layer: SessionLayer<Data>,
    jar: BTreeMap<String, String>,
}

/// What a response did about cookies.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn set_cookies(&self) -> Vec<cookie::Cookie<'static>> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| {
                cookie::Cookie::parse(v.to_str().expect("ascii").to_owned()).expect("a cookie")
            })
            .collect()
    }

    fn removed(&self) -> Vec<String> {
        self.set_cookies()
            .into_iter()
            .filter(|c| c.max_age() == Some(Duration::ZERO))
            .map(|c| c.name().to_owned())
            .collect()
    }

    fn cache_control(&self) -> Option<&str> {
        self.headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().expect("ascii"))
    }
}

impl Client {
    fn new(codec: Codec) -> Self {
        let layer = SessionLayer::<Data>::new(codec, cookie());
        Self {
            app: routes().layer(layer.clone()),
            layer,
            jar: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> Option<String> {
        (!self.jar.is_empty()).then(|| {
            self.jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    async fn send(&mut self, method: &str, uri: &str) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(cookies) = self.cookie_header() {
            request = request.header(header::COOKIE, cookies);
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let reply = into_reply(response).await;
        // Every response that touches a session cookie forbids shared caches.
        if reply.headers.contains_key(header::SET_COOKIE) {
            assert!(reply.cache_control().is_some(), "no Cache-Control");
        }
        for c in reply.set_cookies() {
            if c.max_age() == Some(Duration::ZERO) {
                self.jar.remove(c.name());
            } else {
                self.jar.insert(c.name().to_owned(), c.value().to_owned());
            }
        }
        reply
    }

    /// The token the jar holds, joined from its chunks by the library.
    fn token(&self) -> Option<String> {
        let header = self.cookie_header()?;
        cookie()
            .read([header.as_str()])
            .token()
            .expect("one session")
            .map(|t| t.into_owned())
    }

    fn opened(&self, codec: &Codec) -> sealed_session::Opened<Data> {
        let token = self.token().expect("a session");
        codec.open::<Data>(&token).expect("opens")
    }

    fn session_id(&self, codec: &Codec) -> SessionId {
        self.opened(codec).claims().session_id()
    }
}

async fn into_reply(response: Response<Body>) -> Reply {
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

fn new_codec() -> Codec {
    codec(KeyRing::new(Key::generate()))
}

#[tokio::test]
async fn a_new_session_is_set_once_and_read_without_set_cookie() {
    let mut client = Client::new(new_codec());
    let first = client.send("GET", "/").await;
    assert_eq!(first.body, "none");
    assert!(first.set_cookies().is_empty(), "nothing to set");
    assert!(
        first.cache_control().is_none(),
        "no cookie, no Cache-Control"
    );

    let created = client.send("POST", "/increment").await;
    assert_eq!(created.body, "1");
    assert_eq!(created.set_cookies().len(), 1);
    assert_eq!(created.cache_control(), Some("no-store"));

    for _ in 0..3 {
        let read = client.send("GET", "/").await;
        assert_eq!(read.body, "1");
        assert!(read.set_cookies().is_empty(), "unchanged: no Set-Cookie");
    }
    assert_eq!(client.send("POST", "/increment").await.body, "2");
    assert_eq!(client.send("POST", "/increment").await.body, "3");
    assert_eq!(client.send("GET", "/").await.body, "3");
    let stats = client.layer.stats();
    assert_eq!((stats.sealed, stats.rejected, stats.removed), (3, 0, 0));
}

#[tokio::test]
async fn a_changed_session_keeps_its_id_and_regenerate_changes_it() {
    let codec = new_codec();
    let mut client = Client::new(codec.clone());
    client.send("POST", "/set/41").await;
    let id = client.session_id(&codec);
    client.send("POST", "/increment").await;
    assert_eq!(client.session_id(&codec), id, "a change keeps the id");

    let reply = client.send("POST", "/regenerate").await;
    assert_eq!(reply.set_cookies().len(), 1);
    let opened = client.opened(&codec);
    assert_ne!(opened.claims().session_id(), id, "a new id");
    assert_eq!(opened.value().n, 42, "the same value");
}

/// A handler learns the id its session will carry, a new one included
/// (to record a log-in against it), and the response seals that id.
#[tokio::test]
async fn a_handler_sees_the_id_the_response_seals() {
    let codec = new_codec();
    let mut client = Client::new(codec.clone());
    assert_eq!(client.send("POST", "/id/read").await.body, "none");
    let mut seen = Vec::new();
    for what in [
        "insert",
        "read",
        "regenerate",
        "login",
        "replace",
        "ask-then-replace",
    ] {
        let told = client.send("POST", &format!("/id/{what}")).await.body;
        assert_eq!(told, client.session_id(&codec).to_string(), "{what}");
        seen.push(told);
    }
    assert_eq!(seen[0], seen[1], "a read keeps the id");
    for pair in [(1, 2), (2, 3), (3, 4), (4, 5)] {
        assert_ne!(seen[pair.0], seen[pair.1], "{pair:?}: a new id");
    }
    assert_eq!(client.send("POST", "/id/destroy").await.body, "none");
    assert!(client.token().is_none());
}

#[tokio::test]
async fn setting_a_subject_regenerates_and_is_sealed() {
    let codec = new_codec();
    let mut client = Client::new(codec.clone());
    client.send("POST", "/set/1").await;
    let id = client.session_id(&codec);
    client.send("POST", "/login/alice").await;
    let opened = client.opened(&codec);
    assert_eq!(opened.claims().subject(), Some("alice"));
    assert_ne!(opened.claims().session_id(), id);
    assert_eq!(client.send("GET", "/subject").await.body, "alice");
    // A later change keeps the subject.
    client.send("POST", "/increment").await;
    assert_eq!(client.opened(&codec).claims().subject(), Some("alice"));
}

/// Sliding expiry without a `Set-Cookie` on every response: only past half
/// the idle timeout.
#[tokio::test]
async fn the_cookie_is_renewed_after_half_the_idle_timeout_only() {
    let codec = new_codec();
    let now = OffsetDateTime::now_utc();
    for (age, renewed) in [
        (Duration::minutes(20), false),
        (Duration::minutes(40), true),
    ] {
        let mut client = Client::new(codec.clone());
        let data = Data {
            n: 5,
            blob: String::new(),
        };
        let token = codec
            .seal_with(&data, SealOptions::new().at(now - age))
            .expect("seals");
        client.jar.insert("sid".to_owned(), token);
        let reply = client.send("GET", "/").await;
        assert_eq!(reply.body, "5");
        assert_eq!(!reply.set_cookies().is_empty(), renewed, "issued {age} ago");
        if renewed {
            let opened = client.opened(&codec);
            assert!(opened.claims().issued() > now - Duration::minutes(1));
            assert_eq!(opened.claims().created_unix(), (now - age).unix_timestamp());
        }
    }
}

/// Tampered, expired, foreign-key and old-shape cookies: an empty session
/// and a removal, never a 500.
#[tokio::test]
async fn a_cookie_that_does_not_open_gives_an_empty_session_and_a_removal() {
    let codec = new_codec();
    let now = OffsetDateTime::now_utc();
    let data = Data {
        n: 9,
        blob: String::new(),
    };
    let good = codec.seal(&data).expect("seals");
    let mut tampered = good.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let expired = codec
        .seal_with(&data, SealOptions::new().at(now - Duration::hours(2)))
        .expect("seals");
    let foreign = new_codec().seal(&data).expect("seals");
    let old_shape = codec.seal(&"a string, not Data").expect("seals");
    let cases = [
        ("tampered", tampered, false),
        ("expired", expired, false),
        ("foreign key", foreign, false),
        ("garbage", "not a token".to_owned(), false),
        ("old shape", old_shape, true),
    ];
    for (what, token, is_old_shape) in cases {
        let mut client = Client::new(codec.clone());
        client.jar.insert("sid".to_owned(), token);
        let reply = client.send("GET", "/").await;
        assert_eq!(reply.status, StatusCode::OK, "{what}");
        assert_eq!(reply.body, "none", "{what}");
        assert_eq!(reply.removed(), ["sid"], "{what}");
        assert_eq!(reply.cache_control(), Some("no-store"), "{what}");
        assert!(client.jar.is_empty(), "{what}");
        let stats = client.layer.stats();
        assert_eq!(
            (stats.rejected, stats.old_shape, stats.removed),
            if is_old_shape { (0, 1, 1) } else { (1, 0, 1) },
            "{what}"
        );
        // The same request that creates a session replaces the bad cookie.
        client.jar.insert("sid".to_owned(), "AAAA".to_owned());
        let reply = client.send("POST", "/increment").await;
        assert_eq!(reply.body, "1", "{what}");
        assert_eq!(client.opened(&codec).value().n, 1, "{what}");
    }
}

#[tokio::test]
async fn a_session_under_an_older_key_is_resealed_under_the_primary() {
    let (old, new) = (Key::generate(), Key::generate());
    let before = codec(KeyRing::new(old.clone()));
    let after = codec(KeyRing::new(new.clone()).with_accepted(old.clone()));
    let mut client = Client::new(after.clone());
    let token = before.seal(&Data::default()).expect("seals");
    client.jar.insert("sid".to_owned(), token);
    let id = client.session_id(&after);
    let reply = client.send("GET", "/").await;
    assert_eq!(reply.set_cookies().len(), 1, "re-sealed");
    let opened = client.opened(&after);
    assert_eq!(opened.key_id(), new.id());
    assert_eq!(opened.claims().session_id(), id);
    assert!(client.send("GET", "/").await.set_cookies().is_empty());
}

#[tokio::test]
async fn destroy_removes_every_chunk() {
    let codec = new_codec();
    let mut client = Client::new(codec.clone());
    client.send("POST", "/grow/2000").await;
    assert_eq!(client.jar.len(), 2, "{:?}", client.jar.keys());
    let reply = client.send("POST", "/destroy").await;
    let mut removed = reply.removed();
    removed.sort();
    assert_eq!(removed, ["sid", "sid.1"]);
    assert_eq!(reply.cache_control(), Some("no-store"));
    assert!(client.jar.is_empty());
    assert_eq!(client.send("GET", "/").await.body, "none");
    // Destroying no session sets nothing.
    let reply = client.send("POST", "/destroy").await;
    assert!(reply.set_cookies().is_empty());
}

#[tokio::test]
async fn a_chunked_session_that_shrinks_deletes_its_stale_chunks() {
    let codec = new_codec();
    let mut client = Client::new(codec.clone());
    client.send("POST", "/grow/4000").await;
    assert_eq!(client.jar.len(), 3, "{:?}", client.jar.keys());
    assert_eq!(client.send("POST", "/increment").await.body, "1");
    assert_eq!(client.jar.len(), 3);
    let reply = client.send("POST", "/grow/10").await;
    let mut removed = reply.removed();
    removed.sort();
    assert_eq!(removed, ["sid.1", "sid.2"]);
    assert_eq!(client.jar.keys().collect::<Vec<_>>(), ["sid"]);
    assert_eq!(client.send("GET", "/").await.body, "1");
}

/// Too large for its cookies: a 500 the operator can see, never a cookie
/// the browser would drop.
#[tokio::test]
async fn an_oversized_session_is_a_server_error_not_a_dropped_cookie() {
    let mut client = Client::new(new_codec());
    client.send("POST", "/set/3").await;
    let reply = client.send("POST", "/grow/20000").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.set_cookies().is_empty());
    assert_eq!(reply.cache_control(), Some("no-store"));
    // The body says why (seen without a tracing subscriber), with the
    // figures and never the session's contents.
    assert!(
        reply
            .body
            .starts_with("500 Internal Server Error: the session cannot be sealed: ")
            && reply.body.contains("the sealed session is 2")
            && reply.body.contains("bytes over"),
        "{}",
        reply.body
    );
    assert!(!reply.body.contains("apeujyod"), "{}", reply.body);
    assert_eq!(
        reply
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(client.layer.stats().failed, 1);
    // The session the browser holds is untouched.
    assert_eq!(client.send("GET", "/").await.body, "3");
}

#[tokio::test]
async fn a_handlers_own_cache_control_is_kept() {
    let mut client = Client::new(new_codec());
    let reply = client.send("POST", "/cached").await;
    assert_eq!(reply.set_cookies().len(), 1);
    assert_eq!(reply.cache_control(), Some("private, max-age=60"));
}

#[tokio::test]
async fn a_route_without_the_layer_is_a_500() {
    let app: Router = Router::new().route("/", get(no_layer));
    let response = app
        .oneshot(Request::get("/").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains("takes a Session<u8> but this route has no SessionLayer<u8>"),
        "{body}"
    );
}

/// `Option<Session<T>>`: the request's session if it has one.
#[tokio::test]
async fn an_optional_session_is_the_requests_session_or_none() {
    let mut client = Client::new(new_codec());
    let reply = client.send("GET", "/maybe").await;
    assert_eq!(reply.body, "none");
    // The answer depends on the cookie, `None` included.
    assert_eq!(
        reply
            .headers
            .get(header::VARY)
            .and_then(|v| v.to_str().ok()),
        Some("cookie")
    );
    client.send("POST", "/set/8").await;
    assert_eq!(client.send("GET", "/maybe").await.body, "8");
    // Without the layer: still the server's bug, not `None`.
    let app: Router = Router::new().route("/", get(maybe));
    let response = app
        .oneshot(Request::get("/").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

/// Two instances of an app share a key-ring file; the operator adds a key,
/// promotes it and removes the old one, each instance reloading the file
/// after each step. Nobody is logged out: every session opens on both
/// instances at every step.
#[tokio::test]
async fn two_instances_rotate_keys_through_a_shared_ring_file_without_logging_anyone_out() {
    let dir = std::env::temp_dir().join(format!("sealed-session-layer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("ring");
    let load = |path: &std::path::Path| codec(KeyRingFile::load(path).expect("ring").key_ring());
    let now = OffsetDateTime::now_utc();
    let first = Key::generate();
    let mut file = KeyRingFile::new(first.clone(), now);
    std::fs::write(&path, file.to_text().as_bytes()).expect("write");

    let mut a = Client::new(load(&path));
    let mut b = Client::new(load(&path));
    // A user logs in on A.
    assert_eq!(a.send("POST", "/set/7").await.body, "set");

    let second = Key::generate();
    let steps: [&dyn Fn(&mut KeyRingFile); 3] = [
        &|f| f.add(second.clone(), now).expect("add"),
        &|f| f.promote(second.id()).expect("promote"),
        &|f| f.remove(first.id()).expect("remove"),
    ];
    for (step, change) in steps.iter().enumerate() {
        if step == 2 {
            // Before the old key goes, the user comes back once and is re-sealed.
            b.jar = a.jar.clone();
            let reply = b.send("GET", "/").await;
            assert_eq!(reply.body, "7");
            a.jar = b.jar.clone();
        }
        change(&mut file);
        std::fs::write(&path, file.to_text().as_bytes()).expect("write");
        a.layer
            .codec_handle()
            .replace(load(&path))
            .expect("same store");
        b.layer
            .codec_handle()
            .replace(load(&path))
            .expect("same store");
        // The user's cookie opens on both instances.
        b.jar = a.jar.clone();
        assert_eq!(b.send("GET", "/").await.body, "7", "step {step} on B");
        a.jar = b.jar.clone();
        assert_eq!(a.send("GET", "/").await.body, "7", "step {step} on A");
        assert_eq!(a.layer.stats().rejected + b.layer.stats().rejected, 0);
    }
    assert_eq!(a.opened(&load(&path)).key_id(), second.id());
    std::fs::remove_dir_all(&dir).ok();
}

/// API clients without cookies: the token in `Authorization: Bearer`, the
/// new one in a response header.
#[tokio::test]
async fn header_transport_reads_a_bearer_token_and_answers_in_a_header() {
    let codec = new_codec();
    let layer = SessionLayer::<Data>::in_header(codec.clone(), TokenHeader::bearer());
    let app = routes().layer(layer.clone());
    let send = |method: &str, uri: &str, token: Option<&str>| {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let app = app.clone();
        let request = request.body(Body::empty()).expect("request");
        async move { into_reply(app.oneshot(request).await.expect("infallible")).await }
    };
    let reply = send("POST", "/set/11", None).await;
    assert!(reply.set_cookies().is_empty(), "no cookies in header mode");
    assert_eq!(reply.cache_control(), Some("no-store"));
    let token = reply.headers["session-token"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(codec.open::<Data>(&token).expect("opens").value().n, 11);

    let reply = send("GET", "/", Some(&token)).await;
    assert_eq!(reply.body, "11");
    assert!(!reply.headers.contains_key("session-token"), "unchanged");
    // No header, no session (cookies are not read in header mode).
    let reply = send("GET", "/", None).await;
    assert_eq!(reply.body, "none");

    let reply = send("GET", "/", Some("forged")).await;
    assert_eq!(reply.body, "none");
    assert_eq!(reply.headers["session-token"], "", "discard your token");
    let reply = send("POST", "/destroy", Some(&token)).await;
    assert_eq!(reply.headers["session-token"], "");
    assert_eq!(layer.stats().rejected, 1);
}

/// Captures what the layer logs, for the log-line tests.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("logs").clone()).expect("utf-8")
    }
}

/// The operator sees why: an oversized session is an error line with its
/// size and the limit; an old shape is a debug line; neither quotes the
/// session or the token.
#[tokio::test]
async fn the_layer_logs_oversized_and_old_shape_sessions_with_figures_not_contents() {
    let logs = Logs::default();
    let _guard = logs.install();
    let codec = new_codec();
    let mut client = Client::new(codec.clone());
    client.send("POST", "/grow/20000").await;
    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("does not fit"))
        .unwrap_or_else(|| panic!("no error line in {text:?}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("size=") && line.contains("limit="), "{line}");
    assert!(line.len() < 1000, "session contents in the log? {line}");

    let secret = "secret-session-text";
    let token = codec.seal(&secret).expect("seals");
    client.jar.insert("sid".to_owned(), token.clone());
    client.send("GET", "/").await;
    let text = logs.text();
    assert!(
        text.lines()
            .any(|l| l.contains("DEBUG") && l.contains("not of the layer's type")),
        "{text}"
    );
    assert!(!text.contains(secret) && !text.contains(&token), "{text}");
}

/// A session at its absolute end, still within the clock leeway: it opens,
/// cannot be re-sealed, and is removed, never a 500.
#[tokio::test]
async fn a_session_that_ends_during_the_request_is_removed_not_a_500() {
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .max_lifetime(Duration::hours(1))
        .idle_timeout(Duration::hours(1))
        .build()
        .expect("codec");
    let mut client = Client::new(codec.clone());
    let sealed_at = OffsetDateTime::now_utc() - Duration::seconds(3600 + 10);
    let token = codec
        .seal_with(&Data::default(), SealOptions::new().at(sealed_at))
        .expect("seals");
    for route in ["/", "/increment"] {
        client.jar.insert("sid".to_owned(), token.clone());
        let reply = client
            .send(if route == "/" { "GET" } else { "POST" }, route)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{route}");
        assert_eq!(reply.removed(), ["sid"], "{route}");
        assert_eq!(client.layer.stats().failed, 0, "{route}");
    }
}

/// A handler that panics while changing the session: the response leaves
/// the cookie as it was, never sealing the half-changed value.
#[tokio::test]
async fn a_handler_that_panics_mid_change_seals_nothing() {
    let codec = new_codec();
    let mut client = Client::new(codec.clone());
    client.send("POST", "/set/5").await;
    let before = client.jar.clone();
    let reply = client.send("POST", "/panics").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.set_cookies().is_empty());
    assert_eq!(client.jar, before);
    assert_eq!(client.send("GET", "/").await.body, "5");
}

#[tokio::test]
async fn a_handlers_public_cache_control_is_replaced_when_a_cookie_is_set() {
    let mut client = Client::new(new_codec());
    let reply = client.send("POST", "/public").await;
    assert_eq!(reply.set_cookies().len(), 1);
    assert_eq!(reply.cache_control(), Some("no-store"));
}

/// Responses that depend on the session say so to caches; others do not.
#[tokio::test]
async fn responses_that_depend_on_the_session_vary_on_cookie() {
    let mut client = Client::new(new_codec());
    let vary = |reply: &Reply| {
        reply
            .headers
            .get_all(header::VARY)
            .iter()
            .map(|v| v.to_str().expect("ascii").to_owned())
            .collect::<Vec<_>>()
    };
    let reply = client.send("GET", "/plain").await;
    assert!(
        vary(&reply).is_empty(),
        "no session, not used: {:?}",
        vary(&reply)
    );
    let reply = client.send("GET", "/").await;
    assert_eq!(
        vary(&reply),
        ["cookie"],
        "the handler read the (empty) session"
    );
    client.send("POST", "/set/1").await;
    let reply = client.send("GET", "/plain").await;
    assert_eq!(vary(&reply), ["cookie"], "the request carried a session");
}

/// Destroy then insert in one request: a new session with a new id, and
/// the old chunks deleted.
#[tokio::test]
async fn insert_after_destroy_starts_a_new_session() {
    let codec = new_codec();
    let mut client = Client::new(codec.clone());
    client.send("POST", "/grow/2000").await;
    assert_eq!(client.jar.len(), 2);
    let id = client.session_id(&codec);
    let reply = client.send("POST", "/destroy-then-insert").await;
    assert_eq!(reply.removed(), ["sid.1"]);
    let opened = client.opened(&codec);
    assert_ne!(opened.claims().session_id(), id);
    assert_eq!(opened.value().n, 77);
    assert_eq!(client.jar.len(), 1);
}

/// Regenerate keeps `created`: the absolute lifetime does not restart.
#[tokio::test]
async fn regenerate_keeps_the_creation_time() {
    let codec = new_codec();
    let mut client = Client::new(codec.clone());
    let created = OffsetDateTime::now_utc() - Duration::minutes(10);
    let token = codec
        .seal_with(&Data::default(), SealOptions::new().at(created))
        .expect("seals");
    client.jar.insert("sid".to_owned(), token);
    client.send("POST", "/regenerate").await;
    let opened = client.opened(&codec);
    assert_eq!(opened.claims().created_unix(), created.unix_timestamp());
    // A log-in is a new session: new id, created now.
    let id = opened.claims().session_id();
    client.send("POST", "/login/carol").await;
    let opened = client.opened(&codec);
    assert!(opened.claims().created_unix() > created.unix_timestamp());
    assert_ne!(opened.claims().session_id(), id);
    assert_eq!(opened.claims().subject(), Some("carol"));
}

/// A subject that is not 1 to 255 bytes is refused when set (the handler
/// answers 400), and a subject or regenerate without a session seals
/// nothing.
#[tokio::test]
async fn subjects_are_checked_when_set_and_need_a_session() {
    let mut client = Client::new(new_codec());
    let reply = client.send("POST", "/login/alice").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.set_cookies().is_empty(), "no session to carry it");
    assert!(
        client
            .send("POST", "/regenerate")
            .await
            .set_cookies()
            .is_empty()
    );
    client.send("POST", "/set/1").await;
    let long = "x".repeat(256);
    let reply = client.send("POST", &format!("/login/{long}")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.set_cookies().is_empty());
}

/// Chunks that do not form one session (one left from another) give an
/// empty session and the deletion of every chunk the request carried.
#[tokio::test]
async fn chunks_of_two_sessions_are_refused_and_all_deleted() {
    let codec = new_codec();
    let mut first = Client::new(codec.clone());
    first.send("POST", "/grow/2000").await;
    let mut second = Client::new(codec.clone());
    second.send("POST", "/grow/2000").await;
    let mut client = Client::new(codec.clone());
    client
        .jar
        .insert("sid".to_owned(), first.jar["sid"].clone());
    client
        .jar
        .insert("sid.1".to_owned(), second.jar["sid.1"].clone());
    let reply = client.send("GET", "/").await;
    assert_eq!(reply.body, "none");
    let mut removed = reply.removed();
    removed.sort();
    assert_eq!(removed, ["sid", "sid.1"]);
    assert_eq!(client.layer.stats().rejected, 1);
}

/// A byte that is not UTF-8 in another cookie hides only that cookie.
#[tokio::test]
async fn a_stray_byte_in_another_cookie_does_not_hide_the_session() {
    let codec = new_codec();
    let mut client = Client::new(codec.clone());
    client.send("POST", "/set/8").await;
    let mut header = b"theme=\xff\xfe; ".to_vec();
    header.extend_from_slice(client.cookie_header().expect("a session").as_bytes());
    let request = Request::get("/")
        .header(
            header::COOKIE,
            HeaderValue::from_bytes(&header).expect("obs-text is allowed"),
        )
        .body(Body::empty())
        .expect("request");
    let reply = into_reply(
        client
            .app
            .clone()
            .oneshot(request)
            .await
            .expect("infallible"),
    )
    .await;
    assert_eq!(reply.body, "8");
}

/// A request finishes with the codec it started with, even when the codec
/// is replaced while its handler runs.
#[tokio::test]
async fn a_request_keeps_the_codec_it_started_with() {
    let before = new_codec();
    let after = new_codec(); // another key: sessions of `before` do not open
    let layer = SessionLayer::<Data>::new(before.clone(), cookie());
    let handle = layer.codec_handle();
    let swap = move |session: Session<Data>| {
        let handle = handle.clone();
        let after = after.clone();
        async move {
            handle.replace(after).expect("no store");
            session.insert(Data {
                n: 3,
                blob: String::new(),
            });
            "swapped"
        }
    };
    let app: Router = Router::new()
        .route("/swap", post(swap))
        .layer(layer.clone());
    let response = app
        .oneshot(Request::post("/swap").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let reply = into_reply(response).await;
    let token = reply.set_cookies()[0].value().to_owned();
    assert_eq!(
        before
            .open::<Data>(&token)
            .expect("sealed by the request's codec")
            .value()
            .n,
        3
    );
    assert!(layer.codec_handle().current().open::<Data>(&token).is_err());
}

/// A named request header carries the token both ways, and responses vary
/// on it.
#[tokio::test]
async fn a_named_header_carries_the_token_both_ways() {
    let codec = new_codec();
    let name = header::HeaderName::from_static("x-session");
    let layer = SessionLayer::<Data>::in_header(codec.clone(), TokenHeader::named(name.clone()));
    let app = routes().layer(layer);
    let send = |uri: &'static str, method: &'static str, token: Option<String>| {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(name.clone(), format!("  {token} "));
        }
        let app = app.clone();
        let request = request.body(Body::empty()).expect("request");
        async move { into_reply(app.oneshot(request).await.expect("infallible")).await }
    };
    let reply = send("/set/12", "POST", None).await;
    let token = reply.headers["x-session"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(codec.open::<Data>(&token).expect("opens").value().n, 12);
    let reply = send("/", "GET", Some(token)).await;
    assert_eq!(reply.body, "12");
    assert_eq!(reply.headers[header::VARY], "x-session");
    assert!(!reply.headers.contains_key("x-session"));
}

/// "Remember me": the session's own lifetime sets the cookie's Max-Age and
/// is kept when later requests change the session; beyond the codec's
/// maximum the handler gets the error (a 400 here, never a 500).
#[tokio::test]
async fn a_remembered_log_in_keeps_its_own_lifetime() {
    let long = Codec::builder(KeyRing::new(Key::generate()))
        .max_lifetime(Duration::days(30))
        .build()
        .expect("codec");
    let max_age = |reply: &Reply| {
        reply
            .set_cookies()
            .iter()
            .find(|c| c.name() == "sid")
            .and_then(|c| c.max_age())
    };
    for (days, lifetime) in [(0, Duration::hours(12)), (30, Duration::days(30))] {
        let mut client = Client::new(long.clone());
        let reply = client.send("POST", &format!("/remember/{days}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body, format!("{:?}", Some(lifetime)));
        assert_eq!(max_age(&reply), Some(lifetime));
        // A later change re-seals it: the end stays where it was.
        let reply = client.send("POST", "/increment").await;
        let age = max_age(&reply).expect("re-sealed");
        assert!(
            age <= lifetime && age >= lifetime - Duration::seconds(2),
            "{age}"
        );
    }
    let mut client = Client::new(long);
    let reply = client.send("POST", "/remember/31").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body.contains("2678400 s") && reply.body.contains("2592000 s"),
        "{}",
        reply.body
    );
    assert!(reply.set_cookies().is_empty(), "nothing sealed");
}

/// The `Max-Age` of the response's session cookie, if it set one.
fn max_age(reply: &Reply) -> Option<Duration> {
    reply
        .set_cookies()
        .iter()
        .find(|c| c.name() == "sid")
        .and_then(|c| c.max_age())
}

/// Whether `age` is `want`, less the few seconds a test may take.
fn about(age: Option<Duration>, want: Duration) -> bool {
    age.is_some_and(|age| age <= want && age >= want - Duration::seconds(3))
}

/// A session's own lifetime below the codec's maximum, through every rule
/// that seals a session anew: a change and a regenerate keep it (and its
/// end); the log-in of another user, a log-out of the user that keeps the
/// session, and `clear_lifetime` drop it (the codec's maximum applies
/// again); a log-out and a destroy end the session. `Session::lifetime`
/// says in the handler what the response seals, and the cookie's Max-Age
/// follows.
#[tokio::test]
async fn a_sessions_own_lifetime_through_log_in_log_out_regenerate_and_destroy() {
    let max = Duration::days(30);
    let twelve = Duration::hours(12);
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .max_lifetime(max)
        .build()
        .expect("codec");
    let mut client = Client::new(codec.clone());
    let own = |client: &Client| client.opened(&codec).claims().lifetime();

    let reply = client.send("POST", "/remember/0").await;
    assert_eq!(reply.body, format!("{:?}", Some(twelve)));
    assert!(about(max_age(&reply), twelve), "{:?}", max_age(&reply));

    for step in ["change", "regenerate"] {
        let id = client.session_id(&codec);
        let reply = client.send("POST", &format!("/lifetime/{step}")).await;
        assert_eq!(reply.body, format!("{:?}", Some(twelve)), "{step}");
        assert!(
            about(max_age(&reply), twelve),
            "{step}: {:?}",
            max_age(&reply)
        );
        assert_eq!(own(&client), Some(twelve), "{step}");
        assert_eq!(client.session_id(&codec) != id, step == "regenerate");
    }

    // Each time from a fresh "remember me" log-in of rita (12 h).
    for (step, subject) in [
        ("login-other", Some("sam")),
        ("anonymous", None),
        ("clear", Some("rita")),
    ] {
        client.send("POST", "/remember/0").await;
        assert_eq!(own(&client), Some(twelve));
        let reply = client.send("POST", &format!("/lifetime/{step}")).await;
        assert_eq!(reply.body, "None", "{step}");
        assert!(about(max_age(&reply), max), "{step}: {:?}", max_age(&reply));
        assert_eq!(own(&client), None, "{step}");
        assert_eq!(client.opened(&codec).claims().subject(), subject, "{step}");
    }

    for step in ["logout", "destroy"] {
        client.send("POST", "/remember/0").await;
        let reply = client.send("POST", &format!("/lifetime/{step}")).await;
        assert_eq!(reply.body, "None", "{step}");
        assert_eq!(reply.removed(), ["sid"], "{step}");
        assert!(client.jar.is_empty(), "{step}");
    }
}

/// With a revocation store, a regenerate past `SESSIONS_PER_SUBJECT`
/// seals the session as a new one: it keeps its own lifetime, whose clock
/// restarts (`Session::set_lifetime` says so).
#[tokio::test]
async fn a_regenerate_that_folds_restarts_the_clock_of_a_sessions_own_lifetime() {
    let twelve = Duration::hours(12);
    let store = std::sync::Arc::new(sealed_session::MemoryRevocations::new());
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .max_lifetime(Duration::days(30))
        .revocations(store)
        .build()
        .expect("codec");
    let mut client = Client::new(codec.clone());
    let hour_ago = OffsetDateTime::now_utc() - Duration::hours(1);
    let options = SealOptions::new()
        .subject("rita")
        .lifetime(twelve)
        .at(hour_ago);
    let token = codec.seal_with(&Data::default(), options).expect("seals");
    client.jar.insert("sid".to_owned(), token);
    for round in 0..=sealed_session::SESSIONS_PER_SUBJECT {
        let reply = client.send("POST", "/lifetime/regenerate").await;
        assert_eq!(reply.body, format!("{:?}", Some(twelve)), "round {round}");
        let claims = client.opened(&codec).claims().clone();
        assert_eq!(claims.lifetime(), Some(twelve), "round {round}");
        if round < sealed_session::SESSIONS_PER_SUBJECT {
            assert_eq!(claims.created_unix(), hour_ago.unix_timestamp());
            assert!(about(max_age(&reply), Duration::hours(11)), "round {round}");
        } else {
            assert!(claims.created_unix() > hour_ago.unix_timestamp(), "folded");
            assert!(about(max_age(&reply), twelve), "{:?}", max_age(&reply));
        }
    }
}

/// An operator lowers `max_lifetime` below a session's own lifetime: the
/// lower one applies at once, and a re-seal writes it (the codec never
/// seals a lifetime beyond its maximum, FORMAT.md §6.1), so the session
/// keeps it if the maximum is raised again.
#[tokio::test]
async fn a_lowered_max_lifetime_lowers_a_sessions_own_lifetime() {
    let ring = KeyRing::new(Key::generate());
    let build = |max| {
        Codec::builder(ring.clone())
            .max_lifetime(max)
            .build()
            .expect("codec")
    };
    let (long, short) = (build(Duration::days(30)), build(Duration::days(7)));
    let mut before = Client::new(long.clone());
    before.send("POST", "/remember/30").await;
    let mut after = Client::new(short.clone());
    after.jar = before.jar.clone();
    let reply = after.send("POST", "/lifetime/change").await;
    assert_eq!(reply.body, format!("{:?}", Some(Duration::days(7))));
    assert!(about(max_age(&reply), Duration::days(7)));
    assert_eq!(
        after.opened(&short).claims().lifetime(),
        Some(Duration::days(7))
    );
    assert_eq!(
        after.opened(&long).claims().lifetime(),
        Some(Duration::days(7)),
        "kept when the maximum is raised again"
    );
}
