//! The example site on actix-web: the same site as `../webapp` (its
//! `site.rs`: pages, CSRF, what the forms do), routed by actix-web and with
//! sessions from `SessionMiddleware`. `main.rs` serves it; the HTTP and
//! browser tests serve it too.

#[path = "../webapp/site.rs"]
mod site;

use actix_web::http::StatusCode;
use actix_web::http::header::{ContentType, LOCATION};
use actix_web::{HttpResponse, web};
use sealed_session::Codec;
use sealed_session::actix::{Session, SessionMiddleware};

use site::{Csrf, LogIn, Refused};
pub(crate) use site::{PASSWORD, USER, Visitor};

/// The session middleware of the site, for `App::wrap`: one for every
/// worker (clones share the codec and the counters).
pub(crate) fn sessions(codec: Codec) -> SessionMiddleware<Visitor> {
    SessionMiddleware::new(codec, site::cookie())
}

/// The site's routes, for `App::configure`.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(home))
        .route("/login", web::post().to(log_in))
        .route("/count", web::post().to(count))
        .route("/grow", web::post().to(grow))
        .route("/logout", web::post().to(log_out));
}

/// A form's answer: back to the home page (303), or why not.
fn answer(result: Result<(), Refused>) -> HttpResponse {
    match result {
        Ok(()) => HttpResponse::SeeOther()
            .insert_header((LOCATION, "/"))
            .finish(),
        Err(Refused(status, why)) => {
            HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
                .content_type(ContentType::plaintext())
                .body(why)
        }
    }
}

async fn home(session: Session<Visitor>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(site::home(&session))
}

async fn log_in(session: Session<Visitor>, form: web::Form<LogIn>) -> HttpResponse {
    answer(site::log_in(&session, form.into_inner()))
}

async fn count(session: Session<Visitor>, form: web::Form<Csrf>) -> HttpResponse {
    answer(site::count(&session, form.into_inner()))
}

async fn grow(session: Session<Visitor>, form: web::Form<Csrf>) -> HttpResponse {
    answer(site::grow(&session, form.into_inner()))
}

async fn log_out(session: Session<Visitor>, form: web::Form<Csrf>) -> HttpResponse {
    answer(site::log_out(&session, form.into_inner()))
}
