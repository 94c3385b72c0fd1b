//! The embedded store, for one node: two concurrent caches (`moka`) whose
//! entries expire on their own at the end of what they block.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use time::OffsetDateTime;

use crate::claims::Claims;
use crate::error::Error;
use crate::ids::SessionId;

use super::{Revocations, Revoking};

/// Entries of each kind kept at most, by default: 100,000 log-outs within
/// the codec's absolute lifetime, about 37 MB (an entry takes about 380
/// bytes resident, `benches/revocation.rs`).
pub(crate) const DEFAULT_CAPACITY: u64 = 100_000;

/// Revoked sessions in this process's memory: for one node (a cluster
/// needs a shared store). Each entry is dropped when the sessions it blocks
/// would have expired anyway; the number of entries is bounded.
///
/// ```
/// use std::sync::Arc;
/// use sealed_session::{Codec, Error, Key, KeyRing, MemoryRevocations, Revocations};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let revocations = Arc::new(MemoryRevocations::new());
/// let codec = Codec::builder(KeyRing::new(Key::generate()))
///     .revocations(revocations.clone())
///     .build()?;
/// let token = codec.seal(&1u8)?;
/// let opened = codec.open::<u8>(&token)?;
/// // Log-out: a copy of the cookie stops opening too.
/// revocations
///     .revoke_session(opened.claims().session_id(), opened.claims().expires())
///     .await?;
/// assert!(matches!(codec.open::<u8>(&token), Err(Error::Revoked)));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MemoryRevocations {
    inner: Arc<Inner>,
}

struct Inner {
    /// Revoked session ids, each until the end of its session.
    sessions: Cache<SessionId, Until>,
    /// Per subject: sessions created before `not_before` are refused.
    subjects: Cache<Box<str>, NotBefore>,
    capacity: u64,
    /// Entries pushed out by a full store before their end: sessions that
    /// open again. Logged, and reported in the stats.
    evicted: Arc<AtomicU64>,
}

/// The end of what an entry blocks, in unix seconds.
#[derive(Clone, Copy)]
struct Until(i64);

#[derive(Clone, Copy)]
struct NotBefore {
    not_before: i64,
    until: i64,
}

trait Ends {
    fn until(&self) -> i64;
}

impl Ends for Until {
    fn until(&self) -> i64 {
        self.0
    }
}

impl Ends for NotBefore {
    fn until(&self) -> i64 {
        self.until
    }
}

/// Each entry lives until the end of what it blocks (moka's timer wheel).
struct ToTheEnd;

impl<K, V: Ends> Expiry<K, V> for ToTheEnd {
    fn expire_after_create(&self, _: &K, value: &V, _: Instant) -> Option<Duration> {
        Some(left(value.until()))
    }

    fn expire_after_update(
        &self,
        _: &K,
        value: &V,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(left(value.until()))
    }
}

/// Counts and logs an entry a full store drops before its end.
fn on_eviction<K, V>(
    evicted: Arc<AtomicU64>,
    capacity: u64,
) -> impl Fn(Arc<K>, V, RemovalCause) + Send + Sync + 'static {
    move |_, _, cause| {
        if cause == RemovalCause::Size {
            evicted.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                capacity,
                "revocations: the store is full; a revocation was dropped before its end"
            );
        }
    }
}

/// From now to `until`, unix seconds, never negative.
fn left(until: i64) -> Duration {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Duration::from_secs(u64::try_from(until.saturating_sub(now)).unwrap_or(0))
}

/// What a [`MemoryRevocations`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationStats {
    /// Revoked session ids held.
    pub sessions: u64,
    /// Subjects with a "not before" time held.
    pub subjects: u64,
    /// The most entries of each kind it keeps.
    pub capacity: u64,
    /// Entries pushed out by a full store before their end (each one a
    /// revoked session that opens again): size the store so that this
    /// stays 0.
    pub evicted: u64,
}

impl Default for MemoryRevocations {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Without the cache's pending maintenance: formatting never blocks.
        f.debug_struct("MemoryRevocations")
            .field("sessions", &self.inner.sessions.entry_count())
            .field("subjects", &self.inner.subjects.entry_count())
            .field("capacity", &self.inner.capacity)
            .finish()
    }
}

