//! One request's session, through any framework: open it before the
//! handler ([`Sessions::open_cookies`], [`Sessions::open_token`]), and
//! after it decide what the response carries ([`Sessions::finish`]). The
//! adapter only reads the request's headers and writes the [`Outcome`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::{to_datetime, unix_now};
use crate::codec::{Codec, SealOptions};
use crate::codec_handle::CodecHandle;
use crate::cookies::{Presence, SessionCookie, SetCookies};
use crate::error::{CookieError, Error};
use crate::ids::SessionId;
use crate::revocation::{RevokedSession, Revoking};

use super::rules::{Action, decide};
use super::session::Session;
use super::stats::{Counters, SessionStats};

/// What every request of a layer shares, whatever the framework: the codec
/// (replaceable while it serves) and the counters.
#[derive(Debug)]
pub(crate) struct Sessions {
    codec: CodecHandle,
    counters: Counters,
}

/// Where the token travels, as the rules need to know it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Carrier<'a> {
    /// In the session cookie (and its chunks).
    Cookie(&'a SessionCookie),
    /// In a request header; the response carries a new token in one.
    Header,
}

/// A request's session between the open and the response.
pub(crate) struct Exchange<T> {
    /// The codec the request was opened with, even if it was replaced since.
    codec: Codec,
    session: Session<T>,
    incoming: Incoming,
}

impl<T> std::fmt::Debug for Exchange<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange").finish_non_exhaustive()
    }
}

/// What the request told the rules, beside the session.
pub(super) struct Incoming {
    /// The time of the request, unix seconds: one clock reading for the
    /// open and the refresh decision.
    pub(super) now: i64,
    /// The session cookies the request carried, by name: the response
    /// deletes the ones it does not use.
    cookies: Presence,
    /// The request carried session cookies (or a token header).
    present: bool,
    /// They did not open: the response deletes them.
    pub(super) rejected: bool,
    /// The revocation store could not answer: the session is refused for
    /// now, and the response must not replace the client's cookie.
    unavailable: bool,
}

/// What the response must carry, for the adapter to write.
pub(crate) struct Outcome {
    pub(crate) write: Write,
    /// The response depends on the request's session header: the adapter
    /// appends it to `Vary` unless [`varies_on`](super::headers::varies_on)
    /// says it is listed.
    pub(crate) vary: bool,
    /// The ended session's revocation, for the adapter to await before it
    /// answers (a failure is logged: the cookie is deleted all the same).
    pub(crate) revoke: Option<Revoking>,
}

/// The session's part of the response.
pub(crate) enum Write {
    Nothing,
    /// `Set-Cookie` values (a new session, or deletions), each appended.
    Cookies(SetCookies),
    /// The token header's value: a new token, or empty to delete it.
    Token(String),
    /// The session cannot be sealed: the adapter replaces the response by
    /// a 500 with this body (`text/plain; charset=utf-8`, `no-store`).
    Failed(String),
}

impl Outcome {
    /// The response sets or deletes the session: the adapter sets
    /// `Cache-Control: no-store` unless
    /// [`keeps_out_of_shared_caches`](super::headers::keeps_out_of_shared_caches).
    pub(crate) fn sets_session(&self) -> bool {
        matches!(self.write, Write::Cookies(_) | Write::Token(_))
    }
}

/// Logs a revocation of an ended session that failed: the cookie is
/// deleted all the same, and a copy of it still opens until it expires.
pub(crate) fn revocation_failed(e: &Error) {
    tracing::error!(error = %e, "session layer: cannot revoke the ended session");
}

impl Sessions {
    pub(crate) fn new(codec: Codec) -> Self {
        Self {
            codec: CodecHandle::new(codec),
            counters: Counters::default(),
        }
    }

    /// The handle that replaces the codec, shared with every request.
    pub(crate) fn codec_handle(&self) -> CodecHandle {
        self.codec.clone()
    }

    pub(crate) fn stats(&self) -> SessionStats {
        self.counters.snapshot()
    }

