//! A key ring whose keys carry lifecycles: which key seals at an instant,
//! which keys open, what changes next, and the rotation that keeps it going.

use time::{Duration, OffsetDateTime};

use crate::codec::Codec;
use crate::error::{Error, RotationError};
use crate::ids::KeyId;
use crate::key::{Key, KeyRing};

use super::lifecycle::{KeyState, Lifecycle};

/// How long a key must keep opening after it retires, for a codec: its
/// maximum lifetime (the longest a token it sealed may live) plus its
/// leeway (clock skew between nodes).
///
/// ```
/// use sealed_session::{Codec, Key, KeyRing, keep_for};
/// use time::Duration;
/// let codec = Codec::builder(KeyRing::new(Key::generate()))
///     .max_lifetime(Duration::days(7))
///     .leeway(Duration::seconds(30))
///     .build()?;
/// assert_eq!(keep_for(&codec), Duration::days(7) + Duration::seconds(30));
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub fn keep_for(codec: &Codec) -> Duration {
    codec.max_lifetime().saturating_add(codec.leeway())
}

/// One key of a [`KeySchedule`] and its lifecycle.
#[derive(Clone, Debug)]
pub struct ScheduledKey {
    key: Key,
    lifecycle: Lifecycle,
}

impl ScheduledKey {
    /// The key (its `Debug` never shows the secret).
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Its id.
    pub fn id(&self) -> KeyId {
        self.key.id()
    }

    /// When it was created, activates and retires.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }
}

/// How a schedule is kept going: each key seals for `every`, a new key is
/// added `activation_delay` before it seals (time for every node to load
/// it), and a retired key keeps opening for `keep` (the codec's maximum
/// lifetime plus leeway, [`keep_for`]).
///
/// ```
/// use sealed_session::RotationPolicy;
/// use time::Duration;
/// // ASP.NET Core Data Protection's defaults are 90 days and 2 days.
/// let policy = RotationPolicy::new(Duration::days(30), Duration::days(2), Duration::days(7))?;
/// assert_eq!(policy.every(), Duration::days(30));
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationPolicy {
    every: Duration,
    activation_delay: Duration,
    keep: Duration,
    leeway: Duration,
}

impl RotationPolicy {
    /// A policy.
    ///
    /// # Errors
    /// [`RotationError::Policy`] unless `every` is longer than
    /// `activation_delay` and neither that nor `keep` is negative (a key
    /// that retired before the next one was known would leave nothing to
    /// seal with).
    pub fn new(every: Duration, activation_delay: Duration, keep: Duration) -> Result<Self, Error> {
        if every <= activation_delay || activation_delay.is_negative() || keep.is_negative() {
            return Err(RotationError::Policy {
                every: every.whole_seconds(),
                activation_delay: activation_delay.whole_seconds(),
            }
            .into());
        }
        Ok(Self {
            every,
            activation_delay,
            keep,
            leeway: Duration::ZERO,
        })
    }

    /// The clock skew between nodes (the codec's leeway; zero unless set):
    /// a revocation's fresh key activates this long before the instant of
    /// the revocation, so that a node whose clock runs behind already
    /// seals with it when it reads the ring. A negative value counts as
    /// zero.
    ///
    /// ```
    /// use sealed_session::RotationPolicy;
    /// use time::Duration;
    /// let policy = RotationPolicy::new(Duration::days(30), Duration::days(2), Duration::days(7))?
    ///     .with_leeway(Duration::seconds(30));
    /// assert_eq!(policy.leeway(), Duration::seconds(30));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.max(Duration::ZERO);
        self
    }

    /// The clock skew allowed between nodes.
    pub fn leeway(&self) -> Duration {
        self.leeway
    }

    /// How long each key seals.
    pub fn every(&self) -> Duration {
        self.every
    }

    /// How long before it seals a new key is added.
    pub fn activation_delay(&self) -> Duration {
        self.activation_delay
    }

    /// How long a retired key keeps opening.
    pub fn keep(&self) -> Duration {
        self.keep
    }
}

/// The next instant at which a schedule changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    /// When.
    pub at: OffsetDateTime,
    /// Which key.
    pub key: KeyId,
    /// What happens to it.
    pub kind: ChangeKind,
}

