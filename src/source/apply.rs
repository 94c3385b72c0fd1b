//! What every ring source does with what it read: parse it, keep the last
//! good ring, hand the sink a new codec when the ring of the moment
//! changes (a new file, or an activation, retirement or drop-out passing),
//! and log and count what it refuses. No I/O here: the file and Redis
//! sources read, this decides.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use crate::codec::Codec;
use crate::error::{Error, RotationError};
use crate::ids::KeyId;
use crate::key::KeyRing;
use crate::rotation::{StoredRing, keep_for};

/// Builds the codec for a ring: the app's settings, and its revocation
/// store, the same at every reload.
pub(crate) type Build = Arc<dyn Fn(KeyRing) -> Result<Codec, Error> + Send + Sync>;
/// Takes the new codec (a `CodecHandle::replace`, or any closure).
pub(crate) type Sink = Arc<dyn Fn(Codec) -> Result<(), Error> + Send + Sync>;

/// Counters of a ring source, from
/// [`RingFollower::stats`](crate::RingFollower::stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RingSourceStats {
    /// Distinct versions of the ring read and accepted.
    pub loaded: u64,
    /// Reads refused: a ring that did not parse or had no key that seals,
    /// a source that could not be read, a codec that did not build or that
    /// the sink refused. The ring in use stays.
    pub rejected: u64,
    /// Codecs handed to the sink (a new ring, or a key activating,
    /// retiring or dropping out).
    pub applied: u64,
    /// Panics of the app's build or sink closure, caught: the source keeps
    /// following and tries again at its next read (a failing spell counts
    /// once as rejected).
    pub panicked: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    loaded: AtomicU64,
    rejected: AtomicU64,
    applied: AtomicU64,
    panicked: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> RingSourceStats {
        RingSourceStats {
            loaded: self.loaded.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            applied: self.applied.load(Ordering::Relaxed),
            panicked: self.panicked.load(Ordering::Relaxed),
        }
    }
}

/// The keys of a ring, as far as a codec is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Signature {
    primary: KeyId,
    accepted: Vec<KeyId>,
}

impl Signature {
    fn of(ring: &KeyRing) -> Self {
        let mut accepted: Vec<KeyId> = ring.accepted().iter().map(|k| k.id()).collect();
        accepted.sort_unstable_by_key(|id| id.to_string());
        Self {
            primary: ring.primary().id(),
            accepted,
        }
    }
}

/// One source's state: the last good ring and what the sink holds.
pub(crate) struct Applier {
    /// Names the source in log lines (a path, a Redis key): never contents.
    what: String,
    build: Build,
    /// Set when the source starts following; until then nothing is handed.
    sink: Option<Sink>,
    keep: Duration,
    stored: StoredRing,
    /// SHA-256 of the text in use: an unchanged read is not parsed again.
    digest: [u8; 32],
    applied: Signature,
    /// The last text refused for good (it does not parse, or is older than
    /// the ring in use), so that a bad file polled every second is logged
    /// and counted once and not parsed again.
    refused_text: Option<[u8; 32]>,
    /// The last text that parsed but has no key that seals at the moment
    /// (a revocation's fresh key not yet active on this node's clock): it is
    /// tried again at every read until it seals, logged and counted once.
    waiting_text: Option<[u8; 32]>,
    /// Why the source cannot be read, while it cannot.
    unreadable: Option<String>,
    /// Whether the ring of the moment failed to build or to be taken.
    tick_failing: bool,
    counters: Arc<Counters>,
}

impl Applier {
    /// The first load: a source that cannot give a ring that seals now is
    /// an error at start, not a log line. Returns the first codec, for the
    /// app to build its layer with; the sink comes later ([`Self::follow`]).
    pub(crate) fn start(
        what: String,
        text: &[u8],
        build: Build,
        now: OffsetDateTime,
    ) -> Result<(Self, Codec), Error> {
        let stored = parse(text)?;
        // The codec's settings do not depend on the ring: a first build
        // with every key gives its maximum lifetime and leeway.
        let probe = build(stored.key_ring_at(now, Duration::MAX)?)?;
        let keep = keep_for(&probe);
        let ring = stored.key_ring_at(now, keep)?;
        let applied = Signature::of(&ring);
        let codec = build(ring)?;
        let counters = Arc::new(Counters::default());
        counters.loaded.fetch_add(1, Ordering::Relaxed);
        let applier = Self {
            what,
            build,
            sink: None,
            keep,
            stored,
            digest: digest(text),
            applied,
            refused_text: None,
            waiting_text: None,
            unreadable: None,
            tick_failing: false,
            counters,
        };
        Ok((applier, codec))
    }

    /// From now on, new codecs go to `sink`.
    pub(crate) fn follow(&mut self, sink: Sink) {
        self.sink = Some(sink);
    }

