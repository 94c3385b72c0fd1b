//! The handle of a source being followed: its counters, and how to stop it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::apply::{Counters, RingSourceStats};

/// A source being followed, from a thread or task of its own; dropping it
/// (or [`RingFollower::stop`]) stops following. The codec in use stays.
pub struct RingFollower {
    counters: Arc<Counters>,
    running: Arc<AtomicBool>,
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
    pub(crate) fn new(
        counters: Arc<Counters>,
        running: Arc<AtomicBool>,
        stop: impl FnOnce() + Send + 'static,
    ) -> Self {
        Self {
            counters,
            running,
            stop: Some(Box::new(stop)),
        }
    }

    /// Whether the thread or task that follows the source still runs: false
    /// only if it ended without being stopped (which a panic in the app's
    /// closures, caught and counted in [`RingSourceStats::panicked`], does
    /// not cause). A health check can report it.
    pub fn is_following(&self) -> bool {
        self.running.load(Ordering::Relaxed)
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

/// Marks a follower's thread or task as running until dropped (at its end,
/// a panic's unwinding included).
pub(crate) struct Running(pub(crate) Arc<AtomicBool>);

impl Running {
    pub(crate) fn start() -> (Self, Arc<AtomicBool>) {
        let flag = Arc::new(AtomicBool::new(true));
        (Self(Arc::clone(&flag)), flag)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}