    /// Opens the session the request's `Cookie` header values carry, if
    /// any opens.
    pub(crate) fn open_cookies<'h, T: DeserializeOwned>(
        &self,
        cookie: &SessionCookie,
        headers: impl IntoIterator<Item = &'h [u8]>,
    ) -> Exchange<T> {
        let codec = self.codec.current();
        let Some(mut incoming) = Incoming::at_now() else {
            return Exchange::without_session(codec);
        };
        let mut unchecked = None;
        let request = cookie.read_bytes(headers);
        incoming.present = request.is_present();
        if incoming.present {
            incoming.cookies = request.presence();
        }
        let opened = request.token().and_then(|token| match token {
            Some(token) => codec
                .open_unix_keeping(&token, incoming.now, cookie.token_budget(), &mut unchecked)
                .map(Some),
            None => Ok(None),
        });
        self.opened(codec, opened, unchecked, incoming)
    }

    /// Opens the session of a token from a request header (see
    /// [`bearer_token`](super::headers::bearer_token) and
    /// [`named_token`](super::headers::named_token)), if it opens.
    pub(crate) fn open_token<T: DeserializeOwned>(&self, token: Option<&str>) -> Exchange<T> {
        let codec = self.codec.current();
        let Some(mut incoming) = Incoming::at_now() else {
            return Exchange::without_session(codec);
        };
        let mut unchecked = None;
        let opened = match token {
            Some(token) => {
                incoming.present = true;
                codec
                    .open_unix_keeping(token, incoming.now, codec.budget(), &mut unchecked)
                    .map(Some)
            }
            None => Ok(None),
        };
        self.opened(codec, opened, unchecked, incoming)
    }

    fn opened<T>(
        &self,
        codec: Codec,
        opened: Result<Option<crate::codec::Opened<T>>, Error>,
        unchecked: Option<crate::codec::Opened<()>>,
        mut incoming: Incoming,
    ) -> Exchange<T> {
        let opened = match opened {
            Ok(opened) => opened,
            Err(e) => {
                self.rejected(&e);
                incoming.rejected = e.is_rejection();
                incoming.unavailable = matches!(e, Error::RevocationUnavailable(_));
                None
            }
        };
        Exchange {
            session: Session::new(opened, unchecked, &codec),
            codec,
            incoming,
        }
    }

    /// Counts and logs a session that did not open. Never the token, nor a
    /// payload error's text, which may quote the session's contents.
    fn rejected(&self, e: &Error) {
        let counters = &self.counters;
        match e {
            Error::Payload(_) | Error::PayloadTooDeep { .. } => {
                Counters::add(&counters.old_shape);
                tracing::debug!(
                    "session layer: a session authenticated but is not of the layer's type \
                     (sealed by an older version of the app?); starting a new one"
                );
            }
            // The store logs its outage once; not once per request.
            Error::RevocationUnavailable(why) => tracing::debug!(
                reason = %why,
                "session layer: revocations cannot be checked; the session is refused for now"
            ),
            e if e.is_rejection() => {
                Counters::add(&counters.rejected);
                tracing::debug!(reason = %e, "session layer: the request's session was refused; starting a new one");
            }
            e => tracing::error!(error = %e, "session layer: cannot open sessions"),
        }
    }

    /// Applies the rules after the handler: what the response carries, and
    /// the revocation of a session the handler ended.
    pub(crate) fn finish<T: Serialize>(
        &self,
        exchange: &Exchange<T>,
        carrier: Carrier<'_>,
    ) -> Outcome {
        // What the handler ended, read before the response is decided;
        // revoked after it, so that a regenerated session is sealed from a
        // session that is not revoked yet.
        let ended = exchange.ended();
        let (write, vary) = self.write(exchange, carrier);
        let revoke = match (exchange.codec.revocations(), ended) {
            (Some(revocations), Some(ended)) => Some(revocations.revoke_session(&ended)),
            _ => None,
        };
        Outcome {
            write,
            vary,
            revoke,
        }
    }

    fn write<T: Serialize>(&self, exchange: &Exchange<T>, carrier: Carrier<'_>) -> (Write, bool) {
        let Exchange {
            codec,
            session,
            incoming,
        } = exchange;
        let Some(mut state) = session.lock_after() else {
            tracing::error!(
                "session layer: a handler panicked while changing the session; the cookie is left as it was"
            );
            return (Write::Nothing, false);
        };
        let accessed = state.accessed;
        let mut action = decide(&mut state, incoming, codec);
        drop(state);
        // The client's session may well be valid: never seal another over
        // it while the store cannot say (a log-out's deletion still goes
        // out).
        if incoming.unavailable && matches!(action, Action::Seal { .. } | Action::Reseal(_)) {
            tracing::debug!("session layer: revocations unavailable; the client's cookie is kept");
            action = Action::Nothing;
        }
        let refresh_only = matches!(&action, Action::Reseal(r) if r.refresh_only);
        let (write, written) = match carry(carrier, codec, action, incoming) {
            Ok(carried) => carried,
            // The session ended between the open and now (within the clock
            // leeway, or during a slow handler): the client's, not a 500.
            Err(e) if e.is_rejection() => {
                tracing::debug!(reason = %e, "session layer: the session ended during the request; removing it");
                carry(carrier, codec, Action::<T>::Remove, incoming)
                    .unwrap_or((Write::Nothing, Written::Nothing))
            }
            // A refresh the server cannot make (a codec swapped for a
            // smaller budget): the session still opens as it is, so answer
            // without it.
            Err(e) if refresh_only => {
                tracing::warn!(error = %e, "session layer: cannot refresh the session; leaving the cookie as it was");
                (Write::Nothing, Written::Nothing)
            }
            Err(e) => {
                Counters::add(&self.counters.failed);
                log_seal_failure(&e);
                return (Write::Failed(seal_failure_body(&e)), false);
            }
        };
        match written {
            Written::Nothing => {}
            Written::Sealed => Counters::add(&self.counters.sealed),
            Written::Removed => Counters::add(&self.counters.removed),
        }
        let vary = accessed || incoming.present || !matches!(written, Written::Nothing);
        (write, vary)
    }
}

