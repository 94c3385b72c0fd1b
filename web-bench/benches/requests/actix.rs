//! The actix-web contenders: no session (the floor), sealed-session's
//! middleware, and `actix-session` 0.11 with its cookie store (private,
//! the default) and with its Redis store, each an app with the same three
//! routes as the axum ones (`/setup`, `/read`, `/modify`; the handlers
//! check what they read). In process through `test::call_service`, and
//! over loopback HTTP through `HttpServer`, each on a thread of its own
//! with actix-web's default worker count (one per core: two on the
//! benchmark's 2-vCPU machine), as axum's servers share the clients'
//! multi-threaded runtime (a worker per core too).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Instant;

use actix_session::storage::{CookieSessionStore, RedisSessionStore};
use actix_web::body::MessageBody;
use actix_web::cookie::Key as CookieKey;
use actix_web::dev::{ServerHandle, Service, ServiceResponse};
use actix_web::http::header::{COOKIE, SET_COOKIE};
use actix_web::http::{KeepAlive, StatusCode};
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, HttpResponse, HttpServer, web};
use sealed_session::actix::{Session, SessionMiddleware};
use sealed_session::{Codec, Key, KeyRing, SessionCookie};

use crate::common::{Typical, typical};
use crate::http::Target;
use crate::inprocess::report;
use crate::{Plan, Row};

const KEY: &str = "session";
/// The user id of the reference session, which every handler checks.
const USER_ID: u64 = 123_456_789;
const OK: &str = "ok";
/// Other cookies a real site sends beside the session.
const OTHER_COOKIES: &str = crate::apps::OTHER_COOKIES;

fn checked(user_id: Option<u64>) -> HttpResponse {
    if user_id == Some(USER_ID) {
        HttpResponse::Ok().body(OK)
    } else {
        HttpResponse::InternalServerError().body("session lost")
    }
}

#[derive(Clone, Copy)]
enum Contender {
    NoSession,
    Ours,
    CookieStore,
    RedisStore,
}

impl Contender {
    fn name(self) -> &'static str {
        match self {
            Self::NoSession => "actix-web, no session",
            Self::Ours => "sealed-session",
            Self::CookieStore => "actix-session 0.11, cookie store",
            Self::RedisStore => "actix-session 0.11, Redis store",
        }
    }

    /// The contenders in the order of the tables; the floor first.
    fn all(redis: bool) -> Vec<Self> {
        let mut all = vec![Self::NoSession, Self::Ours, Self::CookieStore];
        if redis {
            all.push(Self::RedisStore);
        }
        all
    }
}

fn no_session(config: &mut web::ServiceConfig) {
    async fn ok() -> HttpResponse {
        HttpResponse::Ok().body(OK)
    }
    config
        .route("/setup", web::post().to(ok))
        .route("/read", web::get().to(ok))
        .route("/modify", web::post().to(ok));
}

/// Our middleware's routes: the value read in place, changed in place.
fn ours(config: &mut web::ServiceConfig) {
    async fn setup(session: Session<Typical>) -> HttpResponse {
        session.insert(typical());
        HttpResponse::Ok().body(OK)
    }
    async fn read(session: Session<Typical>) -> HttpResponse {
        checked(session.with(|t| t.map(|t| t.user_id)))
    }
    async fn modify(session: Session<Typical>) -> HttpResponse {
        checked(session.update(|t| {
            t.created += 1;
            t.user_id
        }))
    }
    config
        .route("/setup", web::post().to(setup))
        .route("/read", web::get().to(read))
        .route("/modify", web::post().to(modify));
}

/// actix-session's routes (either store): the value as JSON under a key.
fn actix_session(config: &mut web::ServiceConfig) {
    use actix_session::Session;
    async fn setup(session: Session) -> HttpResponse {
        session.insert(KEY, typical()).expect("insert");
        HttpResponse::Ok().body(OK)
    }
    async fn read(session: Session) -> HttpResponse {
        checked(session.get::<Typical>(KEY).expect("get").map(|t| t.user_id))
    }
    async fn modify(session: Session) -> HttpResponse {
        let mut t = session.get::<Typical>(KEY).expect("get");
        if let Some(t) = &mut t {
            t.created += 1;
            session.insert(KEY, &*t).expect("insert");
        }
        checked(t.map(|t| t.user_id))
    }
    config
        .route("/setup", web::post().to(setup))
        .route("/read", web::get().to(read))
        .route("/modify", web::post().to(modify));
}

