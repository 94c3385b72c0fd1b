//! The per-request work of the layer: open before the handler, decide and
//! seal after it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{AUTHORIZATION, CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::clock::{to_datetime, unix_now};
use crate::codec::{Codec, Opened, SealOptions};
use crate::cookies::{Presence, SessionCookie};
use crate::error::{CookieError, Error};
use crate::ids::SessionId;
use crate::revocation::{RevokedSession, Revoking};

use super::layer::{Counters, RequestHeader, Shared, TokenHeader, Transport};
use super::session::{Session, State};

/// The service a [`SessionLayer`](super::SessionLayer) wraps around a
/// handler or router.
pub struct SessionService<S, T> {
    inner: S,
    shared: Arc<Shared>,
    value: std::marker::PhantomData<fn() -> T>,
}

impl<S: Clone, T> Clone for SessionService<S, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
            value: std::marker::PhantomData,
        }
    }
}

impl<S, T> std::fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService").finish_non_exhaustive()
    }
}

impl<S, T> SessionService<S, T> {
    pub(super) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self {
            inner,
            shared,
            value: std::marker::PhantomData,
        }
    }
}

/// What the layer learned from the request, beside the session.
struct Incoming {
    /// The time of the request, unix seconds: one clock reading for the
    /// open and the refresh decision.
    now: i64,
    /// The session cookies the request carried, by name: the response
    /// deletes the ones it does not use.
    cookies: Presence,
    /// The request carried session cookies (or a token header).
    present: bool,
    /// They did not open: the response deletes them.
    rejected: bool,
    /// The revocation store could not answer: the session is refused for
    /// now, and the response must not replace the client's cookie.
    unavailable: bool,
}

impl<S, T, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    T: Serialize + DeserializeOwned + Send + 'static,
    ResBody: From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, T, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let codec = self.shared.codec();
        let (session, incoming) = open::<T>(&self.shared, &codec, request.headers());
        request.extensions_mut().insert(session.clone());
        ResponseFuture {
            inner: self.inner.call(request),
            after: Some(After {
                shared: Arc::clone(&self.shared),
                codec,
                session,
                incoming,
            }),
            revoking: None,
        }
    }
}

pin_project! {
    /// The response of a [`SessionService`]: the inner service's, with the
    /// session sealed (or not) into it, after a destroyed session's id is
    /// revoked.
    pub struct ResponseFuture<F, T, B> {
        #[pin]
        inner: F,
        after: Option<After<T>>,
        revoking: Option<(Revoking, Response<B>)>,
    }
}

impl<F, T, B> std::fmt::Debug for ResponseFuture<F, T, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

/// What the response needs from the request.
struct After<T> {
    shared: Arc<Shared>,
    /// The codec the request was opened with, even if it was replaced since.
    codec: Codec,
    session: Session<T>,
    incoming: Incoming,
}

impl<F, T, B, E> Future for ResponseFuture<F, T, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    T: Serialize,
    B: From<String>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.revoking.is_none() {
            let mut response = std::task::ready!(this.inner.poll(cx))?;
            let Some(after) = this.after.take() else {
                return Poll::Ready(Ok(response));
            };
            // What the handler ended, read before the response is decided;
            // revoked after it, so that a regenerated session is sealed
            // from a session that is not revoked yet.
            let ended = after.ended();
            finish(
                &after.shared,
                &after.codec,
                &after.session,
                &after.incoming,
                &mut response,
            );
            match (after.codec.revocations(), ended) {
                (Some(revocations), Some(ended)) => {
                    *this.revoking = Some((revocations.revoke_session(&ended), response));
                }
                _ => return Poll::Ready(Ok(response)),
            }
        }
        let Some((revoking, _)) = this.revoking.as_mut() else {
            return Poll::Pending;
        };
        if let Err(e) = std::task::ready!(revoking.as_mut().poll(cx)) {
            // The cookie is deleted all the same; a copy of it still opens
            // until it expires.
            tracing::error!(error = %e, "session layer: cannot revoke the ended session");
        }
        match this.revoking.take() {
            Some((_, response)) => Poll::Ready(Ok(response)),
            None => Poll::Pending,
        }
    }
}

