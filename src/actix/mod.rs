//! Sessions for actix-web (feature `actix`): the same rules and the same
//! [`Session<T>`] as the axum layer, from the same framework-neutral core.
//!
//! [`SessionMiddleware`] opens the request's session once, before the
//! handler; handlers take a [`Session<T>`]; after the handler the
//! middleware seals it and sets the cookie only when it must (changed,
//! sealed by an older key, or past half its idle timeout), deletes a
//! cookie that did not open, sets `Cache-Control: no-store` on a response
//! that sets or deletes the session and `Vary: Cookie` on one that depends
//! on it, and revokes a session the handler ended (with a revocation
//! store).
//!
//! ```
//! use actix_web::{App, web};
//! use sealed_session::actix::{Session, SessionMiddleware};
//! use sealed_session::{Codec, Key, KeyRing, SessionCookie};
//! use serde::{Deserialize, Serialize};
//! use time::Duration;
//!
//! #[derive(Clone, Default, Serialize, Deserialize)]
//! struct Visitor { user: Option<String>, visits: u32 }
//!
//! async fn home(session: Session<Visitor>) -> String {
//!     let visits = session.update_or_insert_with(Visitor::default, |v| {
//!         v.visits += 1;
//!         v.visits
//!     });
//!     format!("visit number {visits}")
//! }
//!
//! async fn log_in(session: Session<Visitor>) -> &'static str {
//!     // (check the password first)
//!     session.update_or_insert_with(Visitor::default, |v| v.user = Some("alice".into()));
//!     // A new session id too, against fixation.
//!     session.set_subject(Some("alice".into())).expect("1 to 255 bytes");
//!     "welcome"
//! }
//!
//! async fn log_out(session: Session<Visitor>) -> &'static str {
//!     session.destroy(); // deletes every chunk of the cookie
//!     "bye"
//! }
//!
//! let codec = Codec::builder(KeyRing::new(Key::generate()))
//!     .idle_timeout(Duration::hours(2))
//!     .build()?;
//! let cookie = SessionCookie::builder("session").chunked(3).build()?;
//! let sessions = SessionMiddleware::<Visitor>::new(codec, cookie);
//! // One middleware for every worker: `HttpServer::new` calls this closure
//! // once per worker thread, and clones share the codec and the counters.
//! let app = move || {
//!     App::new()
//!         .wrap(sessions.clone())
//!         .route("/", web::get().to(home))
//!         .route("/login", web::post().to(log_in))
//!         .route("/logout", web::post().to(log_out))
//! };
//! # let _ = app;
//! # Ok::<(), sealed_session::Error>(())
//! ```
//!
//! Do not take `Option<Session<T>>`: actix-web's own optional extractor
//! turns a missing middleware into `None` (every user anonymous, no 500)
//! and is always `Some` otherwise, the opposite of its meaning under axum.
//! Take [`OptionalSession<T>`] for axum's meaning (`None` when the request
//! carried no session; a missing middleware is still a 500), or ask
//! [`Session::is_empty`].

mod extractor;
mod middleware;
mod optional;

pub use crate::codec_handle::CodecHandle;
pub use crate::web::{Session, SessionStats};
pub use extractor::MissingSessionMiddleware;
pub use middleware::{SessionMiddleware, SessionMiddlewareService, TokenHeader};
pub use optional::OptionalSession;