/// What an in-process app and a server of the same contender share, so
/// that a cookie set up by one opens in the other: our codec, the cookie
/// store's key, the Redis server.
#[derive(Clone)]
struct Shared {
    ours: SessionMiddleware<Typical>,
    key: CookieKey,
    redis_url: Option<String>,
}

impl Shared {
    fn new(redis_url: Option<&str>) -> Self {
        let codec = Codec::builder(KeyRing::new(Key::generate()))
            .build()
            .expect("codec");
        let cookie = SessionCookie::builder(KEY).build().expect("cookie");
        Self {
            ours: SessionMiddleware::new(codec, cookie),
            key: CookieKey::generate(),
            redis_url: redis_url.map(str::to_owned),
        }
    }

    async fn redis_store(&self) -> RedisSessionStore {
        let url = self.redis_url.as_deref().expect("a Redis server");
        RedisSessionStore::new(url).await.expect("redis")
    }
}

/// An in-process app, its type erased.
type Call = Rc<dyn Fn(actix_http::Request) -> Pin<Box<dyn Future<Output = ServiceResponse>>>>;

fn erase<S, B>(service: S) -> Call
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>
        + 'static,
    B: MessageBody + 'static,
{
    let service = Rc::new(service);
    Rc::new(move |request| {
        let service = Rc::clone(&service);
        Box::pin(async move {
            service
                .call(request)
                .await
                .expect("a response")
                .map_into_boxed_body()
        })
    })
}

async fn app(contender: Contender, shared: &Shared) -> Call {
    match contender {
        Contender::NoSession => erase(init_service(App::new().configure(no_session)).await),
        Contender::Ours => {
            erase(init_service(App::new().wrap(shared.ours.clone()).configure(ours)).await)
        }
        Contender::CookieStore => erase(
            init_service(
                App::new()
                    .wrap(actix_session::SessionMiddleware::new(
                        CookieSessionStore::default(),
                        shared.key.clone(),
                    ))
                    .configure(actix_session),
            )
            .await,
        ),
        Contender::RedisStore => {
            let store = shared.redis_store().await;
            erase(
                init_service(
                    App::new()
                        .wrap(actix_session::SessionMiddleware::new(
                            store,
                            shared.key.clone(),
                        ))
                        .configure(actix_session),
                )
                .await,
            )
        }
    }
}

/// A session set up through `/setup`: the `Cookie` header value that
/// carries it (with the site's other cookies).
async fn session_cookie(call: &Call, contender: Contender) -> String {
    let response = call(TestRequest::post().uri("/setup").to_request()).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}: setup",
        contender.name()
    );
    let mut pairs = vec![OTHER_COOKIES.to_owned()];
    for value in response.headers().get_all(SET_COOKIE) {
        let text = value.to_str().expect("ascii");
        pairs.push(text.split(';').next().expect("a pair").to_owned());
    }
    pairs.join("; ")
}

/// The contenders' cookies; the floor gets ours, so that every request
/// carries about the same bytes.
async fn cookies(contenders: &[Contender], calls: &[Call]) -> Vec<String> {
    let mut cookies = Vec::new();
    for (call, &contender) in calls.iter().zip(contenders) {
        cookies.push(session_cookie(call, contender).await);
    }
    cookies[0] = cookies[1].clone();
    cookies
}

fn rows(contenders: &[Contender]) -> Vec<Row> {
    contenders
        .iter()
        .flat_map(|c| {
            [false, true].map(|modifies| Row {
                contender: c.name(),
                modifies,
            })
        })
        .collect()
}

