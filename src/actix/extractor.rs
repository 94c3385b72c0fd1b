//! The actix-web extractor of the session the middleware opened for the
//! request.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError};

use crate::web::Session;
use crate::web::headers::NO_STORE;

/// The extractor: the session the middleware opened for this request.
///
/// ```
/// use sealed_session::actix::Session;
/// async fn whoami(session: Session<String>) -> String {
///     session.get().unwrap_or_else(|| "nobody".to_owned())
/// }
/// # let _ = actix_web::web::get().to(whoami);
/// ```
impl<T: 'static> FromRequest for Session<T> {
    type Error = MissingSessionMiddleware;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<Self>()
                .cloned()
                .ok_or(MissingSessionMiddleware {
                    value_type: std::any::type_name::<T>(),
                }),
        )
    }
}

/// A handler asked for a [`Session<T>`] on a route without a
/// `SessionMiddleware<T>` of that `T` (often: a middleware of another value
/// type): a server bug, answered with a 500 that names the type.
#[derive(Debug, Clone, Copy)]
pub struct MissingSessionMiddleware {
    value_type: &'static str,
}

impl MissingSessionMiddleware {
    /// The `T` of the `Session<T>` the handler asked for.
    ///
    /// ```
    /// use actix_web::FromRequest;
    /// use sealed_session::actix::Session;
    /// # actix_web::rt::System::new().block_on(async {
    /// let request = actix_web::test::TestRequest::default().to_http_request();
    /// let missing = Session::<u64>::extract(&request).await.unwrap_err();
    /// assert_eq!(missing.value_type(), "u64");
    /// assert!(missing.to_string().contains("Session<u64>"));
    /// # });
    /// ```
    pub fn value_type(&self) -> &'static str {
        self.value_type
    }
}

impl std::fmt::Display for MissingSessionMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a handler takes a Session<{t}> but this route has no SessionMiddleware<{t}> \
             (wrap the app or the scope in the middleware, or take the session type it has)",
            t = self.value_type
        )
    }
}

impl std::error::Error for MissingSessionMiddleware {}

impl ResponseError for MissingSessionMiddleware {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!("{self}");
        HttpResponse::InternalServerError()
            .insert_header((CACHE_CONTROL, HeaderValue::from_static(NO_STORE)))
            .insert_header((
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ))
            .body(format!("500 Internal Server Error: {self}\n"))
    }
}