impl<T> After<T> {
    /// The request's session, if the codec has a store and the handler
    /// ended it: destroyed it (without `log_out`, which revokes it
    /// itself), or replaced it by one with a new id (`regenerate`, a new
    /// subject), so that a copy from before a change of privilege stops
    /// opening.
    fn ended(&self) -> Option<RevokedSession> {
        self.codec.revocations()?;
        let state = self.session.lock_after()?;
        let replaced = state.value.is_some() && (state.regenerate || state.subject.is_some());
        if !(state.destroyed || replaced) || state.revoked {
            return None;
        }
        let opened = match (&state.opened, &state.unchecked) {
            (Some(opened), _) => opened,
            // Destroyed while the store could not check it: revoked all the
            // same (a failure to record it is logged).
            (None, Some(unchecked)) if state.destroyed => unchecked,
            _ => return None,
        };
        let claims = opened.claims();
        // A session without a subject names nobody: revoking it would let
        // any client fill the store with anonymous log-outs.
        claims.subject()?;
        let until = self.codec.latest_end(claims.created());
        // With its subject, so that it counts towards folding: a loop of
        // regenerations holds a handful of entries, not one each. (`decide`
        // seals a regeneration that would fold as a new session, which the
        // fold does not refuse.)
        Some(RevokedSession::of(claims, until))
    }
}

/// Opens the request's session, if it carries one that opens.
fn open<T: DeserializeOwned>(
    shared: &Shared,
    codec: &Codec,
    headers: &HeaderMap,
) -> (Session<T>, Incoming) {
    let mut incoming = Incoming {
        now: 0,
        cookies: Presence::default(),
        present: false,
        rejected: false,
        unavailable: false,
    };
    incoming.now = match unix_now() {
        Ok(now) => now,
        Err(e) => {
            tracing::error!("session layer: the system clock is unusable: {e}");
            return (Session::new(None, None, codec), incoming);
        }
    };
    let mut unchecked = None;
    let opened = match &shared.transport {
        Transport::Cookie(cookie) => {
            let request =
                cookie.read_bytes(headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes));
            incoming.present = request.is_present();
            if incoming.present {
                incoming.cookies = request.presence();
            }
            request.token().and_then(|token| match token {
                Some(token) => codec
                    .open_unix_keeping(&token, incoming.now, cookie.token_budget(), &mut unchecked)
                    .map(Some),
                None => Ok(None),
            })
        }
        Transport::Header(header) => match header_token(header, headers) {
            Some(token) => {
                incoming.present = true;
                codec
                    .open_unix_keeping(token, incoming.now, codec.budget(), &mut unchecked)
                    .map(Some)
            }
            None => Ok(None),
        },
    };
    let opened = match opened {
        Ok(opened) => opened,
        Err(e) => {
            rejected(shared, &e);
            incoming.rejected = e.is_rejection();
            incoming.unavailable = matches!(e, Error::RevocationUnavailable(_));
            None
        }
    };
    (Session::new(opened, unchecked, codec), incoming)
}

/// Counts and logs a session that did not open. Never the token, nor a
/// payload error's text, which may quote the session's contents.
fn rejected(shared: &Shared, e: &Error) {
    let counters = &shared.counters;
    match e {
        Error::Payload(_) | Error::PayloadTooDeep { .. } => {
            Counters::add(&counters.old_shape);
            tracing::debug!(
                "session layer: a session authenticated but is not of the layer's type \
                 (sealed by an older version of the app?); starting a new one"
            );
        }
        // The store logs its outage once; not once per request.
        Error::RevocationUnavailable(why) => tracing::debug!(
            reason = %why,
            "session layer: revocations cannot be checked; the session is refused for now"
        ),
        e if e.is_rejection() => {
            Counters::add(&counters.rejected);
            tracing::debug!(reason = %e, "session layer: the request's session was refused; starting a new one");
        }
        e => tracing::error!(error = %e, "session layer: cannot open sessions"),
    }
}

/// The token of a request under header transport, if it has one.
fn header_token<'h>(header: &TokenHeader, headers: &'h HeaderMap) -> Option<&'h str> {
    match &header.request {
        RequestHeader::Bearer => {
            let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        }
        RequestHeader::Named(name) => Some(headers.get(name)?.to_str().ok()?.trim()),
    }
    .filter(|token| !token.is_empty())
}

