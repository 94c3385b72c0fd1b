//! The embedded store, for one node: revoked session ids in sets bucketed
//! by the hour their sessions were created (a timing wheel: a whole bucket
//! expires at once), subjects' "not before" times, and a floor. Bounded,
//! and fail-closed: a full store never forgets a revocation, it refuses
//! more sessions instead (ARCHITECTURE.md, "Revocation fails closed").

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use time::OffsetDateTime;

use crate::claims::Claims;
use crate::error::Error;
use crate::ids::SessionId;

use super::{Revocations, RevokedSession, Revoking};

/// Entries kept at most, by default: one million revoked sessions (about
/// 58 MB resident when full of distinct users, `benches/revocation.rs`).
pub(crate) const DEFAULT_CAPACITY: u64 = 1_000_000;

/// Revoked sessions of one subject kept one by one; the next one folds
/// into the subject's "not before" (so a hostile account that logs in and
/// out, or regenerates its session, in a loop holds at most this many
/// entries and one subject). A subject's count starts over once every
/// session it counted has ended.
pub const SESSIONS_PER_SUBJECT: u16 = 4;

/// Width of a bucket of the wheel, in seconds of `created`.
const BUCKET_SECONDS: i64 = 3600;

/// The most hours the wheel spans: twice the longest lifetime (400 days).
const MAX_SLOTS: i64 = 2 * 400 * 24;

/// Revoked sessions in this process's memory: for one node (a cluster
/// needs a shared store, such as `RedisRevocations`).
///
/// Each entry lasts until the sessions it blocks would have ended anyway,
/// and the store holds at most its capacity. It never forgets a revocation
/// to make room:
/// - past [`SESSIONS_PER_SUBJECT`] revoked sessions of one subject, the next
///   one raises that subject's "not before" to its `created` instead (the
///   subject's older sessions are refused too: a user who logs out of a
///   fifth device within one lifetime logs out the older ones; and an
///   account that logs in and out in a loop faster than once a second
///   pushes its own new sessions ahead of the clock, locking only itself
///   out until the clock catches up);
/// - when it is still full, it drops its oldest bucket of entries and
///   raises a floor: every session created at or before the newest of them
///   is refused (logged, and counted in [`RevocationStats::floor_raises`]).
///
/// ```
/// use std::sync::Arc;
/// use sealed_session::{Codec, Error, Key, KeyRing, MemoryRevocations, Revocations, RevokedSession};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let revocations = Arc::new(MemoryRevocations::new());
/// let codec = Codec::builder(KeyRing::new(Key::generate()))
///     .revocations(revocations.clone())
///     .build()?;
/// let token = codec.seal(&1u8)?;
/// let opened = codec.open::<u8>(&token)?;
/// // Log-out: a copy of the cookie stops opening too.
/// let until = codec.latest_end(opened.claims().created());
/// revocations.revoke_session(&RevokedSession::of(opened.claims(), until)).await?;
/// assert!(matches!(codec.open::<u8>(&token), Err(Error::Revoked)));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MemoryRevocations {
    inner: Arc<Inner>,
}

struct Inner {
    sessions: RwLock<Sessions>,
    /// Per subject: sessions created at or before `not_before` are refused.
    subjects: RwLock<HashMap<Box<str>, NotBefore>>,
    /// Revoked sessions counted per subject (by a keyed 32-bit hash: two
    /// subjects that collide fold a little sooner, never later).
    counts: Mutex<HashMap<u32, Count, BuildHasherDefault<PassThrough>>>,
    hasher: RandomState,
    capacity: u64,
    floor_raises: AtomicU64,
    folded: AtomicU64,
}

/// The session entries: the wheel, and the floor below it.
struct Sessions {
    /// By bucket of `created` (`created / BUCKET_SECONDS`).
    wheel: Wheel,
    /// Revoked ids whose `created` the revoker did not know (an operator's
    /// revocation by id): looked up whatever a session's `created`.
    anywhen: HashMap<SessionId, i64, BuildHasherDefault<PassThrough>>,
    /// Every session created at or before this second is refused.
    floor: Option<i64>,
    /// Entries held (wheel and `anywhen`).
    len: u64,
}