    pub(crate) fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// The source's current text. A ring that does not parse, or whose
    /// generation is lower than the one in use, is refused for good; one
    /// with no key that seals now waits and is tried again at the next
    /// read. Either way the ring in use stays until then. Whether this text
    /// is the ring in use.
    pub(crate) fn offer(&mut self, text: &[u8], now: OffsetDateTime) -> bool {
        let digest = digest(text);
        self.unreadable = None;
        if digest != self.digest && self.refused_text != Some(digest) {
            match parse(text).and_then(|stored| self.not_older(stored)) {
                Ok(stored) => match stored.key_ring_at(now, self.keep) {
                    Ok(_) => {
                        self.stored = stored;
                        self.digest = digest;
                        self.refused_text = None;
                        self.waiting_text = None;
                        self.counters.loaded.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(
                            source = %self.what,
                            generation = self.stored.generation(),
                            "key ring: loaded a new version"
                        );
                    }
                    Err(e) => {
                        if self.waiting_text != Some(digest) {
                            self.waiting_text = Some(digest);
                            self.refuse(&e);
                        }
                    }
                },
                Err(e) => {
                    self.refused_text = Some(digest);
                    self.refuse(&e);
                }
            }
        }
        self.tick(now);
        digest == self.digest
    }

    /// The generation of the ring in use.
    pub(crate) fn generation(&self) -> u64 {
        self.stored.generation()
    }

    /// # Errors
    /// [`RotationError::RolledBack`] if `stored` is older than the ring in use.
    fn not_older(&self, stored: StoredRing) -> Result<StoredRing, Error> {
        let (held, offered) = (self.stored.generation(), stored.generation());
        if offered < held {
            return Err(RotationError::RolledBack { held, offered }.into());
        }
        Ok(stored)
    }

    /// The source could not be read (a file missing mid-swap, Redis down):
    /// the ring in use stays; logged and counted once until it reads again.
    pub(crate) fn unreadable(&mut self, reason: &str, now: OffsetDateTime) {
        if self.unreadable.as_deref() != Some(reason) {
            self.unreadable = Some(reason.to_owned());
            self.counters.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                source = %self.what,
                reason,
                "key ring: cannot read the source; the ring in use stays"
            );
        }
        self.tick(now);
    }

    fn refuse(&self, e: &Error) {
        self.counters.rejected.fetch_add(1, Ordering::Relaxed);
        // The reason names a line, a field, a length or a time: errors of
        // this crate never quote key material.
        tracing::error!(
            source = %self.what,
            reason = %e,
            "key ring: refused; the ring in use stays"
        );
    }

    /// Hands the sink a new codec if the ring of `now` differs from the one
    /// it holds (a new text, or a key activating, retiring or dropping out).
    pub(crate) fn tick(&mut self, now: OffsetDateTime) {
        let Some(sink) = self.sink.clone() else {
            return;
        };
        let next = self.stored.key_ring_at(now, self.keep).and_then(|ring| {
            let signature = Signature::of(&ring);
            if signature == self.applied {
                return Ok(None);
            }
            // A panic in the app's closures must not end the thread or task
            // that follows the ring (the codec would freeze unnoticed).
            let build = &self.build;
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                build(ring).and_then(|codec| sink(codec))
            }))
            .unwrap_or_else(|_| {
                self.counters.panicked.fetch_add(1, Ordering::Relaxed);
                Err(Error::KeySource {
                    source: self.what.clone(),
                    reason: "the app's codec builder or sink panicked".to_owned(),
                })
            })
            .map(|()| Some(signature))
        });
        match next {
            Ok(None) => self.tick_failing = false,
            Ok(Some(signature)) => {
                tracing::info!(
                    source = %self.what,
                    sealing = %signature.primary,
                    opening = signature.accepted.len(),
                    "key ring: codec replaced"
                );
                self.applied = signature;
                self.tick_failing = false;
                self.counters.applied.fetch_add(1, Ordering::Relaxed);
            }
            // Once per failing spell, not once per poll.
            Err(e) if !self.tick_failing => {
                self.tick_failing = true;
                self.refuse(&e);
            }
            Err(_) => {}
        }
    }

    /// When the ring in use next changes by itself, if ever.
    pub(crate) fn next_change(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.stored.next_change_after(now, self.keep).map(|c| c.at)
    }
}

fn parse(text: &[u8]) -> Result<StoredRing, Error> {
    let text = std::str::from_utf8(text).map_err(|_| Error::RingFile {
        line: 1,
        reason: "the ring is not UTF-8 text",
    })?;
    StoredRing::parse(text)
}

fn digest(text: &[u8]) -> [u8; 32] {
    Sha256::digest(text).into()
}