/// What the response must do about the session.
enum Action<T> {
    Nothing,
    Remove,
    /// A session the request did not carry: a new id (the one the handler
    /// was told, if it asked), created now, or after `after` (the creation
    /// of a session whose id folds into a line that must not refuse this
    /// one).
    Seal {
        value: T,
        subject: Option<String>,
        id: Option<SessionId>,
        after: Option<i64>,
        /// The session's own lifetime ("remember me"), if it has one.
        lifetime: Option<time::Duration>,
    },
    /// The request's session.
    Reseal(Reseal<T>),
}

struct Reseal<T> {
    opened: Opened<T>,
    /// A new subject (`Some(None)`: none), or keep the session's.
    subject: Option<Option<String>>,
    /// A new session id, keeping `created` (regenerate).
    new_id: bool,
    /// That new id, if the handler asked for it.
    id: Option<SessionId>,
    /// Nothing changed: only a refresh (older key, half the idle timeout).
    refresh_only: bool,
    /// A lifetime the handler set, replacing the session's own
    /// (`Some(None)`: removed), or keep the session's.
    lifetime: Option<Option<time::Duration>>,
}

/// The rules of the layer, in one place.
fn decide<T>(state: &mut State<T>, incoming: &Incoming, codec: &Codec) -> Action<T> {
    let opened = if state.destroyed {
        None
    } else {
        state.opened.take()
    };
    let Some(value) = state.value.take() else {
        return if state.destroyed || incoming.rejected {
            Action::Remove
        } else {
            Action::Nothing
        };
    };
    let id = state.next_id.take();
    let set_lifetime = state.lifetime.take();
    let Some(opened) = opened else {
        return Action::Seal {
            value,
            subject: state.subject.take().flatten(),
            id,
            after: None,
            lifetime: set_lifetime.flatten(),
        };
    };
    // A session sealed anew for the same user keeps its own lifetime
    // unless the handler set one, within the codec's current maximum (an
    // operator may have lowered it): never a 500 for an old choice.
    let inherited = opened
        .claims()
        .lifetime()
        .map(|l| l.min(codec.max_lifetime()));
    let lifetime = set_lifetime.unwrap_or(inherited);
    let subject = state.subject.take();
    // A new subject (log-in, log-out of the user) is a new session: new
    // id and new `created`, so that a "log out everywhere" made before it
    // never refuses it.
    // Another user (or none): the previous user's "remember me" does not
    // carry over; only a lifetime set in this request does.
    if let Some(subject) = subject {
        return Action::Seal {
            value,
            subject,
            id,
            after: None,
            lifetime: set_lifetime.flatten(),
        };
    }
    let new_id = state.regenerate;
    // A regenerated session keeps `created`, so folding its previous id
    // into the subject's line would refuse it too: past the store's
    // per-subject count it is sealed as a new session (created now), as
    // at a log-in.
    if new_id {
        if let (Some(store), Some(subject)) = (codec.revocations(), opened.claims().subject()) {
            if store.folds_next(subject) {
                return Action::Seal {
                    subject: Some(subject.to_owned()),
                    after: Some(opened.claims().created_unix()),
                    value,
                    id,
                    lifetime,
                };
            }
        }
    }
    let changed = state.changed || new_id || set_lifetime.is_some();
    let half_idle = codec.idle_timeout().is_some_and(|idle| {
        incoming.now - opened.claims().issued_unix() > idle.whole_seconds() / 2
    });
    if changed || opened.needs_reseal() || half_idle {
        Action::Reseal(Reseal {
            opened: opened.with_value(value),
            subject: None,
            new_id,
            id: id.filter(|_| new_id),
            refresh_only: !changed,
            lifetime: set_lifetime,
        })
    } else {
        Action::Nothing
    }
}

