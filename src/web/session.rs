//! The session a handler sees: one per request, shared between the
//! framework's layer (which opens it before the handler and seals it after)
//! and the handler's extractor.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::claims::MAX_SUBJECT_LEN;
use crate::clock::{to_datetime, unix_now};
use crate::codec::{Codec, Opened};
use crate::error::Error;
use crate::ids::SessionId;
use crate::revocation::{Revocations, RevokedSession};

/// The session of the current request, handed to handlers by axum's
/// `SessionLayer` or actix-web's `SessionMiddleware`: the same type, the
/// same operations and the same rules under both.
///
/// Reading does not make the response set the cookie (only the layer's own
/// refresh does: a token sealed by an older key, or past half its idle
/// timeout); [`insert`](Self::insert), [`update`](Self::update),
/// [`regenerate`](Self::regenerate), [`set_subject`](Self::set_subject) and
/// [`destroy`](Self::destroy) do. Clones share the one session of the
/// request.
///
/// The value lives in the client's cookie: a client that replays an older
/// cookie of the same session gets the older value back, and of two
/// overlapping modifying requests the browser keeps the last response's
/// cookie. Keep here what the user may roll back; put what must not be
/// lost or replayed in your database. Revocation changes neither while the
/// session lives (the older cookie and both responses carry the same,
/// unrevoked id), but nothing undoes it: once a session with a subject is
/// logged out ([`log_out`](Self::log_out), [`destroy`](Self::destroy), or
/// [`regenerate`](Self::regenerate) with a store), a replayed copy and a
/// late response of an overlapping request carry the revoked id and stay
/// refused. A session without a subject is never revoked: a copy of it
/// opens until it expires.
///
/// The closures of [`with`](Self::with), [`update`](Self::update) and
/// [`update_or_insert_with`](Self::update_or_insert_with) run with the
/// session locked: they must not call the session themselves (formatting
/// it with `{:?}` prints `<in use>`). If a handler panics while changing the session, the
/// response leaves the cookie as it was.
///
/// For "the session if there is one", axum handlers take
/// `Option<Session<T>>` and actix-web handlers take
/// `sealed_session::actix::OptionalSession<T>`. Never `Option<Session<T>>`
/// on actix-web: its blanket `Option` extractor makes it `None` where the
/// middleware is missing (no 500) and always `Some` where it is present.
///
/// ```
/// # #[cfg(feature = "axum")]
/// use sealed_session::axum::Session; // actix-web: sealed_session::actix::Session
/// # #[cfg(not(feature = "axum"))]
/// # use sealed_session::actix::Session;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Default, Serialize, Deserialize)]
/// struct Visits { count: u32 }
///
/// async fn counter(session: Session<Visits>) -> String {
///     let count = session.update_or_insert_with(Visits::default, |v| {
///         v.count += 1;
///         v.count
///     });
///     format!("visit {count}")
/// }
/// # #[cfg(feature = "axum")] let _ = axum::Router::<()>::new().route("/", axum::routing::get(counter));
/// # #[cfg(feature = "actix")] let _ = actix_web::web::get().to(counter);
/// ```
pub struct Session<T> {
    state: Arc<Mutex<State<T>>>,
    /// The codec's revocation store and absolute lifetime, for log-out.
    revocations: Option<Arc<dyn Revocations>>,
    /// How long after its creation any token of a session can open.
    span: time::Duration,
    /// The codec's `max_lifetime`, which bounds a session's own.
    max_lifetime: time::Duration,
}

impl<T> Clone for Session<T> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
            revocations: self.revocations.clone(),
            span: self.span,
            max_lifetime: self.max_lifetime,
        }
    }
}

impl<T> std::fmt::Debug for Session<T> {
    /// Says what the session is, never what it holds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never blocks: formatting inside a handler's closure must not
        // deadlock.
        let Ok(state) = self.state.try_lock() else {
            return f.write_str("Session { <in use> }");
        };
        f.debug_struct("Session")
            .field("present", &state.value.is_some())
            .field("changed", &state.changed)
            .field("regenerate", &state.regenerate)
            .field("destroyed", &state.destroyed)
            .finish_non_exhaustive()
    }
}

