//! The contenders: one axum app each, with the same three routes. `/setup`
//! creates the session (the typical reference session), `/read` reads it,
//! `/modify` reads it and changes one field. The handlers check what they
//! read, so that a contender that lost its session cannot look fast.

use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{Request, StatusCode, header};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, Key as JarKey, PrivateCookieJar};
use sealed_session::axum::{Session, SessionLayer};
use std::sync::Arc;

use sealed_session::{Codec, Key, KeyRing, Revocations, SessionCookie};
use tower::ServiceExt as _;

use crate::common::{Typical, typical};

const KEY: &str = "session";
/// The user id of the reference session, which every handler checks.
const USER_ID: u64 = 123_456_789;

/// What a handler answers when the session it read is the one set up.
const OK: &str = "ok";

fn checked(found: Option<Typical>) -> (StatusCode, &'static str) {
    match found {
        Some(t) if t.user_id == USER_ID => (StatusCode::OK, OK),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "session lost"),
    }
}

fn checked_id(user_id: Option<u64>) -> (StatusCode, &'static str) {
    if user_id == Some(USER_ID) {
        (StatusCode::OK, OK)
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, "session lost")
    }
}

/// An app and the `Cookie` header of a client that has a session there.
pub(crate) struct App {
    pub(crate) name: &'static str,
    pub(crate) router: Router,
}

/// The floor: the same routes with no session at all.
pub(crate) fn none() -> App {
    let ok = || async { OK };
    App {
        name: "no session",
        router: Router::new()
            .route("/setup", post(ok))
            .route("/read", get(ok))
            .route("/modify", post(ok)),
    }
}

/// sealed-session's layer, with the defaults a new user gets.
pub(crate) fn ours() -> App {
    ours_with("sealed-session", None)
}

/// Our layer whose codec checks `revocations` at every open; the session
/// has a subject, so that a check looks up both the id and the subject.
pub(crate) fn ours_with(name: &'static str, revocations: Option<Arc<dyn Revocations>>) -> App {
    let mut builder = Codec::builder(KeyRing::new(Key::generate()));
    let with_subject = revocations.is_some() || name != "sealed-session";
    if let Some(revocations) = revocations {
        builder = builder.revocations(revocations);
    }
    let codec = builder.build().expect("codec");
    let cookie = SessionCookie::builder(KEY).build().expect("cookie");
    let setup = move |session: Session<Typical>| async move {
        session.insert(typical());
        if with_subject {
            session.set_subject(Some("alice".into())).expect("subject");
        }
        OK
    };
    // Read in place: the layer holds the value, no copy is needed.
    async fn read(session: Session<Typical>) -> (StatusCode, &'static str) {
        session.with(|t| match t {
            Some(t) if t.user_id == USER_ID => (StatusCode::OK, OK),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "session lost"),
        })
    }
    async fn modify(session: Session<Typical>) -> (StatusCode, &'static str) {
        let changed = session.update(|t| {
            t.created += 1;
            t.user_id
        });
        checked_id(changed)
    }
    App {
        name,
        router: Router::new()
            .route("/setup", post(setup))
            .route("/read", get(read))
            .route("/modify", post(modify))
            .layer(SessionLayer::<Typical>::new(codec, cookie)),
    }
}

/// The harder case a real app meets: a `__Host-` cookie, a logged-in
/// session (a subject) checked against a revocation store holding other
/// users' log-outs, and a browser's full `Cookie` header
/// ([`BROWSER_COOKIES`] around the session).
pub(crate) fn ours_in_a_browser(revocations: Arc<dyn Revocations>) -> App {
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .revocations(revocations)
        .build()
        .expect("codec");
    let cookie = SessionCookie::builder(KEY)
        .prefix(sealed_session::CookiePrefix::Host)
        .build()
        .expect("cookie");
    async fn setup(session: Session<Typical>) -> &'static str {
        session.insert(typical());
        session.set_subject(Some("alice".into())).expect("subject");
        OK
    }
    async fn read(session: Session<Typical>) -> (StatusCode, &'static str) {
        session.with(|t| match t {
            Some(t) if t.user_id == USER_ID => (StatusCode::OK, OK),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "session lost"),
        })
    }
    async fn modify(session: Session<Typical>) -> (StatusCode, &'static str) {
        let changed = session.update(|t| {
            t.created += 1;
            t.user_id
        });
        checked_id(changed)
    }
    App {
        name: "sealed-session, a browser's case",
        router: Router::new()
            .route("/setup", post(setup))
            .route("/read", get(read))
            .route("/modify", post(modify))
            .layer(SessionLayer::<Typical>::new(codec, cookie)),
    }
}

/// `tower-sessions` 0.15 with its in-memory store.
pub(crate) fn tower_sessions_memory() -> App {
    use tower_sessions::{MemoryStore, Session, SessionManagerLayer};
    async fn setup(session: Session) -> &'static str {
        session.insert(KEY, typical()).await.expect("insert");
        OK
    }
    async fn read(session: Session) -> (StatusCode, &'static str) {
        checked(session.get::<Typical>(KEY).await.expect("get"))
    }
    async fn modify(session: Session) -> (StatusCode, &'static str) {
        let mut t = session.get::<Typical>(KEY).await.expect("get");
        if let Some(t) = &mut t {
            t.created += 1;
            session.insert(KEY, &*t).await.expect("insert");
        }
        checked(t)
    }
    App {
        name: "tower-sessions 0.15, memory store",
        router: Router::new()
            .route("/setup", post(setup))
            .route("/read", get(read))
            .route("/modify", post(modify))
            .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false)),
    }
}

