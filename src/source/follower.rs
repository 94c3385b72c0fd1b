//! The handle of a source being followed: its counters, and how to stop it.

use std::sync::Arc;

use super::apply::{Counters, RingSourceStats};

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
