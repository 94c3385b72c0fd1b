//! Revocation: logout that holds. A sealed cookie cannot be un-issued, so a
//! copy taken before log-out opens until it expires, unless the codec asks
//! a [`Revocations`] store at every open. Entries live only until the
//! tokens they block would have expired anyway.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use time::OffsetDateTime;

use crate::claims::Claims;
use crate::error::Error;
use crate::ids::SessionId;

#[cfg(feature = "revocation")]
mod memory;

#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "revocation")]
pub use memory::{MemoryRevocations, RevocationStats, SESSIONS_PER_SUBJECT};
#[cfg(feature = "redis")]
pub use redis::{RedisOptions, RedisRevocations, Unavailable};

/// A revocation being written: ready at once in memory, a network round
/// trip for a shared store.
pub type Revoking = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// Where revoked sessions are kept. [`Codec`](crate::Codec) checks every
/// authenticated session against it (with
/// [`CodecBuilder::revocations`](crate::CodecBuilder::revocations)) before
/// decoding the payload.
///
/// Two kinds of entries: a revoked session (log-out), and a subject's
/// "not before" time (log out everywhere: every session of that subject
/// created at or before it is refused, re-sealed or not).
///
/// A store that is bounded must fail closed: it may refuse more sessions
/// than were revoked (fold them into a subject's "not before", or into a
/// floor for everyone), never fewer. Whatever it refuses, it reports with
/// [`refused_through`](Self::refused_through), so that a session created
/// after a log-out (even within the same second) is sealed to open.
///
/// A store of your own (a database the app already has) implements it;
/// `check` must answer from memory:
///
/// ```
/// use std::collections::HashSet;
/// use std::sync::{Arc, RwLock};
/// use sealed_session::{Claims, Codec, Error, Key, KeyRing, Revocations, RevokedSession, Revoking, SessionId};
/// use time::OffsetDateTime;
///
/// #[derive(Debug, Default)]
/// struct Denylist(RwLock<HashSet<SessionId>>);
///
/// impl Revocations for Denylist {
///     fn check(&self, claims: &Claims) -> Result<(), Error> {
///         match self.0.read().unwrap().contains(&claims.session_id()) {
///             true => Err(Error::Revoked),
///             false => Ok(()),
///         }
///     }
///     fn revoke_session(&self, session: &RevokedSession) -> Revoking {
///         self.0.write().unwrap().insert(session.id);
///         Box::pin(std::future::ready(Ok(())))
///     }
///     fn revoke_subject(&self, _: &str, _: OffsetDateTime, _: OffsetDateTime) -> Revoking {
///         Box::pin(std::future::ready(Err(Error::RevocationUnavailable("not kept".into()))))
///     }
///     fn refused_through(&self, _subject: Option<&str>) -> Option<i64> {
///         None // no "not before" lines, no floor
///     }
/// }
///
/// let store = Arc::new(Denylist::default());
/// let codec = Codec::builder(KeyRing::new(Key::generate())).revocations(store.clone()).build()?;
/// let token = codec.seal(&1u8)?;
/// let claims = codec.open::<u8>(&token)?.claims().clone();
/// drop(store.revoke_session(&RevokedSession::of(&claims, codec.latest_end(claims.created()))));
/// assert!(matches!(codec.open::<u8>(&token), Err(Error::Revoked)));
/// # Ok::<(), Error>(())
/// ```
pub trait Revocations: Send + Sync + fmt::Debug {
    /// Checks an authenticated session; called at every open, so it must
    /// not wait on a network.
    ///
    /// # Errors
    /// [`Error::Revoked`] if the session is revoked;
    /// [`Error::RevocationUnavailable`] if the store cannot answer (a store
    /// that fails closed).
    fn check(&self, claims: &Claims) -> Result<(), Error>;

    /// Refuses `session` from now until its `until` (its end, after
    /// which it could not open anyway).
    fn revoke_session(&self, session: &RevokedSession) -> Revoking;

    /// Refuses every session of `subject` created at or before
    /// `not_before` (whole seconds), until `until` (the end of the longest
    /// such session: `not_before` plus the codec's absolute lifetime).
    fn revoke_subject(
        &self,
        subject: &str,
        not_before: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Revoking;

    /// The latest creation time (unix seconds) at or before which this
    /// store refuses every session of `subject` (`None`: of nobody), if
    /// any: its "not before" line, or a floor for everyone. The codec seals
    /// a new session created after it, so that a log-in in the very second
    /// of a "log out everywhere" opens. Answered from memory.
    fn refused_through(&self, subject: Option<&str>) -> Option<i64>;

    /// Whether the next revoked session of `subject` would be folded into
    /// its "not before" line rather than held by id (a store that folds,
    /// past [`SESSIONS_PER_SUBJECT`](crate::SESSIONS_PER_SUBJECT)). The
    /// axum layer asks before it regenerates a session: a regenerated
    /// session keeps `created`, so a fold of its previous id would refuse
    /// it too, and it is sealed as a new session instead. Answered from
    /// memory; the default, for a store that never folds, is `false`.
    fn folds_next(&self, subject: &str) -> bool {
        let _ = subject;
        false
    }
}

/// A session to revoke: its id, and what lets a bounded store file it and
/// fold it without forgetting it (its subject and creation time).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevokedSession {
    /// The session's id.
    pub id: SessionId,
    /// Its subject, if it has one.
    pub subject: Option<String>,
    /// When it was created (`None`: unknown, as for an operator's
    /// revocation of a bare id; such an entry cannot be folded).
    pub created: Option<OffsetDateTime>,
    /// Until when it must stay refused: the latest end of any token of the
    /// session ([`Codec::latest_end`](crate::Codec::latest_end)).
    pub until: OffsetDateTime,
}

impl RevokedSession {
    /// The session of authenticated `claims`, refused until `until`.
    pub fn of(claims: &Claims, until: OffsetDateTime) -> Self {
        Self {
            id: claims.session_id(),
            subject: claims.subject().map(str::to_owned),
            created: Some(claims.created()),
            until,
        }
    }

    /// A session known by its id, subject and creation time, refused until
    /// `until`.
    pub fn new(
        id: SessionId,
        subject: Option<&str>,
        created: Option<OffsetDateTime>,
        until: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            subject: subject.map(str::to_owned),
            created,
            until,
        }
    }

    /// A session known by its id alone, refused until `until`.
    pub fn by_id(id: SessionId, until: OffsetDateTime) -> Self {
        Self {
            id,
            subject: None,
            created: None,
            until,
        }
    }
}