/// What happens to a key at a [`Change`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// It may start sealing.
    Activates,
    /// It stops sealing.
    Retires,
    /// It stops opening.
    DropsOut,
}

impl ChangeKind {
    /// `"activates"`, `"retires"` or `"drops out"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activates => "activates",
            Self::Retires => "retires",
            Self::DropsOut => "drops out",
        }
    }
}

/// One thing [`KeySchedule::rotate`] or [`KeySchedule::revoke`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotationStep {
    /// A new key was added with this lifecycle.
    Added {
        /// The new key.
        key: KeyId,
        /// When it activates and retires.
        lifecycle: Lifecycle,
    },
    /// A key was made to retire earlier (a revocation activated a fresh key).
    Retired {
        /// The key.
        key: KeyId,
        /// Its new retirement.
        at: OffsetDateTime,
    },
    /// A key past `retires + keep` was removed: no live session needs it.
    Dropped {
        /// The key.
        key: KeyId,
    },
    /// A key was removed at once: tokens it sealed no longer open.
    Revoked {
        /// The key.
        key: KeyId,
    },
}

/// Keys with lifecycles: the key that seals is chosen by time, so every
/// node that holds the same schedule switches at the same instant without
/// talking to the others.
///
/// At an instant `t`, the key that seals is the one with the latest
/// activation among those with `activates <= t < retires` (a tie goes to the
/// later `created`, then to the key added later). Every other key opens
/// until `retires + keep`; pending keys open too, so a node whose clock runs
/// ahead seals nothing the others cannot open.
///
/// ```
/// use sealed_session::{ChangeKind, Key, KeySchedule, KeyState, Lifecycle};
/// use time::{Duration, OffsetDateTime};
/// let t0 = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
/// let (a, b) = (Key::generate(), Key::generate());
/// let mut schedule = KeySchedule::new();
/// schedule.add(a.clone(), Lifecycle::new(t0, t0, t0 + Duration::days(30)))?;
/// schedule.add(b.clone(), Lifecycle::new(t0, t0 + Duration::days(30), t0 + Duration::days(60)))?;
/// let keep = Duration::days(7); // the codec's max lifetime + leeway: keep_for(&codec)
///
/// let day = |n| t0 + Duration::days(n);
/// assert_eq!(schedule.sealing_key_at(day(1)).map(|k| k.id()), Some(a.id()));
/// assert_eq!(schedule.state_at(b.id(), day(1), keep), Some(KeyState::Pending));
/// let next = schedule.next_change_after(day(1), keep).unwrap();
/// assert_eq!((next.at, next.key, next.kind), (day(30), a.id(), ChangeKind::Retires));
///
/// let ring = schedule.key_ring_at(day(31), keep)?; // b seals, a still opens
/// assert_eq!(ring.primary(), &b);
/// assert_eq!(ring.accepted(), [a.clone()]);
/// assert_eq!(schedule.state_at(a.id(), day(37), keep), Some(KeyState::Retired));
/// assert_eq!(schedule.key_ring_at(day(37), keep)?.accepted().len(), 0);
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct KeySchedule {
    keys: Vec<ScheduledKey>,
    /// Counts the changes made by rotation and revocation: readers refuse
    /// a ring whose generation is lower than the one they hold.
    generation: u64,
}

impl KeySchedule {
    /// An empty schedule.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key with its lifecycle.
    ///
    /// # Errors
    /// [`RotationError::Lifecycle`] if it activates after it retires;
    /// [`Error::DuplicateKeyId`] if a key with its id is already there.
    pub fn add(&mut self, key: Key, lifecycle: Lifecycle) -> Result<(), Error> {
        lifecycle.check(key.id())?;
        if self.get(key.id()).is_some() {
            return Err(Error::DuplicateKeyId(key.id()));
        }
        self.keys.push(ScheduledKey { key, lifecycle });
        Ok(())
    }

