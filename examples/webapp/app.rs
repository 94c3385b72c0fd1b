//! The example site on axum: log-in with a CSRF token kept in the session, a
//! counter, a "grow the session" action that makes the cookie split into
//! chunks, and log-out. `site.rs` holds the pages and what the forms do;
//! this file routes them. `main.rs` serves it; the HTTP and browser tests
//! serve it too.

#[path = "site.rs"]
mod site;

use axum::Form;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sealed_session::Codec;
use sealed_session::axum::{Session, SessionLayer};

use site::{Csrf, LogIn, Refused};
pub(crate) use site::{PASSWORD, USER, Visitor};

pub(crate) fn router(codec: Codec) -> (Router, SessionLayer<Visitor>) {
    let layer = SessionLayer::<Visitor>::new(codec, site::cookie());
    let router = Router::new()
        .route("/", get(home))
        .route("/login", post(log_in))
        .route("/count", post(count))
        .route("/grow", post(grow))
        .route("/logout", post(log_out))
        .layer(layer.clone());
    (router, layer)
}

/// A form's answer: back to the home page, or why not.
fn answer(result: Result<(), Refused>) -> Response {
    match result {
        Ok(()) => Redirect::to("/").into_response(),
        Err(Refused(status, why)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            why,
        )
            .into_response(),
    }
}

async fn home(session: Session<Visitor>) -> Html<String> {
    Html(site::home(&session))
}

async fn log_in(session: Session<Visitor>, Form(form): Form<LogIn>) -> Response {
    answer(site::log_in(&session, form))
}

async fn count(session: Session<Visitor>, Form(form): Form<Csrf>) -> Response {
    answer(site::count(&session, form))
}

async fn grow(session: Session<Visitor>, Form(form): Form<Csrf>) -> Response {
    answer(site::grow(&session, form))
}

async fn log_out(session: Session<Visitor>, Form(form): Form<Csrf>) -> Response {
    answer(site::log_out(&session, form))
}
