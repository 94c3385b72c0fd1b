//! Ring sources (feature `ring-source`): a running app follows its key ring
//! without a restart. A source reads the ring (a file, or Redis with the
//! `redis` feature), builds a codec for the ring of the moment with the
//! app's own settings, and hands it to a sink: a layer's `CodecHandle`, or
//! any closure. A ring that fails to load never replaces a good one.
//!
//! The sources know no web framework: they take a closure, so whatever
//! holds the codec (the axum layer today) is driven from outside.

mod apply;
mod file;
#[cfg(feature = "redis")]
mod kek;
#[cfg(feature = "redis")]
mod redis;

pub use apply::RingSourceStats;
pub use file::{FileRingSource, LoadedRing};
#[cfg(feature = "redis")]
pub use kek::RingKek;
#[cfg(feature = "redis")]
pub use redis::{LoadedRedisRing, RedisRingSource};

use std::sync::Arc;

use apply::Counters;

/// A source being followed, from a thread or task of its own; dropping it
/// (or [`RingFollower::stop`]) stops following. The codec in use stays.
pub struct RingFollower {
    counters: Arc<Counters>,
    stop: Option<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for RingFollower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingFollower")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl RingFollower {
    pub(crate) fn new(counters: Arc<Counters>, stop: impl FnOnce() + Send + 'static) -> Self {
        Self {
            counters,
            stop: Some(Box::new(stop)),
        }
    }

    /// What the source has loaded, refused and applied so far.
    pub fn stats(&self) -> RingSourceStats {
        self.counters.snapshot()
    }

    /// Stops following and waits for the thread or task to end.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

impl Drop for RingFollower {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

#[cfg(test)]
mod tests;