struct Bucket {
    ids: HashSet<SessionId, BuildHasherDefault<PassThrough>>,
    /// The latest end of its entries: the bucket expires as a whole.
    until: i64,
    /// The latest `created` of its entries: the floor if it is dropped.
    newest: i64,
}

/// The buckets from the oldest `created` hour held to the newest, one slot
/// an hour (400 days at most: 9,600 slots), so a check finds its bucket by
/// subtraction.
#[derive(Default)]
struct Wheel {
    /// The bucket index of `slots[0]`.
    base: i64,
    slots: VecDeque<Bucket>,
}

impl Wheel {
    fn get(&self, index: i64) -> Option<&Bucket> {
        let offset = usize::try_from(index.checked_sub(self.base)?).ok()?;
        self.slots.get(offset)
    }

    /// The bucket of `index`, made (with empty ones between) if needed;
    /// `None` if the wheel would span more than [`MAX_SLOTS`] hours (a
    /// `created` no session of this store's has).
    fn bucket_mut(&mut self, index: i64) -> Option<&mut Bucket> {
        if self.slots.is_empty() {
            self.base = index;
        }
        let len = i64::try_from(self.slots.len()).ok()?;
        let first = self.base.min(index);
        let last = (self.base + len - 1).max(index);
        if last - first >= MAX_SLOTS {
            return None;
        }
        while index < self.base {
            self.slots.push_front(Bucket::empty());
            self.base -= 1;
        }
        let offset = usize::try_from(index - self.base).ok()?;
        if offset >= self.slots.len() {
            self.slots.resize_with(offset + 1, Bucket::empty);
        }
        self.slots.get_mut(offset)
    }

    /// The oldest bucket holding entries, emptying the slots before it.
    fn oldest(&mut self) -> Option<&Bucket> {
        while self.slots.front().is_some_and(|b| b.ids.is_empty()) {
            self.slots.pop_front();
            self.base += 1;
        }
        self.slots.front()
    }

    fn pop_oldest(&mut self) -> Option<Bucket> {
        self.oldest()?;
        self.base += 1;
        self.slots.pop_front()
    }

    /// Empties the buckets whose sessions have all ended; the entries
    /// dropped.
    fn expire(&mut self, now: i64) -> u64 {
        let mut dropped = 0;
        for bucket in &mut self.slots {
            if bucket.until <= now && !bucket.ids.is_empty() {
                dropped += bucket.ids.len() as u64;
                *bucket = Bucket::empty();
            }
        }
        self.oldest();
        while self.slots.back().is_some_and(|b| b.ids.is_empty()) {
            self.slots.pop_back();
        }
        dropped
    }
}

impl Bucket {
    fn empty() -> Self {
        Self {
            ids: HashSet::default(),
            until: i64::MIN,
            newest: i64::MIN,
        }
    }
}

/// A subject's revoked sessions, counted until the day the last of them
/// ends: then the count starts over (a user who logs out of five devices
/// over months never folds). Four bytes, beside a four-byte key.
#[derive(Clone, Copy, Default)]
struct Count {
    sessions: u16,
    /// The day (since 1970) the latest counted session ends.
    last_day: u16,
}

/// The day of a unix second, as a [`Count`] keeps it (until 2149).
fn day_of(unix: i64) -> u16 {
    u16::try_from(unix.div_euclid(86_400).max(0)).unwrap_or(u16::MAX)
}

#[derive(Clone, Copy)]
struct NotBefore {
    not_before: i64,
    until: i64,
}

