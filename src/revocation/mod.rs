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
pub use memory::{MemoryRevocations, RevocationStats};
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
/// Two kinds of entries: a revoked session id (log-out), and a subject's
/// "not before" time (log out everywhere: every session of that subject
/// created before it is refused, re-sealed or not).
///
/// A store of your own (a database the app already has) implements it;
/// `check` must answer from memory:
///
/// ```
/// use std::collections::HashSet;
/// use std::sync::{Arc, RwLock};
/// use sealed_session::{Claims, Codec, Error, Key, KeyRing, Revocations, Revoking, SessionId};
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
///     fn revoke_session(&self, id: SessionId, _until: OffsetDateTime) -> Revoking {
///         self.0.write().unwrap().insert(id);
///         Box::pin(std::future::ready(Ok(())))
///     }
///     fn revoke_subject(&self, _: &str, _: OffsetDateTime, _: OffsetDateTime) -> Revoking {
///         Box::pin(std::future::ready(Err(Error::RevocationUnavailable("not kept".into()))))
///     }
/// }
///
/// let store = Arc::new(Denylist::default());
/// let codec = Codec::builder(KeyRing::new(Key::generate())).revocations(store.clone()).build()?;
/// let token = codec.seal(&1u8)?;
/// let claims = codec.open::<u8>(&token)?.claims().clone();
/// drop(store.revoke_session(claims.session_id(), claims.expires()));
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

    /// Refuses the session `id` from now until `until` (its end, after
    /// which it could not open anyway).
    fn revoke_session(&self, id: SessionId, until: OffsetDateTime) -> Revoking;

    /// Refuses every session of `subject` created before `not_before`,
    /// until `until` (the end of the longest such session: `not_before`
    /// plus the codec's absolute lifetime).
    fn revoke_subject(
        &self,
        subject: &str,
        not_before: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Revoking;
}
