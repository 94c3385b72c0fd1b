//! The axum extractor of the session the layer opened for the request.

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::web::Session;

/// The extractor: the session the layer opened for this request.
impl<S, T> FromRequestParts<S> for Session<T>
where
    S: Send + Sync,
    T: Send + 'static,
{
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(MissingSessionLayer {
                value_type: std::any::type_name::<T>(),
            })
    }
}

/// `Option<Session<T>>`: the session only if the request carried one that
/// opened (and the handler has not ended it), for a handler that serves
/// visitors with and without one alike; `None` otherwise. To start a
/// session, take `Session<T>`. A route without the layer is still a
/// [`MissingSessionLayer`].
///
/// ```
/// use sealed_session::axum::Session;
/// async fn greet(session: Option<Session<String>>) -> String {
///     match session.and_then(|s| s.get()) {
///         Some(name) => format!("hello {name}"),
///         None => "hello, stranger".to_owned(),
///     }
/// }
/// # let _ = axum::Router::<()>::new().route("/", axum::routing::get(greet));
/// ```
impl<S, T> OptionalFromRequestParts<S> for Session<T>
where
    S: Send + Sync,
    T: Send + 'static,
{
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let session = <Self as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        // Read as a handler reads it: the answer depends on the request's cookie, so the
        // response varies on it (`Vary: Cookie`), `None` included: a shared
        // cache must not serve the anonymous page to a signed-in user.
        let present = !session.is_empty();
        Ok(present.then_some(session))
    }
}

/// A handler asked for a [`Session<T>`] on a route without a
/// `SessionLayer<T>` of that `T` (often: a layer of another value type): a
/// server bug, answered with a 500 that names the type.
#[derive(Debug, Clone, Copy)]
pub struct MissingSessionLayer {
    value_type: &'static str,
}

impl MissingSessionLayer {
    /// The `T` of the `Session<T>` the handler asked for.
    ///
    /// ```
    /// # use sealed_session::axum::Session;
    /// use axum::extract::FromRequestParts;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    /// let missing = Session::<u64>::from_request_parts(&mut parts, &()).await.unwrap_err();
    /// assert_eq!(missing.value_type(), "u64");
    /// assert!(missing.to_string().contains("Session<u64>"));
    /// # });
    /// ```
    pub fn value_type(&self) -> &'static str {
        self.value_type
    }
}

impl std::fmt::Display for MissingSessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a handler takes a Session<{t}> but this route has no SessionLayer<{t}> \
             (add the layer to the router, or take the session type the layer has)",
            t = self.value_type
        )
    }
}

impl std::error::Error for MissingSessionLayer {}

impl IntoResponse for MissingSessionLayer {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("500 Internal Server Error: {self}\n"),
        )
            .into_response()
    }
}