/// What the request carried and what the handler did with it.
pub(crate) struct State<T> {
    /// The session value: the request's, or one the handler created.
    pub(crate) value: Option<T>,
    /// The claims of the session the request carried, if it opened; kept
    /// after [`Session::destroy`], whose id the revocation store needs.
    pub(crate) opened: Option<Opened<()>>,
    /// A subject set by the handler (`Some(None)`: removed).
    pub(crate) subject: Option<Option<String>>,
    pub(crate) changed: bool,
    pub(crate) regenerate: bool,
    pub(crate) destroyed: bool,
    /// A handler called the session: the response depends on it (`Vary`).
    pub(crate) accessed: bool,
    /// The request's session id was revoked already (by `log_out`).
    pub(crate) revoked: bool,
    /// The request's session authenticated but the revocation store could
    /// not say whether it is revoked: refused for now, kept so that a
    /// log-out still revokes it.
    pub(crate) unchecked: Option<Opened<()>>,
    /// The id a new (or regenerated) session will be sealed with, drawn
    /// when the handler asks for it.
    pub(crate) next_id: Option<SessionId>,
    /// A lifetime the handler set ("remember me"; `Some(None)`: removed).
    pub(crate) lifetime: Option<Option<time::Duration>>,
}

impl<T> Session<T> {
    pub(crate) fn new(
        opened: Option<Opened<T>>,
        unchecked: Option<Opened<()>>,
        codec: &Codec,
    ) -> Self {
        let (value, opened) = match opened {
            Some(opened) => {
                let (value, claims) = opened.split();
                (Some(value), Some(claims))
            }
            None => (None, None),
        };
        Self {
            state: Arc::new(Mutex::new(State {
                value,
                opened,
                subject: None,
                changed: false,
                regenerate: false,
                destroyed: false,
                accessed: false,
                revoked: false,
                unchecked,
                next_id: None,
                lifetime: None,
            })),
            revocations: codec.revocations().cloned(),
            span: codec.max_lifetime() + codec.leeway(),
            max_lifetime: codec.max_lifetime(),
        }
    }