impl Incoming {
    /// Nothing seen yet, at the request's time; `None` (and no session) if
    /// the system clock is unusable.
    fn at_now() -> Option<Self> {
        let now = match unix_now() {
            Ok(now) => now,
            Err(e) => {
                tracing::error!("session layer: the system clock is unusable: {e}");
                return None;
            }
        };
        Some(Self {
            now,
            cookies: Presence::default(),
            present: false,
            rejected: false,
            unavailable: false,
        })
    }
}

impl<T> Exchange<T> {
    /// The session handlers see: the adapter hands clones of it out.
    pub(crate) fn session(&self) -> &Session<T> {
        &self.session
    }

    /// No session (the clock is unusable): the response leaves the
    /// client's cookie alone.
    fn without_session(codec: Codec) -> Self {
        Self {
            session: Session::new(None, None, &codec),
            codec,
            incoming: Incoming {
                now: 0,
                cookies: Presence::default(),
                present: false,
                rejected: false,
                unavailable: false,
            },
        }
    }

    /// The request's session, if the codec has a store and the handler
    /// ended it: destroyed it (without `log_out`, which revokes it
    /// itself), or replaced it by one with a new id (`regenerate`, a new
    /// subject), so that a copy from before a change of privilege stops
    /// opening.
    fn ended(&self) -> Option<RevokedSession> {
        self.codec.revocations()?;
        let state = self.session.lock_after()?;
        let replaced = state.value.is_some() && (state.regenerate || state.subject.is_some());
        if !(state.destroyed || replaced) || state.revoked {
            return None;
        }
        let opened = match (&state.opened, &state.unchecked) {
            (Some(opened), _) => opened,
            // Destroyed while the store could not check it: revoked all the
            // same (a failure to record it is logged).
            (None, Some(unchecked)) if state.destroyed => unchecked,
            _ => return None,
        };
        let claims = opened.claims();
        // A session without a subject names nobody: revoking it would let
        // any client fill the store with anonymous log-outs.
        claims.subject()?;
        let until = self.codec.latest_end(claims.created());
        // With its subject, so that it counts towards folding: a loop of
        // regenerations holds a handful of entries, not one each. (`decide`
        // seals a regeneration that would fold as a new session, which the
        // fold does not refuse.)
        Some(RevokedSession::of(claims, until))
    }
}

/// What the response did about the session, for the counters.
enum Written {
    Nothing,
    Sealed,
    Removed,
}

