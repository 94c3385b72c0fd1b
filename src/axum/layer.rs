//! The layer's configuration, shared by every request: the codec (which can
//! be replaced at run time), where the token travels, and counters.

use std::marker::PhantomData;
use std::sync::Arc;

use http::HeaderName;
use tower_layer::Layer;

use crate::codec::Codec;
use crate::codec_handle::CodecHandle;
use crate::cookies::SessionCookie;
use crate::web::{Carrier, SessionStats, Sessions};

use super::service::SessionService;

/// A tower layer that opens the session of every request once, before the
/// handler, and seals it after, only when it must.
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
/// the session carries `Vary: Cookie` (or the token's header).
///
/// ```
/// use axum::{Router, routing::get};
/// use sealed_session::axum::{Session, SessionLayer};
/// use sealed_session::{Codec, Key, KeyRing, SessionCookie};
///
/// async fn hello(session: Session<String>) -> String {
///     session.get().unwrap_or_default()
/// }
///
/// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let cookie = SessionCookie::builder("session").build()?;
/// let app: Router = Router::new()
///     .route("/", get(hello))
///     .layer(SessionLayer::<String>::new(codec, cookie));
/// # let _ = app;
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub struct SessionLayer<T> {
    shared: Arc<Shared>,
    value: PhantomData<fn() -> T>,
}

impl<T> Clone for SessionLayer<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            value: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for SessionLayer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("transport", &self.shared.transport)
            .finish_non_exhaustive()
    }
}

/// What every request of a layer shares: the rules' shared state, and
/// where the token travels.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) sessions: Sessions,
    pub(super) transport: Transport,
}

/// Where the token travels.
#[derive(Debug)]
pub(super) enum Transport {
    Cookie(SessionCookie),
    Header(TokenHeader),
}

impl Transport {
    /// The token's carrier, as the rules see it.
    pub(super) fn carrier(&self) -> Carrier<'_> {
        match self {
            Self::Cookie(cookie) => Carrier::Cookie(cookie),
            Self::Header(_) => Carrier::Header,
        }
    }

    /// The request header a response's content depends on (for `Vary`).
    pub(super) fn request_header(&self) -> &HeaderName {
        const COOKIE: &HeaderName = &http::header::COOKIE;
        const AUTHORIZATION: &HeaderName = &http::header::AUTHORIZATION;
        match self {
            Self::Cookie(_) => COOKIE,
            Self::Header(TokenHeader {
                request: RequestHeader::Bearer,
                ..
            }) => AUTHORIZATION,
            Self::Header(TokenHeader {
                request: RequestHeader::Named(name),
                ..
            }) => name,
        }
    }
}

impl<T> SessionLayer<T> {
    /// Sessions in `cookie`, sealed and opened by `codec`.
    pub fn new(codec: Codec, cookie: SessionCookie) -> Self {
        Self::with_transport(codec, Transport::Cookie(cookie))
    }

    /// Sessions in a request header, for API clients that keep no cookies:
    /// the request carries the token in `header`, and a response that
    /// changes the session sends the new token in the header's response
    /// name (an empty value after [`destroy`](super::Session::destroy)).
    /// No cookie is read or set.
    ///
    /// ```
    /// use sealed_session::axum::{SessionLayer, TokenHeader};
    /// use sealed_session::{Codec, Key, KeyRing};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let layer = SessionLayer::<u64>::in_header(codec, TokenHeader::bearer());
    /// # let _ = layer;
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

    /// A handle that replaces the layer's codec at run time (a new key ring
    /// after a rotation), for every clone of the layer and every service it
    /// made.
    ///
    /// ```
    /// # use sealed_session::axum::SessionLayer;
    /// # use sealed_session::{Codec, Key, KeyRing, SessionCookie};
    /// let (old, new) = (Key::generate(), Key::generate());
    /// let codec = Codec::builder(KeyRing::new(old.clone())).build()?;
    /// let layer = SessionLayer::<u64>::new(codec, SessionCookie::builder("session").build()?);
    /// // Later: `new` seals, `old` still opens, sessions re-seal as they come.
    /// let rotated = Codec::builder(KeyRing::new(new).with_accepted(old)).build()?;
    /// layer.codec_handle().replace(rotated)?;
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn codec_handle(&self) -> CodecHandle {
        self.shared.sessions.codec_handle()
    }

    /// What the layer has seen so far: a rise of `old_shape` after a deploy
    /// means the session type changed and users are starting over.
    ///
    /// ```
    /// # use sealed_session::axum::SessionLayer;
    /// # use sealed_session::{Codec, Key, KeyRing, SessionCookie};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let layer = SessionLayer::<u64>::new(codec, SessionCookie::builder("session").build()?);
    /// let stats = layer.stats();
    /// assert_eq!((stats.rejected, stats.old_shape, stats.failed), (0, 0, 0));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn stats(&self) -> SessionStats {
        self.shared.sessions.stats()
    }
}

impl<S, T> Layer<S> for SessionLayer<T> {
    type Service = SessionService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, Arc::clone(&self.shared))
    }
}

/// The request and response headers that carry the token when a layer is
/// built with [`SessionLayer::in_header`].
///
/// URL parameters are not offered: a token in a URL is written to access
/// logs and proxies' logs, kept in browser history, and sent to other sites
/// in `Referer`. If a URL must carry one (a link in an e-mail), make it a
/// single-use token with its own purpose and a lifetime of minutes, send
/// `Referrer-Policy: no-referrer`, and exchange it at once for a cookie.
#[derive(Clone, Debug)]
pub struct TokenHeader {
    pub(super) request: RequestHeader,
    pub(super) response: HeaderName,
}

#[derive(Clone, Debug)]
pub(super) enum RequestHeader {
    /// `Authorization: Bearer <token>`.
    Bearer,
    Named(HeaderName),
}

/// The response header of [`TokenHeader::bearer`].
const SESSION_TOKEN: HeaderName = HeaderName::from_static("session-token");

impl TokenHeader {
    /// Requests send `Authorization: Bearer <token>`; responses that change
    /// the session send `Session-Token: <token>`.
    ///
    /// ```
    /// use http::HeaderName;
    /// use sealed_session::axum::TokenHeader;
    /// // Answer in `X-Session` instead.
    /// let header = TokenHeader::bearer().respond_with(HeaderName::from_static("x-session"));
    /// # let _ = header;
    /// ```
    pub fn bearer() -> Self {
        Self {
            request: RequestHeader::Bearer,
            response: SESSION_TOKEN,
        }
    }

    /// Requests and responses carry the token in `name`.
    ///
    /// ```
    /// use http::HeaderName;
    /// use sealed_session::axum::TokenHeader;
    /// let header = TokenHeader::named(HeaderName::from_static("x-session"));
    /// # let _ = header;
    /// ```
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
}