/// Session ids are 128 random bits from this library's CSPRNG (a client
/// cannot choose one that opens), and count keys are already keyed hashes:
/// their own first bytes are a uniform hash.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `SessionId` hashes as its 16 bytes, a u32 as its 4: the first 8
        // (or 4) of them are the hash.
        let mut word = [0u8; 8];
        for (w, b) in word.iter_mut().zip(bytes) {
            *w = *b;
        }
        self.0 ^= u64::from_le_bytes(word);
    }

    fn write_u32(&mut self, n: u32) {
        // Spread over the high bits too (hashbrown reads the top 7).
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// What a [`MemoryRevocations`] holds and has done under pressure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationStats {
    /// Revoked session ids held.
    pub sessions: u64,
    /// Subjects with a "not before" time held.
    pub subjects: u64,
    /// The most entries of each kind it keeps.
    pub capacity: u64,
    /// Every session created at or before this unix second is refused: the
    /// store was full and folded its oldest entries into it (`None`: never).
    pub floor: Option<i64>,
    /// How many times a full store raised the floor (each time, sessions
    /// that were never revoked are refused too: size the store so that this
    /// stays 0).
    pub floor_raises: u64,
    /// Revoked sessions folded into their subject's "not before" (past
    /// [`SESSIONS_PER_SUBJECT`] of one subject).
    pub folded: u64,
}

impl Default for MemoryRevocations {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // try_read: formatting never blocks.
        let mut s = f.debug_struct("MemoryRevocations");
        if let Ok(sessions) = self.inner.sessions.try_read() {
            s.field("sessions", &sessions.len)
                .field("floor", &sessions.floor);
        }
        if let Ok(subjects) = self.inner.subjects.try_read() {
            s.field("subjects", &subjects.len());
        }
        s.field("capacity", &self.inner.capacity).finish()
    }
}

impl MemoryRevocations {
    /// A store of up to 1,000,000 entries of each kind (about 58 MB when
    /// full of sessions).
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A store of up to `entries` entries of each kind (at least 1). Past
    /// that it refuses more sessions, never fewer (see the type's docs):
    /// size it for the log-outs of one absolute lifetime.
    pub fn with_capacity(entries: u64) -> Self {
        Self {
            inner: Arc::new(Inner {
                sessions: RwLock::new(Sessions {
                    wheel: Wheel::default(),
                    anywhen: HashMap::default(),
                    floor: None,
                    len: 0,
                }),
                subjects: RwLock::new(HashMap::new()),
                counts: Mutex::new(HashMap::default()),
                hasher: RandomState::new(),
                capacity: entries.max(1),
                floor_raises: AtomicU64::new(0),
                folded: AtomicU64::new(0),
            }),
        }
    }

