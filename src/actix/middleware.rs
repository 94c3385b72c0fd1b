//! The middleware, translated for actix-web: the request's `Cookie` values
//! go to the session rules before the handler, and what the rules decide
//! goes into the response after it.

use std::future::{Future, Ready, ready};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::error::InternalError;
use actix_web::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE, HeaderMap, HeaderName, HeaderValue,
    SET_COOKIE, VARY,
};
use actix_web::{HttpMessage as _, HttpResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::Codec;
use crate::codec_handle::CodecHandle;
use crate::cookies::SessionCookie;
use crate::revocation::Revoking;
use crate::web::headers::{
    NO_STORE, bearer_token, keeps_out_of_shared_caches, named_token, varies_on,
};
use crate::web::{Carrier, Exchange, Outcome, SessionStats, Sessions, Write, revocation_failed};

/// An actix-web middleware that opens the session of every request once,
/// before the handler, and seals it after, only when it must: the rules of
/// the axum layer, from the same core.
///
/// The response carries a `Set-Cookie` when the handler changed the session,
/// when the token was sealed under a key that is no longer primary
/// ([`needs_reseal`](crate::Opened::needs_reseal)), or when more than half of
/// the codec's idle timeout has passed since the token was issued. A cookie
/// that does not open (forged, tampered, expired, from a removed key, of an
/// old shape) gives the handler an empty session and the response deletes
/// it; it is never a 500, nor is a session that ends during the request.
/// A session too large for its cookies is a 500, logged with its size and
/// the limit. Every response that sets or deletes a session cookie carries
/// `Cache-Control: no-store` unless the handler's own `Cache-Control`
/// already says `private` or `no-store`, and a response that depends on
/// the session carries `Vary: cookie`. With a revocation store, a session
/// with a subject that the handler destroyed or regenerated is revoked
/// before the response leaves, and a session the store cannot check is
/// refused (the cookie is kept). An `Err` from an inner service (a
/// middleware between this one and the handler) gets all of that too: it
/// stays an error, with the same message, whose response carries the
/// session's headers.
///
/// ```
/// use actix_web::{App, web};
/// use sealed_session::actix::{Session, SessionMiddleware};
/// use sealed_session::{Codec, Key, KeyRing, SessionCookie};
///
/// async fn hello(session: Session<String>) -> String {
///     session.get().unwrap_or_default()
/// }
///
/// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let cookie = SessionCookie::builder("session").build()?;
/// let sessions = SessionMiddleware::<String>::new(codec, cookie);
/// let app = App::new().wrap(sessions).route("/", web::get().to(hello));
/// # let _ = app;
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub struct SessionMiddleware<T> {
    shared: Arc<Shared>,
    value: PhantomData<fn() -> T>,
}

/// What every request of a middleware shares.
#[derive(Debug)]
struct Shared {
    sessions: Sessions,
    transport: Transport,
}

/// Where the token travels.
#[derive(Debug)]
enum Transport {
    Cookie(SessionCookie),
    Header(TokenHeader),
}

impl Transport {
    /// The token's carrier, as the rules see it.
    fn carrier(&self) -> Carrier<'_> {
        match self {
            Self::Cookie(cookie) => Carrier::Cookie(cookie),
            Self::Header(_) => Carrier::Header,
        }
    }

    /// The request header a response's content depends on (for `Vary`).
    fn request_header(&self) -> &HeaderName {
        match self {
            Self::Cookie(_) => &COOKIE,
            Self::Header(TokenHeader {
                request: RequestHeader::Bearer,
                ..
            }) => &AUTHORIZATION,
            Self::Header(TokenHeader {
                request: RequestHeader::Named(name),
                ..
            }) => name,
        }
    }
}

/// The request and response headers that carry the token when a middleware
/// is built with [`SessionMiddleware::in_header`] (axum's `TokenHeader`,
/// with actix-web's header names).
///
/// URL parameters are not offered: a token in a URL is written to access
/// logs and proxies' logs, kept in browser history, and sent to other sites
/// in `Referer`.
#[derive(Clone, Debug)]
pub struct TokenHeader {
    request: RequestHeader,
    response: HeaderName,
}

#[derive(Clone, Debug)]
enum RequestHeader {
    /// `Authorization: Bearer <token>`.
    Bearer,
    Named(HeaderName),
}

