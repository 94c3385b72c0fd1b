//! The example site without a framework: what a visitor's session holds,
//! the pages, and what each form does to the session. `app.rs` (axum) and
//! `../webapp_actix/app.rs` (actix-web) only route requests here and turn
//! the answers into their framework's responses: the same `Session<T>`
//! under both.

use std::fmt::Write as _;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use rand::RngExt as _;
use sealed_session::SessionCookie;
#[cfg(all(feature = "actix", not(feature = "axum")))]
use sealed_session::actix::Session;
#[cfg(feature = "axum")]
use sealed_session::axum::Session;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

/// Everything the site remembers about a visitor, in the visitor's cookie.
#[derive(Clone, Default, Serialize, Deserialize)]
pub(crate) struct Visitor {
    /// Who is signed in.
    pub(crate) user: Option<String>,
    /// The anti-CSRF token every form sends back.
    pub(crate) csrf: String,
    pub(crate) count: u64,
    /// Filler the "grow" button adds, to push the session over one cookie.
    pub(crate) notes: Vec<String>,
}

/// The one account of the demo.
pub(crate) const USER: &str = "alice";
pub(crate) const PASSWORD: &str = "wonderland";

/// Each "grow" adds this much text to the session.
pub(crate) const NOTE_BYTES: usize = 1000;

/// The session cookie: split into 2 cookies when it grows (with 4096-byte
/// cookies, the default request budget of 6144 bytes holds 2: `usable_chunks`).
///
/// `secure(false)` because the demo serves plain HTTP on 127.0.0.1; behind
/// TLS keep the default (`Secure`) and add `.prefix(CookiePrefix::Host)`.
pub(crate) fn cookie() -> SessionCookie {
    SessionCookie::builder("session")
        .secure(false)
        .chunked(2)
        .build()
        .expect("a valid cookie configuration")
}

/// Why a form was refused: the status code and a line for the visitor.
pub(crate) struct Refused(pub(crate) u16, pub(crate) &'static str);

const FORBIDDEN: Refused = Refused(403, "CSRF token missing or wrong");

fn new_csrf() -> String {
    let bytes: [u8; 18] = rand::rng().random();
    Base64UrlUnpadded::encode_string(&bytes)
}

/// The session's CSRF token, creating the session if there is none yet.
fn csrf_of(session: &Session<Visitor>) -> String {
    if let Some(token) = session.with(|v| v.map(|v| v.csrf.clone())) {
        if !token.is_empty() {
            return token;
        }
    }
    session.update_or_insert_with(Visitor::default, |v| {
        v.csrf = new_csrf();
        v.csrf.clone()
    })
}

/// True if `sent` is the session's CSRF token (compared in constant time).
fn csrf_ok(session: &Session<Visitor>, sent: &str) -> Result<(), Refused> {
    let ok = session.with(|v| {
        v.is_some_and(|v| {
            !v.csrf.is_empty() && bool::from(v.csrf.as_bytes().ct_eq(sent.as_bytes()))
        })
    });
    if ok { Ok(()) } else { Err(FORBIDDEN) }
}

/// The home page: the log-in form, or the counter, the notes and log-out.
pub(crate) fn home(session: &Session<Visitor>) -> String {
    let csrf = csrf_of(session);
    let visitor = session.get().unwrap_or_default();
    let mut page = String::from(
        "<!doctype html><meta charset=utf-8><title>sealed-session demo</title>\
         <style>body{font:16px system-ui;max-width:40em;margin:2em auto}</style>",
    );
    let form = |action: &str, label: &str, id: &str| {
        format!(
            "<form method=post action={action}><input type=hidden name=csrf value={csrf}>\
             <button id={id}>{label}</button></form>"
        )
    };
    match &visitor.user {
        Some(user) => {
            let note_bytes: usize = visitor.notes.iter().map(String::len).sum();
            let _ = write!(
                page,
                "<p id=status>Signed in as <b id=user>{user}</b></p>\
                 <p>Counter: <b id=count>{}</b></p>{}\
                 <p>Notes: <b id=notes>{}</b> ({note_bytes} bytes)</p>{}{}",
                visitor.count,
                form("/count", "Count", "count-button"),
                visitor.notes.len(),
                form("/grow", "Grow the session", "grow-button"),
                form("/logout", "Log out", "logout-button"),
            );
        }
        None => {
            let _ = write!(
                page,
                "<p id=status>Logged out</p>\
                 <form method=post action=/login><input type=hidden name=csrf value={csrf}>\
                 <label>User <input id=username name=username value={USER}></label> \
                 <label>Password <input id=password name=password type=password></label> \
                 <button id=login-button>Log in</button></form>"
            );
        }
    }
    page
}

#[derive(Deserialize)]
pub(crate) struct LogIn {
    csrf: String,
    username: String,
    password: String,
}

/// Signs the visitor in; the framework then redirects to `/`.
pub(crate) fn log_in(session: &Session<Visitor>, form: LogIn) -> Result<(), Refused> {
    csrf_ok(session, &form.csrf)?;
    let known =
        form.username == USER && bool::from(form.password.as_bytes().ct_eq(PASSWORD.as_bytes()));
    if !known {
        return Err(Refused(401, "unknown user or wrong password"));
    }
    session.update(|v| {
        v.user = Some(form.username.clone());
        // A new CSRF token with the new privilege.
        v.csrf = new_csrf();
    });
    // A new session id too (against session fixation), and the subject
    // that "log out everywhere" will name.
    session
        .set_subject(Some(form.username))
        .map_err(|_| Refused(400, "user names are 1 to 255 bytes"))
}

#[derive(Deserialize)]
pub(crate) struct Csrf {
    csrf: String,
}

pub(crate) fn count(session: &Session<Visitor>, form: Csrf) -> Result<(), Refused> {
    csrf_ok(session, &form.csrf)?;
    session.update(|v| v.count += 1);
    Ok(())
}

pub(crate) fn grow(session: &Session<Visitor>, form: Csrf) -> Result<(), Refused> {
    csrf_ok(session, &form.csrf)?;
    // Random text: it does not compress, so the cookie grows by as much.
    let mut bytes = vec![0u8; NOTE_BYTES * 3 / 4];
    rand::rng().fill(&mut bytes[..]);
    session.update(|v| v.notes.push(Base64UrlUnpadded::encode_string(&bytes)));
    Ok(())
}

/// Ends the session: the layer deletes every chunk of its cookie and, with
/// a revocation store, revokes it (it has a subject).
pub(crate) fn log_out(session: &Session<Visitor>, form: Csrf) -> Result<(), Refused> {
    csrf_ok(session, &form.csrf)?;
    session.destroy();
    Ok(())
}