    /// The state, for a handler's call (which the response then varies on),
    /// even if another handler panicked while holding it.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.accessed = true;
        state
    }

    /// The state, for the layer after the handler: `None` if a handler
    /// panicked while changing it, so that a half-changed value is never
    /// sealed.
    pub(crate) fn lock_after(&self) -> Option<MutexGuard<'_, State<T>>> {
        self.state.lock().ok()
    }

    /// A copy of the value, if there is a session.
    ///
    /// ```
    /// # #[cfg(feature = "axum")] use sealed_session::axum::Session;
    /// # #[cfg(not(feature = "axum"))] use sealed_session::actix::Session;
    /// async fn whoami(session: Session<String>) -> String {
    ///     session.get().unwrap_or_else(|| "nobody".to_owned())
    /// }
    /// # #[cfg(feature = "axum")] let _ = axum::Router::<()>::new().route("/", axum::routing::get(whoami));
    /// # #[cfg(feature = "actix")] let _ = actix_web::web::get().to(whoami);
    /// ```
    pub fn get(&self) -> Option<T>
    where
        T: Clone,
    {
        self.lock().value.clone()
    }

    /// Reads the value (or `None`) without copying it.
    ///
    /// ```
    /// # #[cfg(feature = "axum")] use sealed_session::axum::Session;
    /// # #[cfg(not(feature = "axum"))] use sealed_session::actix::Session;
    /// async fn name_length(session: Session<String>) -> String {
    ///     session.with(|name| name.map_or(0, String::len)).to_string()
    /// }
    /// # #[cfg(feature = "axum")] let _ = axum::Router::<()>::new().route("/", axum::routing::get(name_length));
    /// # #[cfg(feature = "actix")] let _ = actix_web::web::get().to(name_length);
    /// ```
    pub fn with<R>(&self, read: impl FnOnce(Option<&T>) -> R) -> R {
        read(self.lock().value.as_ref())
    }

    /// True when there is no session: none came with the request (or it did
    /// not open), and none was inserted.
    pub fn is_empty(&self) -> bool {
        self.lock().value.is_none()
    }

    /// True when the request carried a session that authenticated but the
    /// codec's revocation store cannot answer (a shared store that is out
    /// of sync and fails closed): the session is refused for now (the
    /// handler sees it empty), the cookie is kept, and
    /// [`log_out`](Self::log_out) still tries to revoke it. A handler tells
    /// "the store cannot answer" (say 503) from "no session" (a log-in form)
    /// with it.
    ///
    /// ```
    /// # #[cfg(feature = "axum")] use sealed_session::axum::Session;
    /// # #[cfg(not(feature = "axum"))] use sealed_session::actix::Session;
    /// # #[cfg(feature = "axum")]
    /// use axum::http::StatusCode;
    /// # #[cfg(not(feature = "axum"))]
    /// # use actix_web::http::StatusCode;
    /// async fn account(session: Session<u64>) -> Result<String, StatusCode> {
    ///     if session.is_unavailable() {
    ///         return Err(StatusCode::SERVICE_UNAVAILABLE);
    ///     }
    ///     session.get().map(|user| format!("user {user}")).ok_or(StatusCode::UNAUTHORIZED)
    /// }
    /// # #[cfg(feature = "axum")] let _ = axum::Router::<()>::new().route("/", axum::routing::get(account));
    /// # #[cfg(not(feature = "axum"))] let _ = account;
    /// ```
    pub fn is_unavailable(&self) -> bool {
        self.lock().unchecked.is_some()
    }

    /// Sets the value, creating the session if there was none. A session
    /// the request carried keeps its id; see [`regenerate`](Self::regenerate).
    pub fn insert(&self, value: T) {
        let mut state = self.lock();
        state.value = Some(value);
        state.changed = true;
    }

    /// Changes the value of an existing session; `None` (and no
    /// `Set-Cookie`) if there is none.
    ///
    /// ```
    /// # #[cfg(feature = "axum")] use sealed_session::axum::Session;
    /// # #[cfg(not(feature = "axum"))] use sealed_session::actix::Session;
    /// async fn rename(session: Session<String>) -> &'static str {
    ///     match session.update(|name| name.make_ascii_uppercase()) {
    ///         Some(()) => "renamed",
    ///         None => "no session",
    ///     }
    /// }
    /// # #[cfg(feature = "axum")] let _ = axum::Router::<()>::new().route("/", axum::routing::post(rename));
    /// # #[cfg(feature = "actix")] let _ = actix_web::web::post().to(rename);
    /// ```
    pub fn update<R>(&self, change: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut state = self.lock();
        let result = state.value.as_mut().map(change)?;
        // Only once the change is complete.
        state.changed = true;
        Some(result)
    }

    /// Changes the value, creating it with `create` if there is no session.
    pub fn update_or_insert_with<R>(
        &self,
        create: impl FnOnce() -> T,
        change: impl FnOnce(&mut T) -> R,
    ) -> R {
        let mut state = self.lock();
        let result = change(state.value.get_or_insert_with(create));
        state.changed = true;
        result
    }

    /// Gives the session a new id on the way out, keeping its value and its
    /// creation time (its absolute lifetime does not restart, but see
    /// below for a store that folds): call it on
    /// log-in and on every change of privilege, so that an id an attacker
    /// planted or saw before never names the signed-in session (session
    /// fixation). With a revocation store, the previous id of a session
    /// with a subject is revoked after the handler, so that a copy from
    /// before a change of privilege (a demotion) stops opening. Those
    /// revocations count towards the subject's
    /// [`SESSIONS_PER_SUBJECT`](crate::SESSIONS_PER_SUBJECT): past it
    /// (within one lifetime) the previous id folds into the subject's "not
    /// before" line, and the session is sealed as a new one, created now,
    /// so that the line does not refuse it: a loop of regenerations holds
    /// a handful of entries, never one each, but its absolute lifetime
    /// restarts, as at a log-in, and the subject's other sessions created
    /// before are refused. (A loop faster than one a second pushes its own
    /// new sessions ahead of the clock, past the leeway: it locks only
    /// itself out.) Without a value by the end of the request there is no
    /// session to regenerate, and nothing is set.
    pub fn regenerate(&self) {
        self.lock().regenerate = true;
    }

    /// Gives the session a lifetime of its own, counted from its start and
    /// kept across renewals: the "remember me" choice of a log-in form
    /// (say 12 hours without, 30 days with, under a codec whose
    /// `max_lifetime` is 30 days). The cookie's `Max-Age` follows it. Like
    /// every change, it is sealed only if the session has a value by the
    /// end of the request; set it with the log-in's
    /// [`set_subject`](Self::set_subject), whose new session takes it (a
    /// new subject's session does not inherit the previous one's; a
    /// [`destroy`](Self::destroy) drops it; [`clear_lifetime`](Self::clear_lifetime)
    /// removes it). Its clock is the session's creation time, so it
    /// restarts whenever the session is sealed as a new one: at a log-in,
    /// and at a [`regenerate`](Self::regenerate) that folds into the
    /// subject's line (past [`SESSIONS_PER_SUBJECT`](crate::SESSIONS_PER_SUBJECT)
    /// with a revocation store), which keeps the lifetime but counts it
    /// from then. If an operator lowers `max_lifetime` below it, the lower
    /// one applies and is what the session keeps.
    ///
    /// ```
    /// # #[cfg(feature = "axum")] use sealed_session::axum::Session;
    /// # #[cfg(not(feature = "axum"))] use sealed_session::actix::Session;
    /// # #[derive(serde::Serialize, serde::Deserialize, Clone)] struct User { id: u64 }
    /// async fn log_in(session: Session<User>, remember: bool) -> Result<(), sealed_session::Error> {
    ///     // ... password checked ...
    ///     session.set_subject(Some("42".to_owned()))?;
    ///     session.set_lifetime(if remember {
    ///         time::Duration::days(30)
    ///     } else {
    ///         time::Duration::hours(12)
    ///     })?;
    ///     session.insert(User { id: 42 });
    ///     Ok(())
    /// }
    /// # let _ = log_in;
    /// ```
    ///
    /// # Errors
    /// [`Error::Lifetime`] unless it is 1 s to the codec's `max_lifetime`
    /// (checked here, not as a 500 after the handler).
    pub fn set_lifetime(&self, lifetime: time::Duration) -> Result<(), Error> {
        let (seconds, max) = (lifetime.whole_seconds(), self.max_lifetime.whole_seconds());
        if !(1..=max).contains(&seconds) {
            return Err(Error::Lifetime { seconds, max });
        }
        self.lock().lifetime = Some(Some(lifetime));
        Ok(())
    }

    /// Removes the session's own lifetime (a "remember me" withdrawn): the
    /// session lives as long as the codec allows again, still counted from
    /// its start, and its token takes version `0x01`/`0x02` again. Like
    /// every change, it is sealed only if the session has a value by the
    /// end of the request.
    ///
    /// ```
    /// # #[cfg(feature = "axum")] use sealed_session::axum::Session;
    /// # #[cfg(not(feature = "axum"))] use sealed_session::actix::Session;
    /// async fn forget_me(session: Session<u64>) -> &'static str {
    ///     session.clear_lifetime();
    ///     assert_eq!(session.lifetime(), None);
    ///     "forgotten"
    /// }
    /// # #[cfg(feature = "axum")] let _ = axum::Router::<()>::new().route("/", axum::routing::post(forget_me));
    /// # #[cfg(feature = "actix")] let _ = actix_web::web::post().to(forget_me);
    /// ```
    pub fn clear_lifetime(&self) {
        self.lock().lifetime = Some(None);
    }

    /// The session's own lifetime as the response will seal it: the one
    /// set (or cleared) in this request; else, unless a new subject makes
    /// this a new session (another user's "remember me" does not carry
    /// over) or it was destroyed, the one sealed in the token, within the
    /// codec's current `max_lifetime`; `None` if it lives as long as the
    /// codec allows.
    pub fn lifetime(&self) -> Option<time::Duration> {
        let state = self.lock();
        match (state.lifetime, &state.subject, &state.opened) {
            (Some(set), _, _) => set,
            (None, None, Some(opened)) if !state.destroyed => opened
                .claims()
                .lifetime()
                .map(|lifetime| lifetime.min(self.max_lifetime)),
            (None, _, _) => None,
        }
    }

    /// Sets (or with `None` removes) the session's subject, the user it
    /// belongs to: what "log out everywhere" revokes. A change of subject
    /// is a change of privilege: the response seals a new session with the
    /// same value (a new id, and created now, so that a "log out
    /// everywhere" made before never refuses it). Like every change, it is
    /// sealed only if the session has a value by the end of the request.
    ///
    /// # Errors
    /// [`Error::SubjectLength`] unless the subject is 1 to 255 bytes (checked
    /// here, so that a subject from user input never becomes a 500).
    pub fn set_subject(&self, subject: Option<String>) -> Result<(), Error> {
        if let Some(s) = &subject {
            if s.is_empty() || s.len() > MAX_SUBJECT_LEN {
                return Err(Error::SubjectLength {
                    len: s.len(),
                    max: MAX_SUBJECT_LEN,
                });
            }
        }
        let mut state = self.lock();
        let current = match (&state.subject, &state.opened) {
            (Some(set), _) => set.as_deref(),
            (None, Some(opened)) if !state.destroyed => opened.claims().subject(),
            (None, _) => None,
        };
        if current != subject.as_deref() {
            state.subject = Some(subject);
            state.regenerate = true;
        }
        Ok(())
    }

    /// The session's subject: the one set in this request, else the one
    /// sealed in the token.
    pub fn subject(&self) -> Option<String> {
        let state = self.lock();
        match (&state.subject, &state.opened) {
            (Some(set), _) => set.clone(),
            (None, Some(opened)) if !state.destroyed => {
                opened.claims().subject().map(str::to_owned)
            }
            (None, _) => None,
        }
    }

    /// The session's id as the response will seal it: the id of the
    /// session the request carried; for a new session (a value inserted
    /// where there was none, or after [`destroy`](Self::destroy)) or one
    /// that gets a new id ([`regenerate`](Self::regenerate), a new
    /// subject), the new id, drawn now. `None` while there is no value:
    /// nothing would be sealed.
    ///
    /// ```
    /// # #[cfg(feature = "axum")] use sealed_session::axum::Session;
    /// # #[cfg(not(feature = "axum"))] use sealed_session::actix::Session;
    /// async fn log_in(session: Session<String>) -> String {
    ///     session.insert("alice".to_owned());
    ///     session.regenerate();
    ///     // E.g. to record the log-in: the id the cookie will carry.
    ///     let id = session.session_id().expect("a value: a session to seal");
    ///     assert_eq!(session.session_id(), Some(id)); // drawn once
    ///     id.to_string()
    /// }
    /// # #[cfg(feature = "axum")] let _ = axum::Router::<()>::new().route("/", axum::routing::post(log_in));
    /// # #[cfg(feature = "actix")] let _ = actix_web::web::post().to(log_in);
    /// ```
    pub fn session_id(&self) -> Option<SessionId> {
        let mut state = self.lock();
        state.value.as_ref()?;
        match &state.opened {
            Some(opened) if !state.destroyed && !state.regenerate => {
                Some(opened.claims().session_id())
            }
            _ => Some(*state.next_id.get_or_insert_with(SessionId::random)),
        }
    }

    /// Ends the session: the response deletes its cookie and every chunk
    /// of it, and, when the codec has a revocation store and the session a
    /// subject, the layer revokes it after the handler, so that a copy of
    /// the cookie stops opening too. The handler does not see whether that
    /// revocation was recorded (a failure is logged at error level): on
    /// log-out, call [`log_out`](Self::log_out), which says. A session
    /// without a subject is never revoked. Inserting a value afterwards
    /// starts a new session, with a new id. Returns the id of the session
    /// the request carried, if any.
    pub fn destroy(&self) -> Option<SessionId> {
        let mut state = self.lock();
        let id = state
            .opened
            .as_ref()
            .filter(|_| !state.destroyed)
            .map(|opened| opened.claims().session_id());
        state.value = None;
        state.subject = None;
        state.changed = false;
        state.regenerate = false;
        state.destroyed = true;
        // A session inserted afterwards gets an id of its own, not one
        // told to the handler for this one.
        state.next_id = None;
        state.lifetime = None;
        id
    }

    /// Logs out: [`destroy`](Self::destroy), and, when the session has a
    /// subject and the codec a revocation store, revoke it now, so that a
    /// copy of the cookie taken before stops opening too (the layer does
    /// that after the handler for a plain `destroy`; this waits for it and
    /// says if it failed). A session without a subject names nobody: its
    /// cookie is deleted and nothing is revoked, so that no client can fill
    /// the store with anonymous log-outs; a copy of it opens until it
    /// expires.
    ///
    /// # Errors
    /// The store's, if it could not record the revocation (the cookie is
    /// deleted all the same): [`Error::RevocationUnavailable`] during an
    /// outage of a shared store, also for a session that could not be
    /// checked ([`is_unavailable`](Self::is_unavailable)).
    pub async fn log_out(&self) -> Result<(), Error> {
        // Until the latest any token of this session could open, a later
        // re-seal of a copy included.
        let revoked = {
            let state = self.lock();
            state
                .opened
                .as_ref()
                .filter(|_| !state.destroyed)
                // A session the store could not check is revoked all the
                // same (and the store says whether it could record it).
                .or(state.unchecked.as_ref())
                // A session without a subject names nobody: revoking it
                // would let any client fill the store with log-outs.
                .filter(|o| o.claims().subject().is_some())
                .map(|o| RevokedSession::of(o.claims(), o.claims().created() + self.span))
        };
        self.destroy();
        match (&self.revocations, revoked) {
            (Some(revocations), Some(revoked)) => {
                let result = revocations.revoke_session(&revoked).await;
                self.lock().revoked = result.is_ok();
                result
            }
            _ => Ok(()),
        }
    }

    /// Logs the session's subject out everywhere: every session of that
    /// user created up to now is refused from now on (on every
    /// node that shares the store), this one included, which is also
    /// destroyed. A log-in after it starts a new session and opens.
    /// Without a subject, it is [`log_out`](Self::log_out).
    ///
    /// # Errors
    /// The store's, if it could not record a revocation (the session is
    /// destroyed all the same).
    ///
    /// ```
    /// # #[cfg(feature = "axum")] use sealed_session::axum::Session;
    /// # #[cfg(not(feature = "axum"))] use sealed_session::actix::Session;
    /// # #[cfg(feature = "axum")]
    /// use axum::http::StatusCode;
    /// # #[cfg(not(feature = "axum"))]
    /// # use actix_web::http::StatusCode;
    /// async fn log_out_everywhere(session: Session<u64>) -> StatusCode {
    ///     match session.log_out_everywhere().await {
    ///         Ok(()) => StatusCode::SEE_OTHER,
    ///         // The store did not record it; this device is logged out anyway.
    ///         Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    ///     }
    /// }
    /// # #[cfg(feature = "axum")] let _ = axum::Router::<()>::new().route("/", axum::routing::post(log_out_everywhere));
    /// # #[cfg(not(feature = "axum"))] let _ = log_out_everywhere;
    /// ```
    pub async fn log_out_everywhere(&self) -> Result<(), Error> {
        let subject = self.subject().or_else(|| {
            // A session the store could not check is logged out too.
            let state = self.lock();
            let unchecked = state.unchecked.as_ref()?;
            unchecked.claims().subject().map(str::to_owned)
        });
        // This device first, whatever the store says.
        let this_device = self.log_out().await;
        let everywhere = match (&self.revocations, subject) {
            (Some(revocations), Some(subject)) => {
                let now = unix_now()?;
                // A log-in sealed ahead of the clock by an earlier "log out
                // everywhere" of this second is covered too.
                let line = revocations
                    .refused_through(Some(&subject))
                    .map_or(now, |line| now.max(line.saturating_add(1)));
                let line = to_datetime(line);
                revocations
                    .revoke_subject(&subject, line, line.saturating_add(self.span))
                    .await
            }
            _ => Ok(()),
        };
        everywhere.and(this_device)
    }
}