/// Applies the rules to the response.
fn finish<T: Serialize, B: From<String>>(
    shared: &Shared,
    codec: &Codec,
    session: &Session<T>,
    incoming: &Incoming,
    response: &mut Response<B>,
) {
    let Some(mut state) = session.lock_after() else {
        tracing::error!(
            "session layer: a handler panicked while changing the session; the cookie is left as it was"
        );
        return;
    };
    let accessed = state.accessed;
    let mut action = decide(&mut state, incoming, codec);
    drop(state);
    // The client's session may well be valid: never seal another over it
    // while the store cannot say (a log-out's deletion still goes out).
    if incoming.unavailable && matches!(action, Action::Seal { .. } | Action::Reseal(_)) {
        tracing::debug!("session layer: revocations unavailable; the client's cookie is kept");
        action = Action::Nothing;
    }
    let refresh_only = matches!(&action, Action::Reseal(r) if r.refresh_only);
    let written = match write(&shared.transport, codec, action, incoming, response) {
        Ok(written) => written,
        // The session ended between the open and now (within the clock
        // leeway, or during a slow handler): the client's, not a 500.
        Err(e) if e.is_rejection() => {
            tracing::debug!(reason = %e, "session layer: the session ended during the request; removing it");
            write(
                &shared.transport,
                codec,
                Action::<T>::Remove,
                incoming,
                response,
            )
            .unwrap_or(Written::Nothing)
        }
        // A refresh the server cannot make (a codec swapped for a smaller
        // budget): the session still opens as it is, so answer without it.
        Err(e) if refresh_only => {
            tracing::warn!(error = %e, "session layer: cannot refresh the session; leaving the cookie as it was");
            Written::Nothing
        }
        Err(e) => {
            Counters::add(&shared.counters.failed);
            log_seal_failure(&e);
            *response = seal_failure_response(&e);
            return;
        }
    };
    match written {
        Written::Nothing => {}
        Written::Sealed => Counters::add(&shared.counters.sealed),
        Written::Removed => Counters::add(&shared.counters.removed),
    }
    if !matches!(written, Written::Nothing) {
        forbid_shared_caching(response.headers_mut());
    }
    if accessed || incoming.present || !matches!(written, Written::Nothing) {
        vary(response.headers_mut(), shared.transport.request_header());
    }
}

/// A shared cache must never store one user's `Set-Cookie` (or token) for
/// another (Flask CVE-2023-30861): `no-store`, unless the handler already
/// said `no-store` or `private`.
fn forbid_shared_caching(headers: &mut HeaderMap) {
    let already_private = headers.get_all(CACHE_CONTROL).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',').any(|directive| {
                let directive = directive.trim();
                directive.eq_ignore_ascii_case("no-store")
                    || directive.eq_ignore_ascii_case("private")
            })
        })
    });
    if !already_private {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// The response depends on the request's session header: say so to caches.
fn vary(headers: &mut HeaderMap, on: &HeaderName) {
    let listed = headers.get_all(VARY).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|name| name.trim() == "*" || name.trim().eq_ignore_ascii_case(on.as_str()))
        })
    });
    if !listed {
        headers.append(
            VARY,
            // A standard name converts without allocating.
            HeaderValue::from(on.clone()),
        );
    }
}

enum Written {
    Nothing,
    Sealed,
    Removed,
}

fn write<T: Serialize, B>(
    transport: &Transport,
    codec: &Codec,
    action: Action<T>,
    incoming: &Incoming,
    response: &mut Response<B>,
) -> Result<Written, Error> {
    match transport {
        Transport::Cookie(cookie) => set_cookies(cookie, codec, action, incoming, response),
        Transport::Header(header) => set_header(header, codec, action, incoming, response),
    }
}

/// The seal options of an action, at `at` (unix seconds: the request's
/// time, or a new session's later creation).
fn options_for<'a>(
    at: i64,
    subject: Option<&'a Option<String>>,
    new_id: bool,
    id: Option<SessionId>,
    lifetime: Option<Option<time::Duration>>,
) -> SealOptions<'a> {
    let mut options = SealOptions::new().at(to_datetime(at));
    match lifetime {
        Some(Some(lifetime)) => options = options.lifetime(lifetime),
        Some(None) => options = options.without_lifetime(),
        None => {}
    }
    match subject {
        Some(Some(subject)) => options = options.subject(subject),
        Some(None) => options = options.without_subject(),
        None => {}
    }
    if new_id {
        options = options.new_id();
    }
    if let Some(id) = id {
        options = options.with_id(id);
    }
    options
}