    /// Records a revoked session until `until` (unix seconds), folding it
    /// into its subject past [`SESSIONS_PER_SUBJECT`]. Returns whether it
    /// was folded (the subject's entry is what must be shared then).
    pub(crate) fn insert_session(
        &self,
        id: SessionId,
        subject: Option<&str>,
        created: Option<i64>,
        until: i64,
    ) -> Result<Folded, Error> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        if until <= now {
            return Ok(Folded::No);
        }
        if let (Some(subject), Some(created)) = (subject, created) {
            if self.count(subject, until, now) > SESSIONS_PER_SUBJECT {
                let (not_before, until) = self.insert_subject(subject, created, until, now);
                self.inner.folded.fetch_add(1, Ordering::Relaxed);
                return Ok(Folded::Into { not_before, until });
            }
        }
        let mut sessions = write(&self.inner.sessions);
        if sessions.len >= self.inner.capacity {
            sessions.expire(now);
        }
        match created {
            Some(created) => {
                if sessions.floor.is_some_and(|floor| created <= floor) {
                    return Ok(Folded::No); // refused already
                }
                if sessions.len >= self.inner.capacity {
                    self.raise_floor(&mut sessions);
                    if sessions.floor.is_some_and(|floor| created <= floor) {
                        return Ok(Folded::No);
                    }
                }
                if sessions.len >= self.inner.capacity {
                    return Err(full(sessions.len));
                }
                let added = match sessions
                    .wheel
                    .bucket_mut(created.div_euclid(BUCKET_SECONDS))
                {
                    Some(bucket) => {
                        bucket.until = bucket.until.max(until);
                        bucket.newest = bucket.newest.max(created);
                        bucket.ids.insert(id)
                    }
                    // Far from every other entry: looked up by id alone.
                    None => insert_until(&mut sessions.anywhen, id, until),
                };
                if added {
                    sessions.len += 1;
                }
            }
            None => {
                if sessions.len >= self.inner.capacity {
                    self.raise_floor(&mut sessions);
                }
                if sessions.len >= self.inner.capacity {
                    return Err(full(sessions.len));
                }
                if insert_until(&mut sessions.anywhen, id, until) {
                    sessions.len += 1;
                }
            }
        }
        Ok(Folded::No)
    }

    /// Counts a revoked session of `subject` that ends at `until`; the
    /// count so far (of the sessions not all ended).
    fn count(&self, subject: &str, until: i64, now: i64) -> u16 {
        let key = self.subject_hash(subject);
        let mut counts = self
            .inner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if counts.len() as u64 >= self.inner.capacity && !counts.contains_key(&key) {
            // Counts are a heuristic bound, not a revocation: starting
            // over forgets nothing that is refused.
            let today = day_of(now);
            counts.retain(|_, count| count.last_day >= today);
            if counts.len() as u64 >= self.inner.capacity {
                counts.clear();
            }
        }
        let count = counts.entry(key).or_default();
        if count.last_day < day_of(now) {
            *count = Count::default();
        }
        count.sessions = count.sessions.saturating_add(1);
        count.last_day = count.last_day.max(day_of(until));
        count.sessions
    }

    /// The count of `subject` as [`count`](Self::count) would find it,
    /// without counting.
    fn counted(&self, subject: &str, now: i64) -> u16 {
        let key = self.subject_hash(subject);
        let counts = self
            .inner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts
            .get(&key)
            .filter(|count| count.last_day >= day_of(now))
            .map_or(0, |count| count.sessions)
    }

    fn subject_hash(&self, subject: &str) -> u32 {
        let mut h = self.inner.hasher.build_hasher();
        h.write(subject.as_bytes());
        // The low half of a keyed SipHash.
        let [a, b, c, d, ..] = h.finish().to_le_bytes();
        u32::from_le_bytes([a, b, c, d])
    }

    /// Drops the oldest bucket and raises the floor to its newest
    /// `created`: every session it held is still refused, and some that
    /// were never revoked are too.
    fn raise_floor(&self, sessions: &mut Sessions) {
        let Some(bucket) = sessions.wheel.pop_oldest() else {
            return;
        };
        let dropped = bucket.ids.len() as u64;
        sessions.len -= dropped;
        let floor = sessions
            .floor
            .map_or(bucket.newest, |f| f.max(bucket.newest));
        sessions.floor = Some(floor);
        // Buckets now below the floor are redundant.
        while let Some(oldest) = sessions.wheel.oldest() {
            if oldest.newest > floor {
                break;
            }
            if let Some(bucket) = sessions.wheel.pop_oldest() {
                sessions.len -= bucket.ids.len() as u64;
            }
        }
        let raises = self.inner.floor_raises.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::error!(
            capacity = self.inner.capacity,
            dropped,
            floor,
            raises,
            "revocations: the store is full; every session created at or before unix second {floor} \
             is refused from now on (raise the capacity)"
        );
    }

    /// Records a subject's "not before" until `until` (unix seconds): its
    /// sessions created at or before `not_before` are refused. Never moves
    /// the line backwards. Returns the subject's line and end as they are
    /// now (what a shared store must hold, never less).
    pub(crate) fn insert_subject(
        &self,
        subject: &str,
        not_before: i64,
        until: i64,
        now: i64,
    ) -> (i64, i64) {
        if until <= now {
            return (not_before, until);
        }
        let mut subjects = write(&self.inner.subjects);
        if let Some(entry) = subjects.get_mut(subject) {
            entry.not_before = entry.not_before.max(not_before);
            entry.until = entry.until.max(until);
            return (entry.not_before, entry.until);
        }
        if subjects.len() as u64 >= self.inner.capacity {
            subjects.retain(|_, e| e.until > now);
        }
        if subjects.len() as u64 >= self.inner.capacity {
            // Fold the oldest sixteenth of subjects into the floor.
            let mut lines: Vec<i64> = subjects.values().map(|e| e.not_before).collect();
            let cut = lines.len() / 16;
            let (_, line, _) = lines.select_nth_unstable(cut);
            let line = *line;
            let until_max = subjects
                .values()
                .filter(|e| e.not_before <= line)
                .map(|e| e.until)
                .max()
                .unwrap_or(until);
            // The floor first: a check reads the lines, then the floor, so
            // it never sees a line gone and the floor not yet raised.
            let mut sessions = write(&self.inner.sessions);
            sessions.floor = Some(sessions.floor.map_or(line, |f| f.max(line)));
            drop(sessions);
            subjects.retain(|_, e| e.not_before > line);
            let raises = self.inner.floor_raises.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::error!(
                capacity = self.inner.capacity,
                floor = line,
                until = until_max,
                raises,
                "revocations: the store is full of subjects; every session created at or before \
                 unix second {line} is refused from now on (raise the capacity)"
            );
        }
        subjects.insert(subject.into(), NotBefore { not_before, until });
        (not_before, until)
    }

    /// The latest creation second this store refuses for a session of
    /// `subject` (or of nobody): a new session must be created after it.
    pub(crate) fn refused_through_unix(&self, subject: Option<&str>) -> Option<i64> {
        let floor = read(&self.inner.sessions).floor;
        let line = subject.and_then(|s| read(&self.inner.subjects).get(s).map(|e| e.not_before));
        floor.max(line)
    }

    /// Every entry held, for a shared store that may have lost some (a
    /// Redis restarted without persistence): sessions as (id, created,
    /// until), subjects as (subject, not_before, until). A session in the
    /// wheel gives its bucket's newest `created` and latest end: bounds
    /// that put it in the same bucket and keep it at least as long. The
    /// floor is this node's own and is not shared.
    #[cfg(feature = "redis")]
    pub(crate) fn held(&self) -> Held {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut held = Held::default();
        let sessions = read(&self.inner.sessions);
        for bucket in &sessions.wheel.slots {
            if bucket.until > now {
                held.sessions.extend(
                    bucket
                        .ids
                        .iter()
                        .map(|&id| (id, Some(bucket.newest), bucket.until)),
                );
            }
        }
        held.sessions.extend(
            sessions
                .anywhen
                .iter()
                .filter(|&(_, &until)| until > now)
                .map(|(&id, &until)| (id, None, until)),
        );
        drop(sessions);
        held.subjects = read(&self.inner.subjects)
            .iter()
            .filter(|(_, e)| e.until > now)
            .map(|(subject, e)| (subject.to_string(), e.not_before, e.until))
            .collect();
        held
    }

    /// Whether session `id` (created at `created`, if known) is held by id
    /// (not merely refused under the floor).
    #[cfg(feature = "redis")]
    pub(crate) fn holds_session(&self, id: SessionId, created: Option<i64>) -> bool {
        let sessions = read(&self.inner.sessions);
        let in_wheel = created.is_some_and(|created| {
            sessions
                .wheel
                .get(created.div_euclid(BUCKET_SECONDS))
                .is_some_and(|bucket| bucket.ids.contains(&id))
        });
        in_wheel || sessions.anywhen.contains_key(&id)
    }

    /// The subject's own "not before" line, if it has one (the floor
    /// aside).
    #[cfg(feature = "redis")]
    pub(crate) fn refused_through_subject(&self, subject: &str) -> Option<i64> {
        read(&self.inner.subjects)
            .get(subject)
            .map(|e| e.not_before)
    }

    /// How many entries it holds (after expiring what has ended).
    ///
    /// ```
    /// use sealed_session::{MemoryRevocations, Revocations, RevokedSession, SessionId};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), sealed_session::Error> {
    /// let store = MemoryRevocations::with_capacity(10_000);
    /// let until = time::OffsetDateTime::now_utc() + time::Duration::days(7);
    /// store.revoke_session(&RevokedSession::by_id(SessionId::from_bytes([1; 16]), until)).await?;
    /// let stats = store.stats();
    /// assert_eq!((stats.sessions, stats.capacity, stats.floor), (1, 10_000, None));
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> RevocationStats {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut sessions = write(&self.inner.sessions);
        sessions.expire(now);
        let (held, floor) = (sessions.len, sessions.floor);
        drop(sessions);
        let mut subjects = write(&self.inner.subjects);
        subjects.retain(|_, e| e.until > now);
        RevocationStats {
            sessions: held,
            subjects: subjects.len() as u64,
            capacity: self.inner.capacity,
            floor,
            floor_raises: self.inner.floor_raises.load(Ordering::Relaxed),
            folded: self.inner.folded.load(Ordering::Relaxed),
        }
    }
}