/// `tower-sessions` 0.14 (the version its Redis store supports) with
/// `tower-sessions-redis-store` 0.16 against a real `redis-server`.
pub(crate) async fn tower_sessions_redis(url: &str) -> App {
    use tower_sessions_014::{Session, SessionManagerLayer};
    use tower_sessions_redis_store::RedisStore;
    use tower_sessions_redis_store::fred::prelude::{ClientLike as _, Config, Pool};
    async fn setup(session: Session) -> &'static str {
        session.insert(KEY, typical()).await.expect("insert");
        OK
    }
    async fn read(session: Session) -> (StatusCode, &'static str) {
        checked(session.get::<Typical>(KEY).await.expect("get"))
    }
    async fn modify(session: Session) -> (StatusCode, &'static str) {
        let mut t = session.get::<Typical>(KEY).await.expect("get");
        if let Some(t) = &mut t {
            t.created += 1;
            session.insert(KEY, &*t).await.expect("insert");
        }
        checked(t)
    }
    let config = Config::from_url(url).expect("redis url");
    let pool = Pool::new(config, None, None, None, 4).expect("redis pool");
    pool.init().await.expect("redis connects");
    App {
        name: "tower-sessions 0.14, Redis store",
        router: Router::new()
            .route("/setup", post(setup))
            .route("/read", get(read))
            .route("/modify", post(modify))
            .layer(SessionManagerLayer::new(RedisStore::new(pool)).with_secure(false)),
    }
}

/// `axum-extra`'s `PrivateCookieJar` (the `cookie` crate's AES-256-GCM
/// private jar) with the session as JSON.
pub(crate) fn private_cookie_jar() -> App {
    #[derive(Clone)]
    struct State {
        key: JarKey,
    }
    impl FromRef<State> for JarKey {
        fn from_ref(state: &State) -> Self {
            state.key.clone()
        }
    }
    fn json(t: &Typical) -> String {
        serde_json::to_string(t).expect("json")
    }
    fn parse(jar: &PrivateCookieJar) -> Option<Typical> {
        serde_json::from_str(jar.get(KEY)?.value()).ok()
    }
    fn cookie(value: String) -> Cookie<'static> {
        Cookie::build((KEY, value))
            .path("/")
            .http_only(true)
            .secure(true)
            .same_site(axum_extra::extract::cookie::SameSite::Lax)
            .build()
    }
    async fn setup(jar: PrivateCookieJar) -> (PrivateCookieJar, &'static str) {
        (jar.add(cookie(json(&typical()))), OK)
    }
    async fn read(jar: PrivateCookieJar) -> (StatusCode, &'static str) {
        checked(parse(&jar))
    }
    async fn modify(jar: PrivateCookieJar) -> (PrivateCookieJar, (StatusCode, &'static str)) {
        let mut t = parse(&jar);
        let jar = match &mut t {
            Some(t) => {
                t.created += 1;
                jar.add(cookie(json(t)))
            }
            None => jar,
        };
        (jar, checked(t))
    }
    App {
        name: "axum-extra PrivateCookieJar + JSON",
        router: Router::new()
            .route("/setup", post(setup))
            .route("/read", get(read))
            .route("/modify", post(modify))
            .with_state(State {
                key: JarKey::generate(),
            }),
    }
}

/// Other cookies a real site sends beside the session.
pub(crate) const OTHER_COOKIES: &str = "theme=dark; lang=en";

/// What a browser sends to a site with analytics, consent and A/B
/// cookies (about 500 bytes, values with commas, quotes and `%`), split
/// around the session's place in the header.
pub(crate) const BROWSER_COOKIES: [&str; 2] = [
    "_ga=GA1.1.1234567890.1700000000; _gid=GA1.1.987654321.1700000000; \
     _fbp=fb.1.1700000000000.1234567890; \
     consent={\"necessary\":true,\"analytics\":true,\"marketing\":false}; \
     csrftoken=Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8; ab_test=variant-b",
    "theme=dark; lang=en-GB; tz=Europe%2FLondon; recently_viewed=1234,5678,9012,3456; \
     _hjSessionUser_123456=eyJpZCI6IjEyMzQ1Njc4OTAiLCJjcmVhdGVkIjoxNzAwMDAwMDAwfQ",
];

impl App {
    /// Creates a session through `/setup` and returns the `Cookie` header
    /// value that carries it (with the site's other cookies).
    pub(crate) async fn session_cookie(&self) -> String {
        let response = self
            .router
            .clone()
            .oneshot(
                Request::post("/setup")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        assert!(
            response.status().is_success(),
            "{}: setup failed",
            self.name
        );
        let mut pairs = Vec::new();
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().expect("ascii");
            pairs.push(text.split(';').next().expect("a pair").to_owned());
        }
        let session = pairs.join("; ");
        if self.name == "sealed-session, a browser's case" {
            let [before, after] = BROWSER_COOKIES;
            format!("{before}; {session}; {after}")
        } else {
            format!("{OTHER_COOKIES}; {session}")
        }
    }
}
