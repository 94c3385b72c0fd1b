//! What a session layer has seen: counters every request of it shares.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of a session layer (axum's `SessionLayer::stats`, actix-web's
/// `SessionMiddleware::stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionStats {
    /// Requests whose session did not open (forged, tampered, expired, from
    /// a removed key, or cookies that do not form one session), old shapes
    /// excepted.
    pub rejected: u64,
    /// Requests whose session authenticated but did not deserialize into
    /// the layer's type: sealed by an older version of the app.
    pub old_shape: u64,
    /// Responses that sealed a session.
    pub sealed: u64,
    /// Responses that deleted a session.
    pub removed: u64,
    /// Responses turned into a 500 because the session could not be sealed
    /// (too large, or not serializable).
    pub failed: u64,
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) rejected: AtomicU64,
    pub(super) old_shape: AtomicU64,
    pub(super) sealed: AtomicU64,
    pub(super) removed: AtomicU64,
    pub(super) failed: AtomicU64,
}

impl Counters {
    pub(super) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> SessionStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SessionStats {
            rejected: read(&self.rejected),
            old_shape: read(&self.old_shape),
            sealed: read(&self.sealed),
            removed: read(&self.removed),
            failed: read(&self.failed),
        }
    }
}