/// The entries of a store, from [`MemoryRevocations::held`].
#[cfg(feature = "redis")]
#[derive(Default)]
pub(crate) struct Held {
    pub(crate) sessions: Vec<(SessionId, Option<i64>, i64)>,
    pub(crate) subjects: Vec<(String, i64, i64)>,
}

/// What a revoked session became in the store.
// The fold's floor is read by the Redis store only (feature `redis`).
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum Folded {
    /// Held as itself (or refused already).
    No,
    /// Folded into its subject's "not before".
    Into { not_before: i64, until: i64 },
}

impl Sessions {
    /// Drops the buckets (and created-less ids) whose sessions have ended.
    fn expire(&mut self, now: i64) {
        let mut dropped = self.wheel.expire(now);
        let before = self.anywhen.len();
        self.anywhen.retain(|_, until| *until > now);
        dropped += (before - self.anywhen.len()) as u64;
        self.len -= dropped;
    }
}

/// Only revocations that cannot fold into a floor are left (without a
/// creation time, or far from every other): the new one is refused,
/// loudly, rather than an old one forgotten.
fn full(len: u64) -> Error {
    Error::RevocationUnavailable(format!(
        "the revocation store is full ({len} entries that cannot be folded)"
    ))
}

/// Holds `id` until `until` at least (a later revocation never shortens
/// it); whether it is new.
fn insert_until(
    anywhen: &mut HashMap<SessionId, i64, BuildHasherDefault<PassThrough>>,
    id: SessionId,
    until: i64,
) -> bool {
    match anywhen.get_mut(&id) {
        Some(held) => {
            *held = (*held).max(until);
            false
        }
        None => {
            anywhen.insert(id, until);
            true
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl Revocations for MemoryRevocations {
    fn check(&self, claims: &Claims) -> Result<(), Error> {
        let created = claims.created_unix();
        // The lines before the floor: a full store raises the floor before
        // it drops lines (insert_subject), so no order of events lets a
        // check miss both.
        if let Some(subject) = claims.subject() {
            let subjects = read(&self.inner.subjects);
            if !subjects.is_empty()
                && subjects
                    .get(subject)
                    .is_some_and(|entry| created <= entry.not_before)
            {
                return Err(Error::Revoked);
            }
        }
        let id = claims.session_id();
        let sessions = read(&self.inner.sessions);
        if sessions.floor.is_some_and(|floor| created <= floor) {
            return Err(Error::Revoked);
        }
        let in_wheel = sessions
            .wheel
            .get(created.div_euclid(BUCKET_SECONDS))
            .is_some_and(|bucket| bucket.ids.contains(&id));
        if in_wheel || (!sessions.anywhen.is_empty() && sessions.anywhen.contains_key(&id)) {
            return Err(Error::Revoked);
        }
        Ok(())
    }

    fn revoke_session(&self, session: &RevokedSession) -> Revoking {
        let result = self
            .insert_session(
                session.id,
                session.subject.as_deref(),
                session.created.map(OffsetDateTime::unix_timestamp),
                session.until.unix_timestamp(),
            )
            .map(|_| ());
        Box::pin(std::future::ready(result))
    }

    fn revoke_subject(
        &self,
        subject: &str,
        not_before: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Revoking {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.insert_subject(
            subject,
            not_before.unix_timestamp(),
            until.unix_timestamp(),
            now,
        );
        Box::pin(std::future::ready(Ok(())))
    }

    fn refused_through(&self, subject: Option<&str>) -> Option<i64> {
        self.refused_through_unix(subject)
    }

    fn folds_next(&self, subject: &str) -> bool {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.counted(subject, now) >= SESSIONS_PER_SUBJECT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u8) -> SessionId {
        SessionId::from_bytes([i; 16])
    }

    fn claims(id: SessionId, created: i64) -> Claims {
        Claims::new(id, None, created, created, created + 100)
    }

    /// A subject's count lasts until the last of its counted sessions has
    /// ended, then starts over: a user who logs out of a device now and
    /// then never folds.
    #[test]
    fn a_subjects_count_starts_over_once_its_sessions_have_ended() {
        let store = MemoryRevocations::new();
        let day = 86_400;
        let now = 20_000 * day;
        let week = now + 7 * day;
        for n in 1..=SESSIONS_PER_SUBJECT {
            assert_eq!(store.count("u", week, now), n);
        }
        assert!(store.counted("u", now) >= SESSIONS_PER_SUBJECT);
        // Still counted while a counted session may open.
        assert_eq!(store.counted("u", week), SESSIONS_PER_SUBJECT);
        // The day after the last one ends: over.
        let later = week + day;
        assert_eq!(store.counted("u", later), 0);
        assert_eq!(store.count("u", later + 7 * day, later), 1);
        assert_eq!(store.counted("other", now), 0);
    }

    #[test]
    fn a_store_full_of_entries_that_cannot_fold_refuses_the_next_and_forgets_none() {
        let store = MemoryRevocations::with_capacity(10);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        for i in 0..10 {
            store
                .insert_session(id(i), None, None, now + 3600)
                .expect("held");
        }
        let e = store.insert_session(id(10), None, None, now + 3600);
        assert!(matches!(e, Err(Error::RevocationUnavailable(_))));
        for i in 0..10 {
            assert!(matches!(
                store.check(&claims(id(i), now)),
                Err(Error::Revoked)
            ));
        }
        // One with a creation time cannot push them out either.
        let e = store.insert_session(id(11), None, Some(now), now + 3600);
        assert!(matches!(e, Err(Error::RevocationUnavailable(_))));
        assert_eq!(store.stats().sessions, 10);
    }

    #[test]
    fn entries_far_apart_in_created_are_all_found() {
        let store = MemoryRevocations::new();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let far = now - 3 * 400 * 86_400;
        for (i, created) in [(1, now), (2, far), (3, now - 3600), (4, now + 7200)] {
            store
                .insert_session(id(i), None, Some(created), now + 86_400)
                .expect("held");
            assert!(matches!(
                store.check(&claims(id(i), created)),
                Err(Error::Revoked)
            ));
        }
        assert!(store.check(&claims(id(9), now)).is_ok());
        assert_eq!(store.stats().sessions, 4);
    }

    #[test]
    fn a_raised_floor_covers_the_dropped_bucket() {
        let store = MemoryRevocations::with_capacity(3);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let old = now - 5 * 3600;
        store
            .insert_session(id(1), None, Some(old), now + 86_400)
            .expect("held");
        store
            .insert_session(id(2), None, Some(old + 10), now + 86_400)
            .expect("held");
        store
            .insert_session(id(3), None, Some(now), now + 86_400)
            .expect("held");
        store
            .insert_session(id(4), None, Some(now), now + 86_400)
            .expect("held");
        let stats = store.stats();
        assert_eq!((stats.floor, stats.floor_raises), (Some(old + 10), 1));
        for (i, created) in [(1, old), (2, old + 10), (3, now), (4, now)] {
            assert!(matches!(
                store.check(&claims(id(i), created)),
                Err(Error::Revoked)
            ));
        }
        // A session created after the floor and never revoked opens.
        assert!(store.check(&claims(id(9), now)).is_ok());
        assert_eq!(store.refused_through_unix(None), Some(old + 10));
    }
}
