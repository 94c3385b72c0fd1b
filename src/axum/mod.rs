//! Sessions for axum and any tower service (feature `axum`).
//!
//! [`SessionLayer`] opens the request's session once, before the handler;
//! handlers take a [`Session<T>`]; after the handler the layer seals it and
//! sets the cookie only when it must (changed, sealed by an older key, or
//! past half its idle timeout).
//!
//! ```
//! use axum::{Router, routing::{get, post}};
//! use sealed_session::axum::{Session, SessionLayer};
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
//! let app: Router = Router::new()
//!     .route("/", get(home))
//!     .route("/login", post(log_in))
//!     .route("/logout", post(log_out))
//!     .layer(SessionLayer::<Visitor>::new(codec, cookie));
//! # let _ = app;
//! # Ok::<(), sealed_session::Error>(())
//! ```

mod layer;
mod service;
mod session;

pub use crate::codec_handle::CodecHandle;
pub use crate::web::{Session, SessionStats};
pub use layer::{SessionLayer, TokenHeader};
pub use service::{ResponseFuture, SessionService};
pub use session::MissingSessionLayer;
