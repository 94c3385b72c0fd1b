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
mod follower;
#[cfg(feature = "redis")]
mod kek;
#[cfg(feature = "redis")]
mod redis;

pub use apply::RingSourceStats;
pub use file::{FileRingSource, LoadedRing};
pub use follower::RingFollower;
#[cfg(feature = "redis")]
pub use kek::{OpenedRing, RingKek};
#[cfg(feature = "redis")]
pub use redis::{LoadedRedisRing, RedisRingSource};

#[cfg(test)]
mod tests;
