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
    /// any opens, at the system clock's time.
    pub(crate) fn open_cookies<'h, T: DeserializeOwned>(
        &self,
        cookie: &SessionCookie,
        headers: impl IntoIterator<Item = &'h [u8]>,
    ) -> Exchange<T> {
        self.open_cookies_at(cookie, headers, request_time())
    }

    /// [`open_cookies`](Self::open_cookies) at `now` (unix seconds; `None`:
    /// no usable clock, no session, and the client's cookie is left alone).
    fn open_cookies_at<'h, T: DeserializeOwned>(
        &self,
        cookie: &SessionCookie,
        headers: impl IntoIterator<Item = &'h [u8]>,
        now: Option<i64>,
    ) -> Exchange<T> {
        let codec = self.codec.current();
        let Some(mut incoming) = now.map(Incoming::at) else {
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
        self.open_token_at(token, request_time())
    }

    /// [`open_token`](Self::open_token) at `now` (unix seconds; `None`: no
    /// usable clock, no session, and the client's token is left alone).
    fn open_token_at<T: DeserializeOwned>(
        &self,
        token: Option<&str>,
        now: Option<i64>,
    ) -> Exchange<T> {
        let codec = self.codec.current();
        let Some(mut incoming) = now.map(Incoming::at) else {
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

    /// The handler's service failed: there is no response to carry the
    /// session, but a session the handler ended (destroyed, regenerated,
    /// given a new subject) is revoked all the same.
    /// (The actix adapter turns an inner error into a response, which
    /// [`Sessions::finish`] handles, so only the axum layer needs this.)
    #[cfg(feature = "axum")]
    pub(crate) fn abandon<T>(&self, exchange: &Exchange<T>) -> Option<Revoking> {
        let ended = exchange.ended()?;
        Some(exchange.codec.revocations()?.revoke_session(&ended))
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

/// The request's time, unix seconds; `None` (and no session) if the
/// system clock is unusable.
fn request_time() -> Option<i64> {
    unix_now()
        .inspect_err(|e| tracing::error!("session layer: the system clock is unusable: {e}"))
        .ok()
}

impl Incoming {
    /// Nothing seen yet, at `now`.
    fn at(now: i64) -> Self {
        Self {
            now,
            cookies: Presence::default(),
            present: false,
            rejected: false,
            unavailable: false,
        }
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
            incoming: Incoming::at(0),
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

/// The rules without a framework: what an adapter would hand over and what
/// it would get back, at chosen times.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{Key, KeyRing};

    const T0: i64 = 1_800_000_000;

    fn rules() -> (Sessions, SessionCookie) {
        let codec = Codec::builder(KeyRing::new(Key::generate()))
            .idle_timeout(time::Duration::hours(1))
            .build()
            .unwrap();
        let cookie = SessionCookie::builder("sid").build().unwrap();
        (Sessions::new(codec), cookie)
    }

    /// The `Set-Cookie` values of an outcome.
    fn set_cookies(outcome: &Outcome) -> Vec<String> {
        match &outcome.write {
            Write::Cookies(set) => set.headers().to_vec(),
            _ => Vec::new(),
        }
    }

    /// The `Cookie` header a browser sends back after `set`.
    fn cookie_header(set: &[String]) -> String {
        set.iter()
            .map(|line| line.split(';').next().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn a_session_is_sealed_once_read_without_set_cookie_and_renewed_past_half_its_idle_timeout() {
        let (rules, cookie) = rules();
        let first = rules.open_cookies_at::<u32>(&cookie, [], Some(T0));
        first.session().insert(7);
        let outcome = rules.finish(&first, Carrier::Cookie(&cookie));
        let set = set_cookies(&outcome);
        assert_eq!(set.len(), 1);
        assert!(set[0].starts_with("sid=") && outcome.sets_session() && outcome.vary);
        let header = cookie_header(&set);

        for (after, renewed) in [(60, false), (20 * 60, false), (40 * 60, true)] {
            let next = rules.open_cookies_at::<u32>(&cookie, [header.as_bytes()], Some(T0 + after));
            assert_eq!(next.session().get(), Some(7), "{after} s later");
            let outcome = rules.finish(&next, Carrier::Cookie(&cookie));
            assert_eq!(
                !set_cookies(&outcome).is_empty(),
                renewed,
                "{after} s later"
            );
            assert!(outcome.vary, "the request carried a session");
        }
        // Past the idle timeout it no longer opens, and is removed.
        let late = rules.open_cookies_at::<u32>(&cookie, [header.as_bytes()], Some(T0 + 7200));
        assert_eq!(late.session().get(), None);
        let outcome = rules.finish(&late, Carrier::Cookie(&cookie));
        assert!(set_cookies(&outcome)[0].contains("Max-Age=0"));
        let stats = rules.stats();
        assert_eq!((stats.sealed, stats.removed, stats.rejected), (2, 1, 1));
    }

    #[test]
    fn an_untouched_request_without_a_session_carries_nothing() {
        let (rules, cookie) = rules();
        let exchange = rules.open_cookies_at::<u32>(&cookie, [&b"theme=dark"[..]], Some(T0));
        let outcome = rules.finish(&exchange, Carrier::Cookie(&cookie));
        assert!(matches!(outcome.write, Write::Nothing));
        assert!(!outcome.vary && !outcome.sets_session() && outcome.revoke.is_none());
    }

    #[test]
    fn without_a_clock_no_session_opens_and_nothing_is_set() {
        let (rules, cookie) = rules();
        let exchange = rules.open_cookies_at::<u32>(&cookie, [&b"sid=AAAA"[..]], None);
        assert_eq!(exchange.session().get(), None);
        let outcome = rules.finish(&exchange, Carrier::Cookie(&cookie));
        assert!(
            set_cookies(&outcome).is_empty(),
            "the client's cookie is kept"
        );
    }

    /// The token header's value of an outcome, if it has one.
    fn token(outcome: &Outcome) -> Option<&str> {
        match &outcome.write {
            Write::Token(token) => Some(token),
            _ => None,
        }
    }

    #[test]
    fn a_header_token_is_sealed_once_read_without_a_new_one_and_renewed_past_half_its_idle_timeout()
    {
        let (rules, _) = rules();
        let first = rules.open_token_at::<u32>(None, Some(T0));
        first.session().insert(7);
        let outcome = rules.finish(&first, Carrier::Header);
        let sealed = token(&outcome).expect("a new token").to_owned();
        assert!(!sealed.is_empty() && outcome.sets_session() && outcome.vary);

        for (after, renewed) in [(60, false), (20 * 60, false), (40 * 60, true)] {
            let next = rules.open_token_at::<u32>(Some(&sealed), Some(T0 + after));
            assert_eq!(next.session().get(), Some(7), "{after} s later");
            let outcome = rules.finish(&next, Carrier::Header);
            assert_eq!(token(&outcome).is_some(), renewed, "{after} s later");
            assert!(outcome.vary, "the request carried a token");
        }
        // Past the idle timeout it no longer opens: an empty token says
        // "discard yours".
        let late = rules.open_token_at::<u32>(Some(&sealed), Some(T0 + 7200));
        assert_eq!(late.session().get(), None);
        let outcome = rules.finish(&late, Carrier::Header);
        assert_eq!(token(&outcome), Some(""));
        let stats = rules.stats();
        assert_eq!((stats.sealed, stats.removed, stats.rejected), (2, 1, 1));
    }

    #[test]
    fn without_a_clock_no_header_token_opens_and_none_is_sent() {
        let (rules, _) = rules();
        let exchange = rules.open_token_at::<u32>(Some("AAAA"), None);
        assert_eq!(exchange.session().get(), None);
        let outcome = rules.finish(&exchange, Carrier::Header);
        assert!(token(&outcome).is_none(), "the client's token is kept");
        let untouched = rules.open_token_at::<u32>(None, Some(T0));
        let outcome = rules.finish(&untouched, Carrier::Header);
        assert!(matches!(outcome.write, Write::Nothing) && !outcome.vary);
    }

    #[cfg(feature = "revocation")]
    #[test]
    fn destroying_a_session_with_a_subject_hands_its_revocation_to_the_adapter() {
        use crate::revocation::MemoryRevocations;
        use std::sync::Arc;

        let store = Arc::new(MemoryRevocations::new());
        let codec = Codec::builder(KeyRing::new(Key::generate()))
            .revocations(store.clone())
            .build()
            .unwrap();
        let cookie = SessionCookie::builder("sid").build().unwrap();
        let rules = Sessions::new(codec);
        let now = unix_now().unwrap();
        let login = rules.open_cookies_at::<u32>(&cookie, [], Some(now));
        login.session().insert(1);
        login.session().set_subject(Some("alice".into())).unwrap();
        let header = cookie_header(&set_cookies(
            &rules.finish(&login, Carrier::Cookie(&cookie)),
        ));

        let logout = rules.open_cookies_at::<u32>(&cookie, [header.as_bytes()], Some(now));
        logout.session().destroy();
        let outcome = rules.finish(&logout, Carrier::Cookie(&cookie));
        assert!(set_cookies(&outcome)[0].contains("Max-Age=0"));
        let revoke = outcome.revoke.expect("a revocation to await");
        ready_now(revoke).unwrap();
        let copy = rules.open_cookies_at::<u32>(&cookie, [header.as_bytes()], Some(now));
        assert_eq!(copy.session().get(), None, "the copy is refused");
    }

    /// Polls a future that completes without waking (the memory store's).
    #[cfg(feature = "revocation")]
    fn ready_now<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the memory store answers at once"),
        }
    }
}
