//! Keys that rotate by schedule (FORMAT.md §12): each key carries when it
//! activates and when it retires, so the key that seals is chosen by time
//! and every node switches at the same instant without talking to the
//! others. Apps that manage keys themselves use [`KeySchedule`]; the
//! `sealed-session ring rotate` command keeps a key-ring file going; a
//! ring source (feature `ring-source`) follows a file, or Redis, and
//! replaces a running app's codec.
//!
//! No framework here: the layers take a codec, and whatever swaps it (a
//! `CodecHandle`, a closure) receives the codec this module helps build.

mod file;
mod lifecycle;
mod schedule;

pub use file::StoredRing;
pub use lifecycle::{KeyState, Lifecycle};
pub use schedule::{
    Change, ChangeKind, KeySchedule, RotationPolicy, RotationStep, ScheduledKey, keep_for,
};

#[cfg(test)]
mod tests;
