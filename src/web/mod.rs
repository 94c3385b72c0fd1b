//! The session rules of every framework adapter, in one place that knows no
//! framework (features `axum`, `actix`).
//!
//! An adapter does three things per request: it hands the request's
//! `Cookie` header values (or its token header's token) to
//! [`Sessions::open_cookies`] (or [`Sessions::open_token`]) before the
//! handler and gives the handler the [`Session`] of the [`Exchange`]; after
//! the handler it asks [`Sessions::finish`] for the [`Outcome`] and writes
//! it into the response: `Set-Cookie` values or the token header, a 500 in
//! place of the response when the session cannot be sealed,
//! `Cache-Control: no-store` and `Vary` by the rules of [`headers`]; then it
//! awaits the revocation of a session the handler ended. Everything else
//! (when to seal, sliding renewal, removal of refused cookies, regeneration,
//! fail-closed revocation checks, counters) happens here, the same for
//! every framework.

mod exchange;
pub(crate) mod headers;
mod rules;
mod session;
mod stats;

pub(crate) use exchange::{Carrier, Exchange, Outcome, Sessions, Write, revocation_failed};
pub use session::Session;
pub use stats::SessionStats;