/// Carries out an action in the token's carrier.
fn carry<T: Serialize>(
    carrier: Carrier<'_>,
    codec: &Codec,
    action: Action<T>,
    incoming: &Incoming,
) -> Result<(Write, Written), Error> {
    let mut token = String::new();
    let (write, written) = match action {
        Action::Nothing => return Ok((Write::Nothing, Written::Nothing)),
        Action::Remove if !incoming.present => return Ok((Write::Nothing, Written::Nothing)),
        Action::Remove => match carrier {
            Carrier::Cookie(cookie) => (
                Write::Cookies(cookie.remove_for(&incoming.cookies)),
                Written::Removed,
            ),
            Carrier::Header => (Write::Token(token), Written::Removed),
        },
        Action::Seal {
            value,
            subject,
            id,
            after,
            lifetime,
        } => {
            let subject = subject.map(Some);
            let at = created_at(incoming, after);
            let options = options_for(at, subject.as_ref(), false, id, lifetime.map(Some));
            match carrier {
                Carrier::Cookie(cookie) => (
                    Write::Cookies(cookie.seal_for(codec, &value, options, &incoming.cookies)?),
                    Written::Sealed,
                ),
                Carrier::Header => {
                    codec.seal_into(&value, options, &mut token)?;
                    (Write::Token(token), Written::Sealed)
                }
            }
        }
        Action::Reseal(r) => {
            let options = options_for(incoming.now, r.subject.as_ref(), r.new_id, r.id, r.lifetime);
            match carrier {
                Carrier::Cookie(cookie) => (
                    Write::Cookies(cookie.reseal_for(
                        codec,
                        &r.opened,
                        options,
                        &incoming.cookies,
                    )?),
                    Written::Sealed,
                ),
                Carrier::Header => {
                    codec.reseal_into(&r.opened, options, &mut token)?;
                    (Write::Token(token), Written::Sealed)
                }
            }
        }
    };
    Ok((write, written))
}

/// The seal options of an action, at `at` (unix seconds: the request's
/// time, or a new session's later creation).
fn options_for<'a>(
    at: i64,
    subject: Option<&'a Option<String>>,
    new_id: bool,
    id: Option<SessionId>,
    lifetime: Option<Option<time::Duration>>,
) -> SealOptions<'a> {
    let mut options = SealOptions::new().at(to_datetime(at));
    match lifetime {
        Some(Some(lifetime)) => options = options.lifetime(lifetime),
        Some(None) => options = options.without_lifetime(),
        None => {}
    }
    match subject {
        Some(Some(subject)) => options = options.subject(subject),
        Some(None) => options = options.without_subject(),
        None => {}
    }
    if new_id {
        options = options.new_id();
    }
    if let Some(id) = id {
        options = options.with_id(id);
    }
    options
}

/// A new session's creation: now, or the second after `after`.
fn created_at(incoming: &Incoming, after: Option<i64>) -> i64 {
    after.map_or(incoming.now, |after| {
        incoming.now.max(after.saturating_add(1))
    })
}

/// The body of the 500 that replaces a response whose session cannot be
/// sealed: one line that says why, for whoever runs the app without a
/// `tracing` subscriber. Sizes and settings only: a serializer's message
/// may quote the session's contents, so it is not repeated.
fn seal_failure_body(e: &Error) -> String {
    let why = match e {
        Error::Serialize(_) => "the session value does not serialize".to_owned(),
        e => e.to_string(),
    };
    format!("500 Internal Server Error: the session cannot be sealed: {why}\n")
}

/// A session that cannot be sealed is the server's bug: say what and by how
/// much, never what the session holds.
fn log_seal_failure(e: &Error) {
    match e {
        Error::Cookie(CookieError::TooLarge {
            size,
            limit,
            max_chunks,
            request_budget,
        }) => tracing::error!(
            size,
            limit,
            max_chunks,
            request_budget,
            "session layer: the session does not fit in its cookies ({e}); \
             answering 500 instead of dropping it"
        ),
        Error::TooLarge { size, limit } => tracing::error!(
            size,
            limit,
            "session layer: the session is over the codec's budget ({e}); answering 500"
        ),
        Error::Serialize(_) => {
            tracing::error!("session layer: the session value does not serialize; answering 500")
        }
        e => tracing::error!(error = %e, "session layer: cannot seal the session; answering 500"),
    }
}