    /// The ring's generation (FORMAT.md §12.2): raised by each
    /// [`rotate`](Self::rotate) that changes something and each
    /// [`revoke`](Self::revoke). A node following the ring refuses one whose
    /// generation is lower than the one it holds, so an old copy written
    /// again cannot bring back a revoked key. Zero for a new schedule.
    ///
    /// ```
    /// use sealed_session::{KeySchedule, RotationPolicy};
    /// use time::{Duration, OffsetDateTime};
    /// let policy = RotationPolicy::new(Duration::days(30), Duration::days(2), Duration::days(7))?;
    /// let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
    /// let mut schedule = KeySchedule::new();
    /// assert_eq!(schedule.generation(), 0);
    /// schedule.rotate(now, &policy);
    /// assert_eq!(schedule.generation(), 1);
    /// schedule.rotate(now, &policy); // nothing to do: unchanged
    /// assert_eq!(schedule.generation(), 1);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Sets the generation, for apps that change a schedule with
    /// [`add`](Self::add) and publish it: raise it at each change.
    pub fn set_generation(&mut self, generation: u64) {
        self.generation = generation;
    }

    /// Every key, in the order added.
    pub fn keys(&self) -> &[ScheduledKey] {
        &self.keys
    }

    /// The key with this id.
    pub fn get(&self, id: KeyId) -> Option<&ScheduledKey> {
        self.keys.iter().find(|k| k.id() == id)
    }

    /// The key that seals at `at`, if any.
    pub fn sealing_key_at(&self, at: OffsetDateTime) -> Option<&ScheduledKey> {
        self.sealing_index(at).and_then(|i| self.keys.get(i))
    }

    fn sealing_index(&self, at: OffsetDateTime) -> Option<usize> {
        self.keys
            .iter()
            .enumerate()
            .filter(|(_, k)| k.lifecycle.may_seal_at(at))
            // max_by_key keeps the last of equal maxima: the key added later.
            .max_by_key(|(_, k)| (k.lifecycle.activates(), k.lifecycle.created()))
            .map(|(i, _)| i)
    }

    /// The state of the key with this id at `at`, given how long a retired
    /// key keeps opening (`keep`, [`keep_for`]).
    pub fn state_at(&self, id: KeyId, at: OffsetDateTime, keep: Duration) -> Option<KeyState> {
        let i = self.keys.iter().position(|k| k.id() == id)?;
        Some(self.state_of(i, at, keep, self.sealing_index(at)))
    }

    fn state_of(
        &self,
        i: usize,
        at: OffsetDateTime,
        keep: Duration,
        sealing: Option<usize>,
    ) -> KeyState {
        let Some(life) = self.keys.get(i).map(|k| k.lifecycle) else {
            return KeyState::Retired;
        };
        if sealing == Some(i) {
            KeyState::Active
        } else if at < life.activates() {
            KeyState::Pending
        } else if at < life.drops_out(keep) {
            KeyState::Retiring
        } else {
            KeyState::Retired
        }
    }

    /// The ring a codec uses at `at`: the key that seals as primary, every
    /// pending and retiring key as accepted, retired keys left out.
    ///
    /// # Errors
    /// [`RotationError::NoSealingKey`] if no key seals at `at`.
    pub fn key_ring_at(&self, at: OffsetDateTime, keep: Duration) -> Result<KeyRing, Error> {
        let sealing = self.sealing_index(at);
        let primary =
            sealing
                .and_then(|i| self.keys.get(i))
                .ok_or(RotationError::NoSealingKey {
                    at: at.unix_timestamp(),
                })?;
        let ring = KeyRing::new(primary.key.clone());
        Ok((0..self.keys.len())
            .filter(|&i| Some(i) != sealing && self.state_of(i, at, keep, sealing).opens())
            .filter_map(|i| self.keys.get(i))
            .fold(ring, |ring, k| ring.with_accepted(k.key.clone())))
    }

