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
//! stream and repeat its nonces. So every draw compares the process id with
//! the one the thread's generator was last seeded in, and reseeds from the
//! operating system when they differ. A child always has another process id
//! than its parent, whatever the application does around the fork. (The one
//! gap: a child that is given the parent's own id, which only a new PID
//! namespace can do.)

use std::cell::Cell;

use rand::Rng as _;

thread_local! {
    /// The process id this thread's generator was last seeded in; 0 before
    /// the first draw (no process has id 0).
    static SEEDED_IN: Cell<u32> = const { Cell::new(0) };
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

/// The thread's generator, reseeded if this process is not the one it was
/// last seeded in.
fn checked() -> rand::rngs::ThreadRng {
    let mut rng = rand::rng();
    let pid = std::process::id();
    if SEEDED_IN.get() != pid {
        // The first draw in a thread reseeds too: the one generator may have
        // been created, and inherited, before this process began.
        if let Err(e) = rng.reseed() {
            panic!("the operating system's random number generator failed: {e}");
        }
        SEEDED_IN.set(pid);
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