impl TokenHeader {
    /// Requests send `Authorization: Bearer <token>`; responses that change
    /// the session send `Session-Token: <token>`.
    ///
    /// ```
    /// use actix_web::http::header::HeaderName;
    /// use sealed_session::actix::TokenHeader;
    /// // Answer in `X-Session` instead.
    /// let header = TokenHeader::bearer().respond_with(HeaderName::from_static("x-session"));
    /// # let _ = header;
    /// ```
    pub fn bearer() -> Self {
        Self {
            request: RequestHeader::Bearer,
            response: HeaderName::from_static("session-token"),
        }
    }

    /// Requests and responses carry the token in `name`.
    pub fn named(name: HeaderName) -> Self {
        Self {
            request: RequestHeader::Named(name.clone()),
            response: name,
        }
    }

    /// Responses send the token in `name` instead.
    pub fn respond_with(mut self, name: HeaderName) -> Self {
        self.response = name;
        self
    }

    /// The token of a request, if it has one.
    fn token<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        match &self.request {
            RequestHeader::Bearer => bearer_token(headers.get(AUTHORIZATION)?.as_bytes()),
            RequestHeader::Named(name) => named_token(headers.get(name)?.as_bytes()),
        }
    }
}

impl<T> Clone for SessionMiddleware<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            value: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for SessionMiddleware<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionMiddleware")
            .field("transport", &self.shared.transport)
            .finish_non_exhaustive()
    }
}

impl<T> SessionMiddleware<T> {
    /// Sessions in `cookie`, sealed and opened by `codec`.
    pub fn new(codec: Codec, cookie: SessionCookie) -> Self {
        Self::with_transport(codec, Transport::Cookie(cookie))
    }

    /// Sessions in a request header, for API clients that keep no cookies:
    /// the request carries the token in `header`, and a response that
    /// changes the session sends the new token in the header's response
    /// name (an empty value after [`destroy`](crate::actix::Session::destroy)). No
    /// cookie is read or set.
    ///
    /// ```
    /// use sealed_session::actix::{SessionMiddleware, TokenHeader};
    /// use sealed_session::{Codec, Key, KeyRing};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let sessions = SessionMiddleware::<u64>::in_header(codec, TokenHeader::bearer());
    /// # let _ = sessions;
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn in_header(codec: Codec, header: TokenHeader) -> Self {
        Self::with_transport(codec, Transport::Header(header))
    }

    fn with_transport(codec: Codec, transport: Transport) -> Self {
        Self {
            shared: Arc::new(Shared {
                sessions: Sessions::new(codec),
                transport,
            }),
            value: PhantomData,
        }
    }

    /// A handle that replaces the middleware's codec at run time (a new key
    /// ring after a rotation), for every clone of the middleware and every
    /// worker it serves.
    ///
    /// ```
    /// # use sealed_session::actix::SessionMiddleware;
    /// # use sealed_session::{Codec, Key, KeyRing, SessionCookie};
    /// let (old, new) = (Key::generate(), Key::generate());
    /// let codec = Codec::builder(KeyRing::new(old.clone())).build()?;
    /// let sessions = SessionMiddleware::<u64>::new(codec, SessionCookie::builder("session").build()?);
    /// // Later: `new` seals, `old` still opens, sessions re-seal as they come.
    /// let rotated = Codec::builder(KeyRing::new(new).with_accepted(old)).build()?;
    /// sessions.codec_handle().replace(rotated)?;
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn codec_handle(&self) -> CodecHandle {
        self.shared.sessions.codec_handle()
    }

    /// What the middleware has seen so far: a rise of `old_shape` after a
    /// deploy means the session type changed and users are starting over.
    ///
    /// ```
    /// # use sealed_session::actix::SessionMiddleware;
    /// # use sealed_session::{Codec, Key, KeyRing, SessionCookie};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let sessions = SessionMiddleware::<u64>::new(codec, SessionCookie::builder("session").build()?);
    /// let stats = sessions.stats();
    /// assert_eq!((stats.rejected, stats.old_shape, stats.failed), (0, 0, 0));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn stats(&self) -> SessionStats {
        self.shared.sessions.stats()
    }
}

impl<S, B, T> Transform<S, ServiceRequest> for SessionMiddleware<T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionMiddlewareService<S, T>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionMiddlewareService {
            inner: service,
            shared: Arc::clone(&self.shared),
            value: PhantomData,
        }))
    }
}

/// The service a [`SessionMiddleware`] wraps around an app, a scope or a
/// resource.
pub struct SessionMiddlewareService<S, T> {
    inner: S,
    shared: Arc<Shared>,
    value: PhantomData<fn() -> T>,
}