/// A new session's creation: now, or the second after `after`.
fn created_at(incoming: &Incoming, after: Option<i64>) -> i64 {
    after.map_or(incoming.now, |after| {
        incoming.now.max(after.saturating_add(1))
    })
}

fn set_cookies<T: Serialize, B>(
    cookie: &SessionCookie,
    codec: &Codec,
    action: Action<T>,
    incoming: &Incoming,
    response: &mut Response<B>,
) -> Result<Written, Error> {
    let (set, written) = match action {
        Action::Nothing => return Ok(Written::Nothing),
        Action::Remove if !incoming.present => return Ok(Written::Nothing),
        Action::Remove => (cookie.remove_for(&incoming.cookies), Written::Removed),
        Action::Seal {
            value,
            subject,
            id,
            after,
            lifetime,
        } => {
            let subject = subject.map(Some);
            let at = created_at(incoming, after);
            let options = options_for(at, subject.as_ref(), false, id, lifetime.map(Some));
            let set = cookie.seal_for(codec, &value, options, &incoming.cookies)?;
            (set, Written::Sealed)
        }
        Action::Reseal(r) => {
            let options = options_for(incoming.now, r.subject.as_ref(), r.new_id, r.id, r.lifetime);
            let set = cookie.reseal_for(codec, &r.opened, options, &incoming.cookies)?;
            (set, Written::Sealed)
        }
    };
    let headers = response.headers_mut();
    for line in set {
        // Cookie strings are visible ASCII: always a valid header value.
        if let Ok(value) = HeaderValue::try_from(line) {
            headers.append(SET_COOKIE, value);
        }
    }
    Ok(written)
}

fn set_header<T: Serialize, B>(
    header: &TokenHeader,
    codec: &Codec,
    action: Action<T>,
    incoming: &Incoming,
    response: &mut Response<B>,
) -> Result<Written, Error> {
    let mut token = String::new();
    let written = match action {
        Action::Nothing => return Ok(Written::Nothing),
        Action::Remove if !incoming.present => return Ok(Written::Nothing),
        Action::Remove => Written::Removed,
        Action::Seal {
            value,
            subject,
            id,
            after,
            lifetime,
        } => {
            let subject = subject.map(Some);
            let at = created_at(incoming, after);
            let options = options_for(at, subject.as_ref(), false, id, lifetime.map(Some));
            codec.seal_into(&value, options, &mut token)?;
            Written::Sealed
        }
        Action::Reseal(r) => {
            let options = options_for(incoming.now, r.subject.as_ref(), r.new_id, r.id, r.lifetime);
            codec.reseal_into(&r.opened, options, &mut token)?;
            Written::Sealed
        }
    };
    // A token is base64url: always a valid header value.
    if let Ok(value) = HeaderValue::try_from(token) {
        response
            .headers_mut()
            .insert(header.response.clone(), value);
    }
    Ok(written)
}

/// The 500 that replaces a response whose session cannot be sealed: its
/// body says why in one line, for whoever runs the app without a `tracing`
/// subscriber. Sizes and settings only: a serializer's message may quote
/// the session's contents, so it is not repeated.
fn seal_failure_response<B: From<String>>(e: &Error) -> Response<B> {
    let why = match e {
        Error::Serialize(_) => "the session value does not serialize".to_owned(),
        e => e.to_string(),
    };
    let mut response = Response::new(B::from(format!(
        "500 Internal Server Error: the session cannot be sealed: {why}\n"
    )));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A session that cannot be sealed is the server's bug: say what and by how
/// much, never what the session holds.
fn log_seal_failure(e: &Error) {
    match e {
        Error::Cookie(CookieError::TooLarge {
            size,
            limit,
            max_chunks,
            request_budget,
        }) => tracing::error!(
            size,
            limit,
            max_chunks,
            request_budget,
            "session layer: the session does not fit in its cookies ({e}); \
             answering 500 instead of dropping it"
        ),
        Error::TooLarge { size, limit } => tracing::error!(
            size,
            limit,
            "session layer: the session is over the codec's budget ({e}); answering 500"
        ),
        Error::Serialize(_) => {
            tracing::error!("session layer: the session value does not serialize; answering 500")
        }
        e => tracing::error!(error = %e, "session layer: cannot seal the session; answering 500"),
    }
}