/// The in-process table, on one actix-web runtime (one thread).
pub(crate) fn in_process(plan: Plan, redis_url: Option<&str>) {
    let system = actix_web::rt::System::new();
    let shared = Shared::new(redis_url);
    let contenders = Contender::all(redis_url.is_some());
    let (calls, cookies) = system.block_on(async {
        let mut calls = Vec::new();
        for &contender in &contenders {
            calls.push(app(contender, &shared).await);
        }
        let cookies = cookies(&contenders, &calls).await;
        (calls, cookies)
    });
    let rows = rows(&contenders);
    report(
        &rows,
        plan,
        "`test::call_service`",
        Contender::NoSession.name(),
        |i, batch| {
            let row = rows[i];
            let (call, cookie) = (&calls[i / 2], cookies[i / 2].as_str());
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..batch {
                    let request = match row.modifies {
                        true => TestRequest::post(),
                        false => TestRequest::get(),
                    }
                    .uri(row.path())
                    .insert_header((COOKIE, cookie))
                    .to_request();
                    let response = call(request).await;
                    assert_eq!(response.status(), StatusCode::OK, "{}", row.contender);
                    std::hint::black_box(response);
                }
                start.elapsed().as_secs_f64() * 1e9 / f64::from(batch)
            })
        },
    );
}

/// One `HttpServer` per contender, each on a thread of its own with its
/// own runtime, on a free loopback port; stopped when dropped.
pub(crate) struct Servers {
    targets: Vec<Target>,
    handles: Vec<ServerHandle>,
}

impl Servers {
    pub(crate) fn start(redis_url: Option<&str>) -> Self {
        let shared = Shared::new(redis_url);
        let contenders = Contender::all(redis_url.is_some());
        // Sessions set up in process, with what the servers share.
        let cookies = actix_web::rt::System::new().block_on(async {
            let mut calls = Vec::new();
            for &contender in &contenders {
                calls.push(app(contender, &shared).await);
            }
            cookies(&contenders, &calls).await
        });
        let mut targets = Vec::new();
        let mut handles = Vec::new();
        for (&contender, cookie) in contenders.iter().zip(cookies) {
            let listener =
                std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
            let address = listener.local_addr().expect("address");
            handles.push(serve(contender, shared.clone(), listener));
            for row in rows(&[contender]) {
                targets.push(Target {
                    row,
                    address,
                    cookie: axum::http::HeaderValue::from_str(&cookie).expect("a cookie header"),
                });
            }
        }
        Self { targets, handles }
    }

    pub(crate) fn targets(&self) -> &[Target] {
        &self.targets
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for handle in &self.handles {
            // The stop command is sent now; its completion is not awaited.
            drop(handle.stop(false));
        }
    }
}

/// Serves `contender` on `listener` from a thread of its own.
fn serve(contender: Contender, shared: Shared, listener: std::net::TcpListener) -> ServerHandle {
    let (handles, handle) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let Shared {
                ours: middleware,
                key,
                ..
            } = shared.clone();
            // No idle or first-request timeout, as `axum::serve` has none:
            // a keep-alive connection waits out the other contenders' turns.
            macro_rules! server {
                ($factory:expr) => {
                    HttpServer::new($factory)
                        .keep_alive(KeepAlive::Os)
                        .client_request_timeout(std::time::Duration::ZERO)
                        .disable_signals()
                        .listen(listener)
                        .expect("listens")
                        .run()
                };
            }
            let server = match contender {
                Contender::NoSession => server!(|| App::new().configure(no_session)),
                Contender::Ours => {
                    server!(move || App::new().wrap(middleware.clone()).configure(ours))
                }
                Contender::CookieStore => server!(move || {
                    App::new()
                        .wrap(actix_session::SessionMiddleware::new(
                            CookieSessionStore::default(),
                            key.clone(),
                        ))
                        .configure(actix_session)
                }),
                Contender::RedisStore => {
                    let store = shared.redis_store().await;
                    server!(move || {
                        App::new()
                            .wrap(actix_session::SessionMiddleware::new(
                                store.clone(),
                                key.clone(),
                            ))
                            .configure(actix_session)
                    })
                }
            };
            handles.send(server.handle()).expect("the benchmark waits");
            server.await
        })
    });
    handle.recv().expect("the server starts")
}
