//! The optional session extractor, with the meaning axum's
//! `Option<Session<T>>` has.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::extractor::MissingSessionMiddleware;
use crate::web::Session;

/// The session only if the request carried one that opened (and the
/// handler has not ended it): for a handler that serves visitors with and
/// without one alike. A route without the middleware is still a
/// [`MissingSessionMiddleware`] (a 500), as axum's `Option<Session<T>>` is.
///
/// Take this, not `Option<Session<T>>`: actix-web's blanket
/// `Option<E>` extractor turns every extractor error into `None`, so
/// `Option<Session<T>>` is `None` exactly when the middleware is missing
/// (every user looks anonymous, with no 500 to say why) and always `Some`
/// when it is there: the opposite of what it means under axum.
///
/// Reading it makes the response vary on the session cookie (`Vary:
/// Cookie`), `None` included: a shared cache must not serve the anonymous
/// page to a signed-in user. To start a session, take [`Session<T>`].
///
/// ```
/// use sealed_session::actix::OptionalSession;
/// async fn greet(OptionalSession(session): OptionalSession<String>) -> String {
///     match session.and_then(|s| s.get()) {
///         Some(name) => format!("hello {name}"),
///         None => "hello, stranger".to_owned(),
///     }
/// }
/// # let _ = actix_web::web::get().to(greet);
/// ```
pub struct OptionalSession<T>(pub Option<Session<T>>);

impl<T> Clone for OptionalSession<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> std::fmt::Debug for OptionalSession<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("OptionalSession").field(&self.0).finish()
    }
}

impl<T> OptionalSession<T> {
    /// The session, if the request carried one that opened.
    pub fn into_inner(self) -> Option<Session<T>> {
        self.0
    }
}

impl<T: 'static> FromRequest for OptionalSession<T> {
    type Error = MissingSessionMiddleware;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = match Session::<T>::from_request(request, payload).into_inner() {
            Ok(session) => session,
            Err(missing) => return ready(Err(missing)),
        };
        // `is_empty` reads the session as a handler does: the response
        // varies on the cookie.
        let present = !session.is_empty();
        ready(Ok(Self(present.then_some(session))))
    }
}
