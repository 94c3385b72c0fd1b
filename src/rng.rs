//! Randomness for nonces and session ids.
//!
//! A seal needs 24 nonce bytes and 16 session-id bytes. A system call per seal
//! costs about 0.5 µs, so they come from `rand`'s `ThreadRng`: ChaCha12 per
//! thread, seeded from the operating system and reseeded every 64 KiB of
//! output. One generator per thread means no lock on the hot path and no
//! state shared between threads or between clones of a codec.
//!
//! A process that forks after sealing must not seal in the child before
//! calling `rand::rng().reseed()`, or parent and child would draw the same
//! nonces; `ThreadRng` does not detect a fork.

use rand::Rng as _;

/// Fills `buf` from the calling thread's CSPRNG.
pub(crate) fn fill(buf: &mut [u8]) {
    rand::rng().fill_bytes(buf);
}

/// Fills `buf` straight from the operating system, for key generation.
///
/// # Panics
/// If the operating system cannot provide randomness, as `rand` itself does.
pub(crate) fn fill_from_os(buf: &mut [u8]) {
    use rand::TryRng as _;
    if let Err(e) = rand::rngs::SysRng.try_fill_bytes(buf) {
        panic!("the operating system's random number generator failed: {e}");
    }
}
