//! Randomness for nonces and session ids.
//!
//! A seal needs 24 nonce bytes and 16 session-id bytes. A system call to the
//! operating system's generator per seal costs about 0.5 µs, so they come
//! from `rand`'s `ThreadRng`: ChaCha12 per thread, seeded from the operating
//! system and reseeded every 64 KiB of output. One generator per thread
//! means no lock on the hot path and no state shared between threads or
//! between clones of a codec.
//!
//! `ThreadRng` does not notice `fork()`: a child would continue the parent's
//! stream and repeat its nonces. So every draw compares a count of forks,
//! which a `pthread_atfork` child handler bumps in every child (the
//! `forkguard` crate), with the count the thread's generator was last
//! seeded at, and reseeds from the operating system when they differ. That
//! costs one atomic load per draw; comparing process ids cost a `getpid`
//! system call per seal (about 200 ns on a VM).
//!
//! What it covers: `fork()` through the C library (`libc::fork`, the `fork`
//! and `nix` crates, a forking server), whose child handlers run in the
//! child before `fork` returns. `vfork()` and `posix_spawn` need nothing:
//! the child shares the parent's memory (so draws advance one stream, never
//! a copy) until it executes another program. The one gap: a child made by
//! a raw `clone`/`clone3` system call without `CLONE_VM`, which bypasses the
//! C library and its handlers; a program that does that and then seals in
//! the child must not share a generator with its parent.

use std::cell::RefCell;

use rand::Rng as _;

thread_local! {
    /// The fork count this thread's generator was last seeded at; `None`
    /// before the first draw.
    static SEEDED_AT: RefCell<Option<forkguard::Guard>> = const { RefCell::new(None) };
}

/// Two arrays from one draw (one fork check): a new seal's session id and
/// nonce.
///
/// # Panics
/// As [`fill`].
pub(crate) fn fill_pair<const A: usize, const B: usize>() -> ([u8; A], [u8; B]) {
    let mut rng = checked();
    let (mut a, mut b) = ([0u8; A], [0u8; B]);
    rng.fill_bytes(&mut a);
    rng.fill_bytes(&mut b);
    (a, b)
}

/// Fills `buf` from the calling thread's CSPRNG, reseeded first if this is
/// a new process.
///
/// # Panics
/// If the operating system cannot provide randomness to reseed, as `rand`
/// itself does.
pub(crate) fn fill(buf: &mut [u8]) {
    checked().fill_bytes(buf);
}

/// The thread's generator, reseeded if this process was forked since it
/// was last seeded (or this is the thread's first draw).
fn checked() -> rand::rngs::ThreadRng {
    let mut rng = rand::rng();
    let stale = SEEDED_AT.with_borrow_mut(|guard| match guard {
        Some(guard) => guard.detected_fork(),
        None => {
            // The first draw in a thread reseeds: the one generator may
            // have been created, and inherited, before this process began.
            match forkguard::Guard::try_new() {
                Ok(new) => *guard = Some(new),
                Err(e) => panic!("cannot register the fork handler that keeps nonces unique: {e}"),
            }
            true
        }
    });
    if stale {
        if let Err(e) = rng.reseed() {
            panic!("the operating system's random number generator failed: {e}");
        }
    }
    rng
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