impl MemoryRevocations {
    /// A store of up to 100,000 entries of each kind (about 37 MB when
    /// full).
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A store of up to `entries` entries of each kind. Past that, the
    /// cache evicts the entries it judges least useful: size it for the
    /// log-outs of one absolute lifetime.
    pub fn with_capacity(entries: u64) -> Self {
        let evicted = Arc::new(AtomicU64::new(0));
        Self {
            inner: Arc::new(Inner {
                sessions: Cache::builder()
                    .max_capacity(entries)
                    // A full store drops its oldest entries, never the
                    // newest (TinyLFU would refuse a new entry, which is
                    // never read again before it matters).
                    .eviction_policy(EvictionPolicy::lru())
                    .expire_after(ToTheEnd)
                    .eviction_listener(on_eviction(Arc::clone(&evicted), entries))
                    .build(),
                subjects: Cache::builder()
                    .max_capacity(entries)
                    // A full store drops its oldest entries, never the
                    // newest (TinyLFU would refuse a new entry, which is
                    // never read again before it matters).
                    .eviction_policy(EvictionPolicy::lru())
                    .expire_after(ToTheEnd)
                    .eviction_listener(on_eviction(Arc::clone(&evicted), entries))
                    .build(),
                capacity: entries,
                evicted,
            }),
        }
    }

    /// Records a revoked session id until `until` (unix seconds).
    pub(crate) fn insert_session(&self, id: SessionId, until: i64) {
        self.inner.sessions.insert(id, Until(until));
    }

    /// Records a subject's "not before" until `until` (unix seconds). A
    /// later "log out everywhere" never moves the line backwards.
    pub(crate) fn insert_subject(&self, subject: &str, not_before: i64, until: i64) {
        let subjects = &self.inner.subjects;
        let kept = subjects
            .get(subject)
            .filter(|old| old.not_before >= not_before);
        if kept.is_none() {
            subjects.insert(subject.into(), NotBefore { not_before, until });
        }
    }

    /// How many entries it holds (after pending expirations run).
    ///
    /// ```
    /// use sealed_session::{MemoryRevocations, Revocations, SessionId};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), sealed_session::Error> {
    /// let store = MemoryRevocations::with_capacity(10_000);
    /// let until = time::OffsetDateTime::now_utc() + time::Duration::days(7);
    /// store.revoke_session(SessionId::from_bytes([1; 16]), until).await?;
    /// let stats = store.stats();
    /// assert_eq!((stats.sessions, stats.capacity, stats.evicted), (1, 10_000, 0));
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> RevocationStats {
        self.inner.sessions.run_pending_tasks();
        self.inner.subjects.run_pending_tasks();
        RevocationStats {
            sessions: self.inner.sessions.entry_count(),
            subjects: self.inner.subjects.entry_count(),
            capacity: self.inner.capacity,
            evicted: self.inner.evicted.load(Ordering::Relaxed),
        }
    }
}

impl Revocations for MemoryRevocations {
    fn check(&self, claims: &Claims) -> Result<(), Error> {
        let inner = &*self.inner;
        if inner.sessions.contains_key(&claims.session_id()) {
            return Err(Error::Revoked);
        }
        if let Some(subject) = claims.subject() {
            // `contains_key` first: a `get` also records the read for the
            // cache's eviction policy, which quadrupled a typical check.
            if !inner.subjects.contains_key(subject) {
                return Ok(());
            }
            if let Some(entry) = inner.subjects.get(subject) {
                if claims.created_unix() < entry.not_before {
                    return Err(Error::Revoked);
                }
            }
        }
        Ok(())
    }

    fn revoke_session(&self, id: SessionId, until: OffsetDateTime) -> Revoking {
        self.insert_session(id, until.unix_timestamp());
        Box::pin(std::future::ready(Ok(())))
    }

    fn revoke_subject(
        &self,
        subject: &str,
        not_before: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Revoking {
        self.insert_subject(subject, not_before.unix_timestamp(), until.unix_timestamp());
        Box::pin(std::future::ready(Ok(())))
    }
}