    /// A ring that opens what any key of the schedule sealed, for tools
    /// that only open (`sealed-session open --ring`, [`KeyRing::from_file`]):
    /// every key, the one that seals at `at` as primary or, in a gap of the
    /// schedule, the key that sealed last (else the first to activate).
    /// `None` for an empty schedule.
    ///
    /// ```
    /// use sealed_session::{Key, KeySchedule, Lifecycle};
    /// use time::{Duration, OffsetDateTime};
    /// let t0 = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
    /// let key = Key::generate();
    /// let mut schedule = KeySchedule::new();
    /// schedule.add(key.clone(), Lifecycle::new(t0, t0, t0 + Duration::days(1)))?;
    /// let later = t0 + Duration::days(2); // nothing seals, the key still opens
    /// assert!(schedule.key_ring_at(later, Duration::MAX).is_err());
    /// assert_eq!(schedule.opening_key_ring_at(later).unwrap().primary(), &key);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn opening_key_ring_at(&self, at: OffsetDateTime) -> Option<KeyRing> {
        let primary = self
            .sealing_index(at)
            .or_else(|| {
                let activated = self.keys.iter().enumerate();
                activated
                    .filter(|(_, k)| k.lifecycle.activates() <= at)
                    .max_by_key(|(_, k)| (k.lifecycle.retires(), k.lifecycle.activates()))
                    .map(|(i, _)| i)
            })
            .or_else(|| {
                let pending = self.keys.iter().enumerate();
                pending
                    .min_by_key(|(_, k)| k.lifecycle.activates())
                    .map(|(i, _)| i)
            })?;
        let ring = KeyRing::new(self.keys.get(primary)?.key.clone());
        Some(
            self.keys
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != primary)
                .fold(ring, |ring, (_, k)| ring.with_accepted(k.key.clone())),
        )
    }

    /// The first activation, retirement or drop-out after `at`: when the
    /// ring of [`key_ring_at`](Self::key_ring_at) may next differ.
    pub fn next_change_after(&self, at: OffsetDateTime, keep: Duration) -> Option<Change> {
        self.keys
            .iter()
            .flat_map(|k| {
                let life = k.lifecycle;
                [
                    (life.activates(), ChangeKind::Activates),
                    (life.retires(), ChangeKind::Retires),
                    (life.drops_out(keep), ChangeKind::DropsOut),
                ]
                .map(|(when, kind)| Change {
                    at: when,
                    key: k.id(),
                    kind,
                })
            })
            .filter(|c| c.at > at)
            .min_by_key(|c| c.at)
    }

    /// Keeps the schedule going at `now`; does nothing when nothing is due,
    /// so running it again, or from every node, changes nothing more:
    ///
    /// 1. drops keys past `retires + keep`;
    /// 2. if no key seals at `now` (a new schedule, or one left too long),
    ///    adds a key that seals at once;
    /// 3. if the last retirement of the schedule is within the activation
    ///    delay of `now`, adds the next key, activating at that retirement
    ///    and sealing for `every`;
    /// 4. raises the [generation](Self::generation) if it did anything.
    ///
    /// ```
    /// use sealed_session::{KeySchedule, RotationPolicy, RotationStep};
    /// use time::{Duration, OffsetDateTime};
    /// let policy = RotationPolicy::new(Duration::days(30), Duration::days(2), Duration::days(7))?;
    /// let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
    /// let mut schedule = KeySchedule::new();
    /// let steps = schedule.rotate(now, &policy);
    /// assert!(matches!(steps[..], [RotationStep::Added { .. }])); // seals at once
    /// assert!(schedule.rotate(now, &policy).is_empty());           // idempotent
    /// let later = now + Duration::days(28);                        // within 2 days of retiring
    /// assert!(matches!(schedule.rotate(later, &policy)[..], [RotationStep::Added { .. }]));
    /// assert_eq!(schedule.keys().len(), 2);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn rotate(&mut self, now: OffsetDateTime, policy: &RotationPolicy) -> Vec<RotationStep> {
        self.rotate_with(now, policy, Key::generate)
    }

    pub(crate) fn rotate_with(
        &mut self,
        now: OffsetDateTime,
        policy: &RotationPolicy,
        mut generate: impl FnMut() -> Key,
    ) -> Vec<RotationStep> {
        let mut steps = Vec::new();
        self.keys.retain(|k| {
            let keep = now < k.lifecycle.drops_out(policy.keep);
            if !keep {
                steps.push(RotationStep::Dropped { key: k.id() });
            }
            keep
        });
        if self.sealing_index(now).is_none() {
            let life = Lifecycle::new(now, now, now.saturating_add(policy.every));
            steps.push(self.push_new(&mut generate, life));
        }
        let horizon = self.keys.iter().map(|k| k.lifecycle.retires()).max();
        if let Some(horizon) = horizon.filter(|h| *h - now <= policy.activation_delay) {
            let life = Lifecycle::new(now, horizon, horizon.saturating_add(policy.every));
            steps.push(self.push_new(&mut generate, life));
        }
        if !steps.is_empty() {
            self.generation = self.generation.saturating_add(1);
        }
        steps
    }

    /// Emergency: removes the key with this id at once (tokens it sealed
    /// stop opening on every node from its next reload) and raises the
    /// [generation](Self::generation). If the key seals now, or would on a
    /// node whose clock is within `policy.leeway()` of `now`, every key
    /// that could seal then retires and a fresh key seals for
    /// `policy.every()`, activating `policy.leeway()` before `now` so that a
    /// node whose clock runs behind seals with it as soon as it reads the
    /// ring. A key that seals at no such instant (an old retiring key, one
    /// pending far ahead) is only removed: the key that seals stays.
    ///
    /// Nodes that have not reloaded yet do not know the fresh key: their
    /// sessions sealed under it fail until they do.
    ///
    /// ```
    /// use sealed_session::{KeySchedule, RotationPolicy, RotationStep};
    /// use time::{Duration, OffsetDateTime};
    /// let policy = RotationPolicy::new(Duration::days(30), Duration::days(2), Duration::days(7))?
    ///     .with_leeway(Duration::seconds(30));
    /// let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
    /// let mut schedule = KeySchedule::new();
    /// schedule.rotate(now, &policy);
    /// let leaked = schedule.sealing_key_at(now).unwrap().id();
    /// let later = now + Duration::days(3);
    /// let steps = schedule.revoke(leaked, later, &policy)?;
    /// assert_eq!(steps[0], RotationStep::Revoked { key: leaked });
    /// assert!(schedule.get(leaked).is_none());
    /// let fresh = schedule.sealing_key_at(later).unwrap();
    /// assert_ne!(fresh.id(), leaked);
    /// assert_eq!(fresh.lifecycle().activates(), later - Duration::seconds(30));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if no key has this id.
    pub fn revoke(
        &mut self,
        id: KeyId,
        now: OffsetDateTime,
        policy: &RotationPolicy,
    ) -> Result<Vec<RotationStep>, Error> {
        let i = self
            .keys
            .iter()
            .position(|k| k.id() == id)
            .ok_or(Error::UnknownKey(id))?;
        let skewed = [
            now.saturating_sub(policy.leeway),
            now,
            now.saturating_add(policy.leeway),
        ];
        let sealed = skewed.iter().any(|&t| self.sealing_index(t) == Some(i));
        self.keys.remove(i);
        let mut steps = vec![RotationStep::Revoked { key: id }];
        self.generation = self.generation.saturating_add(1);
        if !sealed && self.sealing_index(now).is_some() {
            return Ok(steps);
        }
        let from = now.saturating_sub(policy.leeway);
        for k in &mut self.keys {
            let life = k.lifecycle;
            // Could seal within [from, now]: retires at `from` (or at its
            // activation, if later), so the fresh key is the one that seals.
            if life.activates() <= now && from < life.retires() {
                let at = from.max(life.activates());
                k.lifecycle = life.with_retires(at);
                steps.push(RotationStep::Retired {
                    key: k.key.id(),
                    at,
                });
            }
        }
        let life = Lifecycle::new(now, from, now.saturating_add(policy.every));
        steps.push(self.push_new(&mut Key::generate, life));
        Ok(steps)
    }

    /// Adds a new key whose id no key of the schedule has (a generated id
    /// repeats with odds of about 2^-32 per pair: draw again).
    fn push_new(
        &mut self,
        generate: &mut impl FnMut() -> Key,
        lifecycle: Lifecycle,
    ) -> RotationStep {
        let key = std::iter::repeat_with(generate)
            .take(8)
            .find(|k| self.get(k.id()).is_none())
            .unwrap_or_else(Key::generate);
        let step = RotationStep::Added {
            key: key.id(),
            lifecycle,
        };
        self.keys.push(ScheduledKey { key, lifecycle });
        step
    }

    /// Adds a key whose lifecycle and id were checked already.
    pub(crate) fn push_checked(&mut self, key: Key, lifecycle: Lifecycle) {
        self.keys.push(ScheduledKey { key, lifecycle });
    }
}
