//! The axum layer, request by request, in process (`tower::ServiceExt::oneshot`):
//! every rule of `SessionLayer` has a test here that fails if the rule breaks.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, Request, Response, StatusCode, header};
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

async fn log_in(session: Session<Data>, Path(user): Path<String>) -> &'static str {
    session.set_subject(Some(user));
    "logged in"
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
        .route("/subject", get(subject))
        .route("/destroy", post(destroy))
        .route("/cached", post(cached))
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
        a.layer.codec_handle().replace(load(&path));
        b.layer.codec_handle().replace(load(&path));
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
