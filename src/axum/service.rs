//! The per-request work of the layer, translated for tower: the request's
//! headers go to the rules before the handler, and what the rules decide
//! goes into the response after it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::revocation::Revoking;
use crate::web::headers::{
    NO_STORE, bearer_token, keeps_out_of_shared_caches, named_token, varies_on,
};
use crate::web::{Exchange, Outcome, Write, revocation_failed};

use super::layer::{RequestHeader, Shared, TokenHeader, Transport};

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

impl<S, T, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    T: Serialize + DeserializeOwned + Send + 'static,
    ResBody: From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, T, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let exchange = open::<T>(&self.shared, request.headers());
        request.extensions_mut().insert(exchange.session().clone());
        ResponseFuture {
            inner: self.inner.call(request),
            after: Some(After {
                shared: Arc::clone(&self.shared),
                exchange,
            }),
            revoking: None,
        }
    }
}

/// Opens the request's session, by the layer's transport.
fn open<T: DeserializeOwned>(shared: &Shared, headers: &HeaderMap) -> Exchange<T> {
    match &shared.transport {
        Transport::Cookie(cookie) => shared.sessions.open_cookies(
            cookie,
            headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes),
        ),
        Transport::Header(header) => shared.sessions.open_token(header_token(header, headers)),
    }
}

/// The token of a request under header transport, if it has one.
fn header_token<'h>(header: &TokenHeader, headers: &'h HeaderMap) -> Option<&'h str> {
    match &header.request {
        RequestHeader::Bearer => bearer_token(headers.get(AUTHORIZATION)?.as_bytes()),
        RequestHeader::Named(name) => named_token(headers.get(name)?.as_bytes()),
    }
}

pin_project! {
    /// The response of a [`SessionService`]: the inner service's, with the
    /// session sealed (or not) into it, after a destroyed session's id is
    /// revoked.
    pub struct ResponseFuture<F, T, B, E> {
        #[pin]
        inner: F,
        after: Option<After<T>>,
        // The revocation to await before the inner service's answer (a
        // response with the session's headers, or its error) goes on.
        revoking: Option<(Revoking, Result<Response<B>, E>)>,
    }
}

impl<F, T, B, E> std::fmt::Debug for ResponseFuture<F, T, B, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

/// What the response needs from the request.
struct After<T> {
    shared: Arc<Shared>,
    exchange: Exchange<T>,
}

impl<F, T, B, E> Future for ResponseFuture<F, T, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
    T: Serialize,
    B: From<String>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.revoking.is_none() {
            let answer = std::task::ready!(this.inner.poll(cx));
            let Some(after) = this.after.take() else {
                return Poll::Ready(answer);
            };
            let sessions = &after.shared.sessions;
            let transport = &after.shared.transport;
            let (revoke, answer) = match answer {
                Ok(mut response) => {
                    let outcome = sessions.finish(&after.exchange, transport.carrier());
                    (apply(transport, outcome, &mut response), Ok(response))
                }
                // No response to carry the session; what the handler ended
                // is revoked all the same.
                Err(e) => (sessions.abandon(&after.exchange), Err(e)),
            };
            match revoke {
                Some(revoking) => *this.revoking = Some((revoking, answer)),
                None => return Poll::Ready(answer),
            }
        }
        let Some((revoking, _)) = this.revoking.as_mut() else {
            return Poll::Pending;
        };
        if let Err(e) = std::task::ready!(revoking.as_mut().poll(cx)) {
            revocation_failed(&e);
        }
        match this.revoking.take() {
            Some((_, answer)) => Poll::Ready(answer),
            None => Poll::Pending,
        }
    }
}

/// Writes what the rules decided into the response; returns the revocation
/// still to await.
fn apply<B: From<String>>(
    transport: &Transport,
    outcome: Outcome,
    response: &mut Response<B>,
) -> Option<Revoking> {
    let sets_session = outcome.sets_session();
    match outcome.write {
        Write::Nothing => {}
        Write::Cookies(set) => {
            let headers = response.headers_mut();
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
                (transport, HeaderValue::try_from(token))
            {
                response
                    .headers_mut()
                    .insert(header.response.clone(), value);
            }
        }
        Write::Failed(body) => {
            *response = seal_failure_response(body);
            return outcome.revoke;
        }
    }
    let headers = response.headers_mut();
    if sets_session && !keeps_out_of_shared_caches(values_of(headers, &CACHE_CONTROL)) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
    }
    let on = transport.request_header();
    if outcome.vary && !varies_on(values_of(headers, &VARY), on.as_str()) {
        // A standard name converts without allocating.
        headers.append(VARY, HeaderValue::from(on.clone()));
    }
    outcome.revoke
}

fn values_of<'h>(
    headers: &'h HeaderMap,
    name: &'h http::HeaderName,
) -> impl Iterator<Item = &'h [u8]> {
    headers.get_all(name).iter().map(HeaderValue::as_bytes)
}

/// The 500 that replaces a response whose session cannot be sealed.
fn seal_failure_response<B: From<String>>(body: String) -> Response<B> {
    let mut response = Response::new(B::from(body));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