impl<S, T> std::fmt::Debug for SessionMiddlewareService<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionMiddlewareService")
            .finish_non_exhaustive()
    }
}

/// The response of a [`SessionMiddlewareService`].
type Response<B> = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

impl<S, B, T> Service<ServiceRequest> for SessionMiddlewareService<S, T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Response<B>>>>;

    forward_ready!(inner);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let shared = Arc::clone(&self.shared);
        let headers = request.headers();
        let exchange: Exchange<T> = match &shared.transport {
            Transport::Cookie(cookie) => shared
                .sessions
                .open_cookies::<T>(cookie, headers.get_all(COOKIE).map(HeaderValue::as_bytes)),
            Transport::Header(header) => shared.sessions.open_token::<T>(header.token(headers)),
        };
        request.extensions_mut().insert(exchange.session().clone());
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            let outcome = shared
                .sessions
                .finish(&exchange, shared.transport.carrier());
            let sets_session = outcome.sets_session();
            let Outcome {
                write,
                vary,
                revoke,
            } = outcome;
            let headers = SessionHeaders {
                transport: &shared.transport,
                sets_session,
                vary,
            };
            let response = match response {
                Ok(mut response) => match headers.write(write, response.headers_mut()) {
                    Ok(()) => Ok(response.map_into_left_body()),
                    Err(failed) => {
                        let (request, _) = response.into_parts();
                        Ok(ServiceResponse::new(request, failed).map_into_right_body())
                    }
                },
                // An inner error (a middleware between this one and the
                // handler) still carries the session's outcome: the handler
                // may have ended the session, and a refused cookie must go.
                Err(e) => Err(headers.into_error(write, e)),
            };
            if let Some(revoking) = revoke {
                revoked(revoking).await;
            }
            response
        })
    }
}

async fn revoked(revoking: Revoking) {
    if let Err(e) = revoking.await {
        revocation_failed(&e);
    }
}

/// What the rules decided for a response's headers, beside the write.
struct SessionHeaders<'a> {
    transport: &'a Transport,
    sets_session: bool,
    vary: bool,
}

impl SessionHeaders<'_> {
    /// Writes what the rules decided into a response's headers; the 500 to
    /// answer instead when the session cannot be sealed.
    fn write(&self, write: Write, headers: &mut HeaderMap) -> Result<(), HttpResponse> {
        match write {
            Write::Nothing => {}
            Write::Cookies(set) => {
                for line in set {
                    // Cookie strings are visible ASCII: always a valid header value.
                    if let Ok(value) = HeaderValue::try_from(line) {
                        headers.append(SET_COOKIE, value);
                    }
                }
            }
            Write::Token(token) => {
                // A token is base64url: always a valid header value.
                if let (Transport::Header(header), Ok(value)) =
                    (self.transport, HeaderValue::try_from(token))
                {
                    headers.insert(header.response.clone(), value);
                }
            }
            Write::Failed(body) => {
                return Err(HttpResponse::InternalServerError()
                    .insert_header((CACHE_CONTROL, HeaderValue::from_static(NO_STORE)))
                    .insert_header((
                        CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; charset=utf-8"),
                    ))
                    .body(body));
            }
        }
        if self.sets_session && !keeps_out_of_shared_caches(values_of(headers, &CACHE_CONTROL)) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
        }
        let on = self.transport.request_header();
        if self.vary && !varies_on(values_of(headers, &VARY), on.as_str()) {
            headers.append(VARY, HeaderValue::from(on.clone()));
        }
        Ok(())
    }

    /// An inner service's error, whose response carries the session's
    /// headers. It stays an error for the middlewares outside this one,
    /// with the same message; the response the server sends for it holds
    /// the original error ([`HttpResponse::error`]). (An `Ok` response
    /// would need the request, which an error does not carry, and a copy
    /// of it kept during the inner call breaks actix-web's routing.)
    fn into_error(self, write: Write, e: actix_web::Error) -> actix_web::Error {
        let message = e.to_string();
        let mut response = HttpResponse::from_error(e);
        if let Err(failed) = self.write(write, response.headers_mut()) {
            response = failed;
        }
        InternalError::from_response(message, response).into()
    }
}

fn values_of<'h>(headers: &'h HeaderMap, name: &'h HeaderName) -> impl Iterator<Item = &'h [u8]> {
    headers.get_all(name).map(HeaderValue::as_bytes)
}
